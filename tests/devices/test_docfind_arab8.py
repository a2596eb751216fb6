"""docfind on a pale page edged onto a tone-on-tone desk: the amplified look's answer that is not crisp against the
desk 12 px out but is an edge onto flat paper all round, kept and asked (2026-12-07, branch finder-arab8)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.devices.scanner import docfind
from tests.support import imagegen
from tests.support.finder_checks import finds_desk_photo


def test_a_pale_letter_on_a_damask_of_its_colour_is_asked_not_missing():
    # tune3 arabic/1129 at 1080p (portrait): a pink letter full of print on a pale damask of nearly its colour. The
    # first search finds nothing; the amplified look finds the letter (IoU 0.99 at working size, 0.37), but its sides
    # are steps against the desk 12 px out on one or two sides only (0.51, 1.15, 0.21, 1.80: the damask's pattern
    # beside the page), so _crisp dropped it and main's finder answered "no page". Every side is an edge onto flat
    # paper, a thin shadow just outside (docfind._onto_flat): kept, asked.
    found = finds_desk_photo(1129, "arabic", (1920, 1080), 0.95, "tune3")
    assert docfind.NO_PAGE <= found.score < docfind.CONFIDENT


def _empty_desk(monkeypatch, seed, condition, split):
    # The tuning photo's desk, lit, blurred and photographed as the photo is, with nothing laid on it (imagegen's
    # _paste, which lays the page, clutter's papers and a nested mat, does nothing).
    monkeypatch.setattr(imagegen, "_paste", lambda *args, **kwargs: None)
    return imagegen.desk_photo(seed, condition, (1920, 1080), split).image


@pytest.mark.parametrize("seed, condition, split", [
    (1000, "motion", "tune"), (1003, "wood", "tune"), (1004, "tablecloth", "tune2"), (1001, "plain", "tune3"),
])
def test_the_amplified_look_edged_onto_flat_paper_makes_no_page_of_an_empty_desk(monkeypatch, seed, condition, split):
    # Empty desks of the three tuning splits where the amplified look has an answer that is not crisp: a lit patch
    # under motion blur, a plank between seams (two sides edges onto flat wood, 0.11 and 0.17 of the jump inside, two
    # at the border), a polka/leaves/argyle cloth's cell (every side a jump of 0.06-0.34, 0.06-0.19 of it inside: the
    # nearest to an edge onto flat paper of 90 empty desks' amplified answers), a pale desk's blotch (0.77). None is
    # edged onto flat paper all round (its inside changes by 0.0074 or more, EDGE_CALM): still "no page".
    assert docfind.detect(_empty_desk(monkeypatch, seed, condition, split)) is None


def _form_cut_by_the_border(seed, crop, lift, desk):
    """A printed form the desk's colour (a dark frame 40 px in from its edge, rows of print inside), its top cut off by
    the photo's border (composed by the review of finder-arab8)."""
    rng = np.random.default_rng(seed)
    W, H = 1920, 1080
    canvas = np.empty((H, W, 3), np.float32)
    canvas[:] = desk
    pw, ph = 700, 990
    page = np.full((ph, pw), 1 + lift, np.float32)
    cv2.rectangle(page, (40, 40), (pw - 40, ph - 40), (1 + lift) * 0.7, 6, cv2.LINE_AA)
    for y in range(100, ph - 100, 30):
        x = 80
        while x < pw - 140:
            n = int(rng.integers(20, 90))
            cv2.rectangle(page, (x, y), (x + n, y + 10), (1 + lift) * 0.45, -1)
            x += n + 14
    quad = np.array([[610, 40], [1290, 90], [1230, 1050], [560, 1010]], np.float64)
    imagegen._paste(canvas, np.repeat(page[..., None], 3, 2) * np.float32(desk), quad)
    field, tint = imagegen._lighting(rng, H, W, 0.15)
    canvas *= field[..., None] * tint
    return np.ascontiguousarray(imagegen._camera(rng, canvas, 0.6, 0.0, 2.5, 85)[crop:])


@pytest.mark.parametrize("seed, crop, lift, desk", [
    (1, 170, 0.0, (200, 205, 212)), (1, 150, 0.01, (200, 205, 212)), (4, 170, 0.01, (150, 160, 175)),
])
def test_a_forms_printed_frame_is_not_edged_onto_flat_paper_where_the_border_hides_a_side(seed, crop, lift, desk):
    # Review of finder-arab8: the amplified look takes a form's printed frame; three of its sides are edges onto flat
    # paper as a page's are (dark just outside, the margin flat inside), and the fourth, where the photo's border cuts
    # the form, was skipped, so the branch answered the frame, asked (IoU 0.71-0.74) where main answered "no page".
    # All four sides must be seen (off the border) and pass.
    assert docfind.detect(_form_cut_by_the_border(seed, crop, lift, desk)) is None

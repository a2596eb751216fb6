"""docfind on a pale page edged onto a tone-on-tone desk: the amplified look's answer that is not crisp against the
desk 12 px out but is an edge onto flat paper all round, kept and asked (2026-12-07, branch finder-arab8)."""
from __future__ import annotations

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

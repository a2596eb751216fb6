"""The page finder on the printed tablecloths of the second tuning split (imagegen.desk_photo, split "tune2": polka
dots, leaves, argyle), which the first tuning split never had (2026-12-06 night, branch finder-cloth)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge.devices.scanner import docfind
from tests.support import imagegen
from tests.support.finder_checks import finds_desk_photo


def test_a_page_on_argyle_is_not_extended_over_a_strip_of_the_cloth():
    # tune2 tablecloth seed 1013 at 1000x750: an A5 page on an argyle cloth. One of the cloth's lines beyond the
    # page's bottom side steps consistently, and the page's sides go on as steps past its corners to it: the line
    # search's growth step (docfind._extend) took the wedge of cloth in (base: IoU 0.75 at 0.92, confidently wrong).
    # Every colour in that wedge is the cloth's own, around the page (docfind._desk_strip): it is desk, not a band.
    found = finds_desk_photo(1013, "tablecloth", (1000, 750), at_least=0.95, split="tune2")
    assert found.score >= docfind.CONFIDENT


def test_a_frame_printed_near_a_defocused_page_edge_gives_way_to_the_page_though_a_stamp_covers_one_rim():
    # tune2 defocus seed 1000 at 1080p: an A6 page with a printed frame a few mm inside its edge, on a leaf-print
    # cloth, out of focus. The frame is the best outline; beyond three of its sides lies a calm rim of one colour and
    # the page's edge, but a stamp and a pen lie over the fourth rim, so the rim rule of docfind._beyond (every side a
    # calm rim) did not take the page (base: the frame, IoU 0.83, asked). The line beyond the fourth side as far out
    # as the others' rims closes the outline (docfind._covered_rim).
    finds_desk_photo(1000, "defocus", (1920, 1080), at_least=0.95, split="tune2")


# The review of finder-cloth (2026-12-06 night): ``_desk_strip`` sampled "the desk" beyond the side opposite the strip
# too, where more of the document may lie. A card with a band of one colour at its top and its bottom: the line
# search's winner is the body between them, and each band's growth was refused because the other band was "desk".


def two_band_card(seed: int, W: int = 1280, H: int = 720):
    """An ID card, a band at the top (22 %) and one of the same colour at the bottom (15 %), on a 'mid' desk."""
    rng = np.random.default_rng(seed)
    canvas = imagegen._background(rng, H, W, "mid")
    ppm = rng.uniform(4, 6) * W / 1280
    page = imagegen._render_page(rng, "id", 85.6, 54.0, ppm).astype(np.float32)
    h, w = page.shape[:2]
    band = rng.uniform(40, 200, 3)
    page[:int(h * 0.22)] = band
    page[h - int(h * 0.15):] = band
    ang = rng.normal(0, math.radians(8))
    c = np.array([W / 2 + rng.uniform(-0.1, 0.1) * W, H / 2 + rng.uniform(-0.1, 0.1) * H])
    pts = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    R = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
    quad = pts @ R.T + c
    imagegen._paste(canvas, page, quad, shadow_px=2.0, shadow_strength=0.2, rng=rng)
    return imagegen._camera(rng, canvas, 0.5, 0, 2.0, 90), quad


@pytest.mark.parametrize("seed", [2, 4, 6, 8])
def test_two_band_card_is_right_not_asked(seed):
    # main (61c7a58): seed 2 0.997 at 0.54, 4 0.996 at 0.54, 6 0.999 at 0.60, 8 0.996 at 0.54 (asked);
    # before the merge (61c7a58^1): 0.78, 0.93, 0.92, 1.00 (right).
    image, quad = two_band_card(seed)
    found = docfind.detect(image)
    assert found is not None
    assert imagegen.quad_iou(found.corners, quad) >= 0.95
    assert found.score >= docfind.CONFIDENT


def test_desk_strip_does_not_sample_beyond_the_opposite_side():
    # The band beyond the body's top side is not "a piece of the desk" because a band of its colour lies beyond the
    # body's bottom side (working-size log-colour view, a body between two bands, on a grey desk).
    feat = np.full((240, 320, 3), np.log(120 + 16.0), np.float32)
    band = np.log(np.array([60, 150, 90], np.float32) + 16.0)
    feat[60:80, 80:240] = band                                             # top band
    feat[80:150, 80:240] = np.log(np.array([230, 230, 230], np.float32) + 16.0)  # body
    feat[150:170, 80:240] = band                                           # bottom band
    inner = np.array([[80, 80], [239, 80], [239, 149], [80, 149]], float)  # the body
    outer = np.array([[80, 60], [239, 60], [239, 149], [80, 149]], float)  # … grown over the top band
    assert not docfind._desk_strip(feat, outer, inner)


def test_a_card_on_polka_dots_is_the_card_not_its_photo_block():
    # tune2 tablecloth seed 1006 at 1080p: an ID card on a polka-dot cloth. The dots touching the card's sides
    # scallop them in the texture-free view, so no line follows them; the card's photo block is a perfect outline
    # and was the answer (main: IoU 0.16 at 0.68, asked and wrong). docfind._beyond finds the card's outline around
    # it, and the band between them is paper with print (docfind._printed_band): the card, asked.
    found = finds_desk_photo(1006, "tablecloth", (1920, 1080), at_least=0.9, split="tune2")
    assert found.score < docfind.CONFIDENT


def _sheet_with_block(print_on_band: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A grey desk, a white sheet (outer) with a red block (inner) in it; the sheet's band around the block blank or
    printed with rows of dark strokes."""
    img = np.full((360, 640, 3), 120, np.uint8)
    outer = np.array([[160.0, 60.0], [480.0, 60.0], [480.0, 300.0], [160.0, 300.0]])
    inner = np.array([[200.0, 160.0], [300.0, 160.0], [300.0, 260.0], [200.0, 260.0]])
    img[60:301, 160:481] = 235
    if print_on_band:
        for y in range(80, 290, 12):
            for x in range(175, 470, 9):
                img[y:y + 3, x:x + 5] = 40
    img[160:261, 200:301] = (60, 60, 200)
    return img, outer, inner


def test_printed_band_tells_a_card_body_from_a_blank_sheet_around_a_page():
    img, outer, inner = _sheet_with_block(print_on_band=True)
    assert docfind._printed_band(img, outer, inner)
    img, outer, inner = _sheet_with_block(print_on_band=False)
    assert not docfind._printed_band(img, outer, inner)


@pytest.mark.xfail(strict=True, reason="known: a white page on a pale-ground leaf print: no edge (finder-print)")
def test_a_white_page_on_a_pale_ground_leaf_print_is_found():
    # tune2 tablecloth seed 1030 at 720p: no page. The leaves' edges set Canny's thresholds (80th percentile 0.12); the
    # page's sides change by 0.02-0.03 per px and are no edge, so no line search keeps them (the truth, judged, would
    # be asked but right at 0.47). Regions free of edges in the texture-free view found it roughly but below NO_PAGE.
    finds_desk_photo(1030, "tablecloth", (1280, 720), at_least=0.9, split="tune2")


@pytest.mark.xfail(strict=True, reason="known: a curled page's shaded end left out, on argyle (finder-print)")
def test_a_curled_page_on_argyle_is_not_confidently_cut_at_its_shade():
    # tune2 tablecloth seed 1007 at 720p: the answer stops where the shaded curl begins (IoU 0.88 at 1.00).
    found = finds_desk_photo(1007, "tablecloth", (1280, 720), at_least=0.0, split="tune2")
    photo = imagegen.desk_photo(1007, "tablecloth", (1280, 720), "tune2")
    assert imagegen.quad_iou(found.corners, photo.corners) >= 0.9 or found.score < docfind.CONFIDENT

"""The page finder on the printed tablecloths of the second tuning split (imagegen.desk_photo, split "tune2": polka
dots, leaves, argyle), which the first tuning split never had (2026-12-06 night, branch finder-cloth)."""

from __future__ import annotations

import math

import cv2
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


# The third tuning split's cloths (2026-12-07, branch finder-t3cloth): hexagons, vinyl tiles with thin lines between
# them, some inked in patches far larger than the desk sampled beside a page.


def test_a_page_on_hexagon_tiles_is_not_grown_over_a_strip_of_them():
    # tune3 tablecloth seed 1033 at 1280x720: a page on a hexagon cloth. Refined, the answer was grown once more
    # (docfind._regrow) over a strip of tiles beyond the page's right side, calm between the tiles' thin lines and
    # outlined by a line of them (base: IoU 0.84 at 1.00, confidently wrong). Every colour in it is the cloth's
    # around the page (docfind._desk_strip), checked now in docfind._grow as in docfind._extend.
    found = finds_desk_photo(1033, "tablecloth", (1280, 720), at_least=0.95, split="tune3")
    assert found.score >= docfind.CONFIDENT


def tiled_desk(lower: tuple[int, int, int]) -> np.ndarray:
    """A working-size log-colour view of a tiled cloth: tiles 6 px across with dark lines between them, pink above
    row 140 and of the colour ``lower`` below it (a patch of inked tiles), and a flat page at rows 80-149."""
    img = np.empty((240, 320, 3), np.float32)
    img[:] = (200, 180, 220)
    img[140:] = lower
    img[::6] *= 0.6
    img[:, ::6] *= 0.6
    img[80:150, 80:240] = (235, 235, 230)
    return cv2.GaussianBlur(np.log(img + 16.0), (0, 0), 1.0)


def test_desk_strip_knows_a_strip_of_tiles_of_another_patch_by_its_roughness():
    # tune3 tablecloth seed 1000 (1080p): the line search's growth step (docfind._extend) took a wedge of tiles beyond
    # the page's lower side (base: IoU 0.71 at 0.97, confidently wrong). The tiles there are of a patch unlike those
    # sampled beside the page's sides, so the palette check missed it; the strip is as rough as the desk beside the
    # page (docfind._rough_as_desk), which a card's band or a page's fold, paper, is not.
    feat = tiled_desk((150, 110, 190))
    inner = np.array([[80, 80], [239, 80], [239, 149], [80, 149]], float)   # the page
    outer = np.array([[80, 80], [239, 80], [239, 179], [80, 179]], float)   # … grown over tiles below it
    assert docfind._desk_strip(feat, outer, inner)


def test_desk_strip_keeps_a_flat_band_on_tiles():
    # … while a flat band beyond the page (a card's band) on the same tiles is not the desk.
    feat = tiled_desk((150, 110, 190))
    feat[150:180, 80:240] = np.log(np.array([60, 90, 150], np.float32) + 16.0)
    inner = np.array([[80, 80], [239, 80], [239, 149], [80, 149]], float)
    outer = np.array([[80, 80], [239, 80], [239, 179], [80, 179]], float)
    assert not docfind._desk_strip(feat, outer, inner)

"""docfind on a document lying on a larger object, at 12 MP (the `nested` condition; branch finder-nested12).

The 12 MP photos of a seed are not the 1080p photos of that seed: the generator lays a scene out for the photo's
shape, so 4000x3000 shows the scene of 1600x1200, not of 1920x1080. At 1600x1200 and 4000x3000 the same scenes get
the same verdicts nearly everywhere; what binds at both sizes is ``_on_object``'s first sieve at working size: a
small document's turn measured from its shortest side (``_turn``: every side the same way) and NEST_MIN above an
ID card's share of an A4 sheet."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from edge.devices.scanner import docfind
from tests.support.finder_checks import finds_desk_photo


@pytest.mark.xfail(strict=True, reason="review of finder-nested12: NEST_MIN stays 0.08 (an ID card's photocopy on A4)")
def test_an_id_card_turned_on_an_a4_sheet_at_12_mp_is_the_card_asked():
    """tune nested/1011 at 4000x3000: an ID card (6.9 % of the sheet at working size) turned by 4 degrees on a white
    sheet; the sheet, confidently (IoU 0.07), before."""
    found = finds_desk_photo(1011, "nested", (4000, 3000), 0.95)
    assert found.score < docfind.CONFIDENT


def test_a_page_on_a_mat_with_a_side_polished_onto_its_print_is_the_page_asked():
    """tune2 nested/1007 at 1600x1200 (the scene of 4000x3000): a pink page touching a grey cutting mat's side, its
    top side polished at working size onto its first row of print, so that side turned the other way and ``_turn``
    was 0; the mat, confidently (IoU 0.33), before."""
    found = finds_desk_photo(1007, "nested", (1600, 1200), 0.95, "tune2")
    assert found.score < docfind.CONFIDENT


def test_a_page_turned_by_under_a_degree_on_a_mat_is_the_page_asked():
    """tune2 nested/1026 at 1080p: the document turned against its object by 0.86 degrees once both are refined at
    full size (under the 1.2 degrees NEST_TURN was); the object, confidently (IoU 0.25), before."""
    found = finds_desk_photo(1026, "nested", (1920, 1080), 0.95, "tune2")
    assert found.score < docfind.CONFIDENT


def _box(w, h, degrees, cx=0.0, cy=0.0):
    t = math.radians(degrees)
    c, s = math.cos(t), math.sin(t)
    pts = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]]) @ np.array([[c, s], [-s, c]])
    return pts + [cx, cy]


def test_rough_turn_of_a_small_card_with_a_corner_off():
    """A 75 x 45 px card turned by 2.5 degrees with one corner 2 px off: a short side turns the other way, so ``_turn``
    is 0; ``_rough_turn`` (weighted by the sides' lengths) stays near 2.5."""
    outer = _box(400, 290, 0.0, 300, 250)
    card = _box(75, 45, 2.5, 300, 250)
    ordered = docfind.order_corners(card)
    ordered[3] += [2.0, 0.0]  # bottom-left corner 2 px right: the left side leans the other way
    assert docfind._turn(outer, ordered) == 0.0
    assert 1.5 < docfind._rough_turn(outer, ordered) < 3.0


def test_rough_turn_is_zero_for_a_box_parallel_to_the_answer_under_perspective():
    outer = _box(640, 460, 10.0, 500, 380)
    outer[:, 0] *= 1 + 0.2 * (outer[:, 1] - 380) / 460  # strong perspective
    rect = np.array([[0, 0], [640, 0], [640, 460], [0, 460]], np.float32)
    back = cv2.getPerspectiveTransform(rect, docfind.order_corners(outer).astype(np.float32))
    box = cv2.perspectiveTransform(np.array([[[100, 80], [540, 80], [540, 380], [100, 380]]], np.float32), back)[0]
    assert docfind._rough_turn(outer, box) < 0.2


def test_rough_turn_agrees_with_turn_on_a_clean_quad():
    outer = _box(500, 350, 3.0, 320, 240)
    inner = _box(300, 200, 7.0, 330, 250)
    assert abs(docfind._rough_turn(outer, inner) - 4.0) < 0.05
    assert abs(docfind._turn(outer, inner) - 4.0) < 0.05


def test_nest_min_is_above_an_id_card_on_a4():
    """An ID card (85.6 x 54 mm) covers 7.4 % of an A4 sheet: its photocopy on a blank A4 page is not a card lying on
    a sheet (review of finder-nested12)."""
    assert docfind.NEST_MIN > 85.6 * 54 / (210 * 297)


def test_a_white_card_stuck_crooked_on_a_blank_page_keeps_the_page():
    """The risk of a lower NEST_MIN: a card (6.6 % of the page) stuck on a blank page at 3-6 degrees. Still the page,
    sure (as on main)."""
    from tests.support import imagegen

    for seed, (desk, card, turn, text) in enumerate(
        [((90, 70, 60), (246, 246, 246), 4, False), ((60, 60, 60), (235, 240, 245), 3, True)]
    ):
        rng = np.random.default_rng(seed)
        img = np.empty((750, 1000, 3), np.float32)
        img[:] = desk
        page = _box(620, 440, 2.0, 500, 375)
        cv2.fillConvexPoly(img, np.round(page * 16).astype(np.int32), (236, 238, 240), cv2.LINE_AA, shift=4)
        c = _box(170, 107, 2.0 + turn, 420, 330)
        cv2.fillConvexPoly(img, np.round(c * 16).astype(np.int32), card, cv2.LINE_AA, shift=4)
        if text:
            for k in range(4):
                a = c[0] + (c[3] - c[0]) * (0.25 + 0.15 * k) + (c[1] - c[0]) * 0.1
                b = a + (c[1] - c[0]) * 0.6
                cv2.line(
                    img, tuple(np.round(a).astype(int)), tuple(np.round(b).astype(int)), (60, 60, 60), 2, cv2.LINE_AA
                )
        img = np.clip(cv2.GaussianBlur(img, (0, 0), 0.8) + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)
        found = docfind.detect(img)
        assert found is not None and imagegen.quad_iou(found.corners, page) >= 0.95, found
        assert found.score >= docfind.CONFIDENT


def _flat_page_with(inner_colour, page_colour, page_mm, box_mm, desk, text, seed):
    """A page (``page_mm``) on a plain desk with a rectangle printed or stuck on it (``box_mm``: centre x, y, w, h,
    turn in degrees, in the page's mm), photographed at 1000x750 with mild perspective; the page's corners."""
    rng = np.random.default_rng(seed)
    ppm = 4.0
    pw, ph = int(page_mm[0] * ppm), int(page_mm[1] * ppm)
    page = np.empty((ph, pw, 3), np.float32)
    page[:] = page_colour
    cx, cy, bw, bh, turn = box_mm
    b = _box(bw * ppm, bh * ppm, turn, cx * ppm, cy * ppm)
    cv2.fillConvexPoly(page, np.round(b * 16).astype(np.int32), inner_colour, cv2.LINE_AA, shift=4)
    if text:  # a few lines of print on the box
        for k in range(4):
            a = b[0] + (b[3] - b[0]) * (0.25 + 0.15 * k) + (b[1] - b[0]) * 0.1
            e = a + (b[1] - b[0]) * 0.6
            cv2.line(page, tuple(np.round(a).astype(int)), tuple(np.round(e).astype(int)), (60, 60, 60), 2, cv2.LINE_AA)
    aspect = page_mm[0] / page_mm[1]
    hh = math.sqrt(0.45 * 1000 * 750 / aspect)
    quad = _box(hh * aspect, hh, 2.0, 505, 370).astype(np.float32)
    quad[0, 0] += 0.03 * hh * aspect
    quad[1, 0] -= 0.03 * hh * aspect
    to_photo = cv2.getPerspectiveTransform(np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32), quad)
    img = np.empty((750, 1000, 3), np.float32)
    img[:] = desk
    mask = cv2.warpPerspective(np.ones((ph, pw), np.float32), to_photo, (1000, 750))[..., None]
    img = img * (1 - mask) + cv2.warpPerspective(page, to_photo, (1000, 750)) * mask
    img = np.clip(cv2.GaussianBlur(img, (0, 0), 0.8) + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)
    return img, quad


def test_a_photocopied_id_card_on_a_blank_a4_page_or_a_label_on_an_envelope_keeps_the_page():
    """Review of finder-nested12: at NEST_MIN 0.05 a photocopy of an ID card (7.4 % of a blank A4 page, copied grey,
    put on the glass 3 degrees crooked) and a white address label (6.5 % of a kraft C5 envelope, stuck 5 degrees
    crooked) were taken as a document lying on the page, asked (IoU 0.07 with the page), where main's finder answers
    the page, sure. An ID card lying on a sheet is not told from its photocopy: NEST_MIN stays 0.08."""
    from tests.support import imagegen

    lw = math.sqrt(0.065 * 229 * 162 * 1.6)
    for colour, paper, page_mm, box, desk in (
        ((215, 215, 215), (240, 241, 242), (210, 297), (80, 80, 85.6, 54.0, 3.0), (60, 60, 62)),
        ((245, 246, 246), (120, 170, 200), (229, 162), (126, 89, lw, lw / 1.6, 5.0), (60, 60, 62)),
    ):
        img, page = _flat_page_with(colour, paper, page_mm, box, desk, True, 7)
        found = docfind.detect(img)
        assert found is not None and imagegen.quad_iou(found.corners, page) >= 0.95, found
        assert found.score >= docfind.CONFIDENT

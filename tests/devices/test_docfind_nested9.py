"""docfind on a document lying on a larger plain object, turned against it (2026-12-07, branch finder-nested9).

A page on a cutting mat is outlined as well as the mat, and the mat is larger: the finder answered the mat,
confidently. A page put down by hand lies at an angle to the mat; what is printed on a document (a white box on a
coloured form) is parallel to its sides. The photos here are drawn directly, small and fast."""
from __future__ import annotations

import math

import cv2
import numpy as np

from edge.devices.scanner import docfind
from tests.support import imagegen

SIZE = (1000, 750)
DESK = (150, 165, 175)
MAT = (70, 110, 60)  # BGR: a green cutting mat
PAGE = (238, 240, 242)


def _quad(cx, cy, w, h, degrees):
    """A rectangle w x h centred at (cx, cy), turned by ``degrees``, seen slightly from the front (perspective)."""
    t = math.radians(degrees)
    c, s = math.cos(t), math.sin(t)
    pts = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]]) @ np.array([[c, s], [-s, c]])
    pts[:, 0] *= 1 + 0.08 * pts[:, 1] / h  # nearer at the bottom
    return pts + [cx, cy]


def _photo(seed, turn, inner_colour=PAGE, text=True):
    """A mat on a desk with a page (or a white box printed on a green form: ``inner_colour`` on the mat's colour)
    lying on it turned by ``turn`` degrees; the truth is the page, or the form (the mat's outline)."""
    rng = np.random.default_rng(seed)
    w, h = SIZE
    img = np.empty((h, w, 3), np.float32)
    img[:] = DESK
    mat = _quad(500, 380, 640, 460, 4.0)
    cv2.fillConvexPoly(img, np.round(mat * 16).astype(np.int32), MAT, cv2.LINE_AA, shift=4)
    page = _quad(505, 378, 420, 300, 4.0 + turn)
    cv2.fillConvexPoly(img, np.round(page * 16).astype(np.int32), inner_colour, cv2.LINE_AA, shift=4)
    if text:
        for k in range(8):
            a = page[0] + (page[3] - page[0]) * (0.15 + 0.09 * k) + (page[1] - page[0]) * 0.12
            b = a + (page[1] - page[0]) * rng.uniform(0.5, 0.75)
            cv2.line(img, tuple(np.round(a).astype(int)), tuple(np.round(b).astype(int)), (60, 60, 60), 2, cv2.LINE_AA)
    img = cv2.GaussianBlur(img, (0, 0), 0.8) + rng.normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8), page, mat


def test_a_page_turned_on_a_mat_is_the_page_asked():
    for seed in (0, 1):
        image, page, _ = _photo(seed, 7.0)
        found = docfind.detect(image)
        assert found is not None and imagegen.quad_iou(found.corners, page) >= 0.95, found
        assert found.score < docfind.CONFIDENT  # a page put down square would not be told from a printed box


def test_a_white_box_printed_square_on_a_green_form_keeps_the_form():
    image, _, form = _photo(2, 0.0, text=False)
    found = docfind.detect(image)
    assert found is not None and imagegen.quad_iou(found.corners, form) >= 0.95, found
    assert found.score >= docfind.CONFIDENT


def test_turn_is_zero_for_a_box_parallel_to_the_answer_under_perspective():
    outer = _quad(500, 380, 640, 460, 10.0)
    outer[:, 0] *= 1 + 0.2 * (outer[:, 1] - 380) / 460  # strong perspective
    rect = np.array([[0, 0], [640, 0], [640, 460], [0, 460]], np.float32)
    back = cv2.getPerspectiveTransform(rect, docfind.order_corners(outer).astype(np.float32))
    box = cv2.perspectiveTransform(np.array([[[100, 80], [540, 80], [540, 380], [100, 380]]], np.float32), back)[0]
    assert docfind._turn(outer, box) < 0.2


# Review of finder-nested9: something stuck on a sparsely printed page by hand, at an angle, is turned against the
# page as a document put down on a mat is, and the page's blank margin is a calm unprinted band around it: the rule
# took a sticky note, a photo or a grey copy of an ID card for "the document", asked (IoU 0.09-0.15, where main's
# finder is right and sure). What lies on an object is paper, no darker than the object: NEST_DARKER.

def _rect(cx, cy, w, h, degrees, persp=0.0):
    t = math.radians(degrees)
    c, s = math.cos(t), math.sin(t)
    p = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]]) @ np.array([[c, s], [-s, c]])
    p[:, 0] *= 1 + persp * p[:, 1] / h
    return p + [cx, cy]


def _stuck_on_photo(seed, stuck, turn, desk, size=(1600, 1200)):
    """A blank landscape A4 sheet on an imagegen desk, a ``stuck`` (w mm, h mm, BGR colour) thing on it turned by
    ``turn`` degrees; the truth is the sheet."""
    rng = np.random.default_rng(seed)
    w, h = size
    page = np.empty((840, 1188, 3), np.float32)  # 4 px per mm
    page[:] = (236, 238, 240)
    sw, sh, colour = stuck
    cv2.fillConvexPoly(page, np.round(_rect(594, 462, sw * 4, sh * 4, turn) * 16).astype(np.int32), colour,
                       cv2.LINE_AA, shift=4)
    canvas = imagegen._desk(rng, h, w, 1.0, desk, "tune").astype(np.float32)
    a = math.sqrt(0.45 * w * h / (297 * 210))
    truth = _rect(w / 2, h / 2, 297 * a, 210 * a, 3.0, 0.06)
    imagegen._paste(canvas, page, truth, 3.0, 0.2, rng)
    img = cv2.GaussianBlur(canvas, (0, 0), 0.7) + rng.normal(0, 2.5, canvas.shape)
    return np.clip(img, 0, 255).astype(np.uint8), truth


def test_a_sticky_note_a_photo_or_an_id_copy_stuck_on_a_page_at_an_angle_is_not_the_document():
    cases = [((76, 76, (90, 230, 250)), 5.0, "wood"),     # a yellow sticky note
             ((100, 70, (120, 110, 100)), 5.0, "dark"),   # a photo
             ((121, 76, (170, 172, 175)), 4.0, "dark")]   # an ID card copied in grey
    for stuck, turn, desk in cases:
        for seed in (0, 1):
            image, truth = _stuck_on_photo(seed, stuck, turn, desk)
            found = docfind.detect(image)
            assert found is not None and imagegen.quad_iou(found.corners, truth) >= 0.95, (stuck, seed, found)
            assert found.score >= docfind.CONFIDENT, (stuck, seed, found.score)

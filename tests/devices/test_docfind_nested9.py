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

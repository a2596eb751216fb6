"""docfind on a card whose side under a lamp's reflection was taken out to the photo's border (2026-12-07, branch
finder-glare10).

A white card near the photo's left border, a lamp's reflection over its left side and the desk between it and the
border: the search took the border for the card's side (tune3 edge_glare/1000 at 4000x3000: 0.869, asked).
``_border_side_in`` moves such a side in onto the card's own side where it steps, one way, clear of the reflection."""
from __future__ import annotations

import cv2
import numpy as np

from edge.devices.scanner import docfind
from tests.support.finder_checks import finds_desk_photo


def _view(image: np.ndarray) -> np.ndarray:
    """The texture-free view ``detect`` hands the steps after the search (log colour of the 9 px median)."""
    return np.log1p(cv2.medianBlur(image, 9).astype(np.float32))


def _desk(card: bool) -> np.ndarray:
    """A 640 x 480 grey desk with a white card from x = 20 (or a page running off the left border: ``card`` False),
    a blown-out reflection over the card's left side and the desk beside it (x 0-60, y 195-285)."""
    image = np.full((480, 640, 3), (90, 110, 120), np.uint8)
    cv2.rectangle(image, (20 if card else 0, 150), (320, 340), (235, 238, 240), -1)
    cv2.ellipse(image, (15, 240), (45, 45), 0, 0, 360, (255, 255, 255), -1)
    return image


def test_a_side_at_the_border_under_a_reflection_is_moved_in_onto_the_card():
    image = _desk(card=True)
    at_border = np.array([[1, 150], [320, 150], [320, 340], [1, 340]], np.float64)
    moved = docfind._border_side_in(_view(image), image, at_border)
    assert moved is not None
    left = moved[[0, 3], 0]
    assert np.all(np.abs(left - 19.5) <= 2.0), moved


def test_a_page_running_off_the_border_keeps_its_side():
    image = _desk(card=False)
    at_border = np.array([[1, 150], [320, 150], [320, 340], [1, 340]], np.float64)
    assert docfind._border_side_in(_view(image), image, at_border) is None


def test_the_tuning_card_under_the_reflection():
    # main's finder: 0.869 at 0.58 (the left side at the photo's border); still asked
    found = finds_desk_photo(1000, "edge_glare", (4000, 3000), 0.89, "tune3")
    assert found.score < docfind.CONFIDENT


def test_a_page_edge_near_the_border_is_kept():
    # the page's bottom 3-8 working px from the photo's border, a reflection inside it: its own step (without
    # BORDER_MOVE the rule moved it 3 px in, 0.997 -> 0.977)
    finds_desk_photo(1002, "edge_glare", (1920, 1080), 0.99, "tune")


def _off_border_page(shadow: bool, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """A white page running 15 px off a 1920x1080 photo's left border under a lamp's reflection, with a printed
    stripe 130 px in (a letterhead's bar, a table's shaded column) or a pole's shadow across it (x 110-170),
    parallel to that border (composed by the review of finder-glare10)."""
    import math

    from tests.support import imagegen as ig

    rng = np.random.default_rng(seed)
    W, H = 1920, 1080
    canvas = ig._desk(rng, H, W, math.hypot(W, H) / 2000, "mid", "tune").astype(np.float32)
    pw, ph = 0.45 * W, 0.7 * H
    x0, y0 = (-12 if shadow else -15), (H - ph) / 2 + rng.uniform(-0.05, 0.05) * H
    quad = np.array([[x0, y0], [x0 + pw, y0], [x0 + pw, y0 + ph], [x0, y0 + ph]], float)
    wmm = 210.0
    hmm, ppm = wmm * ph / pw, 1.3 * pw / wmm
    if shadow:
        page = ig._render_page(rng, "a4", wmm, hmm, ppm)
    else:
        h_, w_ = int(round(hmm * ppm)), int(round(wmm * ppm))
        page = np.full((h_, w_, 3), 238, np.float32)
        page[int(0.08 * h_):int(0.92 * h_), int(130 / pw * w_):int((130 / pw + 0.05) * w_)] = (150, 120, 90)
    ig._paste(canvas, page, quad, shadow_px=1.5 * math.hypot(W, H) / 2000, shadow_strength=0.2, rng=rng)
    field, tint = ig._lighting(rng, H, W, 0.1)
    canvas *= field[..., None] * tint
    if shadow:
        m = np.zeros((H, W), np.float32)
        m[:, 110:170] = 1
        canvas *= (1 - 0.5 * cv2.GaussianBlur(m, (0, 0), 2))[..., None]
    ig._edge_glare(np.random.default_rng(seed), canvas, quad, 3)
    return ig._camera(rng, canvas, 0.0, 0.0, 2.0, 90), ig.order_corners(quad)


def test_a_page_running_off_the_border_keeps_its_side_past_print_or_a_shadow_inside():
    # Review of finder-glare10: the side moved in onto the stripe or the shadow's edge (0.971 -> 0.850, 0.977 ->
    # 0.859); the move is kept only where something unlike the page's paper is seen between the line and the side.
    from tests.support import imagegen as ig

    for shadow in (False, True):
        image, truth = _off_border_page(shadow)
        found = docfind.detect(image)
        assert found is not None
        assert ig.quad_iou(found.corners, truth) >= 0.95, (shadow, found.corners)

"""The page finder at photo sizes and orientations the tuning had not used (2026-12-07, branch finder-sizes): the
tuning splits at 2000x1500 and in portrait (1080x1920, 3000x4000), where the answers the landscape sizes got right
came apart in other ways."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from edge.devices.scanner import docfind
from tests.support import imagegen
from tests.support.finder_checks import finds_desk_photo


def test_a_receipt_whose_end_lies_under_a_reflection_at_the_photos_top_is_asked_and_grown():
    # tune3 edge_glare seed 1001 in a portrait 1080x1920 photo: a receipt along the photo's height, its top end under
    # a lamp's reflection a few px from the photo's top border. The search took the receipt up to a row of print just
    # below the reflection (base: IoU 0.870 at 0.99, confidently wrong). The right side goes on past the answer's
    # corner, seen; the left goes on as far as the reflection, which hides the rest (docfind._into_reflection): the
    # answer is asked, and grown along both sides to the receipt's end.
    found = finds_desk_photo(1001, "edge_glare", (1080, 1920), at_least=0.95, split="tune3")
    assert found.score < docfind.CONFIDENT


def _against_the_desks_edge(seed, wmm=80, hmm=200, ppmm=3.0, fmt="receipt", W=1920, H=1080):
    """A receipt (or a page) pushed against a light glossy desk's edge, a dark floor beyond its left side; a lamp's
    reflection on the desk past its bottom right corner, a soft streak that starts just inside the line of the right
    side and crosses it further on (composed by the review of finder-sizes)."""
    rng = np.random.default_rng(300 + seed)
    scale = math.hypot(W, H) / 2000
    canvas = imagegen._desk(rng, H, W, scale, "light", "tune3").astype(np.float32)
    a = math.radians(rng.uniform(-3, 3))
    ax, ux = np.array([-math.sin(a), math.cos(a)]), np.array([math.cos(a), math.sin(a)])  # down, right
    sw, sh = wmm * ppmm, hmm * ppmm
    turn = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    quad = np.array([W * 0.35, H * 0.35]) + np.array(
        [[-sw / 2, -sh / 2], [sw / 2, -sh / 2], [sw / 2, sh / 2], [-sw / 2, sh / 2]]) @ turn
    gy, gx = np.mgrid[0:H, 0:W].astype(np.float32)
    floor = ((gx - quad[0][0]) * ux[0] + (gy - quad[0][1]) * ux[1]) < 0
    dark = np.array([40, 45, 55], np.float32) * (0.8 + 0.4 * imagegen._smooth_noise(rng, H, W, 6))[..., None]
    canvas[floor] = dark[floor]
    page = imagegen._render_page(rng, fmt, wmm, hmm, 1.3 * math.sqrt(sw * sh) / math.sqrt(wmm * hmm))
    imagegen._paste(canvas, page, quad, shadow_px=1.5 * scale, shadow_strength=0.2, rng=rng)
    reach = 0.25 * sh  # as far as _carries_on looks past the right side's bottom corner
    d = ax * math.cos(math.radians(12)) + ux * math.sin(math.radians(12))
    centre = quad[2] + ax * 0.15 * reach - ux * 0.12 * reach + d * reach
    streak = np.zeros((H, W), np.float32)
    cv2.ellipse(streak, (int(centre[0]), int(centre[1])), (int(reach), int(0.12 * reach)),
                math.degrees(math.atan2(d[1], d[0])), 0, 360, 1.0, -1, cv2.LINE_AA)
    streak = cv2.GaussianBlur(streak, (0, 0), 0.25 * reach)
    canvas += (np.array([255, 250, 245], np.float32) * 1.3 - canvas) * np.clip(3.0 * streak, 0, 1)[..., None]
    return imagegen._camera(np.random.default_rng(seed), canvas, 0.5, 0.0, 2.0, 90), imagegen.order_corners(quad)


@pytest.mark.parametrize("seed, paper", [(6, dict()), (22, dict(wmm=105, hmm=148, ppmm=3.5, fmt="a6"))])
def test_a_reflections_soft_rim_beyond_a_corner_is_not_the_page_going_on(seed, paper):
    # Review of finder-sizes: the left side runs on along the desk's edge (light desk, dark floor: it steps as the
    # paper does), and the right side's line beyond the corner runs along the streak's soft rim, bright and partly a
    # step, up to its blown-out core. The branch took that for a side going on into a reflection and asked a right
    # answer (0.994 at 0.87 -> asked). Only full steps before the reflection count (HIDDEN_CRISP).
    image, truth = _against_the_desks_edge(seed, **paper)
    found = docfind.detect(image)
    assert found is not None and imagegen.quad_iou(found.corners, truth) >= 0.95
    assert found.score >= docfind.CONFIDENT

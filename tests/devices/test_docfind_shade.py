"""The page finder on a shade across a portrait page (2026-12-07, branch finder-shade): the search took the page's
lit part up to the shade's soft edge; ``_carries_on`` asked, but ``_follow_on`` grew only where a lamp's reflection
lay over the strip beyond (FOLLOW_GLARE). Past a side that is a shade's soft edge (``docfind._shade_edge``) with
the page's paper beyond it, the answer is grown to the page's real end, still asked."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.devices.scanner import docfind
from tests.devices.test_docfind import _page_on_longer_sheet
from tests.support import imagegen
from tests.support.finder_checks import finds_desk_photo


@pytest.mark.parametrize(("split", "condition", "seed"), [("tune2", "soft_shadow", 1002), ("tune2", "occluder", 1000)])
def test_a_portrait_page_cut_at_a_shades_soft_edge_is_grown_across_the_shade(split, condition, seed):
    # 1080x1920: a soft shadow across the page's top (soft_shadow/1002), a hand's shadow over its bottom
    # (occluder/1000). Base: the lit part only, IoU 0.644 and 0.772 at 0.675 (asked): both neighbours go on past the
    # shade's edge (``_carries_on``), but no reflection lies over the shaded part, so ``_follow_on`` did not grow it.
    found = finds_desk_photo(seed, condition, (1080, 1920), at_least=0.95, split=split)
    assert found.score < docfind.CONFIDENT  # a side under a shade is still a guess: asked


@pytest.mark.parametrize("blur", [0, 4, 8])
def test_a_page_on_a_same_coloured_sheet_is_not_taken_for_a_shade_even_defocused(blur):
    # The pad FOLLOW_GLARE keeps out (review of finder-glare2): the page's edge across the sheet is a step, not a
    # shade's ramp, even blurred by 8 px (4 working px): not grown onto the sheet.
    img, page = _page_on_longer_sheet(5)
    if blur:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    found = docfind.detect(img)
    assert found is not None
    assert imagegen.quad_iou(found.corners, page) >= 0.95, imagegen.quad_iou(found.corners, page)


def _shaded_page_on_a_pad(angle, size=(1280, 720), pad=(242, 244, 243), width=140, start=-100, seed=0):
    """A page on a pad of its width and nearly its white, the pad running on out of the photo; a soft shadow's edge
    (logistic, ``width`` px) crosses the page ``-start`` px before its end and darkens all beyond (composed by the
    review of finder-shade). Returns the photo and the page's corners."""
    W, H = size
    k = W / 1280.0
    rng = np.random.default_rng(seed)
    img = np.clip(rng.normal(0, 3, (H, W, 3)) + (90, 110, 130), 0, 255).astype(np.float32)
    th = np.deg2rad(angle)
    rot = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    c = np.array([W / 2, H * 330 / 720])
    page = (np.array([[-200, -250], [200, -250], [200, 250], [-200, 250]]) * k) @ rot.T + c
    sheet = (np.array([[-200, -250], [200, -250], [200, 650], [-200, 650]]) * k) @ rot.T + c
    cv2.fillConvexPoly(img, np.round(sheet).astype(np.int32), pad)
    cv2.fillConvexPoly(img, np.round(page).astype(np.int32), (245, 247, 246))
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    v = ((xx - c[0]) * -np.sin(th) + (yy - c[1]) * np.cos(th)) / k - 250 - start
    img *= (1 - 0.5 / (1 + np.exp(-v / (width / 4))))[..., None]
    return np.clip(img + rng.normal(0, 1.5, img.shape), 0, 255).astype(np.uint8), page


@pytest.mark.parametrize("angle", [5.0, 0.0])
def test_a_shaded_page_is_not_grown_along_a_pad_that_runs_out_of_the_photo(angle):
    # Review of finder-shade: the answer stops at the shadow's soft edge, its sides go on (the pad's), and the branch
    # followed them through the page's shaded end and on along the pad to the photo's border (0.938 -> 0.782, asked):
    # the side crossed is a shade's ramp and the pad is the paper's hue. Grown to the border, the page's end was never
    # seen: a shade's growth must end inside the photo (``docfind._near_border``).
    img, page = _shaded_page_on_a_pad(angle)
    found = docfind.detect(img)
    assert found is not None and imagegen.quad_iou(found.corners, imagegen.order_corners(page)) >= 0.9

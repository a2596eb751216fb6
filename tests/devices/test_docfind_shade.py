"""The page finder on a shade across a portrait page (2026-12-07, branch finder-shade): the search took the page's
lit part up to the shade's soft edge; ``_carries_on`` asked, but ``_follow_on`` grew only where a lamp's reflection
lay over the strip beyond (FOLLOW_GLARE). Past a side that is a shade's soft edge (``docfind._shade_edge``) with
the page's paper beyond it, the answer is grown to the page's real end, still asked."""

from __future__ import annotations

import cv2
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

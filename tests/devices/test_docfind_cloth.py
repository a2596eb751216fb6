"""The page finder on the printed tablecloths of the second tuning split (imagegen.desk_photo, split "tune2": polka
dots, leaves, argyle), which the first tuning split never had (2026-12-06 night, branch finder-cloth)."""

from __future__ import annotations

from edge.devices.scanner import docfind
from tests.support import imagegen


def _finds_tune2_photo(seed: int, condition: str, size: tuple[int, int], at_least: float) -> docfind.Detection:
    """The finder's answer on a second-split tuning photo, checked to overlap the truth by ``at_least``."""
    photo = imagegen.desk_photo(seed, condition, size, "tune2")
    found = docfind.detect(photo.image)
    assert found is not None and imagegen.quad_iou(found.corners, photo.corners) >= at_least, found
    return found


def test_a_page_on_argyle_is_not_extended_over_a_strip_of_the_cloth():
    # tune2 tablecloth seed 1013 at 1000x750: an A5 page on an argyle cloth. One of the cloth's lines beyond the
    # page's bottom side steps consistently, and the page's sides go on as steps past its corners to it: the line
    # search's growth step (docfind._extend) took the wedge of cloth in (base: IoU 0.75 at 0.92, confidently wrong).
    # Every colour in that wedge is the cloth's own, around the page (docfind._desk_strip): it is desk, not a band.
    found = _finds_tune2_photo(1013, "tablecloth", (1000, 750), at_least=0.95)
    assert found.score >= docfind.CONFIDENT


def test_a_frame_printed_near_a_defocused_page_edge_gives_way_to_the_page_though_a_stamp_covers_one_rim():
    # tune2 defocus seed 1000 at 1080p: an A6 page with a printed frame a few mm inside its edge, on a leaf-print
    # cloth, out of focus. The frame is the best outline; beyond three of its sides lies a calm rim of one colour and
    # the page's edge, but a stamp and a pen lie over the fourth rim, so the rim rule of docfind._beyond (every side a
    # calm rim) did not take the page (base: the frame, IoU 0.83, asked). The line beyond the fourth side as far out
    # as the others' rims closes the outline (docfind._covered_rim).
    _finds_tune2_photo(1000, "defocus", (1920, 1080), at_least=0.95)

"""Checks of the document camera's page finder on generated photos with exact truth (support/imagegen.py)."""

from __future__ import annotations

from edge.devices.scanner import docfind
from tests.support import imagegen


def finds_desk_photo(seed: int, condition: str, size: tuple[int, int], at_least: float,
                     split: str = "tune") -> docfind.Detection:
    """The finder's answer on a tuning photo (imagegen.desk_photo of ``split``), checked to overlap the truth by
    ``at_least``."""
    photo = imagegen.desk_photo(seed, condition, size, split)
    found = docfind.detect(photo.image)
    assert found is not None and imagegen.quad_iou(found.corners, photo.corners) >= at_least, found
    return found

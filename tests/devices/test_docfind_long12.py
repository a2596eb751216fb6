"""docfind on long till receipts (the `long_receipt` condition, aspect 3.5-8; branch finder-long12).

A till receipt is print to its margins: its flatness (the share of a ring inside its sides smooth once texture is
gone) was 0.14-0.55 where a page's is 0.8, and a long receipt outlined perfectly was "no page" or asked."""
from __future__ import annotations

import numpy as np

from edge.devices.scanner import docfind
from tests.support.finder_checks import finds_desk_photo


def test_long_receipt_print_to_its_margins_is_found():
    """tune long_receipt/1011 at 1080p (aspect 7.1 on a pale green desk): "no page" before, found confidently now."""
    found = finds_desk_photo(1011, "long_receipt", (1920, 1080), 0.95)
    assert found.score >= docfind.CONFIDENT


def test_elongated():
    """Shaped as a till receipt from LONG_ASPECT on, either way round; an A4 page is not."""
    assert docfind._elongated(np.array([[0, 0], [50, 0], [50, 400], [0, 400]], float))
    assert docfind._elongated(np.array([[0, 0], [400, 0], [400, 60], [0, 60]], float))
    assert not docfind._elongated(np.array([[0, 0], [210, 0], [210, 297], [0, 297]], float))


def test_long_receipt_cut_short_of_its_end_is_asked_and_grown():
    """tune3 long_receipt/1010 at 1080p (its QR end under a shade): the answer ended 30 px short of it, 0.90 at 0.86 on
    main. Its long sides go on past that end for less than the receipt's width (``_receipt_reach``): asked, and grown
    to the end."""
    found = finds_desk_photo(1010, "long_receipt", (1920, 1080), 0.95, "tune3")
    assert found.score < docfind.CONFIDENT


def test_receipt_reach():
    """LONG_REACH of the short side for a receipt's shape; no limit for a page's."""
    receipt = np.array([[0, 0], [60, 0], [60, 400], [0, 400]], float)
    assert docfind._receipt_reach(receipt) == docfind.LONG_REACH * 60
    assert docfind._receipt_reach(np.array([[0, 0], [210, 0], [210, 297], [0, 297]], float)) == float("inf")

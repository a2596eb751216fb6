"""docfind on a card whose colour band alone was found, its body left out (2026-12-07, branch finder-glare9).

A pale card on a hexagon print of its body's colour, its left end under a lamp's reflection: the search took the dark
band alone (0.20). ``_body_beyond`` moves the band's long side out over the body where the card's sides go on past
the band's corners and the body's far edge steps where the whole card is card-shaped."""
from __future__ import annotations

import cv2
import numpy as np

from edge.devices.scanner import docfind
from tests.support import imagegen
from tests.support.finder_checks import finds_desk_photo


def _view(image: np.ndarray) -> np.ndarray:
    """The texture-free view ``detect`` hands the steps after the search (log colour of the 9 px median)."""
    return np.log1p(cv2.medianBlur(image, 9).astype(np.float32))


def _card(band_only_desk: tuple[int, int, int], body: tuple[int, int, int] | None):
    """A 640 x 480 desk with a card 300 x 190 px (its top 40 px a dark band), or a receipt-like strip of the band's
    size alone (``body`` None), and the band's quad."""
    image = np.full((480, 640, 3), band_only_desk, np.uint8)
    x0, y0 = 170, 140
    if body is not None:
        cv2.rectangle(image, (x0, y0), (x0 + 300, y0 + 190), body, -1)
    cv2.rectangle(image, (x0, y0), (x0 + 300, y0 + 40), (90, 40, 80) if body is not None else (235, 238, 240), -1)
    band = np.array([[x0, y0], [x0 + 300, y0], [x0 + 300, y0 + 40], [x0, y0 + 40]], np.float64) - 0.5
    return image, band


def test_a_cards_band_found_alone_is_taken_with_its_body():
    found = finds_desk_photo(1000, "edge_glare", (3000, 4000), 0.9, "tune3")
    assert found.score < docfind.CONFIDENT  # still asked: the card's end under the reflection is a guess


def test_the_body_beyond_a_band_is_the_card_and_a_thin_strip_on_a_plain_desk_has_none():
    image, band = _card((120, 130, 125), (200, 235, 215))
    body = docfind._body_beyond(_view(image), image, band)
    assert body is not None
    truth = np.array([[170, 140], [470, 140], [470, 330], [170, 330]], np.float64) - 0.5
    assert imagegen.quad_iou(body, truth) >= 0.95
    image, strip = _card((120, 130, 125), None)
    assert docfind._body_beyond(_view(image), image, strip) is None

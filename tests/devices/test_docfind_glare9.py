"""docfind on a card whose colour band alone was found, its body left out (2026-12-07, branch finder-glare9).

A pale card on a hexagon print of its body's colour, its left end under a lamp's reflection: the search took the dark
band alone (0.20). ``_body_beyond`` moves the band's long side out over the body where the card's sides go on past
the band's corners and the body's far edge steps where the whole card is card-shaped."""
from __future__ import annotations

import math

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


# Review of finder-glare9: a long receipt (aspect 4.6, asked) along the near edge of an envelope that runs off the
# photo's border, the envelope's end flush with the receipt's. Every test `_body_beyond` makes holds for the envelope
# (another paper, unlike the desk, a far edge at a card-shaped depth, a side going on past one corner), and the
# receipt was taken with the envelope (0.998 -> 0.32). A card's body ends where its band ends: `_runs_on`.

def _receipt_along_envelope(seed, size, desk, split, envelope):
    w, h = size
    k = w / 1280
    rl, rw, d, ang = 320 * k, 70 * k, 150 * k, 0.05
    cx, cy = rl / 2 + 30 * k, h * 0.6
    rng = np.random.default_rng(seed)
    canvas = imagegen._desk(rng, h, w, math.hypot(w, h) / 2000, desk, split).astype(np.float32)
    rot = np.array([[math.cos(ang), math.sin(ang)], [-math.sin(ang), math.cos(ang)]])

    def rect(x0, y0, x1, y1):
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float) @ rot + [cx, cy]

    env = rect(-rl / 2 - 200 * k, -rw / 2 - d, rl / 2, -rw / 2 + 3 * k)  # flush at the right, off the left border
    imagegen._paste(canvas, np.full((int(d), int(rl), 3), envelope, np.float32), env, shadow_px=2,
                    shadow_strength=0.3, rng=rng)
    quad = rect(-rl / 2, -rw / 2, rl / 2, rw / 2)
    page = imagegen._render_page(rng, "receipt", 80, 80 * rl / rw, rw / 80 * 1.3)
    imagegen._paste(canvas, page, quad, shadow_px=2, shadow_strength=0.2, rng=rng)
    return imagegen._camera(rng, canvas, 0.0, 0.0, 2.0, 88), imagegen.order_corners(quad)


def test_a_long_receipt_along_an_envelope_is_not_taken_with_it():
    for size, desk, split, envelope in (((1920, 1080), "mid", "tune", (150, 150, 145)),
                                        ((1280, 720), "mid", "tune", (135, 190, 220)),
                                        ((1280, 720), "wood", "tune3", (150, 150, 145))):
        image, truth = _receipt_along_envelope(7, size, desk, split, envelope)
        found = docfind.detect(image)
        assert found is not None and imagegen.quad_iou(found.corners, truth) >= 0.88, (size, desk, envelope, found)

"""Straightening a located QR code: perspective from its four corners, then curvature hypotheses.

A decoder samples a QR code on a grid fitted to its finder patterns. That fails when the grid is not
straight in the picture: a receipt wrapped round a bottle (columns squeezed towards the sides, rows
bowed), a curled paper (rows bowed), or a code seen so steeply that the module size changes a lot
across it. Where a decoder has *located* a code (its four corners) but could not read it:

1. ``rectify`` maps the corner quadrilateral onto an upright square with a quiet-zone margin, which
   removes the perspective (the decoder then only has to cope with what is left).
2. ``unwarp`` undoes a curvature *hypothesis* on that square, in the code's own frame (the corners stay
   where they are). A sheet wrapped round a cylinder over ``wrap`` radians and seen from the front shows
   a point at arc position u (−1…1) at x ∝ sin(offset + u·wrap/2) (``offset``: the code's middle is not
   on the line of sight), stretched so the corners stay put; the nearest column looks taller by
   ``bulge``; a camera above or below the code's middle, or a curled sheet, bows the rows by ``bow`` (a
   parabola, 0 at the corners). ``HYPOTHESES`` (48) covers these shapes coarsely — the decoder's error
   correction absorbs the rest — both ways round (the bend along the code's rows or its columns),
   flattest first.

The caller tries each hypothesis until one reads; the reads are checked by the QR code's own error
correction, so a wrong hypothesis gives no text rather than a wrong one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Bend:
    wrap: float = 0.0    # radians of a cylinder the code covers (0: flat)
    bulge: float = 0.0   # how much taller the middle column looks than the edges (share of the height)
    bow: float = 0.0     # how far the middle of each row is shifted (share of the half height)
    offset: float = 0.0  # radians between the line of sight and the code's middle (wrapped codes)
    across: bool = False  # the bend runs along the code's columns instead of its rows


def _hypotheses() -> tuple[Bend, ...]:
    found: list[Bend] = []
    for across in (False, True):
        for wrap in (1.2, 1.8, 2.4):
            for bulge in (0.0, 0.15):
                for offset in (0.0, 0.4, -0.4):
                    found.append(Bend(wrap, bulge, 0.0, across, offset))
        for bow in (0.08, -0.08, 0.16, -0.16, 0.25, -0.25):
            found.append(Bend(0.0, 0.0, bow, across))
    # flattest first: a mild bend is the likelier one and the cheaper to confirm
    found.sort(key=lambda b: abs(b.wrap) + abs(b.bulge) * 4 + abs(b.bow) * 4 + abs(b.offset))
    return tuple(found)


HYPOTHESES = _hypotheses()


def rectify(gray: np.ndarray, quad: np.ndarray, side: int = 320, margin: float = 0.2) -> np.ndarray:
    """The quadrilateral ``quad`` (top-left, top-right, bottom-right, bottom-left) as an upright square.

    The code spans ``side`` pixels, with ``margin`` × side of the picture around it (its quiet zone and
    whatever a slightly wrong corner cut off).
    """
    m = margin * side
    dst = np.float32([[m, m], [m + side, m], [m + side, m + side], [m, m + side]])
    matrix = cv2.getPerspectiveTransform(np.asarray(quad, np.float32), dst)
    full = int(round(side + 2 * m))
    return cv2.warpPerspective(gray, matrix, (full, full), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def unwarp(square: np.ndarray, bend: Bend, margin: float = 0.2) -> np.ndarray:
    """``square`` (from ``rectify`` with the same ``margin``) with ``bend`` undone."""
    full = square.shape[0]
    side = full / (1 + 2 * margin)
    centre = full / 2
    coords = (np.arange(full, dtype=np.float32) - centre) / (side / 2)   # −1…1 over the code
    u, v = np.meshgrid(coords, coords)
    if bend.across:
        u, v = v, u
    if bend.wrap > 0:
        half = bend.wrap / 2
        lo, hi = bend.offset - half, bend.offset + half
        angle = np.clip(bend.offset + u * half, -math.pi / 2, math.pi / 2)
        # sin over [lo, hi] stretched onto −1…1: the corners stay put
        x = (2 * np.sin(angle) - math.sin(hi) - math.sin(lo)) / (math.sin(hi) - math.sin(lo))
        edge = min(math.cos(lo), math.cos(hi))
        shape = (np.cos(angle) - edge) / max(1 - edge, 1e-3)   # 1 nearest the camera, 0 at the far edge
    else:
        x = u
        shape = 1 - np.clip(u, -1.5, 1.5) ** 2
    y = v * (1 + bend.bulge * shape) + bend.bow * shape
    if bend.across:
        x, y = y, x
    map_x = (x * (side / 2) + centre).astype(np.float32)
    map_y = (y * (side / 2) + centre).astype(np.float32)
    return cv2.remap(square, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

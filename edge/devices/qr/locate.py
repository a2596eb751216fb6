"""Finding where a QR code is without its finder patterns: the densest patch of fine black-and-white texture.

zxing locates codes by their three finder patterns; on a steep, blurred or bent code it may find none, or
pair the wrong ones (a thin sliver of the code). A QR code is also, whatever its angle, the patch of the
picture with the most edges per pixel: ``texture_quads`` measures edge density (a morphological
gradient averaged over a window about a code's module size × a few), keeps the dense blobs and returns a
quadrilateral round each (its convex hull simplified to four corners, else its smallest rotated
rectangle), largest first. The decoder straightens each as it does zxing's quads. The corners are rough
(the blob spreads by half a window); the straightening's margin and zxing's own sampling absorb that.
"""

from __future__ import annotations

import cv2
import numpy as np

WORK_SIDE = 640   # located on a copy this large: the code's outline needs no more
MAX_QUADS = 3


def texture_quads(gray: np.ndarray) -> list[np.ndarray]:
    h, w = gray.shape
    scale = min(1.0, WORK_SIDE / max(h, w))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    kernel = np.ones((3, 3), np.uint8)
    edges = cv2.morphologyEx(small, cv2.MORPH_GRADIENT, kernel).astype(np.float32)
    window = max(9, (min(small.shape) // 24) | 1)
    density = cv2.boxFilter(edges, -1, (window, window))
    peak = float(density.max())
    if peak < 20:  # a flat picture: no code
        return []
    mask = (density > 0.35 * peak).astype(np.uint8) * 255
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((window, window), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    quads = []
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:MAX_QUADS]:
        if cv2.contourArea(contour) < (2 * window) ** 2:
            break
        rough = _four_corners(contour)
        quads.append(_clockwise(_refine(small, rough, window)) / scale)
    return quads


def _four_corners(points: np.ndarray) -> np.ndarray:
    hull = cv2.convexHull(points)
    for eps in (0.02, 0.04, 0.06, 0.09):
        approx = cv2.approxPolyDP(hull, eps * cv2.arcLength(hull, True), True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float32)
    return cv2.boxPoints(cv2.minAreaRect(points)).astype(np.float32)


def _refine(small: np.ndarray, rough: np.ndarray, window: int) -> np.ndarray:
    """The outline of the dark modules near ``rough``: the code's own corners (finder patterns are its extremes)."""
    centre = rough.mean(axis=0)
    grown = centre + (rough - centre) * 1.25
    region = np.zeros(small.shape, np.uint8)
    cv2.fillConvexPoly(region, grown.astype(np.int32), 255)
    block = max(11, (window * 2) | 1)
    dark = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 4)
    dark &= region
    # join the modules into one blob (a module is a few pixels; a gap to the background is the quiet zone)
    joined = cv2.morphologyEx(dark, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(joined)
    if count < 2:
        return rough
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    if stats[biggest, cv2.CC_STAT_AREA] < 0.25 * cv2.contourArea(rough):
        return rough
    points = cv2.findNonZero((labels == biggest).astype(np.uint8))
    return _four_corners(points)


def _clockwise(quad: np.ndarray) -> np.ndarray:
    """Corners in picture order (top-left first, then clockwise on screen)."""
    centre = quad.mean(axis=0)
    angles = np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0])
    quad = quad[np.argsort(angles)]
    start = int(np.argmin(quad.sum(axis=1)))
    return np.roll(quad, -start, axis=0).astype(np.float32)

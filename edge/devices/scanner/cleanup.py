"""Making a scanned or photographed page legible and small: rectify, flatten the light, stretch contrast, spot blanks.

Used by every scanner kind: a SANE page gets the blank check (and the clean-up when asked), a camera
page gets all of it. Everything works on uint8 numpy images, grey (H, W) or BGR (H, W, 3).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

# Paper formats by aspect (long / short side) and long side in mm; a photographed page whose sides
# agree with one within SNAP_TOLERANCE is given that format's exact aspect (perspective measurement
# is only good to a few %). Anything else (a receipt) keeps the measured aspect.
FORMATS = {"A4": (297 / 210, 297.0), "Letter": (279 / 216, 279.0), "ID-1": (85.6 / 54.0, 85.6)}
SNAP_TOLERANCE = 0.06


def page_aspect(quad: np.ndarray) -> tuple[float, str]:
    """Height / width of the page from its corners (TL TR BR BL), snapped to a known format when close.

    Uses the mean of opposite sides: good to a few % for the tilts of an overhead camera."""
    q = np.asarray(quad, np.float64)
    top, bottom = np.hypot(*(q[1] - q[0])), np.hypot(*(q[2] - q[3]))
    left, right = np.hypot(*(q[3] - q[0])), np.hypot(*(q[2] - q[1]))
    w, h = (top + bottom) / 2, (left + right) / 2
    ratio = max(w, h) / max(min(w, h), 1e-6)
    for name, (fmt_ratio, _) in FORMATS.items():
        if abs(ratio / fmt_ratio - 1) < SNAP_TOLERANCE:
            ratio = fmt_ratio
            return (ratio if h >= w else 1 / ratio), name
    return (ratio if h >= w else 1 / ratio), "other"


def rectify(image: np.ndarray, quad: np.ndarray, dpi: int = 200) -> np.ndarray:
    """The page cut out of a photo and warped flat to its own aspect.

    Size: as many pixels as the photo shows along the page (no invented detail), but no more than an A4
    sheet at ``dpi`` holds, so a 12 MP photo of a page does not become a 40 MB scan."""
    q = np.asarray(quad, np.float64)
    aspect, _ = page_aspect(q)
    top, bottom = np.hypot(*(q[1] - q[0])), np.hypot(*(q[2] - q[3]))
    left, right = np.hypot(*(q[3] - q[0])), np.hypot(*(q[2] - q[1]))
    area = max(top, bottom) * max(left, right)
    cap = (210 / 25.4 * dpi) * (297 / 25.4 * dpi)
    area = min(area, cap)
    w = max(8, int(round(math.sqrt(area / aspect))))
    h = max(8, int(round(w * aspect)))
    # Half a percent is cut off all round: the corners are found to a pixel or two, and a sliver of
    # desk along an edge looks like a black frame once the contrast is stretched.
    m = 0.005 * max(w, h)
    dst = np.array([[-0.5 - m, -0.5 - m], [w - 0.5 + m, -0.5 - m], [w - 0.5 + m, h - 0.5 + m], [-0.5 - m, h - 0.5 + m]],
                   np.float32)
    M = cv2.getPerspectiveTransform(q.astype(np.float32), dst)
    shrink = area < 0.5 * _quad_area(q)  # many photo pixels to one page pixel: average them
    return cv2.warpPerspective(image, M, (w, h), flags=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)


def _quad_area(q: np.ndarray) -> float:
    return float(cv2.contourArea(q.astype(np.float32)))


def _background(gray: np.ndarray) -> np.ndarray:
    """The paper's brightness everywhere, text removed: a grey closing (ink is thin and dark) on a small copy."""
    h, w = gray.shape
    s = min(1.0, 400.0 / max(h, w))
    small = cv2.resize(gray, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA)
    # Wider than any ink blob (a logo, a stamp, a table's bold header): a closing keeps a hard shadow's
    # straight edge where it is (closing leaves a step unchanged), so a wide kernel costs nothing there.
    k = max(3, int(round(max(small.shape) / 12)) | 1)
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    bg = cv2.medianBlur(bg, 5)
    bg = cv2.GaussianBlur(bg, (0, 0), 2)
    return cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR)


def clean(image: np.ndarray, *, binarize: bool = False, color: bool | None = None) -> np.ndarray:
    """Shadows and uneven light divided out, paper made white and ink dark; optionally black and white.

    Division by the paper's own brightness (not subtraction) because light multiplies: a shadow darkens
    paper and ink alike, and the ratio ink / paper is what the eye reads."""
    if color is None:
        color = image.ndim == 3 and _is_colourful(image)
    if image.ndim == 3 and color:
        out = np.empty_like(image)
        for c in range(3):
            out[:, :, c] = _flatten(image[:, :, c])
        return out
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    flat = _flatten(gray)
    if binarize:
        # Otsu on the flattened page: after flattening the paper is one level, so one threshold fits all.
        _, bw = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
        return bw
    return flat


def _flatten(channel: np.ndarray) -> np.ndarray:
    bg = _background(channel).astype(np.float32)
    ratio = channel.astype(np.float32) / np.maximum(bg, 1.0)
    # Paper (ratio ≈ 1) → white; the darkest ink (1st percentile) → black; gamma keeps thin strokes dark.
    lo = float(np.percentile(ratio, 1))
    lo = min(lo, 0.6)
    out = np.clip((ratio - lo) / max(0.92 - lo, 1e-3), 0, 1) ** 1.3
    return (out * 255 + 0.5).astype(np.uint8)


def _is_colourful(image: np.ndarray) -> bool:
    """Stamps and photos are worth the colour; black text on white paper is not (grey JPEGs are ~2× smaller)."""
    small = cv2.resize(image, (200, 200), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    return float(((hsv[:, :, 1] > 70) & (hsv[:, :, 2] > 50)).mean()) > 0.01


def blank_reason(image: np.ndarray) -> str | None:
    """Why the page is no real scan ('all one colour', 'nothing written'), or None when it carries content.

    A lid left open, a dead lamp or a sheet fed upside down gives an even page; marks are looked for
    relative to the paper's own brightness so a grey or shadowed page with text is not called blank."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape
    s = min(1.0, 1000.0 / max(h, w))
    if s < 1:
        gray = cv2.resize(gray, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA)
    if float(gray.std()) < 2.0:
        return "all one colour" + (" (black)" if gray.mean() < 60 else "")
    bg = _background(gray).astype(np.int16)
    ink = (bg - gray.astype(np.int16)) > 40
    # A page with one short signature still has a few hundred dark pixels at 1000 px; dust has tens.
    if int(ink.sum()) < max(60, int(0.0002 * ink.size)):
        return "nothing written"
    return None

"""A page's corners in a photo, as the finder proposed them or as an operator placed them by hand.

Every document-scanner app lets the person move the corners when the page was not found well. The
wizard shows the photo with four handles (``edge/web/static/js/corners.js``); their positions travel as
eight fractions of the photo's width and height (``x,y`` for top-left, top-right, bottom-right,
bottom-left), so the browser never needs the photo's full size. :func:`from_fractions` turns them back into
pixels and checks them: four points that do not outline a page (sides crossing, a sliver, points off the
photo) are refused with words for the operator, not straightened into nonsense.

:class:`Finding` is what the finder says about a photo: where it thinks the page is, how sure it is, and
whether the operator should be asked (:data:`edge.devices.scanner.docfind.CONFIDENT`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge.devices.scanner import docfind
from edge.devices.scanner.base import ScannerError

MIN_SHARE = 0.01          # smallest page an operator may outline, as a share of the photo (as the finder's)
MIN_ANGLE_DEG = 20.0      # a corner sharper than this is a crossed or collapsed outline, not a photographed page
DEFAULT_INSET = 0.08      # where the handles start when no page was found: a rectangle 8 % in from each edge


class BadCorners(ScannerError):
    code = "scanner-bad-corners"
    message_ar_default = ("النقاط الأربع لا تحدد صفحة. اسحب كل نقطة إلى ركن من أركان الورقة، بحيث لا تتقاطع "
                          "الحواف، ثم حاول مرة أخرى.")
    message_en_default = ("The four dots do not outline a page. Drag each dot onto a corner of the paper, so that "
                          "the sides do not cross, then try again.")


@dataclass(frozen=True)
class Finding:
    width: int
    height: int
    corners: np.ndarray   # float (4, 2) TL TR BR BL in photo pixels (a default rectangle when nothing was found)
    score: float          # the finder's confidence, 0..1 (0 when nothing was found)
    found: bool           # the finder proposed these corners

    @property
    def confident(self) -> bool:
        """The finder is sure enough to straighten the page without asking the operator."""
        return self.found and self.score >= docfind.CONFIDENT

    def fractions(self) -> list[float]:
        return to_fractions(self.corners, self.width, self.height)


def find(image: np.ndarray) -> Finding:
    """What the finder says about a BGR photo, with a starting outline for the operator when it found nothing."""
    h, w = image.shape[:2]
    found = docfind.detect(image)
    if found is None:
        return Finding(w, h, default_quad(w, h), 0.0, False)
    return Finding(w, h, np.asarray(found.corners, np.float64), float(found.score), True)


def default_quad(width: int, height: int) -> np.ndarray:
    x0, y0 = DEFAULT_INSET * (width - 1), DEFAULT_INSET * (height - 1)
    x1, y1 = (1 - DEFAULT_INSET) * (width - 1), (1 - DEFAULT_INSET) * (height - 1)
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


def to_fractions(quad: np.ndarray, width: int, height: int) -> list[float]:
    """Corners in pixels → eight fractions (x / (width − 1), y / (height − 1)), rounded to 1/10,000."""
    q = np.asarray(quad, np.float64).reshape(4, 2)
    sx, sy = max(width - 1, 1), max(height - 1, 1)
    return [round(min(1.0, max(0.0, v)), 4) for x, y in q for v in (x / sx, y / sy)]


def parse_fractions(text: str) -> list[float]:
    """``"0.1,0.1,0.9,0.1,0.9,0.9,0.1,0.9"`` (what the corner form posts) → eight numbers; BadCorners otherwise."""
    parts = (text or "").replace(";", ",").split(",")
    if len(parts) != 8:
        raise BadCorners(f"{len(parts)} numbers, not 8")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise BadCorners(f"not numbers: {text[:80]!r}") from None
    return values


def from_fractions(values: Sequence[float], width: int, height: int) -> np.ndarray:
    """Eight fractions (TL TR BR BL) → checked corners in pixels of a ``width`` × ``height`` photo."""
    if len(values) != 8 or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
        raise BadCorners("eight finite numbers expected")
    if any(v < -0.001 or v > 1.001 for v in values):
        raise BadCorners("a corner lies outside the photo")
    sx, sy = max(width - 1, 1), max(height - 1, 1)
    quad = np.array([[min(1.0, max(0.0, values[i])) * sx, min(1.0, max(0.0, values[i + 1])) * sy]
                     for i in range(0, 8, 2)], np.float64)
    return check(quad, width, height)


def check(quad: np.ndarray, width: int, height: int) -> np.ndarray:
    """The outline if it can be a photographed page: convex, in order around it, large enough, no corner
    sharper than :data:`MIN_ANGLE_DEG`. Returned in TL TR BR BL order; BadCorners otherwise."""
    q = np.asarray(quad, np.float64).reshape(4, 2)
    edges = np.roll(q, -1, axis=0) - q
    cross = edges[:, 0] * np.roll(edges, -1, axis=0)[:, 1] - edges[:, 1] * np.roll(edges, -1, axis=0)[:, 0]
    if not (np.all(cross > 0) or np.all(cross < 0)):
        raise BadCorners("the outline is not convex (sides cross or a corner is inside)")
    area = abs(float(np.sum(q[:, 0] * np.roll(q[:, 1], -1) - np.roll(q[:, 0], -1) * q[:, 1]))) / 2
    if area < MIN_SHARE * width * height:
        raise BadCorners(f"the outline covers {area / (width * height):.4f} of the photo, below {MIN_SHARE}")
    for i in range(4):
        a, b = -edges[i - 1], edges[i]
        cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
        if math.degrees(math.acos(max(-1.0, min(1.0, cos)))) < MIN_ANGLE_DEG:
            raise BadCorners("a corner of the outline is too sharp for a page")
    return docfind.order_corners(q)

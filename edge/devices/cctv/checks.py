"""Picture checks for one CCTV frame or a pair of frames: pure numpy/OpenCV functions, no I/O, no clocks.

Every check works on small grey copies of the frame (:func:`prepare`), so one sample of a 1280×720
camera costs a few milliseconds and the figures do not depend on the camera's resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Width of the copy the frozen/moved/brightness checks use; 160 px averages sensor noise away
# (a 4×4 block at 640×480) while a person crossing the picture still changes many pixels.
TINY_WIDTH = 160
# Width of the copy for sharpness: fine detail must survive the downscale, or a defocused lens
# and a sharp one look alike.
SHARP_WIDTH = 320
# Grid for the frozen check: each cell averages 4×4 pixels of the 160 px copy (16×16 of a 640 px
# camera), so sensor noise shrinks to a fraction of a grey level while a moving person changes the
# cells it covers by tens of levels.
CELL_WIDTH = 40


@dataclass(frozen=True)
class Prepared:
    """The small grey copies of one frame that every check reads."""

    tiny: np.ndarray  # float32, TINY_WIDTH wide
    sharp: np.ndarray  # uint8, SHARP_WIDTH wide
    edges: np.ndarray  # float32, zero-mean unit-norm gradient magnitude of ``tiny`` (for "moved")
    cells: np.ndarray  # float32, CELL_WIDTH wide (for "frozen")


@dataclass(frozen=True)
class Brightness:
    mean: float  # 0..255
    std: float
    dark_share: float  # share of pixels darker than the dark level


def prepare(frame: np.ndarray) -> Prepared:
    grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape
    sharp = grey if w <= SHARP_WIDTH else cv2.resize(grey, (SHARP_WIDTH, max(1, round(h * SHARP_WIDTH / w))),
                                                      interpolation=cv2.INTER_AREA)
    sh, sw = sharp.shape
    tiny = cv2.resize(sharp, (TINY_WIDTH, max(1, round(sh * TINY_WIDTH / sw))),
                      interpolation=cv2.INTER_AREA).astype(np.float32)
    return _from(tiny, sharp)


def from_tiny(tiny: np.ndarray) -> Prepared:
    """A sample rebuilt from its stored small copy (a reference view kept across restarts)."""
    tiny = np.asarray(tiny, np.float32)
    return _from(tiny, np.clip(tiny, 0, 255).astype(np.uint8))


def _from(tiny: np.ndarray, sharp: np.ndarray) -> Prepared:
    th, tw = tiny.shape
    cells = cv2.resize(tiny, (CELL_WIDTH, max(1, round(th * CELL_WIDTH / tw))), interpolation=cv2.INTER_AREA)
    return Prepared(tiny=tiny, sharp=sharp, edges=_edges(tiny), cells=cells)


def _edges(tiny: np.ndarray) -> np.ndarray:
    # Gradient magnitude, normalised: a brighter or darker scene (lights on, dusk, auto-exposure)
    # scales every gradient alike and leaves the normalised map unchanged.
    smooth = cv2.GaussianBlur(tiny, (0, 0), 1.0)
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3)
    mag = cv2.magnitude(gx, gy)
    mag -= float(mag.mean())
    norm = float(np.linalg.norm(mag))
    return mag / norm if norm > 1e-6 else mag


def brightness(p: Prepared, dark_level: int = 40) -> Brightness:
    tiny = p.tiny
    return Brightness(float(tiny.mean()), float(tiny.std()), float((tiny < dark_level).mean()))


def is_dark_or_covered(b: Brightness, *, dark_mean: float = 35.0, dark_share: float = 0.9,
                       flat_std: float = 6.0) -> bool:
    """A black picture (lens cap, dead sensor, no light) or a covered one (tape, a hand, a cloth).

    Covered lenses are not always dark, but they are always flat: almost no variation across the
    picture, which no real scene has.
    """
    return (b.mean < dark_mean and b.dark_share > dark_share) or b.std < flat_std


def sharpness(p: Prepared) -> float:
    """Variance of the Laplacian over the picture's own variance: low for a defocused, misted or smeared lens.

    Dividing by the contrast keeps the figure steady when the light changes (the plain Laplacian
    variance falls fourfold when the scene is half as bright); what is left depends on the scene, so
    it is compared with the camera's own reference, never with a fixed constant.
    """
    lap = cv2.Laplacian(p.sharp, cv2.CV_32F)
    _, lap_std = cv2.meanStdDev(lap)
    _, std = cv2.meanStdDev(p.sharp)
    return float(lap_std[0, 0] ** 2 / (std[0, 0] ** 2 + 1.0))


def change(a: Prepared, b: Prepared, cell_level: float = 6.0) -> float:
    """Share of the picture (0..1) that visibly changed between two samples.

    A share rather than a mean difference: noise spreads thinly over every pixel, a moving person
    concentrates in a few cells; and a camera's on-screen clock (which keeps ticking on some frozen
    cameras) is only a small share.
    """
    if a.cells.shape != b.cells.shape:
        return 1.0
    return float((cv2.absdiff(a.cells, b.cells) > cell_level).mean())


@dataclass(frozen=True)
class ViewMatch:
    similarity: float  # correlation of the edge maps after undoing the shift, -1..1
    shift_px: float  # how far the view slid, in TINY_WIDTH pixels


def view_match(reference: Prepared, current: Prepared) -> ViewMatch:
    """How well the current view matches the reference view, ignoring brightness.

    Phase correlation finds a pan/tilt as a shift; the edge maps are then compared at that shift. A
    bumped camera shows a shift or (turned away entirely) a low similarity; a lighting change or a
    person walking through leaves the edge structure mostly in place.
    """
    r, c = reference.edges, current.edges
    if r.shape != c.shape:
        return ViewMatch(0.0, float(TINY_WIDTH))
    (dx, dy), _ = cv2.phaseCorrelate(r.astype(np.float64), c.astype(np.float64))
    similarity = float((r * c).sum())
    ix, iy = int(round(dx)), int(round(dy))
    if ix or iy:
        # The overlap of the two views after undoing the shift: a pure pan still matches there.
        h, w = r.shape
        if abs(ix) < w // 2 and abs(iy) < h // 2:
            rs = r[max(0, -iy):h - max(0, iy), max(0, -ix):w - max(0, ix)]
            cs = c[max(0, iy):h - max(0, -iy), max(0, ix):w - max(0, -ix)]
            rs = rs - rs.mean()
            cs = cs - cs.mean()
            denom = float(np.linalg.norm(rs) * np.linalg.norm(cs))
            if denom > 1e-9:
                similarity = max(similarity, float((rs * cs).sum()) / denom)
    return ViewMatch(similarity, float(np.hypot(dx, dy)))


def thumbnail(frame: np.ndarray, width: int = 160, quality: int = 60) -> bytes:
    """A small JPEG of the frame (a few KB: cheap enough to send over LTE on request)."""
    h, w = frame.shape[:2]
    if w > width:
        frame = cv2.resize(frame, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV encodes any 8-bit image
        raise ValueError("cannot encode thumbnail")
    return data.tobytes()

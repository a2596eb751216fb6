"""Synthetic photos with exact truth: documents on desks (for the page finder) and camera streams (for CCTV).

Every photo is rendered from a seed, so a failing case can be re-made and looked at:

    >>> photo = document_photo(7, "clutter", size=(1600, 1200))
    >>> photo.image.shape, photo.corners      # BGR uint8, float (4, 2) TL, TR, BR, BL (or None)

Sizes and blur/noise amounts are relative to the image, so a 2 MP test photo and a 12 MP benchmark
photo of the same seed and category look alike. The categories are the hard cases of issue 7; "mixed"
draws every difficulty at random and is the one closest to an unknown test set. Nothing here is
tuned to the detector: parameters come from what phone photos of paper on a desk look like.
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass

import cv2
import numpy as np

CATEGORIES = (
    "plain",          # contrasting desk, mild perspective
    "white_on_light",  # white page on a light desk: low contrast
    "clutter",        # other papers, pens, a keyboard, a mug around (and under) the page
    "shadow",         # hard and soft shadows across the page
    "blur",           # defocus / motion blur, noise, strong JPEG
    "rotation",       # any rotation, strong perspective
    "receipt",        # long narrow thermal receipts
    "small",          # ID-card / A6 sized pages far from the camera
    "textured",       # wood, granite, checked cloth, stripes
    "mixed",          # everything at random
    "none",           # no page in view
)

# (width mm, height mm) of the paper formats a van sees.
FORMATS = {
    "a4": (210, 297), "letter": (216, 279), "a5": (148, 210), "a6": (105, 148),
    "id": (85.6, 54.0), "receipt": (80, 0),  # receipt length drawn per photo
}


@dataclass
class Photo:
    image: np.ndarray            # BGR uint8
    corners: np.ndarray | None   # float32 (4, 2), image pixels, TL TR BR BL; None: no page in view
    category: str
    seed: int
    page_format: str = ""


def order_corners(pts: np.ndarray) -> np.ndarray:
    """Clockwise on screen starting at the corner nearest the image's top-left (the finder's convention)."""
    pts = np.asarray(pts, dtype=np.float64).reshape(4, 2)
    c = pts.mean(axis=0)
    ang = np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0])
    pts = pts[np.argsort(ang)]
    start = int(np.argmin(pts.sum(axis=1)))
    return np.roll(pts, -start, axis=0).astype(np.float32)


def quad_iou(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Intersection over union of two convex quadrilaterals (0 when either is missing)."""
    if a is None or b is None:
        return 0.0
    a = order_corners(a).astype(np.float32)
    b = order_corners(b).astype(np.float32)
    inter, _ = cv2.intersectConvexConvex(a, b)
    union = cv2.contourArea(a) + cv2.contourArea(b) - inter
    return float(inter / union) if union > 0 else 0.0


# --- textures --------------------------------------------------------------------------------------


def _smooth_noise(rng, h, w, cells, channels=1):
    small = rng.random((max(2, int(h / w * cells) + 2), cells + 2, channels)).astype(np.float32)
    out = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    return out.reshape(h, w, channels) if channels > 1 else out.reshape(h, w)


def _background(rng, h, w, kind):
    """A desk surface (float32 BGR 0..255) of ``kind``."""
    if kind == "light":
        base = np.array(rng.uniform(200, 240, 3), np.float32)
        base = base - base.mean() * 0 + rng.uniform(-6, 6, 3)  # a slight tint
        img = np.broadcast_to(base, (h, w, 3)).copy()
        img += (_smooth_noise(rng, h, w, 6) - 0.5)[..., None] * rng.uniform(4, 20)
    elif kind == "dark":
        base = np.array(rng.uniform(20, 90, 3), np.float32)
        img = np.broadcast_to(base, (h, w, 3)).copy()
        img += (_smooth_noise(rng, h, w, 5) - 0.5)[..., None] * 20
    elif kind == "mid":
        base = np.array(rng.uniform(90, 190, 3), np.float32)
        img = np.broadcast_to(base, (h, w, 3)).copy()
        img += (_smooth_noise(rng, h, w, 8) - 0.5)[..., None] * 25
    elif kind == "wood":
        sh, sw = h // 4 + 1, w // 4 + 1
        yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
        ang = rng.uniform(0, math.pi)
        u = xx * math.cos(ang) + yy * math.sin(ang)
        warp = _smooth_noise(rng, sh, sw, 5) * rng.uniform(20, 60)
        freq = rng.uniform(0.08, 0.3) * 640 / max(sw, 1) * 4 / 4
        grain = 0.5 + 0.5 * np.sin((u + warp) * freq)
        grain = grain ** rng.uniform(0.5, 3)
        light = rng.random() < 0.5
        c1 = np.array(rng.uniform(150, 215, 3) if light else rng.uniform(40, 120, 3), np.float32)
        c1[0] *= rng.uniform(0.55, 0.8)  # wood is yellow-brown: less blue
        c2 = c1 * rng.uniform(0.7, 0.9)
        img = c1 + (c2 - c1) * grain[..., None]
        img = cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)
    elif kind == "granite":
        base = np.array(rng.uniform(80, 210, 3), np.float32)
        img = np.broadcast_to(base, (h, w, 3)).copy()
        speck = rng.standard_normal((h // 3 + 1, w // 3 + 1)).astype(np.float32) * rng.uniform(10, 30)
        img += cv2.resize(speck, (w, h), interpolation=cv2.INTER_NEAREST)[..., None]
    elif kind == "cloth":
        c1 = np.array(rng.uniform(60, 230, 3), np.float32)
        c2 = np.array(rng.uniform(60, 230, 3), np.float32)
        period = int(min(h, w) * rng.uniform(0.03, 0.12)) + 2
        yy, xx = np.mgrid[0:h, 0:w]
        ang = rng.uniform(0, math.pi)
        u = (xx * math.cos(ang) + yy * math.sin(ang)) // period
        v = (-xx * math.sin(ang) + yy * math.cos(ang)) // period
        if rng.random() < 0.5:
            mix = ((u + v) % 2).astype(np.float32)  # checks
        else:
            mix = (u % 2).astype(np.float32)  # stripes
        img = c1 + (c2 - c1) * (0.5 + (mix - 0.5) * rng.uniform(0.3, 1.0))[..., None]
        img = cv2.GaussianBlur(img, (0, 0), 1.0)
    else:
        raise ValueError(kind)
    return np.clip(img, 0, 255).astype(np.float32)


# --- pages -----------------------------------------------------------------------------------------

_WORDS = string.ascii_letters + string.digits


def _word(rng, n):
    return "".join(rng.choice(list(_WORDS), size=n))


def _paper_color(rng, fmt):
    if fmt == "receipt":
        return np.array([rng.uniform(228, 250)] * 3, np.float32) + rng.uniform(-4, 4, 3)
    if fmt == "id":
        return np.array(rng.uniform(170, 245, 3), np.float32)
    if rng.random() < 0.12:  # coloured paper
        return np.array(rng.uniform(200, 250, 3), np.float32)
    return np.array([rng.uniform(232, 255)] * 3, np.float32) + rng.uniform(-5, 3, 3)


def _render_page(rng, fmt, wmm, hmm, px_per_mm):
    """The page as float32 BGR, content drawn at ``px_per_mm``."""
    w = max(8, int(round(wmm * px_per_mm)))
    h = max(8, int(round(hmm * px_per_mm)))
    paper = _paper_color(rng, fmt)
    img = np.broadcast_to(np.clip(paper, 0, 255).astype(np.uint8), (h, w, 3)).copy()
    ink = tuple(float(v) for v in rng.uniform(10, 70, 3))
    unit = px_per_mm
    margin = rng.uniform(8, 25) * unit
    font = [cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_PLAIN]
    ff = int(rng.choice(font))
    if fmt == "receipt":
        margin = rng.uniform(3, 6) * unit
    if fmt == "id":
        margin = 4 * unit
        band = tuple(float(v) for v in rng.uniform(40, 200, 3))
        cv2.rectangle(img, (0, 0), (w, int(h * 0.22)), band, -1)
        px0, py0 = int(w * 0.06), int(h * 0.3)
        cv2.rectangle(img, (px0, py0), (int(w * 0.32), int(h * 0.9)), tuple(float(v) for v in rng.uniform(60, 200, 3)),
                      -1)
        cv2.circle(img, ((px0 + int(w * 0.32)) // 2, int(h * 0.5)), int(h * 0.12), (90, 110, 140), -1)
    y = margin
    # letterhead: a logo and a title
    if fmt not in ("receipt", "id") and rng.random() < 0.7:
        r = int(rng.uniform(5, 12) * unit)
        cx = int(margin + r) if rng.random() < 0.5 else int(w - margin - r)
        cv2.circle(img, (cx, int(y + r)), r, tuple(float(v) for v in rng.uniform(30, 200, 3)), -1)
        y += 2 * r + 3 * unit
    if fmt not in ("id",) and rng.random() < 0.35:  # a printed frame (forms): a strong inner rectangle
        inset = rng.uniform(4, 12) * unit
        cv2.rectangle(img, (int(inset), int(inset)), (int(w - inset), int(h - inset)), ink,
                      max(1, int(rng.uniform(0.3, 1.2) * unit)))
    line_h = rng.uniform(3.5, 7) * unit
    scale = line_h / 30.0
    x0 = int(margin if fmt != "id" else w * 0.36)
    fill = rng.uniform(0.25, 0.95)
    table_at = rng.uniform(0.4, 0.8) if (fmt not in ("receipt", "id") and rng.random() < 0.4) else 2
    while y < h - margin - line_h and (y < h * fill or fmt == "receipt"):
        if y > h * table_at:
            rows, cols = int(rng.integers(3, 8)), int(rng.integers(2, 6))
            th = rows * line_h * 1.4
            if y + th > h - margin:
                break
            xs = np.linspace(margin, w - margin, cols + 1)
            ys = np.linspace(y, y + th, rows + 1)
            for xx in xs:
                cv2.line(img, (int(xx), int(y)), (int(xx), int(y + th)), ink, max(1, int(0.3 * unit)))
            for yy in ys:
                cv2.line(img, (int(margin), int(yy)), (int(w - margin), int(yy)), ink, max(1, int(0.3 * unit)))
            y += th + line_h
            table_at = 2
            continue
        x = x0 + (rng.uniform(0, 10) * unit if rng.random() < 0.2 else 0)
        right = w - margin
        if fmt == "receipt" and rng.random() < 0.15:  # dashed separator
            for xx in np.arange(margin, right, 3 * unit):
                cv2.line(img, (int(xx), int(y + line_h / 2)), (int(xx + 1.5 * unit), int(y + line_h / 2)), ink,
                         max(1, int(0.3 * unit)))
            y += line_h * 1.3
            continue
        while x < right:
            word = _word(rng, int(rng.integers(2, 9)))
            (tw, th), _ = cv2.getTextSize(word, ff, scale, max(1, int(scale * 2)))
            if x + tw > right:
                break
            cv2.putText(img, word, (int(x), int(y + line_h * 0.8)), ff, scale, ink, max(1, int(scale * 2)), cv2.LINE_AA)
            x += tw + line_h * 0.5
            if rng.random() < 0.08:
                break
        y += line_h * rng.uniform(1.2, 1.8)
    if fmt not in ("receipt",) and rng.random() < 0.4:  # a stamp
        r = int(rng.uniform(8, 16) * unit)
        c = (int(rng.uniform(r, w - r)), int(rng.uniform(h * 0.5, h - r)))
        col = (160.0, 60.0, 40.0) if rng.random() < 0.5 else (50.0, 50.0, 190.0)
        cv2.circle(img, c, r, col, max(1, int(0.8 * unit)))
        cv2.circle(img, c, int(r * 0.7), col, max(1, int(0.5 * unit)))
    if fmt == "receipt" or rng.random() < 0.2:  # a QR-like block
        s = int(min(w * 0.3, 25 * unit))
        if s > 10:
            blk = (rng.random((21, 21)) < 0.5).astype(np.float32)
            blk = cv2.resize(blk, (s, s), interpolation=cv2.INTER_NEAREST)
            yy = int(h - margin - s) if fmt == "receipt" else int(rng.uniform(margin, max(margin + 1, h - margin - s)))
            xx = int((w - s) / 2) if fmt == "receipt" else int(w - margin - s)
            if 0 <= yy and yy + s <= h and 0 <= xx and xx + s <= w:
                region = img[yy:yy + s, xx:xx + s]
                region[blk > 0] = np.array(ink, np.uint8)
    if rng.random() < 0.3:  # a signature
        pts = np.cumsum(rng.normal(0, 2 * unit, (12, 2)), axis=0) + [w * rng.uniform(0.4, 0.7), h * 0.85]
        cv2.polylines(img, [pts.astype(np.int32)], False, (120.0, 40.0, 20.0), max(1, int(0.5 * unit)), cv2.LINE_AA)
    out = img.astype(np.float32)
    out += (_smooth_noise(rng, h, w, 4) - 0.5)[..., None] * rng.uniform(0, 8)
    return out


# --- geometry --------------------------------------------------------------------------------------


def _page_quad(rng, W, H, aspect, area_frac, max_tilt_deg, rotation):
    """Image corners of a page (TL, TR, BR, BL of the page itself) of ``aspect`` = h / w."""
    for _ in range(200):
        area = area_frac * W * H
        pw = math.sqrt(area / aspect)
        ph = pw * aspect
        rect = np.array([[-pw / 2, -ph / 2], [pw / 2, -ph / 2], [pw / 2, ph / 2], [-pw / 2, ph / 2]])
        c, s = math.cos(rotation), math.sin(rotation)
        rect = rect @ np.array([[c, s], [-s, c]])
        # Camera tilt: rotate the page plane in 3D, view it with a focal length of about one image width.
        f = max(W, H) * rng.uniform(0.8, 1.3)
        ax, ay = np.radians(rng.uniform(-max_tilt_deg, max_tilt_deg, 2))
        rx = np.array([[1, 0, 0], [0, math.cos(ax), -math.sin(ax)], [0, math.sin(ax), math.cos(ax)]])
        ry = np.array([[math.cos(ay), 0, math.sin(ay)], [0, 1, 0], [-math.sin(ay), 0, math.cos(ay)]])
        p3 = np.c_[rect, np.zeros(4)] @ (rx @ ry).T + [0, 0, f]
        quad = p3[:, :2] / p3[:, 2:3] * f
        quad -= quad.mean(axis=0)
        # Keep the area roughly as asked after the perspective.
        quad *= math.sqrt(area / max(1.0, cv2.contourArea(quad.astype(np.float32))))
        span = quad.max(axis=0) - quad.min(axis=0)
        margin = 0.02 * min(W, H)
        if span[0] > W - 2 * margin or span[1] > H - 2 * margin:
            area_frac *= 0.9
            continue
        lo = margin - quad.min(axis=0)
        hi = np.array([W, H]) - margin - quad.max(axis=0)
        off = rng.uniform(lo, hi)
        return (quad + off).astype(np.float64)
    raise RuntimeError("could not place the page")


def _soft_polygon_mask(h, w, pts, blur):
    m = np.zeros((h, w), np.float32)
    cv2.fillPoly(m, [np.round(pts * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
    if blur > 0.3:
        m = cv2.GaussianBlur(m, (0, 0), blur)
    return m


def _paste(canvas, page, quad, shadow_px=0.0, shadow_strength=0.0, rng=None):
    """Warp ``page`` onto ``canvas`` so its corners land on ``quad`` (antialiased); optional contact shadow."""
    h, w = canvas.shape[:2]
    ph, pw = page.shape[:2]
    src = np.array([[-0.5, -0.5], [pw - 0.5, -0.5], [pw - 0.5, ph - 0.5], [-0.5, ph - 0.5]], np.float32)
    M = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    x0, y0 = np.floor(quad.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int) + 3
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 <= x0 or y1 <= y0:
        return
    T = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64)
    Mt = T @ M
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpPerspective(page, Mt, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpPerspective(np.ones((ph, pw), np.float32), Mt, size, flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    roi = canvas[y0:y1, x0:x1]
    if shadow_strength > 0 and shadow_px > 0.3:
        d = rng.uniform(-1, 1, 2) * shadow_px
        sq = quad + d
        sm = _soft_polygon_mask(h, w, sq, shadow_px)[y0:y1, x0:x1]
        roi *= (1 - shadow_strength * sm)[..., None]
    roi[:] = roi * (1 - alpha[..., None]) + warped * alpha[..., None]


def _draw_clutter(rng, canvas, scale, n_objects, papers, avoid=None):
    """Pens, a keyboard, a mug, sticky notes, a phone; ``papers`` other sheets (under the page)."""
    h, w = canvas.shape[:2]
    for _ in range(papers):
        fmt = str(rng.choice(["a4", "a5", "a6", "letter", "receipt"]))
        wmm, hmm = FORMATS[fmt]
        if fmt == "receipt":
            hmm = rng.uniform(150, 300)
        ppm = rng.uniform(0.8, 1.6) * scale
        pg = _render_page(rng, fmt, wmm, hmm, ppm)
        cx, cy = rng.uniform(-0.1, 1.1) * w, rng.uniform(-0.1, 1.1) * h
        pw, ph = pg.shape[1], pg.shape[0]
        ang = rng.uniform(0, 2 * math.pi)
        rect = np.array([[-pw / 2, -ph / 2], [pw / 2, -ph / 2], [pw / 2, ph / 2], [-pw / 2, ph / 2]])
        c, s = math.cos(ang), math.sin(ang)
        quad = rect @ np.array([[c, s], [-s, c]]) + [cx, cy]
        _paste(canvas, pg, quad, shadow_px=2 * scale, shadow_strength=rng.uniform(0, 0.3), rng=rng)
    for _ in range(n_objects):
        kind = rng.choice(["pen", "pen", "keyboard", "mug", "note", "phone", "cable"])
        col = tuple(float(v) for v in rng.uniform(0, 255, 3))
        cx, cy = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        ang = rng.uniform(0, 180)
        if kind == "pen":
            L, T = rng.uniform(100, 160) * scale, rng.uniform(7, 11) * scale
            box = cv2.boxPoints(((cx, cy), (L, T), ang))
            cv2.fillPoly(canvas, [box.astype(np.int32)], col, cv2.LINE_AA)
        elif kind == "keyboard":
            box = cv2.boxPoints(((cx, cy), (300 * scale, 110 * scale), ang))
            cv2.fillPoly(canvas, [box.astype(np.int32)], (40.0, 40.0, 45.0), cv2.LINE_AA)
            for i in range(14):
                for j in range(5):
                    k = cv2.boxPoints(((cx + (i - 6.5) * 19 * scale * math.cos(math.radians(ang))
                                        - (j - 2) * 19 * scale * math.sin(math.radians(ang)),
                                        cy + (i - 6.5) * 19 * scale * math.sin(math.radians(ang))
                                        + (j - 2) * 19 * scale * math.cos(math.radians(ang))),
                                       (15 * scale, 15 * scale), ang))
                    cv2.fillPoly(canvas, [k.astype(np.int32)], (70.0, 70.0, 75.0), cv2.LINE_AA)
        elif kind == "mug":
            r = int(rng.uniform(35, 50) * scale)
            cv2.circle(canvas, (cx, cy), r, col, -1, cv2.LINE_AA)
            cv2.circle(canvas, (cx, cy), int(r * 0.8), tuple(c * 0.4 for c in col), -1, cv2.LINE_AA)
        elif kind == "note":
            box = cv2.boxPoints(((cx, cy), (76 * scale, 76 * scale), ang))
            cv2.fillPoly(canvas, [box.astype(np.int32)], (90.0, 230.0, 250.0), cv2.LINE_AA)
        elif kind == "phone":
            box = cv2.boxPoints(((cx, cy), (70 * scale, 145 * scale), ang))
            cv2.fillPoly(canvas, [box.astype(np.int32)], (25.0, 25.0, 30.0), cv2.LINE_AA)
        else:
            pts = np.cumsum(rng.normal(0, 30 * scale, (10, 2)), axis=0) + [cx, cy]
            cv2.polylines(canvas, [pts.astype(np.int32)], False, col, max(1, int(3 * scale)), cv2.LINE_AA)


def _shadow(rng, h, w, hard):
    """A multiplicative light field with a shadow (an arm, a phone, the photographer) crossing the scene."""
    n = int(rng.integers(3, 7))
    cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
    r = rng.uniform(0.2, 0.6) * max(h, w)
    ang = np.sort(rng.uniform(0, 2 * math.pi, n))
    pts = np.c_[cx + r * np.cos(ang) * rng.uniform(0.5, 1.5, n), cy + r * np.sin(ang) * rng.uniform(0.5, 1.5, n)]
    # Push the polygon to one side so it crosses the page rather than swallowing it.
    side = rng.uniform(0, 2 * math.pi)
    pts += np.array([math.cos(side), math.sin(side)]) * r * rng.uniform(0.3, 0.9)
    blur = (rng.uniform(0.002, 0.006) if hard else rng.uniform(0.02, 0.06)) * max(h, w)
    m = _soft_polygon_mask(h, w, pts, blur)
    depth = rng.uniform(0.35, 0.65)
    return 1.0 - depth * m


def _lighting(rng, h, w, strength):
    yy, xx = np.mgrid[0:h:8, 0:w:8].astype(np.float32)
    yy /= h
    xx /= w
    a = rng.uniform(-1, 1) * strength
    b = rng.uniform(-1, 1) * strength
    field = 1 + a * (xx - 0.5) + b * (yy - 0.5)
    cx, cy = rng.uniform(0.2, 0.8, 2)
    field *= 1 - strength * 0.6 * ((xx - cx) ** 2 + (yy - cy) ** 2)
    field = cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR)
    tint = 1 + rng.uniform(-0.06, 0.06, 3).astype(np.float32)
    return field, tint


def _camera(rng, img, blur_sigma, motion, noise, quality):
    if motion > 1:
        k = np.zeros((int(motion) * 2 + 1,) * 2, np.float32)
        k[int(motion), :] = 1
        M = cv2.getRotationMatrix2D((motion, motion), rng.uniform(0, 180), 1)
        k = cv2.warpAffine(k, M, k.shape[::-1])
        img = cv2.filter2D(img, -1, k / max(k.sum(), 1e-6))
    if blur_sigma > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), blur_sigma)
    if noise > 0:
        img = img + rng.standard_normal(img.shape, dtype=np.float32) * noise
    out = np.clip(img, 0, 255).astype(np.uint8)
    if quality < 100:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return out


def document_photo(seed: int, category: str = "mixed", size: tuple[int, int] = (1600, 1200)) -> Photo:
    """A photo (``size`` = width, height) of one page on a desk, with the page's exact corners."""
    if category not in CATEGORIES:
        raise ValueError(category)
    rng = np.random.default_rng([seed, CATEGORIES.index(category)])
    W, H = size
    if rng.random() < 0.3 and category != "none":  # portrait shots too
        W, H = H, W
    diag = math.hypot(W, H)
    scale = diag / 2000.0  # ~ pixels per mm of desk at a typical distance, at this resolution

    def pick(options):
        return options[int(rng.integers(len(options)))]

    bg_kind = pick(["dark", "mid", "wood", "light", "granite"])
    fmt = pick(["a4", "a4", "a4", "letter", "a5"])
    area = rng.uniform(0.25, 0.6)
    tilt = 15.0
    rotation = rng.normal(0, math.radians(8))
    clutter, papers = 0, 0
    shadow, hard_shadow = False, False
    light = rng.uniform(0.05, 0.25)
    blur = rng.uniform(0.0, 0.0008) * diag
    motion = 0.0
    noise = rng.uniform(1, 4)
    quality = int(rng.uniform(75, 95))
    contact = rng.uniform(0.0, 0.35)

    if category == "white_on_light":
        bg_kind = "light"
        contact = rng.uniform(0.0, 0.12)
    elif category == "clutter":
        bg_kind = pick(["mid", "wood", "light", "dark"])
        clutter, papers = int(rng.integers(3, 9)), int(rng.integers(1, 4))
        area = rng.uniform(0.15, 0.45)
    elif category == "shadow":
        shadow, hard_shadow = True, rng.random() < 0.5
        light = rng.uniform(0.15, 0.45)
    elif category == "blur":
        blur = rng.uniform(0.001, 0.004) * diag
        motion = rng.uniform(0, 0.006) * diag if rng.random() < 0.4 else 0
        noise = rng.uniform(3, 10)
        quality = int(rng.uniform(45, 80))
    elif category == "rotation":
        rotation = rng.uniform(0, 2 * math.pi)
        tilt = 30.0
    elif category == "receipt":
        fmt = "receipt"
        area = rng.uniform(0.08, 0.3)
        rotation = rng.normal(0, math.radians(20))
    elif category == "small":
        fmt = pick(["id", "a6", "a6"])
        area = rng.uniform(0.03, 0.12)
        rotation = rng.uniform(0, 2 * math.pi)
    elif category == "textured":
        bg_kind = pick(["wood", "granite", "cloth"])
    elif category == "mixed":
        bg_kind = pick(["dark", "mid", "wood", "light", "light", "granite", "cloth"])
        fmt = pick(["a4", "a4", "letter", "a5", "a6", "id", "receipt", "receipt"])
        area = {"id": rng.uniform(0.04, 0.2), "a6": rng.uniform(0.06, 0.3), "receipt": rng.uniform(0.08, 0.3)}.get(
            fmt, rng.uniform(0.15, 0.65))
        rotation = rng.uniform(0, 2 * math.pi) if rng.random() < 0.5 else rng.normal(0, math.radians(10))
        tilt = rng.uniform(5, 30)
        if rng.random() < 0.5:
            clutter, papers = int(rng.integers(0, 6)), int(rng.integers(0, 3))
        shadow = rng.random() < 0.35
        hard_shadow = rng.random() < 0.5
        if rng.random() < 0.35:
            blur = rng.uniform(0.0008, 0.003) * diag
            noise = rng.uniform(2, 8)
            quality = int(rng.uniform(50, 90))
        light = rng.uniform(0.05, 0.4)
    elif category == "none":
        clutter, papers = int(rng.integers(0, 6)), 0
        bg_kind = pick(["dark", "mid", "wood", "light", "granite", "cloth"])

    canvas = _background(rng, H, W, bg_kind)
    if clutter or papers:
        _draw_clutter(rng, canvas, scale, clutter, papers)
    corners = None
    if category != "none":
        wmm, hmm = FORMATS[fmt]
        if fmt == "receipt":
            hmm = rng.uniform(2.5, 5.0) * wmm
        if rng.random() < 0.5 and fmt != "receipt":
            wmm, hmm = (hmm, wmm) if fmt != "id" else (wmm, hmm)
        if fmt == "id" and rng.random() < 0.5:
            wmm, hmm = hmm, wmm
        quad = _page_quad(rng, W, H, hmm / wmm, area, tilt, rotation)
        # Render the page at about the resolution it will have in the photo (a little more).
        side_px = math.sqrt(cv2.contourArea(quad.astype(np.float32)))
        ppm = 1.3 * side_px / math.sqrt(wmm * hmm)
        page = _render_page(rng, fmt, wmm, hmm, ppm)
        _paste(canvas, page, quad, shadow_px=rng.uniform(0.5, 3) * scale, shadow_strength=contact, rng=rng)
        corners = order_corners(quad)
        if category == "clutter" or (category == "mixed" and clutter and rng.random() < 0.5):
            # A pen lying across the page edge.
            p = quad[int(rng.integers(4))] * 0.5 + quad[int(rng.integers(4))] * 0.5
            box = cv2.boxPoints(((float(p[0]), float(p[1])), (140 * scale, 9 * scale), float(rng.uniform(0, 180))))
            cv2.fillPoly(canvas, [box.astype(np.int32)], tuple(float(v) for v in rng.uniform(0, 200, 3)), cv2.LINE_AA)
    field, tint = _lighting(rng, H, W, light)
    if shadow:
        field = field * _shadow(rng, H, W, hard_shadow)
    canvas *= field[..., None] * tint
    image = _camera(rng, canvas, blur, motion, noise, quality)
    return Photo(image, corners, category, seed, fmt if corners is not None else "")


# --- camera streams (CCTV) -------------------------------------------------------------------------


def street_frame(t: float, size: tuple[int, int] = (320, 240), seed: int = 0, shift: tuple[int, int] = (0, 0)):
    """A frame of a busy scene at time ``t`` s: a textured street with moving people/cars and sensor noise."""
    w, h = size
    rng = np.random.default_rng(seed)
    base = _background(rng, h + 40, w + 40, "granite")
    for _ in range(12):  # buildings, signs: the fixed structure a "moved" check keys on
        x, y = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        cv2.rectangle(base, (x, y), (x + int(rng.uniform(10, 60)), y + int(rng.uniform(10, 60))),
                      tuple(float(v) for v in rng.uniform(0, 255, 3)), -1)
    dx, dy = 20 + shift[0], 20 + shift[1]
    frame = base[dy:dy + h, dx:dx + w].copy()
    for k in range(3):  # moving objects
        x = int((t * (20 + 10 * k) + 50 * k) % (w + 40)) - 20
        y = int(h * (0.3 + 0.2 * k))
        cv2.rectangle(frame, (x, y), (x + 24, y + 16), (40.0 + 60 * k, 80.0, 200.0 - 50 * k), -1)
    noise = np.random.default_rng(int(t * 1000) & 0xFFFFFFFF).standard_normal(frame.shape).astype(np.float32) * 3
    return np.clip(frame + noise, 0, 255).astype(np.uint8)

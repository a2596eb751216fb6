"""Benchmark: documents whose outline is the OUTER one, against a finder that takes a smaller region inside a page.

Written by the review of the 2026-12-06 branch finder-nested (docs/scanner.md, "A page on a mat, a tray or a larger
sheet"): a rule that takes the document lying on a mat or a tray answered a calm band darker or more saturated than
the paper inside it as "the thing under the document" — and so cut coloured forms, certificates with a printed
border, a kraft envelope with its label, an ID card with a light panel, a page in a cast shadow down to the region
inside (117 of 216 photos right -> confidently wrong). These photos are made by a different hand than
``imagegen.desk_photo`` (a reviewer's composition on imagegen's desks and camera), and keep that failure measurable:
any rule for nested documents must leave them right.

Cases (``CASES``): coloured forms with a large white text box (five colours, with and without a title in the margin),
certificates with a coloured or black printed border (plain and guilloche), black-bordered notices (4 and 8 mm),
kraft envelopes and a navy folder with a white label, ID cards with a coloured body and a light panel (plain and
guilloche), a passport data page, pages with a large tinted table box, sticky notes on pages, a receipt with a white
sticker, a page in a hard cast shadow over three sides, and (``onmat-``) a coloured form lying on a dark mat 1.3x
its size. The truth is always the document (for ``onmat-`` the form, not the mat). Three sizes, ``--seeds`` seeds.

    .venv/bin/python -m bench.outer_documents                 # every case, 2 seeds, 3 sizes
    .venv/bin/python -m bench.outer_documents --compare /tmp/docfind_other.py   # and another docfind.py beside it

Per photo: IoU and score, and the verdict (right, confidently wrong, asked and right, asked and wrong, none);
per case and overall the counts. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
import time
import zlib
from collections import Counter

import cv2
import numpy as np

from edge.devices.scanner import docfind
from tests.support import imagegen as ig

FONT = cv2.FONT_HERSHEY_SIMPLEX


def text_block(rng, img, x0, y0, x1, y1, ppm, ink=(40, 40, 40), fill=0.9, line_mm=5.0):
    """Lines of words inside a box (px)."""
    line_h = line_mm * ppm
    scale = line_h / 30.0
    th = max(1, int(scale * 2))
    y = y0 + line_h
    while y < y0 + (y1 - y0) * fill and y < y1 - 0.2 * line_h:
        x = x0
        while True:
            word = ig._word(rng, int(rng.integers(2, 9)))
            (tw, _), _ = cv2.getTextSize(word, FONT, scale, th)
            if x + tw > x1:
                break
            cv2.putText(img, word, (int(x), int(y)), FONT, scale, ink, th, cv2.LINE_AA)
            x += tw + line_h * 0.5
            if rng.random() < 0.06:
                break
        y += line_h * 1.5


def render(case, rng, ppm):
    """(page float32 BGR, (wmm, hmm)) for a case. The truth is always the whole page."""
    mm = lambda v: int(round(v * ppm))  # noqa: E731
    def blank(wmm, hmm, colour):
        w, h = mm(wmm), mm(hmm)
        return np.broadcast_to(np.array(colour, np.uint8), (h, w, 3)).copy(), w, h
    kind, _, opt = case.partition(":")
    if kind == "form":  # a coloured form: coloured paper, a large white box with text; optional header on colour
        colours = {"green": (185, 230, 195), "pink": (215, 200, 250), "yellow": (170, 238, 250),
                   "blue": (245, 220, 190), "salmon": (150, 180, 245)}
        col = colours[opt.split(",")[0]]
        img, w, h = blank(210, 297, col)
        m = rng.uniform(12, 22)
        top = m + (18 if "hdr" in opt else 0)
        cv2.rectangle(img, (mm(m), mm(top)), (mm(210 - m), mm(297 - m)), (246, 246, 246), -1)
        text_block(rng, img, mm(m + 6), mm(top + 4), mm(210 - m - 6), mm(297 - m - 6), ppm, fill=0.85)
        if "hdr" in opt:
            cv2.putText(img, "APPLICATION FORM 12-B", (mm(m + 20), mm(m + 12)), FONT, 5.0 * ppm / 30 * 1.6,
                        (60, 60, 60), max(1, int(ppm * 0.5)), cv2.LINE_AA)
        return img, (210, 297)
    if kind == "certificate":  # coloured blank margin printed on it (diploma), white-cream inside, text
        col = {"blue": (170, 120, 60), "green": (90, 140, 70), "maroon": (60, 50, 140), "gold": (90, 170, 210),
               "black": (25, 25, 25)}[opt]
        img, w, h = blank(297, 210, (240, 245, 248))
        b = rng.uniform(12, 25)
        img[:] = col
        cv2.rectangle(img, (mm(b), mm(b)), (mm(297 - b), mm(210 - b)), (238, 244, 248), -1)
        text_block(rng, img, mm(b + 25), mm(b + 15), mm(297 - b - 25), mm(210 - b - 15), ppm, fill=0.7, line_mm=7)
        return img, (297, 210)
    if kind == "mourning":  # white page, black border 5-10 mm (death notice / certificate), text inside
        img, w, h = blank(210, 297, (244, 244, 244))
        b = float(opt or 8)
        img[:] = (20, 20, 20)
        cv2.rectangle(img, (mm(b), mm(b)), (mm(210 - b), mm(297 - b)), (244, 244, 244), -1)
        text_block(rng, img, mm(b + 15), mm(b + 20), mm(210 - b - 15), mm(297 - b - 20), ppm, fill=0.6)
        return img, (210, 297)
    if kind == "kraft":  # kraft envelope with a white address label
        img, w, h = blank(229, 162, (105, 150, 190))
        img[:] = np.clip(img * (1 + 0.05 * (ig._smooth_noise(rng, h, w, 20)[..., None] - 0.5)), 0, 255)
        lx, ly = rng.uniform(80, 110), rng.uniform(60, 80)
        lw, lh = (100, 55) if opt != "big" else (140, 80)
        lx, ly = min(lx, 229 - lw - 8), min(ly, 162 - lh - 8)
        cv2.rectangle(img, (mm(lx), mm(ly)), (mm(lx + lw), mm(ly + lh)), (245, 245, 245), -1)
        text_block(rng, img, mm(lx + 6), mm(ly + 4), mm(lx + lw - 6), mm(ly + lh - 4), ppm, fill=0.8)
        return img, (229, 162)
    if kind == "navy":  # navy folder cover with a white label
        img, w, h = blank(230, 310, (90, 45, 30))
        cv2.rectangle(img, (mm(50), mm(60)), (mm(180), mm(140)), (240, 240, 240), -1)
        text_block(rng, img, mm(58), mm(65), mm(172), mm(135), ppm, fill=0.8, line_mm=7)
        return img, (230, 310)
    if kind in ("idcardg", "certg"):  # the same with a guilloche (security print) on the coloured body/border
        base, dims = render(("idcard:" if kind == "idcardg" else "certificate:") + opt, rng, ppm)
        col = base[2, 2].astype(np.float32)
        g = ig._guilloche(rng, base.shape[0], base.shape[1], ppm, col, 0.25)
        same = (np.abs(base.astype(int) - col.astype(int)).max(-1) < 3)
        base[same] = g[same]
        return base, dims
    if kind == "idcard":  # coloured card body, a large light panel with text (and a photo)
        col = {"blue": (200, 150, 90), "green": (140, 190, 120), "red": (90, 90, 200), "pink": (200, 170, 235)}[opt]
        img, w, h = blank(85.6, 54, col)
        cv2.rectangle(img, (mm(4), mm(11)), (mm(81.6), mm(50)), (238, 242, 244), -1)
        cv2.rectangle(img, (mm(7), mm(15)), (mm(27), mm(42)), (140, 150, 170), -1)
        text_block(rng, img, mm(31), mm(13), mm(79), mm(48), ppm, fill=0.9, line_mm=3.0)
        return img, (85.6, 54)
    if kind == "passport":  # passport data page: pale tinted page, white-ish data panel, MRZ
        img, w, h = blank(125, 88, (200, 215, 225))
        img[:] = np.clip(img + (ig._smooth_noise(rng, h, w, 8, 3) - 0.5) * 10, 0, 255)
        cv2.rectangle(img, (mm(5), mm(8)), (mm(120), mm(66)), (240, 244, 246), -1)
        cv2.rectangle(img, (mm(8), mm(12)), (mm(38), mm(52)), (130, 140, 160), -1)
        text_block(rng, img, mm(42), mm(10), mm(118), mm(64), ppm, fill=0.9, line_mm=3.0)
        for k in range(2):
            cv2.putText(img, "P<EGY" + "<" * 30, (mm(5), mm(74 + 8 * k)), cv2.FONT_HERSHEY_PLAIN, 3.5 * ppm / 12,
                        (30, 30, 30), max(1, int(ppm * 0.3)), cv2.LINE_AA)
        return img, (125, 88)
    if kind == "tinted":  # white page with a large grey/tinted table box or shaded header band
        img, w, h = blank(210, 297, (244, 244, 244))
        m = 20
        tint = {"grey": (200, 200, 200), "blue": (240, 225, 205)}[opt.split(",")[0]]
        cv2.rectangle(img, (mm(m), mm(60)), (mm(210 - m), mm(240)), tint, -1)
        for y in np.arange(60, 241, 12):
            cv2.line(img, (mm(m), mm(y)), (mm(210 - m), mm(y)), (60, 60, 60), max(1, int(0.3 * ppm)))
        if "text" in opt:
            text_block(rng, img, mm(m), mm(m), mm(210 - m), mm(55), ppm, fill=0.9)
        return img, (210, 297)
    if kind == "figure":  # a printed page: text above and below a picture block (a photo / chart), opt = text fill
        img, w, h = blank(210, 297, (244, 244, 244))
        fill = float(opt or 0.9)
        text_block(rng, img, mm(25), mm(25), mm(185), mm(110), ppm, fill=fill)
        pic = (ig._smooth_noise(rng, mm(90), mm(130), 6, 3) * 160 + 50).astype(np.uint8)
        img[mm(115):mm(115) + pic.shape[0], mm(40):mm(40) + pic.shape[1]] = pic
        text_block(rng, img, mm(25), mm(212), mm(185), mm(272), ppm, fill=fill)
        return img, (210, 297)
    if kind == "sticky":  # a page (blank-ish, a few lines) with a yellow sticky note on it
        img, w, h = blank(210, 297, (244, 244, 244))
        if opt != "blank":
            text_block(rng, img, mm(20), mm(20), mm(190), mm(80), ppm, fill=0.9)
        cv2.rectangle(img, (mm(60), mm(110)), (mm(136), mm(186)), (110, 235, 250), -1)
        text_block(rng, img, mm(65), mm(115), mm(130), mm(180), ppm, ink=(150, 60, 20), fill=0.6, line_mm=7)
        return img, (210, 297)
    if kind == "receipt":  # receipt with a white sticker
        img, w, h = blank(80, 200, (228, 230, 232))
        text_block(rng, img, mm(5), mm(5), mm(75), mm(60), ppm, fill=0.9, line_mm=3.5)
        cv2.rectangle(img, (mm(10), mm(90)), (mm(70), mm(150)), (252, 252, 252), -1)
        text_block(rng, img, mm(14), mm(94), mm(66), mm(146), ppm, fill=0.6, line_mm=4)
        return img, (80, 200)
    if kind == "shadow":  # a plain printed page; the shadow is applied after pasting
        img, w, h = blank(210, 297, (244, 244, 244))
        text_block(rng, img, mm(25), mm(25), mm(185), mm(272), ppm, fill=float(opt or 0.5))
        return img, (210, 297)
    raise ValueError(case)


def compose(case, size, seed, desk=None):
    rng = np.random.default_rng([seed, zlib.crc32(case.encode()) % 10007])
    W, H = size
    scale = math.hypot(W, H) / 2000.0
    desk = desk or ["wood", "dark", "mid", "light", "granite", "fabric"][int(rng.integers(6))]
    canvas = ig._desk(rng, H, W, scale, desk, "tune").astype(np.float32)
    # page size in mm first with a dummy ppm
    _, (wmm, hmm) = render(case.removeprefix("onmat-"), np.random.default_rng(0), 1.0)
    small = wmm < 130 and hmm < 130
    area = rng.uniform(0.06, 0.15) if small else rng.uniform(0.25, 0.55)
    if case.startswith("onmat-"):
        area /= 1.8
    quad = ig._page_quad(rng, W, H, hmm / wmm, area, rng.uniform(5, 20), rng.normal(0, math.radians(8)))
    side_px = math.sqrt(cv2.contourArea(quad.astype(np.float32)))
    ppm = 1.3 * side_px / math.sqrt(wmm * hmm)
    if case.startswith("onmat-"):  # the document lies on a plain dark mat 1.3x its size (the truth: the document)
        c = quad.mean(0)
        mat_q = c + (quad - c) * 1.3
        mat = np.broadcast_to(np.array([40, 42, 45], np.float32), (400, 400, 3)).copy()
        ig._paste(canvas, mat, mat_q, shadow_px=2 * scale, shadow_strength=0.3, rng=rng)
    page, _ = render(case.removeprefix("onmat-"), rng, ppm)
    page = page.astype(np.float32)
    page += (ig._smooth_noise(rng, page.shape[0], page.shape[1], 4) - 0.5)[..., None] * 4
    ig._paste(canvas, page, quad, shadow_px=rng.uniform(0.5, 3) * scale, shadow_strength=rng.uniform(0.1, 0.35),
              rng=rng)
    if case.startswith("shadow"):  # a hard-ish cast shadow over three sides of the page: the lit part a window
        c = quad.mean(0)
        inner = c + (quad - c) * rng.uniform(0.55, 0.7) + (quad[1] - quad[0]) * 0.12
        m = np.ones((H, W), np.float32)
        cv2.fillConvexPoly(m, np.round(inner).astype(np.int32), 0.0)
        m = cv2.GaussianBlur(m, (0, 0), 1.5 * scale)
        canvas *= (1 - 0.4 * m)[..., None]
    field, tint = ig._lighting(rng, H, W, rng.uniform(0.05, 0.2))
    canvas *= field[..., None] * tint
    image = ig._camera(rng, canvas, rng.uniform(0, 0.0006) * math.hypot(W, H), 0.0, rng.uniform(1, 4),
                       int(rng.uniform(75, 95)))
    return image, ig.order_corners(quad)


def run(det, image, truth) -> tuple[float, float, float]:
    t = time.perf_counter()
    d = det.detect(image)
    ms = (time.perf_counter() - t) * 1000
    if d is None:
        return 0.0, 0.0, ms
    return ig.quad_iou(d.corners, truth), float(d.score), ms


def verdict(iou: float, score: float) -> str:
    if score <= 0:
        return "none"
    if score >= docfind.CONFIDENT:
        return "right" if iou >= 0.9 else "confidently_wrong"
    return "asked_but_right" if iou >= 0.9 else "asked_and_wrong"


CASES = ["form:green", "form:pink", "form:yellow", "form:blue", "form:salmon", "form:green,hdr", "form:pink,hdr",
         "certificate:blue", "certificate:green", "certificate:maroon", "certificate:gold", "certificate:black",
         "mourning:8", "mourning:4", "kraft:small", "kraft:big", "navy", "idcard:blue", "idcard:green",
         "idcard:red", "idcard:pink", "passport", "tinted:grey", "tinted:blue", "tinted:grey,text", "sticky:text",
         "sticky:blank", "receipt", "shadow:0.5", "shadow:0.0",
         "idcardg:green", "idcardg:red", "certg:blue", "certg:gold", "onmat-form:green", "onmat-form:yellow"]
SIZES = [(1000, 750), (1600, 1200), (1920, 1080)]


def _module(path: str):
    spec = importlib.util.spec_from_file_location("docfind_compared", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["docfind_compared"] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--cases", default=None, help="comma-separated cases (default all)")
    ap.add_argument("--compare", default=None, help="another docfind.py, run on the same photos")
    args = ap.parse_args()
    finders = {"ours": docfind}
    if args.compare:
        finders["compared"] = _module(args.compare)
    cases = args.cases.split(",") if args.cases else CASES
    out = {name: {"per_case": {}, "overall": Counter(), "ms": []} for name in finders}
    for case in cases:
        for size in SIZES:
            for seed in range(args.seeds):
                image, truth = compose(case, size, seed)
                for name, finder in finders.items():
                    iou, score, ms = run(finder, image, truth)
                    v = verdict(iou, score)
                    out[name]["per_case"].setdefault(case, Counter())[v] += 1
                    out[name]["overall"][v] += 1
                    out[name]["ms"].append(ms)
                    print(f"{name:8s} {case:20s} {size[0]}x{size[1]} s{seed} iou={iou:.3f} score={score:.2f} {v}",
                          flush=True)
    summary = {"benchmark": "outer_documents", "seeds": args.seeds, "sizes": [f"{w}x{h}" for w, h in SIZES]}
    for name, r in out.items():
        summary[name] = {"overall": dict(r["overall"]), "median_ms": round(float(np.median(r["ms"])), 1),
                         "per_case": {c: dict(v) for c, v in r["per_case"].items()}}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

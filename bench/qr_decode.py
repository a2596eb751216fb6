"""Benchmark: our QR decoder (edge.devices.qr.decode_image) against zxing-cpp alone, pyzbar alone and both together.

Renders a varied synthetic photo set with exact truth (tests/support/qrgen.py: clean, rotation, perspective, blur,
noise, glare, low contrast, shadow, inverted, small, curved, several codes, long EG1 codes; 640×480 to
1280×720, grey or colour, JPEG), runs every method on the same photos in the same run, and prints a
table, then one JSON object as the last line: per method the share of codes read, of photos read
completely, wrong texts, median / p95 milliseconds per photo, and the share per category.

    .venv/bin/python -m bench.qr_decode              # 25 photos per category (325), seed 2026
    .venv/bin/python -m bench.qr_decode --n 8 --seed 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import cv2
import numpy as np
import zxingcpp
from pyzbar import pyzbar

from edge.devices.qr import decode_image
from tests.support import qrgen


def zxing_alone(image: np.ndarray) -> set[str]:
    # zxing-cpp's defaults (try rotate, downscale, invert), QR only, as a user of the library would call it.
    return {b.text for b in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)}


def pyzbar_alone(image: np.ndarray) -> set[str]:
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return {s.data.decode("utf-8", "replace") for s in pyzbar.decode(gray, symbols=[pyzbar.ZBarSymbol.QRCODE])}


def union(image: np.ndarray) -> set[str]:
    return zxing_alone(image) | pyzbar_alone(image)


def ours(image: np.ndarray) -> set[str]:
    return set(decode_image(image))


METHODS = {"zxing-cpp": zxing_alone, "pyzbar": pyzbar_alone, "union": union, "ours": ours}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=25, help="photos per category")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    started = time.perf_counter()
    photos = qrgen.qr_set(args.n, seed=args.seed)
    render_s = time.perf_counter() - started
    for method in METHODS.values():  # warm up (library loading, first allocations)
        method(photos[0].image)

    stats = {name: {"ms": [], "read": 0, "complete": 0, "wrong": 0, "per_category": {}} for name in METHODS}
    codes_total = sum(len(p.texts) for p in photos)
    per_category_total: dict[str, int] = {}
    for photo in photos:
        truth = set(photo.texts)
        per_category_total[photo.category] = per_category_total.get(photo.category, 0) + len(truth)
        for name, method in METHODS.items():
            t0 = time.perf_counter()
            found = method(photo.image)
            ms = (time.perf_counter() - t0) * 1000
            s = stats[name]
            s["ms"].append(ms)
            s["read"] += len(found & truth)
            s["complete"] += truth <= found
            s["wrong"] += len(found - truth)
            s["per_category"][photo.category] = s["per_category"].get(photo.category, 0) + len(found & truth)

    report = {
        "benchmark": "qr_decode",
        "photos": len(photos),
        "codes": codes_total,
        "seed": args.seed,
        "per_category_photos": args.n,
        "render_s": round(render_s, 1),
        "methods": {},
    }
    print(f"{len(photos)} photos, {codes_total} codes, seed {args.seed} (rendered in {render_s:.1f} s)")
    header = f"{'category':14s}" + "".join(f"{n:>11s}" for n in METHODS)
    print(header)
    for category in qrgen.CATEGORIES:
        total = per_category_total[category]
        rates = (stats[n]["per_category"].get(category, 0) / total for n in METHODS)
        print(f"{category:14s}" + "".join(f"{r:11.3f}" for r in rates))
    print(f"{'all codes':14s}" + "".join(f"{stats[n]['read'] / codes_total:11.3f}" for n in METHODS))
    for name in METHODS:
        s = stats[name]
        ms = sorted(s["ms"])
        entry = {
            "code_rate": round(s["read"] / codes_total, 4),
            "photo_rate": round(s["complete"] / len(photos), 4),
            "wrong": s["wrong"],
            "median_ms": round(statistics.median(ms), 2),
            "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 2),
            "per_category": {c: round(s["per_category"].get(c, 0) / per_category_total[c], 3)
                             for c in qrgen.CATEGORIES},
        }
        report["methods"][name] = entry
        print(f"{name:10s} codes {entry['code_rate']:.3f}  photos {entry['photo_rate']:.3f}  wrong {entry['wrong']}"
              f"  median {entry['median_ms']:.2f} ms  p95 {entry['p95_ms']:.2f} ms")
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()

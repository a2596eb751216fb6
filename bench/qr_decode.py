"""Benchmark: our QR decoder (edge.devices.qr.decode_image) against zxing-cpp alone, pyzbar alone and their union.

Every method runs on the same photos in the same run, and every figure is given per category:

* the project's generated photos (tests/support/qrgen.py: clean, rotation, perspective, blur, noise, glare,
  low contrast, shadow, inverted, small, curved, several codes, long EG1 codes, and for issue 17 cylinder-
  wrapped, steep, GS1 and dense codes; 640×480 to 1280×720, grey or colour, JPEG) in two splits: ``tune``
  (the photos the passes were chosen on) and ``held_out`` (seeds never looked at while tuning);
* optionally a folder of real photos (``--photos DIR``): every ``*.jpg``/``*.png``/``*.jpeg`` with a
  ``.txt`` of the same name beside it holding the expected text (zxing's blackbox test layout; several
  codes: one text per line in a ``.txt`` named ``*.multi.txt``); the category is the photo's sub-folder.

Scoring: a code counts as read when the method returns its exact text. pyzbar alone is called as a user
of pyzbar would call it (``pyzbar.decode``, UTF-8), so a GS1 code it returns as the raw element string does
not count — the truth is the "(01)…" text. The table gives the share of codes read per category and
method, and decode_image's median / p95 ms; the last line is one JSON object with everything (per method:
share of codes, of photos read completely, wrong texts, median / p95 ms, per category; and ``ours_ge_union``,
whether decode_image read at least every code the union read, per category).

    .venv/bin/python -m bench.qr_decode                     # 25 photos per category and split
    .venv/bin/python -m bench.qr_decode --n 8 --photos ~/qr-photos
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import zxingcpp
from pyzbar import pyzbar

from edge.devices.qr import decode_image
from tests.support import qrgen

HELD_OUT_SEED = 4_711  # the held-out split's base seed; never used while choosing the passes


def zxing_alone(image: np.ndarray) -> set[str]:
    # zxing-cpp's defaults (try rotate, downscale, invert, HRI text), QR only, as a user of the library would call it.
    return {b.text for b in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)}


def pyzbar_alone(image: np.ndarray) -> set[str]:
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return {s.data.decode("utf-8", "replace") for s in pyzbar.decode(gray, symbols=[pyzbar.ZBarSymbol.QRCODE])}


def ours(image: np.ndarray) -> set[str]:
    return set(decode_image(image))


METHODS = ("zxing-cpp", "pyzbar", "union", "ours")


def real_photos(folder: Path) -> list[qrgen.QrPhoto]:
    photos = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")):
        single, multi = path.with_suffix(".txt"), path.with_suffix(".multi.txt")
        if single.exists():
            texts = [single.read_text(encoding="utf-8").rstrip("\r\n")]
        elif multi.exists():
            texts = [line for line in multi.read_text(encoding="utf-8").splitlines() if line]
        else:
            continue
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            continue
        category = "real/" + (path.parent.relative_to(folder).as_posix() if path.parent != folder else "photos")
        photos.append(qrgen.QrPhoto(category, 0, image, texts))
    return photos


def run(photos: list[qrgen.QrPhoto]) -> dict:
    """Every method on every photo; per category and overall figures."""
    per = {m: {"ms": {}, "read": {}, "complete": 0, "wrong": 0} for m in METHODS}
    totals: dict[str, int] = {}
    for photo in photos:
        truth = set(photo.texts)
        totals[photo.category] = totals.get(photo.category, 0) + len(truth)
        found = {}
        for name, method in (("zxing-cpp", zxing_alone), ("pyzbar", pyzbar_alone), ("ours", ours)):
            t0 = time.perf_counter()
            found[name] = method(photo.image)
            per[name]["ms"].setdefault(photo.category, []).append((time.perf_counter() - t0) * 1000)
        found["union"] = found["zxing-cpp"] | found["pyzbar"]
        per["union"]["ms"].setdefault(photo.category, []).append(
            per["zxing-cpp"]["ms"][photo.category][-1] + per["pyzbar"]["ms"][photo.category][-1])
        for name in METHODS:
            s = per[name]
            s["read"][photo.category] = s["read"].get(photo.category, 0) + len(found[name] & truth)
            s["complete"] += truth <= found[name]
            s["wrong"] += len(found[name] - truth)
    codes = sum(totals.values())
    result = {"photos": len(photos), "codes": codes, "categories": {c: {"codes": n} for c, n in totals.items()},
              "methods": {}}
    for name in METHODS:
        s = per[name]
        ms_all = sorted(x for v in s["ms"].values() for x in v)
        result["methods"][name] = {
            "code_rate": round(sum(s["read"].values()) / codes, 4),
            "photo_rate": round(s["complete"] / len(photos), 4),
            "wrong": s["wrong"],
            "median_ms": round(statistics.median(ms_all), 2),
            "p95_ms": round(_p95(ms_all), 2),
            "per_category": {c: {"rate": round(s["read"].get(c, 0) / totals[c], 3), "read": s["read"].get(c, 0),
                                 "median_ms": round(statistics.median(s["ms"][c]), 1),
                                 "p95_ms": round(_p95(sorted(s["ms"][c])), 1)} for c in totals},
        }
    result["ours_ge_union"] = {c: per["ours"]["read"].get(c, 0) >= per["union"]["read"].get(c, 0) for c in totals}
    return result


def _p95(ms: list[float]) -> float:
    return ms[int(0.95 * (len(ms) - 1))] if ms else 0.0


def show(title: str, result: dict) -> None:
    print(f"\n{title}: {result['photos']} photos, {result['codes']} codes")
    print(f"{'category':16s}{'codes':>6s}" + "".join(f"{n:>10s}" for n in METHODS)
          + f"{'ours med':>10s}{'ours p95':>10s}  ≥union")
    ours_m = result["methods"]["ours"]
    for category in result["categories"]:
        row = "".join(f"{result['methods'][n]['per_category'][category]['rate']:10.3f}" for n in METHODS)
        pc = ours_m["per_category"][category]
        ok = "yes" if result["ours_ge_union"][category] else "NO"
        codes = result["categories"][category]["codes"]
        print(f"{category:16s}{codes:6d}{row}{pc['median_ms']:10.1f}{pc['p95_ms']:10.1f}  {ok}")
    rates = "".join(f"{result['methods'][n]['code_rate']:10.3f}" for n in METHODS)
    print(f"{'all codes':16s}{result['codes']:6d}{rates}")
    for name in METHODS:
        m = result["methods"][name]
        print(f"  {name:10s} codes {m['code_rate']:.3f}  photos {m['photo_rate']:.3f}  wrong {m['wrong']}"
              f"  median {m['median_ms']:.2f} ms  p95 {m['p95_ms']:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=25, help="generated photos per category and split")
    parser.add_argument("--seed", type=int, default=2026, help="the tuning split's base seed")
    parser.add_argument("--photos", type=Path, help="a folder of real photos with .txt truth beside them")
    args = parser.parse_args()

    started = time.perf_counter()
    sets = {"tune": qrgen.qr_set(args.n, seed=args.seed, split="tune"),
            "held_out": qrgen.qr_set(args.n, seed=HELD_OUT_SEED, split="held_out")}
    if args.photos:
        sets["real"] = real_photos(args.photos)
    render_s = time.perf_counter() - started
    for method in (zxing_alone, pyzbar_alone, ours):  # warm up (library loading, first allocations)
        method(sets["tune"][0].image)

    report = {"benchmark": "qr_decode", "seed": args.seed, "held_out_seed": HELD_OUT_SEED,
              "per_category_photos": args.n, "render_s": round(render_s, 1), "sets": {}}
    for name, photos in sets.items():
        if not photos:
            continue
        report["sets"][name] = run(photos)
        show(name, report["sets"][name])
    every = all(ok for r in report["sets"].values() for ok in r["ours_ge_union"].values())
    report["ours_ge_union_everywhere"] = every
    print(f"\ndecode_image ≥ union on every category: {'yes' if every else 'NO'}")
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()

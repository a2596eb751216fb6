"""Benchmark: two page finders photo by photo — a change to docfind.py against the one it changes.

The finder's figures move a photo at a time, so a change is judged by which photos it moved, not by a mean:
this runs ``--base`` (a docfind.py, e.g. main's copied to /tmp) and the working tree's finder (or ``--new``) on
the same photos, in one process, alternating photo by photo (so a loaded machine slows both alike), and prints

* every photo whose IoU moved by more than ``--eps`` or whose verdict changed (right / asked but right /
  asked and wrong / confidently wrong / no page), one line each, ``base -> new``;
* per set: mean IoU, confidently wrong, asked but right, no page, median / p95 ms, base and new;
* the last line: one JSON object with all of it (and ``--out`` also writes every photo's row as JSON lines).

A set is ``SPLIT:CONDITION:WxH:SEEDS`` (``tune:motion:1920x1080:1000-1059``; SEEDS ``a-b`` or ``a,b,c``;
CONDITION any of ``imagegen.CONDITIONS`` or ``all``), or ``real`` (bench/real_photos: the 15 real photos).
Never put ``heldout`` sets in a tuning loop: the held-out split is measured once, at the end.

    cp edge/devices/scanner/docfind.py /tmp/docfind_main.py        # before changing it
    .venv/bin/python -m bench.finder_compare --base /tmp/docfind_main.py tune:motion:1920x1080:1000-1039 real
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from tests.support import imagegen

RIGHT = 0.9  # IoU at or above which an answer is right (as bench.document)


def _module(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _seeds(text: str) -> list[int]:
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in text.split(",")]


def photos(spec: str, cache: Path | None, real_cache: Path | None = None):
    """(label, image, truth corners or None) for one set."""
    if spec == "real":
        from bench import real_photos

        for set_name, name, image, corners in real_photos.photos(real_cache):
            yield f"real/{set_name}/{name}", image, corners
        return
    split, condition, size, seeds = spec.split(":")
    w, h = (int(v) for v in size.lower().split("x"))
    conditions = imagegen.CONDITIONS if condition == "all" else (condition,)
    for cond in conditions:
        for seed in _seeds(seeds):
            f = None
            if cache is not None:
                f = cache / f"{split}-{cond}-{seed}-{w}x{h}.npz"
                if f.exists():
                    z = np.load(f)
                    yield f"{split}:{cond}/{seed}@{w}x{h}", z["image"], (z["corners"] if z["corners"].size else None)
                    continue
            photo = imagegen.desk_photo(seed, cond, (w, h), split)
            if f is not None:
                cache.mkdir(parents=True, exist_ok=True)
                np.savez(f, image=photo.image, corners=photo.corners if photo.corners is not None else np.zeros(0))
            yield f"{split}:{cond}/{seed}@{w}x{h}", photo.image, photo.corners


def verdict(iou: float, score: float, found: bool, confident: float) -> str:
    if not found:
        return "no page"
    if score >= confident:
        return "right" if iou >= RIGHT else "CONFIDENTLY WRONG"
    return "asked but right" if iou >= RIGHT else "asked and wrong"


def _run(finder, image, truth):
    t = time.perf_counter()
    found = finder.detect(image)
    ms = (time.perf_counter() - t) * 1000
    corners, score = (None, 0.0) if found is None else (found.corners, float(found.score))
    iou = imagegen.quad_iou(corners, truth) if truth is not None else (1.0 if found is None else 0.0)
    return {"iou": round(iou, 4), "score": round(score, 3), "found": found is not None, "ms": round(ms, 1),
            "verdict": verdict(iou, score, found is not None, finder.CONFIDENT)}


def _summary(rows, side):
    ious = [r[side]["iou"] for r in rows]
    ms = sorted(r[side]["ms"] for r in rows)
    verdicts = [r[side]["verdict"] for r in rows]
    return {"mean_iou": round(statistics.fmean(ious), 4), "confidently_wrong": verdicts.count("CONFIDENTLY WRONG"),
            "asked_but_right": verdicts.count("asked but right"), "asked_and_wrong": verdicts.count("asked and wrong"),
            "no_page": verdicts.count("no page"), "median_ms": round(statistics.median(ms), 1),
            "p95_ms": ms[min(len(ms) - 1, int(0.95 * len(ms)))]}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="+", help="SPLIT:CONDITION:WxH:SEEDS or real")
    ap.add_argument("--base", required=True, help="the docfind.py compared against (e.g. main's, copied)")
    ap.add_argument("--new", default=None, help="the changed docfind.py (default: the working tree's)")
    ap.add_argument("--cache", type=Path, default=None, help="folder to keep rendered photos between runs")
    ap.add_argument("--real-cache", type=Path, default=None, help="where the real photos are fetched once "
                    "(default bench.real_photos.CACHE, var/cache/real-photos)")
    ap.add_argument("--eps", type=float, default=0.005, help="IoU change below which a photo has not moved")
    ap.add_argument("--out", type=Path, default=None, help="also write every photo's row here (JSON lines)")
    args = ap.parse_args(argv)
    base = _module(args.base, "docfind_base")
    if args.new:
        new = _module(args.new, "docfind_new")
    else:
        from edge.devices.scanner import docfind as new
    report, out = {}, (args.out.open("w") if args.out else None)
    for spec in args.sets:
        rows = []
        for i, (label, image, truth) in enumerate(photos(spec, args.cache, args.real_cache)):
            pair = [("base", base), ("new", new)] if i % 2 == 0 else [("new", new), ("base", base)]
            row = {"photo": label, **{side: _run(finder, image, truth) for side, finder in pair}}
            rows.append(row)
            b, n = row["base"], row["new"]
            if abs(b["iou"] - n["iou"]) > args.eps or b["verdict"] != n["verdict"]:
                print(f"MOVED {label}: {b['iou']:.3f} at {b['score']:.2f} ({b['verdict']}) -> "
                      f"{n['iou']:.3f} at {n['score']:.2f} ({n['verdict']})", flush=True)
            if out:
                out.write(json.dumps(row) + "\n")
                out.flush()
        report[spec] = {"photos": len(rows), "moved": sum(abs(r["base"]["iou"] - r["new"]["iou"]) > args.eps
                                                          or r["base"]["verdict"] != r["new"]["verdict"] for r in rows),
                        "base": _summary(rows, "base"), "new": _summary(rows, "new")}
        s = report[spec]
        print(f"{spec}: {s['photos']} photos, {s['moved']} moved; mean IoU {s['base']['mean_iou']} -> "
              f"{s['new']['mean_iou']}; confidently wrong {s['base']['confidently_wrong']} -> "
              f"{s['new']['confidently_wrong']}; asked but right {s['base']['asked_but_right']} -> "
              f"{s['new']['asked_but_right']}; no page {s['base']['no_page']} -> {s['new']['no_page']}; "
              f"median ms {s['base']['median_ms']} -> {s['new']['median_ms']}", flush=True)
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()

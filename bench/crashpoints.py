"""The long crash-point run: each multi-step write of the van, with more pages (so more steps), crashed at
every step, several times over (each round a new van: new draft ids, new message ids, new request numbers).

The test suite runs the short version (tests/store/test_crash_points.py: 1–3 pages, one round). Figures:
crash points exercised per operation, violations (must be 0), seconds, and the cost of a crash point
(copy of the van, forked child, restart, checks, retry) against one complete run of the same operation
with its checks (the baseline, measured in the same run). Last line printed:
one JSON object. Exits 1 if any violation is found, and prints the first ones.

    .venv/bin/python -m bench.crashpoints [--rounds 3] [--only submit,retention]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from tests.support import crashpoints
from tests.support.crash_scenarios import LARGE


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.crashpoints", description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated operations (default: all)")
    a = ap.parse_args(argv)
    names = [n for n in a.only.split(",") if n] or sorted(LARGE)
    figures, violations = {}, []
    for name in names:
        points = steps = found = 0
        seconds = complete = 0.0
        for _ in range(a.rounds):
            with tempfile.TemporaryDirectory(prefix=f"crash-{name}-") as tmp:
                report = crashpoints.exercise(LARGE[name], Path(tmp), key=f"large:{name}")
            points += report.points
            steps = max(steps, len(report.steps))
            found += len(report.violations)
            seconds += report.seconds
            complete += report.complete_seconds
            violations += [f"{name}: {v}" for v in report.violations]
        figures[name] = {"crash_points": points, "steps_per_run": steps, "violations": found,
                         "seconds": round(seconds, 1),
                         "ms_per_crash_point": round(1000 * seconds / max(points, 1), 1),
                         "ms_complete_run": round(1000 * complete / a.rounds, 1),
                         "crash_point_vs_complete_run":
                             round(seconds / max(points, 1) / max(complete / a.rounds, 1e-9), 2)}
        print(json.dumps({name: figures[name]}), flush=True)
    for v in violations[:30]:
        print("violation:", v, file=sys.stderr)
    total = {"rounds": a.rounds, "operations": figures,
             "crash_points": sum(f["crash_points"] for f in figures.values()),
             "violations": len(violations), "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    print(json.dumps(total))
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())

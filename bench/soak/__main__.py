"""``python -m bench.soak``: run the field soak and write its report (see docs/soak.md)."""

from __future__ import annotations

import argparse
import json
import signal
import sys

from bench.soak.run import Params, SoakUnavailable, run_soak


def main(argv: list[str] | None = None) -> int:
    d = Params()
    ap = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=d.minutes, help="wall time of the scripted day")
    ap.add_argument("--seed", type=int, default=d.seed)
    ap.add_argument("--citizens", type=int, default=d.citizens)
    ap.add_argument("--outages", type=int, default=d.outages, help="short link cuts (besides the long one)")
    ap.add_argument("--long-outage", type=float, default=None, metavar="S",
                    help="the basement car park, seconds (default: a tenth of the day; 0 for none)")
    ap.add_argument("--power-cuts", type=int, default=d.power_cuts)
    ap.add_argument("--broker-restarts", type=int, default=d.broker_restarts)
    ap.add_argument("--hub-restarts", type=int, default=d.hub_restarts)
    ap.add_argument("--up-mbit", type=float, default=d.up_mbit)
    ap.add_argument("--down-mbit", type=float, default=d.down_mbit)
    ap.add_argument("--rtt-ms", type=float, default=d.rtt_ms)
    ap.add_argument("--jitter-ms", type=float, default=d.jitter_ms)
    ap.add_argument("--loss", type=float, default=d.loss)
    ap.add_argument("--drain-timeout", type=float, default=d.drain_timeout_s, metavar="S")
    ap.add_argument("--out", default="", help="report folder (default var/soak/<timestamp>/)")
    ap.add_argument("--no-report", action="store_true", help="results.json only, no Markdown or plots")
    a = ap.parse_args(argv)
    params = Params(minutes=a.minutes, seed=a.seed, citizens=a.citizens, outages=a.outages,
                    long_outage_s=a.long_outage, power_cuts=a.power_cuts, broker_restarts=a.broker_restarts,
                    hub_restarts=a.hub_restarts, up_mbit=a.up_mbit, down_mbit=a.down_mbit, rtt_ms=a.rtt_ms,
                    jitter_ms=a.jitter_ms, loss=a.loss, drain_timeout_s=a.drain_timeout, out=a.out)
    try:
        results = run_soak(params)
    except SoakUnavailable as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 2
    if not a.no_report:
        from bench.soak.report import write_report

        write_report(results)
    summary = {k: results[k] for k in ("ok", "lost", "duplicated", "outbox_pending", "audit", "drained", "out")}
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    for problem in results["problems"][:50]:
        print("problem:", problem, file=sys.stderr)
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    # Stopped from outside (SIGTERM, or SIGINT even when started in the background): clean up the
    # namespaces and the processes in them on the way out.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sys.exit(main())

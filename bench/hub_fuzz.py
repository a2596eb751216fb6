"""Benchmark/soak: property-based fuzzing of the hub boundary, longer than the run in ``make test`` (issue #15).

The same rig as tests/governorate/test_hub_boundary.py (tests/support/hub_rig.py): the real
``governorate ingest`` process on a real Mosquitto; each example is one round in which two hostile vans
publish a batch of generated messages (every uplink stream and kind, values at and past each limit,
broken bodies, envelopes and payloads, replays; tests/support/hub_strategies.py) around a good van's
request. After each round: the ingest is alive, the good van's messages are stored and acked, nothing
the schema or admission should refuse is stored or acked. Every ``--pages-every`` rounds and at the end,
every staff page must answer 200 within 2 s. A dead ingest is counted (``ingest_restarts``, must be 0)
and started again, so one crash does not hide the next.

Prints one JSON object: examples, messages per stream/kind and per fault class, refused by reason,
stored, problems (must be 0), ingest restarts, the slowest staff page, seconds.

    python -m bench.hub_fuzz [--examples 300] [--pages-every 50] [--seed N] [--postgresql]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings

from tests.support import gov_postgres
from tests.support import hub_strategies as hs
from tests.support.hub_rig import HubFuzzRig
from tests.support.mqtt_broker import Broker


def run(examples: int, pages_every: int, seed_value: int | None, postgresql: bool = False) -> dict:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hub-fuzz-") as tmp:
        folder = Path(tmp)
        broker = Broker(folder / "broker").start()
        cluster = gov_postgres.Cluster().start() if postgresql else None
        db = cluster.create_database("fuzz") if cluster else None
        rig = HubFuzzRig(folder / "hub", broker.port, good_batch=50, db=db)
        (folder / "hub").mkdir()
        rig.start()
        problems: list[str] = []
        rounds = 0
        try:
            @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
                      suppress_health_check=list(HealthCheck))
            @given(first=hs.batches("V007", max_items=8), second=hs.batches("V009", max_items=8))
            def one_round(first, second):
                nonlocal rounds
                rounds += 1
                found = rig.round([first, second])
                if found:
                    problems.extend(f"round {rounds}: {p}" for p in found)
                    print(f"round {rounds}: {found}", file=sys.stderr)
                    for sent in first + second:
                        print(f"  {sent!r}", file=sys.stderr)
                rig.restart_if_dead()
                if pages_every and rounds % pages_every == 0:
                    problems.extend(f"pages after round {rounds}: {p}" for p in rig.check_pages())

            if seed_value is not None:
                one_round = seed(seed_value)(one_round)
            one_round()
            problems.extend(f"pages at the end: {p}" for p in rig.check_pages())
            alive = rig.alive()
        finally:
            rig.stop()
            broker.stop()
            if cluster:
                cluster.stop()
    figures = {"bench": "hub_fuzz", "database": "postgresql" if postgresql else "sqlite", "examples": rounds,
               **rig.figures(), "ingest_alive_at_end": alive,
               "problems": len(problems), "problem_samples": problems[:10], "page_checks": rig.page_checks,
               "seconds": round(time.monotonic() - started, 1)}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300, help="rounds (hypothesis examples) to run")
    parser.add_argument("--pages-every", type=int, default=50, help="check the staff pages every N rounds")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--postgresql", action="store_true", help="the hub on a throw-away PostgreSQL cluster")
    args = parser.parse_args()
    figures = run(args.examples, args.pages_every, args.seed, args.postgresql)
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    sys.exit(1 if figures["problems"] or figures["ingest_restarts"] else 0)


if __name__ == "__main__":
    main()

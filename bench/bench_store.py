"""Benchmark: how fast the van database commits business transactions, against plain single-row commits.

Prints one JSON object. Baselines are measured in the same run: a one-row INSERT per commit with
synchronous=FULL and =NORMAL (WAL), so the figures for a full request submission (citizen + request +
history + outbox + audit + audit outbox rows, one FULL commit) and a ticket issue can be read as ratios.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from edge.core import catalogue as catalogue_mod
from edge.core import requests as rq
from edge.core.citizens import Citizen
from edge.core.national_id import parse
from edge.store import outbox, tickets
from edge.store import requests as store_requests
from edge.store.db import open_db, transaction
from edge.store.migrations import migrate

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000


def _rate(fn, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - start)


def main() -> None:
    cat = catalogue_mod.load_default()
    service = cat.services[0]
    citizen = Citizen(parse("29001010112355"), "منى أحمد حسن", "01012345678")
    base = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for mode in ("FULL", "NORMAL"):
            db = open_db(Path(tmp) / f"plain-{mode}.db", durable=mode == "FULL")
            db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
            results[f"plain_commit_{mode.lower()}_per_s"] = _rate(
                lambda i, db=db: db.execute("INSERT INTO t (body) VALUES (?)", ["x" * 600]), N)

        db = open_db(Path(tmp) / "van.db")
        migrate(db)
        results["request_submit_per_s"] = _rate(lambda i: store_requests.submit(
            db, van_id="V007", catalogue=cat, service_code=service.code, citizen=citizen,
            payment=rq.Payment("cash", service.fee_piastres), operator="operator:1",
            now=base + timedelta(days=i // 9000)), N)
        category = cat.categories[0].code
        results["ticket_issue_per_s"] = _rate(
            lambda i: tickets.issue(db, cat, category, now=base + timedelta(days=1 + i // 900)), N)

        def batch(i):
            with transaction(db):
                for _ in range(100):
                    outbox.enqueue(db, "tel", "t", {"x": "y" * 500})

        results["outbox_enqueue_batched_100_per_s"] = _rate(batch, max(N // 100, 5)) * 100
        pending = outbox.pending(db, limit=1_000_000)
        start = time.perf_counter()
        outbox.mark_delivered(db, [r.msg_id for r in pending])
        results["mark_delivered_per_s"] = len(pending) / (time.perf_counter() - start)

    full = results["plain_commit_full_per_s"]
    print(json.dumps({
        "benchmark": "store",
        "n": N,
        **{k: round(v, 1) for k, v in results.items()},
        "ratio_request_submit_vs_plain_full": round(results["request_submit_per_s"] / full, 3),
        "ratio_ticket_issue_vs_plain_full": round(results["ticket_issue_per_s"] / full, 3),
        "ratio_batched_enqueue_vs_plain_full": round(results["outbox_enqueue_batched_100_per_s"] / full, 2),
    }, indent=2))


if __name__ == "__main__":
    main()

"""Benchmark (a long fuzz): hostile downlinks of every kind to a real van over a real Mosquitto, for many examples.

The same strategies, rig and checks as tests/sync/test_downlink_fuzz.py (tests/support/downlink_strategies.py,
tests/support/downlink_rig.py), run for longer: the van's ``edge sync`` process must never exit, every downlink
that decodes must be recorded once (rejected ones with a reason) and answered to the hub once, and the outbox
must keep draining while the van queues uplink rows. Prints one JSON object: messages sent per kind and per
fault class, refused / applied / rejected, replays, duplicates recorded (0), agent restarts (0), the outbox
drained (true), seconds; and, when a check failed, the failure. Exits 1 on a failure.

    python -m bench.downlink_fuzz [--examples 300] [--seed N] [--keep]     # 300: ≈ 1.5 min
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.support import downlink_strategies as ds
from tests.support.downlink_rig import FuzzRig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300, help="batches of about ten downlinks each")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed (random by default)")
    parser.add_argument("--keep", action="store_true", help="keep the van's folder (database, sync log)")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="downlink-fuzz-"))
    started = time.monotonic()
    rig = FuzzRig(folder)
    failure = None

    @settings(max_examples=args.examples, deadline=None, database=None, print_blob=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(st.data())
    def batch(data):
        rig.run_batch(data.draw(ds.batches(rig.ctx), label="batch"))

    if args.seed is not None:
        batch = seed(args.seed)(batch)
    try:
        batch()
    except Exception as exc:  # noqa: BLE001 - reported with the figures
        failure = f"{type(exc).__name__}: {exc}"
    finally:
        figures = rig.figures()
        rig.close()
    figures["total_seconds"] = round(time.monotonic() - started, 1)
    figures["folder"] = str(folder) if args.keep or failure else None
    if failure:
        figures["failure"] = failure[:4000]
    elif not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    ok = not failure and figures["agent_restarts"] == 0 and figures["outbox_drained"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

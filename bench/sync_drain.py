"""Benchmark: the van's full store-and-forward path against raw paho publishing, on a local Mosquitto.

(a) baseline: raw paho-mqtt QoS 1 publish of N × 600-byte messages with a 1000-message window, timed
    until the last PUBACK;
(b) the van's path for N outbox rows: committed → published by the sync agent → stored by the hub →
    app-level ack → marked delivered.
Prints JSON; the last line is one JSON object with raw_msgs_per_s, drain_msgs_per_s, ratio (= b / a),
p50_ms and p99_ms (commit → delivered, per row).

    python bench/sync_drain.py [--rows 20000] [--broker-port PORT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from mqtt_broker import Broker  # noqa: E402
from sync_harness import (  # noqa: E402
    fill_raw,
    kill9,
    pending,
    spawn,
    start_hub,
    start_van,
    van_settings,
    wait_until,
)

from edge.store.db import open_db  # noqa: E402


def raw_publish_rate(port: int, n: int, size: int = 600, window: int = 1000) -> float:
    done = threading.Event()
    acked = 0

    def on_publish(client, userdata, mid, reason_code, properties):
        nonlocal acked
        acked += 1
        if acked == n:
            done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-raw", protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(window)
    client.max_queued_messages_set(0)
    client.on_publish = on_publish
    client.connect("127.0.0.1", port)
    client.loop_start()
    payload = os.urandom(size)
    start = time.perf_counter()
    for i in range(n):
        client.publish(f"bench/raw/{i % 10}", payload, qos=1)
    done.wait(300)
    elapsed = time.perf_counter() - start
    client.disconnect()
    client.loop_stop()
    return n / elapsed


def drain(port: int, rows: int, folder: Path) -> dict:
    settings = van_settings(folder / "van", f"mqtt://127.0.0.1:{port}")
    fill_raw(settings, rows)
    db = open_db(settings.db_path)
    body_size = db.execute("SELECT avg(length(body)) FROM outbox").fetchone()[0]
    # The hub runs in its own process, as it does at the governorate: the van's figure is not
    # slowed by sharing an interpreter with it.
    hub = spawn(["governorate.cli", "ingest", "--db", str(folder / "hub.db"), "--broker",
                 f"mqtt://127.0.0.1:{port}"], folder / "hub.log")
    time.sleep(1.5)
    start = time.perf_counter()
    _agent, van = start_van(settings)
    wait_until(lambda: pending(settings) == 0, 600, "the drain", poll=0.02)
    elapsed = time.perf_counter() - start
    van.stop()
    kill9(hub)
    # Latency from commit (created_at) to delivered_at. All rows were committed before the drain
    # started, so this measures queueing in a backlog; the steady-state figure is below.
    lat = []
    for created, delivered in db.execute("SELECT created_at, delivered_at FROM outbox"):
        lat.append((datetime.fromisoformat(delivered) - datetime.fromisoformat(created)).total_seconds() * 1000)
    return {"rate": rows / elapsed, "seconds": elapsed, "body_bytes_avg": round(body_size),
            "backlog_p50_ms": statistics.median(lat)}


def steady_latency(port: int, folder: Path, rows: int = 300, every_s: float = 0.01) -> tuple[float, float]:
    """Commit → delivered latency while rows are committed one by one at a steady pace (no backlog)."""
    settings = van_settings(folder / "van2", f"mqtt://127.0.0.1:{port}", van="V008")
    fill_raw(settings, 0)
    hub, hub_runner = start_hub(folder / "hub2.db", port)
    _agent, van = start_van(settings)
    wait_until(lambda: hub.store.van("V008") is not None, 20, "the van to connect")
    from edge.store import outbox

    db = open_db(settings.db_path)
    for _ in range(rows):
        outbox.enqueue(db, "tx", "ticket.issued", _ticket_body())
        time.sleep(every_s)
    wait_until(lambda: pending(settings) == 0, 60, "the steady drain")
    van.stop()
    hub_runner.stop()
    lat = sorted((datetime.fromisoformat(d) - datetime.fromisoformat(c)).total_seconds() * 1000
                 for c, d in db.execute("SELECT created_at, delivered_at FROM outbox"))
    return statistics.median(lat), lat[int(len(lat) * 0.99) - 1]


def _ticket_body() -> dict:
    return {"number": "A001", "series": "A", "seq": 1, "category": "B" * 32, "priority": "none", "state": "waiting",
            "issued_at": "2026-11-21T08:00:00+00:00", "called_at": None, "counter": None, "recalls": 0,
            "started_at": None, "finished_at": None, "transferred_to": None, "transferred_from": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--broker-port", type=int, default=None, help="use a running broker instead of starting one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        broker = None
        port = args.broker_port
        if port is None:
            broker = Broker(folder / "broker").start()
            port = broker.port
        try:
            raw = raw_publish_rate(port, args.rows)
            full = drain(port, args.rows, folder)
            p50, p99 = steady_latency(port, folder)
        finally:
            if broker:
                broker.stop()
    result = {
        "benchmark": "sync_drain",
        "rows": args.rows,
        "message_body_bytes": full["body_bytes_avg"],
        "raw_msgs_per_s": round(raw, 1),
        "drain_msgs_per_s": round(full["rate"], 1),
        "ratio": round(full["rate"] / raw, 3),
        "drain_seconds": round(full["seconds"], 2),
        "backlog_p50_ms": round(full["backlog_p50_ms"], 1),
        "p50_ms": round(p50, 1),
        "p99_ms": round(p99, 1),
        "lte_emulation": "not run: this kernel has no netem (see ../shared/FIELD-NOTES.md); issue 10 builds the "
                         "userspace link emulator",
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

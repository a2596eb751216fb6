"""Benchmark: how many van messages per second the governorate hub stores, with one and with two ingest workers.

A simulated fleet of 500 vans, time-compressed: every van publishes a telemetry snapshot every 10 s
(compressed ×--compress, so 500 × compress / 10 snapshots a second) while a burst of transactions
(request.submitted and queue-ticket events, each a valid envelope on its own van's topic) is published as
fast as one paho client can. The hub — `governorate ingest` processes on the shared subscription, all
writing one SQLite file (WAL, synchronous=FULL, one commit per batch) — takes everything into its
in-memory inbox, so the rate at which rows appear in its database is its ingest rate, not the publisher's.

The same runs go to PostgreSQL (a throw-away cluster, fsync on) when its server binaries and psycopg
are installed. Prints JSON lines; the last one has sqlite_tx_per_s (one worker),
sqlite_two_workers_tx_per_s, two_workers_ratio (SQLite), postgresql_tx_per_s (null without
PostgreSQL), postgresql_two_workers_tx_per_s, postgresql_two_workers_ratio, tel_per_s and
publish_msgs_per_s (the publisher in the same run, for scale).

On a shared machine the rates move with the load; the CPU time does much less. Each run also reports
hub_cpu_s (the ingest workers' CPU from the first message to the last row, start-up left out),
db_server_cpu_s (PostgreSQL's processes over the same time, the bench's own row counting included) and
tx_per_cpu_s = transactions / (hub_cpu_s + db_server_cpu_s); the last line has them as *_tx_per_cpu_s.

    python -m bench.hub_ingest [--tx 8000] [--no-postgresql] [--vans 500] [--compress 10]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from ulid import ULID

from edge.core import requests as rq
from edge.sync import protocol as p
from tests.support import gov_postgres
from tests.support.mqtt_broker import Broker
from tests.support.sync_harness import kill9, spawn

GOV = "01"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: set[int], children_of: int | None = None) -> float:
    """User + system CPU of ``pids`` and, with ``children_of``, of that process's children (from /proc)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(entry) in pids or (children_of is not None and int(fields[1]) == children_of):
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


def van_ids(n: int) -> list[str]:
    return [f"V{i:03d}" for i in range(1, n + 1)]


def postmaster_pid(cluster: gov_postgres.Cluster) -> int:
    return int((cluster.data / "postmaster.pid").read_text().split()[0])


def tx_messages(vans: list[str], count: int) -> list[tuple[str, bytes]]:
    """``count`` valid tx envelopes spread over the fleet: one request in four, the rest ticket events."""
    now = dt.datetime.now(dt.UTC)
    at = now.isoformat()
    seqs = dict.fromkeys(vans, 0)
    out = []
    for i in range(count):
        van = vans[i % len(vans)]
        seqs[van] += 1
        seq = seqs[van]
        if i % 4 == 0:
            number = str(rq.RequestNumber(rq.van_number(van), now.date(), seq // 4 + 1))
            body = {"catalogue_version": 1, "citizen": {"birth_date": "1990-01-01", "gender": "female",
                    "mobile": "01012345678", "name": "منى أحمد حسن", "national_id": "29001010112355"},
                    "expected_ready_on": "2026-12-21", "fee_piastres": 150000, "number": number,
                    "operator": "operator:3", "payment": {"amount_piastres": 150000, "method": "cash",
                                                          "reference": None},
                    "service_code": "BLD-NEW", "submitted_at": at, "van": van}
            kind = "request.submitted"
        else:
            body = {"number": f"A{seq % 999 + 1:03d}", "series": "A", "seq": seq, "category": "BLD",
                    "priority": "none", "state": "waiting", "issued_at": at, "called_at": None, "counter": None,
                    "recalls": 0, "started_at": None, "finished_at": None, "transferred_to": None,
                    "transferred_from": None}
            kind = "ticket.issued"
        env = p.Envelope(str(ULID()), van, "tx", seq, p.SCHEMA_VERSION, at, kind, body)
        out.append((p.up_topic(GOV, van, "tx"), p.encode(env)))
    return out


def tel_message(van: str, seq: int) -> tuple[str, bytes]:
    at = dt.datetime.now(dt.UTC).isoformat()
    values = {"outbox_pending": seq % 50, "outbox_oldest_age_s": 12, "gps.lat": 30.05, "gps.lon": 31.23,
              "lte.rsrp_dbm": -97, "device.printer": "ok", "device.camera_front": "ok", "device.scanner": "ok"}
    env = p.Envelope(str(ULID()), van, "tel", seq, p.SCHEMA_VERSION, at, "tel.snapshot", {"at": at, "values": values})
    return p.up_topic(GOV, van, "tel"), p.encode(env)


def publish(port: int, txs: list[tuple[str, bytes]], vans: list[str], tel_per_s: float) -> dict:
    """Publish every tx as fast as the window allows, interleaving telemetry at ``tel_per_s``."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-fleet-{os.getpid()}", protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    acked = [0]
    client.on_publish = lambda c, u, mid, rc, props: acked.__setitem__(0, acked[0] + 1)
    client.connect("127.0.0.1", port)
    client.loop_start()
    start = time.monotonic()
    tel_sent, tel_seq, sent = 0, 0, 0
    for topic, payload in txs:
        # Paced by PUBACKs (a 1000-message window), so telemetry is spread over the whole run.
        while sent - acked[0] >= 1000:
            time.sleep(0.0005)
        client.publish(topic, payload, qos=1)
        sent += 1
        due = int((time.monotonic() - start) * tel_per_s)
        while tel_sent < due:
            tel_seq += 1
            client.publish(*tel_message(vans[tel_sent % len(vans)], tel_seq), qos=1)
            tel_sent += 1
            sent += 1
    deadline = time.monotonic() + 60
    while acked[0] < sent and time.monotonic() < deadline:
        time.sleep(0.01)
    took = time.monotonic() - start
    client.disconnect()
    client.loop_stop()
    return {"published_tx": len(txs), "published_tel": tel_sent, "publish_s": took,
            "publish_msgs_per_s": (len(txs) + tel_sent) / took}


def count_tx(db: Path | str) -> int:
    if isinstance(db, str):  # a PostgreSQL URL
        import psycopg

        try:
            with psycopg.connect(db, autocommit=True) as conn:
                return conn.execute("SELECT count(*) FROM messages WHERE stream = 'tx'").fetchone()[0]
        except psycopg.Error:
            return 0  # the schema is not there yet
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT count(*) FROM messages WHERE stream = 'tx'").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0


def run(workers: int, tx: int, vans: list[str], compress: float, folder: Path, db_url: str | None = None,
        db_server_pid: int | None = None) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    broker = Broker(folder / "broker").start()
    db: Path | str = db_url or folder / "hub.db"
    procs = []
    try:
        for w in range(workers):
            procs.append(spawn(["governorate.cli", "ingest", "--db", str(db), "--governorate", GOV,
                                "--broker", broker.url, "--worker", str(w + 1)], folder / f"hub{w + 1}.log"))
        time.sleep(2.0)  # connect + SUBACK of every worker
        txs = tx_messages(vans, tx)
        tel_rate = len(vans) * compress / 10.0
        samples: list[tuple[float, int]] = []
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                samples.append((time.monotonic(), count_tx(db)))
                time.sleep(0.1)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        hub_pids = {proc.pid for proc in procs}
        server = {db_server_pid} if db_server_pid else set()
        hub_cpu, server_cpu = cpu_seconds(hub_pids), cpu_seconds(server, db_server_pid)
        pub = publish(broker.port, txs, vans, tel_rate)
        deadline = time.monotonic() + 60
        while count_tx(db) < tx and time.monotonic() < deadline:
            time.sleep(0.1)
        hub_cpu, server_cpu = cpu_seconds(hub_pids) - hub_cpu, cpu_seconds(server, db_server_pid) - server_cpu
        stop.set()
        watcher.join()
        stored = count_tx(db)
        # Ingest rate between 10 % and 90 % of the rows: leaves out the start-up and the tail.
        t10 = next(t for t, n in samples if n >= tx * 0.1)
        t90 = next((t for t, n in samples if n >= tx * 0.9), samples[-1][0])
        rate = 0.8 * tx / (t90 - t10) if t90 > t10 else None
        from governorate.store import HubStore

        store = HubStore(db)
        tel_rows = store._read("SELECT count(*) FROM vans WHERE telemetry IS NOT NULL")[0][0]
        store.close()
        return {"workers": workers, "store": "postgresql" if db_url else "sqlite", "tx": tx, "stored_tx": stored,
                "tx_per_s": rate, "hub_cpu_s": round(hub_cpu, 2), "db_server_cpu_s": round(server_cpu, 2),
                "tx_per_cpu_s": round(tx / (hub_cpu + server_cpu)) if hub_cpu + server_cpu else None,
                "tel_per_s": tel_rate, "vans_with_telemetry": tel_rows, **pub}
    finally:
        for proc in procs:
            kill9(proc)
        broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tx", type=int, default=8000)
    parser.add_argument("--vans", type=int, default=500)
    parser.add_argument("--compress", type=float, default=10.0, help="time compression of the 10 s telemetry")
    parser.add_argument("--no-postgresql", action="store_true", help="SQLite only")
    args = parser.parse_args()
    vans = van_ids(args.vans)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            results[f"sqlite{workers}"] = run(workers, args.tx, vans, args.compress, Path(tmp) / f"sqlite{workers}")
            print(json.dumps(results[f"sqlite{workers}"]), flush=True)
        if gov_postgres.available() and not args.no_postgresql:
            cluster = gov_postgres.Cluster().start()
            try:
                for workers in (1, 2):
                    url = cluster.create_database(f"hub{workers}")
                    results[f"pg{workers}"] = run(workers, args.tx, vans, args.compress, Path(tmp) / f"pg{workers}",
                                                  db_url=url, db_server_pid=postmaster_pid(cluster))
                    print(json.dumps(results[f"pg{workers}"]), flush=True)
            finally:
                cluster.stop()

    def rate(key: str) -> int | None:
        value = results.get(key, {}).get("tx_per_s")
        return round(value) if value else None

    def ratio(one: str, two: str) -> float | None:
        return round(rate(two) / rate(one), 2) if rate(one) and rate(two) else None

    def per_cpu(key: str) -> int | None:
        return results.get(key, {}).get("tx_per_cpu_s")

    print(json.dumps({
        "sqlite_tx_per_s": rate("sqlite1"),
        "sqlite_two_workers_tx_per_s": rate("sqlite2"),
        "two_workers_ratio": ratio("sqlite1", "sqlite2"),
        "postgresql_tx_per_s": rate("pg1"),
        "postgresql_two_workers_tx_per_s": rate("pg2"),
        "postgresql_two_workers_ratio": ratio("pg1", "pg2"),
        "sqlite_tx_per_cpu_s": per_cpu("sqlite1"), "sqlite_two_workers_tx_per_cpu_s": per_cpu("sqlite2"),
        "postgresql_tx_per_cpu_s": per_cpu("pg1"), "postgresql_two_workers_tx_per_cpu_s": per_cpu("pg2"),
        "vans": args.vans, "tel_per_s": results["sqlite1"]["tel_per_s"], "tx": args.tx,
        "all_stored": all(r["stored_tx"] == args.tx for r in results.values()),
        "publish_msgs_per_s": round(results["sqlite1"]["publish_msgs_per_s"]), "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 1),
    }))

if __name__ == "__main__":
    main()

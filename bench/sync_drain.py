"""Benchmark: the van's full store-and-forward path against raw paho publishing, on a local Mosquitto.

(a) baseline: raw paho-mqtt QoS 1 publish of N × 600-byte messages with a 1000-message window, timed
    until the last PUBACK;
(b) the van's path for N outbox rows: committed → published by the sync agent → stored by the hub →
    app-level ack → marked delivered.
Prints JSON; the last line is one JSON object with raw_msgs_per_s, drain_msgs_per_s, ratio (= b / a),
p50_ms and p99_ms (commit → delivered, per row).

With --lte (root, /dev/net/tun, `ip netns`), the same full drain runs instead across the emulated LTE
link of tests/support/lte_link.py (5 Mbit/s up, 20 Mbit/s down, 40 ms each way, 1 % loss): Mosquitto and the hub
in the governorate namespace, the van's sync agent in the van namespace. For 10,000 transactions and
for 200 documents of 150 KB it prints goodput ÷ uplink rate (issue 3: target ≥ 0.85) next to a raw paho
QoS 1 baseline over the same link in the same run, and the congestion control the van's socket used.
Goodput counts MQTT payload bytes (the CBOR envelopes) for transactions and document bytes for documents.

    python -m bench.sync_drain [--rows 20000] [--broker-port PORT]
    python -m bench.sync_drain --lte [--lte-rows 10000] [--lte-docs 200] [--lte-cc agent,cubic]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge.store import outbox
from edge.store.db import open_db
from edge.sync import protocol as p
from edge.sync.agent import Tuning
from tests.support.mqtt_broker import Broker, free_port
from tests.support.sync_harness import (
    fill_outbox,
    fill_raw,
    kill9,
    pending,
    spawn,
    start_hub,
    start_van,
    van_settings,
    wait_until,
)


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


# --- across the emulated LTE link (--lte) --------------------------------------------------------

DOC_BYTES = 150 * 1024


def _tcp_cc(sock) -> str:
    import socket

    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).split(b"\0")[0].decode()


def raw_publish(host: str, port: int, sizes: list[int], window: int, cc: str | None) -> dict:
    """Raw paho QoS 1: publish one message per entry of ``sizes``, timed from the first publish to the
    last PUBACK. ``cc`` is set on the socket after connecting, as the sync agent does."""
    import socket

    done = threading.Event()
    acked = 0
    connected = threading.Event()

    def on_publish(client, userdata, mid, reason_code, properties):
        nonlocal acked
        acked += 1
        if acked == len(sizes):
            done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-raw-{os.getpid()}-{time.monotonic_ns()}",
                         protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(window)
    client.max_queued_messages_set(0)
    client.on_publish = on_publish
    client.on_connect = lambda *a: connected.set()
    client.connect(host, port)
    if cc:
        client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
    used = _tcp_cc(client.socket())
    client.loop_start()
    if not connected.wait(20):
        raise RuntimeError("raw baseline: no CONNACK")
    payloads = {size: os.urandom(size) for size in set(sizes)}
    start = time.perf_counter()
    for i, size in enumerate(sizes):
        client.publish(f"bench/raw/{i % 10}", payloads[size], qos=1)
    if not done.wait(1200):
        raise RuntimeError(f"raw baseline: {acked} of {len(sizes)} acked")
    elapsed = time.perf_counter() - start
    client.disconnect()
    client.loop_stop()
    return {"seconds": elapsed, "msgs_per_s": len(sizes) / elapsed, "payload_bytes": sum(sizes),
            "congestion_control": used}


def _van_cc(link, port: int) -> str:
    """The congestion control of the van's connection to the broker, as ``ss -tin`` shows it."""
    lines = link.tcp_connections("van").splitlines()
    for i, line in enumerate(lines):
        if f"{link.gov_ip}:{port}" in line and i + 1 < len(lines):
            algo = lines[i + 1].split()[0]
            return algo
    return "unknown"


def lte_drain(link, port: int, folder: Path, van: str, cc: str | None, *, rows: int = 0, docs: int = 0,
              overrides: dict | None = None) -> dict:
    """The van's full path across the link: ``rows`` transactions or ``docs`` documents of DOC_BYTES."""
    settings = van_settings(folder / van, f"mqtt://{link.gov_ip}:{port}", van=van)
    if rows:
        fill_raw(settings, rows)
        db = open_db(settings.db_path)
        payload = sum(len(p.encode_outbox_row(r, van)) for r in outbox.pending(db, "tx", limit=rows + 1))
    else:
        fill_outbox(settings, 1)
        db = open_db(settings.db_path)
        number = db.execute("SELECT number FROM requests").fetchone()[0]
        settings.documents_dir.mkdir(parents=True, exist_ok=True)
        for i in range(docs):
            data = os.urandom(DOC_BYTES)
            (settings.documents_dir / f"scan{i}.jpg").write_bytes(data)
            outbox.enqueue_document(db, request_number=number, path=f"scan{i}.jpg",
                                    sha256=hashlib.sha256(data).hexdigest(), size=len(data), content_type="image/jpeg")
        payload = docs * DOC_BYTES
    with link.netns("gov"):
        hub = spawn(["governorate.cli", "ingest", "--db", str(folder / f"hub-{van}.db"), "--broker",
                     f"mqtt://127.0.0.1:{port}"], folder / f"hub-{van}.log")
    time.sleep(1.5)
    tuning = Tuning(telemetry_every_s=3600, **({"congestion_control": cc} if cc else {}), **(overrides or {}))
    with link.netns("van"):
        agent, runner = start_van(settings, tuning)
    try:
        wait_until(lambda: agent.connected, 60, "the van to connect", poll=0.001)
        start = time.perf_counter()
        cpu0, hub0 = _cpu_seconds(), _cpu_seconds(hub.pid)
        time.sleep(0.5)
        used = _van_cc(link, port)
        wait_until(lambda: pending(settings) == 0, 1800, "the drain over LTE", poll=0.05)
        elapsed = time.perf_counter() - start
        # The agent runs in this process (a thread); the main thread only polls the outbox.
        van_cpu, hub_cpu = (_cpu_seconds() - cpu0) / elapsed, (_cpu_seconds(hub.pid) - hub0) / elapsed
    finally:
        runner.stop()
        kill9(hub)
    return {"seconds": elapsed, "msgs_per_s": (rows or docs) / elapsed, "payload_bytes": payload,
            "congestion_control": used, "van_cpu": van_cpu, "hub_cpu": hub_cpu}


def _cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU of a process (its threads included), from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def _ratio(run: dict, rate_bps: float) -> float:
    return run["payload_bytes"] * 8 / run["seconds"] / rate_bps


def lte_main(args) -> dict:
    from tests.support.lte_link import LteLink, unavailable_reason

    reason = unavailable_reason()
    if reason:
        return {"benchmark": "sync_drain_lte", "lte_emulation": f"not run: {reason}"}
    load_before = os.getloadavg()
    ccs = [c.strip() for c in args.lte_cc.split(",") if c.strip()]
    agent_cc = Tuning().congestion_control  # what the sync agent sets on its socket by default
    overrides = {}
    for item in filter(None, args.lte_tuning.split(",")):
        key, value = item.split("=", 1)
        overrides[key.strip()] = type(getattr(Tuning(), key.strip()))(value)
    chunk_sizes = []
    left = DOC_BYTES
    while left > 0:
        chunk_sizes.append(min(p.CHUNK_SIZE, left))
        left -= p.CHUNK_SIZE
    runs: dict[str, dict] = {}
    link_args = {} if args.lte_loss is None else {"loss": args.lte_loss}
    with tempfile.TemporaryDirectory() as tmp, LteLink(**link_args) as link:
        folder = Path(tmp)
        rate = link.up.rate_bps
        with link.netns("gov"):
            port = free_port()
            broker = Broker(folder / "broker", port=port, extra=f"listener {port} {link.gov_ip}\n").start()
        cpu0, t0 = link.forwarder_cpu_seconds(), time.monotonic()
        try:
            for n, name in enumerate(ccs):
                cc = None if name == "agent" else name
                out: dict = {}
                if args.lte_rows:
                    full = lte_drain(link, port, folder, f"V{100 + 2 * n}", cc, rows=args.lte_rows, overrides=overrides)
                    # The baseline sends messages of the drain's own average envelope size.
                    size = round(full["payload_bytes"] / args.lte_rows)
                    with link.netns("van"):
                        raw = raw_publish(link.gov_ip, port, [size] * args.lte_rows, 1000, cc or agent_cc)
                    out["tx"] = {"raw_goodput_ratio": round(_ratio(raw, rate), 3),
                                 "raw_msgs_per_s": round(raw["msgs_per_s"], 1),
                                 "drain_goodput_ratio": round(_ratio(full, rate), 3),
                                 "drain_msgs_per_s": round(full["msgs_per_s"], 1),
                                 "drain_seconds": round(full["seconds"], 2),
                                 "drain_vs_raw": round(full["msgs_per_s"] / raw["msgs_per_s"], 3),
                                 "envelope_bytes_avg": round(full["payload_bytes"] / args.lte_rows),
                                 "raw_congestion_control": raw["congestion_control"],
                                 "van_congestion_control": full["congestion_control"],
                                 "van_cpu_fraction": round(full["van_cpu"], 2),
                                 "hub_cpu_fraction": round(full["hub_cpu"], 2)}
                    print(json.dumps({"lte": name, **out["tx"], "what": "tx"}), flush=True)
                if args.lte_docs:
                    with link.netns("van"):
                        raw = raw_publish(link.gov_ip, port, chunk_sizes * args.lte_docs, Tuning().doc_window,
                                          cc or agent_cc)
                    full = lte_drain(link, port, folder, f"V{101 + 2 * n}", cc, docs=args.lte_docs, overrides=overrides)
                    out["docs"] = {"raw_goodput_ratio": round(_ratio(raw, rate), 3),
                                   "drain_goodput_ratio": round(_ratio(full, rate), 3),
                                   "drain_docs_per_s": round(full["msgs_per_s"], 2),
                                   "drain_seconds": round(full["seconds"], 2),
                                   "drain_vs_raw": round(_ratio(full, rate) / _ratio(raw, rate), 3),
                                   "raw_congestion_control": raw["congestion_control"],
                                   "van_congestion_control": full["congestion_control"],
                                   "van_cpu_fraction": round(full["van_cpu"], 2),
                                   "hub_cpu_fraction": round(full["hub_cpu"], 2)}
                    print(json.dumps({"lte": name, **out["docs"], "what": "docs"}), flush=True)
                runs[name] = out
            fwd_cpu = (link.forwarder_cpu_seconds() - cpu0) / (time.monotonic() - t0)
            stats = link.stats()
        finally:
            broker.stop()
    first = runs[ccs[0]] if ccs else {}
    return {
        "benchmark": "sync_drain_lte",
        "link": {"up_bps": link.up.rate_bps, "down_bps": link.down.rate_bps, "delay_ms_each_way": link.up.delay_ms,
                 "loss": link.up.loss, "queue_packets": link.up.queue_packets},
        "lte_rows": args.lte_rows,
        "lte_docs": args.lte_docs,
        "doc_bytes": DOC_BYTES,
        "agent_tuning": {k: v for k, v in vars(Tuning(**overrides)).items() if k != "telemetry_every_s"},
        "tx_goodput_ratio": first.get("tx", {}).get("drain_goodput_ratio"),
        "docs_goodput_ratio": first.get("docs", {}).get("drain_goodput_ratio"),
        "van_congestion_control": (first.get("tx") or first.get("docs") or {}).get("van_congestion_control"),
        "runs": runs,
        "forwarder_cpu_fraction": round(fwd_cpu, 3),
        "dropped": {d: {k: stats[d][k] for k in ("dropped_loss", "dropped_queue")} for d in ("up", "down")},
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--broker-port", type=int, default=None, help="use a running broker instead of starting one")
    parser.add_argument("--lte", action="store_true", help="run the drain across the emulated LTE link instead")
    parser.add_argument("--lte-rows", type=int, default=10_000, help="transactions for --lte (0: skip)")
    parser.add_argument("--lte-docs", type=int, default=200, help="150 KB documents for --lte (0: skip)")
    parser.add_argument("--lte-cc", default="agent",
                        help="comma-separated congestion controls for --lte: agent (its own setting), cubic, bbr")
    parser.add_argument("--lte-loss", type=float, default=None, help="random loss each way for --lte (default 0.01)")
    parser.add_argument("--lte-tuning", default="",
                        help="override the sync agent's Tuning for --lte, e.g. mqtt_inflight=1000,doc_window=32")
    args = parser.parse_args()
    if args.lte:
        print(json.dumps(lte_main(args)))
        return
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
        "lte_emulation": "not run: add --lte (tests/support/lte_link.py, a userspace emulator; no netem here)",
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

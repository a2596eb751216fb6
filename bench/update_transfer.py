"""Benchmark: a signed van release sent to a van over the emulated LTE link (issue 20), and what it costs the van's
own traffic meanwhile.

Across tests/support/lte_link.py (20 Mbit/s down, 5 Mbit/s up, 40 ms each way, 1 % loss; root, /dev/net/tun,
`ip netns`): Mosquitto and the hub's ingest worker (its own process) in the governorate namespace, the van's sync
agent with the updater's end (edge.update.incoming) in the van namespace. The release is ``make release``'s real van
release (var/release/van), copied and signed with throw-away keys, offered to the van
(governorate/updates.py); timed from the offer until the van holds it whole (READY). In the same run:

- baseline: raw paho QoS 1 publishing of the same number of 64 KiB payloads from the governorate side to a
  subscriber in the van namespace, ``WINDOW`` in flight (what the link gives to bare MQTT);
- the van's transactions: one ticket row committed every 0.3 s, commit → delivered (hub ack) latency, before the
  offer (quiet) and during the transfer.

Prints one JSON object per run: seconds, goodput ÷ downlink rate and ÷ the raw baseline, chunks sent ÷ chunks
(resends), the p50/p95 latency of the van's transactions quiet and during the transfer, and the van's link rate as
the hub measured it (the window it sizes from it: ``window_now``).

    python -m bench.update_transfer [--release var/release/van | --release-mb 30] [--raw-mb 40] [--down-mbit 5]
                                    [--window aware,fixed] [--queue-s 0.5]

``--down-mbit``: the downlink's rate (20 by default); ``--release-mb``: instead of the real release, a synthetic
signed one (tests/update/support.py's, with a file of that many MB of random bytes); ``--window``: the hub's
window, link-aware (governorate/updates.py, window_for: MIN_WINDOW … WINDOW from the van's measured rate) or fixed
at WINDOW (the hub before it), one run each in the order given; ``--queue-s``: the link-aware window's QUEUE_S;
``--raw-mb 0`` skips the raw baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge.store import outbox
from edge.store.db import open_db
from edge.sync.agent import SyncAgent, Tuning
from edge.update.incoming import Incoming
from governorate import updates as updates_mod
from governorate.store import HubStore
from governorate.updates import QUEUE_S, WINDOW, Updates, window_for
from tests.support.mqtt_broker import Broker, free_port
from tests.support.sync_harness import ThreadRunner, fill_raw, kill9, spawn, van_settings, wait_until

VAN = "V007"
CHUNK = 64 * 1024


def _ticket() -> dict:
    from bench.sync_drain import _ticket_body

    return _ticket_body()


def _latencies(db, since_id: int, until_id: int) -> list[float]:
    rows = db.execute("SELECT created_at, delivered_at FROM outbox WHERE rowid > ? AND rowid <= ? AND "
                      "delivered_at IS NOT NULL", [since_id, until_id]).fetchall()
    return sorted((datetime.fromisoformat(d) - datetime.fromisoformat(c)).total_seconds() * 1000 for c, d in rows)


def _summary(lat: list[float]) -> dict:
    if not lat:
        return {"n": 0}
    return {"n": len(lat), "p50_ms": round(statistics.median(lat)), "p95_ms": round(lat[int(0.95 * (len(lat) - 1))])}


def _spread(values: list[float]) -> dict:
    """p10 / median / p90 of ``values``."""
    if not values:
        return {}
    s = sorted(values)
    return {q: round(s[int(f * (len(s) - 1))], 2) for q, f in (("p10", 0.1), ("p50", 0.5), ("p90", 0.9))}


def _tick(db, stop: threading.Event, every_s: float = 0.3) -> None:
    while not stop.is_set():
        outbox.enqueue(db, "tx", "ticket.issued", _ticket())
        stop.wait(every_s)


def raw_download(link, port: int, count: int) -> float:
    """Seconds for ``count`` 64 KiB QoS 1 messages from the governorate side to a subscriber at the van."""
    got = threading.Event()
    received = 0

    def on_message(client, userdata, message):
        nonlocal received
        received += 1
        if received >= count:
            got.set()

    with link.netns("van"):
        sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-sub", protocol=mqtt.MQTTv5)
        sub.on_message = on_message
        sub.connect(link.gov_ip, port)
        sub.subscribe("bench/raw", qos=1)
        sub.loop_start()
    time.sleep(1.0)
    with link.netns("gov"):
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-pub", protocol=mqtt.MQTTv5)
        pub.max_inflight_messages_set(WINDOW)
        pub.max_queued_messages_set(0)
        pub.connect("127.0.0.1", port)
        pub.loop_start()
    payload = os.urandom(CHUNK)
    start = time.perf_counter()
    for _ in range(count):
        pub.publish("bench/raw", payload, qos=1)
    if not got.wait(1800):
        raise RuntimeError(f"raw baseline: {received} of {count} arrived")
    elapsed = time.perf_counter() - start
    for c in (pub, sub):
        c.loop_stop()
        c.disconnect()
    return elapsed


def signed_copy(release: Path, folder: Path) -> Path:
    """``release`` copied into ``folder``/release and signed there with throw-away keys (``folder``/keys)."""
    from provisioning import tuf_repo

    signed = folder / "release"
    shutil.copytree(release, signed, ignore=shutil.ignore_patterns("tuf"))
    tuf_repo.make_keys(folder / "keys")
    tuf_repo.sign_release(signed, folder / "keys")
    return signed


def synthetic_release(mb: float, folder: Path) -> Path:
    """A signed release in ``folder``/release whose bulk is one file of ``mb`` MB of random bytes (nothing to
    compress; the van only puts it together here, it does not install it)."""
    from provisioning import tuf_repo
    from tests.update.support import signed_release

    signed = folder / "release"
    (signed / "system").mkdir(parents=True)
    with open(signed / "system" / "padding.bin", "wb") as out:
        for _ in range(int(mb * 1_000_000) // (1 << 20)):
            out.write(os.urandom(1 << 20))
        out.write(os.urandom(int(mb * 1_000_000) % (1 << 20)))
    tuf_repo.make_keys(folder / "keys")
    signed_release(signed, "9.9.9", folder / "keys")
    return signed


def hub_worker(argv: list[str]) -> None:
    """``python -m bench.update_transfer --hub-worker fixed|aware[:QUEUE_S] <governorate.cli arguments>``: the hub's
    ingest worker with its window fixed at WINDOW (the hub before the link-aware window) or link-aware (with
    another QUEUE_S, if given)."""
    from governorate.cli import main as hub_main

    window, _, queue_s = argv[0].partition(":")
    if window == "fixed":
        updates_mod.MIN_WINDOW = updates_mod.WINDOW
    if queue_s:
        updates_mod.QUEUE_S = float(queue_s)
    hub_main(argv[1:])


class VanTraffic:
    """The van's own traffic while a release travels: Mosquitto and the hub's ingest worker (its own process) in the
    governorate namespace, the van's sync agent (with the updater's end on ``staging``, if given) in the van
    namespace, and one ticket row committed every 0.3 s, whose commit → delivered (hub ack) latency is measured.

    Entered, the broker runs (``port``); :meth:`start` starts the hub, the van and the tickets; :meth:`mark` is the
    last row so far, :meth:`latencies` summarises the rows between two marks."""

    def __init__(self, link, folder: Path, staging: Path | None = None, window: str = "aware"):
        self.link, self.folder, self.staging, self.window = link, folder, staging, window
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.hub = self.runner = self.db = self.agent = None
        self.stop_ticks = threading.Event()

    def __enter__(self) -> VanTraffic:
        with self.link.netns("gov"):
            self.broker = Broker(self.folder / "broker", port=self.port,
                                 extra=f"listener {self.port} {self.link.gov_ip}\n").start()
        return self

    def start(self) -> None:
        hub_db = self.folder / "hub.db"
        HubStore(hub_db).close()  # made (and migrated) before the worker starts
        with self.link.netns("gov"):
            worker = self.window + (f":{updates_mod.QUEUE_S}" if updates_mod.QUEUE_S != QUEUE_S else "")
            self.hub = spawn(["bench.update_transfer", "--hub-worker", worker, "ingest", "--db", str(hub_db),
                              "--broker", f"mqtt://127.0.0.1:{self.port}"], self.folder / "hub.log")
        # The van's first snapshot (outbox drained: what lets the hub send) is latest-wins, not queued: a van that
        # connects before the hub subscribed waits an hour for the next one (telemetry_every_s).
        log = self.folder / "hub.log"
        wait_until(lambda: log.is_file() and re.search(r"hub for governorate \S+ connected", log.read_text(
            errors="replace")) is not None, 60, "the hub worker to connect")
        settings = van_settings(self.folder / "van", f"mqtt://{self.link.gov_ip}:{self.port}", van=VAN)
        fill_raw(settings, 0)
        with self.link.netns("van"):
            self.agent = SyncAgent(settings, Tuning(telemetry_every_s=3600),
                                   updates=Incoming(self.staging) if self.staging else None)
            self.runner = ThreadRunner(self.agent.run)
        wait_until(lambda: self.agent.connected, 60, "the van to connect")
        self.db = open_db(settings.db_path)
        self.ticker = threading.Thread(target=_tick, args=(self.db, self.stop_ticks), daemon=True)
        self.ticker.start()

    def mark(self) -> int:
        return self.db.execute("SELECT coalesce(max(rowid), 0) FROM outbox").fetchone()[0]

    def latencies(self, since: int, until: int) -> dict:
        return _summary(_latencies(self.db, since, until))

    def finish(self) -> None:
        """No more tickets; every one made is delivered."""
        self.stop_ticks.set()
        self.ticker.join()
        wait_until(lambda: self.db.execute("SELECT count(*) FROM outbox WHERE delivered_at IS NULL").fetchone()[0]
                   == 0, 120, "the last transactions")

    def __exit__(self, *exc) -> None:
        self.stop_ticks.set()
        if self.runner is not None:
            self.runner.stop()
        if self.hub is not None:
            kill9(self.hub)
        self.broker.stop()


def run(release: Path | None, raw_mb: int, down_mbit: float = 20.0, window: str = "aware",
        release_mb: float | None = None) -> dict:
    from tests.support.lte_link import LteLink, unavailable_reason

    reason = unavailable_reason()
    if reason:
        return {"benchmark": "update_transfer", "lte_emulation": f"not run: {reason}"}
    with tempfile.TemporaryDirectory() as tmp, LteLink() as link:
        link.set("down", rate_bps=down_mbit * 1e6)
        folder = Path(tmp)
        signed = synthetic_release(release_mb, folder) if release_mb else signed_copy(release, folder)
        size = sum(q.stat().st_size for q in signed.rglob("*") if q.is_file())
        staging = folder / "van" / "update" / "staging"
        with VanTraffic(link, folder, staging, window) as traffic:
            raw_count = raw_mb * 1024 * 1024 // CHUNK
            raw_s = raw_download(link, traffic.port, raw_count) if raw_count else None
            traffic.start()
            first = traffic.mark()
            time.sleep(15)  # the quiet period
            quiet_until = traffic.mark()
            updates = Updates(HubStore(folder / "hub.db"), lambda *a: None)
            offer = updates.offer(VAN, signed)
            start = time.perf_counter()
            probe = Incoming(staging)
            windows, rates = [], []

            def arrived() -> bool:  # and the window the hub sizes for the van as it goes (its rate, its loop)
                now = updates.offer_of(VAN)
                if now["rate"]:
                    rates.append(now["rate"])
                windows.append(WINDOW if window == "fixed" else window_for(now["rate"], now["loop_ms"]))
                return probe.ready() == offer["bundle"]

            wait_until(arrived, 3600, "the release to arrive whole", poll=0.2)
            seconds = time.perf_counter() - start
            during_until = traffic.mark()
            traffic.finish()
            done = updates.offer_of(VAN)
            stats = link.stats()
            transactions = {"quiet": traffic.latencies(first, quiet_until),
                            "during_transfer": traffic.latencies(quiet_until, during_until)}
        down = link.down.rate_bps
        return {
            "benchmark": "update_transfer",
            "link": {"down_bps": down, "up_bps": link.up.rate_bps, "delay_ms_each_way": link.down.delay_ms,
                     "loss": link.down.loss},
            "release": f"synthetic {release_mb} MB" if release_mb else str(release),
            "release_bytes": size, "chunks": offer["total"],
            "window": window if window == "fixed" else f"aware ({updates_mod.MIN_WINDOW}…{WINDOW}, "
                                                      f"QUEUE_S {updates_mod.QUEUE_S})",
            "window_chunks": WINDOW if window == "fixed" else None,
            "rate_measured_mbit": round(done["rate"] * 8 / 1e6, 2), "loop_measured_ms": done["loop_ms"],
            "window_during": _spread(windows), "rate_during_mbit": _spread([r * 8 / 1e6 for r in rates]),
            "seconds": round(seconds, 1),
            "goodput_ratio": round(size * 8 / seconds / down, 3),
            "raw_baseline": {"mb": raw_mb, "seconds": round(raw_s, 1),
                             "goodput_ratio": round(raw_count * CHUNK * 8 / raw_s / down, 3)} if raw_s else None,
            "vs_raw": round((size / seconds) / (raw_count * CHUNK / raw_s), 3) if raw_s else None,
            "chunks_sent_ratio": round(done["chunks_sent"] / done["total"], 3),
            "van_transactions": transactions,
            "dropped": {d: {k: stats[d][k] for k in ("dropped_loss", "dropped_queue")} for d in ("up", "down")},
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }


def main() -> None:
    if sys.argv[1:2] == ["--hub-worker"]:
        hub_worker(sys.argv[2:])
        return
    # `timeout` or a stop sends SIGTERM: leave through the context managers (the hub worker, the broker, the network
    # namespaces and the temporary folder go), as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", type=Path, default=Path("var/release/van"))
    parser.add_argument("--release-mb", type=float, default=None,
                        help="a synthetic signed release of this many MB instead of --release")
    parser.add_argument("--raw-mb", type=int, default=40, help="megabytes for the raw MQTT baseline (0: none)")
    parser.add_argument("--down-mbit", type=float, default=20.0, help="the downlink's rate, Mbit/s")
    parser.add_argument("--queue-s", type=float, default=QUEUE_S,
                        help="the link-aware window's queue allowance, seconds (governorate.updates.QUEUE_S)")
    parser.add_argument("--window", default="aware",
                        help="aware, fixed, or both in turn (aware,fixed): the hub's window of chunks in flight")
    args = parser.parse_args()
    for window in args.window.split(","):
        if window not in ("aware", "fixed"):
            parser.error(f"--window: {window!r} is neither aware nor fixed")
    updates_mod.QUEUE_S = args.queue_s
    for window in args.window.split(","):
        print(json.dumps(run(args.release, args.raw_mb, args.down_mbit, window, args.release_mb)), flush=True)


if __name__ == "__main__":
    main()

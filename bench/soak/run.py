"""The field soak: a van's time-compressed day on an emulated LTE link with outages and power cuts, then a
reconciliation of everything the van committed against what the governorate holds. See docs/soak.md.

Processes (all real, each in its namespace of ``tests/support/lte_link.py``'s ``LteLink``):

- gov namespace: Mosquitto, ``governorate ingest`` (the hub), and the back office (a thread of this
  process with its own MQTT client, deciding on requests with ``governorate.backoffice.decide`` as the
  staff web app does);
- van namespace: ``edge sync`` (the sync agent) and ``bench.soak.workload`` (the counter: tickets,
  requests, scanned pages, hand-overs through the store API, standing in for ``edge web``).

This process schedules the faults, samples the backlog and the link every second, and at the end
reconciles both databases and writes the report (``bench/soak/report.py``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import cbor2

from edge.core import audit
from edge.core import catalogue as catalogue_mod
from edge.store import audit_log
from edge.store.db import open_db
from edge.sync import protocol as p
from governorate import backoffice
from governorate.ingest import Hub
from governorate.store import HubStore
from tests.support.lte_link import LteLink, Shape, unavailable_reason
from tests.support.mqtt_broker import Broker, free_port
from tests.support.paths import ROOT
from tests.support.sync_harness import GOV, VAN, van_settings


class SoakUnavailable(RuntimeError):
    """The machine cannot run the soak (not root, no ``ip netns``, no TUN)."""


@dataclass
class Params:
    minutes: float = 10.0  # wall time of the scripted day (the drain afterwards comes on top)
    seed: int = 1
    citizens: int = 300
    outages: int = 22  # short link cuts, besides the long one
    outage_s: tuple[float, float] = (2.0, 8.0)
    long_outage_s: float | None = None  # the basement car park; default a tenth of the day
    power_cuts: int = 22
    power_off_s: tuple[float, float] = (2.0, 6.0)
    broker_restarts: int = 3
    hub_restarts: int = 3
    restart_pause_s: tuple[float, float] = (1.0, 3.0)
    pages: tuple[int, int] = (1, 3)
    page_kb: tuple[int, int] = (100, 250)
    reject_share: float = 0.1  # of the back office's final decisions
    up_mbit: float = 5.0
    down_mbit: float = 20.0
    rtt_ms: float = 80.0
    jitter_ms: float = 10.0
    loss: float = 0.01
    drain_timeout_s: float = 600.0
    out: str = ""

    @property
    def day_s(self) -> float:
        return self.minutes * 60.0


# --- the plan -----------------------------------------------------------------------------------

def make_plan(params: Params) -> dict:
    """Citizens and faults of the day, all from the seed."""
    rng = random.Random(params.seed)
    cat = catalogue_mod.load_default()
    day = params.day_s
    names = ["منى أحمد حسن", "محمد علي إبراهيم", "فاطمة محمود سعيد", "أحمد مصطفى كامل", "سارة عبد الله يوسف"]
    citizens = []
    for i in range(params.citizens):
        service = rng.choice(cat.services)
        doc = rng.choice(service.documents) if service.documents else None
        citizens.append({
            "at_s": round((i + rng.random()) * day * 0.93 / params.citizens, 3),
            "service": service.code,
            "category": service.category,
            "doc_code": doc.code if doc else "DOC",
            "name": rng.choice(names),
            "mobile": f"010{rng.randrange(10**8):08d}",
            "pages": [rng.randint(params.page_kb[0], params.page_kb[1]) * 1024
                      for _ in range(rng.randint(*params.pages))],
        })
    events: list[dict] = []

    def place(kind: str, dur: float, lo: float, hi: float) -> None:
        """A fault of ``kind`` at a random time, not overlapping another of the same kind (1 s apart)."""
        for _ in range(1000):
            at = rng.uniform(lo, max(lo, hi - dur))
            clash = any(e["kind"] == kind and at < e["at_s"] + e["dur_s"] + 1 and e["at_s"] < at + dur + 1
                        for e in events)
            if not clash:
                events.append({"kind": kind, "at_s": round(at, 3), "dur_s": round(dur, 3)})
                return
        raise ValueError(f"cannot fit another {kind} into a {day:.0f} s day: shorten the faults or the list")

    long_s = params.long_outage_s if params.long_outage_s is not None else day / 10
    if long_s > 0:
        place("outage", long_s, 0.35 * day, 0.65 * day)
        events[-1]["long"] = True
    for _ in range(params.outages):
        place("outage", rng.uniform(*params.outage_s), 0.03 * day, 0.95 * day)
    for _ in range(params.power_cuts):
        place("power_cut", rng.uniform(*params.power_off_s), 0.03 * day, 0.95 * day)
    for _ in range(params.broker_restarts):
        place("broker_restart", rng.uniform(*params.restart_pause_s), 0.05 * day, 0.9 * day)
    for _ in range(params.hub_restarts):
        place("hub_restart", rng.uniform(*params.restart_pause_s), 0.05 * day, 0.9 * day)
    events.sort(key=lambda e: e["at_s"])
    return {"seed": params.seed, "citizens": citizens, "events": events}


# --- the processes ------------------------------------------------------------------------------

class Soak:
    def __init__(self, params: Params):
        self.params = params
        self.out = Path(params.out or ROOT / "var" / "soak" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")).resolve()
        self.out.mkdir(parents=True, exist_ok=True)
        self.work = self.out / "work"
        self.work.mkdir(exist_ok=True)
        self.plan = make_plan(params)
        self.log: list[dict] = []  # what actually happened, with times since the day's start
        self.samples: list[dict] = []
        self.procs: dict[str, subprocess.Popen | None] = {"sync": None, "workload": None, "hub": None}
        self.van_running = False
        self.stop = threading.Event()
        self.t0 = 0.0
        self.rng = random.Random(params.seed + 1)
        self.hub_db = self.work / "hub.db"

    def now(self) -> float:
        return time.time() - self.t0

    def note(self, kind: str, **extra) -> None:
        self.log.append({"t": round(self.now(), 3), "kind": kind, **extra})

    # processes

    def _spawn(self, name: str, side: str, args: list[str]) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        log = open(self.work / f"{name}.log", "ab")
        self.procs[name] = self.link.popen(side, [sys.executable, "-m", *args], stdout=log, stderr=subprocess.STDOUT,
                                           env=env, cwd=ROOT, start_new_session=True)
        log.close()

    def _kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.get(name)
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        self.procs[name] = None

    def start_hub(self) -> None:
        self._spawn("hub", "gov", ["governorate.cli", "ingest", "--db", str(self.hub_db), "--governorate", GOV,
                                   "--broker", f"mqtt://127.0.0.1:{self.port}", "--worker", "soak"])

    def power_on(self) -> None:
        self._spawn("sync", "van", ["edge.cli", "--config", str(self.van_toml), "sync"])
        self._spawn("workload", "van", ["bench.soak.workload", "--config", str(self.van_toml),
                                        "--plan", str(self.work / "plan.json")])
        self.van_running = True

    def power_cut(self) -> None:
        """The engine stops: every van process dies at once and the kernel forgets its TCP connections
        (no FIN, no RST reaches the governorate: its broker must notice by keepalive)."""
        self.van_running = False
        for name in ("sync", "workload"):
            proc = self.procs.get(name)
            if proc is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
        self.link.kill_tcp("van", silent=True)
        for name in ("sync", "workload"):
            self._kill(name)

    # the back office

    def back_office(self) -> None:
        """Staff at the governorate decide on requests that reached the hub: under review, then ready
        (or rejected). A request's next decision is sent only once the van reported the previous one
        applied, as a clerk acts on what the van page shows."""
        params = self.params
        with self.link.netns("gov"):
            store = HubStore(self.hub_db)
            hub = Hub(store, GOV, "127.0.0.1", self.port, worker="backoffice", listen=False)
            hub.client.connect_async("127.0.0.1", self.port, keepalive=30)
            hub.client.loop_start()  # its thread (and its reconnects) live in the gov namespace
        rng = random.Random(params.seed + 2)
        state: dict[str, dict] = {}
        self._last_resend = time.monotonic()
        try:
            while not self.stop.is_set():
                try:
                    self._back_office_round(store, hub, rng, state)
                except sqlite3.OperationalError as exc:  # the hub's database busy beyond its timeout: next round
                    self.note("back_office_retry", error=str(exc))
                self.stop.wait(0.5)
        finally:
            hub.client.disconnect()
            hub.client.loop_stop()
            store.close()

    def _back_office_round(self, store: HubStore, hub: Hub, rng: random.Random, state: dict) -> None:
        params, day = self.params, self.params.day_s
        now = self.now()
        for (number,) in store._read("SELECT number FROM requests WHERE van = ?", [VAN]):
            if number not in state:
                state[number] = {"stage": 0, "due": now + rng.uniform(0.005, 0.03) * day, "msg": None}
        for number, s in state.items():
            if s["stage"] >= 2 or now < s["due"]:
                continue
            if s["msg"] is not None and (store.downlink(s["msg"]) or {}).get("applied_at") is None:
                continue
            if s["stage"] == 0:
                target, reason = "under_review", None
            elif rng.random() < params.reject_share:
                target, reason = "rejected", "المستندات غير مكتملة"
            else:
                target, reason = "ready", None
            try:  # what the staff web app's decision button does: hub view, staff audit, notification, downlink
                s["msg"] = backoffice.decide(store, hub, number, target, reason, "staff:soak")
            except backoffice.OfficeError as exc:
                self.problems.append(f"back office could not decide {target} for {number}: {exc.detail or exc}")
                s["stage"] = 2
                continue
            s["stage"] += 1
            s["due"] = now + rng.uniform(0.01, 0.05) * day
            self.decisions.append({"t": round(now, 3), "number": number, "state": target, "msg_id": s["msg"]})
        # The hub re-sends what the van has not reported applied on every van birth and every
        # 120 s; once the day is over nothing brings a birth, so the clerk's screen nudges it.
        if self.draining and time.monotonic() - self._last_resend > 20:
            self._last_resend = time.monotonic()
            old = store._read("SELECT count(*) FROM downlinks WHERE van = ? AND applied_at IS NULL "
                              "AND created_at < ?", [VAN, datetime.fromtimestamp(time.time() - 20, UTC)
                                                     .isoformat()])[0][0]
            if old:
                hub.resend_pending_downlinks(VAN)
                self.note("downlink_resend", pending=old)
        self.backoffice_done = bool(state) and all(s["stage"] >= 2 for s in state.values())

    # sampling

    def sampler(self) -> None:
        van = sqlite3.connect(f"file:{self.settings.db_path}?mode=ro", uri=True, timeout=30)
        try:
            while not self.stop.is_set():
                t = self.now()
                try:
                    rows = van.execute("SELECT stream, count(*), min(created_at) FROM outbox "
                                       "WHERE delivered_at IS NULL GROUP BY stream").fetchall()
                except sqlite3.OperationalError:  # busy beyond the timeout: skip this sample
                    self.stop.wait(0.5)
                    continue
                by = {r[0]: r[1] for r in rows}
                oldest = min((r[2] for r in rows), default=None)
                age = (datetime.now(UTC) - datetime.fromisoformat(oldest)).total_seconds() if oldest else 0.0
                stats = self.link.stats()
                self.samples.append({
                    "t": round(t, 3), "pending": sum(by.values()), "pending_doc": by.get("doc", 0),
                    "oldest_age_s": round(age, 2), "up_bytes": stats["up"]["bytes_delivered"],
                    "down_bytes": stats["down"]["bytes_delivered"], "cut": stats["cut"],
                    "van_on": self.van_running,
                })
                self.stop.wait(max(0.0, 1.0 - (self.now() - t)))
        finally:
            van.close()

    # the run

    def run(self) -> dict:
        check_available()
        params = self.params
        up = Shape(rate_bps=params.up_mbit * 1e6, delay_ms=params.rtt_ms / 2, jitter_ms=params.jitter_ms,
                   loss=params.loss)
        down = Shape(rate_bps=params.down_mbit * 1e6, delay_ms=params.rtt_ms / 2, jitter_ms=params.jitter_ms,
                     loss=params.loss)
        self.decisions: list[dict] = []
        self.problems: list[str] = []
        self.draining = False
        self.backoffice_done = False
        with LteLink(up, down, seed=params.seed) as link:
            self.link = link
            self.port = free_port()
            self.broker = Broker(self.work / "broker", self.port, extra=f"listener {self.port} {link.gov_ip}\n")
            self.settings = van_settings(self.work / "van", f"mqtt://{link.gov_ip}:{self.port}")
            self.van_toml = self.work / "van" / "van.toml"
            open_db(self.settings.db_path).close()
            with link.netns("gov"):
                self.broker.start()
            self.start_hub()
            deadline = time.monotonic() + 20
            while not self.hub_db.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            from edge.store.migrations import migrate
            db = open_db(self.settings.db_path)
            migrate(db)
            db.close()
            self.t0 = time.time() + 1.0
            (self.work / "plan.json").write_text(json.dumps({**self.plan, "start_epoch": self.t0}))
            threads = [threading.Thread(target=self.sampler, daemon=True),
                       threading.Thread(target=self.back_office, daemon=True)]
            try:
                while time.time() < self.t0:
                    time.sleep(0.01)
                self.power_on()
                self.note("day_start")
                for th in threads:
                    th.start()
                self._run_day()
                self.note("day_end")
                drained = self._drain()
                self.note("drained" if drained else "drain_timeout", settled_t=getattr(self, "settled_t", None))
            finally:
                self.stop.set()
                for th in threads:
                    if th.is_alive():
                        th.join(timeout=30)
                for name in ("workload", "sync", "hub"):
                    self._kill(name, signal.SIGTERM)
                self.broker.stop()
                self.link_stats = link.stats()
        results = self.reconcile()
        results["drained"] = drained
        return results

    def _run_day(self) -> None:
        actions: list[tuple[float, int, str, dict]] = []
        for n, e in enumerate(self.plan["events"]):
            actions.append((e["at_s"], n, "begin", e))
            actions.append((e["at_s"] + e["dur_s"], n, "end", e))
        actions.sort(key=lambda a: (a[0], a[1]))
        for at, n, phase, e in actions:
            while self.now() < at:
                time.sleep(min(0.05, at - self.now()))
                self.check_alive()
            kind = e["kind"]
            if kind == "outage":
                if phase == "begin":
                    self.link.cut()
                else:
                    self.link.restore()
            elif kind == "power_cut":
                self.power_cut() if phase == "begin" else self.power_on()
            elif kind == "broker_restart":
                if phase == "begin":
                    self.broker.stop()
                else:
                    with self.link.netns("gov"):
                        self.broker.start()
            elif kind == "hub_restart":
                self._kill("hub") if phase == "begin" else self.start_hub()
            self.note(f"{kind}_{phase}", n=n, long=bool(e.get("long")))
        while self.now() < self.params.day_s:
            time.sleep(0.05)

    def _drain(self) -> bool:
        """The link stays up, nothing fails: wait until everything the day produced has settled."""
        self.draining = True
        assert not self.link.is_cut and self.van_running
        deadline = time.monotonic() + self.params.drain_timeout_s
        settled_since = None
        while time.monotonic() < deadline:
            if self._settled():
                if settled_since is None:
                    settled_since, self.settled_t = time.monotonic(), round(self.now(), 3)
                if time.monotonic() - settled_since >= 3:  # and it stays so
                    return True
            else:
                settled_since = None
            time.sleep(0.5)
        return False

    def check_alive(self) -> None:
        """A van or hub process that died on its own (not by our hand) is a failure to report, not to wait out."""
        names = ("sync", "workload", "hub") if self.van_running else ("hub",)
        for name in names:
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is not None:
                tail = (self.work / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the {name} process exited by itself (code {proc.returncode}):\n{tail}")

    def _settled(self) -> bool:
        self.check_alive()
        plan = self.plan["citizens"]
        van = sqlite3.connect(f"file:{self.settings.db_path}?mode=ro", uri=True, timeout=30)
        try:
            requests = van.execute("SELECT count(*) FROM requests").fetchone()[0]
            pages = van.execute("SELECT count(*) FROM documents").fetchone()[0]
            pending = van.execute("SELECT count(*) FROM outbox WHERE delivered_at IS NULL").fetchone()[0]
            open_ = van.execute("SELECT count(*) FROM requests WHERE state NOT IN ('delivered', 'rejected')"
                                ).fetchone()[0]
        finally:
            van.close()
        hub = sqlite3.connect(f"file:{self.hub_db}?mode=ro", uri=True, timeout=30)
        try:
            downlinks = hub.execute("SELECT count(*) FROM downlinks WHERE applied_at IS NULL").fetchone()[0]
        finally:
            hub.close()
        return (requests == len(plan) and pages == sum(len(c["pages"]) for c in plan) and pending == 0
                and open_ == 0 and downlinks == 0 and self.backoffice_done)

    # --- the reconciliation -------------------------------------------------------------------

    def reconcile(self) -> dict:
        van = sqlite3.connect(self.settings.db_path)
        hub = sqlite3.connect(self.hub_db)
        problems: list[str] = []
        lost = {"messages": 0, "requests": 0, "documents": 0, "decisions": 0}
        dup = {"messages": 0, "requests": 0, "documents": 0, "decisions": 0}

        # tx and audit messages: every outbox row once at the hub, and nothing the van did not write.
        van_rows = {r[0]: r for r in van.execute(
            "SELECT msg_id, stream, seq, kind, created_at, delivered_at FROM outbox WHERE stream IN ('tx', 'audit')")}
        hub_rows = {r[0]: r for r in hub.execute(
            "SELECT msg_id, stream, seq, kind, created_at, received_at, body FROM messages WHERE van = ?", [VAN])}
        missing = sorted(set(van_rows) - set(hub_rows))
        lost["messages"] = len(missing)
        problems += [f"message {m} ({van_rows[m][3]}) never reached the hub" for m in missing[:20]]
        phantom = sorted(set(hub_rows) - set(van_rows))
        dup["messages"] += len(phantom)
        problems += [f"hub holds message {m} the van never wrote" for m in phantom[:20]]
        seqs: dict[tuple[str, int], int] = {}
        for r in hub_rows.values():
            seqs[(r[1], r[2])] = seqs.get((r[1], r[2]), 0) + 1
        dup["messages"] += sum(n - 1 for n in seqs.values() if n > 1)

        # Requests: each van request exactly once at the hub.
        van_requests = [r[0] for r in van.execute("SELECT number FROM requests ORDER BY number")]
        submitted: dict[str, int] = {}
        for r in hub_rows.values():
            if r[3] == "request.submitted":
                number = json.loads(r[6])["number"]
                submitted[number] = submitted.get(number, 0) + 1
        lost["requests"] = sum(1 for n in van_requests if n not in submitted)
        dup["requests"] = sum(c - 1 for c in submitted.values() if c > 1) + len(set(submitted) - set(van_requests))

        # Documents: each scanned page once at the hub, bytes identical (sha256 of what the hub stored).
        van_docs = {}
        for (body,) in van.execute("SELECT body FROM outbox WHERE stream = 'doc'"):
            b = json.loads(body)
            van_docs[b["doc_id"]] = b
        pages = van.execute("SELECT request_number, page, path, sha256 FROM documents").fetchall()
        by_path = {b["path"]: b for b in van_docs.values()}
        file_mismatch = 0
        for number, page, path, sha in pages:
            b = by_path.get(path)
            if b is None or b["sha256"] != sha:
                problems.append(f"page {page} of {number}: no matching doc outbox row")
                lost["documents"] += 1
            data = (self.settings.documents_dir / path).read_bytes()
            if hashlib.sha256(data).hexdigest() != sha:
                file_mismatch += 1
        if len(pages) != len({(n, pg) for n, pg, _, _ in pages}):
            dup["documents"] += len(pages) - len({(n, pg) for n, pg, _, _ in pages})
        hub_docs = {r[0]: r for r in hub.execute(
            "SELECT doc_id, request_number, sha256, data FROM documents WHERE van = ?", [VAN])}
        sha_mismatch = 0
        for doc_id, b in van_docs.items():
            h = hub_docs.get(doc_id)
            if h is None:
                lost["documents"] += 1
                problems.append(f"document {doc_id} of {b['request_number']} missing at the hub")
            elif hashlib.sha256(h[3]).hexdigest() != b["sha256"] or h[1] != b["request_number"]:
                sha_mismatch += 1
                problems.append(f"document {doc_id} of {b['request_number']}: hash differs at the hub")
        dup["documents"] += len(set(hub_docs) - set(van_docs))
        hub_pages: dict[tuple[str, str], int] = {}
        for doc_id, h in hub_docs.items():
            key = (h[1], van_docs.get(doc_id, {}).get("path", doc_id))
            hub_pages[key] = hub_pages.get(key, 0) + 1
        dup["documents"] += sum(c - 1 for c in hub_pages.values() if c > 1)

        # Back-office decisions: each reached the van exactly once (one history row from the hub).
        sent = []
        outcomes = {}
        for msg_id, kind, payload, applied_at, outcome in hub.execute(
                "SELECT msg_id, kind, payload, applied_at, outcome FROM downlinks WHERE van = ?", [VAN]):
            if kind == "request-status":
                body = cbor2.loads(payload)["body"]
                sent.append((body["number"], body["state"], msg_id))
            outcomes[msg_id] = (applied_at, outcome)
        history: dict[tuple[str, str], int] = {}
        for number, state in van.execute("SELECT request_number, state FROM request_history WHERE source = 'hub'"):
            history[(number, state)] = history.get((number, state), 0) + 1
        for number, state, msg_id in sent:
            n = history.get((number, state), 0)
            if n == 0:
                lost["decisions"] += 1
                problems.append(f"decision {state} for {number} ({msg_id}) never applied on the van")
            elif n > 1:
                dup["decisions"] += n - 1
            if outcomes[msg_id][1] != "applied":
                problems.append(f"decision {state} for {number}: outcome {outcomes[msg_id][1]!r} at the hub")
        dup["decisions"] += sum(n for key, n in history.items() if key not in {(a, b) for a, b, _ in sent})
        inbox_dups = van.execute("SELECT count(*) - count(DISTINCT msg_id) FROM inbox").fetchone()[0]
        dup["decisions"] += inbox_dups

        # The hub's own view of each request (staff decisions and the van's hand-overs) ends where the van's does.
        hub_view = dict(hub.execute("SELECT number, state FROM requests WHERE van = ?", [VAN]))
        view_mismatch = [n for n, st in van.execute("SELECT number, state FROM requests") if hub_view.get(n) != st]
        problems += [f"request {n}: hub shows {hub_view.get(n)!r}, the van another state" for n in view_mismatch[:20]]
        problems += self.problems

        # The outbox, and the audit chain on both sides.
        pending = van.execute("SELECT count(*) FROM outbox WHERE delivered_at IS NULL").fetchone()[0]
        vdb = open_db(self.settings.db_path)
        van_break = audit_log.verify(vdb)
        van_audit = vdb.execute("SELECT count(*), max(seq) FROM audit_log").fetchone()
        van_last_hash = vdb.execute("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        vdb.close()
        entries = [audit.AuditEntry(**json.loads(r[0])) for r in hub.execute(
            "SELECT body FROM messages WHERE van = ? AND stream = 'audit' ORDER BY seq", [VAN])]
        hub_break = audit.verify(entries)
        hub_audit_ok = (hub_break is None and len(entries) == van_audit[0]
                        and (not entries or entries[-1].hash == (van_last_hash or [None])[0]))
        if van_break is not None:
            problems.append(f"van audit chain broken at {van_break}")
        if not hub_audit_ok:
            problems.append(f"hub audit chain: break {hub_break}, {len(entries)} entries vs {van_audit[0]} on the van")
        if pending:
            problems.append(f"{pending} outbox rows still pending on the van")
        if file_mismatch:
            problems.append(f"{file_mismatch} scanned files on the van differ from their recorded hash")

        # Latency: committed on the van → stored (and so acked) at the hub.
        def secs(a: str, b: str) -> float:
            return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()

        latency_tx = sorted(secs(van_rows[m][4], hub_rows[m][5]) for m in van_rows if m in hub_rows)
        doc_created = {json.loads(b)["doc_id"]: c for b, c in van.execute(
            "SELECT body, created_at FROM outbox WHERE stream = 'doc'")}
        latency_doc = sorted(secs(doc_created[d], c) for d, c in hub.execute(
            "SELECT doc_id, completed_at FROM documents WHERE van = ?", [VAN]) if d in doc_created)
        t0 = self.t0
        app_delivered = [(round(datetime.fromisoformat(c).timestamp() - t0, 3), size) for c, size in hub.execute(
            "SELECT completed_at, size FROM documents WHERE van = ?", [VAN])]
        app_delivered += [(round(datetime.fromisoformat(r[5]).timestamp() - t0, 3), len(r[6].encode()))
                          for r in hub_rows.values()]
        app_delivered.sort()
        doc_bytes = sum(b["size"] for b in van_docs.values())
        tx_bytes = van.execute("SELECT coalesce(sum(length(body)), 0) FROM outbox WHERE stream IN ('tx', 'audit')"
                               ).fetchone()[0]
        receipts = hub.execute("SELECT coalesce(sum(received), 0) FROM doc_receipts WHERE van = ?", [VAN]).fetchone()[0]
        chunks = sum(-(-b["size"] // p.CHUNK_SIZE) for b in van_docs.values())
        counts = {
            "citizens_planned": len(self.plan["citizens"]),
            "requests": len(van_requests),
            "tickets": van.execute("SELECT count(*) FROM tickets").fetchone()[0],
            "pages": len(pages),
            "document_bytes": doc_bytes,
            "tx_audit_messages": len(van_rows),
            "tx_audit_body_bytes": tx_bytes,
            "audit_entries": van_audit[0],
            "decisions_sent": len(sent),
            "decision_outcomes": {o: sum(1 for v in outcomes.values() if v[1] == o)
                                  for o in {v[1] for v in outcomes.values()}},
            "handed_over": van.execute("SELECT count(*) FROM requests WHERE state = 'delivered'").fetchone()[0],
            "rejected": van.execute("SELECT count(*) FROM requests WHERE state = 'rejected'").fetchone()[0],
            "inbox": van.execute("SELECT count(*) FROM inbox").fetchone()[0],
            "doc_chunks": chunks,
            "doc_chunk_receipts": receipts,
            "telemetry_at_hub": (hub.execute("SELECT telemetry_at FROM vans WHERE van = ?", [VAN]).fetchone()
                                 or [None])[0],
            "telemetry_history_rows": hub.execute("SELECT count(*) FROM telemetry_history WHERE van = ?",
                                                  [VAN]).fetchone()[0],
            "sync_sessions": int((van.execute("SELECT value FROM sync_state WHERE key = 'session'").fetchone()
                                  or [0])[0]),
            "outbox_pending": pending,
            "hub_view_mismatches": len(view_mismatch),
        }
        van.close()
        hub.close()
        return {
            "started_at": datetime.fromtimestamp(self.t0, UTC).isoformat(timespec="seconds"),
            "load_average_end": [round(x, 2) for x in os.getloadavg()],
            "cpus": os.cpu_count(),
            "params": _jsonable(asdict(self.params)),
            "plan_events": self.plan["events"],
            "log": self.log,
            "samples": self.samples,
            "decisions": self.decisions,
            "link_stats": self.link_stats,
            "counts": counts,
            "lost": lost,
            "duplicated": dup,
            "lost_total": sum(lost.values()),
            "duplicated_total": sum(dup.values()),
            "outbox_pending": pending,
            "audit": {"van_ok": van_break is None, "hub_ok": hub_audit_ok, "hub_entries": len(entries),
                      "van_break": str(van_break) if van_break else None,
                      "hub_break": str(hub_break) if hub_break else None},
            "document_hash_mismatches": sha_mismatch,
            "latency_tx_s": latency_tx,
            "latency_doc_s": latency_doc,
            "app_delivered": app_delivered,
            "problems": problems,
            "out": str(self.out),
        }


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def check_available() -> None:
    reason = unavailable_reason()
    if reason:
        raise SoakUnavailable(f"the field soak cannot run here: {reason}. It needs root, `ip netns` and "
                              "/dev/net/tun (it builds two network namespaces joined by an emulated LTE link).")


def run_soak(params: Params, soak: Soak | None = None) -> dict:
    """Run the soak and write results.json to params.out (the report: bench.soak.report.write_report)."""
    check_available()
    soak = soak or Soak(params)
    results = soak.run()
    results["ok"] = (results["lost_total"] == 0 and results["duplicated_total"] == 0 and results["outbox_pending"] == 0
                     and results["audit"]["van_ok"] and results["audit"]["hub_ok"] and results["drained"]
                     and results["document_hash_mismatches"] == 0 and not results["problems"])
    (soak.out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))
    return results




"""The downlink fuzz rig: a real Mosquitto on loopback, the real hub (so the van's outbox is acked and drains)
and the real ``edge sync`` process of one van, with a publisher that plays a hostile governorate and a spy on
the van's uplink. :meth:`FuzzRig.run_batch` sends one drawn batch (tests/support/downlink_strategies.py) while
the van enqueues uplink rows, and checks, after every batch:

- the sync process never exited (it is restarted if it did, and that counts against it);
- every message that decodes as an inbox downlink is recorded in the inbox exactly once, as applied or
  rejected (rejected with a reason), with exactly one ``downlink.applied`` answer carrying that outcome,
  and that answer reached the broker; where the content decides the outcome, it is the right one;
- a replay changes nothing (no second inbox row, no second answer);
- the outbox drains: every tx row the van enqueued reaches the broker and is acked;
- a catalogue the van applied is one it can work with: a request can be registered for each of its
  (changed) services, and what that queues is something the van can send.

Shared by tests/sync/test_downlink_fuzz.py and ``python -m bench.downlink_fuzz``.
"""

from __future__ import annotations

import collections
import copy
import json
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import cbor2
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from common.keys import make_dev_keys
from edge.core import catalogue as catalogue_mod
from edge.core import issuing, trust
from edge.core import requests as rq
from edge.core.citizens import Citizen
from edge.core.errors import EdgeError
from edge.core.national_id import parse
from edge.store import catalogues, outbox
from edge.store import requests as store_requests
from edge.store.db import open_db, transaction
from edge.sync import protocol as p
from tests.support import downlink_strategies as ds
from tests.support.mqtt_broker import Broker
from tests.support.sync_harness import GOV, VAN, fill_outbox, kill9, spawn, start_hub, van_settings

TICKET = {"number": "A001", "series": "A", "seq": 1, "category": "BLD", "priority": "none", "state": "waiting",
          "issued_at": "2026-11-21T08:00:00+00:00", "called_at": None, "counter": None, "recalls": 0,
          "started_at": None, "finished_at": None, "transferred_to": None, "transferred_from": None}  # fmt: skip
CITIZEN = Citizen(parse("29001010112355"), "منى أحمد حسن", "01012345678")


class FuzzFailure(AssertionError):
    pass


@dataclass
class Stats:
    examples: int = 0
    messages: int = 0
    sent_per_kind: collections.Counter = field(default_factory=collections.Counter)  # topic kind
    sent_per_fault: collections.Counter = field(default_factory=collections.Counter)
    broken_by_way: collections.Counter = field(default_factory=collections.Counter)
    refused: collections.Counter = field(default_factory=collections.Counter)  # ProtocolError reason
    applied: collections.Counter = field(default_factory=collections.Counter)  # kind
    rejected: collections.Counter = field(default_factory=collections.Counter)  # kind
    reasons: collections.Counter = field(default_factory=collections.Counter)  # "kind: error" of rejections
    acks: int = 0
    not_arriving: int = 0
    replays: int = 0
    duplicates_recorded: int = 0  # a replay recorded a second time (must stay 0)
    agent_restarts: int = 0  # must stay 0
    ticket_rows: int = 0  # tx rows the van enqueued while the fuzz ran (besides requests and answers)
    uplink_rows: int = 0  # every tx row the van queued: tickets, requests, downlink.applied answers
    uplink_delivered: int = 0  # of those, seen at the broker and acked
    requests_registered: int = 0
    catalogues_applied: list = field(default_factory=list)
    trust_lists_applied: int = 0
    code_choked: int = 0  # rejected because the van's code raised something other than an EdgeError
    seconds: float = 0.0

    def figures(self) -> dict:
        return {
            "examples": self.examples, "messages_sent": self.messages,
            "sent_per_kind": dict(sorted(self.sent_per_kind.items())),
            "sent_per_fault": dict(sorted(self.sent_per_fault.items())),
            "broken_by_way": dict(sorted(self.broken_by_way.items())),
            "refused_by_protocol": dict(sorted(self.refused.items())),
            "applied": dict(sorted(self.applied.items())), "rejected": dict(sorted(self.rejected.items())),
            "acks": self.acks, "not_arriving": self.not_arriving, "replays": self.replays,
            "duplicates_recorded": self.duplicates_recorded, "agent_restarts": self.agent_restarts,
            "ticket_rows_enqueued": self.ticket_rows, "tx_rows_queued": self.uplink_rows,
            "tx_rows_delivered": self.uplink_delivered,
            "outbox_drained": self.uplink_rows == self.uplink_delivered,
            "requests_registered": self.requests_registered,
            "catalogues_applied": len(self.catalogues_applied), "trust_lists_applied": self.trust_lists_applied,
            "rejected_because_van_code_raised": self.code_choked, "seconds": round(self.seconds, 1),
            "rejection_reasons": dict(self.reasons.most_common(25)),
        }  # fmt: skip


@dataclass
class Sent:
    payload: bytes
    kind: str
    expectation: ds.Expectation
    outcome: tuple | None = None  # (outcome, error) in the inbox, once checked


class Spy:
    """A plain (not shared) subscriber on the van's tx uplink: sees what the hub sees."""

    def __init__(self, port: int):
        self.tx: set[str] = set()
        self.reports: dict[str, set[tuple[str, str, str | None]]] = collections.defaultdict(set)
        self.bad: list[str] = []
        self.lock = threading.Lock()
        self.client = _client(port)
        self.client.on_message = self._on_message
        self.client.subscribe(p.up_topic(GOV, VAN, "tx"), qos=1)

    def _on_message(self, client, userdata, message) -> None:
        try:
            env = p.decode(message.payload, expected_van=VAN, expected_stream="tx")
        except p.ProtocolError as exc:  # the van sent something the hub refuses: a finding
            self.bad.append(str(exc))
            return
        with self.lock:
            self.tx.add(env.msg_id)
            if env.kind == "downlink.applied":
                body = env.body
                self.reports[body["msg_id"]].add((env.msg_id, body["outcome"], body["error"]))


def _client(port: int) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"fuzz-{random.random()}", protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


class FuzzRig:
    def __init__(self, folder: Path, *, timeout: float = 30.0):
        self.folder = Path(folder)
        self.timeout = timeout
        self.stats = Stats()
        self.broker = Broker(self.folder / "broker").start()
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        self.hub, self.hub_runner = start_hub(self.folder / "hub.db", self.broker.port)
        self.settings = van_settings(self.folder / "van", self.broker.url)
        self.config_path = self.folder / "van" / "van.toml"
        now = datetime.now(UTC)
        keys = make_dev_keys(Path(self.settings.data_dir) / "keys", governorate=GOV, van=VAN, now=now)
        other_ca = issuing.make_ca(GOV, now=now)
        other_signer = issuing.make_van_signer(other_ca, VAN, now=now)
        cctv = Path(self.settings.data_dir) / "cctv"
        cctv.mkdir(parents=True, exist_ok=True)
        (cctv / "front.jpg").write_bytes(b"\xff\xd8\xff\xe0 a picture \xff\xd9")
        self.default_catalogue = catalogue_mod.load_default()
        numbers = fill_outbox(self.settings, 3)
        self.ctx = ds.FuzzContext(
            van=VAN, gov=GOV, numbers=numbers, ca=keys.ca, other_ca=other_ca,
            certificates={"ca": keys.ca.certificate, "signer": keys.signer.certificate,
                          "other-signer": other_signer.certificate},
            catalogue=catalogue_mod.to_dict(self.default_catalogue), cameras=tuple(self.settings.devices.cameras),
        )  # fmt: skip
        self.ctx.versions["catalog"] = self.default_catalogue.version
        self.db = open_db(self.settings.db_path)
        self.spy = Spy(self.broker.port)
        self.publisher = _client(self.broker.port)
        self.log = self.folder / "sync.log"
        self.proc = spawn(["edge.cli", "--config", str(self.config_path), "sync"], self.log)
        self.history: list[Sent] = []  # messages the van recorded, for replays
        self.recorded: dict[str, Sent] = {}  # msg_id -> the message that was first recorded
        self.expected_up: set[str] = set(r.msg_id for r in outbox.pending(self.db, "tx", limit=10_000))
        self.catalogue_version = self.default_catalogue.version
        self._wait(lambda: self._backlog() == 0, "the van's first requests to drain")

    # --- one batch ----------------------------------------------------------------------------------

    def run_batch(self, batch: ds.Batch) -> None:
        started = time.monotonic()
        try:
            self._run_batch(batch)
        finally:
            self.stats.seconds += time.monotonic() - started
            self.stats.examples += 1

    def _run_batch(self, batch: ds.Batch) -> None:
        if self.proc.poll() is not None:  # it died in an earlier example (already reported there)
            self.stats.agent_restarts += 1
            self.proc = spawn(["edge.cli", "--config", str(self.config_path), "sync"], self.log)
        self._enqueue_uplink(batch.uplink_rows)
        self._register_requests(batch.requests)
        self.ctx.seen("catalog", catalogues.newest_version(self.db))
        self.ctx.seen("trust-list", self._trust_list_version())
        replays = collections.defaultdict(list)
        for at, replay in batch.replays:
            replays[at].append(replay)
        expected: list[ds.Expectation] = []
        replayed: list[Sent] = []
        for i, draft in enumerate(batch.drafts):
            for replay in replays.pop(i, []):
                replayed += self._replay(replay)
            expected.append(self._send(draft))
        for replay in (r for rest in replays.values() for r in rest):
            replayed += self._replay(replay)
        # A command the van must apply, last: once it is in the inbox, everything before it was handled.
        sentinel = ds.Draft("command", {"msg_id": ds.Fresh(), "van": VAN, "kind": "command",
                                        "schema": p.SCHEMA_VERSION, "created_at": ds.Fresh(),
                                        "body": {"name": "ping", "args": {}}}, "sentinel")  # fmt: skip
        expected.append(self._send(sentinel))
        recorded = [e for e in expected if e.recorded]
        self._wait(lambda: all(self._inbox(e.msg_id) for e in recorded), "every recorded downlink in the inbox")
        for e in recorded:
            self._check_recorded(e)
        self._check_catalogue()
        self._wait(lambda: self._backlog() == 0, "the outbox to drain")
        self._wait(lambda: self.expected_up <= self.spy.tx, "every tx row at the broker")
        self.stats.uplink_delivered = len(self.expected_up & self.spy.tx)
        for e in recorded:
            reports = self.spy.reports.get(e.msg_id, set())
            if len({(outcome, error) for _, outcome, error in reports}) != 1 or len(reports) != 1:
                raise FuzzFailure(f"downlink {e.kind} {e.msg_id}: answers at the broker {reports}, want one")
        for sent in replayed:  # changed nothing: the first outcome stands, answered once
            e = sent.expectation
            now = self._inbox(e.msg_id)
            reports = self.spy.reports.get(e.msg_id, set())
            queued = self.db.execute(
                "SELECT count(*) FROM outbox WHERE kind = 'downlink.applied' AND json_extract(body, '$.msg_id') = ?",
                [e.msg_id]).fetchone()[0]  # fmt: skip
            if now != sent.outcome or queued != 1 or len(reports) != 1:
                self.stats.duplicates_recorded += 1
                raise FuzzFailure(f"a replay of {e.kind} {e.msg_id} changed something: inbox {sent.outcome} -> "
                                  f"{now}, {queued} answers queued, {len(reports)} at the broker")
        if self.spy.bad:
            raise FuzzFailure(f"the van sent what the hub refuses: {self.spy.bad[:3]}")
        self._check_log()
        if self.proc.poll() is not None:
            raise FuzzFailure(f"edge sync exited ({self.proc.returncode}):\n{self.log_tail()}")

    def _send(self, draft: ds.Draft) -> ds.Expectation:
        if draft.fields is not None and isinstance(draft.fields, dict) and isinstance(
                draft.fields.get("created_at"), ds.Fresh):  # fmt: skip
            draft = ds.Draft(draft.topic_kind, draft.fields | {"created_at": datetime.now(UTC).isoformat()},
                             draft.fault, draft.encoding, draft.cut_at, draft.topic_van)
        payload = ds.render(self.ctx, draft)
        expectation = ds.expect(self.ctx, draft.topic_kind, draft.topic_van, payload)
        if expectation.crash:
            raise FuzzFailure(f"decoding a {draft.topic_kind} raised {expectation.crash}: the agent would die")
        self._publish(draft.topic_van, draft.topic_kind, payload)
        self.stats.messages += 1
        self.stats.sent_per_kind[draft.topic_kind] += 1
        self.stats.sent_per_fault[draft.fault] += 1
        if draft.how:
            self.stats.broken_by_way[draft.how] += 1
        if not expectation.arrives:
            self.stats.not_arriving += 1
        elif expectation.why == "ack":
            self.stats.acks += 1
        elif not expectation.recorded:
            self.stats.refused[expectation.why] += 1
        if expectation.recorded:
            if expectation.msg_id in self.recorded:
                # A fresh id never repeats; a drawn one (a fixed "valid" ULID) may: then it is a replay.
                return ds.Expectation(True, False, expectation.kind, expectation.msg_id, why="duplicate")
            sent = Sent(payload, draft.topic_kind, expectation)
            self.recorded[expectation.msg_id] = sent
            self.history.append(sent)
        return expectation

    def _replay(self, replay: ds.Replay) -> list[Sent]:
        if not self.history:
            return []
        original = self.history[replay.pick % len(self.history)]
        payload = original.payload
        if replay.altered:
            fields = cbor2.loads(payload)
            fields["created_at"] = datetime.now(UTC).isoformat()
            payload = cbor2.dumps(fields, canonical=True)
        self._publish(VAN, original.kind, payload)
        self.stats.messages += 1
        self.stats.replays += 1
        self.stats.sent_per_kind[original.kind] += 1
        self.stats.sent_per_fault["replay"] += 1
        return [original]

    def _publish(self, van: str, kind: str, payload: bytes) -> None:
        topic = f"{p.PREFIX}/{GOV}/{van}/down/{kind}"
        self.publisher.publish(topic, payload, qos=1).wait_for_publish(timeout=10)

    # --- checks -------------------------------------------------------------------------------------

    def _inbox(self, msg_id: str) -> tuple | None:
        if self.proc.poll() is not None:
            raise FuzzFailure(f"edge sync exited ({self.proc.returncode}):\n{self.log_tail()}")
        return self.db.execute("SELECT outcome, error FROM inbox WHERE msg_id = ?", [msg_id]).fetchone()

    def _check_recorded(self, e: ds.Expectation) -> None:
        outcome, error = self.recorded[e.msg_id].outcome = self._inbox(e.msg_id)
        (self.stats.applied if outcome == "applied" else self.stats.rejected)[e.kind] += 1
        if outcome == "rejected":
            self.stats.reasons[f"{e.kind}: {(error or '')[:70]}"] += 1
            if not (error or "").strip():
                raise FuzzFailure(f"{e.kind} {e.msg_id} rejected without a reason")
            if "could not apply it" in error:
                self.stats.code_choked += 1
        if e.must is not None and outcome != e.must:
            raise FuzzFailure(f"{e.kind} {e.msg_id} was {outcome} ({error}); it must be {e.must}: {e.why}\n"
                              f"message: {_short(e.decoded)}")
        if outcome == "applied" and e.kind == "trust-list":
            self.stats.trust_lists_applied += 1
        rows = self.db.execute(
            "SELECT json_extract(body, '$.outcome'), json_extract(body, '$.error') FROM outbox "
            "WHERE stream = 'tx' AND kind = 'downlink.applied' AND json_extract(body, '$.msg_id') = ?",
            [e.msg_id]).fetchall()  # fmt: skip
        if rows != [(outcome, error)]:
            raise FuzzFailure(f"{e.kind} {e.msg_id} ({outcome}): answers queued {rows}, want exactly one")
        count = self.db.execute("SELECT count(*) FROM inbox WHERE msg_id = ?", [e.msg_id]).fetchone()[0]
        if count != 1:
            self.stats.duplicates_recorded += 1
            raise FuzzFailure(f"{e.kind} {e.msg_id} recorded {count} times")
        self.expected_up |= {r[0] for r in self.db.execute(
            "SELECT msg_id FROM outbox WHERE kind = 'downlink.applied' AND json_extract(body, '$.msg_id') = ?",
            [e.msg_id])}  # fmt: skip

    def _check_catalogue(self) -> None:
        """A newly applied catalogue must be one the van can work with: register a request for each service
        that differs from the shipped one (and the first), as the operators would, and send it up."""
        version = catalogues.newest_version(self.db)
        if version is None or version == self.catalogue_version:
            return
        self.catalogue_version = version
        self.stats.catalogues_applied.append(version)
        try:
            cat = catalogues.newest(self.db)
        except Exception as exc:  # noqa: BLE001
            raise FuzzFailure(f"catalogue v{version} was applied but cannot be read back: {exc!r}") from exc
        shipped = {s.code: s for s in self.default_catalogue.services}
        services = [s for i, s in enumerate(cat.services) if i == 0 or shipped.get(s.code) != s]
        for service in services[:60]:
            try:
                with transaction(self.db):
                    number = store_requests.submit(
                        self.db, van_id=VAN, catalogue=cat, service_code=service.code, citizen=CITIZEN,
                        payment=rq.Payment("cash", service.fee_piastres), operator="operator:1")
            except EdgeError:
                continue  # refused with a message for the operator: fine
            except Exception as exc:  # noqa: BLE001 - the kiosk or console would crash on it
                raise FuzzFailure(f"catalogue v{version} was applied, and registering a request for its service "
                                  f"{service.code[:40]!r} raises {type(exc).__name__}: {exc}") from exc
            self.stats.requests_registered += 1
            self.ctx.numbers.append(str(number))
        for stream in ("tx", "audit"):
            for row in outbox.pending(self.db, stream, limit=100_000):
                try:
                    p.encode_outbox_row(row, VAN)
                except p.ProtocolError as exc:
                    raise FuzzFailure(f"catalogue v{version} was applied, and registering requests for it queued "
                                      f"a {row.kind} the van cannot send: {exc}") from exc
                if stream == "tx":
                    self.expected_up.add(row.msg_id)

    def _check_log(self) -> None:
        text = self.log.read_text(errors="replace")
        if "not applied now" in text:
            raise FuzzFailure("a downlink escaped the inbox (it would be sent again and again):\n" + self.log_tail())

    # --- helpers ------------------------------------------------------------------------------------

    def _enqueue_uplink(self, rows: int) -> None:
        with transaction(self.db):
            for _ in range(rows):
                self.expected_up.add(outbox.enqueue(self.db, "tx", "ticket.issued", TICKET).msg_id)
        self.stats.ticket_rows += rows

    def _register_requests(self, count: int) -> None:
        """New requests, as the operators register them all day (each a tx row and an audit row)."""
        cat = catalogues.newest(self.db) or self.default_catalogue
        first = self.default_catalogue.services[0]
        service = next((s for s in cat.services if s.code == first.code), cat.services[0])
        for _ in range(count):
            with transaction(self.db):
                number = store_requests.submit(
                    self.db, van_id=VAN, catalogue=cat, service_code=service.code, citizen=CITIZEN,
                    payment=rq.Payment("cash", service.fee_piastres), operator="operator:1")
            self.ctx.numbers.append(str(number))
            self.stats.requests_registered += 1
        self.expected_up |= {r.msg_id for r in outbox.pending(self.db, "tx", limit=100_000)}

    def _trust_list_version(self) -> int | None:
        keys = Path(self.settings.data_dir) / "keys"
        try:
            return trust.verify_list((keys / trust.TRUST_LIST_FILE).read_bytes(), self.ctx.certificates["ca"]).version
        except (OSError, EdgeError):
            return None

    def _backlog(self) -> int:
        if self.proc.poll() is not None:
            raise FuzzFailure(f"edge sync exited ({self.proc.returncode}):\n{self.log_tail()}")
        return outbox.backlog(self.db).pending

    def _wait(self, condition, what: str) -> None:
        deadline = time.monotonic() + self.timeout
        while not condition():
            if time.monotonic() > deadline:
                raise FuzzFailure(f"timed out after {self.timeout} s waiting for {what}\n{self.log_tail()}")
            time.sleep(0.02)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def figures(self) -> dict:
        self.stats.uplink_delivered = len(self.expected_up & self.spy.tx)
        self.stats.uplink_rows = len(self.expected_up)
        return self.stats.figures()

    def close(self) -> None:
        """Stops whatever was started (also after a start that failed half-way)."""
        for name in ("publisher", "spy"):
            client = getattr(self, name, None)
            client = getattr(client, "client", client)
            if client is not None:
                client.loop_stop()
                client.disconnect()
        proc = getattr(self, "proc", None)
        if proc is not None and proc.poll() is None:
            kill9(proc)
        if getattr(self, "hub_runner", None) is not None:
            self.hub_runner.stop()
        if getattr(self, "db", None) is not None:
            self.db.close()
        self.broker.stop()


def _short(value) -> str:
    text = json.dumps(copy.deepcopy(vars(value.message)) if value else None, default=repr, ensure_ascii=False)
    return text if len(text) < 600 else text[:600] + "…"

"""The hub's ingest: stores each van message once, acks it after the commit, tracks presence, sends downlinks.

Several ingest workers may share one governorate through the MQTT 5 shared subscription
``$share/hub/mtc/v1/{gov}/+/up/#``. Messages are processed in batches: one transaction, then one ack
per van naming every id of the batch. An ack is only ever sent for what is committed, so a hub that
dies mid-batch simply gets the unacked messages again from the vans.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import cbor2
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.core import requests as rq
from edge.core.errors import EdgeError
from edge.sync import protocol as p
from edge.sync.chunks import Reassembly
from governorate import admission, fleet, metrics, quarantine, rollouts
from governorate import updates as updates_mod
from governorate.store import HubStore, counters_args, execute_each, execute_many, execute_values, now_iso, parse_iso

log = logging.getLogger("governorate.ingest")

BATCH_MAX = 500
BATCH_WAIT_S = 0.05
RESEND_DOWNLINKS_EVERY_S = 120.0
HUB_SESSION_EXPIRY_S = 24 * 3600
HISTORY_EVERY_S = 60  # telemetry history: one snapshot per van per minute is enough for the charts
# Alerts are evaluated here, not when someone opens a page: every ALERTS_EVERY_S (what only time changes:
# a van silent for too long), and within ALERTS_SOON_S of a batch that carried telemetry or presence.
ALERTS_EVERY_S = 15.0
# A van whose counters went back is told the highest request sequence of each day of its requests submitted in the
# last days before its birth: it numbers only today's (Cairo), three days cover the day's edges and a clock off by one.
COUNTER_DAYS = 3
# A van whose counter goes back again within this of the last time it was sent again the downlinks it had applied is
# not sent them again (its counters, a few bytes, it is always told).
WENT_BACK_TELL_EVERY = timedelta(hours=1)
MAX_COUNTER_DAYS = 31  # what the van takes (edge.sync.downlink.MAX_COUNTER_DAYS)
MAX_COUNTER_SESSION = 2**32  # likewise (edge.sync.downlink.MAX_COUNTER_SESSION): the hub tells no more
ALERTS_SOON_S = 1.0
# The loop turns at least every 0.2 s (a batch takes well under a second): one that has not turned for
# this long is stuck (a database lock held for ever, a hung connection), and the watchdog gives up on it.
HUNG_AFTER_S = 90.0


@dataclass
class _Outcome:
    acked: list[str]
    rejected: list[p.Rejected]
    docs: dict[str, p.DocAck]
    births: list[str]
    refused: list[str] = field(default_factory=list)  # reasons, for the metrics (counted once committed)
    seen: bool = False  # the van's last_seen is already written in this batch (once per van, not per message)
    update_report: bool = False  # a tel.update about the release offered to it: its next chunks may go
    went_back: str | None = None  # the created_at of a birth whose counter went back: downlinks applied go again


@dataclass(frozen=True)
class _Refusal:
    """Why a message is refused before it touches the database (its schema or admission)."""

    van: str
    msg_id: str | None
    stream: str | None
    kind: str | None
    reason: str
    detail: str


@dataclass(frozen=True)
class Downlink:
    """A recorded downlink, ready to publish."""

    msg_id: str
    van: str
    kind: str
    payload: bytes
    held: bool = False  # the van's software is older than this downlink's schema: it waits for the upgrade


class Hub:
    def __init__(self, store: HubStore, governorate: str, host: str = "127.0.0.1", port: int = 1883,
                 *, worker: str = "1", tls: dict | None = None, listen: bool = True,
                 thresholds: fleet.Thresholds | None = None):
        self.store = store
        # None: this Hub raises no alerts (a sender only; the ingest workers do it).
        self.thresholds = thresholds
        self._alerts_at = 0.0  # monotonic time of the next evaluation
        self._alerts_failed = ""
        self.gov = governorate
        # listen=False: a sender only (the web back office), which must not take a share of the uplink.
        self.listen = listen
        self.host, self.port = host, port
        self.inbox: queue.Queue[tuple[str, bytes, float]] = queue.Queue()  # topic, payload, monotonic arrival
        self._arrived: float | None = None  # when the oldest message of the batch being processed arrived
        self.beat = time.monotonic()  # the loop's last turn: the watchdog's sign that it does not hang
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"hub-{governorate}-{worker}",
                                  protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        if tls:
            self.client.tls_set(**tls)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self._subscribed_mid: int | None = None
        self.client.on_message = lambda c, u, m: self.inbox.put((m.topic, m.payload, time.monotonic()))
        self.client.reconnect_delay_set(1, 30)
        self.connected = threading.Event()
        self._parked: bool | None = None
        # Software releases offered to vans, sent in chunks at the lowest priority (governorate/updates.py).
        self.updates = updates_mod.Updates(
            store, lambda van, kind, payload: self.client.publish(p.down_topic(self.gov, van, kind), payload, qos=1))

    # --- lifecycle ----------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        if self.listen:
            # A session that outlives the connection: while this worker restarts (or the broker does,
            # with persistence), the broker keeps its shared subscription and queues the vans' messages
            # for it, instead of dropping what arrives in between (they would wait for the van's 30 s
            # ack timeout). A retired worker's session lapses after HUB_SESSION_EXPIRY_S.
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = HUB_SESSION_EXPIRY_S
            self.client.connect_async(self.host, self.port, keepalive=30, clean_start=False, properties=props)
        else:
            self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()
        next_resend = time.monotonic() + RESEND_DOWNLINKS_EVERY_S
        next_pump = time.monotonic()
        try:
            while not stop.is_set():
                self.beat = time.monotonic()
                batch = self._take_batch()
                if batch:
                    try:
                        self._process(batch)
                    except Exception:
                        metrics.BATCH_FAILURES.inc()
                        # The database itself failed (full disk, lost connection …). Nothing was acked, so
                        # the vans send these messages again after their ack timeout: keep running.
                        log.exception("a batch of %d messages could not be stored; the vans will resend it",
                                      len(batch))
                        stop.wait(1.0)
                if time.monotonic() >= next_resend:
                    self.resend_pending_downlinks()
                    next_resend = time.monotonic() + RESEND_DOWNLINKS_EVERY_S
                if self.listen and time.monotonic() >= next_pump:
                    next_pump = time.monotonic() + updates_mod.PUMP_EVERY_S
                    for step in (lambda: rollouts.drive(self.store, self.updates),
                                 # The cancel of a deferred release the plan no longer gives a van: a small downlink
                                 # now, before the release's chunks (which wait for the van's backlog).
                                 lambda: rollouts.tell(self.store, self.updates, self),
                                 self.updates.pump_all):
                        try:  # each on its own: one failing (a van's odd report) does not stop the others
                            step()
                        except Exception:  # noqa: BLE001 - a release folder gone, the database busy: the uplink goes on
                            log.exception("sending software updates failed; trying again in %.0f s",
                                          updates_mod.PUMP_EVERY_S)
                if self.thresholds is not None and time.monotonic() >= self._alerts_at:
                    self.evaluate_alerts()
        finally:
            self.client.disconnect()
            self.client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("broker refused the hub: %s", reason_code)
            return
        if not self.listen:
            self.connected.set()
            return
        # Shared subscriptions never deliver retained messages: read the vans' retained birth/will
        # through a plain subscription as well (the repeat is deduplicated by message id).
        _rc, self._subscribed_mid = client.subscribe(
            [(p.hub_subscription(self.gov), 1), (f"{p.PREFIX}/{self.gov}/+/up/status", 1)])
        log.info("hub for governorate %s connected", self.gov)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        # "Connected" once the broker has taken the subscriptions, not when they were queued to be sent: a van's
        # message published in between was lost (a test and the update bench each caught it under load).
        if mid != self._subscribed_mid:
            return
        if any(rc.is_failure for rc in reason_codes):
            log.error("broker refused the hub's subscriptions: %s", [str(rc) for rc in reason_codes])
            return
        self.connected.set()

    def _take_batch(self) -> list[tuple[str, bytes]]:
        try:
            batch = [self.inbox.get(timeout=0.2)]
        except queue.Empty:
            self._arrived = None
            return []
        deadline = time.monotonic() + BATCH_WAIT_S
        while len(batch) < BATCH_MAX:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self.inbox.get(timeout=remaining))
            except queue.Empty:
                break
        self._arrived = batch[0][2]
        return [(topic, payload) for topic, payload, _ in batch]

    # --- ingest -------------------------------------------------------------------------------

    def _process(self, batch: list[tuple[str, bytes]]) -> None:
        # By van (stable, so each van's messages keep their order): two workers then lock the vans'
        # rows in the same order and cannot deadlock on PostgreSQL. SQLite has one writer anyway.
        batch = sorted(batch, key=lambda item: item[0].split("/")[3] if item[0].count("/") >= 5 else "")
        isolated = False  # first the whole batch at once; after an unexpected error, message by message
        received_at = now_iso()
        try:
            # Python only (topic, schema, admission), before the transaction: the write lock (SQLite's, or
            # the vans' rows on PostgreSQL) is not held while the batch is decoded and checked.
            admitted = [(payload, self._admit(topic_text, payload, received_at)) for topic_text, payload in batch]
        except Exception as exc:  # noqa: BLE001 - a fault the hub did not foresee: found message by message
            log.warning("a batch of %d could not be read (%s: %s); applying it message by message",
                        len(batch), type(exc).__name__, exc)
            admitted, isolated = [], True
        for attempt in range(6):
            outcomes: dict[str, _Outcome] = defaultdict(lambda: _Outcome([], [], {}, []))
            self._parked: bool | None = None  # whether any state change waits for its request (read lazily)
            try:
                with self.store.transaction() as conn:
                    if isolated:
                        for topic_text, payload in batch:
                            self._ingest_isolated(conn, topic_text, payload, received_at, outcomes)
                    else:
                        self._ingest_batch(conn, admitted, received_at, outcomes)
                break
            except Exception as exc:
                if attempt == 5:
                    raise
                if not self.store.retryable(exc):
                    if isolated:
                        raise  # the database itself fails (disk, connection): nothing is acked
                    log.warning("a batch of %d failed (%s: %s); applying it message by message",
                                len(batch), type(exc).__name__, exc)
                    isolated = True
                    continue
                log.info("batch conflicted with another worker (%s); retrying", exc)
        metrics.BATCHES.inc()
        for out in outcomes.values():
            metrics.ACKED.inc(len(out.acked))
            for reason in out.refused:
                metrics.REFUSED.labels(reason).inc()
        if any("/up/tel" in topic or "/up/status" in topic for topic, _ in batch):
            self._alerts_at = min(self._alerts_at, time.monotonic() + ALERTS_SOON_S)
        # Acks only after the commit: an acked message is on disk.
        for van, out in outcomes.items():
            if out.acked or out.rejected or out.docs:
                for start in range(0, max(len(out.acked), 1), p.MAX_ACK_IDS):
                    ack = p.Ack(tuple(out.acked[start:start + p.MAX_ACK_IDS]),
                                tuple(out.docs.values()) if start == 0 else (),
                                tuple(out.rejected) if start == 0 else ())
                    self.client.publish(p.down_topic(self.gov, van, "ack"), p.encode_down(ack, van=van), qos=1)
            for _ in out.births:
                self.resend_pending_downlinks(van)
            if out.went_back:
                self.resend_applied_downlinks(van, out.went_back)
            if out.update_report:
                try:
                    self.updates.pump(van)
                except Exception:  # noqa: BLE001 - as in run(): the uplink goes on
                    log.exception("sending the next update chunks to %s failed", van)
        if self._arrived is not None:
            metrics.ACK_LATENCY.observe(time.monotonic() - self._arrived)
            self._arrived = None

    def hung(self) -> str | None:
        """Why the ingest loop is stuck, or None while it turns (common.sdnotify's watchdog asks)."""
        idle = time.monotonic() - self.beat
        return f"the ingest loop has not turned for {idle:.0f} s" if idle > HUNG_AFTER_S else None

    def ingest_now(self, batch: list[tuple[str, bytes]]) -> None:
        """Process (topic, payload) messages as if they had just arrived: stored, acked or quarantined
        (staff releasing a quarantined message, governorate.quarantine.release)."""
        self._process(batch)

    def evaluate_alerts(self) -> None:
        """Raise and clear the fleet's alerts now (governorate.fleet.evaluate_alerts); a failure is logged
        once per cause and retried at the next turn, never the end of the ingest."""
        self._alerts_at = time.monotonic() + ALERTS_EVERY_S
        try:
            fleet.evaluate_alerts(self.store, self.thresholds or fleet.Thresholds())
        except Exception as exc:  # noqa: BLE001 - alerts must never stop the ingest
            metrics.ALERT_EVALUATIONS.labels("failed").inc()
            what = f"{type(exc).__name__}: {exc}"
            if what != self._alerts_failed:
                log.exception("alerts could not be evaluated; trying again in %.0f s", ALERTS_EVERY_S)
            self._alerts_failed = what
        else:
            metrics.ALERT_EVALUATIONS.labels("done").inc()
            self._alerts_failed = ""

    def _ingest_isolated(self, conn, topic_text: str, payload: bytes, received_at: str, outcomes) -> None:
        """One message in its own savepoint: a failure the hub did not foresee undoes that message alone,
        which is then quarantined ("hub-error") and refused, so it neither stops the others nor loops."""
        try:
            with self.store.transaction():  # nested in the batch's: a savepoint
                self._ingest_one(conn, topic_text, payload, received_at, outcomes)
        except Exception as exc:
            if self.store.retryable(exc):
                raise
            log.exception("message on %s could not be applied; quarantined", topic_text)
            van = _topic_van(topic_text, self.gov)
            if van is not None:
                outcomes[van].seen = False  # its last_seen write was undone with it
                msg_id = _claimed_id(payload)
                self._refuse(conn, van, msg_id, None, None, "hub-error", f"{type(exc).__name__}: {exc}",
                             payload, received_at, outcomes)

    def _refuse(self, conn, van: str, msg_id: str | None, stream: str | None, kind: str | None, reason: str,
                detail: str, payload: bytes, received_at: str, outcomes) -> None:
        """Quarantine a refused message and, when its id is known, tell the van (it keeps the row)."""
        self._seen(conn, van, received_at, outcomes[van])  # first: locks the van's row (vans remove waits)
        quarantine.put(conn, van=van, msg_id=msg_id, stream=stream, kind=kind, reason=reason, detail=detail,
                       payload=payload, received_at=received_at)
        outcomes[van].refused.append(reason)
        if msg_id and stream != "tel":
            outcomes[van].rejected.append(p.Rejected(msg_id, reason))

    def _admit(self, topic_text: str, payload: bytes, received_at: str) -> p.Envelope | _Refusal | None:
        """The message as an envelope the hub may store; a refusal (schema, admission); None for a topic that
        is not a van's uplink to this hub (nobody to tell). Python only: nothing is written here."""
        try:
            topic = p.parse_topic(topic_text)
        except p.ProtocolError as exc:
            log.warning("message on %s refused: %s (%s)", topic_text, exc.reason, exc.detail)
            return None
        if topic.direction != "up" or topic.gov != self.gov:
            log.warning("message on %s is not for this hub", topic_text)
            return None
        try:
            env = p.decode(payload, expected_van=topic.van, expected_stream=topic.name)
        except p.ProtocolError as exc:
            log.warning("message from %s on %s refused: %s (%s)", topic.van, topic.name, exc.reason, exc.detail)
            msg_id = _claimed_id(payload)
            # Kept under the van whose topic it came on; only that van is told (so it stops waiting for
            # an ack), and not for "wrong-van": the id may be another van's.
            return _Refusal(topic.van, msg_id if exc.reason != "wrong-van" else None, topic.name, None,
                            exc.reason, exc.detail)
        try:
            admission.check(env.stream, env.kind, env.created_at, env.body, parse_iso(received_at))
        except admission.Inadmissible as exc:
            log.warning("message %s from %s (%s) refused: %s", env.msg_id, env.van, env.kind, exc)
            return _Refusal(env.van, env.msg_id, env.stream, env.kind, exc.reason, exc.detail)
        return env

    def _ingest_one(self, conn, topic_text: str, payload: bytes, received_at: str, outcomes) -> None:
        """One message, statement by statement (the batch's fallback, each message in its own savepoint)."""
        env = self._admit(topic_text, payload, received_at)
        if isinstance(env, _Refusal):
            self._refuse(conn, env.van, env.msg_id, env.stream, env.kind, env.reason, env.detail, payload,
                         received_at, outcomes)
            return
        if env is None:
            return
        out = outcomes[env.van]
        self._seen(conn, env.van, received_at, out)
        if env.stream == "tel" and env.kind not in ("tel.thumbnail", "tel.update"):
            self._telemetry(conn, [env], received_at)
            return
        if env.stream in ("tel", "status", "doc"):
            self._apply(conn, env, received_at, out)
            return
        inserted = conn.execute(
            "INSERT OR IGNORE INTO messages (van, msg_id, stream, seq, kind, body, created_at, received_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", _message_row(env, received_at)).rowcount
        if inserted:
            self._project(conn, env, received_at)
        out.acked.append(env.msg_id)  # a replay is acked again, never stored again

    def _ingest_batch(self, conn, admitted: list[tuple[bytes, p.Envelope | _Refusal | None]], received_at: str,
                      outcomes) -> None:
        """The whole batch in a few statements, one per kind of write instead of 3-4 per message: what lets a
        database across a network (PostgreSQL) keep up. The outcome is _ingest_one's, message after message;
        any failure undoes the batch, and _process then applies it message by message. ``admitted``: each
        message's payload and what _admit made of it."""
        # Every van heard from (the broker vouches for the topic's van, refused or not): one statement, the
        # vans in order, so two workers lock their rows in the same order.
        vans = sorted({a.van for _, a in admitted if a is not None})
        execute_values(conn, "INSERT INTO vans (van, last_seen)", [[van, received_at] for van in vans],
                       "ON CONFLICT (van) DO UPDATE SET last_seen = excluded.last_seen")
        for van in vans:
            outcomes[van].seen = True
        records, snapshots, others = [], [], []
        for payload, env in admitted:
            if isinstance(env, _Refusal):
                self._refuse(conn, env.van, env.msg_id, env.stream, env.kind, env.reason, env.detail, payload,
                             received_at, outcomes)
            elif env is None:
                continue
            elif env.stream == "tel" and env.kind not in ("tel.thumbnail", "tel.update"):
                snapshots.append(env)
            elif env.stream in ("tel", "status", "doc"):
                others.append(env)
            else:
                records.append(env)
        if snapshots:
            self._telemetry(conn, snapshots, received_at)
        for env in others:
            self._apply(conn, env, received_at, outcomes[env.van])
        if records:
            new = self._store_records(conn, records, received_at)
            self._project_all(conn, [env for env, stored in zip(records, new, strict=True) if stored], received_at)
            for env in records:
                outcomes[env.van].acked.append(env.msg_id)  # a replay is acked again, never stored again

    def _apply(self, conn, env: p.Envelope, received_at: str, out: _Outcome) -> None:
        """A thumbnail, an update report, presence or document chunk (few, each its own statements on either path)."""
        if env.kind == "tel.update":
            out.update_report = updates_mod.Updates.report(conn, env.van, env.body, received_at) or out.update_report
        elif env.stream == "tel":
            conn.execute("INSERT INTO thumbnails (van, camera, taken_at, jpeg, received_at) VALUES (?, ?, ?, ?, ?) "
                         "ON CONFLICT (van, camera) DO UPDATE SET taken_at = excluded.taken_at, "
                         "jpeg = excluded.jpeg, received_at = excluded.received_at",
                         [env.van, env.body["camera"], env.body["at"], env.body["jpeg"], received_at])
        elif env.stream == "status":
            if self._presence(conn, env, received_at, out) and env.kind == "status.birth":
                out.births.append(env.msg_id)
        elif env.stream == "doc":
            out.acked.append(env.msg_id)
            out.docs[env.body["doc_id"]] = self._chunk(conn, env, received_at)

    def _telemetry(self, conn, snapshots: list[p.Envelope], received_at: str) -> None:
        """Latest wins; a time stored before admission checks existed that lies ahead of now (a van clock in
        year 9999) must not hide every later snapshot. One statement per snapshot, in order, in one call."""
        texts = [json.dumps(env.body["values"], ensure_ascii=False) for env in snapshots]
        execute_many(conn, "UPDATE vans SET telemetry = ?, telemetry_at = ? WHERE van = ? "
                           "AND (telemetry_at IS NULL OR telemetry_at <= ? OR telemetry_at > ?)",
                     [[text, env.body["at"], env.van, env.body["at"], received_at]
                      for env, text in zip(snapshots, texts, strict=True)])
        self._keep_history(conn, snapshots, texts)

    def _store_records(self, conn, records: list[p.Envelope], received_at: str) -> list[bool]:
        """Insert the batch's records (tx, audit) at once: for each, whether it is new (False for a replay,
        and for a repeat of a message earlier in the same batch)."""
        rows, keys = [], set()
        for env in records:
            if (env.van, env.msg_id) not in keys:
                keys.add((env.van, env.msg_id))
                rows.append(_message_row(env, received_at))
        inserted = {(van, msg_id) for van, msg_id in execute_values(
            conn, "INSERT INTO messages (van, msg_id, stream, seq, kind, body, created_at, received_at)", rows,
            "ON CONFLICT DO NOTHING RETURNING van, msg_id")}
        new = []
        for env in records:
            new.append((env.van, env.msg_id) in inserted)
            inserted.discard((env.van, env.msg_id))  # its repeat later in the batch is a replay
        return new

    def _project_all(self, conn, envs: list[p.Envelope], at: str) -> None:
        """_project for the batch's new records: one statement per kind when every request is named once."""
        numbers = [env.body["number"] for env in envs if env.kind in ("request.submitted", "request.state")]
        if len(numbers) != len(set(numbers)):
            # A request named twice in the batch (a state change right behind its request, a number sent
            # again): the order matters, so one message after the other.
            for env in envs:
                self._project(conn, env, at)
            return
        submitted = [env for env in envs if env.kind == "request.submitted"]
        if submitted:
            self._add_requests(conn, submitted, at)
        states = [env for env in envs if env.kind == "request.state"]
        changed = execute_each(conn, "UPDATE requests SET state = ?, updated_at = ? WHERE number = ? RETURNING number",
                               [[env.body["state"], at, env.body["number"]] for env in states])
        waiting = [env for env, rows in zip(states, changed, strict=True) if not rows]
        if waiting:
            self._parked = True
            execute_many(conn, _PARK, [_parked_row(env, at) for env in waiting])
        reports = [env for env in envs if env.kind == "downlink.applied"]
        execute_many(conn, _APPLIED, [_applied_row(env, at) for env in reports])
        execute_many(conn, _LATER_REFUSED, [_later_refused_row(env) for env in reports
                                            if env.body["outcome"] in ("rejected", "applied")])
        closed = [env for env in envs if env.kind == "shift.closed"]
        execute_many(conn, _SHIFT, [_shift_row(env, at) for env in closed])
        for env in closed:
            self._shift_conflict(conn, env, at)

    def _add_requests(self, conn, submitted: list[p.Envelope], at: str) -> None:
        texts = [json.dumps(env.body, ensure_ascii=False) for env in submitted]
        new = {number for (number,) in execute_values(
            conn, "INSERT INTO requests (number, van, service_code, state, body, submitted_at, updated_at, due_on, "
                  "lat_e5, lon_e5)",
            [_request_row(env, text, at) for env, text in zip(submitted, texts, strict=True)],
            "ON CONFLICT DO NOTHING RETURNING number")}
        known = []
        for env, text in zip(submitted, texts, strict=True):
            if env.body["number"] in new:
                self._unpark(conn, env.van, env.body["number"], at)
            else:
                known.append((env, text))
        kept: dict[str, tuple[str, str]] = {}
        for start in range(0, len(known), 250):
            chunk = known[start:start + 250]
            kept.update((number, (van, body)) for number, van, body in conn.execute(
                "SELECT number, van, body FROM requests WHERE number IN (" + ", ".join("?" * len(chunk)) + ")",
                [env.body["number"] for env, _ in chunk]).fetchall())
        for env, text in known:
            self._record_conflict(conn, env, text, at, kept.get(env.body["number"]))

    @staticmethod
    def _seen(conn, van: str, received_at: str, out: _Outcome) -> None:
        if not out.seen:
            out.seen = True
            conn.execute("INSERT INTO vans (van, last_seen) VALUES (?, ?) "
                         "ON CONFLICT(van) DO UPDATE SET last_seen = excluded.last_seen", [van, received_at])

    @staticmethod
    def _keep_history(conn, snapshots: list[p.Envelope], texts: list[str]) -> None:
        rows = []
        for env, text in zip(snapshots, texts, strict=True):
            at = env.body["at"]
            minute_before = (datetime.fromisoformat(at) - timedelta(seconds=HISTORY_EVERY_S)).isoformat()
            rows.append([env.van, at, text, env.van, minute_before, at])
        # In order, one after the other: each sees the rows of the snapshots before it.
        execute_many(conn, 'INSERT OR IGNORE INTO telemetry_history (van, at, "values") SELECT ?, ?, ? '
                           "WHERE NOT EXISTS (SELECT 1 FROM telemetry_history WHERE van = ? AND at > ? AND at <= ?)",
                     rows)

    def _presence(self, conn, env: p.Envelope, received_at: str, out: _Outcome) -> bool:
        row = conn.execute("SELECT session, online, status_at, session_back, session_told_at, session_max, retired_at "
                           "FROM vans WHERE van = ?", [env.van]).fetchone()
        current = p.Presence(row[0], bool(row[1])) if row and row[0] else None
        incoming = p.Presence.of(env)
        if row and _from_before_it_went_back(incoming, env, row[3]):
            return False  # e.g. the will of the connection before the restore, delivered again after it
        status_at = row[2] if row else None
        went_back = not p.is_newer_session(current, incoming)
        if went_back:
            if not _counter_went_back(current, incoming, env, status_at):
                return False  # e.g. the late will of a session the van has already replaced
            log.warning("%s: its connection counter went back from %d to %d (its database restored from a backup?)",
                        env.van, current.session, incoming.session)
            conn.execute("UPDATE vans SET session_back = ?, session_back_at = ? WHERE van = ?",
                         [json.dumps({"from": current.session, "to": incoming.session, "at": env.created_at,
                                      "after": status_at}),
                          received_at, env.van])
        highest = max(row[5] or 0, current.session) if current else 0
        if env.kind == "status.birth" and current is not None and incoming.session <= min(highest,
                                                                                           MAX_COUNTER_SESSION):
            # A connection counted at or below one the hub saw before (restored again, perhaps from the same backup;
            # or the van has not applied its counters yet): told its counters, always (a few bytes; once pending).
            self._tell_counters(conn, env.van, highest, env.created_at, received_at)
            told = parse_iso(row[4])
            if not went_back:
                pass  # not news: the going-back was seen at an earlier birth (its downlinks went then)
            elif row[6] is not None:
                # Retired (governorate vans remove): sent nothing of the governorate's state, and the hour not used
                # up; session_back_at, later than retired_at, tells `vans add` to queue it fresh copies
                # (backoffice.queue_latest).
                log.warning("%s: its counter went back while it is retired: its downlinks wait until it is back",
                            env.van)
            elif told is not None and timedelta(0) <= parse_iso(received_at) - told < WENT_BACK_TELL_EVERY:
                # Again within the hour of the last re-send: not sent its last 60 days again (a van cycling its
                # counter on purpose would otherwise have them sent again and again).
                log.warning("%s: its counter went back again within %s: downlinks not sent again", env.van,
                            WENT_BACK_TELL_EVERY)
            else:
                conn.execute("UPDATE vans SET session_told_at = ? WHERE van = ?", [received_at, env.van])
                self._queue_unreadable(conn, env.van, env.created_at, env.body["schema"])
                out.went_back = env.created_at
        # status_at never goes back: a will is made at its connect, before its birth; a van's clock can step back.
        at = env.created_at if status_at is None or _later(env.created_at, status_at) else status_at
        conn.execute("UPDATE vans SET session = ?, online = ?, schema = ?, status_at = ?, session_max = ? "
                     "WHERE van = ?", [incoming.session, int(incoming.online), env.body["schema"], at,
                      max(highest, incoming.session), env.van])
        return True

    def _tell_counters(self, conn, van: str, session: int, born: str, received_at: str) -> bool:
        """Tell a van whose counters went back what the hub saw of it (edge.sync.downlink, ``counters``): the highest
        session (at most what the van takes), and each recent day's highest request sequence, so that it gives no new
        citizen a number the hub holds for another. Recorded in this transaction, unless the same is still waiting
        for the van or was refused by it within the hour (``received_at``: the birth's, on the hub's clock); one still
        waiting is merged into it (by maximum) and superseded; the birth's re-send of pending downlinks sends it (to a
        retired van too: store.pending_downlinks). Returns whether it recorded one."""
        since = (parse_iso(born) - timedelta(days=COUNTER_DAYS)).isoformat()
        highest: dict[str, int] = {}
        for (number,) in conn.execute("SELECT number FROM requests WHERE van = ? AND submitted_at >= ?",
                                      [van, since]).fetchall():
            try:
                parsed = rq.parse_request_number(number)
            except EdgeError:
                continue
            if parsed.seq <= rq.MAX_REAL_SEQ:
                day = parsed.day.isoformat()
                highest[day] = max(highest.get(day, 0), parsed.seq)
        session = min(session, MAX_COUNTER_SESSION)
        # Those still waiting, and those the van refused within the hour (the re-send's limit), by the hub's clock: a
        # refusal older than that may be of software since replaced (a spare predating ``counters`` refuses it
        # "unknown command", then is upgraded), and one superseded or answered "duplicate" tells nothing of the van.
        recent = (parse_iso(received_at) - WENT_BACK_TELL_EVERY).isoformat()
        told: list[tuple[str, dict, bool]] = []  # (msg_id, args, still waiting) of the counters that block the same
        for msg_id, payload, applied_at in conn.execute(
                "SELECT msg_id, payload, applied_at FROM downlinks WHERE van = ? AND kind = 'command' "
                "AND (applied_at IS NULL OR (outcome = 'rejected' AND applied_at >= ?))", [van, recent]).fetchall():
            told_args = counters_args(payload)
            if told_args is not None:
                told.append((msg_id, told_args, applied_at is None))
        # One still waiting is merged into the new one, by maximum, and superseded by it: one goes, not a pile.
        waiting = [(msg_id, args) for msg_id, args, pending in told if pending]
        for _, args in waiting:
            try:
                session = max(session, int(args["session"]))
                for day, seq in args["requests"].items():
                    highest[day] = max(highest.get(day, 0), int(seq))
            except (KeyError, TypeError, ValueError, AttributeError):
                continue
        args = {"session": session, "requests": dict(sorted(highest.items())[-MAX_COUNTER_DAYS:])}
        # The same still waiting, or just refused (the van would refuse it again): not recorded again at every birth.
        if any(told_args == args for _, told_args, _ in told):
            return False
        for msg_id, _ in waiting:
            conn.execute("UPDATE downlinks SET applied_at = ?, outcome = 'superseded' WHERE msg_id = ? "
                         "AND applied_at IS NULL", [now_iso(), msg_id])
        self.record(conn, van, p.Command("counters", args))
        return True

    def _project(self, conn, env: p.Envelope, at: str) -> None:
        body = env.body
        if env.kind == "request.submitted":
            text = json.dumps(body, ensure_ascii=False)
            inserted = conn.execute(
                "INSERT OR IGNORE INTO requests (number, van, service_code, state, body, submitted_at, updated_at, "
                "due_on, lat_e5, lon_e5) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _request_row(env, text, at)).rowcount
            if inserted:
                self._unpark(conn, env.van, body["number"], at)
            else:
                self._conflict(conn, env, text, at)
        elif env.kind == "request.state":
            changed = conn.execute("UPDATE requests SET state = ?, updated_at = ? WHERE number = ?",
                                   [body["state"], at, body["number"]]).rowcount
            if not changed:
                # The request itself is still on its way (another worker, a resend after a cut): the
                # change waits for it instead of being lost (docs/protocol.md, "Ordering").
                self._parked = True
                conn.execute(_PARK, _parked_row(env, at))
        elif env.kind == "downlink.applied":
            conn.execute(_APPLIED, _applied_row(env, at))
            if body["outcome"] in ("rejected", "applied"):
                conn.execute(_LATER_REFUSED, _later_refused_row(env))
        elif env.kind == "shift.closed":
            conn.execute(_SHIFT, _shift_row(env, at))
            self._shift_conflict(conn, env, at)

    def _unpark(self, conn, van: str, number: str, at: str) -> None:
        """Apply the state changes that arrived before their request, in the van's order."""
        if self._parked is None:  # once per batch: almost always nothing is parked (one round trip saved)
            self._parked = conn.execute("SELECT 1 FROM parked_states LIMIT 1").fetchone() is not None
        if not self._parked:
            return
        rows = conn.execute("SELECT body FROM parked_states WHERE van = ? AND number = ? ORDER BY seq",
                            [van, number]).fetchall()
        for (text,) in rows:
            conn.execute("UPDATE requests SET state = ?, updated_at = ? WHERE number = ?",
                         [json.loads(text)["state"], at, number])
        if rows:
            conn.execute("DELETE FROM parked_states WHERE van = ? AND number = ?", [van, number])

    def _conflict(self, conn, env: p.Envelope, text: str, at: str) -> None:
        """The number is known already: the same content again is a replay; other content is a conflict."""
        row = conn.execute("SELECT van, body FROM requests WHERE number = ?", [env.body["number"]]).fetchone()
        self._record_conflict(conn, env, text, at, row)

    @staticmethod
    def _record_conflict(conn, env: p.Envelope, text: str, at: str, row: tuple[str, str] | None) -> None:
        """``row``: the kept request's van and body (None: none is kept)."""
        if row is None or (row[0] == env.van and json.loads(row[1]) == json.loads(text)):
            return
        differing = sorted(k for k in env.body if json.loads(row[1]).get(k) != env.body[k])
        log.warning("request %s sent again by %s with other content (%s)", env.body["number"], env.van,
                    ", ".join(differing))
        conn.execute("INSERT OR IGNORE INTO request_conflicts (van, number, msg_id, detail, received_at) "
                     "VALUES (?, ?, ?, ?, ?)",
                     [env.van, env.body["number"], env.msg_id, "differs in " + ", ".join(differing), at])

    @staticmethod
    def _shift_conflict(conn, env: p.Envelope, at: str) -> None:
        """A shift is closed once: the same Z-report again is a resend; another one for the same shift (a van restored
        from a backup, a tampered report) is kept beside the first as a conflict ("Z<shift>"), never replaces it."""
        row = conn.execute("SELECT body FROM shifts WHERE van = ? AND shift = ?",
                           [env.van, env.body["shift"]]).fetchone()
        kept = json.loads(row[0]) if row else None
        if kept is None or kept == env.body:
            return
        differing = sorted(k for k in env.body if kept.get(k) != env.body[k])
        log.warning("shift Z%s of %s sent again with other content (%s)", env.body["shift"], env.van,
                    ", ".join(differing))
        conn.execute("INSERT OR IGNORE INTO request_conflicts (van, number, msg_id, detail, received_at) "
                     "VALUES (?, ?, ?, ?, ?)",
                     [env.van, f"Z{env.body['shift']}", env.msg_id, "differs in " + ", ".join(differing), at])

    def _chunk(self, conn, env: p.Envelope, at: str) -> p.DocAck:
        body, van, doc_id = env.body, env.van, env.body["doc_id"]
        conn.execute("INSERT INTO doc_receipts (van, doc_id, received) VALUES (?, ?, 1) "
                     "ON CONFLICT(van, doc_id) DO UPDATE SET received = doc_receipts.received + 1", [van, doc_id])
        if conn.execute("SELECT 1 FROM documents WHERE van = ? AND doc_id = ?", [van, doc_id]).fetchone():
            return p.DocAck(doc_id, body["count"] - 1, "complete")
        conn.execute("INSERT OR IGNORE INTO doc_chunks (van, doc_id, idx, body) VALUES (?, ?, ?, ?)",
                     [van, doc_id, body["index"], cbor2.dumps(body)])
        assembly = Reassembly(van, doc_id)
        for (stored,) in conn.execute("SELECT body FROM doc_chunks WHERE van = ? AND doc_id = ? ORDER BY idx",
                                      [van, doc_id]):
            try:
                assembly.add(cbor2.loads(stored))
            except p.ProtocolError as exc:
                log.warning("document %s from %s: %s", doc_id, van, exc.detail)
                conn.execute("DELETE FROM doc_chunks WHERE van = ? AND doc_id = ?", [van, doc_id])
                return p.DocAck(doc_id, -1, "hash-mismatch")
        if not assembly.complete():
            return assembly.progress()
        try:
            data = assembly.result()
        except p.ProtocolError:
            conn.execute("DELETE FROM doc_chunks WHERE van = ? AND doc_id = ?", [van, doc_id])
            return p.DocAck(doc_id, -1, "hash-mismatch")
        conn.execute("INSERT INTO documents (van, doc_id, request_number, size, sha256, data, completed_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [van, doc_id, body["request_number"], len(data), body["sha256"], data, at])
        conn.execute("DELETE FROM doc_chunks WHERE van = ? AND doc_id = ?", [van, doc_id])
        return p.DocAck(doc_id, body["count"] - 1, "complete")

    # --- downlink -----------------------------------------------------------------------------

    def send(self, van: str, message: p.DownMessage) -> str:
        """Record a downlink for ``van`` and publish it; it is re-sent until the van reports it applied."""
        with self.store.transaction() as conn:
            downlink = self.record(conn, van, message)
        self.publish(downlink)
        return downlink.msg_id

    def record(self, conn, van: str, message: p.DownMessage) -> Downlink:
        """Store a downlink in the caller's transaction (with the decision it carries); publish it after
        the commit with :meth:`publish` — a downlink the hub has not recorded must never reach a van."""
        schema = p.down_schema(message)
        payload = p.encode_down(message, van=van, schema=schema)
        msg_id = cbor2.loads(payload)["msg_id"]
        at = now_iso()
        if message.kind in PUBLICATION_KINDS:
            # The van keeps only the newest catalogue, calendar, trust list: an older one still waiting is not sent
            # beside this one (it could only be refused as not newer, or applied just to be replaced). A report the
            # van makes of it anyway (the broker delivered it): "applied" is recorded, a refusal leaves it superseded
            # (_APPLIED).
            conn.execute("UPDATE downlinks SET applied_at = ?, outcome = 'superseded' WHERE van = ? AND kind = ? "
                         "AND applied_at IS NULL", [at, van, message.kind])
        conn.execute("INSERT INTO downlinks (msg_id, van, kind, payload, created_at, schema) VALUES (?, ?, ?, ?, ?, ?)",
                     [msg_id, van, message.kind, payload, at, schema])
        speaks = conn.execute("SELECT schema FROM vans WHERE van = ?", [van]).fetchone()
        return Downlink(msg_id, van, message.kind, payload, held=bool(speaks and speaks[0] and speaks[0] < schema))

    def publish(self, downlink: Downlink) -> None:
        if downlink.held:  # sent by resend_pending_downlinks once the van's birth says it reads this version
            log.info("downlink %s (%s) waits for van %s to run newer software", downlink.msg_id, downlink.kind,
                     downlink.van)
            return
        self.client.publish(p.down_topic(self.gov, downlink.van, downlink.kind), downlink.payload, qos=1)

    def resend_applied_downlinks(self, van: str, born: str) -> int:
        """Send ``van`` again the governorate's state it applied in the last DOWNLINK_MAX_AGE — catalogues, holidays,
        trust lists — after its counter went back: what it applied since its backup was taken went back with its
        database. The van applies each once (its inbox): one it still holds is a duplicate and answers nothing, one it
        lost is applied again and reported anew. Not decisions (``request-status``): before its first connection the
        restored van may have given the number to another citizen, whom a decision sent again would reach. Commands
        and update words are of their moment (the hub tells the new connection its word)."""
        # Retired since its birth was stored (`vans remove` in between): sent nothing (store.pending_downlinks), and
        # marked as gone back while retired (session_back_at after retired_at: its birth's is older than the
        # retirement) so that `vans add` queues it fresh copies (backoffice.queue_latest). Decided with the van's row
        # locked, as `vans add` and `vans remove` lock it: one of them runs wholly before or after this.
        with self.store.transaction() as conn:
            speaks = conn.execute("UPDATE vans SET session_back_at = CASE WHEN retired_at IS NULL THEN session_back_at "
                                  "ELSE ? END WHERE van = ? RETURNING schema, retired_at", [now_iso(), van]).fetchone()
        if speaks is None or speaks[1] is not None:
            return 0
        schema = speaks[0]
        # One the van's software cannot read was queued afresh at its birth (_queue_unreadable): that copy waits.
        sent = [(kind, payload) for kind, payload, needs in _newest_applied(self.store._read, van, born)
                if schema is None or needs <= schema]
        for kind, payload in sent:
            self.client.publish(p.down_topic(self.gov, van, kind), payload, qos=1)
        if sent:
            log.warning("%s: its counter went back; sent again the %d downlink(s) it had applied", van, len(sent))
        return len(sent)

    def _queue_unreadable(self, conn, van: str, born: str, schema: int) -> None:
        """At the birth of a van whose counter went back, in its transaction: record again as a fresh copy each newest
        applied downlink its software cannot read (a spare on an older protocol would drop it, the hub showing it
        applied); the copy waits for the van's upgrade as any pending downlink newer than it reads does."""
        held = [(kind, payload) for kind, payload, needs in _newest_applied(
            lambda sql, args: conn.execute(sql, args).fetchall(), van, born) if needs > schema]
        for kind, payload in held:
            try:
                message = p.decode_down(bytes(payload), van=van, kind=kind).message
            except p.ProtocolError as exc:  # stored by an older hub, no longer read: staff publish it again
                log.warning("%s: its %s no longer reads (%s): not queued again", van, kind, exc.detail)
                continue
            self.record(conn, van, message)
        if held:
            log.warning("%s: its counter went back on software (protocol %d) too old for %s: queued again for after "
                        "its upgrade", van, schema, ", ".join(kind for kind, _ in held))

    def resend_pending_downlinks(self, van: str | None = None) -> int:
        vans = [van] if van else [r[0] for r in self.store.conn.execute(
            "SELECT DISTINCT van FROM downlinks WHERE applied_at IS NULL")]
        sent = 0
        for v in vans:
            for _msg_id, kind, payload in self.store.pending_downlinks(v):
                self.client.publish(p.down_topic(self.gov, v, kind), payload, qos=1)
                sent += 1
        return sent


def _newest_applied(read, van: str, born: str) -> list[tuple[str, bytes, int]]:
    """(kind, payload, schema) of the newest catalogue, calendar and trust list ``van`` applied in the
    DOWNLINK_MAX_AGE before ``born``. Only the newest of each kind, and only if it was applied: an older one can never
    apply (the van keeps only a newer catalogue, calendar, trust list), and a newer one still waiting goes anyway
    (resend_pending). ``read(sql, args)``: rows (the store's, or the caller's transaction)."""
    since = (parse_iso(born) - p.DOWNLINK_MAX_AGE).isoformat()
    newest: dict[str, tuple] = {}
    for kind, outcome, payload, needs in read(
            "SELECT kind, outcome, payload, schema FROM downlinks WHERE van = ? AND created_at >= ? "
            f"AND kind IN ({', '.join('?' * len(PUBLICATION_KINDS))}) AND (applied_at IS NULL OR outcome = 'applied') "
            "ORDER BY created_at, msg_id", [van, since, *PUBLICATION_KINDS]):
        newest[kind] = (outcome, payload, needs)
    return [(kind, payload, needs) for kind, (outcome, payload, needs) in newest.items() if outcome == "applied"]


# The governorate's publications: the van keeps the newest of each only, so a newer one recorded supersedes one still
# waiting (Hub.record), only the newest applied is re-sent (_newest_applied), and the back office queues the newest
# to a van added or brought back (backoffice.queue_latest, in this order).
PUBLICATION_KINDS = ("trust-list", "catalog", "calendar")
_PARK = ("INSERT OR IGNORE INTO parked_states (van, msg_id, number, seq, body, received_at) "
         "VALUES (?, ?, ?, ?, ?, ?)")
# A report never undoes "applied": a downlink sent again (after the van's counter went back) and refused as not newer
# than what the van holds, or answered twice, stays applied in the hub's record. Nor does a refusal undo "superseded": a
# publication replaced by a newer one, delivered late by the broker, is refused "not newer" by a van that holds the
# newer one (the last argument: the report's outcome again; COALESCE: a NULL outcome must not make the test NULL).
_APPLIED = ("UPDATE downlinks SET applied_at = ?, outcome = ?, error = ? WHERE msg_id = ? AND van = ? "
            "AND (outcome IS NULL OR outcome <> 'applied') "
            "AND NOT (COALESCE(outcome, '') = 'superseded' AND ? = 'rejected')")
# ... but a later refusal of one applied is kept as its error, shown on the van page ("refused later": the van may not
# hold it any more, e.g. a spare on older software, a calendar it cannot read); a later "applied" clears it (the van
# applied it again: it holds it).
_LATER_REFUSED = "UPDATE downlinks SET error = ? WHERE msg_id = ? AND van = ? AND outcome = 'applied'"


def _message_row(env: p.Envelope, received_at: str) -> list:
    return [env.van, env.msg_id, env.stream, env.seq, env.kind, json.dumps(env.body, ensure_ascii=False),
            env.created_at, received_at]


def _request_row(env: p.Envelope, text: str, at: str) -> list:
    body = env.body
    place = body.get("location") or {}
    lat_e5 = round(place["lat"] * 1e5) if place else None
    lon_e5 = round(place["lon"] * 1e5) if place else None
    return [body["number"], env.van, body["service_code"], "received", text, body["submitted_at"], at,
            body["expected_ready_on"], lat_e5, lon_e5]


def _parked_row(env: p.Envelope, at: str) -> list:
    return [env.van, env.msg_id, env.body["number"], env.seq, json.dumps(env.body), at]


# A shift is closed once at the van; a report sent again (a resend after a cut) changes nothing.
_SHIFT = ("INSERT INTO shifts (van, shift, operator, day, opened_at, closed_at, opening_float_piastres, "
          "counted_cash_piastres, expected_cash_piastres, difference_piastres, fees_cash_piastres, fees_card_piastres, "
          "fees_reference_piastres, refunds_piastres, requests, reason, confirmed_by, body, received_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (van, shift) DO NOTHING")


def _shift_row(env: p.Envelope, at: str) -> list:
    b, t = env.body, env.body["totals"]
    return [env.van, b["shift"], b["operator"], b["day"], b["opened_at"], b["closed_at"], b["opening_float_piastres"],
            b["counted_cash_piastres"], b["expected_cash_piastres"], b["difference_piastres"], t["fees"]["cash"],
            t["fees"]["card"], t["fees"]["reference"], sum(t["refunds"].values()), t["requests"], b["reason"],
            b["confirmed_by"], json.dumps(b, ensure_ascii=False), at]


def _applied_row(env: p.Envelope, at: str) -> list:
    return [at, env.body["outcome"], env.body["error"], env.body["msg_id"], env.van, env.body["outcome"]]


def _later_refused_row(env: p.Envelope) -> list:
    """For a report "rejected" (its reason kept) or "applied" (a reason kept before cleared)."""
    error = (env.body["error"] or "rejected") if env.body["outcome"] == "rejected" else None
    return [error, env.body["msg_id"], env.van]


def _topic_van(topic_text: str, gov: str) -> str | None:
    try:
        topic = p.parse_topic(topic_text)
    except p.ProtocolError:
        return None
    return topic.van if topic.gov == gov else None


def _claimed_id(payload: bytes) -> str | None:
    """The message id a refused payload claims, if it has a readable one (for the rejection notice)."""
    try:
        fields = cbor2.loads(payload)
        msg_id = fields.get("msg_id") if isinstance(fields, dict) else None
        p.ulid(msg_id, "msg_id")
        return msg_id
    except Exception:  # noqa: BLE001 - anything unreadable simply gets no notice
        return None


def _counter_went_back(current: p.Presence | None, incoming: p.Presence, env: p.Envelope,
                       status_at: str | None) -> bool:
    """A birth with a lower session than the hub holds, from a van whose counter went back (its database restored
    from a backup, its disk swapped for a spare: docs/protocol.md, "Sessions and the last will"): taken when it is
    later than the status the hub holds — whether the hub holds the van offline or online (one connection per client
    id: a new connection's birth means the old one is over, and with a persistent session the broker may never
    publish the old connection's will). Not a birth of an earlier session delivered late (the broker's queue, a
    retained message), which is no later than the status held (status_at never goes back). A birth with the **same**
    session is taken only if made well after the status held (more than the clock skew allowed): that birth
    delivered again is made just after its own will, a van restored from the same backup connects later."""
    if env.kind != "status.birth" or current is None or incoming.session > current.session:
        return False
    born, held = parse_iso(env.created_at), parse_iso(status_at)
    if born is None or held is None:
        return False
    if incoming.session == current.session:
        return born - held > p.MAX_CLOCK_SKEW
    return born > held


def _later(a: str, b: str) -> bool:
    """Whether time ``a`` is later than ``b`` (ISO texts; an unreadable ``b`` counts as earlier)."""
    left, right = parse_iso(a), parse_iso(b)
    return right is None or (left is not None and left > right)


def _from_before_it_went_back(incoming: p.Presence, env: p.Envelope, session_back: str | None) -> bool:
    """A status of the counter from before it last went back (its session up to the one it went back from, and no
    later than the status the hub held then): news about a connection that ended before the van's database was
    restored, delivered again (the broker's queue after the hub reconnects, a second worker). The restored van's own
    will is later: it is made at its connect, after the old connection's end."""
    try:
        back = json.loads(session_back) if session_back else None
        left, after = int(back["from"]), parse_iso(back["after"])
    except (ValueError, KeyError, TypeError):
        return False
    made = parse_iso(env.created_at)
    return incoming.session <= left and after is not None and made is not None and made <= after

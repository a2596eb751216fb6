"""The van's sync process: drains the outbox to the governorate over MQTT and applies what comes down.

One thread does everything (network loop, drain, downlink, telemetry), so the database connection
and the MQTT client are never shared between threads. A row leaves the outbox only when the hub's
application-level ack names it; after a reconnect, or when an ack is overdue, everything unacked is
sent again and the hub's insert-by-id makes the repeat harmless.
"""

from __future__ import annotations

import logging
import queue
import random
import re
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from ulid import ULID

from edge.config import Settings
from edge.store import clock, device_status, outbox, sync_state
from edge.store.db import open_db
from edge.store.migrations import migrate
from edge.sync import chunks
from edge.sync import downlink as downlink_mod
from edge.sync import protocol as p

log = logging.getLogger("edge.sync")

SESSION_EXPIRY_S = 7 * 24 * 3600  # the broker keeps our downlink subscription while we are away
CONNECT_TIMEOUT_S = 15.0


@dataclass
class Backoff:
    """Exponential back-off with full jitter: 50 vans coming back after an outage do not reconnect in step."""

    base: float = 1.0
    cap: float = 60.0
    attempt: int = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * (2**self.attempt))
        self.attempt += 1
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0


@dataclass
class Tuning:
    window: int = 1000  # messages published and not yet acked by the hub
    # QoS 1 messages awaiting PUBACK. The bandwidth-delay product alone asks ~75 (930 msg/s × 80 ms), but
    # on a lossy link each retransmission holds back the PUBACKs behind it: with 200 the emulated LTE link
    # (1 % loss) ran dry at 0.67 of its rate, with 1000 it reached 0.84 (docs/lte-link.md).
    mqtt_inflight: int = 1000
    doc_window: int = 16  # document chunks in flight (16 × 64 KiB = 1 MiB)
    # Documents open at once. A new one opens as soon as another is acknowledged, so the uplink never
    # waits a round trip between documents (0.78 → 0.93 of the emulated link for 150 KB scans).
    open_documents: int = 8
    resend_after_s: float = 30.0  # an ack this late means it (or our message) was lost: send again
    telemetry_every_s: float = 60.0
    device_check_every_s: float = 1.0  # how often a device state change is looked for (then sent at once)
    congestion_control: str = "bbr"  # random radio loss is not congestion (../shared/FIELD-NOTES.md)


@dataclass
class _Doc:
    row: outbox.OutboxRow
    data: bytes
    next_index: int
    count: int
    # The chunks from next_index on: the file's hash is checked once, when the document is opened.
    envelopes: Iterator[p.Envelope]
    unsent: p.Envelope | None = None  # taken from ``envelopes`` but not published (the link went)
    chunk_ids: set[str] = field(default_factory=set)


class UpdateSink(Protocol):
    """Where the chunks of a software release go (edge.update.incoming.Incoming, given by edge.runner: the sync
    layer does not import the updater). Both return a ``tel.update`` body for the hub, or None."""

    def add(self, body: dict) -> dict | None: ...

    def progress(self) -> dict | None: ...

    def status(self) -> dict: ...  # telemetry figures: the software version running, the update's phase …

    def target(self, release: str | None, at: str, msg_id: str,
               session: int | None = None) -> str: ...  # the governorate's word (downlink)


# A van reports how much of a release it holds at most this often while chunks arrive (and at once when whole): the
# hub sends the next chunks on each report, so this paces the transfer (a window of 2 MiB every 0.25 s at most).
UPDATE_REPORT_EVERY_S = 0.25


class SyncAgent:
    def __init__(self, settings: Settings, tuning: Tuning | None = None, updates: UpdateSink | None = None):
        self.settings = settings
        self.tuning = tuning or Tuning()
        self.updates = updates
        self._update_report_at: float | None = None  # when the debounced tel.update is due
        # tel.update bodies from another thread (edge.update.https fetching a release itself), sent from this one;
        # None in it: send the progress as it is now (debounced).
        self._update_reports: queue.SimpleQueue = queue.SimpleQueue()
        self.van = settings.van.id
        self.gov = settings.van.governorate
        self.keys_dir = Path(settings.data_dir) / "keys"
        self._topics = {stream: p.up_topic(self.gov, self.van, stream) for stream in p.STREAMS}
        self.db = open_db(settings.db_path)
        migrate(self.db)
        self.client: mqtt.Client | None = None
        self.connected = False
        self._link_recorded: bool | None = None  # what the van database says of the link (sync_state.link)
        self.awaiting_puback = 0  # QoS 1 messages published on the current connection, PUBACK not yet in
        self.session = 0
        self.backoff = Backoff()
        self._reset_drain_state()
        self._tel_seq = 0
        self._next_tel = 0.0
        self._next_device_check = 0.0
        # Changes from here on trigger a snapshot (the one sent on connecting covers what came before).
        self._last_device_event = self.db.execute("SELECT max(id) FROM device_events").fetchone()[0]

    # --- lifecycle ----------------------------------------------------------------------------

    def _record_link(self) -> None:
        """The link's state in the van database, when it changed (read by the health answer)."""
        if self.connected != self._link_recorded:
            try:
                sync_state.set_link(self.db, self.connected)
                self._link_recorded = self.connected
            except sqlite3.Error as exc:  # a busy database: recorded at the next turn
                log.debug("link state not recorded now: %s", exc)

    def run(self, stop: threading.Event) -> None:
        log.info("sync for van %s (governorate %s) to %s", self.van, self.gov, self.settings.broker.url)
        try:
            while not stop.is_set():
                self._record_link()
                if not self.connected:
                    if not self._connect(stop):
                        delay = self.backoff.next_delay()
                        log.info("broker unreachable; next attempt in %.1f s", delay)
                        stop.wait(delay)
                    continue
                rc = self.client.loop(timeout=0.05)
                if rc != mqtt.MQTT_ERR_SUCCESS:
                    self._lost(f"network loop: {mqtt.error_string(rc)}")
                    continue
                self.step()
        finally:
            self._close(say_goodbye=True)
            self._record_link()

    def step(self) -> None:
        """One round of work while connected: resend if overdue, drain, telemetry."""
        if not self.connected:
            return
        self._resend_if_overdue()
        self._drain()
        now = time.monotonic()
        if now >= self._next_device_check:
            # A device that changed state (camera dark, printer out of paper) is news for the governorate
            # now, not at the next periodic snapshot: one indexed read a second finds out.
            self._next_device_check = now + self.tuning.device_check_every_s
            last = self.db.execute("SELECT max(id) FROM device_events").fetchone()[0]
            if last != self._last_device_event:
                self._next_tel = 0.0
                self._last_device_event = last
        if now >= self._next_tel:
            self.publish_telemetry()
        while not self._update_reports.empty():
            report = self._update_reports.get_nowait()
            if report is not None:
                self._report_update(report)
            elif self._update_report_at is None:
                self._update_report_at = now + UPDATE_REPORT_EVERY_S
        if self._update_report_at is not None and now >= self._update_report_at:
            self._update_report_at = None
            self._report_update(self._update_progress())

    def _connect(self, stop: threading.Event) -> bool:
        self._close()
        self.session = sync_state.next_session(self.db)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"van-{self.gov}-{self.van}",
                             protocol=mqtt.MQTTv5)
        # The number of messages awaiting PUBACK is bounded here (Tuning.mqtt_inflight, counted in
        # on_publish), not by paho: paho with a limit scans its whole in-flight list on every PUBACK, which
        # cost the drain 0.13 ms a message at 1000 in flight. 0 tells paho "no limit", and it skips the scan.
        client.max_inflight_messages_set(0)
        client.max_queued_messages_set(0)
        self.awaiting_puback = 0
        broker = self.settings.broker
        if broker.tls:
            client.tls_set(ca_certs=broker.ca_file, certfile=broker.cert_file or None,
                           keyfile=broker.key_file or None)
        will = p.encode(p.death(self.van, self.session))
        client.will_set(p.up_topic(self.gov, self.van, "status"), will, qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_publish = self._on_puback
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        self.client = client
        self._connack: bool | None = None
        try:
            client.connect(broker.host, broker.port, keepalive=broker.keepalive, clean_start=False,
                           properties=props)
        except (OSError, ValueError) as exc:
            log.warning("cannot reach broker %s:%s: %s", broker.host, broker.port, exc)
            self.client = None
            return False
        self._set_congestion_control(client)
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while self._connack is None and time.monotonic() < deadline and not stop.is_set():
            if client.loop(timeout=0.1) != mqtt.MQTT_ERR_SUCCESS:
                break
        if not self._connack:
            log.warning("broker did not accept the connection")
            self._close()
            return False
        return True

    def _set_congestion_control(self, client: mqtt.Client) -> None:
        sock = client.socket()
        if sock is None or not hasattr(socket, "TCP_CONGESTION") or not self.tuning.congestion_control:
            return
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, self.tuning.congestion_control.encode())
        except OSError as exc:
            log.info("TCP congestion control %s not available (%s); using the default",
                     self.tuning.congestion_control, exc)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("broker refused the connection: %s", reason_code)
            self._connack = False
            return
        self._connack = True
        self.connected = True
        self.backoff.reset()
        self._reset_drain_state()
        client.subscribe(p.van_subscription(self.gov, self.van), qos=1)
        self._publish_birth()
        self._next_tel = 0.0
        # A release half received before the link went: the hub resumes from what this says is held.
        if self.updates is not None:
            self._update_report_at = 0.0
        log.info("connected (session %d)", self.session)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if self.connected:
            self._lost(f"disconnected: {reason_code}")

    def _lost(self, why: str) -> None:
        # Only flag it: this can run inside a publish() in the middle of a drain; the client is torn
        # down by the next _connect().
        log.warning("link lost (%s); unacked messages will be sent again", why)
        self.connected = False

    def _close(self, say_goodbye: bool = False) -> None:
        client, self.client = self.client, None
        self.connected = False
        if client is None:
            return
        try:
            # Stopping on purpose: MQTT 5 reason 0x04 asks the broker to publish our will (offline)
            # now, instead of dropping it as a plain DISCONNECT would.
            reason = ReasonCode(PacketTypes.DISCONNECT, identifier=4 if say_goodbye else 0)
            client.disconnect(reasoncode=reason)
            client.loop(timeout=0.1)
        except Exception:  # noqa: BLE001 - a broken socket is why we are closing
            pass

    def _publish_birth(self) -> None:
        if self.client is None:
            return
        self._send("status", p.encode(p.birth(self.van, self.session)), retain=True)

    # --- uplink -------------------------------------------------------------------------------

    def _reset_drain_state(self) -> None:
        self.inflight: dict[str, float] = {}  # msg_id -> monotonic time sent
        self.cursor: dict[str, int] = {"tx": 0, "audit": 0}
        self.docs: dict[str, _Doc] = {}  # doc outbox row msg_id -> upload in progress
        self.chunk_of: dict[str, str] = {}  # chunk msg_id -> doc row msg_id
        # Rows that cannot be sent: doc rows whose file is missing or changed, rows the protocol refuses
        # (each reported once a session).
        self.unsendable: set[str] = set()

    def _on_puback(self, client, userdata, mid, reason_code, properties) -> None:
        self.awaiting_puback = max(0, self.awaiting_puback - 1)

    def _puback_room(self) -> int:
        return self.tuning.mqtt_inflight - self.awaiting_puback

    def _drain(self) -> None:
        room = min(self.tuning.window - len(self.inflight), self._puback_room())
        busy = False
        for stream in ("tx", "audit"):
            if room <= 0:
                return
            rows = outbox.pending_after(self.db, stream, self.cursor[stream], room)
            for row in rows:
                try:
                    payload = p.encode_outbox_row(row, self.van)
                except p.ProtocolError as exc:
                    # A row the hub would refuse (a fault upstream, e.g. a value longer than the wire takes)
                    # must not stop the link: it stays in the outbox, the rows after it still go, and the
                    # operator is told. It is tried again after the next reconnect.
                    self._unsendable_row(row, exc)
                    self.cursor[stream] = row.seq
                    continue
                if not self._publish_bytes(row.msg_id, stream, payload):
                    return
                self.cursor[stream] = row.seq
            room -= len(rows)
            busy = busy or bool(rows)
        if not busy:
            self._drain_documents()

    def _unsendable_row(self, row: outbox.OutboxRow, exc: p.ProtocolError) -> None:
        if row.msg_id in self.unsendable:
            return
        self.unsendable.add(row.msg_id)
        log.error("outbox row %s (%s %s #%d) cannot be sent: %s", row.msg_id, row.stream, row.kind, row.seq,
                  exc.detail)
        device_status.report(self.db, "sync:outbox", "sync", "error",
                             message_ar="تعذّر إرسال سجل إلى المحافظة؛ اتصل بالدعم الفني.",
                             message_en="A record cannot be sent to the governorate; call technical support.",
                             detail={"msg_id": row.msg_id, "kind": row.kind, "error": exc.detail[:200]})

    def _publish(self, envelope: p.Envelope) -> bool:
        return self._publish_bytes(envelope.msg_id, envelope.stream, p.encode(envelope))

    def _publish_bytes(self, msg_id: str, stream: str, payload: bytes) -> bool:
        """Publish one message; False when the link has just gone (the drain stops for this round)."""
        if not self.connected or self.client is None:
            return False
        if not self._send(stream, payload):
            return False
        self.inflight[msg_id] = time.monotonic()
        return self.connected

    def _send(self, stream: str, payload: bytes, *, retain: bool = False) -> bool:
        """Every publish goes through here, so the PUBACK window (``awaiting_puback``) counts them all."""
        info = self.client.publish(self._topics[stream], payload, qos=1, retain=retain)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            return False
        self.awaiting_puback += 1
        return True

    def _send_tel(self, kind: str, body: dict, now) -> bool:
        """A telemetry-stream message (latest wins, never queued): sent now if connected, else dropped."""
        if not (self.connected and self.client is not None):
            return False
        self._tel_seq += 1
        envelope = p.Envelope(str(ULID()), self.van, "tel", self._tel_seq, p.SCHEMA_VERSION, clock.iso(now),
                              kind, body)
        return self._send("tel", p.encode(envelope))

    def _drain_documents(self) -> None:
        chunks_in_flight = sum(1 for m in self.inflight if m in self.chunk_of)
        room = min(self.tuning.doc_window - chunks_in_flight, self._puback_room())
        if room <= 0:
            return
        if len(self.docs) < self.tuning.open_documents:
            # Oldest first, skipping those already open or known unsendable.
            limit = self.tuning.open_documents + len(self.docs) + len(self.unsendable)
            for row in outbox.pending(self.db, "doc", limit=limit):
                if len(self.docs) >= self.tuning.open_documents:
                    break
                if row.msg_id in self.docs or row.msg_id in self.unsendable:
                    continue
                doc = self._open_document(row)
                if doc is None:
                    self.unsendable.add(row.msg_id)
                else:
                    self.docs[row.msg_id] = doc
        for doc in list(self.docs.values()):
            while room > 0 and doc.next_index < doc.count:
                envelope, doc.unsent = doc.unsent or next(doc.envelopes), None
                self.chunk_of[envelope.msg_id] = doc.row.msg_id
                doc.chunk_ids.add(envelope.msg_id)
                if not self._publish(envelope):
                    doc.unsent = envelope
                    return
                doc.next_index += 1
                room -= 1

    def _open_document(self, row: outbox.OutboxRow) -> _Doc | None:
        path = self.settings.documents_dir / row.body["path"]
        try:
            data = path.read_bytes()
            highest, _state = sync_state.doc_progress(self.db, row.msg_id)
            count = -(-len(data) // p.CHUNK_SIZE)
            # Validates the file against the hash recorded when it was queued.
            envelopes = chunks.chunk_envelopes(row, self.van, data, start=max(highest + 1, 0))
        except (OSError, p.ProtocolError) as exc:
            # A missing or changed scan cannot be sent as it was registered; keep the row for the
            # operator to re-scan, and say so loudly rather than uploading something else.
            log.error("document %s of request %s cannot be sent: %s", row.body.get("doc_id"),
                      row.body.get("request_number"), exc)
            device_status.report(self.db, "sync:documents", "sync", "error",
                                 message_ar="تعذّر إرسال مستند ممسوح ضوئيًا؛ أعد مسحه.",
                                 message_en="A scanned document cannot be sent; scan it again.",
                                 detail={"doc_id": row.body.get("doc_id"), "error": str(exc)})
            return None
        return _Doc(row, data, max(highest + 1, 0), count, envelopes)

    def _resend_if_overdue(self) -> None:
        if not self.inflight:
            return
        oldest = min(self.inflight.values())
        if time.monotonic() - oldest > self.tuning.resend_after_s:
            log.warning("%d messages unacked for %.0f s; sending again", len(self.inflight),
                        time.monotonic() - oldest)
            self._reset_drain_state()

    # --- downlink -----------------------------------------------------------------------------

    def _on_message(self, client, userdata, message) -> None:
        try:
            topic = p.parse_topic(message.topic)
            if topic.direction != "down" or topic.van != self.van or topic.gov != self.gov:
                raise p.ProtocolError("wrong-van", f"topic {message.topic}")
            down = p.decode_down(message.payload, van=self.van, kind=topic.name, now=clock.now())
        except p.ProtocolError as exc:
            log.warning("downlink on %s refused (%s): %s", message.topic, exc.reason, exc.detail)
            return
        if isinstance(down.message, p.Ack):
            self._apply_ack(down.message)
            return
        if isinstance(down.message, p.UpdateChunk):
            self._update_chunk(down.message)
            return
        try:
            outcome, effects = downlink_mod.apply(self.db, down, self.keys_dir, updates=self.updates,
                                                  session=self.session, cameras=self._cameras())
        except Exception as exc:  # noqa: BLE001 - the van's own fault (disk, database): the link carries on
            # Nothing was recorded, so no report goes up; the hub sends the message again until one does.
            log.error("downlink %s %s not applied now (%s: %s); the hub will send it again",
                      down.kind, down.msg_id, type(exc).__name__, exc)
            return
        log.info("downlink %s %s: %s%s", down.kind, down.msg_id, outcome,
                 "".join(f" ({note})" for note in effects.notes))
        if effects.rebirth:
            self._publish_birth()
        if effects.telemetry:
            self._next_tel = 0.0
        for picture in effects.pictures:  # the bytes judged, not the file read again
            self._send_picture(picture)

    def _update_chunk(self, chunk: p.UpdateChunk) -> None:
        if self.updates is None:
            log.warning("a software update chunk arrived, but this van takes no updates over the link")
            return
        try:
            report = self.updates.add(dict(vars(chunk)))
        except Exception as exc:  # noqa: BLE001 - the updater's own fault (disk, permissions): the link carries on
            log.error("update chunk %d of bundle %s not kept (%s: %s)", chunk.seq, chunk.bundle, type(exc).__name__,
                      exc)
            return
        if report is not None:
            self._report_update(report)
        elif self._update_report_at is None:
            self._update_report_at = time.monotonic() + UPDATE_REPORT_EVERY_S

    def report_update(self, report: dict | None) -> None:
        """For another thread: send ``report`` (a ``tel.update`` body) to the hub, or, with None, the progress of the
        release held (debounced) — sent from the agent's own thread at its next step."""
        self._update_reports.put(report)

    def _update_progress(self) -> dict | None:
        try:
            return self.updates.progress() if self.updates is not None else None
        except Exception as exc:  # noqa: BLE001 - as above: the van's work goes on without the update
            log.error("update progress unknown (%s: %s)", type(exc).__name__, exc)
            return None

    def _report_update(self, report: dict | None) -> None:
        if report is None:
            return
        try:
            self._send_tel("tel.update", report, clock.now())  # encoding checks it against the schema
        except p.ProtocolError as exc:
            log.error("update progress not sent: %s", exc.detail)

    def _apply_ack(self, ack: p.Ack) -> None:
        for rejected in ack.rejected:
            # The hub refused it: sending it again would be refused again. Keep the row (nothing is
            # dropped) and raise it to the operator; it goes again after the next reconnect.
            log.error("hub refused message %s: %s", rejected.msg_id, rejected.reason)
            self.inflight.pop(rejected.msg_id, None)
        rows = [m for m in ack.msg_ids if m not in self.chunk_of]
        if rows:
            outbox.mark_delivered(self.db, rows)
        for msg_id in ack.msg_ids:
            self.inflight.pop(msg_id, None)
        for doc_ack in ack.docs:
            self._apply_doc_ack(doc_ack)

    def _apply_doc_ack(self, doc_ack: p.DocAck) -> None:
        row_id = next((m for m, d in self.docs.items() if d.row.body["doc_id"] == doc_ack.doc_id), None)
        if row_id is None:
            row = self.db.execute(
                "SELECT msg_id FROM outbox WHERE stream = 'doc' AND json_extract(body, '$.doc_id') = ?",
                [doc_ack.doc_id],
            ).fetchone()
            if row is None:
                return
            row_id = row[0]
        if doc_ack.state == "complete":
            sync_state.set_doc_progress(self.db, row_id, doc_ack.highest_contiguous, "complete")
            outbox.mark_delivered(self.db, [row_id])
            self._forget_document(row_id)
        elif doc_ack.state == "hash-mismatch":
            log.error("hub found document %s corrupt; sending it again from the start", doc_ack.doc_id)
            sync_state.set_doc_progress(self.db, row_id, -1, "partial")
            self._forget_document(row_id)
        else:
            sync_state.set_doc_progress(self.db, row_id, doc_ack.highest_contiguous, "partial")

    def _forget_document(self, row_id: str) -> None:
        doc = self.docs.pop(row_id, None)
        if doc is not None:
            for chunk_id in doc.chunk_ids:
                self.chunk_of.pop(chunk_id, None)
                self.inflight.pop(chunk_id, None)

    # --- telemetry ----------------------------------------------------------------------------

    def _cameras(self) -> downlink_mod.Cameras:
        return downlink_mod.Cameras(tuple(self.settings.devices.cameras), Path(self.settings.data_dir) / "cctv")

    def publish_thumbnail(self, camera: str) -> bool:
        """The latest picture the watch saved of ``camera`` (``<data_dir>/cctv/<name>.jpg``), straight to the hub like
        telemetry. False (and a log line) when it cannot be sent (downlink.take_picture says why)."""
        picture = downlink_mod.take_picture(self.db, self._cameras(), camera, clock.now())
        if isinstance(picture, str):
            log.warning("picture of camera %r not sent: %s", camera[:64], picture)
            return False
        return self._send_picture(picture)

    def _send_picture(self, picture: downlink_mod.Picture) -> bool:
        return self._send_tel("tel.thumbnail", {"camera": picture.camera, "at": clock.iso(picture.taken),
                                                "jpeg": picture.jpeg}, clock.now())

    def publish_telemetry(self) -> None:
        """Latest-wins snapshot, published directly: it never waits in the outbox behind a backlog."""
        self._next_tel = time.monotonic() + self.tuning.telemetry_every_s
        now = clock.now()
        backlog = outbox.backlog(self.db)
        age = backlog.oldest_age(now)
        values: dict[str, object] = {
            "outbox_pending": backlog.pending,
            "outbox_oldest_age_s": round(age.total_seconds()) if age else 0,
            "session": self.session,
        }
        for stream, count in backlog.by_stream.items():
            values[f"outbox_pending_{stream}"] = count
        for status in device_status.current(self.db):
            # Telemetry keys are [a-z0-9_.-]: "camera:front" travels as "device.camera_front".
            values["device." + re.sub(r"[^a-z0-9_.-]", "_", status.device.lower())[:56]] = status.state
            # Figures a monitor chose for the governorate (position, signal, a camera's fault) travel as
            # "<device>.<key>": "gps.lat", "modem.signal", "camera_front.fault".
            figures = status.detail.get("tel") if isinstance(status.detail, dict) else None
            for key, value in sorted((figures or {}).items())[:24]:
                if value is None or isinstance(value, bool | int | float) or \
                        (isinstance(value, str) and len(value) <= 200):
                    name = re.sub(r"[^a-z0-9_.-]", "_", f"{status.device}.{key}".lower())[:64]
                    values[name] = value
        if self.updates is not None:
            try:
                values.update(self.updates.status())
            except Exception as exc:  # noqa: BLE001 - an unreadable update state must not stop the telemetry
                log.warning("software version not reported (%s: %s)", type(exc).__name__, exc)
        self._send_tel("tel.snapshot", {"at": clock.iso(now), "values": values}, now)

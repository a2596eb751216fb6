"""The transactional outbox: rows that must reach the governorate, written with the business row they report.

Callers enqueue inside the same ``transaction()`` as their business write, so either both are
committed or neither is. The sync process drains pending rows in (stream, seq) order and marks a row
delivered only when the hub's application-level ack names its message id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils
from ulid import ULID

from edge.store import clock
from edge.store.db import transaction

STREAMS = ("tx", "audit", "doc", "tel", "status")
# Business records and the audit trail go before bulky document chunks.
PRIORITY = {"tx": 0, "audit": 0, "doc": 1, "tel": 2, "status": 2}


@dataclass(frozen=True)
class OutboxRow:
    id: int
    msg_id: str
    stream: str
    seq: int
    kind: str
    body: dict
    created_at: str
    attempts: int = 0
    delivered_at: str | None = None


@dataclass(frozen=True)
class Backlog:
    pending: int
    oldest_created_at: str | None
    by_stream: dict[str, int]

    def oldest_age(self, now: datetime) -> timedelta | None:
        if self.oldest_created_at is None:
            return None
        return now - clock.parse(self.oldest_created_at)


def enqueue(
    db: sqlite_utils.Database, stream: str, kind: str, body: Mapping, *, now: datetime | None = None
) -> OutboxRow:
    """Add one message; must run inside the caller's transaction (a nested one is opened if not)."""
    if stream not in STREAMS:
        raise ValueError(f"unknown stream {stream!r}")
    created_at = clock.iso(now or clock.now())
    payload = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    with transaction(db):
        seq = _next_seq(db, stream)
        msg_id = str(ULID())
        cur = db.execute(
            "INSERT INTO outbox (msg_id, stream, seq, kind, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [msg_id, stream, seq, kind, payload, created_at],
        )
    return OutboxRow(cur.lastrowid, msg_id, stream, seq, kind, json.loads(payload), created_at)


def _next_seq(db: sqlite_utils.Database, stream: str) -> int:
    row = db.execute(
        "INSERT INTO stream_counters (stream, last_seq) VALUES (?, 1) "
        "ON CONFLICT(stream) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
        [stream],
    ).fetchone()
    return row[0]


def pending(db: sqlite_utils.Database, stream: str | None = None, limit: int = 1000) -> list[OutboxRow]:
    """Undelivered rows in send order: by stream priority, then stream, then sequence."""
    where, params = "delivered_at IS NULL", []
    if stream is not None:
        where += " AND stream = ?"
        params.append(stream)
    order = " ".join(f"WHEN '{s}' THEN {p}" for s, p in PRIORITY.items())
    rows = db.execute(
        f"SELECT id, msg_id, stream, seq, kind, body, created_at, attempts, delivered_at FROM outbox "
        f"WHERE {where} ORDER BY CASE stream {order} END, stream, seq LIMIT ?",
        [*params, limit],
    ).fetchall()
    return [_row(r) for r in rows]


def pending_after(db: sqlite_utils.Database, stream: str, after_seq: int, limit: int) -> list[OutboxRow]:
    """Undelivered rows of ``stream`` with seq above ``after_seq``, in order: the drain's cursor read."""
    rows = db.execute(
        "SELECT id, msg_id, stream, seq, kind, body, created_at, attempts, delivered_at FROM outbox "
        "WHERE delivered_at IS NULL AND stream = ? AND seq > ? ORDER BY seq LIMIT ?",
        [stream, after_seq, limit],
    ).fetchall()
    return [_row(r) for r in rows]


def enqueue_document(
    db: sqlite_utils.Database, *, request_number: str, path: str, sha256: str, size: int,
    content_type: str, now: datetime | None = None,
) -> OutboxRow:
    """Queue a scanned file (stored under the documents folder at ``path``, relative) for upload.

    The row holds where the file is and its hash, never the bytes: the sync process reads the file
    when it sends the chunks and refuses to send one that changed since it was queued.
    """
    body = {"doc_id": str(ULID()), "request_number": request_number, "path": path, "sha256": sha256,
            "size": size, "content_type": content_type}
    return enqueue(db, "doc", "doc.upload", body, now=now)


def note_attempt(db: sqlite_utils.Database, msg_ids: Iterable[str], *, now: datetime | None = None) -> None:
    ids = list(msg_ids)
    at = clock.iso(now or clock.now())
    with transaction(db):
        db.conn.executemany(
            "UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ? WHERE msg_id = ?",
            [(at, m) for m in ids],
        )


def mark_delivered(db: sqlite_utils.Database, msg_ids: Iterable[str], *, now: datetime | None = None) -> int:
    """Record the hub's ack for these ids; returns how many rows changed (repeated acks change none)."""
    ids = list(msg_ids)
    at = clock.iso(now or clock.now())
    with transaction(db):
        before = db.conn.total_changes
        db.conn.executemany(
            "UPDATE outbox SET delivered_at = ? WHERE msg_id = ? AND delivered_at IS NULL",
            [(at, m) for m in ids],
        )
        return db.conn.total_changes - before


def backlog(db: sqlite_utils.Database) -> Backlog:
    rows = db.execute(
        "SELECT stream, count(*), min(created_at) FROM outbox WHERE delivered_at IS NULL GROUP BY stream"
    ).fetchall()
    by_stream = {r[0]: r[1] for r in rows}
    oldest = min((r[2] for r in rows), default=None)
    return Backlog(sum(by_stream.values()), oldest, by_stream)


def purge_delivered(db: sqlite_utils.Database, older_than: datetime) -> int:
    """Delete delivered rows acknowledged before ``older_than``; undelivered rows are never purged."""
    with transaction(db):
        cur = db.execute(
            "DELETE FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?", [clock.iso(older_than)]
        )
        return cur.rowcount


def _row(r: tuple) -> OutboxRow:
    return OutboxRow(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], r[7], r[8])

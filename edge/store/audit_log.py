"""The audit log table: operator actions appended to a SHA-256 chain and sent up the ``audit`` stream."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime

import sqlite_utils

from edge.core import audit
from edge.store import clock, outbox
from edge.store.db import transaction


def record(
    db: sqlite_utils.Database,
    *,
    actor: str,
    action: str,
    subject: str = "",
    details: Mapping | None = None,
    now: datetime | None = None,
) -> audit.AuditEntry:
    """Append one entry (and its outbox row) inside the caller's transaction."""
    with transaction(db):
        entry = audit.append(
            last(db), at=now or clock.now(), actor=actor, action=action, subject=subject, details=details
        )
        db.execute(
            "INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [entry.seq, entry.at, entry.actor, entry.action, entry.subject,
             json.dumps(entry.details, ensure_ascii=False, sort_keys=True), entry.prev_hash, entry.hash],
        )
        outbox.enqueue(db, "audit", "audit.entry", _as_body(entry), now=now)
    return entry


def last(db: sqlite_utils.Database) -> audit.AuditEntry | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    return _entry(row) if row else None


def entries(db: sqlite_utils.Database, batch: int = 1000) -> Iterator[audit.AuditEntry]:
    """Every entry in order, read in batches so a long log does not sit in memory at once."""
    after = 0
    while True:
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?", [after, batch]
        ).fetchall()
        if not rows:
            return
        for row in rows:
            yield _entry(row)
        after = rows[-1][0]


TRUNCATED = "truncated"


def verify(db: sqlite_utils.Database) -> audit.ChainBreak | None:
    """The first tampered entry, or None when the log is intact.

    Besides the chain itself, the log's length is checked against the ``audit`` stream's counter,
    which every recorded entry advanced: deleting the newest entries leaves a valid but short chain.
    """
    broken = audit.verify(entries(db))
    if broken is not None:
        return broken
    last_entry = last(db)
    recorded = db.execute("SELECT last_seq FROM stream_counters WHERE stream = 'audit'").fetchone()
    have = last_entry.seq if last_entry else 0
    if recorded and recorded[0] > have:
        return audit.ChainBreak(have + 1, TRUNCATED)
    return None


_COLUMNS = "seq, at, actor, action, subject, details, prev_hash, hash"


def _entry(row: tuple) -> audit.AuditEntry:
    seq, at, actor, action, subject, details, prev_hash, hash_ = row
    try:
        parsed = json.loads(details)
    except (TypeError, ValueError):
        # Details edited into something that is not JSON: keep the raw text so the hash check
        # reports this entry as tampered instead of crashing the verifier.
        parsed = {"unparseable": str(details)}
    return audit.AuditEntry(seq, at, actor, action, subject, parsed, prev_hash, hash_)


def _as_body(entry: audit.AuditEntry) -> dict:
    return {
        "seq": entry.seq, "at": entry.at, "actor": entry.actor, "action": entry.action,
        "subject": entry.subject, "details": entry.details, "prev_hash": entry.prev_hash, "hash": entry.hash,
    }

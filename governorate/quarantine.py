"""The hub's quarantine: every van message it refused, kept once with the reason, for staff to see.

A refused message changes nothing else at the hub. It is kept here so that staff can see what a van
sent and why it was refused (the van keeps its own copy in its outbox: docs/protocol.md,
"Quarantine"), and so that a van that keeps sending bad messages raises an alert. A van re-sending the
same message adds nothing (one row per van and message id, or per payload when no id could be read),
and each van keeps at most KEEP_PER_VAN rows, so a faulty or hostile van cannot fill the hub's disk.
"""

from __future__ import annotations

import hashlib

from governorate.store import HubStore

KEEP_PER_VAN = 1000
MAX_PAYLOAD_BYTES = 256 * 1024
ALERT_WINDOW_H = 24  # a van with a quarantined message in the last day has an open "quarantine" alert


def put(conn, *, van: str, msg_id: str | None, stream: str | None, kind: str | None, reason: str, detail: str,
        payload: bytes, received_at: str) -> None:
    """Keep one refused message (in the caller's transaction)."""
    key = msg_id or "sha256:" + hashlib.sha256(payload).hexdigest()
    conn.execute(
        "INSERT OR IGNORE INTO quarantine (van, msg_key, stream, kind, reason, detail, payload, received_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [van, key, (stream or "")[:16], (kind or "")[:64], reason[:40], detail[:500],
         bytes(payload[:MAX_PAYLOAD_BYTES]), received_at])
    conn.execute(
        "DELETE FROM quarantine WHERE van = ? AND id <= (SELECT id FROM quarantine WHERE van = ? "
        "ORDER BY id DESC LIMIT 1 OFFSET ?)", [van, van, KEEP_PER_VAN])


def listing(store: HubStore, van: str | None = None, limit: int = 200) -> list[dict]:
    """The latest quarantined messages (all vans, or one), newest first, without their payloads."""
    sql = "SELECT id, van, msg_key, stream, kind, reason, detail, received_at FROM quarantine"
    params: list = []
    if van:
        sql, params = sql + " WHERE van = ?", [van]
    rows = store._read(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
    keys = ("id", "van", "msg_key", "stream", "kind", "reason", "detail", "received_at")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def payload(store: HubStore, entry_id: int) -> bytes | None:
    rows = store._read("SELECT payload FROM quarantine WHERE id = ?", [entry_id])
    return bytes(rows[0][0]) if rows else None


def recent_counts(store: HubStore, since: str) -> dict[str, int]:
    """{van: messages quarantined since ``since``}: what raises the "quarantine" alert."""
    return dict(store._read("SELECT van, count(*) FROM quarantine WHERE received_at >= ? GROUP BY van", [since]))

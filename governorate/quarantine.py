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

# Why a message was refused, as staff read it (the code stays on the screen for technical support).
REASONS = {
    "implausible-time": ("وقت غير معقول (ساعة الوحدة خاطئة؟)", "Implausible time (is the van's clock wrong?)"),
    "implausible-date": ("تاريخ غير معقول", "Implausible date"),
    "bad-time": ("وقت غير مقروء", "Unreadable time"),
    "out-of-range": ("قيمة خارج حدودها", "A value out of its range"),
    "hub-error": ("تعذّر على المركز تطبيقها (خطأ في برنامج المركز)",
                  "The hub could not apply it (a hub software fault)"),
    "schema-too-new": ("من إصدار أحدث من برنامج المركز", "From newer software than the hub's"),
    "schema-too-old": ("من إصدار قديم لم يعد مقبولًا", "From software too old to be accepted"),
    "malformed": ("رسالة تالفة", "A damaged message"),
    "wrong-van": ("تحمل اسم وحدة أخرى", "It names another van"),
    "bad-value": ("قيمة غير صالحة", "An invalid value"),
    "bad-type": ("قيمة من نوع خاطئ", "A value of the wrong type"),
    "missing-field": ("ينقصها حقل", "A field is missing"),
    "extra-field": ("فيها حقل غير معروف", "An unknown field"),
    "unknown-kind": ("نوع رسالة غير معروف", "An unknown kind of message"),
}


def reason_label(code: str) -> tuple[str, str]:
    return REASONS.get(code, ("سبب آخر", "Another reason"))


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


# What staff may put through the ingest again: a message of the van's record. A refused telemetry
# snapshot is stale by the time anyone looks (the next one has replaced it), and a document chunk is
# sent again by the van itself, from where it stopped.
RELEASABLE = ("tx", "audit")


def entry(store: HubStore, entry_id: int) -> dict | None:
    """One quarantined message with its payload."""
    rows = store._read("SELECT id, van, msg_key, stream, kind, reason, detail, received_at, payload FROM quarantine "
                       "WHERE id = ?", [entry_id])
    if not rows:
        return None
    keys = ("id", "van", "msg_key", "stream", "kind", "reason", "detail", "received_at", "payload")
    found = dict(zip(keys, rows[0], strict=True))
    found["payload"] = bytes(found["payload"])
    return found


def release(store: HubStore, hub, entry_id: int) -> str:
    """Put a quarantined message through the ingest again — after the hub's checks were corrected, or once
    what the message names exists. Returns ``stored`` (kept at the hub and acked to its van; its quarantine
    row goes), ``refused`` (refused again: the row stays), ``not-releasable`` (a ``tel`` or ``doc``
    message, see RELEASABLE) or ``gone`` (no such row). ``hub``: a governorate.ingest.Hub (its acks go
    to the van as the ingest's do)."""
    from edge.sync import protocol as p

    found = entry(store, entry_id)
    if found is None:
        return "gone"
    if found["stream"] not in RELEASABLE or found["msg_key"].startswith("sha256:"):
        return "not-releasable"
    hub.ingest_now([(p.up_topic(hub.gov, found["van"], found["stream"]), found["payload"])])
    if not store._read("SELECT 1 FROM messages WHERE van = ? AND msg_id = ?", [found["van"], found["msg_key"]]):
        return "refused"
    with store.transaction() as conn:
        conn.execute("DELETE FROM quarantine WHERE id = ?", [entry_id])
    return "stored"


def conflicts(store: HubStore, limit: int = 200) -> list[dict]:
    """Request numbers (and shift reports, "Z<shift>") sent again with other content, newest first: what the hub
    kept and the message that differs, side by side (both bodies as the van sent them)."""
    rows = store._read(
        "SELECT c.id, c.van, c.number, c.msg_id, c.detail, c.received_at, COALESCE(r.van, s.van), "
        "COALESCE(r.body, s.body), m.body "
        "FROM request_conflicts c LEFT JOIN requests r ON r.number = c.number "
        "LEFT JOIN shifts s ON s.van = c.van AND c.number = 'Z' || s.shift "
        "LEFT JOIN messages m ON m.van = c.van AND m.msg_id = c.msg_id ORDER BY c.id DESC LIMIT ?", [limit])
    keys = ("id", "van", "number", "msg_id", "detail", "received_at", "kept_van", "kept", "other")
    return [dict(zip(keys, row, strict=True)) for row in rows]

"""Current state of each device (printer, scanner, QR reader, cameras …) and the history of its changes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from edge.store import clock
from edge.store.db import transaction

STATES = ("ok", "warning", "error", "unknown")


@dataclass(frozen=True)
class DeviceStatus:
    device: str
    kind: str
    state: str
    message_ar: str
    message_en: str
    detail: dict
    since: str
    updated_at: str


def report(
    db: sqlite_utils.Database,
    device: str,
    kind: str,
    state: str,
    *,
    message_ar: str = "",
    message_en: str = "",
    detail: Mapping | None = None,
    now: datetime | None = None,
    history: bool = True,
) -> bool:
    """Store a device's latest status; returns True when its state changed (and logs the change).

    Heartbeats that repeat the same state only refresh ``updated_at``, so the events table grows
    with changes, not with time. ``history=False`` (a nearly full disk) keeps the current state only.
    """
    if state not in STATES:
        raise ValueError(f"unknown device state {state!r}")
    at = clock.iso(now or clock.now())
    with transaction(db):
        row = db.execute("SELECT state, since FROM device_status WHERE device = ?", [device]).fetchone()
        changed = row is None or row[0] != state
        since = at if changed else row[1]
        db.execute(
            "INSERT INTO device_status (device, kind, state, message_ar, message_en, detail, since, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(device) DO UPDATE SET kind = excluded.kind, "
            "state = excluded.state, message_ar = excluded.message_ar, message_en = excluded.message_en, "
            "detail = excluded.detail, since = excluded.since, updated_at = excluded.updated_at",
            [device, kind, state, message_ar, message_en,
             json.dumps(dict(detail or {}), ensure_ascii=False, sort_keys=True), since, at],
        )
        if changed and history:
            db.execute(
                "INSERT INTO device_events (device, state, message_en, at) VALUES (?, ?, ?, ?)",
                [device, state, message_en, at],
            )
    return changed


_SELECT = "SELECT device, kind, state, message_ar, message_en, detail, since, updated_at FROM device_status"


def current(db: sqlite_utils.Database) -> list[DeviceStatus]:
    rows = db.execute(f"{_SELECT} ORDER BY device").fetchall()
    return [DeviceStatus(*r[:5], json.loads(r[5]), r[6], r[7]) for r in rows]


def get(db: sqlite_utils.Database, device: str) -> DeviceStatus | None:
    """One device's latest status, or None when it never reported."""
    r = db.execute(f"{_SELECT} WHERE device = ?", [device]).fetchone()
    return DeviceStatus(*r[:5], json.loads(r[5]), r[6], r[7]) if r else None


def purge_events(db: sqlite_utils.Database, older_than: datetime) -> int:
    with transaction(db):
        return db.execute("DELETE FROM device_events WHERE at < ?", [clock.iso(older_than)]).rowcount

"""Small facts the sync process keeps across restarts: its MQTT session counter, document upload progress."""

from __future__ import annotations

import json
from datetime import datetime

import sqlite_utils

from edge.store import clock
from edge.store.db import transaction


def get(db: sqlite_utils.Database, key: str, default: str | None = None) -> str | None:
    row = db.execute("SELECT value FROM sync_state WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


def put(db: sqlite_utils.Database, key: str, value: str) -> None:
    with transaction(db):
        db.execute("INSERT INTO sync_state (key, value) VALUES (?, ?) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])


def set_link(db: sqlite_utils.Database, connected: bool, *, now: datetime | None = None,
             boot: tuple[str, float] | None | bool = True) -> None:
    """Whether the sync process is connected to the governorate's broker now, and since when (the van's health
    answer shows it; an update's health check compares it before and after the switch; the updater's retry waits
    for the governorate's word from then). ``since`` is the wall clock's; ``boot`` and ``since_boot_s`` the same
    moment on the boot clock (clock.boot_clock, read here unless given; None: none), which the wall clock's steps
    do not move. A reader that knows only ``connected`` and ``since`` reads this as before."""
    link: dict = {"connected": connected, "since": clock.iso(now or clock.now())}
    mark = clock.boot_clock() if boot is True else boot or None
    if mark is not None:
        link.update(boot=mark[0], since_boot_s=round(mark[1], 3))
    put(db, "link", json.dumps(link))


def link(db: sqlite_utils.Database) -> dict | None:
    """{"connected": bool, "since": ISO time} as the sync process last recorded it; None if it never ran."""
    try:
        found = json.loads(get(db, "link") or "null")
    except ValueError:
        return None
    return found if isinstance(found, dict) and isinstance(found.get("connected"), bool) else None


def next_session(db: sqlite_utils.Database) -> int:
    """Bump and return the session counter; committed before CONNECT, so a will never outlives its session."""
    with transaction(db):
        session = int(get(db, "session", "0")) + 1
        put(db, "session", str(session))
    return session


def raise_session(db: sqlite_utils.Database, at_least: int) -> int:
    """Raise the session counter to ``at_least`` (the hub saw that connection of this van: its database went back);
    never lowers it. Returns what it was."""
    with transaction(db):
        was = int(get(db, "session", "0"))
        if at_least > was:
            put(db, "session", str(at_least))
    return was


def doc_progress(db: sqlite_utils.Database, msg_id: str) -> tuple[int, str]:
    """(highest chunk index the hub has contiguously, state) for a queued document; (-1, "partial") if none."""
    row = db.execute("SELECT highest_contiguous, state FROM doc_progress WHERE msg_id = ?", [msg_id]).fetchone()
    return (row[0], row[1]) if row else (-1, "partial")


def set_doc_progress(
    db: sqlite_utils.Database, msg_id: str, highest: int, state: str, *, now: datetime | None = None
) -> None:
    with transaction(db):
        db.execute(
            "INSERT INTO doc_progress (msg_id, highest_contiguous, state, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(msg_id) DO UPDATE SET highest_contiguous = excluded.highest_contiguous, "
            "state = excluded.state, updated_at = excluded.updated_at",
            [msg_id, highest, state, clock.iso(now or clock.now())],
        )

"""Retention: delete what the van no longer needs to keep, never what has not reached the governorate."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlite_utils

from edge.store import device_status, outbox


def purge(
    db: sqlite_utils.Database, now: datetime, *, delivered_outbox_days: int, device_events_days: int
) -> dict[str, int]:
    """Delete delivered outbox rows and device events past their retention; returns counts per table.

    Inbox ids are never purged: they are a few bytes each, and forgetting one would let a replayed
    downlink message apply twice.
    """
    return {
        "outbox": outbox.purge_delivered(db, now - timedelta(days=delivered_outbox_days)),
        "device_events": device_status.purge_events(db, now - timedelta(days=device_events_days)),
    }

"""Retention: delete what the van no longer needs to keep, never what has not reached the governorate."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlite_utils

from edge.config import RetentionSettings
from edge.store import device_status, inbox, outbox


def purge(db: sqlite_utils.Database, retention: RetentionSettings, now: datetime) -> dict[str, int]:
    return {
        "outbox": outbox.purge_delivered(db, now - timedelta(days=retention.delivered_outbox_days)),
        "inbox": inbox.purge(db, now - timedelta(days=retention.inbox_days)),
        "device_events": device_status.purge_events(db, now - timedelta(days=retention.device_status_days)),
    }

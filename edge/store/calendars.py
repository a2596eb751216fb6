"""Public-holiday calendars the governorate sent over the downlink (table ``calendars``): the newest is in force for
the due dates of new requests; until one arrives, the calendar shipped with the software (edge.core.workdays)."""

from __future__ import annotations

import functools

import sqlite_utils

from edge.core import workdays


def newest_version(db: sqlite_utils.Database) -> int | None:
    return db.execute("SELECT max(version) FROM calendars").fetchone()[0]


def in_force(db: sqlite_utils.Database) -> workdays.Calendar:
    """The newest calendar received (each was checked before it was stored), else the shipped one."""
    row = db.execute("SELECT version, text FROM calendars ORDER BY version DESC LIMIT 1").fetchone()
    if row is None:
        return workdays.load_default()
    return _parsed(row[0], row[1])


@functools.lru_cache(maxsize=4)
def _parsed(version: int, text: str) -> workdays.Calendar:
    return workdays.loads(text, f"holidays v{version} from the governorate")

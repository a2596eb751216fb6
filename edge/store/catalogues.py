"""Service catalogues the governorate sent over the downlink (table ``catalogues``): the newest is in force."""

from __future__ import annotations

import json

import sqlite_utils

from edge.core import catalogue as catalogue_mod


def newest_version(db: sqlite_utils.Database) -> int | None:
    return db.execute("SELECT max(version) FROM catalogues").fetchone()[0]


def newest(db: sqlite_utils.Database) -> catalogue_mod.Catalogue | None:
    """The newest catalogue received over the downlink, if any (each was checked before it was stored)."""
    row = db.execute("SELECT data, version FROM catalogues ORDER BY version DESC LIMIT 1").fetchone()
    if row is None:
        return None
    return catalogue_mod.from_dict(json.loads(row[0]), source=f"catalogue v{row[1]} from the governorate")

"""The inbox: downlink messages applied exactly once, each in one transaction with its effect."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime

import sqlite_utils

from edge.core.errors import EdgeError
from edge.store import clock, disk
from edge.store.db import transaction

log = logging.getLogger(__name__)

# Faults of the van, not of the message: retried when the hub sends the message again.
VAN_FAULTS = (sqlite3.OperationalError, OSError, MemoryError, disk.DiskFull)


def seen(db: sqlite_utils.Database, msg_id: str) -> bool:
    return db.execute("SELECT 1 FROM inbox WHERE msg_id = ?", [msg_id]).fetchone() is not None


def apply_once(
    db: sqlite_utils.Database,
    msg_id: str,
    kind: str,
    effect: Callable[[sqlite_utils.Database], None],
    *,
    now: datetime | None = None,
    report: Callable[[sqlite_utils.Database, str, str | None], None] | None = None,
) -> str:
    """Run ``effect`` for a downlink message unless its id was handled before.

    Returns "applied", "duplicate" or "rejected". A message whose effect raises (bad content: an unknown
    request, an impossible state change — an ``EdgeError`` — or content the van's code cannot handle: any
    other exception) is recorded as rejected with the reason and its partial effect rolled back, so a
    redelivery does not retry it for ever and one poison message never stops the link. Only a fault of
    the van itself (:data:`VAN_FAULTS`: the database busy or broken, the disk full) rolls everything back
    and propagates: nothing is recorded, and the message is applied when the hub sends it again.

    ``report(db, outcome, error)`` runs in the same transaction after an applied or rejected message
    (not after a duplicate): the sync process uses it to queue its answer to the hub atomically.
    """
    received_at = clock.iso(now or clock.now())
    with transaction(db):
        if seen(db, msg_id):
            return "duplicate"
        try:
            with transaction(db):  # a savepoint: a rejected effect leaves nothing behind
                effect(db)
        except VAN_FAULTS:
            raise
        except EdgeError as exc:
            outcome, error = "rejected", (exc.detail or exc.message_en)[:500]
        except Exception as exc:  # noqa: BLE001 - a poison message is recorded, never looped on
            log.exception("downlink %s (%s) could not be applied; recorded as rejected", msg_id, kind)
            outcome, error = "rejected", f"the van could not apply it: {type(exc).__name__}: {exc}"[:500]
        else:
            outcome, error = "applied", None
        _record(db, msg_id, kind, received_at, outcome, error)
        if report is not None:
            report(db, outcome, error)
        return outcome


def _record(db, msg_id, kind, received_at, outcome, error) -> None:
    db.execute(
        "INSERT INTO inbox (msg_id, kind, received_at, outcome, error) VALUES (?, ?, ?, ?, ?)",
        [msg_id, kind, received_at, outcome, error],
    )

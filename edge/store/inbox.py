"""The inbox: downlink messages applied exactly once, each in one transaction with its effect."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlite_utils

from edge.core.errors import EdgeError
from edge.store import clock
from edge.store.db import transaction


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

    Returns "applied", "duplicate" or "rejected". A message whose effect raises an ``EdgeError``
    (bad content: an unknown request, an impossible state change) is recorded as rejected with the
    reason and its partial effect rolled back, so a redelivery does not retry it forever. Any other
    exception (a bug, a full disk) rolls everything back and propagates: the message stays unhandled
    and will be applied when redelivered.

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
        except EdgeError as exc:
            outcome, error = "rejected", (exc.detail or exc.message_en)[:500]
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

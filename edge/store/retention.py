"""Retention: delete what the van no longer needs to keep, never what has not reached the governorate."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

import sqlite_utils

from edge.store import clock, device_status, outbox
from edge.store.db import transaction

log = logging.getLogger(__name__)


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


# A request's data still travelling to the governorate: any undelivered tx or doc row that names it.
_UNSENT = (
    "SELECT 1 FROM outbox WHERE delivered_at IS NULL AND ("
    "(stream = 'tx' AND json_extract(body, '$.number') = r.number) OR "
    "(stream = 'doc' AND json_extract(body, '$.request_number') = r.number))"
)


def purge_personal_data(
    db: sqlite_utils.Database, documents_dir: Path, now: datetime, *, personal_data_days: int
) -> dict[str, int]:
    """Erase citizens' personal data from requests older than ``personal_data_days`` whose records the
    governorate has acknowledged.

    What goes: the citizen's national ID, name and mobile (the ``citizens`` row is blanked and marked
    ``purged_at`` once none of the person's requests still needs it), the name snapshot and payment
    reference on the request, the scanned pages (files and rows), and the same fields inside delivered
    outbox rows still kept for diagnosis. What stays: request number, service, fee, state and its history,
    dates — all an operator needs to answer "what happened to my request?". A request with any
    undelivered row is skipped, however old: the governorate must receive it first.
    """
    cutoff = clock.iso(now - timedelta(days=personal_data_days))
    at = clock.iso(now)
    counts = {"requests": 0, "citizens": 0, "documents": 0}
    files: list[Path] = []
    with transaction(db):
        numbers = [r[0] for r in db.execute(
            f"SELECT r.number FROM requests r WHERE r.created_at < ? AND (r.citizen_name != '' "
            f"OR EXISTS (SELECT 1 FROM documents d WHERE d.request_number = r.number)) AND NOT EXISTS ({_UNSENT})",
            [cutoff],
        ).fetchall()]
        for number in numbers:
            for (path,) in db.execute("SELECT path FROM documents WHERE request_number = ?", [number]).fetchall():
                files.append(Path(documents_dir) / path)
            counts["documents"] += db.execute("DELETE FROM documents WHERE request_number = ?", [number]).rowcount
            db.execute("UPDATE requests SET citizen_name = '', payment_reference = NULL, updated_at = updated_at "
                       "WHERE number = ?", [number])
            db.execute(
                "UPDATE outbox SET body = json_remove(body, '$.citizen', '$.payment.reference') "
                "WHERE stream = 'tx' AND delivered_at IS NOT NULL AND json_extract(body, '$.number') = ?",
                [number],
            )
            counts["requests"] += 1
        # A citizen is blanked once every request of theirs is past retention and acknowledged.
        counts["citizens"] = db.execute(
            f"UPDATE citizens SET national_id = NULL, name = '', mobile = NULL, purged_at = ?, updated_at = ? "
            f"WHERE purged_at IS NULL AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.citizen_id = citizens.id "
            f"AND (r.created_at >= ? OR EXISTS ({_UNSENT}))) "
            f"AND EXISTS (SELECT 1 FROM requests r WHERE r.citizen_id = citizens.id)",
            [at, at, cutoff],
        ).rowcount
    # Files go after the commit: a crash in between leaves an orphan file, never a row without its file.
    for path in files:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("retention: could not delete %s: %s", path, exc)
    return counts

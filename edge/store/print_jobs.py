"""The persistent print queue: every receipt and ticket is a row before it is paper, so none is lost.

States: ``queued`` → ``printing`` → ``printed``; a failed attempt goes back to ``queued`` with its
``reason`` (paper out, offline …); an operator may ``cancel`` a queued job. A job is claimed
(``printing``) in its own committed transaction *before* its bytes go to the printer, so after a crash
a job still ``printing`` is known to have maybe reached the paper: :func:`recover` queues it again with
the REPRINT mark. That is the one case where a citizen may hold two papers of one job, and the second
says so: never a silent duplicate, never a silent loss.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from edge.store import clock
from edge.store.db import transaction

KINDS = ("receipt", "ticket", "test", "zreport")
_COLUMNS = ("id, kind, ref, payload, state, reprint, training, copies, attempts, reason, detail, created_at, "
            "updated_at, printed_at")


@dataclass(frozen=True)
class PrintJob:
    id: int
    kind: str
    ref: str  # the request or ticket number, for the console
    payload: dict
    state: str
    reprint: bool
    training: bool
    copies: int
    attempts: int
    reason: str | None  # why the last attempt failed (an edge.devices.printer.status error code)
    detail: str
    created_at: str
    updated_at: str
    printed_at: str | None

    @property
    def held(self) -> bool:
        """Waiting because an attempt failed (the operator has been told why)."""
        return self.state == "queued" and self.reason is not None


def _job(row) -> PrintJob:
    (id_, kind, ref, payload, state, reprint, training, copies, attempts, reason, detail, created, updated,
     printed) = row
    return PrintJob(id_, kind, ref, json.loads(payload), state, bool(reprint), bool(training), copies, attempts,
                    reason, detail, created, updated, printed)


def _now(now: datetime | None) -> str:
    return clock.iso(now or clock.now())


def add(db: sqlite_utils.Database, kind: str, payload: Mapping, *, ref: str = "", copies: int = 1,
        reprint: bool = False, training: bool = False, now: datetime | None = None) -> int:
    """Queue a document; returns the job id. Committed before anything is printed.

    When a job for the same ``kind`` and ``ref`` is still waiting (the printer was out of paper and the
    operator pressed "reprint"), that job is the answer: printing both once the paper is back would
    put two copies in the citizen's hand.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown print job kind {kind!r}")
    at = _now(now)
    with transaction(db):
        if ref:
            waiting = db.execute("SELECT id FROM print_jobs WHERE kind = ? AND ref = ? AND state = 'queued' "
                                 "ORDER BY id LIMIT 1", [kind, ref]).fetchone()
            if waiting:
                return waiting[0]
        cursor = db.execute(
            "INSERT INTO print_jobs (kind, ref, payload, state, reprint, training, copies, created_at, updated_at) "
            "VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?)",
            [kind, ref, json.dumps(dict(payload), ensure_ascii=False, sort_keys=True), int(reprint),
             int(training), copies, at, at],
        )
        return cursor.lastrowid


def get(db: sqlite_utils.Database, job_id: int) -> PrintJob | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM print_jobs WHERE id = ?", [job_id]).fetchone()
    return _job(row) if row else None


def pending(db: sqlite_utils.Database) -> list[PrintJob]:
    """Jobs not printed yet, oldest first (the order they print in)."""
    rows = db.execute(f"SELECT {_COLUMNS} FROM print_jobs WHERE state IN ('queued', 'printing') ORDER BY id")
    return [_job(r) for r in rows.fetchall()]


def claim_next(db: sqlite_utils.Database, *, now: datetime | None = None) -> PrintJob | None:
    """The oldest queued job, marked ``printing`` (committed) so a crash from here on is noticed."""
    with transaction(db):
        row = db.execute(f"SELECT {_COLUMNS} FROM print_jobs WHERE state = 'queued' ORDER BY id LIMIT 1").fetchone()
        if row is None:
            return None
        job = _job(row)
        at = _now(now)
        db.execute("UPDATE print_jobs SET state = 'printing', attempts = attempts + 1, updated_at = ? WHERE id = ?",
                   [at, job.id])
    return get(db, job.id)


def mark_printed(db: sqlite_utils.Database, job_id: int, *, now: datetime | None = None) -> None:
    at = _now(now)
    with transaction(db):
        db.execute("UPDATE print_jobs SET state = 'printed', reason = NULL, detail = '', printed_at = ?, "
                   "updated_at = ? WHERE id = ? AND state = 'printing'", [at, at, job_id])


def mark_failed(db: sqlite_utils.Database, job_id: int, reason: str, *, detail: str = "", sent: bool,
                now: datetime | None = None) -> None:
    """Back to the queue with why. ``sent``: some of it may be on paper, so the next print is a reprint."""
    with transaction(db):
        db.execute("UPDATE print_jobs SET state = 'queued', reason = ?, detail = ?, reprint = reprint OR ?, "
                   "updated_at = ? WHERE id = ? AND state = 'printing'",
                   [reason, detail, int(sent), _now(now), job_id])


def recover(db: sqlite_utils.Database, *, now: datetime | None = None) -> list[int]:
    """At start-up: jobs left ``printing`` by a crash go back to the queue, to print marked REPRINT."""
    with transaction(db):
        ids = [r[0] for r in db.execute("SELECT id FROM print_jobs WHERE state = 'printing'").fetchall()]
        if ids:
            db.execute("UPDATE print_jobs SET state = 'queued', reprint = 1, reason = 'interrupted', "
                       "detail = 'the process stopped while this job was printing', updated_at = ? "
                       "WHERE state = 'printing'", [_now(now)])
    return ids


def reprint(db: sqlite_utils.Database, job_id: int, *, now: datetime | None = None) -> int:
    """Print a finished job again (the operator's "reprint"): a new job carrying the REPRINT mark."""
    job = get(db, job_id)
    if job is None:
        raise KeyError(job_id)
    return add(db, job.kind, job.payload, ref=job.ref, copies=1, reprint=True, training=job.training, now=now)


def cancel(db: sqlite_utils.Database, job_id: int, *, now: datetime | None = None) -> bool:
    """Drop a queued job (the citizen left, the paper was printed from the browser); False if too late."""
    with transaction(db):
        return db.execute("UPDATE print_jobs SET state = 'cancelled', updated_at = ? WHERE id = ? AND state = 'queued'",
                          [_now(now), job_id]).rowcount == 1


def purge_printed(db: sqlite_utils.Database, older_than: datetime) -> int:
    """Forget printed and cancelled jobs (they hold a citizen's name) once nobody will ask for a reprint."""
    with transaction(db):
        return db.execute("DELETE FROM print_jobs WHERE state IN ('printed', 'cancelled') AND updated_at < ?",
                          [clock.iso(older_than)]).rowcount

"""Read-only queries behind the console's lists and the now-serving screen (no writes here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlite_utils

from edge.store import clock


@dataclass(frozen=True)
class RequestRow:
    number: str
    day: str
    service_code: str
    state: str
    citizen_name: str
    national_id: str | None
    fee_piastres: int
    created_at: str


def search_requests(
    db: sqlite_utils.Database,
    *,
    number: str | None = None,
    national_id: str | None = None,
    day: date | None = None,
    state: str | None = None,
    limit: int = 100,
) -> list[RequestRow]:
    """Requests matching every given filter, newest first."""
    where, params = [], []
    if number:
        where.append("r.number = ?")
        params.append(number)
    if national_id:
        where.append("c.national_id = ?")
        params.append(national_id)
    if day:
        where.append("r.day = ?")
        params.append(day.isoformat())
    if state:
        where.append("r.state = ?")
        params.append(state)
    sql = (
        "SELECT r.number, r.day, r.service_code, r.state, r.citizen_name, c.national_id, r.fee_piastres, "
        "r.created_at FROM requests r JOIN citizens c ON c.id = r.citizen_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY r.created_at DESC, r.number DESC LIMIT ?"
    )
    return [RequestRow(*r) for r in db.execute(sql, [*params, limit]).fetchall()]


@dataclass(frozen=True)
class Call:
    number: str
    category: str
    counter: int
    state: str
    called_at: str
    recalls: int


def recent_calls(db: sqlite_utils.Database, *, now: datetime | None = None, limit: int = 12) -> list[Call]:
    """Today's called tickets (whatever became of them since), most recent call first."""
    rows = db.execute(
        "SELECT number, category, counter, state, called_at, recalls FROM tickets WHERE day = ? AND "
        "called_at IS NOT NULL ORDER BY called_at DESC, id DESC LIMIT ?",
        [clock.local_day(now or clock.now()).isoformat(), limit],
    ).fetchall()
    return [Call(*r) for r in rows]


def at_counter(db: sqlite_utils.Database, counter: int, *, now: datetime | None = None) -> Call | None:
    """The ticket called to or being served at ``counter`` today, if any."""
    row = db.execute(
        "SELECT number, category, counter, state, called_at, recalls FROM tickets WHERE day = ? AND counter = ? "
        "AND state IN ('called', 'serving') ORDER BY called_at DESC, id DESC LIMIT 1",
        [clock.local_day(now or clock.now()).isoformat(), counter],
    ).fetchone()
    return Call(*row) if row else None


def waiting_counts(db: sqlite_utils.Database, *, now: datetime | None = None) -> dict[str, int]:
    rows = db.execute(
        "SELECT category, count(*) FROM tickets WHERE day = ? AND state = 'waiting' GROUP BY category",
        [clock.local_day(now or clock.now()).isoformat()],
    ).fetchall()
    return dict(rows)

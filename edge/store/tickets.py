"""Queue tickets in the van database: issue, call, serve, transfer; each change reported up the ``tx`` stream."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta

import sqlite_utils

from edge.core import tickets as tk
from edge.core.catalogue import Catalogue
from edge.core.errors import EdgeError
from edge.store import audit_log, clock, outbox
from edge.store.db import transaction

# How many recent services the wait estimate looks at, and how recent a counter's last call must be
# for it to count as open.
RECENT_SERVICES = 20
OPEN_COUNTER_WINDOW = timedelta(minutes=30)
TERMINAL = (tk.TicketState.DONE, tk.TicketState.NO_SHOW, tk.TicketState.TRANSFERRED)


class UnknownTicket(EdgeError):
    code = "ticket-unknown"

    def __init__(self, number: str):
        super().__init__(
            f"لا توجد تذكرة مفتوحة بالرقم {number} اليوم.",
            f"There is no open ticket number {number} today.",
            detail=f"no open ticket {number}",
        )


@dataclass(frozen=True)
class IssuedTicket:
    ticket: tk.Ticket
    people_ahead: int
    wait: timedelta


_FIELDS = [f.name for f in fields(tk.Ticket)]
_TIMES = {"issued_at", "called_at", "started_at", "finished_at"}


def issue(
    db: sqlite_utils.Database,
    catalogue: Catalogue,
    category_code: str,
    priority: tk.Priority | str = tk.Priority.NONE,
    *,
    now: datetime | None = None,
) -> IssuedTicket:
    """A new ticket in the category's series, with how many are ahead and the expected wait."""
    now = now or clock.now()
    category = catalogue.category(category_code)
    day = clock.local_day(now)
    with transaction(db):
        ticket = tk.issue(category.ticket_series, _last_seq(db, day, category.ticket_series),
                          category.code, tk.Priority(priority), now)
        _insert(db, day, ticket)
        _report(db, "ticket.issued", ticket, now)
        waiting = _waiting(db, day)
        ahead = tk.people_ahead(ticket, waiting)
        wait = tk.estimate_wait(ahead, _recent_service_seconds(db, category.code), _open_counters(db, now))
    return IssuedTicket(ticket, ahead, wait)


def call_next(
    db: sqlite_utils.Database,
    counter: int,
    operator: str,
    categories: Collection[str] | None = None,
    *,
    now: datetime | None = None,
) -> tk.Ticket | None:
    """Call the next citizen (priority first) to ``counter``; None when nobody is waiting."""
    now = now or clock.now()
    with transaction(db):
        rows = _waiting_rows(db, clock.local_day(now))
        chosen = tk.pick_next([t for _, t in rows], categories)
        if chosen is None:
            return None
        row_id = next(i for i, t in rows if t is chosen)
        return _save(db, row_id, tk.call(chosen, counter, now), "call", operator, now)


def recall(db, number: str, operator: str, *, now: datetime | None = None) -> tk.Ticket:
    return _act(db, number, "recall", operator, now, tk.recall)


def start(db, number: str, operator: str, *, now: datetime | None = None) -> tk.Ticket:
    return _act(db, number, "start", operator, now, tk.start)


def finish(db, number: str, operator: str, *, now: datetime | None = None) -> tk.Ticket:
    return _act(db, number, "finish", operator, now, tk.finish)


def no_show(db, number: str, operator: str, *, now: datetime | None = None) -> tk.Ticket:
    return _act(db, number, "no_show", operator, now, tk.no_show)


def transfer(
    db: sqlite_utils.Database,
    catalogue: Catalogue,
    number: str,
    category_code: str,
    operator: str,
    *,
    now: datetime | None = None,
) -> tk.Ticket:
    """Close the ticket and queue the citizen for another category under the same number, keeping their place;
    returns the new ticket."""
    now = now or clock.now()
    category = catalogue.category(category_code)
    day = clock.local_day(now)
    with transaction(db):
        row_id, current = _open_ticket(db, day, number)
        closed, fresh = tk.transfer(current, category.code, now)
        _update(db, row_id, closed)
        _insert(db, day, fresh, count=False)  # the number was counted when it was issued
        _report(db, "ticket.transferred", closed, now)
        _report(db, "ticket.issued", fresh, now)
        audit_log.record(db, actor=operator, action="ticket.transfer", subject=number,
                         details={"to": fresh.number, "category": category.code}, now=now)
    return fresh


def waiting(db: sqlite_utils.Database, *, now: datetime | None = None) -> list[tk.Ticket]:
    """Today's waiting tickets in the order they will be called."""
    return tk.call_order(_waiting(db, clock.local_day(now or clock.now())))


def called(db: sqlite_utils.Database, *, now: datetime | None = None) -> list[tk.Ticket]:
    """Tickets called or being served today, most recent call first (for the now-serving screen)."""
    rows = db.execute(
        f"SELECT {', '.join(_FIELDS)} FROM tickets WHERE day = ? AND state IN ('called', 'serving') "
        "ORDER BY called_at DESC",
        [clock.local_day(now or clock.now()).isoformat()],
    ).fetchall()
    return [_ticket(r) for r in rows]


# --- internals --------------------------------------------------------------------------------


def _act(db, number, action, operator, now, step) -> tk.Ticket:
    now = now or clock.now()
    with transaction(db):
        row_id, current = _open_ticket(db, clock.local_day(now), number)
        return _save(db, row_id, step(current, now), action, operator, now)


def _save(db, row_id: int, after: tk.Ticket, action: str, operator: str, now) -> tk.Ticket:
    _update(db, row_id, after)
    _report(db, f"ticket.{action}", after, now)
    details = {"counter": after.counter} if action == "call" else {}
    audit_log.record(db, actor=operator, action=f"ticket.{action}", subject=after.number, details=details, now=now)
    return after


def _open_ticket(db, day, number: str) -> tuple[int, tk.Ticket]:
    # After a wrap the same number can exist twice in a day. Operators act on tickets at their
    # counter, so a called or served one is meant before a waiting namesake.
    row = db.execute(
        f"SELECT id, {', '.join(_FIELDS)} FROM tickets WHERE day = ? AND number = ? "
        f"AND state NOT IN ({', '.join('?' * len(TERMINAL))}) ORDER BY state = 'waiting', id DESC LIMIT 1",
        [day.isoformat(), number.strip().upper(), *TERMINAL],
    ).fetchone()
    if row is None:
        raise UnknownTicket(number)
    return row[0], _ticket(row[1:])


def _last_seq(db, day, series: str) -> int | None:
    row = db.execute("SELECT last_seq FROM ticket_counters WHERE day = ? AND series = ?",
                     [day.isoformat(), series]).fetchone()
    return row[0] if row else None


def _insert(db, day, t: tk.Ticket, *, count: bool = True) -> None:
    if count:
        db.execute(
            "INSERT INTO ticket_counters (day, series, last_seq) VALUES (?, ?, ?) "
            "ON CONFLICT(day, series) DO UPDATE SET last_seq = excluded.last_seq",
            [day.isoformat(), t.series, t.seq],
        )
    values = _columns(t)
    db.execute(
        f"INSERT INTO tickets (day, {', '.join(values)}) VALUES (?, {', '.join('?' * len(values))})",
        [day.isoformat(), *values.values()],
    )


def _update(db, row_id: int, t: tk.Ticket) -> None:
    values = _columns(t)
    db.execute(f"UPDATE tickets SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?",
               [*values.values(), row_id])


def _waiting_rows(db, day) -> list[tuple[int, tk.Ticket]]:
    # Row ids travel with the tickets: after a series wraps, a number alone is ambiguous.
    rows = db.execute(f"SELECT id, {', '.join(_FIELDS)} FROM tickets WHERE day = ? AND state = 'waiting'",
                      [day.isoformat()]).fetchall()
    return [(r[0], _ticket(r[1:])) for r in rows]


def _waiting(db, day) -> list[tk.Ticket]:
    return [t for _, t in _waiting_rows(db, day)]


def _recent_service_seconds(db, category: str) -> list[float]:
    rows = db.execute(
        "SELECT started_at, finished_at FROM tickets WHERE category = ? AND state = 'done' "
        "ORDER BY finished_at DESC LIMIT ?", [category, RECENT_SERVICES],
    ).fetchall()
    return [(clock.parse(b) - clock.parse(a)).total_seconds() for a, b in rows if a and b]


def _open_counters(db, now: datetime) -> int:
    since = clock.iso(now - OPEN_COUNTER_WINDOW)
    n = db.execute("SELECT count(DISTINCT counter) FROM tickets WHERE called_at >= ?", [since]).fetchone()[0]
    return max(n, 1)


def _report(db, kind: str, t: tk.Ticket, now) -> None:
    outbox.enqueue(db, "tx", kind, _columns(t), now=now)


def _columns(t: tk.Ticket) -> dict:
    out = {}
    for key, value in asdict(t).items():
        out[key] = clock.iso(value) if key in _TIMES and value is not None else getattr(value, "value", value)
    return out


def _ticket(row) -> tk.Ticket:
    data = dict(zip(_FIELDS, row, strict=True))
    for key in _TIMES:
        if data[key] is not None:
            data[key] = clock.parse(data[key])
    data["priority"] = tk.Priority(data["priority"])
    data["state"] = tk.TicketState(data["state"])
    return tk.Ticket(**data)

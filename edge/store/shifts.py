"""Operators' shifts in the van database (issue 19): open, the live totals, close (with a hand-over to the next
operator, or by a supervisor the morning after), every step audited, the close reported up the ``tx`` stream.

The money of a shift is attributed by row: a request carries the shift whose drawer took its fee
(``requests.shift_id``), a refund the shift whose drawer paid it back (``refunds.shift_id``). What the operator
did at the counter (cancellations, reprints, citizens served, no-shows) is counted from the audit chain: the
operator's entries between the shift's opening and its close. The rules are :mod:`edge.core.shifts`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlite_utils

from edge.core import shifts as sh
from edge.store import audit_log, clock, outbox
from edge.store.db import transaction

# Audit actions counted in a shift's totals (by the shift's operator, while the shift was open).
_COUNTED = {"cancellations": "request.cancel", "reprints": "receipt.reprint",
            "tickets_served": "ticket.finish", "no_shows": "ticket.no_show"}

_FIELDS = ("id", "operator", "counter", "day", "state", "opened_at", "opening_float_piastres", "received_from",
           "closed_at", "closed_by", "counted_cash_piastres", "expected_cash_piastres", "difference_piastres",
           "reason", "confirmed_by", "handed_to", "totals")


@dataclass(frozen=True)
class Shift:
    id: int
    operator: str
    counter: int | None
    day: str
    state: sh.ShiftState
    opened_at: str
    opening_float_piastres: int
    received_from: int | None
    closed_at: str | None
    closed_by: str | None
    counted_cash_piastres: int | None
    expected_cash_piastres: int | None
    difference_piastres: int | None
    reason: str | None
    confirmed_by: str | None
    handed_to: str | None
    totals: sh.ShiftTotals | None  # frozen at the close; None while open (see :func:`live_totals`)

    @property
    def is_open(self) -> bool:
        return self.state is sh.ShiftState.OPEN


def _shift(row) -> Shift:
    d = dict(zip(_FIELDS, row, strict=True))
    d["state"] = sh.ShiftState(d["state"])
    d["totals"] = sh.ShiftTotals.from_dict(json.loads(d["totals"])) if d["totals"] else None
    return Shift(**d)


def get(db: sqlite_utils.Database, shift_id: int) -> Shift | None:
    row = db.execute(f"SELECT {', '.join(_FIELDS)} FROM shifts WHERE id = ?", [shift_id]).fetchone()
    return _shift(row) if row else None


def current(db: sqlite_utils.Database, operator: str) -> Shift | None:
    """The operator's open shift, if any (of any day: a forgotten one stays open until a supervisor closes it)."""
    row = db.execute(f"SELECT {', '.join(_FIELDS)} FROM shifts WHERE operator = ? AND state = 'open'",
                     [operator]).fetchone()
    return _shift(row) if row else None


def open_shifts(db: sqlite_utils.Database) -> list[Shift]:
    rows = db.execute(f"SELECT {', '.join(_FIELDS)} FROM shifts WHERE state = 'open' ORDER BY id").fetchall()
    return [_shift(r) for r in rows]


def recent(db: sqlite_utils.Database, limit: int = 20) -> list[Shift]:
    rows = db.execute(f"SELECT {', '.join(_FIELDS)} FROM shifts ORDER BY id DESC LIMIT ?", [limit]).fetchall()
    return [_shift(r) for r in rows]


def for_taking_money(db: sqlite_utils.Database, operator: str, *, now: datetime | None = None) -> Shift:
    """The shift a fee or a refund goes into: the operator's open shift of today. Raises NoOpenShift, or
    ShiftFromAnotherDay for a shift left open since an earlier day (a supervisor closes it first)."""
    found = current(db, operator)
    if found is None:
        raise sh.NoOpenShift()
    if found.day != clock.local_day(now or clock.now()).isoformat():
        raise sh.ShiftFromAnotherDay(found.day)
    return found


def open_shift(db: sqlite_utils.Database, *, operator: str, opening_float: int, counter: int | None = None,
               received_from: int | None = None, now: datetime | None = None) -> Shift:
    """Open the operator's shift with the float they counted; raises ShiftAlreadyOpen or BadCashAmount."""
    now = now or clock.now()
    sh.check_cash(opening_float, "مبلغ بداية الوردية", "opening float")
    with transaction(db):
        _open(db, operator, opening_float, counter, received_from, now)
        return current(db, operator)


def _open(db, operator: str, opening_float: int, counter, received_from, now: datetime) -> int:
    already = current(db, operator)
    if already is not None:
        raise sh.ShiftAlreadyOpen(already.id)
    cur = db.execute(
        "INSERT INTO shifts (operator, counter, day, state, opened_at, opening_float_piastres, received_from) "
        "VALUES (?, ?, ?, 'open', ?, ?, ?)",
        [operator, counter, clock.local_day(now).isoformat(), clock.iso(now), opening_float, received_from])
    shift_id = cur.lastrowid
    audit_log.record(db, actor=operator, action="shift.open", subject=f"shift:{shift_id}",
                     details={"opening_float_piastres": opening_float, "counter": counter,
                              "received_from": received_from}, now=now)
    return shift_id


def live_totals(db: sqlite_utils.Database, shift: Shift, *, until: str | None = None) -> sh.ShiftTotals:
    """What the van recorded in ``shift`` so far (or up to ``until``, an ISO time)."""
    payments = db.execute("SELECT payment_method, paid_piastres FROM requests WHERE shift_id = ?",
                          [shift.id]).fetchall()
    refunds = db.execute("SELECT method, amount_piastres FROM refunds WHERE shift_id = ?", [shift.id]).fetchall()
    # The audit chain spells every time with microseconds (edge.core.audit): compare in that spelling.
    start = _audit_time(shift.opened_at)
    end = _audit_time(until or shift.closed_at) if (until or shift.closed_at) else "9999"
    counts = {}
    for name, action in _COUNTED.items():
        counts[name] = db.execute("SELECT COUNT(*) FROM audit_log WHERE actor = ? AND action = ? AND at >= ? "
                                  "AND at <= ?", [shift.operator, action, start, end]).fetchone()[0]
    return sh.totals(payments, refunds, **counts)


def _audit_time(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(UTC).isoformat(timespec="microseconds")


def close(
    db: sqlite_utils.Database,
    shift_id: int,
    *,
    van_id: str,
    counted_cash: int,
    closed_by: str,
    reason: str | None = None,
    confirmed_by: str | None = None,
    threshold: int = sh.DEFAULT_THRESHOLD_PIASTRES,
    hand_over_to: str | None = None,
    report: bool = True,
    now: datetime | None = None,
) -> Shift:
    """Close a shift once: freeze its totals, record the count, the difference and its reason, and report it.

    ``closed_by`` is the operator (or, for a shift forgotten open, the supervisor closing it). ``hand_over_to``:
    the next operator's actor, whose shift opens in the same transaction with the counted cash as its float.
    ``report``: False in training mode, whose shifts never leave the van. Raises ShiftClosed (closed already,
    never twice), BadCashAmount, DifferenceReasonMissing, DifferenceNeedsSupervisor, SelfConfirmation (the
    confirming supervisor is the shift's own operator), StaleCloseNeedsSupervisor (a shift of an earlier day
    closed without a supervisor), NextShiftOpen (the next operator has a shift open).
    """
    now = now or clock.now()
    sh.check_cash(counted_cash, "النقدية المعدودة", "counted cash")
    at = clock.iso(now)
    with transaction(db):
        shift = get(db, shift_id)
        if shift is None or not shift.is_open:
            raise sh.ShiftClosed(shift_id)
        if confirmed_by is not None and confirmed_by == shift.operator:
            raise sh.SelfConfirmation()
        if confirmed_by is None and shift.day != clock.local_day(now).isoformat():
            # Its totals ran on past its day (the audit counts by operator until the close): counted by two.
            raise sh.StaleCloseNeedsSupervisor(shift.day)
        totals = live_totals(db, shift, until=at)
        expected = sh.expected_cash(shift.opening_float_piastres, totals)
        difference = counted_cash - expected
        reason = sh.check_close(difference, reason, confirmed_by, threshold)
        db.execute(
            "UPDATE shifts SET state = 'closed', closed_at = ?, closed_by = ?, counted_cash_piastres = ?, "
            "expected_cash_piastres = ?, difference_piastres = ?, reason = ?, confirmed_by = ?, handed_to = ?, "
            "totals = ? WHERE id = ? AND state = 'open'",
            [at, closed_by, counted_cash, expected, difference, reason or None, confirmed_by, hand_over_to,
             json.dumps(totals.as_dict(), sort_keys=True), shift_id])
        details = {"counted_cash_piastres": counted_cash, "expected_cash_piastres": expected,
                   "difference_piastres": difference, "reason": reason, "handed_to": hand_over_to}
        audit_log.record(db, actor=closed_by, action="shift.close", subject=f"shift:{shift_id}", details=details,
                         now=now)
        if confirmed_by:
            audit_log.record(db, actor=confirmed_by, action="shift.difference_confirmed", subject=f"shift:{shift_id}",
                             details={"difference_piastres": difference, "operator": shift.operator}, now=now)
        if hand_over_to:
            if hand_over_to == shift.operator:
                raise sh.HandOverToSelf()
            if current(db, hand_over_to) is not None:
                raise sh.NextShiftOpen(hand_over_to)
            _open(db, hand_over_to, counted_cash, shift.counter, shift_id, now)
        closed = get(db, shift_id)
        if report:
            outbox.enqueue(db, "tx", "shift.closed", message(closed, van_id), now=now)
    return closed


def message(shift: Shift, van_id: str) -> dict:
    """The ``shift.closed`` body (docs/protocol.md): the Z-report as the governorate receives it."""
    return {
        "van": van_id, "shift": shift.id, "operator": shift.operator, "counter": shift.counter, "day": shift.day,
        "opened_at": shift.opened_at, "closed_at": shift.closed_at, "closed_by": shift.closed_by,
        "opening_float_piastres": shift.opening_float_piastres, "received_from": shift.received_from,
        "counted_cash_piastres": shift.counted_cash_piastres,
        "expected_cash_piastres": shift.expected_cash_piastres,
        "difference_piastres": shift.difference_piastres, "reason": shift.reason or "",
        "confirmed_by": shift.confirmed_by, "handed_to": shift.handed_to,
        "totals": shift.totals.as_dict() if shift.totals else {},
    }

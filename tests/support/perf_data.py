"""Rows for the performance figures (governorate/performance.py): random ones for the property tests, a fixed
sample for the screens, written straight into the hub's tables as the ingest and the back office write them, and a
plain-Python computation of every figure to compare the SQL with."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from governorate import perf_summary
from governorate import performance as perf
from governorate.store import execute_values

VANS = ("V001", "V002", "V003")
SERVICES = ("BLD-PERMIT", "SHOP-LIC", "RECON")
OPERATORS = ("op1", "op2", "op3")
STATES = ("received", "under_review", "ready", "rejected", "delivered", "cancelled")
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass
class Request:
    number: str
    van: str
    service: str
    operator: str
    state: str
    submitted: datetime
    due_on: str | None
    method: str
    amount: int
    decided: datetime | None = None  # the first ready/rejected decision in the staff audit
    under_review: datetime | None = None  # an earlier audit row that is no decision
    refund: tuple[datetime, int] | None = None


@dataclass
class Ticket:
    van: str
    kind: str  # ticket.finish / ticket.no_show
    at: datetime  # the message's created_at
    wait_s: int | None
    service_s: int | None


@dataclass
class Shift:
    """A van's closed shift as the hub keeps it (``shifts``, from shift.closed): who, when it closed, the difference."""

    van: str
    shift: int
    operator: str
    closed: datetime
    difference: int  # piastres; negative = short


@dataclass
class Rows:
    requests: list[Request] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    shifts: list[Shift] = field(default_factory=list)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def request_row(r: Request) -> list:
    """A request as the hub's requests table keeps it: number, van, service_code, state, body, submitted_at,
    updated_at, due_on, decided_at."""
    body = {"number": r.number, "van": r.van, "service_code": r.service, "operator": r.operator,
            "submitted_at": iso(r.submitted), "expected_ready_on": r.due_on, "fee_piastres": r.amount,
            "citizen": {"name": "x", "national_id": "29001011234567", "mobile": None},
            "payment": {"method": r.method, "amount_piastres": r.amount, "reference": None}}
    # decided_at as backoffice.decide writes it with the decision (and m006 fills it from the audit)
    return [r.number, r.van, r.service, r.state, json.dumps(body), iso(r.submitted), iso(r.submitted), r.due_on,
            iso(r.decided) if r.decided else None]


def refund_messages(rows: Rows, first: int = 0) -> list[list]:
    """The request.refunded messages of ``rows``' refunds, as messages rows."""
    out = []
    for n, r in enumerate(rows.requests, first):
        if r.refund:
            at, amount = r.refund
            out.append([r.van, f"R{n:025d}", "tx", n + 1, "request.refunded", json.dumps(
                {"number": r.number, "amount_piastres": amount, "method": r.method, "reason": "x",
                 "operator": r.operator, "confirmed_by": "op1", "at": iso(at)}), iso(at), iso(at)])
    return out


def insert(store, rows: Rows, first: int = 0, messages_first: bool = False) -> None:
    """Write ``rows`` into requests, staff_audit and messages as the hub keeps them: message ids and sequence numbers
    from ``first`` on (a later call gives a higher one); ``messages_first``: the messages before their requests (a
    refund that arrives before its request)."""
    requests_, audits, messages = [], [], []
    for r in rows.requests:
        requests_.append(request_row(r))
        if r.under_review:
            audits.append([iso(r.under_review), "karim", "request.decide", r.number,
                           json.dumps({"from": "received", "to": "under_review", "reason": None})])
        if r.decided:
            to = "rejected" if r.state == "rejected" else "ready"
            audits.append([iso(r.decided), "karim", "request.decide", r.number,
                           json.dumps({"from": "received", "to": to, "reason": None})])
    messages.extend(refund_messages(rows, first))
    for n, t in enumerate(rows.tickets, first):
        issued = t.at - timedelta(seconds=(t.wait_s or 0) + (t.service_s or 0) + 5)
        called = issued + timedelta(seconds=t.wait_s) if t.wait_s is not None else None
        started = (called or issued) + timedelta(seconds=2) if t.service_s is not None else None
        finished = started + timedelta(seconds=t.service_s) if started else None
        body = {"number": f"A-{n % 999 + 1:03d}", "series": "A", "seq": n % 999 + 1, "category": "general",
                "priority": "normal", "state": "served" if t.kind == "ticket.finish" else "no_show",
                "issued_at": iso(issued), "called_at": iso(called) if called else None, "counter": 1, "recalls": 0,
                "started_at": iso(started) if started else None, "finished_at": iso(finished) if finished else None,
                "transferred_to": None, "transferred_from": None}
        messages.append([t.van, f"T{n:025d}", "tx", 100000 + n, t.kind, json.dumps(body), iso(t.at), iso(t.at)])
    shifts = [[sh.van, sh.shift, sh.operator, _day(sh.closed).isoformat(), iso(sh.closed - timedelta(hours=8)),
               iso(sh.closed), 50_000, 60_000 + sh.difference, 60_000, sh.difference,
               0, 0, 0, 0, 0, "x" if sh.difference else "", None, "{}", iso(sh.closed)] for sh in rows.shifts]
    with store.transaction() as conn:
        if messages and messages_first:
            execute_values(conn, "INSERT INTO messages (van, msg_id, stream, seq, kind, body, created_at, "
                           "received_at)", messages)
        if shifts:
            execute_values(conn, "INSERT INTO shifts (van, shift, operator, day, opened_at, closed_at, "
                           "opening_float_piastres, counted_cash_piastres, expected_cash_piastres, "
                           "difference_piastres, fees_cash_piastres, fees_card_piastres, fees_reference_piastres, "
                           "refunds_piastres, requests, reason, confirmed_by, body, received_at)", shifts)
        if requests_:
            execute_values(conn, "INSERT INTO requests (number, van, service_code, state, body, submitted_at, "
                           "updated_at, due_on, decided_at)", requests_)
        if audits:
            execute_values(conn, "INSERT INTO staff_audit (at, actor, action, subject, details)", audits)
        if messages and not messages_first:
            execute_values(conn, "INSERT INTO messages (van, msg_id, stream, seq, kind, body, created_at, "
                           "received_at)", messages)


def clear(store) -> None:
    """Empty the tables the figures come from, and the per-day summary (m012) with its marks."""
    with store.transaction() as conn:
        for name in ("requests", "staff_audit", "messages", "shifts", "perf_days", "perf_dirty", "perf_weeks",
                     "perf_months", *(s.table for s in perf_summary.ALL), *(s.weeks for s in perf_summary.ALL),
                     *(s.months for s in perf_summary.ALL)):
            conn.execute(f"DELETE FROM {name}")


def sample(seed: int = 7, requests: int = 240, tickets: int = 300, start: datetime = T0, days: int = 45) -> Rows:
    """A fixed, varied data set: every van, service, operator, state and method, decisions early and late."""
    rnd = random.Random(seed)
    rows = Rows()
    for n in range(requests):
        submitted = start + timedelta(seconds=rnd.randrange(days * 86400))
        state = STATES[n % len(STATES)]
        due = (submitted + timedelta(days=rnd.choice((3, 5, 7)))).date().isoformat()
        decided = (submitted + timedelta(seconds=rnd.randrange(3600, 10 * 86400))
                   if state in ("ready", "rejected", "delivered") else None)
        method = perf.METHODS[n % len(perf.METHODS)]
        amount = rnd.choice((0, 5000, 12500, 30000))
        refund = (submitted + timedelta(hours=1), amount) if state == "cancelled" and amount else None
        van = rnd.choice(VANS)
        rows.requests.append(Request(f"{van}-{n:06d}", van, rnd.choice(SERVICES), rnd.choice(OPERATORS), state,
                                     submitted, due, method, amount, decided, None, refund))
    for _ in range(tickets):
        kind = "ticket.no_show" if rnd.random() < 0.15 else "ticket.finish"
        rows.tickets.append(Ticket(rnd.choice(VANS), kind, start + timedelta(seconds=rnd.randrange(days * 86400)),
                                   rnd.randrange(0, 3600) if kind == "ticket.finish" else None,
                                   rnd.randrange(60, 1800) if kind == "ticket.finish" else None))
    # Closed shifts: most balance, two short, one over (piastres).
    for n, difference in enumerate((0, -3000, 2500, 0, -1000, 0)):
        rows.shifts.append(Shift(VANS[n % len(VANS)], n + 1, OPERATORS[n % len(OPERATORS)],
                                 start + timedelta(days=n * 3, hours=15), difference))
    return rows


# --- the same figures in plain Python ------------------------------------------------------------------------------

def _day(moment: datetime) -> date:
    return (moment.astimezone(UTC) + timedelta(hours=2)).date()


def _in(period: perf.Period, moment: datetime) -> bool:
    return period.first <= _day(moment) <= period.last


def _pick(values: list[int], num: int, den: int, exact: bool = False) -> int | None:
    """Nearest rank: the ⌈num/den · n⌉-th smallest — its histogram bucket (what the screens show), or ``exact``."""
    if not values:
        return None
    ordered = sorted(values)
    value = ordered[-(-num * len(ordered) // den) - 1]
    return value if exact else perf_summary.bucket(value)


def _key(by: str, r: Request) -> str:
    return {"governorate": "all", "van": r.van, "service": r.service, "operator": r.operator}[by]


def _monday(moment: datetime) -> str:
    day = _day(moment)
    return (day - timedelta(days=day.weekday())).isoformat()


def reference_requests(rows: Rows, period: perf.Period, key, exact: bool = False) -> dict[str, dict]:
    out: dict[str, dict] = {}
    durations: dict[str, list[int]] = {}
    for r in rows.requests:
        if not _in(period, r.submitted):
            continue
        k = key(r)
        g = out.setdefault(k, {"received": 0, "decided": 0, "delivered": 0, "cancelled": 0, "timed": 0,
                               "in_time": 0, "decision_median_s": None, "decision_p90_s": None})
        g["received"] += 1
        g["decided"] += r.state in perf.DECIDED_STATES
        g["delivered"] += r.state == "delivered"
        g["cancelled"] += r.state == "cancelled"
        if r.decided:
            durations.setdefault(k, []).append(round((r.decided - r.submitted).total_seconds()))
            if r.due_on:
                g["timed"] += 1
                g["in_time"] += _day(r.decided).isoformat() <= r.due_on
    for k, values in durations.items():
        out[k]["decision_median_s"], out[k]["decision_p90_s"] = _pick(values, 1, 2, exact), _pick(values, 9, 10, exact)
    return out


def reference_tickets(rows: Rows, period: perf.Period, key, exact: bool = False) -> dict[str, dict]:
    out: dict[str, dict] = {}
    waits: dict[str, list[int]] = {}
    services: dict[str, list[int]] = {}
    for t in rows.tickets:
        if not _in(period, t.at):
            continue
        k = key(t)
        g = out.setdefault(k, {"tickets": 0, "no_shows": 0, "wait_median_s": None, "wait_p90_s": None,
                               "service_median_s": None})
        g["tickets"] += 1
        g["no_shows"] += t.kind == "ticket.no_show"
        if t.kind == "ticket.finish":
            if t.wait_s is not None:
                waits.setdefault(k, []).append(t.wait_s)
            if t.service_s is not None:
                services.setdefault(k, []).append(t.service_s)
    for k, values in waits.items():
        out[k]["wait_median_s"], out[k]["wait_p90_s"] = _pick(values, 1, 2, exact), _pick(values, 9, 10, exact)
    for k, values in services.items():
        out[k]["service_median_s"] = _pick(values, 1, 2, exact)
    return out


def reference_fees(rows: Rows, period: perf.Period, by: str) -> dict[str, dict]:
    out: dict[str, dict] = {}

    def slot(k, method):
        return out.setdefault(k, {}).setdefault(method, {"collected": 0, "refunded": 0, "payments": 0, "refunds": 0})

    for r in rows.requests:
        if _in(period, r.submitted) and r.amount > 0:
            cell = slot(_key(by, r), r.method)
            cell["payments"] += 1
            cell["collected"] += r.amount
        if r.refund and _in(period, r.refund[0]):
            cell = slot(_key(by, r), r.method)
            cell["refunds"] += 1
            cell["refunded"] += r.refund[1]
    return out


def reference_table(rows: Rows, period: perf.Period, by: str, van: str | None = None, exact: bool = False
                    ) -> list[dict]:
    """What perf.table must give for ``rows`` (``exact``: with the exact picks instead of their buckets)."""
    if van:
        rows = Rows([r for r in rows.requests if r.van == van], [t for t in rows.tickets if t.van == van],
                    [sh for sh in rows.shifts if sh.van == van])
    requests_ = reference_requests(rows, period, lambda r: _key(by, r), exact)
    closed: dict[str, list[int]] = {}
    if by in ("governorate", "van", "operator"):  # a shift names no service
        for sh in rows.shifts:
            if _in(period, sh.closed):
                k = {"governorate": "all", "van": sh.van, "operator": sh.operator}[by]
                closed.setdefault(k, []).append(sh.difference)
    tickets = (reference_tickets(rows, period, lambda t: "all" if by == "governorate" else t.van, exact)
               if by in perf.TICKET_GROUPINGS else {})
    money = reference_fees(rows, period, by)
    out = []
    for k in sorted(set(requests_) | set(tickets) | set(money) | set(closed)):
        row = {"key": k, "received": 0, "decided": 0, "delivered": 0, "cancelled": 0, "timed": 0, "in_time": 0,
               "decision_median_s": None, "decision_p90_s": None, **requests_.get(k, {})}
        t = tickets.get(k)
        row.update(t or {"tickets": None, "no_shows": None, "wait_median_s": None, "wait_p90_s": None,
                         "service_median_s": None})
        row["in_time_share"] = row["in_time"] / row["timed"] if row["timed"] else None
        row["no_show_rate"] = (t["no_shows"] / t["tickets"] if t["tickets"] else None) if t else None
        for method in perf.METHODS:
            cell = money.get(k, {}).get(method, {})
            row[f"payments_{method}"] = cell.get("payments", 0)
            row[f"collected_{method}"] = cell.get("collected", 0)
            row[f"refunded_{method}"] = cell.get("refunded", 0)
        row["collected"] = sum(row[f"collected_{m}"] for m in perf.METHODS)
        row["refunded"] = sum(row[f"refunded_{m}"] for m in perf.METHODS)
        row["net"] = row["collected"] - row["refunded"]
        diffs = closed.get(k)
        if diffs:
            row.update(shifts=len(diffs), shifts_short=sum(d < 0 for d in diffs), shifts_over=sum(d > 0 for d in diffs),
                       shift_difference=sum(diffs))
        else:
            row.update(shifts=0 if by in ("governorate", "van", "operator") else None, shifts_short=None,
                       shifts_over=None, shift_difference=None)
        out.append(row)
    return out


def reference_weekly(rows: Rows, period: perf.Period, van: str | None = None, exact: bool = False) -> list[dict]:
    if van:
        rows = Rows([r for r in rows.requests if r.van == van], [t for t in rows.tickets if t.van == van])
    requests_ = reference_requests(rows, period, lambda r: _monday(r.submitted), exact)
    tickets = reference_tickets(rows, period, lambda t: _monday(t.at), exact)
    out = []
    for monday in sorted(set(requests_) | set(tickets)):
        iso_ = date.fromisoformat(monday).isocalendar()
        row = {"week": f"{iso_.year}-W{iso_.week:02d}", "monday": monday, "received": 0, "decided": 0,
               "delivered": 0, "cancelled": 0, "timed": 0, "in_time": 0, "decision_median_s": None,
               "decision_p90_s": None, **requests_.get(monday, {}),
               **tickets.get(monday, {"tickets": 0, "no_shows": 0, "wait_median_s": None, "wait_p90_s": None,
                                      "service_median_s": None})}
        row["in_time_share"] = row["in_time"] / row["timed"] if row["timed"] else None
        row["no_show_rate"] = row["no_shows"] / row["tickets"] if row["tickets"] else None
        out.append(row)
    return out

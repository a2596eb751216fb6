"""Service performance for the governorate's decision makers (issue 19): figures for a period, computed in SQL.

For a period of days, for the whole governorate, each van, each service and each operator:

- requests **received** (submitted at a van in the period), **decided** (ready, rejected or since delivered),
  **delivered**, **cancelled** at the van;
- **decided within the legal duration**: of the requests decided with a recorded decision time and a due date,
  those decided on or before their due date (``requests.due_on``, from the catalogue's working days);
- **time to decision**: from submission at the van to the first ready/rejected decision in the staff audit,
  its median and 90th percentile (nearest rank: the ⌈p·n⌉-th smallest), to the second;
- **at the van** (the ``ticket.finish`` / ``ticket.no_show`` messages the vans send; a ticket names no service
  and no operator, so these are per van and for the governorate only): tickets ended, median and 90th percentile
  waiting time (issued → called), median service time (started → finished), and the no-show rate;
- **fees** by payment method: collected with the requests received in the period, refunded in the period
  (``request.refunded``), and the net.

Trends are the same request and ticket figures per ISO week.

Every figure is an aggregate or an ordered pick in one SQL statement per table, written once in SQLite's dialect
(translated for PostgreSQL by the store, with the few date expressions that differ written here for each), so
both databases give the same numbers: tests/governorate/test_performance.py checks them against a plain-Python
computation over random rows, on both.

Days are read in Egypt Standard Time (UTC+2) all year, on both databases, for the period's bounds, the day of a
decision and the week: SQLite knows no time zones. In summer (UTC+3) the hour after local midnight therefore
counts on the day before; the screens say so.

Shift differences (cash counted against the system's figures at a shift's close) come with the hub's ``shifts``
table (the van's shift and Z-report, issue 19's other half): see ``SHIFT_DIFFERENCES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from edge.core.errors import EdgeError
from edge.core.localtime import VAN_TZ
from edge.core.requests import PaymentMethod
from governorate.store import HubStore

# Egypt Standard Time: how every day and week of these figures is read (see the module's docstring).
DAY_TZ = timezone(timedelta(hours=2))
MAX_DAYS = 400  # a year and a little: the longest period one screen may ask for
GROUPINGS = {
    # key: (label_ar, label_en, SQL of the group's key over one requests row)
    "governorate": ("المحافظة", "Governorate", "'all'"),
    "van": ("الوحدة", "Van", "van"),
    "service": ("الخدمة", "Service", "service_code"),
    "operator": ("الموظف", "Operator", "json_extract(body, '$.operator')"),
}
TICKET_GROUPINGS = ("governorate", "van")  # tickets carry neither service nor operator
DECIDED_STATES = ("ready", "rejected", "delivered")
DECISIONS = ("ready", "rejected")  # what ends the legal duration (under_review does not)
METHODS = tuple(m.value for m in PaymentMethod)
# The hub receives no shift rows yet: the van's shift close and Z-report (issue 19, built in parallel) add a
# ``shifts`` table; its per-operator and per-van differences join these tables there. Until then the screens
# show no figure for them (never a made-up zero).
SHIFT_DIFFERENCES = None


class PerformanceError(EdgeError):
    code = "performance-period"


@dataclass(frozen=True)
class Period:
    """Days ``first`` to ``last``, both included."""

    first: date
    last: date

    @property
    def start(self) -> str:
        """The first instant, as the stored UTC texts are written (comparable as text)."""
        return _utc_text(self.first)

    @property
    def end(self) -> str:
        """The first instant after the period."""
        return _utc_text(self.last + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def _utc_text(day: date) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=DAY_TZ).astimezone(UTC).isoformat()


def default_period(today: date | None = None) -> Period:
    """This month so far."""
    today = today or datetime.now(VAN_TZ).date()
    return Period(today.replace(day=1), today)


def month(year: int, number: int) -> Period:
    first = date(year, number, 1)
    following = date(year + number // 12, number % 12 + 1, 1)
    return Period(first, following - timedelta(days=1))


def parse_period(first: str | None, last: str | None, today: date | None = None) -> Period:
    """The period a screen asks for (``YYYY-MM-DD`` texts, either may be empty: this month so far); a bilingual
    PerformanceError saying what is wrong otherwise."""
    fallback = default_period(today)
    try:
        start = date.fromisoformat(first.strip()) if first and first.strip() else fallback.first
        end = date.fromisoformat(last.strip()) if last and last.strip() else max(fallback.last, start)
    except ValueError:
        raise PerformanceError("اكتب التاريخين بالشكل سنة-شهر-يوم، مثل 2026-01-31.",
                               "Write both dates as YYYY-MM-DD, e.g. 2026-01-31.",
                               detail=f"{(first or '')[:20]!r} {(last or '')[:20]!r}") from None
    if end < start:
        raise PerformanceError("تاريخ النهاية قبل تاريخ البداية.", "The end date is before the start date.",
                               detail=f"{start} > {end}")
    if (end - start).days + 1 > MAX_DAYS:
        raise PerformanceError(f"الفترة أطول من {MAX_DAYS} يومًا؛ اختر فترة أقصر.",
                               f"The period is longer than {MAX_DAYS} days; choose a shorter one.",
                               detail=f"{start}..{end}")
    return Period(start, end)


# --- the few expressions the two databases write differently ----------------------------------------------------

def local_day(store: HubStore, expr: str) -> str:
    """SQL: the day (YYYY-MM-DD, UTC+2) of an ISO-8601 UTC text."""
    if store.dialect == "postgresql":
        return f"to_char((({expr})::timestamptz AT TIME ZONE 'UTC') + interval '2 hours', 'YYYY-MM-DD')"
    return f"date({expr}, '+2 hours')"


def week_start(store: HubStore, expr: str) -> str:
    """SQL: the Monday (YYYY-MM-DD, UTC+2) of the ISO week of an ISO-8601 UTC text."""
    if store.dialect == "postgresql":
        return (f"to_char(date_trunc('week', (({expr})::timestamptz AT TIME ZONE 'UTC') + interval '2 hours'), "
                "'YYYY-MM-DD')")
    return f"date({expr}, '+2 hours', 'weekday 0', '-6 days')"


def _decided_at() -> str:
    # The first ready/rejected decision of the request (correlated on requests.number; index staff_audit_by_subject).
    return ("(SELECT min(at) FROM staff_audit WHERE subject = number AND action = 'request.decide' "
            "AND json_extract(details, '$.to') IN ('ready', 'rejected'))")


def _percentiles(source: str, value: str = "x") -> str:
    """SQL over ``source`` (columns k, x; x never NULL): per k, the count, the median and the 90th percentile by
    nearest rank, picked with window functions (the same on both databases, which share no percentile function)."""
    return (f"SELECT k, max(n), max(CASE WHEN rn = (n + 1) / 2 THEN {value} END), "
            f"max(CASE WHEN rn = (9 * n + 9) / 10 THEN {value} END) FROM ("
            f"SELECT k, {value}, row_number() OVER (PARTITION BY k ORDER BY {value}) AS rn, "
            f"count(*) OVER (PARTITION BY k) AS n FROM ({source}) s) ranked GROUP BY k")


def _seconds(value) -> int | None:
    return None if value is None else int(round(float(value)))


def _where(period: Period, van: str | None, time_column: str = "submitted_at") -> tuple[str, list]:
    sql, params = f"{time_column} >= ? AND {time_column} < ?", [period.start, period.end]
    if van:
        sql, params = sql + " AND van = ?", [*params, van]
    return sql, params


def _grouping(by: str) -> str:
    if by not in GROUPINGS:
        raise PerformanceError("تجميع غير معروف.", "Unknown grouping.", detail=by[:40])
    return GROUPINGS[by][2]


# --- the figures ------------------------------------------------------------------------------------------------

def request_figures(store: HubStore, period: Period, by: str = "governorate", van: str | None = None,
                    key: str | None = None) -> dict[str, dict]:
    """Per group key: received, decided, delivered, cancelled, timed (decided with a decision time and a due
    date), in_time (of those, decided by the due date), decision_median_s and decision_p90_s.

    ``key`` replaces the grouping's key by another SQL expression over a requests row (the weekly trend)."""
    k = key or _grouping(by)
    where, params = _where(period, van)
    decided = f"{_decided_at()}"
    states = ", ".join(f"'{s}'" for s in DECIDED_STATES)
    counts = store._read(
        f"SELECT k, count(*), sum(CASE WHEN state IN ({states}) THEN 1 ELSE 0 END), "
        "sum(CASE WHEN state = 'delivered' THEN 1 ELSE 0 END), sum(CASE WHEN state = 'cancelled' THEN 1 ELSE 0 END), "
        "sum(CASE WHEN decided_at IS NOT NULL AND due_on IS NOT NULL THEN 1 ELSE 0 END), "
        f"sum(CASE WHEN decided_at IS NOT NULL AND due_on IS NOT NULL AND {local_day(store, 'decided_at')} <= due_on "
        "THEN 1 ELSE 0 END) "
        f"FROM (SELECT {k} AS k, state, due_on, {decided} AS decided_at FROM requests WHERE {where}) r GROUP BY k",
        params)
    out: dict[str, dict] = {}
    for row_key, received, n_decided, delivered, cancelled, timed, in_time in counts:
        out[str(row_key)] = {"received": int(received), "decided": int(n_decided or 0),
                             "delivered": int(delivered or 0), "cancelled": int(cancelled or 0),
                             "timed": int(timed or 0), "in_time": int(in_time or 0),
                             "decision_median_s": None, "decision_p90_s": None}
    durations = (f"SELECT k, {store.seconds_between('submitted_at', 'decided_at')} AS x FROM ("
                 f"SELECT {k} AS k, submitted_at, {decided} AS decided_at FROM requests WHERE {where}) r "
                 "WHERE decided_at IS NOT NULL")
    for row_key, _n, median, p90 in store._read(_percentiles(durations), params):
        out[str(row_key)].update(decision_median_s=_seconds(median), decision_p90_s=_seconds(p90))
    return out


def ticket_figures(store: HubStore, period: Period, by: str = "governorate", van: str | None = None,
                   weekly: bool = False) -> dict[str, dict]:
    """Per van (or for the governorate): tickets ended (served or no-show) in the period, no_shows, wait median
    and p90 (issued → called), service median (started → finished), all from the tickets' last messages."""
    if by not in TICKET_GROUPINGS:
        return {}
    k = week_start(store, "created_at") if weekly else ("van" if by == "van" else "'all'")
    where, params = _where(period, van, "created_at")
    out: dict[str, dict] = {}
    for row_key, ended, no_shows in store._read(
            f"SELECT k, count(*), sum(CASE WHEN kind = 'ticket.no_show' THEN 1 ELSE 0 END) FROM ("
            f"SELECT {k} AS k, kind FROM messages WHERE kind IN ('ticket.finish', 'ticket.no_show') AND {where}) t "
            "GROUP BY k", params):
        out[str(row_key)] = {"tickets": int(ended), "no_shows": int(no_shows or 0), "wait_median_s": None,
                             "wait_p90_s": None, "service_median_s": None}
    finished = f"FROM messages WHERE kind = 'ticket.finish' AND {where}"
    wait = store.seconds_between("json_extract(body, '$.issued_at')", "json_extract(body, '$.called_at')")
    service = store.seconds_between("json_extract(body, '$.started_at')", "json_extract(body, '$.finished_at')")
    for row_key, _n, median, p90 in store._read(_percentiles(
            f"SELECT {k} AS k, {wait} AS x {finished} AND json_extract(body, '$.called_at') IS NOT NULL"), params):
        out[str(row_key)].update(wait_median_s=_seconds(median), wait_p90_s=_seconds(p90))
    for row_key, _n, median, _p90 in store._read(_percentiles(
            f"SELECT {k} AS k, {service} AS x {finished} AND json_extract(body, '$.started_at') IS NOT NULL "
            "AND json_extract(body, '$.finished_at') IS NOT NULL"), params):
        out[str(row_key)]["service_median_s"] = _seconds(median)
    return out


def fees(store: HubStore, period: Period, by: str = "governorate", van: str | None = None) -> dict[str, dict]:
    """Per group key and payment method: piastres collected with the requests received in the period, and
    refunded in the period (a refund counts in its request's group)."""
    k = _grouping(by)
    where, params = _where(period, van)
    out: dict[str, dict] = {}

    def slot(row_key, method) -> dict:
        group = out.setdefault(str(row_key), {})
        return group.setdefault(str(method), {"collected": 0, "refunded": 0, "payments": 0, "refunds": 0})

    for row_key, method, n, amount in store._read(
            f"SELECT k, method, count(*), sum(amount) FROM (SELECT {k} AS k, "
            "json_extract(body, '$.payment.method') AS method, "
            "CAST(json_extract(body, '$.payment.amount_piastres') AS BIGINT) AS amount "
            f"FROM requests WHERE {where}) r WHERE amount > 0 GROUP BY k, method", params):
        cell = slot(row_key, method)
        cell["payments"], cell["collected"] = int(n), int(amount)
    refund_where, refund_params = _where(period, van, "created_at")
    for row_key, method, n, amount in store._read(
            f"SELECT k, method, count(*), sum(amount) FROM (SELECT {k} AS k, method, amount FROM ("
            "SELECT json_extract(body, '$.number') AS fn, json_extract(body, '$.method') AS method, "
            "CAST(json_extract(body, '$.amount_piastres') AS BIGINT) AS amount FROM messages "
            f"WHERE kind = 'request.refunded' AND {refund_where}) f JOIN requests ON number = f.fn) x "
            "GROUP BY k, method",
            refund_params):
        cell = slot(row_key, method)
        cell["refunds"], cell["refunded"] = int(n), int(amount)
    return out


def table(store: HubStore, period: Period, by: str = "governorate", van: str | None = None) -> list[dict]:
    """One row per group, every figure of the screen (shares and net fees worked out from the SQL's counts)."""
    requests_ = request_figures(store, period, by, van)
    tickets = ticket_figures(store, period, by, van)
    money = fees(store, period, by, van)
    rows = []
    for key in sorted(set(requests_) | set(tickets) | set(money)):
        row = {"key": key, **_empty_requests(), **requests_.get(key, {})}
        ticket = tickets.get(key)
        row.update(ticket or {"tickets": None, "no_shows": None, "wait_median_s": None, "wait_p90_s": None,
                              "service_median_s": None})
        row["in_time_share"] = share(row["in_time"], row["timed"])
        row["no_show_rate"] = share(row["no_shows"], row["tickets"]) if ticket else None
        by_method = money.get(key, {})
        for method in METHODS:
            cell = by_method.get(method, {})
            row[f"collected_{method}"] = cell.get("collected", 0)
            row[f"refunded_{method}"] = cell.get("refunded", 0)
        row["collected"] = sum(row[f"collected_{m}"] for m in METHODS)
        row["refunded"] = sum(row[f"refunded_{m}"] for m in METHODS)
        row["net"] = row["collected"] - row["refunded"]
        row["shift_difference"] = SHIFT_DIFFERENCES  # see SHIFT_DIFFERENCES: no figure until shifts arrive
        rows.append(row)
    return rows


def weekly(store: HubStore, period: Period, van: str | None = None) -> list[dict]:
    """The governorate's (or one van's) figures per ISO week of the period, oldest first."""
    requests_ = request_figures(store, period, van=van, key=week_start(store, "submitted_at"))
    tickets = ticket_figures(store, period, van=van, weekly=True)
    rows = []
    for monday in sorted(set(requests_) | set(tickets)):
        iso = date.fromisoformat(monday).isocalendar()
        row = {"week": f"{iso.year}-W{iso.week:02d}", "monday": monday, **_empty_requests(),
               **requests_.get(monday, {}),
               **tickets.get(monday, {"tickets": 0, "no_shows": 0, "wait_median_s": None, "wait_p90_s": None,
                                      "service_median_s": None})}
        row["in_time_share"] = share(row["in_time"], row["timed"])
        row["no_show_rate"] = share(row["no_shows"], row["tickets"])
        rows.append(row)
    return rows


def _empty_requests() -> dict:
    return {"received": 0, "decided": 0, "delivered": 0, "cancelled": 0, "timed": 0, "in_time": 0,
            "decision_median_s": None, "decision_p90_s": None}


def share(part: int | None, whole: int | None) -> float | None:
    """part / whole, None when there is nothing to divide."""
    return None if not whole or part is None else part / whole


def vans(store: HubStore) -> list[str]:
    return [r[0] for r in store._read("SELECT van FROM vans ORDER BY van")]

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

Shift differences (the cash counted at a shift's close against what the van recorded) come from the hub's ``shifts``
table (the vans' Z-reports, ``shift.closed``; docs/shifts.md): per van, per operator and for the governorate, by the
shift's close time. A shift belongs to no service, so the service grouping has none.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from edge.core.errors import EdgeError
from edge.core.localtime import VAN_TZ
from edge.core.requests import PaymentMethod
from governorate.store import HubStore

# Egypt Standard Time: how every day and week of these figures is read (see the module's docstring).
DAY_TZ = timezone(timedelta(hours=2))
MAX_DAYS = 400  # a year and a little: the longest period one screen may ask for
WEEKS_BY_TEXT = 14  # see week_key
FIRST_YEAR, LAST_YEAR = 2000, 2100  # dates a period may name (year 1 or 9999 would overflow the UTC bounds)
GROUPINGS = {
    # key: (label_ar, label_en, SQL of the group's key over one requests row)
    "governorate": ("المحافظة", "Governorate", "'all'"),
    "van": ("الوحدة", "Van", "van"),
    "service": ("الخدمة", "Service", "service_code"),
    "operator": ("الموظف", "Operator", "operator"),  # m006's column, from the request's body
}
TICKET_GROUPINGS = ("governorate", "van")  # tickets carry neither service nor operator
DECIDED_STATES = ("ready", "rejected", "delivered")
DECISIONS = ("ready", "rejected")  # what ends the legal duration (under_review does not)
METHODS = tuple(m.value for m in PaymentMethod)
SHIFT_GROUPINGS = {"governorate": "'all'", "van": "van", "operator": "operator"}  # a shift names no service


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
    if not (FIRST_YEAR <= start.year and end.year <= LAST_YEAR):
        raise PerformanceError(f"اختر تواريخ بين عامي {FIRST_YEAR} و{LAST_YEAR}.",
                               f"Choose dates between the years {FIRST_YEAR} and {LAST_YEAR}.",
                               detail=f"{start}..{end}")
    if end < start:
        raise PerformanceError("تاريخ النهاية قبل تاريخ البداية.", "The end date is before the start date.",
                               detail=f"{start} > {end}")
    if (end - start).days + 1 > MAX_DAYS:
        raise PerformanceError(f"الفترة أطول من {MAX_DAYS} يومًا؛ اختر فترة أقصر.",
                               f"The period is longer than {MAX_DAYS} days; choose a shorter one.",
                               detail=f"{start}..{end}")
    return Period(start, end)


# --- the few expressions the two databases write differently ----------------------------------------------------
# Every stored time is an ISO-8601 text in UTC (the wire schema refuses any other offset; the hub writes its own
# with +00:00), so its first 19 characters are the UTC wall time: PostgreSQL reads them as a plain timestamp,
# without a time-zone lookup per row.

def local_day(store: HubStore, expr: str) -> str:
    """SQL: the day (YYYY-MM-DD, UTC+2) of an ISO-8601 UTC text."""
    if store.dialect == "postgresql":
        return f"to_char(left({expr}, 19)::timestamp + interval '2 hours', 'YYYY-MM-DD')"
    return f"date({expr}, '+2 hours')"


def week_start(store: HubStore, expr: str) -> str:
    """SQL: the Monday (YYYY-MM-DD, UTC+2) of the ISO week of an ISO-8601 UTC text."""
    if store.dialect == "postgresql":
        return f"to_char(date_trunc('week', left({expr}, 19)::timestamp + interval '2 hours'), 'YYYY-MM-DD')"
    return f"date({expr}, '+2 hours', 'weekday 0', '-6 days')"


def week_key(store: HubStore, period: Period, expr: str) -> str:
    """SQL: the Monday of the week (as ``week_start``) of an ISO-8601 UTC text inside ``period``. For up to
    WEEKS_BY_TEXT weeks, text comparisons against each week's first instant (the same on both databases and
    cheaper than date arithmetic on every row); for longer periods, ``week_start``."""
    first = period.first - timedelta(days=period.first.weekday())
    mondays = [first + timedelta(weeks=i) for i in range((period.last - first).days // 7 + 1)]
    if len(mondays) > WEEKS_BY_TEXT:
        return week_start(store, expr)
    branches = " ".join(f"WHEN {expr} < '{_utc_text(monday)}' THEN '{previous.isoformat()}'"
                        for previous, monday in zip(mondays, mondays[1:], strict=False))
    return f"CASE {branches} ELSE '{mondays[-1].isoformat()}' END" if branches else f"'{mondays[0].isoformat()}'"


def _picks(value: str, rank: str, count: str) -> str:
    """The median and the 90th percentile of ``value`` by nearest rank (the ⌈p·n⌉-th smallest), from its
    ``rank`` among the group's non-null values and their ``count`` (window functions: both databases have them,
    and no percentile function in common)."""
    return (f"max(CASE WHEN {rank} = ({count} + 1) / 2 THEN {value} END), "
            f"max(CASE WHEN {rank} = (9 * {count} + 9) / 10 THEN {value} END)")


def _pg_picks(value: str, median_only: bool = False) -> str:
    """PostgreSQL's ordered-set aggregate for the same picks (one sort of the group's values, no window): its
    percentile_disc(p) is the ⌈p·n⌉-th smallest, with p·n in floating point — 0.9 · 70 is 63.000000000000014
    there, so p is taken a hair under 0.9 (no ⌈0.9·n⌉ moves for n below 10⁹)."""
    if median_only:
        return f"percentile_disc(0.5) WITHIN GROUP (ORDER BY {value})"
    return (f"percentile_disc(0.5) WITHIN GROUP (ORDER BY {value}), "
            f"percentile_disc(0.899999999999) WITHIN GROUP (ORDER BY {value})")


def _ranked(value: str, name: str) -> str:
    """Window columns ranking ``value`` within its group (k), its nulls apart, and counting its non-null rows."""
    return (f"row_number() OVER (PARTITION BY k, {value} IS NULL ORDER BY {value}) AS {name}_rank, "
            f"count({value}) OVER (PARTITION BY k, {value} IS NULL) AS {name}_n")  # the same sort as the rank


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

@contextlib.contextmanager
def reading(store: HubStore) -> Iterator[Callable[[str, list], list[tuple]]]:
    """A reader for one screen's statements. On PostgreSQL they share a transaction that may sort a month in
    memory (work_mem) and skips JIT compilation (it costs more than it saves on statements this short)."""
    if store.dialect != "postgresql":
        yield store._read
        return
    with store.transaction() as conn:
        conn.execute("SET LOCAL work_mem = '64MB'")
        conn.execute("SET LOCAL jit = off")
        yield lambda sql, params=(): conn.execute(sql, params).fetchall()


def request_figures(store: HubStore, period: Period, by: str = "governorate", van: str | None = None,
                    key: str | None = None, read=None) -> dict[str, dict]:
    """Per group key: received, decided, delivered, cancelled, timed (decided with a decision time and a due
    date), in_time (of those, decided on or before the due date), decision_median_s and decision_p90_s, and per
    payment method the payments and piastres collected. One statement over the period's requests (index
    requests_by_submitted; m006's columns, no JSON read).

    ``key`` replaces the grouping's key by another SQL expression over a requests row (the weekly trend)."""
    k = key or _grouping(by)
    where, params = _where(period, van)
    states = ", ".join(f"'{s}'" for s in DECIDED_STATES)
    # Decided by the end of its due day (UTC+2): before 22:00 UTC that day, compared as text.
    in_time = "decided_at < due_on || 'T22:00:00'"
    paid = ", ".join(
        f"sum(CASE WHEN pay_method = '{m}' AND pay_piastres > 0 THEN 1 ELSE 0 END), "
        f"sum(CASE WHEN pay_method = '{m}' AND pay_piastres > 0 THEN pay_piastres ELSE 0 END)" for m in METHODS)
    counts = (f"count(*), sum(CASE WHEN state IN ({states}) THEN 1 ELSE 0 END), "
              "sum(CASE WHEN state = 'delivered' THEN 1 ELSE 0 END), "
              "sum(CASE WHEN state = 'cancelled' THEN 1 ELSE 0 END), "
              "sum(CASE WHEN decided_at IS NOT NULL AND due_on IS NOT NULL THEN 1 ELSE 0 END), "
              f"sum(CASE WHEN decided_at IS NOT NULL AND due_on IS NOT NULL AND {in_time} THEN 1 ELSE 0 END)")
    base = (f"SELECT {k} AS k, state, due_on, decided_at, decision_s AS x, pay_method, pay_piastres "
            f"FROM requests WHERE {where}")
    if store.dialect == "postgresql":
        rows = (read or store._read)(
            f"SELECT k, {counts}, {_pg_picks('x')}, {paid} FROM ({base}) base GROUP BY k", params)
    else:
        rows = (read or store._read)(
            f"SELECT k, {counts}, {_picks('x', 'x_rank', 'x_n')}, {paid} "
            f"FROM (SELECT k, state, due_on, decided_at, x, pay_method, pay_piastres, {_ranked('x', 'x')} "
            f"FROM ({base}) base) ranked GROUP BY k", params)
    out: dict[str, dict] = {}
    for row in rows:
        row_key, received, n_decided, delivered, cancelled, timed, n_in_time, median, p90 = row[:9]
        figures = {"received": int(received), "decided": int(n_decided or 0), "delivered": int(delivered or 0),
                   "cancelled": int(cancelled or 0), "timed": int(timed or 0), "in_time": int(n_in_time or 0),
                   "decision_median_s": _seconds(median), "decision_p90_s": _seconds(p90)}
        for i, method in enumerate(METHODS):
            figures[f"payments_{method}"] = int(row[9 + 2 * i] or 0)
            figures[f"collected_{method}"] = int(row[10 + 2 * i] or 0)
        out[str(row_key)] = figures
    return out


def ticket_figures(store: HubStore, period: Period, by: str = "governorate", van: str | None = None,
                   weekly: bool = False, read=None) -> dict[str, dict]:
    """Per van (or for the governorate): tickets ended (served or no-show) in the period, no_shows, wait median
    and p90 (issued → called), service median (started → finished); one statement over the tickets' last
    messages (index messages_by_kind; the seconds are m006's columns)."""
    if by not in TICKET_GROUPINGS:
        return {}
    k = week_key(store, period, "created_at") if weekly else ("van" if by == "van" else "'all'")
    where, params = _where(period, van, "created_at")
    base = (f"SELECT {k} AS k, kind, wait_s, service_s FROM messages "
            f"WHERE kind IN ('ticket.finish', 'ticket.no_show') AND {where}")
    counts = "count(*), sum(CASE WHEN kind = 'ticket.no_show' THEN 1 ELSE 0 END)"
    if store.dialect == "postgresql":
        rows = (read or store._read)(
            f"SELECT k, {counts}, {_pg_picks('wait_s')}, {_pg_picks('service_s', median_only=True)} "
            f"FROM ({base}) base GROUP BY k", params)
    else:
        rows = (read or store._read)(
            f"SELECT k, {counts}, {_picks('wait_s', 'w_rank', 'w_n')}, "
            "max(CASE WHEN s_rank = (s_n + 1) / 2 THEN service_s END) "
            f"FROM (SELECT k, kind, wait_s, service_s, {_ranked('wait_s', 'w')}, {_ranked('service_s', 's')} "
            f"FROM ({base}) base) ranked GROUP BY k", params)
    return {str(row_key): {"tickets": int(ended), "no_shows": int(no_shows or 0), "wait_median_s": _seconds(wait),
                           "wait_p90_s": _seconds(wait_p90), "service_median_s": _seconds(service)}
            for row_key, ended, no_shows, wait, wait_p90, service in rows}


def refunds(store: HubStore, period: Period, by: str = "governorate", van: str | None = None,
            read=None) -> dict[str, dict]:
    """Per group key and payment method: refunds made in the period and their piastres, each counted in its
    request's group (looked up by number: refunds are few) — a refund whose request the hub lacks is left out."""
    k = _grouping(by)
    where, params = _where(period, van, "created_at")
    out: dict[str, dict] = {}
    # Each body is read once (PostgreSQL would parse it for every field: the OFFSET 0 keeps the cast in its
    # subquery), and each refund's group comes from its request by number (the primary key): refunds are few.
    body, fence = ("body::jsonb", "OFFSET 0") if store.dialect == "postgresql" else ("body", "LIMIT -1 OFFSET 0")
    for row_key, method, n, amount in (read or store._read)(
            "SELECT k, method, count(*), sum(amount) FROM ("
            f"SELECT (SELECT {k} FROM requests WHERE number = fn) AS k, method, amount FROM ("
            "SELECT json_extract(j, '$.number') AS fn, json_extract(j, '$.method') AS method, "
            "CAST(json_extract(j, '$.amount_piastres') AS BIGINT) AS amount FROM ("
            f"SELECT {body} AS j FROM messages WHERE kind = 'request.refunded' AND {where} {fence}) m) f) x "
            "WHERE k IS NOT NULL GROUP BY k, method", params):
        out.setdefault(str(row_key), {})[str(method)] = {"refunds": int(n), "refunded": int(amount)}
    return out


def shift_figures(store: HubStore, period: Period, by: str = "governorate", van: str | None = None,
                  read=None) -> dict[str, dict]:
    """Per van, operator or for the governorate: shifts closed in the period, how many were short or over, and the
    sum of their differences (piastres: negative = short). Empty for the service grouping (a shift has none)."""
    if by not in SHIFT_GROUPINGS:
        return {}
    where, params = _where(period, van, "closed_at")
    rows = (read or store._read)(
        f"SELECT {SHIFT_GROUPINGS[by]} AS k, count(*), sum(CASE WHEN difference_piastres < 0 THEN 1 ELSE 0 END), "
        "sum(CASE WHEN difference_piastres > 0 THEN 1 ELSE 0 END), sum(difference_piastres) "
        f"FROM shifts WHERE {where} GROUP BY k", params)
    return {str(k): {"shifts": int(n), "shifts_short": int(short or 0), "shifts_over": int(over or 0),
                     "shift_difference": int(total or 0)} for k, n, short, over, total in rows}


def table(store: HubStore, period: Period, by: str = "governorate", van: str | None = None) -> list[dict]:
    """One row per group, every figure of the screen (shares and net fees worked out from the SQL's counts)."""
    with reading(store) as read:
        requests_ = request_figures(store, period, by, van, read=read)
        tickets = ticket_figures(store, period, by, van, read=read)
        money = refunds(store, period, by, van, read=read)
        closed = shift_figures(store, period, by, van, read=read)
    rows = []
    for key in sorted(set(requests_) | set(tickets) | set(money) | set(closed)):
        row = {"key": key, **_empty_requests(), **requests_.get(key, {})}
        ticket = tickets.get(key)
        row.update(ticket or {"tickets": None, "no_shows": None, "wait_median_s": None, "wait_p90_s": None,
                              "service_median_s": None})
        row["in_time_share"] = share(row["in_time"], row["timed"])
        row["no_show_rate"] = share(row["no_shows"], row["tickets"]) if ticket else None
        for method in METHODS:
            row[f"refunded_{method}"] = money.get(key, {}).get(method, {}).get("refunded", 0)
        row["collected"] = sum(row[f"collected_{m}"] for m in METHODS)
        row["refunded"] = sum(row[f"refunded_{m}"] for m in METHODS)
        row["net"] = row["collected"] - row["refunded"]
        # No shift closed in the group: no figure (None), never a made-up zero; the service grouping has none.
        row.update(closed.get(key) or {"shifts": 0 if by in SHIFT_GROUPINGS else None, "shifts_short": None,
                                       "shifts_over": None, "shift_difference": None})
        rows.append(row)
    return rows


def weekly(store: HubStore, period: Period, van: str | None = None) -> list[dict]:
    """The governorate's (or one van's) figures per ISO week of the period, oldest first."""
    with reading(store) as read:
        requests_ = request_figures(store, period, van=van, key=week_key(store, period, "submitted_at"), read=read)
        tickets = ticket_figures(store, period, van=van, weekly=True, read=read)
    rows = []
    for monday in sorted(set(requests_) | set(tickets)):
        iso = date.fromisoformat(monday).isocalendar()
        row = {"week": f"{iso.year}-W{iso.week:02d}", "monday": monday, **_empty_requests(),
               **requests_.get(monday, {}),
               **tickets.get(monday, {"tickets": 0, "no_shows": 0, "wait_median_s": None, "wait_p90_s": None,
                                      "service_median_s": None})}
        row["in_time_share"] = share(row["in_time"], row["timed"])
        row["no_show_rate"] = share(row["no_shows"], row["tickets"])
        for method in METHODS:  # the weekly table shows no fees
            row.pop(f"payments_{method}", None)
            row.pop(f"collected_{method}", None)
        rows.append(row)
    return rows


def _empty_requests() -> dict:
    return {"received": 0, "decided": 0, "delivered": 0, "cancelled": 0, "timed": 0, "in_time": 0,
            "decision_median_s": None, "decision_p90_s": None,
            **{f"{what}_{m}": 0 for m in METHODS for what in ("payments", "collected")}}


def share(part: int | None, whole: int | None) -> float | None:
    """part / whole, None when there is nothing to divide."""
    return None if not whole or part is None else part / whole


def vans(store: HubStore) -> list[str]:
    return [r[0] for r in store._read("SELECT van FROM vans ORDER BY van")]


# Demand by place: requests counted per cell of CELL_E5 × CELL_E5 (1e-5 degrees: 0.01°, about 1.1 km at Egypt's
# latitudes) around where the van stood at intake (requests.lat_e5 / lon_e5, m011). The offsets make every value
# positive, so integer division floors on SQLite and PostgreSQL alike.
CELL_E5 = 1000
_LAT0, _LON0 = 90 * 100_000, 180 * 100_000


def demand(store: HubStore, period: Period, van: str | None = None, read=None) -> dict:
    """{"cells": [{"lat", "lon", "requests", "vans"}, …] most requests first, "placed", "unplaced"}: where the
    period's requests were taken, by cell (its centre), and how many have no place (a van on software older than
    protocol 4, or without a GPS fix at intake)."""
    where, params = _where(period, van)
    # One pass over the period (index requests_places covers it): a request without a place is the NULL cell.
    rows = (read or store._read)(
        f"SELECT (lat_e5 + {_LAT0}) / {CELL_E5} AS cy, (lon_e5 + {_LON0}) / {CELL_E5} AS cx, count(*), "
        f"count(DISTINCT van) FROM requests WHERE {where} GROUP BY cy, cx", params)
    unplaced = sum(int(n) for cy, cx, n, _ in rows if cy is None or cx is None)
    cells = sorted(({"lat": round(((int(cy) + 0.5) * CELL_E5 - _LAT0) / 1e5, 4),
                     "lon": round(((int(cx) + 0.5) * CELL_E5 - _LON0) / 1e5, 4),
                     "requests": int(n), "vans": int(v)} for cy, cx, n, v in rows if cy is not None and cx is not None),
                   key=lambda c: (-c["requests"], c["lat"], c["lon"]))
    return {"cells": cells, "placed": sum(c["requests"] for c in cells), "unplaced": unplaced}

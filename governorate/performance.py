"""Service performance for the governorate's decision makers (issue 19): figures for a period, computed in SQL.

For a period of days, for the whole governorate, each van, each service and each operator:

- requests **received** (submitted at a van in the period), **decided** (ready, rejected or since delivered),
  **delivered**, **cancelled** at the van;
- **decided within the legal duration**: of the requests decided with a recorded decision time and a due date,
  those decided on or before their due date (``requests.due_on``, from the catalogue's working days);
- **time to decision**: from submission at the van to the first ready/rejected decision in the staff audit,
  its median and 90th percentile (nearest rank: the ⌈p·n⌉-th smallest), within 0.8 % (perf_summary.PRECISION: the
  times are counted in buckets of bounded relative width);
- **at the van** (the ``ticket.finish`` / ``ticket.no_show`` messages the vans send; a ticket names no service
  and no operator, so these are per van and for the governorate only): tickets ended, median and 90th percentile
  waiting time (issued → called), median service time (started → finished), and the no-show rate;
- **fees** by payment method: collected with the requests received in the period, refunded in the period
  (``request.refunded``), and the net.

Trends are the same request and ticket figures per ISO week.

Every figure is an aggregate or a nearest-rank pick in SQL, written once in SQLite's dialect (translated for
PostgreSQL by the store, with the few expressions that differ written for each), so both databases give the same
numbers: tests/governorate/test_performance.py checks them against a plain-Python computation over random rows, on
both, whether the period's days are summarised, dirty or raw. A period is read from the per-day summary of m012
for its clean summarised days and from the raw rows for the others (governorate/perf_summary.py): a year costs
about what a week did.

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
from datetime import date, datetime, timedelta

from edge.core.digits import eastern_run, to_ascii, to_eastern
from edge.core.errors import EdgeError
from edge.core.localtime import VAN_TZ
from edge.core.requests import PaymentMethod
from governorate import perf_summary as ps
from governorate.store import HubStore

# Egypt Standard Time: how every day and week of these figures is read (see the module's docstring).
DAY_TZ = ps.DAY_TZ
MAX_DAYS = 400  # a year and a little: the longest period one screen may ask for
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
if set(METHODS) != set(ps.METHODS):  # the summary (m012) has a column for each
    raise RuntimeError(f"payment methods {METHODS} but the performance summary holds {ps.METHODS}")
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
        return ps.utc_text(self.first)

    @property
    def end(self) -> str:
        """The first instant after the period."""
        return ps.utc_text(self.last + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


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
        # Typed with an Arabic keyboard the digits are Eastern (٢٠٢٦-٠١-٣١): read as the same date.
        start = date.fromisoformat(to_ascii(first.strip())) if first and first.strip() else fallback.first
        end = date.fromisoformat(to_ascii(last.strip())) if last and last.strip() else max(fallback.last, start)
    except ValueError:
        raise PerformanceError(f"اكتب التاريخين بالشكل سنة-شهر-يوم، مثل {eastern_run('2026-01-31')}.",
                               "Write both dates as YYYY-MM-DD, e.g. 2026-01-31.",
                               detail=f"{(first or '')[:20]!r} {(last or '')[:20]!r}") from None
    if not (FIRST_YEAR <= start.year and end.year <= LAST_YEAR):
        raise PerformanceError(f"اختر تواريخ بين عامي {to_eastern(FIRST_YEAR)} و{to_eastern(LAST_YEAR)}.",
                               f"Choose dates between the years {FIRST_YEAR} and {LAST_YEAR}.",
                               detail=f"{start}..{end}")
    if end < start:
        raise PerformanceError("تاريخ النهاية قبل تاريخ البداية.", "The end date is before the start date.",
                               detail=f"{start} > {end}")
    if (end - start).days + 1 > MAX_DAYS:
        raise PerformanceError(f"الفترة أطول من {to_eastern(MAX_DAYS)} يوم؛ اختر فترة أقصر.",
                               f"The period is longer than {MAX_DAYS} days; choose a shorter one.",
                               detail=f"{start}..{end}")
    return Period(start, end)


# --- helpers ------------------------------------------------------------------------------------------------------

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


# --- reading the figures: the summary's clean days and the raw rows of the others (governorate/perf_summary.py) ---

def _key(store: HubStore, by: str, weekly_: bool) -> str:
    """SQL of a row's group over the summary columns: the grouping's key, or the week's number for the trend."""
    return ps.week_number(store, "day") if weekly_ else _grouping(by)


def _histogram(by: str, van: str | None, fine: ps.Summary, vans: ps.Summary, whole: ps.Summary) -> ps.Summary:
    """The smallest histogram that has the grouping: per van, service and operator; per van; the governorate's."""
    if by in ("service", "operator"):
        return fine
    return vans if by == "van" or van else whole


def _weeks(figures: dict[str, dict], weekly_: bool) -> dict[str, dict]:
    return {ps.monday(int(k)): v for k, v in figures.items()} if weekly_ else figures


def _picks(store: HubStore, read, summary: ps.Summary, parts: ps.Split, by: str, van: str | None,
           weekly_: bool) -> dict[str, tuple]:
    """Per group key: (median, p90) of a histogram's buckets (perf_summary.bucket) by nearest rank (the ⌈p·n⌉-th
    smallest: the smallest bucket whose running count reaches ⌈n/2⌉, resp. ⌈0.9·n⌉ — integer arithmetic, the same on
    both databases)."""
    key = _key(store, by, weekly_)
    rows, params = ps.union(store, summary, parts, van, days=weekly_)
    sql = ("SELECT k, min(CASE WHEN c >= (t + 1) / 2 THEN v END), min(CASE WHEN c >= (9 * t + 9) / 10 THEN v END) "
           "FROM (SELECT k, v, CAST(sum(n) OVER (PARTITION BY k ORDER BY v) AS BIGINT) AS c, "
           "CAST(sum(n) OVER (PARTITION BY k) AS BIGINT) AS t "
           f"FROM (SELECT {key} AS k, seconds AS v, CAST(sum(n) AS BIGINT) AS n FROM ({rows}) u GROUP BY 1, 2) a) b "
           "GROUP BY k")
    return {str(k): (_seconds(median), _seconds(p90)) for k, median, p90 in read(sql, params)}


def request_figures(store: HubStore, period: Period, by: str = "governorate", van: str | None = None,
                    weekly_: bool = False, read=None, parts: ps.Split | None = None) -> dict[str, dict]:
    """Per group key (or per week): received, decided, delivered, cancelled, timed (decided with a decision time and
    a due date), in_time (of those, decided on or before the due date), decision_median_s and decision_p90_s, and per
    payment method the payments and piastres collected. Two statements: the counts, the decision times' picks."""
    read = read or store._read
    parts = parts or ps.split(read, period.first, period.last, months=not weekly_)
    key = _key(store, by, weekly_)
    fine = by in ("service", "operator")
    counts, params = ps.union(store, ps.REQUESTS if fine else ps.REQUEST_VANS, parts, van, days=weekly_)
    sums = ", ".join(f"sum({c})" for c in ps.REQUEST_COUNTS)
    out: dict[str, dict] = {}
    for row in read(f"SELECT {key} AS k, {sums} FROM ({counts}) u GROUP BY 1", params):
        figures = dict(zip(ps.REQUEST_COUNTS, (int(v or 0) for v in row[1:]), strict=True))
        out[str(row[0])] = {**figures, "decision_median_s": None, "decision_p90_s": None}
    picks = _picks(store, read, _histogram(by, van, ps.DECISIONS, ps.DECISION_VANS, ps.DECISIONS_ALL), parts, by,
                   van, weekly_)
    for k, (median, p90) in picks.items():
        out[k]["decision_median_s"], out[k]["decision_p90_s"] = median, p90
    return _weeks(out, weekly_)


def ticket_figures(store: HubStore, period: Period, by: str = "governorate", van: str | None = None,
                   weekly_: bool = False, read=None, parts: ps.Split | None = None) -> dict[str, dict]:
    """Per van (or for the governorate, or per week): tickets ended (served or no-show) in the period, no_shows, wait
    median and p90 (issued → called), service median (started → finished)."""
    if by not in TICKET_GROUPINGS:
        return {}
    read = read or store._read
    parts = parts or ps.split(read, period.first, period.last, months=not weekly_)
    key = _key(store, by, weekly_)
    counts, params = ps.union(store, ps.TICKET_COUNTS, parts, van, days=weekly_)
    out = {str(k): {"tickets": int(n), "no_shows": int(no_shows or 0), "wait_median_s": None, "wait_p90_s": None,
                    "service_median_s": None}
           for k, n, no_shows in read(f"SELECT {key} AS k, sum(tickets), sum(no_shows) FROM ({counts}) u GROUP BY 1",
                                      params)}
    for k, (median, p90) in _picks(store, read, _histogram(by, van, ps.WAITS, ps.WAITS, ps.WAITS_ALL), parts, by, van,
                                   weekly_).items():
        out[k]["wait_median_s"], out[k]["wait_p90_s"] = median, p90
    for k, (median, _) in _picks(store, read, _histogram(by, van, ps.SERVICES, ps.SERVICES, ps.SERVICES_ALL), parts,
                                 by, van, weekly_).items():
        out[k]["service_median_s"] = median
    return _weeks(out, weekly_)


REFUND_KEYS = {"governorate": "'all'", "van": "request_van", "service": "service_code", "operator": "operator"}


def refunds(store: HubStore, period: Period, by: str = "governorate", van: str | None = None,
            read=None, parts: ps.Split | None = None) -> dict[str, dict]:
    """Per group key and payment method: refunds made in the period and their piastres, each counted in its
    request's group — a refund whose request the hub lacks is left out."""
    _grouping(by)
    read = read or store._read
    parts = parts or ps.split(read, period.first, period.last)
    rows, params = ps.union(store, ps.REFUNDS if by in ("service", "operator") else ps.REFUND_VANS, parts, van,
                            days=False)
    out: dict[str, dict] = {}
    for row_key, method, n, amount in read(
            f"SELECT k, method, sum(refunds), sum(refunded) FROM (SELECT {REFUND_KEYS[by]} AS k, method, refunds, "
            f"refunded FROM ({rows}) u) x WHERE k IS NOT NULL GROUP BY k, method", params):
        out.setdefault(str(row_key), {})[str(method)] = {"refunds": int(n), "refunded": int(amount)}
    return out


def shift_figures(store: HubStore, period: Period, by: str = "governorate", van: str | None = None,
                  read=None) -> dict[str, dict]:
    """Per van, operator or for the governorate: shifts closed in the period, how many were short or over, and the
    sum of their differences (piastres: negative = short). Empty for the service grouping (a shift has none). Read
    from the shifts table itself (a few rows a day: no summary)."""
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
    _grouping(by)
    with reading(store) as read:
        parts = ps.split(read, period.first, period.last)
        requests_ = request_figures(store, period, by, van, read=read, parts=parts)
        tickets = ticket_figures(store, period, by, van, read=read, parts=parts)
        money = refunds(store, period, by, van, read=read, parts=parts)
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
        parts = ps.split(read, period.first, period.last, months=False)  # the weeks need their days
        requests_ = request_figures(store, period, van=van, weekly_=True, read=read, parts=parts)
        tickets = ticket_figures(store, period, van=van, weekly_=True, read=read, parts=parts)
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


def coverage(store: HubStore, period: Period, today: date | None = None) -> dict:
    """How the period's days up to today are read: {"days", "raw": of them, read from the raw rows — today, and days
    not summarised yet or changed since (governorate/perf_summary.py: the same figures, only slower), "precision":
    the medians' and 90th percentiles' relative precision}."""
    today = today or datetime.now(DAY_TZ).date()
    last = min(period.last, today)
    if last < period.first:
        return {"days": 0, "raw": 0, "precision": ps.PRECISION}
    parts = ps.split(store._read, period.first, last)
    # Days before the hub's first data were never written to: read raw, they hold nothing, and are not counted.
    first_data = store._read("SELECT min(day) FROM (SELECT min(day) AS day FROM perf_days "
                             "UNION ALL SELECT min(day) FROM perf_dirty) x")[0][0]
    empty = 0
    if first_data is None:
        empty = (last - period.first).days + 1
    elif date.fromisoformat(first_data) > period.first:
        empty = (min(date.fromisoformat(first_data), last + timedelta(days=1)) - period.first).days
    return {"days": (last - period.first).days + 1, "raw": max(0, parts.raw_days() - empty),
            "precision": ps.PRECISION}


def vans(store: HubStore) -> list[str]:
    return [r[0] for r in store._read("SELECT van FROM vans ORDER BY van")]




# Demand by place: requests counted per cell of CELL_E5 × CELL_E5 (1e-5 degrees: 0.01°, about 1.1 km at Egypt's
# latitudes) around where the van stood at intake (requests.lat_e5 / lon_e5, m011), by integer division in SQL
# (perf_summary.PLACES: the summary keeps each day's cells per van).
CELL_E5 = ps.CELL_E5
_LAT0, _LON0 = ps.LAT0, ps.LON0


def demand(store: HubStore, period: Period, van: str | None = None, read=None) -> dict:
    """{"cells": [{"lat", "lon", "requests", "vans"}, …] most requests first, "placed", "unplaced"}: where the
    period's requests were taken, by cell (its centre), and how many have no place (a van on software older than
    protocol 4, or without a GPS fix at intake)."""
    read = read or store._read
    rows_sql, params = ps.union(store, ps.PLACES, ps.split(read, period.first, period.last), van, days=False)
    # A request without a place is the NULL cell.
    rows = read(f"SELECT cy, cx, sum(n), count(DISTINCT van) FROM ({rows_sql}) u GROUP BY cy, cx", params)
    unplaced = sum(int(n) for cy, cx, n, _ in rows if cy is None or cx is None)
    cells = sorted(({"lat": round(((int(cy) + 0.5) * CELL_E5 - _LAT0) / 1e5, 4),
                     "lon": round(((int(cx) + 0.5) * CELL_E5 - _LON0) / 1e5, 4),
                     "requests": int(n), "vans": int(v)} for cy, cx, n, v in rows if cy is not None and cx is not None),
                   key=lambda c: (-c["requests"], c["lat"], c["lon"]))
    return {"cells": cells, "placed": sum(c["requests"] for c in cells), "unplaced": unplaced}

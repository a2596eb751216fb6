"""The performance screens' figures kept per day (issue 19): what lets a period of a year read a few thousand rows.

For each local day (UTC+2, as the screens cut days: governorate/performance.py) the summary tables of migration m012
hold the day's partial aggregates — counts and sums per van (and per van, service and operator), and for the medians
and 90th percentiles a histogram: how many requests had each decision time, how many tickets each wait and service
time, in **buckets** of a bounded relative width (``bucket``: whole seconds up to two minutes, then 64 buckets per
doubling). A period's histogram therefore has at most a few hundred rows per van whatever the timestamps, and a
median or 90th percentile read from it is the bucket of the exact nearest-rank pick: within ``PRECISION`` (0.8 %)
of it, which the screens state. Every count and sum is exact.

The same SQL makes a day's summary rows (``refresh``) and reads the raw rows of the days not summarised
(``union``): a period's figures are the summary rows of its clean summarised days UNION ALL the same partial
aggregates over the raw rows of its other days (today, days never summarised, days marked dirty), aggregated once
more on top.

**Dirty days.** Triggers (m012) mark a day dirty in the transaction of every write to the rows it is made from:
a request inserted, changed (a decision, a state from the van, a delivery) or deleted marks its submission day and
the days of its refunds; a ticket's end or a refund message marks its own day. Whoever writes — the ingest, the back
office, a repair by hand — cannot forget it. ``refresh`` recomputes each dirty day before today (and summarises the
days not summarised yet), one day per transaction; on PostgreSQL that transaction first takes a SHARE ROW EXCLUSIVE
lock on ``perf_dirty``, so it waits for every transaction that marked a day and is still open, and a write that comes
after it marks the day again: a summarised day is never stale. Shift differences are not summarised (a few rows a day).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from governorate.store import HubStore, now_iso

# Egypt Standard Time: how every day and week of the figures is read (governorate/performance.py).
DAY_TZ = timezone(timedelta(hours=2))
METHODS = ("cash", "card", "reference")  # the payment methods m012's columns hold (edge.core.requests.PaymentMethod)
DECIDED_STATES = ("ready", "rejected", "delivered")
# Demand by place: cells of CELL_E5 × CELL_E5 (1e-5 degrees); the offsets make every value positive, so integer
# division floors on SQLite and PostgreSQL alike. The summary holds cells: a new cell size needs the days refreshed.
CELL_E5 = 1000
LAT0, LON0 = 90 * 100_000, 180 * 100_000
GAP_DAYS = 800  # how far back refresh summarises days that never had a dirty mark (days without data)


# The Monday the week numbers count from (weeks of the days from FIRST_YEAR on are all ≥ 0: integer division floors).
WEEK_ZERO = date(1999, 12, 27)


def week_number(store: HubStore, day: str) -> str:
    """SQL: the ISO week of a local day text, as the number of weeks since WEEK_ZERO (integer arithmetic per row,
    the Monday worked out once per week: ``monday``)."""
    if store.dialect == "postgresql":
        return f"((CAST({day} AS date) - DATE '{WEEK_ZERO.isoformat()}') / 7)"
    return f"CAST((julianday({day}) - julianday('{WEEK_ZERO.isoformat()}')) / 7 AS INTEGER)"


def monday(week: int) -> str:
    return (WEEK_ZERO + timedelta(weeks=int(week))).isoformat()


def utc_text(day: date) -> str:
    """The first instant of a local day, as the stored UTC texts are written (comparable as text)."""
    return datetime(day.year, day.month, day.day, tzinfo=DAY_TZ).astimezone(UTC).isoformat()


def local_day(store: HubStore, expr: str) -> str:
    """SQL: the day (YYYY-MM-DD, UTC+2) of an ISO-8601 UTC text (its first 13 characters are the UTC date and hour):
    its UTC date, the next one from 22:00 UTC (on PostgreSQL only those two hours convert a date: the text is read
    from its first characters otherwise, a fraction of the cost of a timestamp per row)."""
    if store.dialect == "postgresql":
        return (f"CASE WHEN substr({expr}, 12, 2) >= '22' THEN to_char(left({expr}, 10)::date + 1, 'YYYY-MM-DD') "
                f"ELSE left({expr}, 10) END")
    return f"date(substr({expr}, 1, 13) || ':00:00', '+2 hours')"


def whole_seconds(store: HubStore, expr: str) -> str:
    """SQL: seconds rounded to the nearest whole second, halves away from zero — a negative time (a van's clock
    ahead) mirrors the positive one (truncation of |x| + 0.5, signed; the same on both)."""
    if store.dialect == "postgresql":
        return f"(sign({expr}) * trunc(abs({expr}) + 0.5))::bigint"
    return f"(CASE WHEN {expr} < 0 THEN -CAST(0.5 - ({expr}) AS INTEGER) ELSE CAST({expr} + 0.5 AS INTEGER) END)"


# --- the histograms' buckets: a bounded number of values per van, whatever the times ---------------------------
# A time of whole seconds s is counted at its bucket's value: s itself below EXACT (2 minutes 8 seconds), above it the
# middle of a bucket 2^(k-BITS) seconds wide for s in [2^k, 2^(k+1)) — BITS significant bits, 2^BITS buckets per
# doubling, as HDR histograms do; negative times (a van's clock ahead) mirror the positive ones. A bucket's value is
# within PRECISION (1/128: 0.8 %) of every time it holds, and buckets keep the order of times, so the nearest-rank
# pick from a histogram is the bucket of the exact pick: a median or 90th percentile is within PRECISION of the exact
# one. Integer arithmetic only (a CASE per doubling, integer division): the same bucket on SQLite and PostgreSQL.
# A day to a year of one van's decision times (minutes to weeks) fit in ≈ 500 buckets, its waits in ≈ 350.
BITS = 6
EXACT = 2 ** (BITS + 1)
PRECISION = 1 / EXACT
_TOP = 62  # doublings up to 2^62 seconds: every BIGINT


def bucket(seconds: int) -> int:
    """The value a histogram counts whole ``seconds`` at (what ``bucket_sql`` computes)."""
    if seconds < 0:
        return -bucket(-seconds)
    if seconds < EXACT:
        return seconds
    width = 1 << (seconds.bit_length() - 1 - BITS)
    return seconds // width * width + width // 2


def bucket_sql(x: str) -> str:
    """SQL: ``bucket`` of the whole seconds ``x`` (a column: it is named once per doubling)."""
    def positive(v: str) -> str:
        steps = " ".join(f"WHEN {v} < {2 ** (k + 1)} THEN {v} / {2 ** (k - BITS)} * {2 ** (k - BITS)} + "
                         f"{2 ** (k - BITS - 1)}" for k in range(BITS + 1, _TOP))
        return f"CASE WHEN {v} < {EXACT} THEN {v} {steps} ELSE {v} END"
    return f"CASE WHEN {x} >= 0 THEN {positive(x)} ELSE -({positive(f'(-{x})')}) END"


# --- what each summary table holds: the partial aggregates of a day, from the raw rows -------------------------

def _request_counts() -> str:
    states = ", ".join(f"'{s}'" for s in DECIDED_STATES)
    in_time = "decided_at < due_on || 'T22:00:00'"  # decided by the end of its due day (UTC+2), compared as text
    paid = ", ".join(
        f"sum(CASE WHEN pay_method = '{m}' AND pay_piastres > 0 THEN 1 ELSE 0 END), "
        f"sum(CASE WHEN pay_method = '{m}' AND pay_piastres > 0 THEN pay_piastres ELSE 0 END)" for m in METHODS)
    return (f"count(*), sum(CASE WHEN state IN ({states}) THEN 1 ELSE 0 END), "
            "sum(CASE WHEN state = 'delivered' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN state = 'cancelled' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN decided_at IS NOT NULL AND due_on IS NOT NULL THEN 1 ELSE 0 END), "
            f"sum(CASE WHEN decided_at IS NOT NULL AND due_on IS NOT NULL AND {in_time} THEN 1 ELSE 0 END), {paid}")


REQUEST_COUNTS = ("received", "decided", "delivered", "cancelled", "timed", "in_time",
                  *(f"{what}_{m}" for m in METHODS for what in ("payments", "collected")))
TICKETS = "kind IN ('ticket.finish', 'ticket.no_show')"


@dataclass(frozen=True)
class Summary:
    """One summary table: its columns after ``day``, and ``raw(store, day_sql, where)``: the SELECT of those
    partial aggregates (day first) over the raw rows that ``where`` picks (a condition on the raw table's own
    ``van`` and time columns). ``time`` names the raw time column that decides a row's day."""

    table: str
    columns: tuple[str, ...]
    time: str
    raw: Callable[[HubStore, str, str], str]
    keys: int  # the first ``keys`` columns group the rows; the others are summed (a week's rows from its days')

    @property
    def weeks(self) -> str:
        return f"{self.table}_weeks"

    @property
    def months(self) -> str:
        return f"{self.table}_months"

    def from_days(self, first: date, last: date) -> str:
        """SQL: the rows of a week or month (day = its first day) from its days' rows."""
        keys, summed = self.columns[:self.keys], self.columns[self.keys:]
        sums = ", ".join(f"sum({c})" for c in summed)
        return (f"SELECT '{first.isoformat()}', {', '.join(keys)}{', ' if keys else ''}{sums} FROM {self.table} "
                f"WHERE day >= '{first.isoformat()}' AND day <= '{last.isoformat()}'"
                + (f" GROUP BY {', '.join(keys)}" if keys else ""))


def _positions(width: int) -> str:
    return ", ".join(str(i) for i in range(1, width + 1))


def _requests(keys: str) -> Callable[[HubStore, str, str], str]:
    width = keys.count(",") + 2
    return lambda store, day, where: (f"SELECT {day}, {keys}, {_request_counts()} FROM requests WHERE {where} "
                                      f"GROUP BY {_positions(width)}")


def _histogram(table: str, value: str, keys: str, only: str, time: str) -> Callable[[HubStore, str, str], str]:
    width = keys.count(",") + 3 if keys else 2
    keyed = f"{keys}, " if keys else ""

    def raw(store: HubStore, day: str, where: str) -> str:
        # Each row's whole seconds worked out once (the fence keeps the subquery: flattened, its expression would be
        # copied into every step of the bucket's CASE).
        fence = _fence(store)
        return (f"SELECT {day}, {keyed}{bucket_sql('x')}, count(*) FROM (SELECT {keyed}{time}, "
                f"{whole_seconds(store, value)} AS x FROM {table} WHERE {only} AND {value} IS NOT NULL AND {where} "
                f"{fence}) h GROUP BY {_positions(width)}")
    return raw


def _fence(store: HubStore) -> str:
    """SQL that keeps a subquery from being flattened into its outer query (its expressions worked out once)."""
    return "OFFSET 0" if store.dialect == "postgresql" else "LIMIT -1 OFFSET 0"


def _tickets(store: HubStore, day: str, where: str) -> str:
    return (f"SELECT {day}, van, count(*), sum(CASE WHEN kind = 'ticket.no_show' THEN 1 ELSE 0 END) FROM messages "
            f"WHERE {TICKETS} AND {where} GROUP BY 1, 2")


def _refunds(fine: bool) -> Callable[[HubStore, str, str], str]:
    # Each body is read once (PostgreSQL would parse it for every field: the OFFSET 0 keeps the cast in its subquery);
    # each refund counts in its request's group (found by number, the primary key): one the hub lacks is left out.
    keys, width = ("r.van, r.service_code, r.operator", 6) if fine else ("r.van", 4)

    def raw(store: HubStore, day: str, where: str) -> str:
        body, fence = ("body::jsonb" if store.dialect == "postgresql" else "body"), _fence(store)
        # Each refund's request by its primary key: PostgreSQL would otherwise hash-join the refunds of a raw period
        # with every request (the fenced LATERAL makes it look each one up).
        join = ("CROSS JOIN LATERAL (SELECT van, service_code, operator FROM requests WHERE number = f.fn OFFSET 0) r"
                if store.dialect == "postgresql" else "JOIN requests r ON r.number = f.fn")
        return (f"SELECT {day}, f.van, {keys}, f.method, count(*), sum(f.amount) FROM ("
                "SELECT van, created_at, json_extract(j, '$.number') AS fn, json_extract(j, '$.method') AS method, "
                "CAST(json_extract(j, '$.amount_piastres') AS BIGINT) AS amount FROM ("
                f"SELECT van, created_at, {body} AS j FROM messages WHERE kind = 'request.refunded' AND {where} "
                f"{fence}) m) f {join} GROUP BY {_positions(width)}")
    return raw


def _places(store: HubStore, day: str, where: str) -> str:
    return (f"SELECT {day}, van, (lat_e5 + {LAT0}) / {CELL_E5}, (lon_e5 + {LON0}) / {CELL_E5}, count(*) "
            f"FROM requests WHERE {where} GROUP BY 1, 2, 3, 4")


_FINE = "van, service_code, operator"
REQUESTS = Summary("perf_requests", ("van", "service_code", "operator", *REQUEST_COUNTS), "submitted_at",
                   _requests(_FINE), 3)
REQUEST_VANS = Summary("perf_request_vans", ("van", *REQUEST_COUNTS), "submitted_at", _requests("van"), 1)
DECISIONS = Summary("perf_decisions", ("van", "service_code", "operator", "seconds", "n"), "submitted_at",
                    _histogram("requests", "decision_s", _FINE, "1 = 1", "submitted_at"), 4)
DECISION_VANS = Summary("perf_decision_vans", ("van", "seconds", "n"), "submitted_at",
                        _histogram("requests", "decision_s", "van", "1 = 1", "submitted_at"), 2)
TICKET_COUNTS = Summary("perf_tickets", ("van", "tickets", "no_shows"), "created_at", _tickets, 1)
WAITS = Summary("perf_waits", ("van", "seconds", "n"), "created_at",
                _histogram("messages", "wait_s", "van", TICKETS, "created_at"), 2)
SERVICES = Summary("perf_services", ("van", "seconds", "n"), "created_at",
                   _histogram("messages", "service_s", "van", TICKETS, "created_at"), 2)
REFUNDS = Summary("perf_refunds", ("van", "request_van", "service_code", "operator", "method", "refunds", "refunded"),
                  "created_at", _refunds(fine=True), 5)
REFUND_VANS = Summary("perf_refund_vans", ("van", "request_van", "method", "refunds", "refunded"), "created_at",
                      _refunds(fine=False), 3)
PLACES = Summary("perf_places", ("van", "cy", "cx", "n"), "submitted_at", _places, 3)
# The governorate's histograms (no van column: never read for one van).
DECISIONS_ALL = Summary("perf_decisions_all", ("seconds", "n"), "submitted_at",
                        _histogram("requests", "decision_s", "", "1 = 1", "submitted_at"), 1)
WAITS_ALL = Summary("perf_waits_all", ("seconds", "n"), "created_at",
                    _histogram("messages", "wait_s", "", TICKETS, "created_at"), 1)
SERVICES_ALL = Summary("perf_services_all", ("seconds", "n"), "created_at",
                       _histogram("messages", "service_s", "", TICKETS, "created_at"), 1)
ALL = (REQUESTS, REQUEST_VANS, DECISIONS, DECISION_VANS, DECISIONS_ALL, TICKET_COUNTS, WAITS, WAITS_ALL, SERVICES,
       SERVICES_ALL, REFUNDS, REFUND_VANS, PLACES)


# --- a period: which days are read from the summary, which raw ------------------------------------------------

@dataclass(frozen=True)
class Split:
    """A period's days in runs (first, last): ``months`` whole calendar months read from the month rows, ``weeks``
    other whole weeks read from the week rows (first Monday, last Sunday), ``summary`` the other clean summarised
    days, ``raw`` all others."""

    summary: tuple[tuple[date, date], ...]
    raw: tuple[tuple[date, date], ...]
    weeks: tuple[tuple[date, date], ...] = ()
    months: tuple[tuple[date, date], ...] = ()

    def raw_days(self) -> int:
        """How many days are read from the raw rows."""
        return sum((last - first).days + 1 for first, last in self.raw)

    def summary_where(self, unit: str = "day") -> tuple[str, list]:
        runs = {"day": self.summary, "week": self.weeks, "month": self.months}[unit]
        if not runs:
            return "1 = 0", []
        return " OR ".join("(day >= ? AND day <= ?)" for _ in runs), [d.isoformat() for run in runs for d in run]

    def raw_where(self, column: str) -> tuple[str, list]:
        if not self.raw:
            return "1 = 0", []
        return (" OR ".join(f"({column} >= ? AND {column} < ?)" for _ in self.raw),
                [text for first, last in self.raw for text in (utc_text(first), utc_text(last + timedelta(days=1)))])


def month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def split(read, first: date, last: date, months: bool = True) -> Split:
    """The runs of ``first`` … ``last``: a day is read from the summary when it is summarised and not dirty; whole
    months (``months``: not for the weekly trend, whose rows need a day in the week) and whole weeks whose rows were
    made from their days as they are now are read from those rows."""
    clean = {date.fromisoformat(d) for (d,) in read(
        "SELECT day FROM perf_days WHERE day >= ? AND day <= ? "
        "AND NOT EXISTS (SELECT 1 FROM perf_dirty WHERE perf_dirty.day = perf_days.day)",
        [first.isoformat(), last.isoformat()])}
    in_months: set[date] = set()
    if months:
        for (m,) in read("SELECT month FROM perf_months WHERE month >= ? AND month <= ?",
                         [first.isoformat(), last.isoformat()]):
            start = date.fromisoformat(m)
            days = {start + timedelta(days=i) for i in range((month_end(start) - start).days + 1)}
            if month_end(start) <= last and days <= clean:
                in_months |= days
    mondays = {date.fromisoformat(w) for (w,) in read("SELECT week FROM perf_weeks WHERE week >= ? AND week <= ?",
                                                      [first.isoformat(), last.isoformat()])}
    weekly = {m for m in mondays if m + timedelta(days=6) <= last
              and all(m + timedelta(days=i) in clean - in_months for i in range(7))}
    in_weeks = {m + timedelta(days=i) for m in weekly for i in range(7)}
    return Split(_runs(first, last, clean - in_weeks - in_months), _runs(first, last, None, clean),
                 _runs(first, last, in_weeks), _runs(first, last, in_months))


def _runs(first: date, last: date, days: set[date] | None, outside: set[date] | None = None
          ) -> tuple[tuple[date, date], ...]:
    """The runs of consecutive days of first … last that are in ``days`` (or not in ``outside``)."""
    def chosen(day: date) -> bool:
        return day in days if days is not None else day not in outside
    runs, start, day = [], None, first
    while day <= last:
        if chosen(day) and start is None:
            start = day
        if start is not None and (day == last or not chosen(day + timedelta(days=1))):
            runs.append((start, day))
            start = None
        day += timedelta(days=1)
    return tuple(runs)


def union(store: HubStore, summary: Summary, parts: Split, van: str | None = None,
          days: bool = True) -> tuple[str, list]:
    """SQL (and its parameters) of the rows ``day, <summary.columns>`` for a period: the summary's rows of its clean
    days UNION ALL the same partial aggregates over the raw rows of its other days; ``van`` keeps one van's.
    ``days=False`` when the reader needs no day (every grouping but the week's): the raw rows are then one group
    for the period, not one per day (the same sums, without working out each row's local day)."""
    if van and "van" not in summary.columns:
        raise ValueError(f"{summary.table} holds no van")
    if days and parts.months:
        raise ValueError("a month's rows have no day of their weeks: split(…, months=False)")
    raw_where, raw_params = parts.raw_where(summary.time)
    kept_where, kept_params = parts.summary_where()
    weeks_where, weeks_params = parts.summary_where("week")
    months_where, months_params = parts.summary_where("month")
    one_van, van_params = (" AND van = ?", [van]) if van else ("", [])
    raw = (_by_day(store, summary, f"({raw_where}){one_van}") if days
           else summary.raw(store, "''", f"({raw_where}){one_van}"))
    columns = ", ".join(summary.columns)
    kept = f"SELECT day, {columns} FROM {summary.table} WHERE ({kept_where}){one_van}"
    weeks = f"SELECT day, {columns} FROM {summary.weeks} WHERE ({weeks_where}){one_van}"
    months = f"SELECT day, {columns} FROM {summary.months} WHERE ({months_where}){one_van}"
    # The summary's SELECT first: it names the columns of the union.
    return (f"{kept} UNION ALL {weeks} UNION ALL {months} UNION ALL {raw}",
            [*kept_params, *van_params, *weeks_params, *van_params, *months_params, *van_params, *raw_params,
             *van_params])


def _by_day(store: HubStore, summary: Summary, where: str) -> str:
    """SQL: the partial aggregates of the raw rows ``where`` picks, per local day — grouped per UTC hour first (the
    first 13 characters of the time), so that the local day is worked out once per hour and group, not once per row
    (that conversion was most of the cost of a raw day). Hours fall whole into local days (UTC+2)."""
    hour = f"left({summary.time}, 13)" if store.dialect == "postgresql" else f"substr({summary.time}, 1, 13)"
    keys = summary.columns[:summary.keys]
    sums = ", ".join(f"CAST(sum({c}) AS BIGINT)" for c in summary.columns[summary.keys:])
    keyed = "".join(f"{k}, " for k in keys)
    day, columns = local_day(store, "h"), ", ".join(summary.columns)
    return (f"SELECT {day}, {keyed}{sums} FROM (WITH r (h, {columns}) AS ({summary.raw(store, hour, where)}) "
            f"SELECT * FROM r) x GROUP BY {_positions(len(keys) + 1)}")


# --- keeping it up to date ------------------------------------------------------------------------------------

def refresh(store: HubStore, today: date | None = None, limit: int | None = None) -> list[date]:
    """Summarise every dirty day before ``today`` (local) and every day of the last GAP_DAYS not summarised yet (so
    that the summarised days make long runs), at most ``limit`` days, oldest first, one transaction each. Today stays
    raw (it changes all day). Returns the days summarised."""
    today = today or datetime.now(DAY_TZ).date()
    dirty = {date.fromisoformat(d) for (d,) in store._read("SELECT day FROM perf_dirty WHERE day < ?",
                                                            [today.isoformat()])}
    done = {date.fromisoformat(d) for (d,) in store._read("SELECT day FROM perf_days")}
    known = dirty | done
    todo = set(dirty)
    # From the first day with data (or GAP_DAYS back), widened to the 1st of its month (a fixed point: the next
    # refresh starts there again), so the first month is made of summarised days too; a week that begins before it
    # is read by its days, never tried as a week.
    start = None
    if known:
        start = max(min(known), today - timedelta(days=GAP_DAYS)).replace(day=1)
        day = start
        while day < today:
            if day not in done:
                todo.add(day)
            day += timedelta(days=1)
    days = sorted(todo)[:limit]
    for day in days:
        summarise(store, day)
    # The weeks of those days, and any complete week not summarised yet, once all its days are clean.
    weeks = {day - timedelta(days=day.weekday()) for day in days}
    weeks = {m for m in weeks if start is None or m >= start}
    have = {date.fromisoformat(w) for (w,) in store._read("SELECT week FROM perf_weeks")}
    if start is not None:
        monday = start + timedelta(days=-start.weekday() % 7)  # the first Monday from start on
        while monday + timedelta(days=6) < today:
            if monday not in have:
                weeks.add(monday)
            monday += timedelta(weeks=1)
    for monday in sorted(weeks):
        if monday + timedelta(days=6) < today:
            summarise_week(store, monday)
    # The same for the months.
    months = {day.replace(day=1) for day in days}
    have = {date.fromisoformat(m) for (m,) in store._read("SELECT month FROM perf_months")}
    if start is not None:
        first = start.replace(day=1)
        while month_end(first) < today:
            if first not in have:
                months.add(first)
            first = month_end(first) + timedelta(days=1)
    for first in sorted(months):
        if month_end(first) < today:
            summarise_month(store, first)
    return days


def summarise(store: HubStore, day: date) -> None:
    """Recompute one day's summary rows from the raw rows and mark it summarised and clean, in one transaction."""
    text = day.isoformat()
    with store.transaction() as conn:
        if store.dialect == "postgresql":
            # Waits for every open transaction that marked a day dirty, and holds new marks back until this commits:
            # the rows read below are every row whose mark is removed below. SHARE ROW EXCLUSIVE, not SHARE: two
            # refreshes at once take turns (each would otherwise wait for the other's SHARE to delete its marks).
            conn.execute("LOCK TABLE perf_dirty IN SHARE ROW EXCLUSIVE MODE")
        where = f"{{0}} >= '{utc_text(day)}' AND {{0}} < '{utc_text(day + timedelta(days=1))}'"
        for summary in ALL:
            conn.execute(f"DELETE FROM {summary.table} WHERE day = ?", [text])
            conn.execute(f"INSERT INTO {summary.table} (day, {', '.join(summary.columns)}) "
                         + summary.raw(store, f"'{text}'", where.format(summary.time)))
        conn.execute("DELETE FROM perf_dirty WHERE day = ?", [text])
        conn.execute("INSERT INTO perf_days (day, summarised_at) VALUES (?, ?) "
                     "ON CONFLICT (day) DO UPDATE SET summarised_at = excluded.summarised_at", [text, now_iso()])
        # The week's and month's rows were made from this day's old rows: not read again until they are made anew.
        conn.execute("DELETE FROM perf_weeks WHERE week = ?", [(day - timedelta(days=day.weekday())).isoformat()])
        conn.execute("DELETE FROM perf_months WHERE month = ?", [day.replace(day=1).isoformat()])


def summarise_week(store: HubStore, monday: date) -> bool:
    """Make a week's rows from its seven days' summary rows, when all seven are summarised and clean (else leave the
    week unsummarised: its days are read one by one). Whether it was summarised."""
    return _summarise_span(store, monday, monday + timedelta(days=6), "weeks", "perf_weeks", "week")


def summarise_month(store: HubStore, first: date) -> bool:
    """The same for a calendar month (a year by van reads 12 rows per van and bucket instead of 52)."""
    return _summarise_span(store, first, month_end(first), "months", "perf_months", "month")


def _summarise_span(store: HubStore, first: date, last: date, rows: str, done: str, column: str) -> bool:
    length = (last - first).days + 1
    with store.transaction() as conn:
        if store.dialect == "postgresql":
            conn.execute("LOCK TABLE perf_dirty IN SHARE ROW EXCLUSIVE MODE")  # as summarise: no day turns dirty
        (clean,), = conn.execute(
            "SELECT count(*) FROM perf_days WHERE day >= ? AND day <= ? "
            "AND NOT EXISTS (SELECT 1 FROM perf_dirty WHERE perf_dirty.day = perf_days.day)",
            [first.isoformat(), last.isoformat()]).fetchall()
        for summary in ALL:
            conn.execute(f"DELETE FROM {getattr(summary, rows)} WHERE day = ?", [first.isoformat()])
        if clean < length:
            conn.execute(f"DELETE FROM {done} WHERE {column} = ?", [first.isoformat()])
            return False
        for summary in ALL:
            conn.execute(f"INSERT INTO {getattr(summary, rows)} (day, {', '.join(summary.columns)}) "
                         + summary.from_days(first, last))
        conn.execute(f"INSERT INTO {done} ({column}, summarised_at) VALUES (?, ?) "
                     f"ON CONFLICT ({column}) DO UPDATE SET summarised_at = excluded.summarised_at",
                     [first.isoformat(), now_iso()])
    return True


def state(store: HubStore) -> dict:
    """How far the summary is: days summarised, days dirty (read raw until the next refresh)."""
    (summarised,), = store._read("SELECT count(*) FROM perf_days")
    (dirty,), = store._read("SELECT count(*) FROM perf_dirty")
    return {"summarised": int(summarised), "dirty": int(dirty)}

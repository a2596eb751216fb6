"""The service-performance figures (governorate/performance.py): the SQL equals a plain-Python computation over
the same random rows, on SQLite and PostgreSQL; the period a screen asks for is checked at the boundary."""

from __future__ import annotations

import dataclasses
import re
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.core.errors import EdgeError
from governorate import perf_summary
from governorate import performance as perf
from governorate.store import HubStore, execute_values
from tests.support import gov_postgres, perf_data
from tests.support.gov_support import BACKENDS
from tests.support.perf_data import OPERATORS, SERVICES, STATES, T0, VANS, Request, Rows, Shift, Ticket


@pytest.fixture(scope="module", params=BACKENDS)
def store(request):
    cluster = None
    if request.param == "sqlite":
        folder = tempfile.TemporaryDirectory()
        target = str(Path(folder.name) / "hub.db")
    else:
        cluster = gov_postgres.Cluster().start()
        target = cluster.create_database("perf")
    s = HubStore(target)
    yield s
    s.close()
    if cluster:
        cluster.stop()
    else:
        folder.cleanup()


SPAN_S = 40 * 86400
seconds = st.integers(0, SPAN_S)


@st.composite
def requests_(draw, n: int, prefix: str = "") -> Request:
    van = draw(st.sampled_from(VANS))
    state = draw(st.sampled_from(STATES))
    submitted = T0 + timedelta(seconds=draw(seconds))
    decided = None
    if state in perf.DECIDED_STATES and draw(st.booleans()):
        # (before it was submitted: a van's clock ahead of the hub's)
        decided = submitted + timedelta(seconds=draw(st.integers(-600, 12 * 86400)))
    under_review = submitted + timedelta(seconds=draw(st.integers(0, 86400))) if draw(st.booleans()) else None
    due = draw(st.none() | st.integers(-1, 12).map(lambda d: (submitted.date() + timedelta(days=d)).isoformat()))
    amount = draw(st.sampled_from((0, 1, 5000, 2**40)))
    refund = None
    if state == "cancelled" and amount and draw(st.booleans()):
        refund = (submitted + timedelta(seconds=draw(st.integers(0, 5 * 86400))), amount)
    return Request(f"{prefix}{van}-{n:06d}", van, draw(st.sampled_from(SERVICES)), draw(st.sampled_from(OPERATORS)),
                   state, submitted, due, draw(st.sampled_from(perf.METHODS)), amount, decided, under_review, refund)


tickets = st.builds(
    Ticket, st.sampled_from(VANS), st.sampled_from(("ticket.finish", "ticket.no_show")),
    seconds.map(lambda s: T0 + timedelta(seconds=s)), st.none() | st.integers(-120, 7200),  # (-: a clock jumped)
    st.none() | st.integers(-60, 3600))


shifts = st.lists(st.builds(
    lambda van, operator, s, difference: (van, operator, T0 + timedelta(seconds=s), difference),
    st.sampled_from(VANS), st.sampled_from(OPERATORS), seconds, st.sampled_from((0, 0, -3000, 2500, -60_000, 1))),
    max_size=12).map(lambda drawn: [Shift(van, n + 1, operator, closed, difference)
                                    for n, (van, operator, closed, difference) in enumerate(drawn)])


@st.composite
def data_sets(draw, prefix: str = "", with_shifts: bool = True) -> Rows:
    count = draw(st.integers(0, 60))
    return Rows([draw(requests_(n, prefix)) for n in range(count)], draw(st.lists(tickets, max_size=40)),
                draw(shifts) if with_shifts else [])


periods = st.tuples(st.integers(-60, 42), st.integers(0, 130)).map(  # up to and past WEEKS_BY_TEXT weeks
    lambda p: perf.Period(T0.date() + timedelta(days=p[0]), T0.date() + timedelta(days=p[0] + p[1])))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(rows=data_sets(), period=periods, by=st.sampled_from(tuple(perf.GROUPINGS)),
       van=st.none() | st.sampled_from(VANS))
def test_the_sql_figures_equal_a_plain_computation_over_the_same_rows(store, rows, period, by, van):
    perf_data.clear(store)
    perf_data.insert(store, rows)
    assert perf.table(store, period, by, van) == perf_data.reference_table(rows, period, by, van)
    assert perf.weekly(store, period, van) == perf_data.reference_weekly(rows, period, van)
    assert perf_summary.state(store)["summarised"] == 0  # every day read raw here


days_after_t0 = st.integers(-2, 45).map(lambda d: T0.date() + timedelta(days=d))


@st.composite
def late_decisions(draw, rows: Rows) -> dict[str, tuple[str, datetime]]:
    """Decisions made in the back office after the summary: some requests of ``rows`` become ready or rejected."""
    chosen = draw(st.lists(st.sampled_from(rows.requests), max_size=8, unique_by=lambda r: r.number)
                  if rows.requests else st.just([]))
    return {r.number: (draw(st.sampled_from(("ready", "rejected"))),
                       r.submitted + timedelta(seconds=draw(st.integers(1, 20 * 86400)))) for r in chosen}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.data(), rows=data_sets(), late=data_sets("L", with_shifts=False), refreshed=days_after_t0,
       again=st.none() | st.tuples(days_after_t0, st.integers(0, 50)), period=periods,
       by=st.sampled_from(tuple(perf.GROUPINGS)), van=st.none() | st.sampled_from(VANS),
       messages_first=st.booleans())
def test_the_figures_are_the_same_whether_days_are_summarised_dirty_or_raw(store, data, rows, late, refreshed, again,
                                                                          period, by, van, messages_first):
    """Rows are summarised up to a day, then late data arrives — requests and tickets of summarised days (a van back
    online after days), refunds (some before their request), decisions in the back office on summarised requests —
    and part of the dirty days may be summarised again: the figures are those of all the rows, whatever is read raw."""
    perf_data.clear(store)
    perf_data.insert(store, rows)
    perf_summary.refresh(store, today=refreshed)
    decided = data.draw(late_decisions(rows))
    with store.transaction() as conn:
        for number, (state, at) in decided.items():  # as backoffice.decide writes a decision
            conn.execute("UPDATE requests SET state = ?, decided_at = ? WHERE number = ?",
                         [state, perf_data.iso(at), number])
    perf_data.insert(store, late, first=1000, messages_first=messages_first)
    if again:
        perf_summary.refresh(store, today=again[0], limit=again[1])
    everything = Rows([dataclasses.replace(r, state=decided[r.number][0], decided=decided[r.number][1])
                       if r.number in decided else r for r in rows.requests] + late.requests,
                      rows.tickets + late.tickets, rows.shifts)
    table = perf.table(store, period, by, van)
    assert table == perf_data.reference_table(everything, period, by, van)
    assert perf.weekly(store, period, van) == perf_data.reference_weekly(everything, period, van)
    assert_within_precision(table, perf_data.reference_table(everything, period, by, van, exact=True))
    placed = perf.demand(store, period, van)  # these requests name no place
    assert placed["unplaced"] == sum(perf_data._in(period, r.submitted) and (van is None or r.van == van)
                                     for r in everything.requests)


PICKS = ("decision_median_s", "decision_p90_s", "wait_median_s", "wait_p90_s", "service_median_s")


def assert_within_precision(rows: list[dict], exact: list[dict]) -> None:
    """The same rows and figures, each median and p90 within perf_summary.PRECISION of the exact nearest-rank pick."""
    assert [r["key"] for r in rows] == [r["key"] for r in exact]
    for row, wanted in zip(rows, exact, strict=True):
        assert {k: v for k, v in row.items() if k not in PICKS} == {k: v for k, v in wanted.items() if k not in PICKS}
        for pick in PICKS:
            got, value = row[pick], wanted[pick]
            assert (got is None) == (value is None), pick
            if value is not None:
                assert abs(got - value) <= perf_summary.PRECISION * abs(value), (pick, got, value)


def test_a_bucket_is_within_the_stated_precision_keeps_the_order_and_is_few_per_doubling():
    assert perf_summary.PRECISION == 1 / 128
    assert [perf_summary.bucket(s) for s in (0, 1, 127, -127)] == [0, 1, 127, -127]  # exact below EXACT
    values = {perf_summary.bucket(s) for s in range(2**20, 2**21)}  # about 12 to 24 days
    assert len(values) == 2**perf_summary.BITS


@given(st.integers(-2**62 + 1, 2**62 - 1), st.integers(-2**62 + 1, 2**62 - 1))
def test_any_time_falls_in_a_bucket_within_the_precision_and_in_order(a, b):
    for s in (a, b):
        assert abs(perf_summary.bucket(s) - s) <= perf_summary.PRECISION * abs(s)
    if a <= b:
        assert perf_summary.bucket(a) <= perf_summary.bucket(b)
    assert perf_summary.bucket(perf_summary.bucket(a)) == perf_summary.bucket(a)  # a bucket's value is its own bucket


edges = st.integers(0, 61).flatmap(lambda k: st.sampled_from((2**k - 1, 2**k, 2**k + 1)))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.integers(-2**61, 2**61) | edges | edges.map(lambda v: -v) | st.integers(-10**7, 10**7),
                       min_size=1, max_size=40))
def test_the_sql_puts_each_time_in_the_same_bucket_as_python(store, values):
    rows = " UNION ALL ".join(f"SELECT CAST({v} AS BIGINT) AS x" for v in values)
    got = [int(b) for (b,) in store._read(f"SELECT {perf_summary.bucket_sql('x')} FROM ({rows}) t")]
    assert got == [perf_summary.bucket(v) for v in values]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moments=st.lists(st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)), min_size=1, max_size=30))
def test_the_sql_local_day_of_a_time_and_of_its_hour_is_the_day_at_utc_plus_2(store, moments):
    texts = [perf_data.iso(m.replace(tzinfo=UTC)) for m in moments]
    rows = " UNION ALL ".join(f"SELECT '{t}' AS t, '{t[:13]}' AS h" for t in texts)
    got = store._read(f"SELECT {perf_summary.local_day(store, 't')}, {perf_summary.local_day(store, 'h')} "
                      f"FROM ({rows}) x")
    wanted = [((m + timedelta(hours=2)).date().isoformat(),) * 2 for m in moments]
    assert [tuple(r) for r in got] == wanted


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(rows=data_sets(), refreshed=days_after_t0, period=periods, by=st.sampled_from(tuple(perf.GROUPINGS)),
       van=st.none() | st.sampled_from(VANS))
def test_each_median_and_p90_is_within_the_stated_precision_of_the_exact_pick(store, rows, refreshed, period, by,
                                                                               van):
    """Decision times of up to 12 days and waits of up to 2 hours, part of the days summarised: every pick is within
    PRECISION of the exact nearest-rank pick over the raw rows, every other figure exact."""
    perf_data.clear(store)
    perf_data.insert(store, rows)
    perf_summary.refresh(store, today=refreshed)
    assert_within_precision(perf.table(store, period, by, van),
                            perf_data.reference_table(rows, period, by, van, exact=True))
    weeks, exact = perf.weekly(store, period, van), perf_data.reference_weekly(rows, period, van, exact=True)
    assert_within_precision([{**w, "key": w["week"]} for w in weeks], [{**w, "key": w["week"]} for w in exact])


def test_a_refresh_summarises_the_days_before_today_and_a_write_marks_its_day_dirty_again(store):
    perf_data.clear(store)
    rows = perf_data.sample()
    perf_data.insert(store, rows)
    today = T0.date() + timedelta(days=20)
    done = perf_summary.refresh(store, today=today)
    # Before today (today stays raw), from the first data's month (made of summarised days too).
    start = T0.date().replace(day=1)
    assert done == [start + timedelta(days=d) for d in range((today - start).days)]
    assert perf_summary.refresh(store, today=today) == []  # nothing dirty: nothing to do
    (dirty,), = store._read("SELECT count(*) FROM perf_dirty WHERE day < ?", [today.isoformat()])
    assert dirty == 0 and perf_summary.state(store)["summarised"] == (today - start).days
    late = Rows([Request("L-1", "V001", "RECON", "op1", "ready", T0 + timedelta(days=3, hours=9), None, "cash", 700,
                         T0 + timedelta(days=4))], [Ticket("V002", "ticket.finish", T0 + timedelta(days=5), 30, 300)])
    perf_data.insert(store, late, first=5000)
    assert [d for (d,) in store._read("SELECT day FROM perf_dirty WHERE day < ? ORDER BY day",
                                      [today.isoformat()])] == ["2026-03-04", "2026-03-06"]
    period = perf.Period(T0.date(), today)
    everything = Rows(rows.requests + late.requests, rows.tickets + late.tickets, rows.shifts)
    assert perf.table(store, period, "van") == perf_data.reference_table(everything, period, "van")
    assert perf_summary.refresh(store, today=today) == [date(2026, 3, 4), date(2026, 3, 6)]
    assert perf.table(store, period, "operator") == perf_data.reference_table(everything, period, "operator")
    assert perf.weekly(store, period) == perf_data.reference_weekly(everything, period)


def test_days_before_the_first_data_are_not_read_raw_for_ever_and_the_first_month_is_made_once(store, monkeypatch):
    perf_data.clear(store)
    first = T0 + timedelta(days=16, hours=9)  # data from the middle of a month (and of a week) on
    rows = Rows([Request("F-1", "V001", "RECON", "op1", "ready", first, None, "cash", 700, first + timedelta(hours=5))],
                [Ticket("V002", "ticket.finish", first + timedelta(days=1), -30, 300)])  # a clock ahead: a wait < 0
    perf_data.insert(store, rows)
    today = first.date() + timedelta(days=60)
    perf_summary.refresh(store, today=today)
    month = first.date().replace(day=1).isoformat()
    assert (month,) in store._read("SELECT month FROM perf_months")  # the partial first month, made of its days
    calls = []
    for name in ("summarise", "summarise_week", "summarise_month"):
        real = getattr(perf_summary, name)
        monkeypatch.setattr(perf_summary, name, lambda *a, real=real, name=name: (calls.append(name), real(*a))[1])
    assert perf_summary.refresh(store, today=today) == [] and calls == []  # nothing tried again
    period = perf.Period(first.date() - timedelta(days=75), today - timedelta(days=1))
    assert perf.coverage(store, period, today=today)["raw"] == 0  # the days before any data hold nothing
    assert perf.coverage(store, perf.Period(period.first, today), today=today)["raw"] == 1  # today's
    for by in perf.GROUPINGS:
        assert perf.table(store, period, by) == perf_data.reference_table(rows, period, by)
    assert perf.table(store, period, "governorate")[0]["wait_median_s"] == -30  # mirrored, exact below 128 s


def test_a_whole_month_is_read_from_its_month_rows_until_one_of_its_days_changes(store):
    perf_data.clear(store)
    rows = perf_data.sample(days=45)  # 1 March … 14 April 2026
    perf_data.insert(store, rows)
    today = T0.date() + timedelta(days=45)
    perf_summary.refresh(store, today=today)
    assert store._read("SELECT month FROM perf_months") == [("2026-03-01",)]
    period = perf.Period(date(2026, 2, 20), date(2026, 4, 20))
    parts = perf_summary.split(store._read, period.first, period.last)
    assert parts.months == ((date(2026, 3, 1), date(2026, 3, 31)),)
    assert all(last < date(2026, 3, 1) or first > date(2026, 3, 31) for first, last in parts.weeks + parts.summary)
    assert perf_summary.split(store._read, period.first, period.last, months=False).months == ()
    for by in perf.GROUPINGS:
        assert perf.table(store, period, by) == perf_data.reference_table(rows, period, by)
    assert perf.weekly(store, period) == perf_data.reference_weekly(rows, period)
    late = Rows([Request("L-1", "V003", "RECON", "op2", "ready", T0 + timedelta(days=12, hours=9), None, "card", 900,
                         T0 + timedelta(days=30))],
                [Ticket("V001", "ticket.finish", T0 + timedelta(days=20), 600, 900)])
    perf_data.insert(store, late, first=5000)
    everything = Rows(rows.requests + late.requests, rows.tickets + late.tickets, rows.shifts)
    assert perf_summary.split(store._read, period.first, period.last).months == ()  # March has dirty days
    assert perf.table(store, period, "van") == perf_data.reference_table(everything, period, "van")
    perf_summary.refresh(store, today=today)
    assert perf_summary.split(store._read, period.first, period.last).months == parts.months
    for by in perf.GROUPINGS:
        assert perf.table(store, period, by) == perf_data.reference_table(everything, period, by)
    assert perf.weekly(store, period) == perf_data.reference_weekly(everything, period)


def test_the_fixed_sample_has_every_kind_of_figure(store):
    """The sample the screens' tests use: decisions in and out of time, no-shows, refunds, every method."""
    perf_data.clear(store)
    rows = perf_data.sample()
    perf_data.insert(store, rows)
    period = perf.Period(T0.date(), T0.date() + timedelta(days=45))
    (total,) = perf.table(store, period)
    assert total["received"] == 240 and 0 < total["in_time"] < total["timed"] <= total["decided"]
    assert total["decision_median_s"] <= total["decision_p90_s"]
    assert 0 < total["no_show_rate"] < 1 and total["wait_median_s"] <= total["wait_p90_s"]
    assert all(total[f"collected_{m}"] > 0 for m in perf.METHODS) and total["refunded"] > 0
    assert total["net"] == total["collected"] - total["refunded"]
    assert (total["shifts"], total["shifts_short"], total["shifts_over"], total["shift_difference"]) == (6, 2, 1, -1500)
    assert all(r["shift_difference"] is None for r in perf.table(store, period, "service"))  # shifts name no service
    assert {r["key"] for r in perf.table(store, period, "van")} == set(VANS)
    assert all(r["tickets"] is None for r in perf.table(store, period, "service"))  # tickets name no service
    assert perf.table(store, period, "van") == perf_data.reference_table(rows, period, "van")


@pytest.mark.parametrize(("first", "last", "en"), [
    ("2026-13-01", "", "YYYY-MM-DD"), ("yesterday", "2026-01-01", "YYYY-MM-DD"),
    ("2026-02-01", "2026-01-01", "before the start"), ("2024-01-01", "2026-01-01", "longer than"),
    ("0001-01-01", "0001-01-02", "between the years"), ("9999-12-30", "9999-12-31", "between the years"),
])
def test_a_bad_period_is_refused_in_both_languages(first, last, en):
    with pytest.raises(EdgeError) as caught:
        perf.parse_period(first, last, today=date(2026, 3, 10))
    assert en in caught.value.message_en and caught.value.message_ar
    assert not re.search("[0-9]", caught.value.message_ar), caught.value.message_ar  # Eastern digits in Arabic


def test_dates_typed_with_an_arabic_keyboard_are_read():
    period = perf.parse_period("٢٠٢٦-٠١-٠١", "٢٠٢٦-٠١-٣١", today=date(2026, 3, 10))
    assert (period.first, period.last) == (date(2026, 1, 1), date(2026, 1, 31))


@given(st.text(max_size=30), st.text(max_size=30))
def test_any_period_text_gives_a_period_or_a_bilingual_error(first, last):
    try:
        period = perf.parse_period(first, last, today=date(2026, 3, 10))
    except perf.PerformanceError as exc:
        assert exc.message_ar and exc.message_en
    else:
        assert period.first <= period.last and period.days <= perf.MAX_DAYS
        assert period.start < period.end  # the UTC bounds the SQL compares with


def test_an_empty_period_means_this_month_so_far():
    assert perf.parse_period("", None, today=date(2026, 3, 10)) == perf.Period(date(2026, 3, 1), date(2026, 3, 10))
    assert perf.month(2026, 12) == perf.Period(date(2026, 12, 1), date(2026, 12, 31))


def test_median_and_p90_are_the_nearest_rank_for_every_count(store):
    """⌈n/2⌉-th and ⌈0.9·n⌉-th smallest, n = 1 … 31 (one service per count), decisions and waits alike."""
    import math
    import random

    rnd = random.Random(3)
    rows = Rows()
    for n in range(1, 32):
        delays = list(range(1, n + 1))
        rnd.shuffle(delays)
        for i, d in enumerate(delays):
            submitted = T0 + timedelta(hours=1)
            rows.requests.append(Request(f"V001-{n:03d}{i:03d}", "V001", f"S{n:02d}", "op1", "ready", submitted,
                                         None, "cash", 0, submitted + timedelta(minutes=d)))
    perf_data.clear(store)
    perf_data.insert(store, rows)
    period = perf.Period(T0.date(), T0.date())
    for row in perf.table(store, period, "service"):
        n = int(row["key"][1:])
        assert (row["decision_median_s"], row["decision_p90_s"]) == (perf_summary.bucket(60 * math.ceil(n / 2)),
                                                                     perf_summary.bucket(60 * math.ceil(0.9 * n)))
    for n in (1, 9, 10, 19, 20, 70):  # 0.9 · 70 is 63.000000000000014 in floating point
        perf_data.clear(store)
        perf_data.insert(store, Rows([], [Ticket("V002", "ticket.finish", T0 + timedelta(hours=2), w, 60)
                                          for w in rnd.sample(range(1, n + 1), n)]))
        (row,) = perf.table(store, period, "van")
        assert (row["wait_median_s"], row["wait_p90_s"]) == (math.ceil(n / 2), math.ceil(0.9 * n))


def test_a_decision_records_when_the_request_was_first_decided(store):
    """backoffice.decide writes requests.decided_at with the ready/rejected decision, once; under review is none."""
    from governorate import backoffice
    from tests.support.gov_support import offline_hub

    perf_data.clear(store)
    submitted = T0 + timedelta(hours=3)
    perf_data.insert(store, Rows([Request("007-261121-0001-5", "V007", "BLD", "op1", "received", submitted,
                                          (T0 + timedelta(days=2)).date().isoformat(), "cash", 100)]))
    hub = offline_hub(store)

    def decided_at():
        return store._read("SELECT decided_at FROM requests WHERE number = '007-261121-0001-5'")[0][0]

    backoffice.decide(store, hub, "007-261121-0001-5", "under_review", None, "karim")
    assert decided_at() is None
    perf_summary.refresh(store, today=T0.date() + timedelta(days=3))  # the request's day summarised …
    assert perf_summary.state(store)["dirty"] == 0
    backoffice.decide(store, hub, "007-261121-0001-5", "ready", None, "karim")
    assert store._read("SELECT day FROM perf_dirty") == [("2026-03-01",)]  # … and dirty again with the decision
    audit = store._read("SELECT at, details FROM staff_audit WHERE subject = '007-261121-0001-5' ORDER BY id")
    assert '"ready"' in audit[-1][1]  # the audit's time is taken a moment after the decision's
    assert abs((datetime.fromisoformat(decided_at()) - datetime.fromisoformat(audit[-1][0])).total_seconds()) < 1
    (row,) = perf.table(store, perf.Period(T0.date(), T0.date() + timedelta(days=1000)))
    assert row["decided"] == 1 and row["timed"] == 1 and row["decision_median_s"] > 0


def test_m006_fills_the_decision_time_of_requests_decided_before_it(tmp_path, monkeypatch):
    from governorate import migrations

    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:5])
    monkeypatch.setattr(migrations, "LATEST", 5)
    old = HubStore(tmp_path / "hub.db")
    with old.transaction() as conn:
        for number, state in (("V001-1", "ready"), ("V001-2", "received"), ("V001-3", "delivered")):
            conn.execute("INSERT INTO requests (number, van, service_code, state, body, submitted_at, updated_at) "
                         "VALUES (?, 'V001', 'BLD', ?, ?, '2026-03-01T08:00:00+00:00', '2026-03-01T08:00:00+00:00')",
                         [number, state, '{"operator": "op7", "payment": {"method": "card", "amount_piastres": 500}}'])
        for at, number, to in (("2026-03-01T09:00:00+00:00", "V001-1", "under_review"),
                               ("2026-03-02T09:00:00+00:00", "V001-1", "ready"),
                               ("2026-03-03T09:00:00+00:00", "V001-3", "rejected")):
            conn.execute("INSERT INTO staff_audit (at, actor, action, subject, details) "
                         "VALUES (?, 'karim', 'request.decide', ?, ?)", [at, number, f'{{"to": "{to}"}}'])
    old.close()
    monkeypatch.undo()
    new = HubStore(tmp_path / "hub.db")
    try:
        assert new.migrated[0] == "m006_performance_figures"  # then any later ones
        assert sorted(new._read("SELECT number, decided_at, operator, pay_method, pay_piastres FROM requests")) == [
            ("V001-1", "2026-03-02T09:00:00+00:00", "op7", "card", 500), ("V001-2", None, "op7", "card", 500),
            ("V001-3", "2026-03-03T09:00:00+00:00", "op7", "card", 500)]
    finally:
        new.close()


places = st.none() | st.tuples(st.integers(-9_000_000, 9_000_000), st.integers(-18_000_000, 18_000_000))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=st.lists(st.tuples(st.sampled_from(VANS), seconds, places), max_size=40), period=periods,
       van=st.none() | st.sampled_from(VANS))
def test_demand_by_place_counts_each_request_in_the_cell_it_was_taken_in(store, drawn, period, van):
    # Requests at random places (both hemispheres, on a cell's edge too) and some without one: the SQL cells equal a
    # plain floor division of each place, on SQLite and PostgreSQL.
    perf_data.clear(store)
    with store.transaction() as conn:
        for n, (v, s, place) in enumerate(drawn):
            at = (T0 + timedelta(seconds=s)).isoformat()
            conn.execute("INSERT INTO requests (number, van, service_code, state, body, submitted_at, updated_at, "
                         "lat_e5, lon_e5) VALUES (?, ?, 'X', 'received', '{}', ?, ?, ?, ?)",
                         [f"N{n}", v, at, at, *(place or (None, None))])
    chosen = [(v, place) for v, s, place in drawn
              if period.start <= (T0 + timedelta(seconds=s)).isoformat() < period.end and (van is None or v == van)]
    cells: dict[tuple[int, int], list[str]] = {}
    for v, place in chosen:
        if place:
            key = ((place[0] + 9_000_000) // 1000, (place[1] + 18_000_000) // 1000)
            cells.setdefault(key, []).append(v)
    got = perf.demand(store, period, van)
    expected = sorted(({"lat": round(((cy + 0.5) * 1000 - 9_000_000) / 1e5, 4),
                        "lon": round(((cx + 0.5) * 1000 - 18_000_000) / 1e5, 4), "requests": len(vs),
                        "vans": len(set(vs))} for (cy, cx), vs in cells.items()),
                      key=lambda c: (-c["requests"], c["lat"], c["lon"]))
    assert sorted(got["cells"], key=lambda c: (-c["requests"], c["lat"], c["lon"])) == expected
    assert got["placed"] == sum(len(vs) for vs in cells.values())
    assert got["unplaced"] == sum(1 for _, place in chosen if not place)


def test_a_refund_summarised_before_its_request_arrived_counts_once_the_request_does(store):
    """A van's refund stored (and its day summarised) before the request it refunds — another worker, a resend:
    the request's arrival marks the refund's day dirty (the trigger finds its refunds by number)."""
    perf_data.clear(store)
    request = Request("V001-000001", "V001", "RECON", "op2", "cancelled", T0 + timedelta(days=1, hours=8), None,
                      "card", 5000, refund=(T0 + timedelta(days=3, hours=9), 5000))
    refund_only = perf_data.refund_messages(Rows([request]))
    with store.transaction() as conn:
        for row in refund_only:
            conn.execute("INSERT INTO messages (van, msg_id, stream, seq, kind, body, created_at, received_at) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
    today = T0.date() + timedelta(days=10)
    perf_summary.refresh(store, today=today)
    period = perf.Period(T0.date(), today)
    assert perf.table(store, period, "service") == []  # the hub lacks the request: the refund is left out
    with store.transaction() as conn:
        execute_values(conn, "INSERT INTO requests (number, van, service_code, state, body, submitted_at, updated_at)",
                       [perf_data.request_row(request)[:7]])
    assert ("2026-03-04",) in store._read("SELECT day FROM perf_dirty")  # the refund's day, not only the request's
    for by in perf.GROUPINGS:
        assert perf.table(store, period, by) == perf_data.reference_table(Rows([request]), period, by)
    perf_summary.refresh(store, today=today)
    assert perf_summary.state(store)["dirty"] == 0
    for by in perf.GROUPINGS:
        assert perf.table(store, period, by) == perf_data.reference_table(Rows([request]), period, by)


def test_m012_marks_every_day_with_data_dirty_and_the_refresh_summarises_them(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from governorate import migrations
    from governorate.cli import main

    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:11])
    monkeypatch.setattr(migrations, "LATEST", 11)
    old = HubStore(tmp_path / "hub.db")
    rows = perf_data.sample(days=20)
    perf_data.insert(old, rows)
    old.close()
    monkeypatch.undo()
    new = HubStore(tmp_path / "hub.db")
    try:
        assert new.migrated[:2] == ["m012_performance_summary", "m013_performance_buckets"]
        submitted = {perf_data._day(r.submitted) for r in rows.requests}
        ended = {perf_data._day(t.at) for t in rows.tickets}
        dirty = {date.fromisoformat(d) for (d,) in new._read("SELECT day FROM perf_dirty")}
        assert dirty == submitted | ended | {perf_data._day(r.refund[0]) for r in rows.requests if r.refund}
        period = perf.Period(T0.date() - timedelta(days=3), T0.date() + timedelta(days=30))
        before = [perf.table(new, period, by) for by in perf.GROUPINGS]
        assert before[1] == perf_data.reference_table(rows, period, "van")
        out = CliRunner().invoke(main, ["db", "summarise", "--db", str(tmp_path / "hub.db")])
        assert out.exit_code == 0, out.output
        assert perf_summary.state(new)["dirty"] == 0 and "0 dirty" in out.output
        assert new._read("SELECT count(*) FROM perf_weeks")[0][0] >= 2  # whole weeks made from their days
        assert [perf.table(new, period, by) for by in perf.GROUPINGS] == before
        assert perf.weekly(new, period) == perf_data.reference_weekly(rows, period)
    finally:
        new.close()


def test_m013_reads_the_days_summarised_to_the_second_raw_until_the_refresh_buckets_them(tmp_path):
    """A hub summarised under m012 (histograms to the second): after m013 every summarised day is dirty and no week
    is read, so the figures are the bucketed ones at once; the refresh then summarises them in buckets."""
    old = HubStore(tmp_path / "hub.db")
    rows = perf_data.sample(days=20)
    perf_data.insert(old, rows)
    today = T0.date() + timedelta(days=21)
    assert len(perf_summary.refresh(old, today=today)) >= 20
    with old.transaction() as conn:  # back to m012: its summary held whole seconds, not the buckets' values
        for table in ("perf_decisions", "perf_decision_vans", "perf_decisions_all", "perf_waits", "perf_waits_all"):
            conn.execute(f"UPDATE {table} SET seconds = seconds + 1 WHERE seconds >= ?", [perf_summary.EXACT])
        for table in ("perf_months", *(s.months for s in perf_summary.ALL)):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("DELETE FROM schema_migrations WHERE version = 13")
    (weeks,), = old._read("SELECT count(*) FROM perf_weeks")
    assert weeks >= 2 and perf_summary.state(old)["dirty"] == 0
    old.close()
    new = HubStore(tmp_path / "hub.db")
    try:
        assert new.migrated == ["m013_performance_buckets"]
        summarised = perf_summary.state(new)["summarised"]
        assert perf_summary.state(new)["dirty"] == summarised and new._read("SELECT count(*) FROM perf_weeks") == [(0,)]
        period = perf.Period(T0.date() - timedelta(days=3), T0.date() + timedelta(days=30))
        for by in perf.GROUPINGS:
            assert perf.table(new, period, by) == perf_data.reference_table(rows, period, by)
        assert len(perf_summary.refresh(new, today=today)) == summarised
        assert perf_summary.state(new)["dirty"] == 0 and new._read("SELECT count(*) FROM perf_weeks") == [(weeks,)]
        for by in perf.GROUPINGS:
            assert perf.table(new, period, by) == perf_data.reference_table(rows, period, by)
        stored = {int(v) for (v,) in new._read("SELECT seconds FROM perf_decisions UNION SELECT seconds FROM "
                                               "perf_waits UNION SELECT seconds FROM perf_decisions_weeks")}
        assert stored and all(perf_summary.bucket(v) == v for v in stored)
    finally:
        new.close()


def test_a_refresh_waits_for_a_write_to_a_day_it_summarises_and_sees_it(store):
    """PostgreSQL: a day dirty, a second write to it still open when the refresh starts. The refresh waits for that
    transaction (its lock on perf_dirty) and then summarises both writes: without the lock it would read the day
    without the second write and clear the mark, and the day would stay clean and short of a request."""
    import threading

    if store.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time: a refresh cannot run beside a write")
    perf_data.clear(store)
    rows = perf_data.sample(days=10)
    perf_data.insert(store, rows)
    today = T0.date() + timedelta(days=12)
    perf_summary.refresh(store, today=today)
    day = T0 + timedelta(days=3, hours=9)
    first, second = (Request(f"L-{n}", "V003", "RECON", "op3", "ready", day, None, "cash", 900,
                             day + timedelta(hours=n)) for n in (1, 2))
    perf_data.insert(store, Rows([first]), first=7000)  # committed: 2026-03-04 is dirty
    writer = HubStore(store.path)
    done: list = []
    try:
        with writer.transaction() as conn:
            execute_values(conn, "INSERT INTO requests (number, van, service_code, state, body, submitted_at, "
                           "updated_at, due_on, decided_at)", [perf_data.request_row(second)])
            refresh = threading.Thread(target=lambda: done.append(perf_summary.refresh(store, today=today)))
            refresh.start()
            refresh.join(1.5)
            assert refresh.is_alive()  # waiting for this transaction
        refresh.join(60)
    finally:
        writer.close()
    assert done == [[date(2026, 3, 4)]] and perf_summary.state(store)["dirty"] == 0
    period = perf.Period(T0.date(), today)
    everything = Rows(rows.requests + [first, second], rows.tickets, rows.shifts)
    for by in perf.GROUPINGS:
        assert perf.table(store, period, by) == perf_data.reference_table(everything, period, by)

"""Benchmark: the service-performance screens (issue 19) at a year of data for 50 vans, on PostgreSQL.

Seeds a throw-away PostgreSQL cluster (tests/support/gov_postgres, fsync on) with ≈ 50 vans × 300 working days ×
60 requests (900 000 requests with their request.submitted messages, a decision in the staff audit for most, one
finished or missed ticket per request, ticket.issued messages, refunds and deliveries), written server-side with
generate_series in the shapes the ingest and the back office write. Then asks the staff web app (the real Flask
app and templates, through its test client: no network in the figure) for each screen many times and prints each
one's p50 and p95 in milliseconds as JSON lines; the last line sums them up with the target (p95 < 500 ms).

After the seed, ``perf_summary.refresh`` summarises every day but the last (the screens' "today", read raw), as
the hub's timer does (m012; its time is printed). Screens: /performance by van, service and operator for the last
month of the data (what the screen opens on: this month), a van's monthly report, the CSV and XLSX exports of the
month's table, and by van, service and operator for a quarter and for the whole year. ``--raw`` also times the
quarter by van with every day marked dirty (what a screen costs before the refresh has run: the raw rows only).

    python -m bench.hub_performance [--vans 50] [--days 300] [--per-day 60] [--runs 15] [--raw] [--spread]
                                    [--statements]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time
from datetime import date, timedelta

from governorate import perf_summary, performance
from governorate.store import HubStore
from governorate.web import create_app
from tests.support import gov_postgres
from tests.support.gov_support import PASSWORD, USERS, add_staff, login, offline_hub

SERVICES = ("BLD-NEW", "BLD-RECON", "SHOP-LIC", "SHOP-RENEW", "DEMOLISH", "UTIL-CONN", "SIGNAGE", "OCCUPANCY")
LAST_DAY = date(2026, 11, 30)
GROUPS = ("van", "service", "operator")


def working_days(count: int, last: date = LAST_DAY) -> list[date]:
    """``count`` days back from ``last``, Fridays off (the vans work six days a week)."""
    days, day = [], last
    while len(days) < count:
        if day.weekday() != 4:
            days.append(day)
        day -= timedelta(days=1)
    return sorted(days)


# Every row in SQL on the server: a Python loop over 900 000 requests would take longer than the whole benchmark.
SEED = [
    """CREATE TEMP TABLE bench_requests AS
       SELECT format('V%%s-%%s-%%s', lpad(v::text, 3, '0'), to_char(d.day, 'YYMMDD'), lpad(n::text, 4, '0')) AS number,
              format('V%%s', lpad(v::text, 3, '0')) AS van, v, n, d.day,
              ((d.day + time '06:00') + n * interval '7 minutes' + (v %% 5) * interval '1 minute') AS at,
              (ARRAY[%(services)s])[1 + (v * 7 + n) %% 8] AS service,
              CASE WHEN (v + n + extract(doy from d.day)::int) %% 20 < 2 THEN 'cancelled'
                   WHEN (v + n) %% 10 < 5 THEN 'delivered' WHEN (v + n) %% 10 < 7 THEN 'ready'
                   WHEN (v + n) %% 10 < 8 THEN 'rejected' ELSE 'received' END AS state,
              (ARRAY['cash', 'card', 'reference'])[1 + (v + 2 * n) %% 3] AS method,
              (ARRAY[0, 5000, 12500, 30000, 75000])[1 + (n * 3 + v) %% 5] AS amount,
              ((v * 31 + n * 17) %% 400) AS decide_h,
              5 + (v + n) %% 20 AS legal_days
       FROM bench_days d CROSS JOIN generate_series(1, %(vans)s) v CROSS JOIN generate_series(1, %(per_day)s) n""",
    # decided_at as backoffice.decide writes it with a ready/rejected decision (the audit row below).
    # Where each request was taken (m011): each van works at one of five places a week apart, about 0.7 km apart, and
    # one request in ten has no place (an older van, no GPS fix).
    """INSERT INTO requests (number, van, service_code, state, body, submitted_at, updated_at, due_on, decided_at,
                             lat_e5, lon_e5)
       SELECT number, van, service, state,
              json_build_object('number', number, 'van', van, 'service_code', service, 'catalogue_version', 3,
                'citizen', json_build_object('national_id', '2900101' || lpad(n::text, 7, '0'),
                  'name', 'محمد أحمد علي حسن ' || n, 'mobile', '0100' || lpad((v * 1000 + n)::text, 7, '0'),
                  'birth_date', '1990-01-01', 'gender', 'male'),
                'fee_piastres', amount, 'operator', format('op%%s-%%s', v, n %% 3), 'submitted_at', %(at)s,
                'expected_ready_on', to_char(day + legal_days, 'YYYY-MM-DD'),
                'payment', json_build_object('method', method, 'amount_piastres', amount,
                  'reference', CASE WHEN method = 'reference' THEN 'FWRY' || n END),
                'originals_seen', json_build_array('NID', 'DEED'))::text,
              %(at)s, %(at)s, to_char(day + legal_days, 'YYYY-MM-DD'),
              CASE WHEN state IN ('ready', 'rejected', 'delivered') THEN %(decided)s END,
              CASE WHEN n %% 10 <> 0 THEN 2980000 + v * 1700 + ((extract(week from day)::int + v) %% 5) * 700 END,
              CASE WHEN n %% 10 <> 0 THEN 3110000 + ((v * 37 + extract(week from day)::int) %% 40) * 600 END
       FROM bench_requests""",
    """INSERT INTO staff_audit (at, actor, action, subject, details)
       SELECT %(decided)s, 'karim', 'request.decide', number,
              json_build_object('from', 'received', 'to', CASE WHEN state = 'rejected' THEN 'rejected' ELSE 'ready' END,
                                'reason', CASE WHEN state = 'rejected' THEN 'نقص مستند' END)::text
       FROM bench_requests WHERE state IN ('ready', 'rejected', 'delivered')""",
    """INSERT INTO staff_audit (at, actor, action, subject, details)
       SELECT %(review)s, 'karim', 'request.decide', number,
              json_build_object('from', 'received', 'to', 'under_review', 'reason', NULL)::text
       FROM bench_requests WHERE n %% 4 = 0""",
    """INSERT INTO messages (van, msg_id, stream, seq, kind, body, created_at, received_at)
       SELECT b.van, 'S' || number, 'tx', n, 'request.submitted', r.body, r.submitted_at, r.submitted_at
       FROM bench_requests b JOIN requests r USING (number)""",
    """INSERT INTO messages (van, msg_id, stream, seq, kind, body, created_at, received_at)
       SELECT van, 'I' || number, 'tx', n, 'ticket.issued', %(ticket)s, %(issued)s, %(issued)s FROM bench_requests""",
    """INSERT INTO messages (van, msg_id, stream, seq, kind, body, created_at, received_at)
       SELECT van, 'F' || number, 'tx', n, CASE WHEN n %% 9 = 0 THEN 'ticket.no_show' ELSE 'ticket.finish' END,
              %(ticket)s, %(finished)s, %(finished)s FROM bench_requests""",
    """INSERT INTO messages (van, msg_id, stream, seq, kind, body, created_at, received_at)
       SELECT van, 'D' || number, 'tx', n, 'request.state',
              json_build_object('number', number, 'state', 'delivered', 'reason', NULL, 'at', %(delivered)s)::text,
              %(delivered)s, %(delivered)s FROM bench_requests WHERE state = 'delivered'""",
    """INSERT INTO messages (van, msg_id, stream, seq, kind, body, created_at, received_at)
       SELECT van, 'R' || number, 'tx', n, 'request.refunded',
              json_build_object('number', number, 'amount_piastres', amount, 'method', method,
                                'reason', 'ألغاه المواطن', 'operator', 'op1', 'confirmed_by', 'op1',
                                'at', %(refunded)s)::text,
              %(refunded)s, %(refunded)s FROM bench_requests WHERE state = 'cancelled' AND amount > 0""",
    "INSERT INTO vans (van, online, session) SELECT DISTINCT van, 1, 1 FROM bench_requests",
    "VACUUM ANALYZE",  # what autovacuum does on a live hub: the visibility map lets index-only scans skip the rows
]


def _utc(expr: str) -> str:
    return f"to_char(({expr}), 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')"


def seed(url: str, vans: int, days: int, per_day: int, spread: bool = False) -> dict:
    """``spread``: times to decision and waits to the second (a spread of 3 600 and 60 seconds more), as real ones
    are, instead of whole hours and minutes: the summary's histograms then have as many values as real ones would."""
    import psycopg

    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE bench_days (day date)")
        with conn.cursor().copy("COPY bench_days (day) FROM STDIN") as copy:
            for day in working_days(days):
                copy.write_row([day])
        issued = "at - interval '20 minutes'"
        called = f"{issued} + ((v * 13 + n * 29) % 50) * interval '1 minute'"
        decided = "at + decide_h * interval '1 hour'"
        if spread:
            doy = "extract(doy from day)::int"
            called += f" + ((v * 131 + n * 17 + {doy} * 7) % 60) * interval '1 second'"
            decided += f" + ((v * 7919 + n * 104729 + {doy} * 31) % 3600) * interval '1 second'"
        started = f"{called} + interval '1 minute'"
        finished = f"{started} + interval '11 minutes'"
        missed = "n % 9 = 0"  # every ninth ticket is a no-show: never called, started or finished
        values = {
            "services": ", ".join(f"'{s}'" for s in SERVICES), "vans": vans, "per_day": per_day,
            "at": _utc("at"), "decided": _utc(decided),
            "review": _utc("at + interval '2 hours'"), "issued": _utc(issued),
            "finished": _utc(f"CASE WHEN {missed} THEN {issued} + interval '1 hour' ELSE {finished} END"),
            "delivered": _utc("at + (decide_h + 48) * interval '1 hour'"),
            "refunded": _utc("at + interval '1 hour'"),
            "ticket": (
                "json_build_object('number', 'A-' || lpad(n::text, 3, '0'), 'series', 'A', 'seq', n, "
                f"'category', 'general', 'priority', 'normal', 'state', CASE WHEN {missed} THEN 'no_show' "
                f"ELSE 'served' END, 'issued_at', {_utc(issued)}, "
                f"'called_at', CASE WHEN {missed} THEN NULL ELSE {_utc(called)} END, 'counter', 1 + n % 3, "
                f"'recalls', 0, 'started_at', CASE WHEN {missed} THEN NULL ELSE {_utc(started)} END, "
                f"'finished_at', CASE WHEN {missed} THEN NULL ELSE {_utc(finished)} END, "
                "'transferred_to', NULL, 'transferred_from', NULL)::text"),
        }
        for sql in SEED:
            conn.execute(sql % values if "%(" in sql else sql.replace("%%", "%"))
        counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("requests", "staff_audit", "messages")}
    return {"seed_s": round(time.perf_counter() - began, 1), **counts}


def measure(client, path: str, runs: int) -> dict:
    times, size, status = [], 0, None
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        size, status = len(response.get_data()), response.status_code
    times.sort()
    return {"screen": path, "status": status, "bytes": size, "runs": runs,
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[min(len(times) - 1, -(-95 * len(times) // 100) - 1)], 1)}


def statements(store, client, path: str) -> list[dict]:
    """Each SQL statement the screen's figures run (performance.reading's), slowest first, with its time."""
    timings = []
    original = performance.reading

    @contextlib.contextmanager
    def timed(store_):
        with original(store_) as read:
            def clocked(sql, params=()):
                began = time.perf_counter()
                rows = read(sql, params)
                timings.append({"ms": round((time.perf_counter() - began) * 1000, 1), "rows": len(rows),
                                "sql": " ".join(sql.split())[:160]})
                return rows
            yield clocked
    performance.reading = timed
    try:
        client.get(path)
    finally:
        performance.reading = original
    return sorted(timings, key=lambda t: -t["ms"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vans", type=int, default=50)
    parser.add_argument("--days", type=int, default=300)
    parser.add_argument("--per-day", type=int, default=60)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--raw", action="store_true", help="also time the quarter by van with every day dirty")
    parser.add_argument("--spread", action="store_true", help="decision times and waits to the second (see seed)")
    parser.add_argument("--statements", action="store_true", help="time each statement of the year by van")
    args = parser.parse_args()
    if not gov_postgres.available():
        print(json.dumps({"error": "PostgreSQL server binaries or psycopg are not installed"}))
        return
    cluster = gov_postgres.Cluster().start()
    try:
        url = cluster.create_database("perf")
        store = HubStore(url)  # the schema, with m006's indexes
        add_staff(store)
        seeded = seed(url, args.vans, args.days, args.per_day, args.spread)
        print(json.dumps({"phase": "seed", **seeded}), flush=True)
        began = time.perf_counter()
        days = perf_summary.refresh(store, today=LAST_DAY)  # the last day is "today": read raw
        with store.transaction() as conn:
            conn.execute("ANALYZE")  # what autovacuum does after the refresh's inserts
        histograms = {table: store._read(f"SELECT count(*) FROM {table}")[0][0]
                      for name in ("perf_decision_vans", "perf_waits", "perf_services")
                      for table in (name, f"{name}_weeks", f"{name}_months")}
        print(json.dumps({"phase": "refresh", "days": len(days), "seconds": round(time.perf_counter() - began, 1),
                          **perf_summary.state(store), "histogram_rows": histograms}), flush=True)
        app = create_app({"DB_PATH": url, "STORE": store, "SECRET_KEY": b"b" * 32, "SENDER": offline_hub(store)})
        client = app.test_client()
        login(client, "viewer")
        assert USERS and PASSWORD
        month = f"from={LAST_DAY.replace(day=1)}&to={LAST_DAY}"
        quarter = f"from={(LAST_DAY - timedelta(days=91)).replace(day=1)}&to={LAST_DAY}"
        year = f"from={working_days(args.days)[0]}&to={LAST_DAY}"
        screens = [f"/performance?{month}&by=van", f"/performance?{month}&by=service",
                   f"/performance?{month}&by=operator", f"/performance?{month}&by=service&van=V001",
                   f"/performance/vans/V001/report?month={LAST_DAY:%Y-%m}",
                   f"/performance/export/figures.csv?{month}&by=operator",
                   f"/performance/export/all.xlsx?{month}&by=van",
                   *(f"/performance?{span}&by={by}" for span in (quarter, year) for by in GROUPS)]
        results = []
        for path in screens:
            client.get(path)  # warm: the first answer also compiles the templates
            result = measure(client, path, args.runs if year not in path else max(3, args.runs // 3))
            results.append(result)
            print(json.dumps(result), flush=True)
        if args.statements:  # where the year by van spends its time, statement by statement
            print(json.dumps({"statements": statements(store, client, f"/performance?{year}&by=van")}), flush=True)
        if args.raw:  # every day dirty: the screen reads the raw rows only
            with store.transaction() as conn:
                conn.execute("INSERT INTO perf_dirty (day) SELECT day FROM perf_days ON CONFLICT DO NOTHING")
            path = f"/performance?{quarter}&by=van"
            result = {**measure(client, path, max(3, args.runs // 3)), "every_day_dirty": True}
            print(json.dumps(result), flush=True)
            if args.statements:
                print(json.dumps({"statements_every_day_dirty": statements(store, client, path)}), flush=True)
        print(json.dumps({
            "phase": "summary", "requests": seeded["requests"], "target_p95_ms": 500,
            "max_p95_ms": max(r["p95_ms"] for r in results),
            "within_target": all(r["p95_ms"] < 500 for r in results),
            **{f"{span}_by_{by}_p95_ms": r["p95_ms"] for r in results for span, text in (("quarter", quarter),
               ("year", year)) for by in GROUPS if r["screen"] == f"/performance?{text}&by={by}"},
        }), flush=True)
        store.close()
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()

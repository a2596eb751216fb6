"""The hub's numbered schema migrations (governorate/migrations.py), on SQLite and, where its server binaries are
installed, a real PostgreSQL: a new database, one made before migrations existed (with rows), running again,
several processes starting at once, a database newer than the code, a migration that fails half-way."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
import uuid

import pytest

from governorate import migrations, staff
from governorate.migrations import LATEST, MIGRATIONS, HubSchemaError, Migration
from governorate.store import HubStore, _PgConnection
from tests.support import gov_postgres
from tests.support.gov_support import BACKENDS, hub_target
from tests.support.paths import ROOT

PASSWORD = "correct horse battery"
ARABIC = re.compile(r"[\u0600-\u06FF]")
SIGN_IN_COLUMNS = {"failed_logins", "failed_since", "locked_until", "session_version"}
TABLES = {"messages", "vans", "requests", "thumbnails", "doc_chunks", "documents", "doc_receipts", "downlinks",
          "telemetry_history", "quarantine", "parked_states", "request_conflicts", "staff", "staff_audit", "alerts",
          "notifications", "publications", "schema_migrations", "shifts", "update_offers", "rollouts",
          # m012: the performance screens' per-day summary (governorate/perf_summary.py)
          "perf_days", "perf_dirty", "perf_requests", "perf_request_vans", "perf_decisions", "perf_decision_vans",
          "perf_tickets", "perf_waits", "perf_services", "perf_refunds", "perf_refund_vans", "perf_places",
          "perf_decisions_all", "perf_waits_all", "perf_services_all", "perf_weeks",
          # m013: the same per calendar month
          "perf_months",
          *(f"{t}_{span}" for t in ("perf_requests", "perf_request_vans", "perf_decisions", "perf_decision_vans",
                                    "perf_tickets", "perf_waits", "perf_services", "perf_refunds", "perf_refund_vans",
                                    "perf_places", "perf_decisions_all", "perf_waits_all", "perf_services_all")
            for span in ("weeks", "months"))}
# The names of the migrations, in order: the first ones are frozen (the oracle); later ones are appended.
NAMES = [m.name for m in MIGRATIONS]
assert NAMES[:6] == ["m001_initial", "m002_staff_sign_in", "m003_wide_sequence_numbers", "m004_request_due_dates",
                     "m005_shifts", "m006_performance_figures"]

# The schema as the hub created it before migrations existed (store.py's SCHEMA, copied here as it was): the staff
# table has no sign-in columns (governorate/staff.py's ensure_columns added them when the web app opened it).
OLD_SCHEMA = [
    # Every stored uplink message, exactly once: the key is what makes a re-sent message harmless.
    """CREATE TABLE IF NOT EXISTS messages (
        van TEXT NOT NULL,
        msg_id TEXT NOT NULL,
        stream TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (van, msg_id)
    )""",
    "CREATE INDEX IF NOT EXISTS messages_by_stream ON messages(van, stream, seq)",
    # The overview counts today's requests and tickets every few seconds: without this it reads every message.
    "CREATE INDEX IF NOT EXISTS messages_by_kind ON messages(kind, created_at)",
    """CREATE TABLE IF NOT EXISTS vans (
        van TEXT PRIMARY KEY,
        online INTEGER NOT NULL DEFAULT 0,
        session INTEGER NOT NULL DEFAULT 0,
        last_seen TEXT,
        telemetry TEXT,
        telemetry_at TEXT
    )""",
    # Requests as the back office sees them, projected from the tx stream.
    """CREATE TABLE IF NOT EXISTS requests (
        number TEXT PRIMARY KEY,
        van TEXT NOT NULL,
        service_code TEXT NOT NULL,
        state TEXT NOT NULL,
        body TEXT NOT NULL,
        submitted_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    # The latest picture of each van camera, asked for from the van page ("camera-thumbnail").
    """CREATE TABLE IF NOT EXISTS thumbnails (
        van TEXT NOT NULL,
        camera TEXT NOT NULL,
        taken_at TEXT NOT NULL,
        jpeg BLOB NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (van, camera)
    )""",
    """CREATE TABLE IF NOT EXISTS doc_chunks (
        van TEXT NOT NULL,
        doc_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (van, doc_id, idx)
    )""",
    """CREATE TABLE IF NOT EXISTS documents (
        van TEXT NOT NULL,
        doc_id TEXT NOT NULL,
        request_number TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        data BLOB NOT NULL,
        completed_at TEXT NOT NULL,
        PRIMARY KEY (van, doc_id)
    )""",
    # How many chunk messages arrived in all (repeats included): shows that uploads resume.
    """CREATE TABLE IF NOT EXISTS doc_receipts (
        van TEXT NOT NULL,
        doc_id TEXT NOT NULL,
        received INTEGER NOT NULL,
        PRIMARY KEY (van, doc_id)
    )""",
    # What the hub sent down, until the van reports it applied (re-sent on each birth until then).
    """CREATE TABLE IF NOT EXISTS downlinks (
        msg_id TEXT PRIMARY KEY,
        van TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload BLOB NOT NULL,
        created_at TEXT NOT NULL,
        applied_at TEXT,
        outcome TEXT,
        error TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS downlinks_pending ON downlinks(van) WHERE applied_at IS NULL",
    # Telemetry over time for the van page's charts: at most one snapshot per van per minute is kept
    # (500 vans every 10 s would otherwise add 4 million rows a day).
    """CREATE TABLE IF NOT EXISTS telemetry_history (
        van TEXT NOT NULL,
        at TEXT NOT NULL,
        "values" TEXT NOT NULL,
        PRIMARY KEY (van, at)
    )""",
    # Van messages the hub refused, kept once each with the reason (governorate/quarantine.py).
    """CREATE TABLE IF NOT EXISTS quarantine (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        van TEXT NOT NULL,
        msg_key TEXT NOT NULL,
        stream TEXT NOT NULL,
        kind TEXT NOT NULL,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL,
        payload BLOB NOT NULL,
        received_at TEXT NOT NULL,
        UNIQUE (van, msg_key)
    )""",
    "CREATE INDEX IF NOT EXISTS quarantine_by_time ON quarantine(received_at)",
    # A request's state change that arrived before the request itself: applied when the request arrives.
    """CREATE TABLE IF NOT EXISTS parked_states (
        van TEXT NOT NULL,
        msg_id TEXT NOT NULL,
        number TEXT NOT NULL,
        seq INTEGER NOT NULL,
        body TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (van, msg_id)
    )""",
    "CREATE INDEX IF NOT EXISTS parked_by_number ON parked_states(number)",
    # A request number sent again with other content (a van restored from a backup, a van bug): both
    # messages are kept, the hub's request stays the first, and staff see the conflict.
    """CREATE TABLE IF NOT EXISTS request_conflicts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        van TEXT NOT NULL,
        number TEXT NOT NULL,
        msg_id TEXT NOT NULL,
        detail TEXT NOT NULL,
        received_at TEXT NOT NULL,
        UNIQUE (van, msg_id)
    )""",
    # --- the back office (governorate/web) ---
    """CREATE TABLE IF NOT EXISTS staff (
        username TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'clerk', 'admin')),
        governorate TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL
    )""",
    # Every back-office action, who and when: decisions reach citizens, so they must be traceable.
    """CREATE TABLE IF NOT EXISTS staff_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT,
        details TEXT NOT NULL DEFAULT '{}'
    )""",
    # An alert is one (van, kind) condition from when it was first seen until it clears.
    """CREATE TABLE IF NOT EXISTS alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        van TEXT NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL,
        raised_at TEXT NOT NULL,
        cleared_at TEXT,
        acked_by TEXT,
        acked_at TEXT
    )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS alerts_open ON alerts(van, kind) WHERE cleared_at IS NULL",
    """CREATE TABLE IF NOT EXISTS notifications (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        request_number TEXT NOT NULL,
        mobile TEXT,
        message TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at TEXT NOT NULL,
        sent_by TEXT NOT NULL
    )""",
    # Catalogue versions and trust lists published to the fleet.
    """CREATE TABLE IF NOT EXISTS publications (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        version INTEGER,
        size INTEGER NOT NULL,
        vans INTEGER NOT NULL,
        actor TEXT NOT NULL,
        at TEXT NOT NULL
    )""",
]


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request):
    """("sqlite", None) or ("postgresql", a running throw-away cluster), once per module."""
    if request.param == "sqlite":
        yield "sqlite", None
        return
    cluster = gov_postgres.Cluster().start()
    try:
        yield "postgresql", cluster
    finally:
        cluster.stop()


@pytest.fixture
def target(backend, tmp_path) -> str:
    """A new, empty database: a SQLite file path or a postgresql:// URL."""
    kind, cluster = backend
    if kind == "sqlite":
        return str(tmp_path / "hub.db")
    return cluster.create_database(f"m{uuid.uuid4().hex[:12]}")


def raw(target: str):
    """A connection that does not migrate (HubStore does): SQLite-dialect SQL on either database."""
    if target.startswith("postgresql://"):
        return _PgConnection(target)
    return sqlite3.connect(target, isolation_level=None)


def tables(store: HubStore) -> set[str]:
    if store.dialect == "postgresql":
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    return {r[0] for r in store._read(sql)}


def columns(store: HubStore, table: str) -> list[str]:
    with store._lock:
        return [d[0] for d in store.conn.execute(f"SELECT * FROM {table} LIMIT 0").description]


def recorded(store: HubStore) -> list[tuple]:
    return [tuple(r) for r in store._read("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")]


def schema_of(store: HubStore) -> list[tuple]:
    """Every table's columns with their types and defaults, and every index: to see that nothing changed."""
    if store.dialect == "postgresql":
        cols = store._read("SELECT table_name, column_name, data_type, column_default, is_nullable "
                           "FROM information_schema.columns WHERE table_schema = current_schema() "
                           "ORDER BY table_name, ordinal_position")
        indexes = store._read("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                              "ORDER BY indexname")
        return [tuple(r) for r in cols + indexes]
    return [tuple(r) for r in store._read("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")]


# --- a new database ----------------------------------------------------------------------------------------


def migration_index(name: str) -> int:
    """Where migration ``name`` stands in MIGRATIONS: a hub stopped just before it knows this many."""
    return [m.name for m in MIGRATIONS].index(name)


def open_knowing(monkeypatch, target: str, count: int | None = None) -> HubStore:
    """The hub at ``target`` opened by code that knows only the first ``count`` migrations (None: all of them)."""
    monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS if count is None else list(MIGRATIONS)[:count])
    return HubStore(target)


def test_a_new_database_is_made_at_the_current_version(target):
    store = HubStore(target)
    try:
        assert store.migrated == NAMES
        assert migrations.version(store) == LATEST == len(NAMES)
        assert [r[:2] for r in recorded(store)] == list(enumerate(NAMES, 1))
        assert tables(store) == TABLES
        assert SIGN_IN_COLUMNS <= set(columns(store, "staff"))
    finally:
        store.close()


# --- a database from before migrations ----------------------------------------------------------------------

ROWS = {  # table -> {column: value}: one row each, to find again after the migration
    "messages": {"van": "VAN-01", "msg_id": "01HX", "stream": "tx", "seq": 7, "kind": "request.created",
                 "body": '{"number": "R1"}', "created_at": "2026-11-01T09:00:00+00:00",
                 "received_at": "2026-11-01T09:00:01+00:00"},
    "vans": {"van": "VAN-01", "online": 1, "session": 4, "last_seen": "2026-11-01T09:00:01+00:00"},
    "requests": {"number": "R1", "van": "VAN-01", "service_code": "birth-cert", "state": "submitted", "body": "{}",
                 "submitted_at": "2026-11-01T09:00:00+00:00", "updated_at": "2026-11-01T09:00:00+00:00"},
    "quarantine": {"van": "VAN-02", "msg_key": "k1", "stream": "tx", "kind": "request.created", "reason": "schema",
                   "detail": "bad", "payload": b"\x00\x01", "received_at": "2026-11-01T09:00:02+00:00"},
}


def make_old_database(target: str, had_columns: tuple[str, ...] = ()) -> None:
    """A hub database as the releases before migrations left it, with rows; ``had_columns``: the sign-in columns
    ensure_columns had already added to its staff table (with values), as on a hub whose web app had run."""
    conn = raw(target)
    try:
        conn.execute("BEGIN")
        for sql in OLD_SCHEMA:
            conn.execute(sql)
        for table, row in ROWS.items():
            conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                         list(row.values()))
        conn.execute("INSERT INTO staff (username, name, role, governorate, password_hash, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     ["vera", "Viewer Person", "viewer", "01", staff._hasher.hash(PASSWORD), "2026-10-01T08:00:00"])
        declarations = {"failed_logins": "INTEGER NOT NULL DEFAULT 0", "failed_since": "TEXT",
                        "locked_until": "TEXT", "session_version": "INTEGER NOT NULL DEFAULT 0"}
        for name in had_columns:
            conn.execute(f"ALTER TABLE staff ADD COLUMN {name} {declarations[name]}")
        if "session_version" in had_columns:
            conn.execute("UPDATE staff SET session_version = 3")
        conn.execute("COMMIT")
    finally:
        conn.close()


@pytest.mark.parametrize("had_columns", [(), ("failed_logins", "failed_since", "locked_until", "session_version"),
                                         ("failed_logins", "session_version")],
                         ids=["never-ensured", "ensure_columns-ran", "some-columns"])
def test_a_database_from_before_migrations_is_brought_up_to_date_with_its_rows(target, had_columns):
    make_old_database(target, had_columns)
    store = HubStore(target)
    try:
        assert store.migrated == NAMES
        assert migrations.version(store) == LATEST
        assert tables(store) == TABLES
        staff_columns = columns(store, "staff")
        assert SIGN_IN_COLUMNS <= set(staff_columns) and len(staff_columns) == len(set(staff_columns))
        # The rows are all there, as they were.
        for table, row in ROWS.items():
            rows = store._read(f"SELECT {', '.join(row)} FROM {table}")
            assert len(rows) == 1, table
            assert [bytes(v) if isinstance(v, memoryview) else v for v in rows[0]] == list(row.values()), table
        assert store.van("VAN-01")["session"] == 4
        expected_version = 3 if "session_version" in had_columns else 0
        assert store._read("SELECT failed_logins, locked_until, session_version FROM staff") == [
            (0, None, expected_version)]
        # … and the hub works on them: the staff member signs in, and a new row follows the old ones' ids.
        user, locked = staff.sign_in(store, "vera", PASSWORD, "01")
        assert locked is None and user["username"] == "vera" and user["session_version"] == expected_version
        with store.transaction() as conn:
            conn.execute("INSERT INTO quarantine (van, msg_key, stream, kind, reason, detail, payload, received_at) "
                         "VALUES ('VAN-02', 'k2', 'tx', 'x', 'schema', '', ?, '2026-11-02')", [b""])
        assert [r[0] for r in store._read("SELECT id FROM quarantine ORDER BY id")] == [1, 2]
    finally:
        store.close()


# --- again, and at the same moment --------------------------------------------------------------------------


def test_migrating_again_changes_nothing(target):
    HubStore(target).close()
    first = HubStore(target)
    try:
        before = (recorded(first), schema_of(first))
        assert first.migrated == []
        assert migrations.migrate(first) == []
        assert (recorded(first), schema_of(first)) == before
    finally:
        first.close()
    again = HubStore(target)
    try:
        assert again.migrated == [] and (recorded(again), schema_of(again)) == before
    finally:
        again.close()


RACER = """
import json, sys, time
from governorate import migrations
from governorate.store import HubStore
target, at = sys.argv[1], float(sys.argv[2])
time.sleep(max(0.0, at - time.time()))  # every process opens the database at the same moment
store = HubStore(target)
print(json.dumps({"applied": store.migrated, "version": migrations.version(store)}))
"""


@pytest.mark.parametrize("old", [False, True], ids=["new", "from-before-migrations"])
def test_processes_starting_together_migrate_once_and_agree(target, old):
    if old:
        make_old_database(target)
    at = time.time() + 4  # after every process has imported the hub's code
    racers = [subprocess.Popen([sys.executable, "-c", RACER, target, str(at)], cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(6)]
    results = []
    for racer in racers:
        out, err = racer.communicate(timeout=60)
        assert racer.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert {r["version"] for r in results} == {LATEST}
    # Each migration was applied by exactly one of them.
    applied = sorted(name for r in results for name in r["applied"])
    assert applied == [m.name for m in MIGRATIONS]
    store = HubStore(target)
    try:
        assert store.migrated == [] and [r[0] for r in recorded(store)] == list(range(1, LATEST + 1))
        assert tables(store) == TABLES and SIGN_IN_COLUMNS <= set(columns(store, "staff"))
    finally:
        store.close()


# --- a database newer than this code ------------------------------------------------------------------------


def _make_newer(target: str) -> list[tuple]:
    store = HubStore(target)
    try:
        with store.transaction() as conn:
            conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                         [LATEST + 1, f"m{LATEST + 1:03d}_from_the_future", "2027-01-01T00:00:00+00:00"])
        return recorded(store)
    finally:
        store.close()


def test_a_database_newer_than_the_code_is_refused_in_both_languages(target):
    before = _make_newer(target)
    with pytest.raises(HubSchemaError) as refused:
        HubStore(target)
    error = refused.value
    assert error.code == "hub-schema-too-new"
    assert f"schema version {LATEST + 1}" in error.message_en and f"({LATEST})" in error.message_en
    assert "newer release" in error.message_en
    assert ARABIC.search(error.message_ar) and str(LATEST + 1) in error.message_ar
    conn = raw(target)  # nothing was changed
    try:
        assert [tuple(r) for r in conn.execute("SELECT version, name, applied_at FROM schema_migrations "
                                                "ORDER BY version").fetchall()] == before
    finally:
        conn.close()


def governorate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "governorate.cli", *args], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)


def test_governorate_db_migrate_prints_the_version_and_refuses_a_newer_database(target):
    out = governorate("db", "migrate", "--db", target)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith(f"schema version {LATEST} ({', '.join(NAMES)})"), out.stdout
    out = governorate("db", "migrate", "--db", target)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith(f"schema version {LATEST} (nothing to apply)"), out.stdout
    _make_newer(target)
    out = governorate("db", "migrate", "--db", target)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    line = out.stderr.strip().splitlines()[-1]
    assert f"schema version {LATEST + 1}, newer than this software" in line and ARABIC.search(line), line


# --- each migration in its own transaction ------------------------------------------------------------------


def test_a_migration_that_fails_leaves_the_database_at_the_version_before_it(target, monkeypatch):
    HubStore(target).close()

    def m005_broken(conn, dialect):
        conn.execute("CREATE TABLE half_done (x INTEGER)")
        conn.execute("INSERT INTO staff (username) VALUES ('nobody')")  # NOT NULL columns missing: fails

    broken = LATEST + 1
    monkeypatch.setattr(migrations, "MIGRATIONS",
                        [*MIGRATIONS, Migration(broken, f"m{broken:03d}_broken", m005_broken)])
    monkeypatch.setattr(migrations, "LATEST", broken)
    with pytest.raises(Exception, match="(?i)not.null"):
        HubStore(target)
    monkeypatch.undo()
    store = HubStore(target)
    try:
        assert [r[0] for r in recorded(store)] == list(range(1, LATEST + 1)) and "half_done" not in tables(store)
    finally:
        store.close()


def test_the_due_dates_of_requests_already_stored_are_filled_in(target, monkeypatch):
    # m004 (issue 19): a hub that already holds requests gets their due dates from their bodies.
    monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS[:3])
    monkeypatch.setattr(migrations, "LATEST", 3)
    store = HubStore(target)
    try:
        with store.transaction() as conn:
            for number, body in [("007-261121-0001-5", {"expected_ready_on": "2026-12-21"}),
                                 ("007-261121-0002-3", {"no": "date"})]:
                conn.execute("INSERT INTO requests (number, van, service_code, state, body, submitted_at, updated_at) "
                             "VALUES (?, 'V007', 'BLD-NEW', 'received', ?, '2026-11-21T08:00:00+00:00', "
                             "'2026-11-21T08:00:00+00:00')", [number, json.dumps(body)])
    finally:
        store.close()
    monkeypatch.undo()
    store = HubStore(target)
    try:
        assert store.migrated == NAMES[3:]
        assert sorted(store._read("SELECT number, due_on FROM requests")) == [
            ("007-261121-0001-5", "2026-12-21"), ("007-261121-0002-3", None)]
    finally:
        store.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_m016_upgrades_a_database_at_m015_with_vans(backend, tmp_path, monkeypatch):
    # Review: the retired vans column on a hub that already has vans (heard from, and added but never heard from).
    from datetime import UTC, datetime

    from governorate import fleet

    with hub_target(backend, tmp_path, "up") as target:
        s = open_knowing(monkeypatch, target, migration_index("m016_retired_vans"))
        with s.transaction() as conn:  # as the m015 hub wrote them (its code is not this one)
            conn.execute("INSERT INTO vans (van, online, session, last_seen, telemetry) VALUES ('V007', 1, 3, ?, ?)",
                         [datetime.now(UTC).isoformat(), json.dumps({"device.printer": "ok"})])
            conn.execute("INSERT INTO vans (van) VALUES ('V050')")
        s.close()
        s = open_knowing(monkeypatch, target)
        assert s.migrated[0] == "m016_retired_vans"
        rows = {v["van"]: v for v in fleet.overview(s, fleet.Thresholds(), retired=True)}
        assert rows["V007"]["status"] == "online" and rows["V007"]["session"] == 3
        assert rows["V050"]["status"] == "never" and rows["V050"]["session"] is None
        done = fleet.remove(s, ["V007", "V050"])
        assert (done.removed, done.retired) == (["V050"], ["V007"])
        s.close()
        s = HubStore(target)
        assert s.migrated == []
        s.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_m019_raises_the_high_water_of_a_van_that_went_back_under_m017_to_the_session_it_went_back_from(
        backend, tmp_path, monkeypatch):
    # Review: m018 took session_max = session, the lower session after the restore, for a van that had gone back.
    with hub_target(backend, tmp_path, "up") as target:
        index = migration_index("m018_session_high_water")
        s = open_knowing(monkeypatch, target, index)  # a hub at m017
        assert migrations.version(s) == index
        with s.transaction() as conn:  # as the m017 hub wrote them: V007 went back 57 → 40, V008 never did
            conn.execute("INSERT INTO vans (van, online, session, status_at, session_back, session_back_at) "
                         "VALUES ('V007', 1, 40, '2026-12-01T10:30:00+00:00', ?, '2026-12-01T10:30:01+00:00')",
                         [json.dumps({"from": 57, "to": 40, "at": "2026-12-01T10:30:00+00:00",
                                      "after": "2026-12-01T10:00:00+00:00"})])
            conn.execute("INSERT INTO vans (van, online, session, status_at) "
                         "VALUES ('V008', 0, 12, '2026-12-01T10:00:00+00:00')")
            conn.execute("INSERT INTO vans (van, session, session_back) VALUES ('V009', 3, 'not json')")
            conn.execute("INSERT INTO vans (van) VALUES ('V050')")
        s.close()
        s = open_knowing(monkeypatch, target, index + 1)  # m018 as it ran on the hubs: the lower session
        assert s.migrated == ["m018_session_high_water"]
        assert dict(s._read("SELECT van, session_max FROM vans"))["V007"] == 40
        s.close()
        s = open_knowing(monkeypatch, target)
        assert "m019_session_high_water_before_going_back" in s.migrated
        assert dict(s._read("SELECT van, session_max FROM vans")) == {"V007": 57, "V008": 12, "V009": 3,
                                                                     "V050": 0}
        s.close()
        s = HubStore(target)
        assert s.migrated == []
        s.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_m019_leaves_a_van_whose_going_back_counter_is_no_whole_number(backend, tmp_path, monkeypatch):
    # Review C: {"from": 1e400} reads as inf, and int(inf) raised OverflowError: the hub would not start.
    with hub_target(backend, tmp_path, "up") as target:
        s = open_knowing(monkeypatch, target, migration_index("m019_session_high_water_before_going_back"))
        with s.transaction() as conn:
            for van, text in (("V009", '{"from": 1e400}'), ("V010", '{"from": -1e400}'), ("V011", '{"from": NaN}')):
                conn.execute("INSERT INTO vans (van, session, session_max, session_back) VALUES (?, 3, 3, ?)",
                             [van, text])
        s.close()
        s = open_knowing(monkeypatch, target)
        assert "m019_session_high_water_before_going_back" in s.migrated
        assert dict(s._read("SELECT van, session_max FROM vans")) == {"V009": 3, "V010": 3, "V011": 3}
        s.close()

"""The hub database's schema, created and evolved only through numbered migrations (the van's rules too).

Each migration is applied once, in its own transaction, and recorded in ``schema_migrations`` (version,
name, applied_at) in that same transaction: a migration that fails leaves the database at the version
before it. Forward only; a released migration is never edited (add the next one instead). The same SQL
runs on SQLite and PostgreSQL: it is written in SQLite's dialect and the store translates it (store.py).

Several hub processes (ingest workers, web) may start at the same moment. Each migration's transaction
first takes the database's write lock — SQLite's BEGIN IMMEDIATE, PostgreSQL's transaction-level advisory
lock — and then reads what is recorded, so the second process finds the work done and applies nothing.

A database made before migrations existed (its tables there, no ``schema_migrations``) is brought to the
current version like any other: m001 is the schema those releases created (``IF NOT EXISTS``, so its
tables and rows stay as they are) and m002 adds the staff columns only where they are missing. A
database recorded at a version newer than this code knows is refused (``HubSchemaError``), not used.

This module takes the store it migrates as it comes (``dialect``, ``transaction()``, ``_read``) and
imports nothing of the hub: governorate/store.py imports it, to migrate every store it opens.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from edge.core.errors import EdgeError

log = logging.getLogger("governorate.migrations")

VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
)"""
# pg_advisory_xact_lock's key: any constant, the same in every hub process.
PG_LOCK_KEY = int.from_bytes(b"hubmigr", "big")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[object, str], None]  # (connection inside the transaction, dialect)


MIGRATIONS: list[Migration] = []


def migration(fn: Callable[[object, str], None]) -> Callable[[object, str], None]:
    """Register ``mNNN_name`` as migration NNN; they must come in order, without gaps."""
    match = re.fullmatch(r"m(\d{3})_\w+", fn.__name__)
    if not match or int(match.group(1)) != len(MIGRATIONS) + 1:
        raise RuntimeError(f"migration {fn.__name__}: expected m{len(MIGRATIONS) + 1:03d}_<name>, in order")
    MIGRATIONS.append(Migration(int(match.group(1)), fn.__name__, fn))
    return fn


class HubSchemaError(EdgeError):
    """The hub database's schema is newer than this software: running on it could corrupt it."""

    code = "hub-schema-too-new"


def _run(conn, *statements: str) -> None:
    # One execute per statement: a failing statement then names itself in the traceback.
    for sql in statements:
        conn.execute(sql)


@migration
def m001_initial(conn, dialect: str) -> None:
    # The schema as the releases before migrations created it, statement for statement. IF NOT EXISTS
    # (here only): on a database of those releases its tables are already there and are kept as they are.
    _run(
        conn,
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
    )


@migration
def m002_staff_sign_in(conn, dialect: str) -> None:
    # Sign-in lock-out and server-side sign-out. Before migrations, staff.ensure_columns added these to an
    # existing staff table when the web app or `staff add` opened it: a database it ran on has some or all
    # of them already, so only the missing ones are added.
    columns = {
        "failed_logins": "INTEGER NOT NULL DEFAULT 0",    # wrong passwords counted since failed_since
        "failed_since": "TEXT",                           # the first of them (a window of staff.LOCK_S)
        "locked_until": "TEXT",                           # refused until then (UTC, ISO-8601)
        "session_version": "INTEGER NOT NULL DEFAULT 0",  # in each session cookie; raised by sign-out and reset
    }
    have = _columns(conn, dialect, "staff")
    for name, declaration in columns.items():
        if name not in have:
            conn.execute(f"ALTER TABLE staff ADD COLUMN {name} {declaration}")


@migration
def m003_wide_sequence_numbers(conn, dialect: str) -> None:
    # The wire schema lets a van's seq (per stream) and session counter go up to 2**63 - 1. SQLite's
    # INTEGER holds that; PostgreSQL's is 32 bits, so a message past 2**31 - 1 failed there ("hub-error")
    # and was refused for ever. Found by the hub boundary fuzz (issue 15).
    if dialect == "postgresql":
        _run(conn,
             "ALTER TABLE messages ALTER COLUMN seq TYPE BIGINT",
             "ALTER TABLE parked_states ALTER COLUMN seq TYPE BIGINT",
             "ALTER TABLE vans ALTER COLUMN session TYPE BIGINT")


@migration
def m004_request_due_dates(conn, dialect: str) -> None:
    # Each request's due date, from its legal duration in working days (the van's expected_ready_on, issue 19),
    # as a column: the overdue and due-soon lists are one indexed query at a year of data, on both backends.
    _run(conn, "ALTER TABLE requests ADD COLUMN due_on TEXT",
         "CREATE INDEX IF NOT EXISTS requests_state_due ON requests (state, due_on)")
    rows = conn.execute("SELECT number, body FROM requests").fetchall()
    for number, body in rows:
        try:
            due = json.loads(body).get("expected_ready_on")
        except (ValueError, AttributeError):
            due = None
        if isinstance(due, str):
            conn.execute("UPDATE requests SET due_on = ? WHERE number = ?", [due, number])


@migration
def m005_shifts(conn, dialect: str) -> None:
    # The vans' closed shifts (shift.closed, issue 19): one row per Z-report, with the money as columns so the
    # staff's shift list and the performance screens sum them in SQL. The body is the report as the van sent it.
    _run(conn,
         """CREATE TABLE IF NOT EXISTS shifts (
            van TEXT NOT NULL,
            shift BIGINT NOT NULL,
            operator TEXT NOT NULL,
            day TEXT NOT NULL,
            opened_at TEXT NOT NULL,
            closed_at TEXT NOT NULL,
            opening_float_piastres BIGINT NOT NULL,
            counted_cash_piastres BIGINT NOT NULL,
            expected_cash_piastres BIGINT NOT NULL,
            difference_piastres BIGINT NOT NULL,
            fees_cash_piastres BIGINT NOT NULL,
            fees_card_piastres BIGINT NOT NULL,
            fees_reference_piastres BIGINT NOT NULL,
            refunds_piastres BIGINT NOT NULL,
            requests INTEGER NOT NULL,
            reason TEXT NOT NULL,
            confirmed_by TEXT,
            body TEXT NOT NULL,
            received_at TEXT NOT NULL,
            PRIMARY KEY (van, shift))""",
         "CREATE INDEX IF NOT EXISTS shifts_by_day ON shifts (day, van)")


@migration
def m006_performance_figures(conn, dialect: str) -> None:
    # The service-performance screens (governorate/performance.py, issue 19) aggregate a month of requests and
    # tickets at a year of data in well under a second. Parsing each row's JSON at every page view cannot do that
    # on PostgreSQL, so the few values they read become columns:
    # - requests.decided_at: the first ready/rejected decision (written by backoffice.decide with the decision;
    #   filled here from the staff audit for requests decided before);
    # - requests.operator, pay_method, pay_piastres, decision_s (submitted → decided) and messages.wait_s,
    #   service_s (a finished ticket's waiting and service seconds): generated from the stored row, so every
    #   writer's rows have them and the ingest is unchanged. SQLite computes them when read (VIRTUAL: the only
    #   kind ALTER TABLE may add); PostgreSQL stores them (adding them rewrites the two tables once, under their
    #   lock: minutes at a year of data).
    if dialect == "postgresql":
        # A time in the wire format always names its UTC offset (edge/sync/schema.timestamp), so the text's
        # instant does not depend on the session's time zone: immutable, as a generated column needs.
        conn.execute("CREATE OR REPLACE FUNCTION hub_seconds_between(a text, b text) RETURNS double precision "
                     "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS "
                     "'SELECT extract(epoch from (b::timestamptz - a::timestamptz))::double precision'")
        amount = "(body::jsonb #>> '{payment,amount_piastres}')"
        _run(conn,
             "ALTER TABLE requests ADD COLUMN decided_at TEXT, "
             "ADD COLUMN operator TEXT GENERATED ALWAYS AS (body::jsonb ->> 'operator') STORED, "
             "ADD COLUMN pay_method TEXT GENERATED ALWAYS AS (body::jsonb #>> '{payment,method}') STORED, "
             f"ADD COLUMN pay_piastres BIGINT GENERATED ALWAYS AS (CASE WHEN {amount} ~ '^[0-9]{{1,18}}$' "
             f"THEN {amount}::bigint END) STORED, "
             "ADD COLUMN decision_s DOUBLE PRECISION GENERATED ALWAYS AS "
             "(hub_seconds_between(submitted_at, decided_at)) STORED",
             "ALTER TABLE messages "
             "ADD COLUMN wait_s DOUBLE PRECISION GENERATED ALWAYS AS (CASE WHEN kind = 'ticket.finish' THEN "
             "hub_seconds_between(body::jsonb ->> 'issued_at', body::jsonb ->> 'called_at') END) STORED, "
             "ADD COLUMN service_s DOUBLE PRECISION GENERATED ALWAYS AS (CASE WHEN kind = 'ticket.finish' THEN "
             "hub_seconds_between(body::jsonb ->> 'started_at', body::jsonb ->> 'finished_at') END) STORED")
    else:
        seconds = "(julianday(json_extract(body, '$.{1}')) - julianday(json_extract(body, '$.{0}'))) * 86400"
        _run(conn,
             "ALTER TABLE requests ADD COLUMN decided_at TEXT",
             "ALTER TABLE requests ADD COLUMN operator TEXT GENERATED ALWAYS AS (json_extract(body, '$.operator')) "
             "VIRTUAL",
             "ALTER TABLE requests ADD COLUMN pay_method TEXT GENERATED ALWAYS AS "
             "(json_extract(body, '$.payment.method')) VIRTUAL",
             "ALTER TABLE requests ADD COLUMN pay_piastres INTEGER GENERATED ALWAYS AS "
             "(CASE WHEN typeof(json_extract(body, '$.payment.amount_piastres')) = 'integer' "
             "THEN json_extract(body, '$.payment.amount_piastres') END) VIRTUAL",
             "ALTER TABLE requests ADD COLUMN decision_s REAL GENERATED ALWAYS AS "
             "((julianday(decided_at) - julianday(submitted_at)) * 86400) VIRTUAL",
             "ALTER TABLE messages ADD COLUMN wait_s REAL GENERATED ALWAYS AS (CASE WHEN kind = 'ticket.finish' THEN "
             f"{seconds.format('issued_at', 'called_at')} END) VIRTUAL",
             "ALTER TABLE messages ADD COLUMN service_s REAL GENERATED ALWAYS AS (CASE WHEN kind = 'ticket.finish' "
             f"THEN {seconds.format('started_at', 'finished_at')} END) VIRTUAL")
    _run(conn,
         "UPDATE requests SET decided_at = (SELECT min(at) FROM staff_audit WHERE subject = requests.number AND "
         "action = 'request.decide' AND json_extract(details, '$.to') IN ('ready', 'rejected')) "
         "WHERE state IN ('ready', 'rejected', 'delivered')",
         "CREATE INDEX IF NOT EXISTS requests_by_submitted ON requests (submitted_at)",
         "CREATE INDEX IF NOT EXISTS requests_by_van_submitted ON requests (van, submitted_at)")
    if dialect == "postgresql":
        # Covering indexes: a month's figures are read from the index alone (index-only scan), not from rows
        # that carry the whole request or message body.
        figures = "van, service_code, state, due_on, decided_at, decision_s, operator, pay_method, pay_piastres"
        _run(conn,
             f"CREATE INDEX IF NOT EXISTS requests_performance ON requests (submitted_at) INCLUDE ({figures})",
             f"CREATE INDEX IF NOT EXISTS requests_performance_by_van ON requests (van, submitted_at) "
             f"INCLUDE ({figures.removeprefix('van, ')})",
             "CREATE INDEX IF NOT EXISTS messages_tickets ON messages (created_at) INCLUDE (van, kind, wait_s, "
             "service_s) WHERE kind IN ('ticket.finish', 'ticket.no_show')")

@migration
def m007_van_schema(conn, dialect: str) -> None:
    # The protocol version each van's software speaks (its birth message says it), and the oldest version each
    # downlink needs (edge.sync.protocol.down_schema): a downlink a van cannot read yet waits for its upgrade
    # instead of being refused by it as "schema-too-new" (issue 19's calendar needs version 3).
    _run(conn,
         "ALTER TABLE vans ADD COLUMN schema INTEGER",
         "ALTER TABLE downlinks ADD COLUMN schema INTEGER NOT NULL DEFAULT 1",
         "UPDATE downlinks SET schema = 3 WHERE kind = 'calendar'")

@migration
def m008_notification_delivery(conn, dialect: str) -> None:
    # Citizen notifications are sent, not only recorded (issue 18, finding 8): the dispatcher (governorate/sms.py)
    # claims the rows whose next_attempt_at has come, sends each through the SMS gateway and records the outcome;
    # the gateway's delivery report moves a sent row to delivered or undelivered. msisdn: the number as sent
    # (20XXXXXXXXXX); parts: how many SMS the text takes in UCS-2. A row with no next_attempt_at is never sent again.
    _run(conn,
         "ALTER TABLE notifications ADD COLUMN msisdn TEXT",
         "ALTER TABLE notifications ADD COLUMN parts INTEGER NOT NULL DEFAULT 1",
         "ALTER TABLE notifications ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
         "ALTER TABLE notifications ADD COLUMN next_attempt_at TEXT",
         "ALTER TABLE notifications ADD COLUMN gateway_id TEXT",
         "ALTER TABLE notifications ADD COLUMN last_error TEXT",
         "ALTER TABLE notifications ADD COLUMN sent_at TEXT",
         "ALTER TABLE notifications ADD COLUMN delivery_at TEXT",
         "CREATE INDEX IF NOT EXISTS notifications_due ON notifications (next_attempt_at) "
         "WHERE next_attempt_at IS NOT NULL",
         "CREATE INDEX IF NOT EXISTS notifications_by_request ON notifications (request_number, id)",
         # What releases before this one "queued" never left the hub and is not sent now (weeks late, a citizen
         # would read an old decision as news): it is marked so staff see it was not sent.
         "UPDATE notifications SET state = 'not_sent' WHERE state = 'queued'")


@migration
def m009_update_offers(conn, dialect: str) -> None:
    # A software release offered to a van over MQTT (issue 20, governorate/updates.py): one offer per van at a time.
    # The van's tel.update reports what it holds (have: ranges of chunk seqs, as JSON); cursor: every chunk below it
    # was sent at least once; sent_at / reported_at: the last window sent and the last report, to resend a stalled
    # window; progress_at: when the van last held more than before. state: offered (nothing heard yet), receiving,
    # complete (the van holds it whole), refused, withdrawn.
    _run(conn,
         """CREATE TABLE IF NOT EXISTS update_offers (
                van TEXT PRIMARY KEY,
                bundle TEXT NOT NULL,
                folder TEXT NOT NULL,
                version TEXT,
                total INTEGER NOT NULL,
                state TEXT NOT NULL,
                held INTEGER NOT NULL DEFAULT 0,
                have TEXT NOT NULL DEFAULT '[]',
                error TEXT,
                cursor INTEGER NOT NULL DEFAULT 0,
                chunks_sent INTEGER NOT NULL DEFAULT 0,
                offered_at TEXT NOT NULL,
                sent_at TEXT,
                reported_at TEXT,
                progress_at TEXT
            )""")


@migration
def m010_rollouts(conn, dialect: str) -> None:
    # Staged rollouts of the van software (issue 20, governorate/rollouts.py): each row is a plan for
    # governorate/rollout.py's policy (the newest row is the one in force); state and reason are its last decision,
    # for the fleet screen, and decided_at when it last changed. pinned: {van: the version it keeps} as JSON.
    _run(conn,
         """CREATE TABLE IF NOT EXISTS rollouts (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                target TEXT NOT NULL,
                target_version TEXT NOT NULL,
                target_folder TEXT NOT NULL,
                previous TEXT NOT NULL,
                previous_version TEXT,
                previous_folder TEXT,
                canaries TEXT NOT NULL DEFAULT '[]',
                wave_sizes TEXT NOT NULL DEFAULT '[5, 20]',
                max_failure_rate DOUBLE PRECISION NOT NULL DEFAULT 0.2,
                pinned TEXT NOT NULL DEFAULT '{}',
                rolled_back INTEGER NOT NULL DEFAULT 0,
                state TEXT NOT NULL DEFAULT 'rolling-out',
                reason TEXT,
                created_by TEXT NOT NULL,
                created_at TEXT NOT NULL,
                decided_at TEXT
            )""")


@migration
def m011_request_places(conn, dialect: str) -> None:
    # Where each request was taken (issue 19, demand by place): the van's GPS fix at intake from request.submitted's
    # location (schema 4; older vans: NULL), in 1e-5 degrees as integers so that the performance screens group them
    # into cells with integer division on SQLite and PostgreSQL alike.
    # The index covers the demand query (a month of a year's data is read from the index alone on PostgreSQL).
    _run(conn,
         "ALTER TABLE requests ADD COLUMN lat_e5 INTEGER",
         "ALTER TABLE requests ADD COLUMN lon_e5 INTEGER",
         "CREATE INDEX IF NOT EXISTS requests_places ON requests (submitted_at, lat_e5, lon_e5, van)")



# The performance summary's tables (m012): each van's partial aggregates, and the governorate's histograms; each
# has its _weeks (m012) and _months (m013) twin.
PERF_BY_VAN = ("perf_requests", "perf_request_vans", "perf_decisions", "perf_decision_vans", "perf_tickets",
               "perf_waits", "perf_services", "perf_refunds", "perf_refund_vans", "perf_places")
PERF_ALL = ("perf_decisions_all", "perf_waits_all", "perf_services_all")


@migration
def m012_performance_summary(conn, dialect: str) -> None:
    # The performance screens over long periods (issue 19): figures kept per local day (UTC+2) in summary tables that
    # governorate/perf_summary.py fills, so a year is a few thousand summary rows instead of a million raw ones.
    # Every write to the rows they are made from marks the day dirty in the same transaction, by trigger (whoever
    # writes: the ingest, the back office, a repair by hand): a dirty day is read raw until the refresh summarises it
    # again, so a figure is never stale, only slower. Days with data before this migration are all marked dirty here.
    counts = ("received BIGINT NOT NULL, decided BIGINT NOT NULL, delivered BIGINT NOT NULL, "
              "cancelled BIGINT NOT NULL, timed BIGINT NOT NULL, in_time BIGINT NOT NULL, "
              + ", ".join(f"payments_{m} BIGINT NOT NULL, collected_{m} BIGINT NOT NULL"
                          for m in ("cash", "card", "reference")))
    _run(conn,
         "CREATE TABLE perf_days (day TEXT PRIMARY KEY, summarised_at TEXT NOT NULL)",
         "CREATE TABLE perf_dirty (day TEXT NOT NULL PRIMARY KEY)",
         "CREATE TABLE perf_requests (day TEXT NOT NULL, van TEXT NOT NULL, service_code TEXT NOT NULL, "
         f"operator TEXT, {counts})",
         f"CREATE TABLE perf_request_vans (day TEXT NOT NULL, van TEXT NOT NULL, {counts})",
         "CREATE TABLE perf_decisions (day TEXT NOT NULL, van TEXT NOT NULL, service_code TEXT NOT NULL, "
         "operator TEXT, seconds BIGINT NOT NULL, n BIGINT NOT NULL)",
         "CREATE TABLE perf_decision_vans (day TEXT NOT NULL, van TEXT NOT NULL, seconds BIGINT NOT NULL, "
         "n BIGINT NOT NULL)",
         "CREATE TABLE perf_tickets (day TEXT NOT NULL, van TEXT NOT NULL, tickets BIGINT NOT NULL, "
         "no_shows BIGINT NOT NULL)",
         "CREATE TABLE perf_waits (day TEXT NOT NULL, van TEXT NOT NULL, seconds BIGINT NOT NULL, n BIGINT NOT NULL)",
         "CREATE TABLE perf_services (day TEXT NOT NULL, van TEXT NOT NULL, seconds BIGINT NOT NULL, "
         "n BIGINT NOT NULL)",
         "CREATE TABLE perf_refunds (day TEXT NOT NULL, van TEXT NOT NULL, request_van TEXT NOT NULL, "
         "service_code TEXT NOT NULL, operator TEXT, method TEXT, refunds BIGINT NOT NULL, refunded BIGINT NOT NULL)",
         "CREATE TABLE perf_refund_vans (day TEXT NOT NULL, van TEXT NOT NULL, request_van TEXT NOT NULL, "
         "method TEXT, refunds BIGINT NOT NULL, refunded BIGINT NOT NULL)",
         "CREATE TABLE perf_places (day TEXT NOT NULL, van TEXT NOT NULL, cy BIGINT, cx BIGINT, n BIGINT NOT NULL)")
    for table in PERF_BY_VAN:
        conn.execute(f"CREATE INDEX {table}_by_day ON {table} (day, van)")
    # The histograms of the whole governorate (no van: a day's values of every van in one row each), for the
    # governorate's figures and its weekly trend: a tenth or less of the per-van rows.
    for table in PERF_ALL:
        _run(conn, f"CREATE TABLE {table} (day TEXT NOT NULL, seconds BIGINT NOT NULL, n BIGINT NOT NULL)",
             f"CREATE INDEX {table}_by_day ON {table} (day)")
    # The same rows per ISO week (day: its Monday), made from the week's days once all seven are summarised: a period
    # reads its whole weeks there (a year: 52 rows per van and value instead of 300).
    conn.execute("CREATE TABLE perf_weeks (week TEXT PRIMARY KEY, summarised_at TEXT NOT NULL)")
    for table in PERF_BY_VAN:
        _run(conn, f"CREATE TABLE {table}_weeks AS SELECT * FROM {table} WHERE 1 = 0",
             f"CREATE INDEX {table}_weeks_by_day ON {table}_weeks (day, van)")
    for table in PERF_ALL:
        _run(conn, f"CREATE TABLE {table}_weeks AS SELECT * FROM {table} WHERE 1 = 0",
             f"CREATE INDEX {table}_weeks_by_day ON {table}_weeks (day)")
    kinds = "('ticket.finish', 'ticket.no_show', 'request.refunded')"
    if dialect == "postgresql":
        # Statement-level triggers with transition tables: one INSERT … SELECT DISTINCT per statement of the ingest's
        # batches, not one call per row.
        conn.execute("CREATE OR REPLACE FUNCTION hub_local_day(t text) RETURNS text LANGUAGE sql IMMUTABLE "
                     "PARALLEL SAFE AS 'SELECT to_char(left(t, 19)::timestamp + interval ''2 hours'', ''YYYY-MM-DD'')'")
        _run(conn,
             "CREATE INDEX messages_refund_number ON messages ((body::jsonb ->> 'number')) "
             "WHERE kind = 'request.refunded'",
             "CREATE OR REPLACE FUNCTION hub_perf_requests_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
             "INSERT INTO perf_dirty (day) SELECT DISTINCT hub_local_day(submitted_at) FROM changed_rows "
             "ON CONFLICT DO NOTHING; "
             "INSERT INTO perf_dirty (day) SELECT DISTINCT hub_local_day(m.created_at) FROM changed_rows r "
             "JOIN messages m ON m.kind = 'request.refunded' AND (m.body::jsonb ->> 'number') = r.number "
             "ON CONFLICT DO NOTHING; RETURN NULL; END $$",
             "CREATE OR REPLACE FUNCTION hub_perf_messages_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
             "INSERT INTO perf_dirty (day) SELECT DISTINCT hub_local_day(created_at) FROM changed_rows "
             f"WHERE kind IN {kinds} ON CONFLICT DO NOTHING; RETURN NULL; END $$")
        for name, table, event, rows, function in (
                ("perf_requests_inserted", "requests", "INSERT", "NEW", "requests"),
                ("perf_requests_updated_old", "requests", "UPDATE", "OLD", "requests"),
                ("perf_requests_updated_new", "requests", "UPDATE", "NEW", "requests"),
                ("perf_requests_deleted", "requests", "DELETE", "OLD", "requests"),
                ("perf_messages_inserted", "messages", "INSERT", "NEW", "messages"),
                ("perf_messages_deleted", "messages", "DELETE", "OLD", "messages")):
            conn.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {rows} TABLE AS changed_rows "
                         f"FOR EACH STATEMENT EXECUTE FUNCTION hub_perf_{function}_changed()")
        day = "hub_local_day({})"
    else:
        day = "date({}, '+2 hours')"
        refund_days = ("INSERT OR IGNORE INTO perf_dirty (day) SELECT date(created_at, '+2 hours') FROM messages "
                       "WHERE kind = 'request.refunded' AND json_extract(body, '$.number') = {}.number;")
        _run(conn,
             "CREATE INDEX messages_refund_number ON messages (json_extract(body, '$.number')) "
             "WHERE kind = 'request.refunded'",
             "CREATE TRIGGER perf_requests_inserted AFTER INSERT ON requests BEGIN "
             "INSERT OR IGNORE INTO perf_dirty (day) VALUES (date(NEW.submitted_at, '+2 hours')); "
             f"{refund_days.format('NEW')} END",
             "CREATE TRIGGER perf_requests_updated AFTER UPDATE ON requests BEGIN "
             "INSERT OR IGNORE INTO perf_dirty (day) VALUES (date(OLD.submitted_at, '+2 hours')); "
             "INSERT OR IGNORE INTO perf_dirty (day) VALUES (date(NEW.submitted_at, '+2 hours')); "
             f"{refund_days.format('OLD')} {refund_days.format('NEW')} END",
             "CREATE TRIGGER perf_requests_deleted AFTER DELETE ON requests BEGIN "
             "INSERT OR IGNORE INTO perf_dirty (day) VALUES (date(OLD.submitted_at, '+2 hours')); "
             f"{refund_days.format('OLD')} END",
             f"CREATE TRIGGER perf_messages_inserted AFTER INSERT ON messages WHEN NEW.kind IN {kinds} BEGIN "
             "INSERT OR IGNORE INTO perf_dirty (day) VALUES (date(NEW.created_at, '+2 hours')); END",
             f"CREATE TRIGGER perf_messages_deleted AFTER DELETE ON messages WHEN OLD.kind IN {kinds} BEGIN "
             "INSERT OR IGNORE INTO perf_dirty (day) VALUES (date(OLD.created_at, '+2 hours')); END")
    conn.execute(f"INSERT INTO perf_dirty (day) SELECT d FROM (SELECT {day.format('submitted_at')} AS d FROM requests "
                 f"UNION SELECT {day.format('created_at')} FROM messages WHERE kind IN {kinds}) x WHERE d IS NOT NULL")


@migration
def m013_performance_buckets(conn, dialect: str) -> None:
    # m012's histograms held every whole second, as long as the raw rows once times are real (issue 19); from now
    # they hold buckets of bounded relative width (governorate/perf_summary.bucket). Every day summarised before is
    # marked dirty — read raw, in buckets, until the refresh summarises it again — and its week is forgotten (the
    # refresh makes it anew), so no histogram mixes the two.
    _run(conn,
         "INSERT INTO perf_dirty (day) SELECT day FROM perf_days "
         "WHERE NOT EXISTS (SELECT 1 FROM perf_dirty d WHERE d.day = perf_days.day)",
         "DELETE FROM perf_weeks",
         # (their rows too: a week the refresh never makes again, such as a first partial one, keeps none)
         *(f"DELETE FROM {table}_weeks" for table in (*PERF_BY_VAN, *PERF_ALL)))
    # The same rows per calendar month (day: its 1st), made from its days once all are summarised: a year by van reads
    # 12 rows per van and bucket instead of 52 (perf_summary.split).
    conn.execute("CREATE TABLE perf_months (month TEXT PRIMARY KEY, summarised_at TEXT NOT NULL)")
    for table in PERF_BY_VAN:
        _run(conn, f"CREATE TABLE {table}_months AS SELECT * FROM {table} WHERE 1 = 0",
             f"CREATE INDEX {table}_months_by_day ON {table}_months (day, van)")
    for table in PERF_ALL:
        _run(conn, f"CREATE TABLE {table}_months AS SELECT * FROM {table} WHERE 1 = 0",
             f"CREATE INDEX {table}_months_by_day ON {table}_months (day)")


@migration
def m014_update_rate(conn, dialect: str) -> None:
    # Each van's link as its tel.update reports measure it (governorate/updates.py, next_rate): the rate it delivers a
    # release at (bytes a second) and the time between its reports (ms), smoothed; 0: not known yet. The window of
    # chunks in flight is sized from them (window_for); in the database, since every ingest worker sends to every van
    # and the measurement outlives a restart.
    _run(conn,
         "ALTER TABLE update_offers ADD COLUMN rate INTEGER NOT NULL DEFAULT 0",
         "ALTER TABLE update_offers ADD COLUMN loop_ms INTEGER NOT NULL DEFAULT 0")


@migration
def m015_update_sample(conn, dialect: str) -> None:
    # Where the measurement of a van's link started (governorate/updates.py, next_rate): the chunks it held and the
    # time. Kept apart from the last report (held, reported_at), which every report moves: reports bunched in one
    # ingest batch, or a duplicate, then count in the next measurement instead of as a burst over no time.
    _run(conn,
         "ALTER TABLE update_offers ADD COLUMN sample_held INTEGER NOT NULL DEFAULT 0",
         "ALTER TABLE update_offers ADD COLUMN sample_at TEXT")


@migration
def m016_retired_vans(conn, dialect: str) -> None:
    # A van taken out of service (`governorate vans remove` of a van the hub holds data of, governorate/fleet.py):
    # when. Kept for its history (requests, documents, shifts, figures name it), hidden from the live screens, sent
    # nothing new; NULL: in service. `governorate vans add` puts it back (NULL again).
    _run(conn, "ALTER TABLE vans ADD COLUMN retired_at TEXT")


@migration
def m017_presence_time(conn, dialect: str) -> None:
    # A van's connection counter can go back (its database restored from a backup, its disk swapped for a spare):
    # the hub then takes a birth with a lower session if the van was offline and the birth is later than the status
    # it holds (governorate/ingest.py, _presence). status_at: the created_at of the status message applied last;
    # session_back: when the counter last went back and from what to what (staff are alerted, governorate/fleet.py).
    _run(conn,
         "ALTER TABLE vans ADD COLUMN status_at TEXT",
         "ALTER TABLE vans ADD COLUMN session_back TEXT",
         "ALTER TABLE vans ADD COLUMN session_back_at TEXT")


@migration
def m018_session_high_water(conn, dialect: str) -> None:
    # session_max: the highest connection counter the hub ever saw of the van. A birth the hub takes at or below it (a
    # database restored from a backup, perhaps again from the same one) tells the van its counters again
    # (governorate/ingest.py, _presence). session_told_at: when the van was last sent again the downlinks it had
    # applied after such a going-back (at most once an hour); session_back_at stays when it last went back (alerts).
    _run(conn,
         "ALTER TABLE vans ADD COLUMN session_max " + ("BIGINT" if dialect == "postgresql" else "INTEGER"),
         "ALTER TABLE vans ADD COLUMN session_told_at TEXT",
         "UPDATE vans SET session_max = session, session_told_at = session_back_at")


@migration
def m019_session_high_water_before_going_back(conn, dialect: str) -> None:
    # m018 filled session_max with the session held — for a van whose counter had gone back under m017, the lower one
    # after the restore, though the hub had seen the higher one it went back from (session_back's "from"): the van
    # would be told (``counters``) too low a session, or not at all. Raised to the larger of the two where lower.
    # Read in Python: the JSON text is the same on both backends, its SQL functions are not.
    for van, session, session_max, text in conn.execute(
            "SELECT van, session, session_max, session_back FROM vans WHERE session_back IS NOT NULL").fetchall():
        try:
            went_from = int(json.loads(text)["from"])
        except (ValueError, KeyError, TypeError, OverflowError):  # OverflowError: {"from": 1e400} reads as inf
            continue  # not written by the hub as it should be: nothing to take from it
        highest = max(session_max or 0, session or 0, went_from)
        if 0 < highest <= 2**63 - 1 and highest != session_max:
            conn.execute("UPDATE vans SET session_max = ? WHERE van = ?", [highest, van])


# --- applying them ---------------------------------------------------------------------------------------

LATEST = MIGRATIONS[-1].version


def migrate(store) -> list[str]:
    """Apply the pending migrations, each in its own transaction; returns the names applied (empty when the
    schema is current). Raises HubSchemaError, changing nothing, when the database is newer than this code."""
    recorded = _recorded(store)
    if recorded is not None:
        _refuse_newer(recorded)
        if all(m.version in recorded for m in MIGRATIONS):
            return []  # the common case at every start: no write lock taken
    applied: list[str] = []
    while True:
        with store.transaction() as conn:
            if store.dialect == "postgresql":
                # Held until this transaction ends; a second process waits here, then finds the work done.
                conn.execute("SELECT pg_advisory_xact_lock(?)", [PG_LOCK_KEY])
            conn.execute(VERSION_TABLE)
            done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations").fetchall()}
            _refuse_newer(done)
            pending = [m for m in MIGRATIONS if m.version not in done]
            if not pending:
                break
            step = pending[0]
            if step.version == 1 and _has_table(conn, store.dialect, "messages"):
                log.info("hub database from before schema migrations: bringing it to version %s", LATEST)
            step.apply(conn, store.dialect)
            conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                         [step.version, step.name, datetime.now(UTC).isoformat()])
        log.info("hub database: applied %s", step.name)
        applied.append(step.name)
    return applied


def version(store) -> int:
    """The highest migration recorded in the store's database (0: none)."""
    return max(_recorded(store) or (), default=0)


def _recorded(store) -> set[int] | None:
    """The versions recorded, or None when the database has no schema_migrations table (new or pre-migration)."""
    with store._lock:  # a plain read outside a transaction: no write lock
        conn = store.conn
        if not _has_table(conn, store.dialect, "schema_migrations"):
            return None
        return {r[0] for r in conn.execute("SELECT version FROM schema_migrations").fetchall()}


def _refuse_newer(recorded: set[int]) -> None:
    newer = max(recorded, default=0)
    if newer > LATEST:
        raise HubSchemaError(
            f"قاعدة بيانات المركز بإصدار المخطط {newer}، وهو أحدث مما يعرفه هذا البرنامج ({LATEST}): "
            "أنشأها أو حدّثها إصدار أحدث من برنامج المركز. شغّل ذلك الإصدار أو أحدث منه؛ لم يُغيَّر فيها شيء.",
            f"The hub database is at schema version {newer}, newer than this software knows ({LATEST}): "
            "a newer release of the hub made or upgraded it. Run that release or a later one; nothing was changed.",
            detail=f"recorded {sorted(recorded)}, known 1..{LATEST}")


def _has_table(conn, dialect: str, table: str) -> bool:
    if dialect == "postgresql":
        return conn.execute("SELECT to_regclass(?) IS NOT NULL", [table]).fetchone()[0]
    return conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                        [table]).fetchone()[0] > 0


def _columns(conn, dialect: str, table: str) -> set[str]:
    if dialect == "postgresql":
        return {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ?", [table]).fetchall()}
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})").fetchall()}

"""The van database's schema, created and evolved only through ordered sqlite-utils migrations."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

from edge.store.db import transaction

migrations = Migrations("edge")


def _run(db: sqlite_utils.Database, *statements: str) -> None:
    # One execute per statement: a failing statement then names itself in the traceback.
    for sql in statements:
        db.execute(sql)


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    _run(
        db,
        # Minimal PII: what the governorate needs to process a request, nothing more (birth date,
        # gender and birth governorate are read from the national ID when needed, not stored twice).
        """CREATE TABLE citizens (
            id INTEGER PRIMARY KEY,
            national_id TEXT UNIQUE CHECK (national_id IS NULL OR length(national_id) = 14),
            name TEXT NOT NULL,
            mobile TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            -- set when retention erased the person's data (national_id NULL, name and mobile blank)
            purged_at TEXT
        )""",
        # Per-van, per-day sequence behind request numbers (the van number is fixed per database).
        """CREATE TABLE request_counters (
            day TEXT PRIMARY KEY,
            last_seq INTEGER NOT NULL
        )""",
        """CREATE TABLE requests (
            number TEXT PRIMARY KEY,
            day TEXT NOT NULL,
            seq INTEGER NOT NULL,
            service_code TEXT NOT NULL,
            catalogue_version INTEGER NOT NULL,
            citizen_id INTEGER NOT NULL REFERENCES citizens(id),
            citizen_name TEXT NOT NULL,  -- as registered on this request; a later request may correct it
            state TEXT NOT NULL,
            fee_piastres INTEGER NOT NULL CHECK (fee_piastres >= 0),
            payment_method TEXT NOT NULL CHECK (payment_method IN ('cash', 'card', 'reference')),
            payment_reference TEXT,
            paid_piastres INTEGER NOT NULL CHECK (paid_piastres >= 0),
            operator TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            expected_ready_on TEXT NOT NULL,
            state_reason TEXT,
            UNIQUE (day, seq)
        )""",
        "CREATE INDEX requests_by_citizen ON requests(citizen_id)",
        "CREATE INDEX requests_by_state ON requests(state)",
        """CREATE TABLE request_history (
            id INTEGER PRIMARY KEY,
            request_number TEXT NOT NULL REFERENCES requests(number),
            state TEXT NOT NULL,
            at TEXT NOT NULL,
            source TEXT NOT NULL,
            reason TEXT
        )""",
        "CREATE INDEX request_history_by_request ON request_history(request_number)",
        # Scanned pages live as files under data_dir/documents; the row holds where and the hash.
        """CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            request_number TEXT NOT NULL REFERENCES requests(number),
            doc_code TEXT NOT NULL,
            page INTEGER NOT NULL CHECK (page >= 1),
            content_type TEXT NOT NULL,
            path TEXT NOT NULL,
            size INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (request_number, doc_code, page)
        )""",
        """CREATE TABLE ticket_counters (
            day TEXT NOT NULL,
            series TEXT NOT NULL,
            last_seq INTEGER NOT NULL,
            PRIMARY KEY (day, series)
        )""",
        """CREATE TABLE tickets (
            id INTEGER PRIMARY KEY,
            day TEXT NOT NULL,
            number TEXT NOT NULL,
            series TEXT NOT NULL,
            seq INTEGER NOT NULL,
            category TEXT NOT NULL,
            priority TEXT NOT NULL,
            state TEXT NOT NULL,
            issued_at TEXT NOT NULL,
            called_at TEXT,
            counter INTEGER,
            recalls INTEGER NOT NULL DEFAULT 0,
            started_at TEXT,
            finished_at TEXT,
            transferred_to TEXT,
            transferred_from TEXT
        )""",
        # Not unique: a series wraps after 999, so a number can come back on a very busy day.
        "CREATE INDEX tickets_by_number ON tickets(day, number)",
        "CREATE INDEX tickets_waiting ON tickets(day, state, category)",
        # The transactional outbox: written in the same transaction as the business row it reports.
        """CREATE TABLE stream_counters (
            stream TEXT PRIMARY KEY,
            last_seq INTEGER NOT NULL
        )""",
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            msg_id TEXT NOT NULL UNIQUE,
            stream TEXT NOT NULL CHECK (stream IN ('tx', 'audit', 'doc', 'tel', 'status')),
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            body TEXT NOT NULL,
            created_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_attempt_at TEXT,
            delivered_at TEXT,
            UNIQUE (stream, seq)
        )""",
        "CREATE INDEX outbox_pending ON outbox(stream, seq) WHERE delivered_at IS NULL",
        # Ids of downlink messages already applied, so a redelivered message changes nothing.
        """CREATE TABLE inbox (
            msg_id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            received_at TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('applied', 'rejected')),
            error TEXT
        )""",
        """CREATE TABLE audit_log (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT NOT NULL,
            details TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE
        )""",
        """CREATE TABLE device_status (
            device TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('ok', 'warning', 'error', 'unknown')),
            message_ar TEXT NOT NULL DEFAULT '',
            message_en TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '{}',
            since TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        # Changes of state only (not every heartbeat), for alert history and camera uptime.
        """CREATE TABLE device_events (
            id INTEGER PRIMARY KEY,
            device TEXT NOT NULL,
            state TEXT NOT NULL,
            message_en TEXT NOT NULL DEFAULT '',
            at TEXT NOT NULL
        )""",
        "CREATE INDEX device_events_by_device ON device_events(device, at)",
    )


@migrations()
def m004_sync(db: sqlite_utils.Database) -> None:
    _run(
        db,
        # Small facts of the sync process that must survive a restart (the MQTT session counter …).
        """CREATE TABLE sync_state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        # How far the hub has each document (its DocAck), so an upload resumes after a cut.
        """CREATE TABLE doc_progress (
            msg_id TEXT PRIMARY KEY REFERENCES outbox(msg_id) ON DELETE CASCADE,
            highest_contiguous INTEGER NOT NULL,
            state TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        # Service catalogues published by the governorate over the downlink.
        """CREATE TABLE catalogues (
            version INTEGER PRIMARY KEY,
            data TEXT NOT NULL,
            received_at TEXT NOT NULL
        )""",
    )


@migrations()
def m003_operators(db: sqlite_utils.Database) -> None:
    _run(
        db,
        # Who may use the operator console: a number and an argon2 hash of the PIN, never the PIN.
        # failed_pins and locked_until implement the lock-out after repeated wrong PINs.
        """CREATE TABLE operators (
            number INTEGER PRIMARY KEY CHECK (number BETWEEN 1 AND 9999),
            name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('operator', 'supervisor')),
            pin_hash TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            failed_pins INTEGER NOT NULL DEFAULT 0,
            locked_until TEXT,
            last_login_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        # A new-request wizard in progress: what the operator entered so far (JSON), kept server-side
        # so a reload, a validation error or a crash of the browser loses nothing, and no PII sits in
        # a cookie or a URL. Deleted in the transaction that submits the request.
        """CREATE TABLE request_drafts (
            id TEXT PRIMARY KEY,
            operator TEXT NOT NULL,
            data TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX documents_by_request ON documents(request_number)",
    )


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply pending migrations; returns the names applied (empty when the schema is current).

    The write lock is taken first, so processes starting together (web, sync, watch) migrate
    one after the other and the second finds nothing pending.
    """
    if not migrations.pending(db):
        return []  # the common case at every start: no write lock needed
    with transaction(db):
        pending = [m.name for m in migrations.pending(db)]
        migrations.apply(db)
    return pending


@migrations()
def m005_print_jobs(db: sqlite_utils.Database) -> None:
    _run(
        db,
        # The persistent print queue (edge.store.print_jobs): a job is stored before a byte goes to the
        # printer, so a paper-out, an unplugged cable or a restart loses no receipt. ``payload`` is the
        # document as JSON; ``reprint`` = the next print must carry the REPRINT mark (an earlier
        # attempt may have put paper in someone's hand).
        """CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL CHECK (kind IN ('receipt', 'ticket', 'test')),
            ref TEXT NOT NULL DEFAULT '',
            payload TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('queued', 'printing', 'printed', 'cancelled')),
            reprint INTEGER NOT NULL DEFAULT 0,
            training INTEGER NOT NULL DEFAULT 0,
            copies INTEGER NOT NULL DEFAULT 1 CHECK (copies BETWEEN 1 AND 5),
            attempts INTEGER NOT NULL DEFAULT 0,
            reason TEXT,
            detail TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            printed_at TEXT
        )""",
        "CREATE INDEX print_jobs_open ON print_jobs(state, id) WHERE state IN ('queued', 'printing')",
    )


@migrations()
def m006_operator_sessions(db: sqlite_utils.Database) -> None:
    _run(
        db,
        # Signing out (or a new PIN, or a deactivated account) ends the operator's console sessions on the
        # server: a session carries the epoch it began in, and a session of an older epoch is refused, so a
        # cookie copied before sign-out no longer opens the console (issue 16).
        "ALTER TABLE operators ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0",
    )


@migrations()
def m007_refunds(db: sqlite_utils.Database) -> None:
    _run(
        db,
        # A paid request cancelled at the van: the money handed back, who confirmed it and why (issue 18). The
        # close of the shift (issue 19) counts these against the cash taken.
        """CREATE TABLE refunds (
            number TEXT PRIMARY KEY REFERENCES requests(number),
            amount_piastres INTEGER NOT NULL CHECK (amount_piastres > 0),
            method TEXT NOT NULL,
            reason TEXT NOT NULL,
            operator TEXT NOT NULL,
            confirmed_by TEXT NOT NULL,
            at TEXT NOT NULL
        )""",
    )


@migrations()
def m008_shifts(db: sqlite_utils.Database) -> None:
    _run(
        db,
        # An operator's shift at the counter (issue 19, edge.core.shifts, edge.store.shifts): opened with a counted
        # float, closed once with the counted cash against what the van recorded. ``totals`` is the Z-report as
        # JSON, frozen at the close. One open shift per operator; a closed shift can be neither changed nor
        # deleted (the triggers), so a Z-report once printed stays what the database says.
        """CREATE TABLE shifts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            operator TEXT NOT NULL,
            counter INTEGER,
            day TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('open', 'closed')),
            opened_at TEXT NOT NULL,
            opening_float_piastres INTEGER NOT NULL CHECK (opening_float_piastres >= 0),
            received_from INTEGER REFERENCES shifts(id),
            closed_at TEXT,
            closed_by TEXT,
            counted_cash_piastres INTEGER CHECK (counted_cash_piastres >= 0),
            expected_cash_piastres INTEGER,
            difference_piastres INTEGER,
            reason TEXT,
            confirmed_by TEXT,
            handed_to TEXT,
            totals TEXT,
            CHECK (state = 'open' OR (closed_at IS NOT NULL AND counted_cash_piastres IS NOT NULL
                                      AND totals IS NOT NULL))
        )""",
        "CREATE UNIQUE INDEX shifts_one_open ON shifts(operator) WHERE state = 'open'",
        """CREATE TRIGGER shifts_closed_frozen BEFORE UPDATE ON shifts WHEN OLD.state = 'closed'
           BEGIN SELECT RAISE(ABORT, 'a closed shift cannot be changed'); END""",
        """CREATE TRIGGER shifts_closed_kept BEFORE DELETE ON shifts WHEN OLD.state = 'closed'
           BEGIN SELECT RAISE(ABORT, 'a closed shift cannot be deleted'); END""",
        # The shift whose drawer took the fee, and the one whose drawer paid a refund back.
        "ALTER TABLE requests ADD COLUMN shift_id INTEGER REFERENCES shifts(id)",
        "CREATE INDEX requests_by_shift ON requests(shift_id) WHERE shift_id IS NOT NULL",
        "ALTER TABLE refunds ADD COLUMN shift_id INTEGER REFERENCES shifts(id)",
        # The print queue learns the Z-report: SQLite cannot widen a CHECK, so the table is rebuilt as it was.
        """CREATE TABLE print_jobs_new (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL CHECK (kind IN ('receipt', 'ticket', 'test', 'zreport')),
            ref TEXT NOT NULL DEFAULT '',
            payload TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('queued', 'printing', 'printed', 'cancelled')),
            reprint INTEGER NOT NULL DEFAULT 0,
            training INTEGER NOT NULL DEFAULT 0,
            copies INTEGER NOT NULL DEFAULT 1 CHECK (copies BETWEEN 1 AND 5),
            attempts INTEGER NOT NULL DEFAULT 0,
            reason TEXT,
            detail TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            printed_at TEXT
        )""",
        "INSERT INTO print_jobs_new SELECT * FROM print_jobs",
        # Keep the id sequence where it was: a purged job's id is never given again.
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'print_jobs_new', 0 WHERE NOT EXISTS "
        "(SELECT 1 FROM sqlite_sequence WHERE name = 'print_jobs_new')",
        "UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = "
        "'print_jobs'), 0)) WHERE name = 'print_jobs_new'",
        "DROP TABLE print_jobs",
        "ALTER TABLE print_jobs_new RENAME TO print_jobs",
        "CREATE INDEX print_jobs_open ON print_jobs(state, id) WHERE state IN ('queued', 'printing')",
    )


@migrations()
def m009_calendars(db: sqlite_utils.Database) -> None:
    _run(
        db,
        # Egypt's public holidays as the governorate publishes them (downlink "calendar", issue 19): the newest is in
        # force for the due dates of new requests (edge.store.calendars); the shipped file until one arrives.
        """CREATE TABLE calendars (
            version INTEGER PRIMARY KEY,
            text TEXT NOT NULL,
            received_at TEXT NOT NULL
        )""",
    )

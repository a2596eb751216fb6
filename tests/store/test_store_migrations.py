"""The schema is created and evolved only by migrations; re-running them changes nothing."""

from __future__ import annotations

import subprocess
import sys

from edge.store.db import open_db
from edge.store.migrations import migrate, migrations

TABLES = {
    "citizens", "requests", "request_counters", "request_history", "documents", "tickets",
    "ticket_counters", "outbox", "stream_counters", "inbox", "audit_log", "device_status", "device_events",
}


def test_migration_from_empty_creates_every_table(db_path):
    db = open_db(db_path)
    applied = migrate(db)
    assert applied == [m.name for m in migrations._migrations]
    assert TABLES <= set(db.table_names())


def test_migration_rerun_is_idempotent(db_path):
    db = open_db(db_path)
    migrate(db)
    schema = db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    assert migrate(db) == []
    assert migrate(open_db(db_path)) == []
    assert db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema
    assert db.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == len(migrations._migrations)


def test_database_uses_wal_and_durable_commits(db_path):
    db = open_db(db_path)
    assert db.journal_mode == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert open_db(db_path, durable=False).execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_processes_starting_together_migrate_once(db_path):
    # web, sync and watch start at the same moment on boot; none may fail on "table already exists".
    code = (
        "import sys; from edge.store.db import open_db; from edge.store.migrations import migrate; "
        "print(len(migrate(open_db(sys.argv[1]))))"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(db_path)], stdout=subprocess.PIPE, text=True)
             for _ in range(4)]
    outputs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sorted(outputs) == ["0", "0", "0", str(len(migrations._migrations))]

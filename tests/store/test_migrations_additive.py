"""Every van migration leaves the database usable by the version before it (issue 20, docs/updates.md): an update
that fails its health check is rolled back to the previous version, but its migrations are not undone. So a
migration may only add: no table or column the previous version knows disappears or changes its type, and a
column added to an existing table has a default or may be empty, so the previous version's INSERTs, which do not
name it, still work."""

from __future__ import annotations

import pytest

from edge.store.db import open_db
from edge.store.migrations import migrations

NAMES = [m.name for m in migrations.pending(open_db(":memory:"))]


def _schema(db) -> dict[str, dict[str, tuple]]:
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                       "AND name NOT LIKE 'sqlite_%' AND name != '_sqlite_migrations'")]
    # (declared type, NOT NULL, default) of every column
    return {t: {c[1]: (c[2].upper(), bool(c[3]), c[4]) for c in db.execute(f'PRAGMA table_info("{t}")')}
            for t in tables}


def _problems(name: str, before: dict, after: dict) -> list[str]:
    problems = []
    for table, columns in before.items():
        if table not in after:
            problems.append(f"{name} removes table {table}")
            continue
        for column, (kind, _notnull, _default) in columns.items():
            if column not in after[table]:
                problems.append(f"{name} removes column {table}.{column}")
            elif after[table][column][0] != kind:
                problems.append(f"{name} retypes {table}.{column}")
        for column, (_kind, notnull, default) in after[table].items():
            if column not in columns and notnull and default is None:
                problems.append(f"{name} adds {table}.{column} NOT NULL without a default: the previous version's "
                                "INSERTs would fail")
    return problems


def test_every_migration_is_checked():
    assert NAMES[0] == "m001_initial" and len(NAMES) == len(set(NAMES)) >= 8


@pytest.mark.parametrize("index", range(1, len(NAMES)), ids=NAMES[1:])
def test_a_migration_only_adds_what_the_previous_version_can_ignore(tmp_path, index):
    db = open_db(tmp_path / "van.db")
    migrations.apply(db, stop_before=NAMES[index])
    before = _schema(db)
    migrations.apply(db, stop_before=NAMES[index + 1] if index + 1 < len(NAMES) else None)
    assert _problems(NAMES[index], before, _schema(db)) == []
    db.close()


def test_the_check_catches_what_would_break_the_previous_version(tmp_path):
    db = open_db(tmp_path / "van.db")
    migrations.apply(db)
    before = _schema(db)
    db.execute("DROP INDEX requests_by_shift")
    db.execute("ALTER TABLE requests DROP COLUMN shift_id")
    db.execute("ALTER TABLE refunds RENAME TO refunds_old")
    db.execute("ALTER TABLE shifts ADD COLUMN mandatory TEXT NOT NULL DEFAULT 'x'")  # fine: it has a default
    db.execute("CREATE TABLE tickets_new (id INTEGER PRIMARY KEY, seq TEXT)")
    after = _schema(db)
    after["tickets"] = {**after["tickets_new"], "must": ("TEXT", True, None)}
    problems = _problems("m999_bad", before, after)
    assert "m999_bad removes column requests.shift_id" in problems
    assert "m999_bad removes table refunds" in problems
    assert any("adds tickets.must NOT NULL without a default" in p for p in problems)
    assert not any("shifts" in p for p in problems)
    db.close()

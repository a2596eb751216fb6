"""The hub's database: each van message once (by van and message id), presence, documents, downlinks.

SQLite by default (a file path); PostgreSQL when given a ``postgresql://`` URL. The SQL is written
once, in SQLite's dialect, and translated for PostgreSQL by ``_pg_sql`` (placeholders, INSERT OR
IGNORE, json_extract, types), so both run the same code paths.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import cbor2

from common.transaction import transaction as shared_transaction
from governorate.migrations import migrate


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def parse_iso(text: str | None) -> datetime | None:
    """A stored ISO-8601 time as an aware datetime (UTC when it names no zone); None for empty or unreadable."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class HubStore:
    """SQLite (WAL, synchronous=FULL) or PostgreSQL: an ack is sent only after the commit, so nothing acked is lost."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self.dialect = "postgresql" if self.path.startswith(("postgresql://", "postgres://")) else "sqlite"
        # The ingest loop and the downlink API may share this connection from two threads.
        self._lock = threading.RLock()
        if self.dialect == "postgresql":
            self.conn = _PgConnection(self.path)
        else:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            _enable_wal(self.conn)
            self.conn.execute("PRAGMA synchronous=FULL")
        # Every process that opens the hub's database (ingest, web, the CLI) brings its schema up to date first,
        # as the van's do (governorate/migrations.py); a database newer than this code is refused here.
        try:
            self.migrated = migrate(self)  # the names of the migrations this open applied
        except BaseException:
            self.conn.close()
            raise

    def seconds_between(self, start: str, end: str) -> str:
        """SQL for the seconds from one ISO-8601 text expression to another."""
        if self.dialect == "postgresql":
            return f"extract(epoch from (({end})::timestamptz - ({start})::timestamptz))"
        return f"(julianday({end}) - julianday({start})) * 86400"

    def retryable(self, exc: BaseException) -> bool:
        """A conflict between two hub workers that a retry of the whole batch resolves."""
        return self.dialect == "postgresql" and getattr(exc, "sqlstate", None) in ("40P01", "40001")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction (common/transaction.py, the van's helper too); a nested call is a savepoint whose
        failure undoes only its own work. The lock keeps the other thread out until the outermost commit."""
        with self._lock, shared_transaction(self.conn):
            yield self.conn

    def close(self) -> None:
        self.conn.close()

    # --- reads for tools, tests and the dashboard ---------------------------------------------

    def _read(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    def count(self, stream: str | None = None, van: str | None = None) -> int:
        sql, params = "SELECT count(*) FROM messages WHERE 1=1", []
        if stream:
            sql, params = sql + " AND stream = ?", [*params, stream]
        if van:
            sql, params = sql + " AND van = ?", [*params, van]
        return self._read(sql, params)[0][0]

    def van(self, van: str) -> dict | None:
        rows = self._read(
            "SELECT van, online, session, last_seen, telemetry, telemetry_at, retired_at FROM vans WHERE van = ?", [van]
        )
        if not rows:
            return None
        row = rows[0]
        # session 0 is the column's default: no birth heard yet (never connected), so no session (None).
        return {"van": row[0], "online": bool(row[1]), "session": row[2] or None, "last_seen": row[3],
                "telemetry": json.loads(row[4]) if row[4] else None, "telemetry_at": row[5], "retired_at": row[6]}

    def request(self, number: str) -> dict | None:
        rows = self._read("SELECT number, van, service_code, state, submitted_at, updated_at FROM requests "
                          "WHERE number = ?", [number])
        row = rows[0] if rows else None
        keys = ("number", "van", "service_code", "state", "submitted_at", "updated_at")
        return dict(zip(keys, row, strict=True)) if row else None

    def thumbnails(self, van: str) -> list[dict]:
        rows = self._read("SELECT camera, taken_at, received_at FROM thumbnails WHERE van = ? ORDER BY camera", [van])
        return [{"camera": r[0], "taken_at": r[1], "received_at": r[2]} for r in rows]

    def thumbnail(self, van: str, camera: str) -> bytes | None:
        rows = self._read("SELECT jpeg FROM thumbnails WHERE van = ? AND camera = ?", [van, camera])
        return bytes(rows[0][0]) if rows else None

    def document(self, van: str, doc_id: str) -> bytes | None:
        rows = self._read("SELECT data FROM documents WHERE van = ? AND doc_id = ?", [van, doc_id])
        return rows[0][0] if rows else None

    def chunk_receipts(self, van: str, doc_id: str) -> int:
        rows = self._read("SELECT received FROM doc_receipts WHERE van = ? AND doc_id = ?", [van, doc_id])
        return rows[0][0] if rows else 0

    def pending_downlinks(self, van: str) -> list[tuple[str, str, bytes]]:
        """The downlinks ``van`` has not applied yet and can read: one whose schema is newer than the van's
        software (as its last birth said; unknown: sent) waits for the van's upgrade. A retired van (governorate vans
        remove) is sent none, even if it reconnects: they wait until ``vans add`` brings it back — but the hub's own
        ``counters`` (a retired van restored from a backup, still issuing numbers): it only raises the van's counters,
        so that it gives no citizen a number the hub holds for another."""
        rows = self._read(
            "SELECT d.msg_id, d.kind, d.payload, v.retired_at FROM downlinks d LEFT JOIN vans v ON v.van = d.van "
            "WHERE d.van = ? AND d.applied_at IS NULL AND (v.schema IS NULL OR d.schema <= v.schema) "
            "AND (v.retired_at IS NULL OR d.kind = 'command') "
            "ORDER BY d.msg_id",
            [van],
        )
        return [(msg_id, kind, payload) for msg_id, kind, payload, retired in rows
                if retired is None or counters_args(payload) is not None]

    def downlink(self, msg_id: str) -> dict | None:
        rows = self._read("SELECT van, kind, applied_at, outcome, error FROM downlinks WHERE msg_id = ?", [msg_id])
        row = rows[0] if rows else None
        keys = ("van", "kind", "applied_at", "outcome", "error")
        return dict(zip(keys, row, strict=True)) if row else None


def counters_args(payload: bytes) -> dict | None:
    """The arguments of a stored downlink that is the hub's ``counters`` command (governorate/ingest.py,
    _tell_counters), or None for any other (or unreadable) one."""
    try:
        body = cbor2.loads(bytes(payload))["body"]
        return body["args"] if isinstance(body, dict) and body.get("name") == "counters" else None
    except Exception:  # noqa: BLE001 - a payload the hub wrote itself; unreadable is simply not one
        return None


def _enable_wal(conn: sqlite3.Connection, wait_s: float = 30) -> None:
    """WAL mode, once per database file (it stays). Switching needs the file to itself, and SQLite answers
    "database is locked" at once, without its busy wait, while another process switches it or writes in the
    old mode: hub processes starting together on a new (or pre-WAL) database wait here for their turn."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")  # ":memory:" stays "memory", without an error
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class _PgConnection:
    """A psycopg connection that answers ``execute`` like sqlite3 does, taking SQLite-dialect SQL."""

    def __init__(self, url: str):
        import psycopg  # only needed for PostgreSQL

        self._conn = psycopg.connect(url, autocommit=True)  # transactions are explicit: BEGIN … COMMIT

    def execute(self, sql: str, params: list | tuple = ()):
        return self._conn.execute(_pg_sql(sql), list(params))

    def executemany(self, sql: str, rows: list) -> None:
        # psycopg 3 pipelines executemany: every row is sent before any answer is awaited (one round trip).
        with self._conn.cursor() as cur:
            cur.executemany(_pg_sql(sql), rows)

    def execute_numbered(self, sql: str, params: list) -> list[tuple]:
        """SQL with PostgreSQL's own $1, $2 … placeholders: psycopg parses its %s placeholders in Python and
        keeps that only for statements up to 4 KB, which costs a batch's multi-row statement ~10 ms each time."""
        import psycopg

        with psycopg.RawCursor(self._conn) as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def each(self, sql: str, rows: list) -> list[list[tuple]]:
        with self._conn.cursor() as cur:
            cur.executemany(_pg_sql(sql), rows, returning=True)
            out = []
            while True:
                out.append(cur.fetchall())
                if not cur.nextset():
                    return out

    @property
    def in_transaction(self) -> bool:
        import psycopg

        return self._conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def close(self) -> None:
        self._conn.close()


# Rows per multi-row statement (well under SQLite's and PostgreSQL's limits on parameters in one statement).
ROWS_PER_STATEMENT = 250


def execute_values(conn, head: str, rows: list[list], tail: str = "") -> list[tuple]:
    """``head VALUES (?, …), (?, …) tail`` for all ``rows`` at once (a statement for each ROWS_PER_STATEMENT):
    what it returned (RETURNING), in no particular order. ``head`` and ``tail`` are read alike by both
    databases (``ON CONFLICT … DO …``, ``RETURNING``), and hold no placeholder of their own."""
    out: list[tuple] = []
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start:start + ROWS_PER_STATEMENT]
        params = [value for row in chunk for value in row]
        if isinstance(conn, _PgConnection):
            out.extend(conn.execute_numbered(f"{head} VALUES {_numbered(len(chunk), len(chunk[0]))} {tail}", params))
        else:
            row = "(" + ", ".join("?" * len(chunk[0])) + ")"
            out.extend(conn.execute(f"{head} VALUES {', '.join([row] * len(chunk))} {tail}", params).fetchall())
    return out


@functools.lru_cache(maxsize=64)
def _numbered(rows: int, columns: int) -> str:
    return ", ".join("(" + ", ".join(f"${r * columns + c + 1}" for c in range(columns)) + ")" for r in range(rows))


def execute_each(conn, sql: str, rows: list) -> list[list[tuple]]:
    """Run ``sql`` once per row of parameters, in order, and give back what each run returned (its RETURNING
    rows). On PostgreSQL all the runs go in one round trip; SQLite is in the process and runs them one by one."""
    if not rows:
        return []
    if isinstance(conn, _PgConnection):
        return conn.each(sql, rows)
    return [conn.execute(sql, row).fetchall() for row in rows]


def execute_many(conn, sql: str, rows: list) -> None:
    """Run ``sql`` once per row of parameters, in order, in one call (one round trip on PostgreSQL)."""
    if rows:
        conn.executemany(sql, rows)


_JSON_PATH = re.compile(r"json_extract\((\w+), '\$\.([\w.]+)'\)")


@functools.lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    out = sql.replace("BEGIN IMMEDIATE", "BEGIN")
    out = out.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
    out = re.sub(r"\bBLOB\b", "BYTEA", out)
    out = _JSON_PATH.sub(lambda m: f"(({m.group(1)})::jsonb #>> '{{{m.group(2).replace('.', ',')}}}')", out)
    if "INSERT OR IGNORE INTO" in out:
        out = out.replace("INSERT OR IGNORE INTO", "INSERT INTO") + " ON CONFLICT DO NOTHING"
    return out.replace("%", "%%").replace("?", "%s")

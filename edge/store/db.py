"""Opening the van's SQLite database: WAL, durable commits, and write transactions that do not deadlock."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from common.transaction import transaction as shared_transaction
from edge.core.errors import EdgeError

# Several processes (web, sync, watch) share one file. A writer waits this long for another's lock
# before giving up; business transactions are short, so seconds are plenty.
BUSY_TIMEOUT_MS = 10_000


class StoreUnavailable(EdgeError):
    code = "store-unavailable"

    def __init__(self, path: str | Path, problem: str):
        super().__init__(
            f"تعذّر فتح قاعدة بيانات العربة ({path}). أعد تشغيل الجهاز؛ وإذا تكرر الخطأ فاتصل بالدعم الفني.",
            f"The van database ({path}) cannot be opened: {problem}. Restart the van computer; "
            "if this happens again, call technical support.",
            detail=f"{path}: {problem}",
        )


def open_db(path: str | Path, *, durable: bool = True, must_exist: bool = False) -> sqlite_utils.Database:
    """Open (creating if needed) the database at ``path``.

    ``durable=True`` sets ``synchronous=FULL``: a committed business row survives a power cut.
    ``durable=False`` (NORMAL) is for connections that only write data which can be rebuilt, such
    as device status; in WAL mode NORMAL may lose the last commits on power loss but never corrupts.
    """
    try:
        if must_exist and not Path(path).is_file():
            raise StoreUnavailable(path, "the file does not exist (check data_dir in the settings)")
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        db.enable_wal()
        db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    except (OSError, sqlite3.Error) as exc:
        raise StoreUnavailable(path, str(exc)) from exc
    return db


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction: everything inside commits together or not at all; nested calls are savepoints.

    BEGIN IMMEDIATE takes the write lock up front (common/transaction.py, the hub's helper too)."""
    with shared_transaction(db.conn):
        yield db

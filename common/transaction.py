"""One write transaction, nestable, for the van's SQLite and the hub's SQLite or PostgreSQL.

The van's store and the hub's store had two copies of this, and only the van's could nest. Written
once over the smallest connection shape both have — ``execute(sql)`` and ``in_transaction`` — so the
same rules hold on both sides: the outermost call begins and commits, a nested call is a savepoint
that undoes only its own work when it fails, and a failed COMMIT never leaves the transaction open.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from typing import Protocol

_names = itertools.count(1)


class Connection(Protocol):
    in_transaction: bool

    def execute(self, sql: str, *args): ...


@contextlib.contextmanager
def transaction(conn: Connection, begin: str = "BEGIN IMMEDIATE") -> Iterator[None]:
    """Everything inside commits together or not at all; inside another transaction, a savepoint.

    ``begin``: SQLite's BEGIN IMMEDIATE takes the write lock up front, because a deferred BEGIN that later
    upgrades to a writer can fail with SQLITE_BUSY without waiting (the hub's PostgreSQL connection reads
    it as a plain BEGIN)."""
    if conn.in_transaction:
        with _savepoint(conn):
            yield
        return
    conn.execute(begin)
    try:
        yield
    except BaseException:
        if conn.in_transaction:  # a RAISE(ROLLBACK) trigger may have ended it already
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        # A COMMIT that fails (disk full, I/O error, deferred constraint) leaves the transaction open and
        # the write lock held: every later write on this connection would silently become a savepoint
        # that never commits, and other processes would wait forever.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


@contextlib.contextmanager
def _savepoint(conn: Connection) -> Iterator[None]:
    name = f"nested_{next(_names)}"
    conn.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        # An error that ended the whole transaction took the savepoint with it: cleaning up would only
        # hide the original error behind "no such savepoint".
        if conn.in_transaction:
            conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
            conn.execute(f"RELEASE SAVEPOINT {name}")
        raise
    conn.execute(f"RELEASE SAVEPOINT {name}")

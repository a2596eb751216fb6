"""The van's disk: how much room is left, and one clear error when there is not enough.

Two thresholds (``[storage]`` in the settings):
- below ``low_mb`` free, what can be rebuilt is shed first: camera thumbnails are no longer written and
  device-event history is no longer appended (the current state of each device still is);
- below ``reserve_mb`` free, intake refuses a new page *before* the citizen's paper is taken, so the room
  that is left goes to what must never fail: registering requests, tickets, prints and the outbox.
A write that still meets a full disk (ENOSPC, SQLite's "database or disk is full") becomes :class:`DiskFull`,
which the operator reads in Arabic and English; the transaction it was part of is rolled back whole.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from edge.core.errors import EdgeError

MB = 1024 * 1024
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


class DiskFull(EdgeError):
    code = "disk-full"

    def __init__(self, detail: str = ""):
        super().__init__(
            "قرص العربة ممتلئ. لم يُحفظ هذا الإجراء، وكل ما حُفظ قبله سليم. لا تستلم أوراقًا جديدة من المواطنين، "
            "واتصل بالدعم الفني لتفريغ مساحة، ثم أعد المحاولة.",
            "The van's disk is full. This was not saved; everything saved before it is safe. Do not take in "
            "citizens' papers; call technical support to free space, then try again.",
            detail=detail,
        )


def is_full(exc: BaseException) -> bool:
    """True for the errors a full disk raises: ENOSPC/EDQUOT, or SQLite's SQLITE_FULL."""
    if isinstance(exc, OSError):
        return exc.errno in _FULL_ERRNOS
    if isinstance(exc, sqlite3.OperationalError):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(exc)
    return False


@contextlib.contextmanager
def full_is_clear(where: str | Path) -> Iterator[None]:
    """Turn a full disk met inside the block into :class:`DiskFull`; any other error passes unchanged."""
    try:
        yield
    except (OSError, sqlite3.OperationalError) as exc:
        if is_full(exc):
            raise DiskFull(f"{where}: {exc}") from exc
        raise


def free_bytes(path: str | Path) -> int:
    """Free bytes (for an unprivileged writer) on the filesystem holding ``path`` or its nearest parent."""
    p = Path(path)
    while not p.exists() and p != p.parent:
        p = p.parent
    return shutil.disk_usage(p).free


def ensure_room(path: str | Path, need: int, reserve: int) -> None:
    """Refuse (:class:`DiskFull`) unless ``need`` bytes can be written and ``reserve`` bytes still remain."""
    free = free_bytes(path)
    if free < need + reserve:
        raise DiskFull(f"{free} bytes free at {path}; {need} needed plus a reserve of {reserve}")


def is_low(path: str | Path, low: int) -> bool:
    """Below the shedding threshold: stop writing what can be rebuilt."""
    return free_bytes(path) < low

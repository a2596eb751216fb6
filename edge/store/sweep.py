"""The sweeper: files under the documents folder that no row names are removed; rows whose file is gone are counted.

Every multi-step write of pages is ordered so that a crash can only leave the first kind behind: a file
is made durable *before* the commit that names it (intake), and deleted *after* the commit that forgets
it (removing a page, discarding a draft, retention). A stopped process therefore leaves at worst a file
nobody names; this removes it. A file younger than ``older_than`` is left alone: it may be a page whose
draft is being saved at this very moment by another process.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import sqlite_utils

from common.transaction import transaction
from edge.store import documents, drafts

log = logging.getLogger(__name__)

GRACE = timedelta(minutes=15)


# A crash leaves at most the pages of the drafts being saved or forgotten at that instant. Far more files
# that no row names is not what a crash leaves: it is a database that does not match its files (a restored
# backup, a wrong data_dir). Then nothing is deleted; the log says so, and technical support decides.
MAX_ORPHANS = 50


@dataclass(frozen=True)
class SweepResult:
    removed: int  # files no row named
    missing: int  # rows naming a file that is not there (should never happen; logged as an error)
    held: int = 0  # orphans left alone because there were too many to be a crash's (MAX_ORPHANS)


def named(db: sqlite_utils.Database) -> set[str]:
    """The files that rows name: documents of requests and pages of drafts (one read snapshot)."""
    with transaction(db.conn, begin="BEGIN"):  # a read transaction: both lists are of the same instant
        return documents.referenced(db) | drafts.referenced(db)


def sweep(db: sqlite_utils.Database, documents_dir: Path, *, older_than: timedelta = GRACE,
          max_orphans: int = MAX_ORPHANS) -> SweepResult:
    root = Path(documents_dir)
    if not root.is_dir():
        return SweepResult(0, 0)
    keep = named(db)
    cutoff = time.time() - older_than.total_seconds()
    orphans, folders = [], []
    for folder, _dirs, files in os.walk(root, topdown=False):
        here = Path(folder)
        folders.append(here)
        for name in files:
            path = here / name
            if path.relative_to(root).as_posix() in keep:
                continue
            try:
                if path.lstat().st_mtime <= cutoff:
                    orphans.append(path)
            except FileNotFoundError:
                continue
    missing = sum(1 for relative in keep if not (root / relative).is_file())
    if missing:
        log.error("sweep: %d page(s) named by a request or a draft have no file", missing)
    if len(orphans) > max_orphans:
        log.error("sweep: %d files under %s are named by no request or draft — more than a crash leaves; "
                  "nothing deleted (does the database match this folder? a restored backup?)", len(orphans), root)
        return SweepResult(0, missing, held=len(orphans))
    removed = 0
    emptied: set[Path] = set()  # folders this pass removed something from (their mtime is now)
    for path in orphans:
        try:
            path.unlink()
            removed += 1
            emptied.add(path.parent)
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("sweep: could not delete %s: %s", path.relative_to(root), exc)
    for here in folders:  # deepest first
        if here == root:
            continue
        try:
            if not any(here.iterdir()) and (here in emptied or here.stat().st_mtime <= cutoff):
                here.rmdir()
                emptied.add(here.parent)
        except OSError:
            pass  # a page is being written into it right now, or it was just removed
    if removed:
        log.info("sweep: removed %d file(s) no request or draft names", removed)
    return SweepResult(removed, missing)

"""A real small filesystem (tmpfs) to run out of room on, and a filler that takes what is left."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_disk(path: Path, size_kb: int = 4096) -> Iterator[Path]:
    """Mount a ``size_kb`` tmpfs at ``path`` for the duration (needs root, as the test command runs here)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (the project's test command runs as root)")
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0755", "tmpfs", str(path)],
                   check=True, capture_output=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


def fill(path: Path, leave: int = 0) -> Path:
    """Write a filler file on ``path``'s filesystem until ``leave`` bytes (or nothing) are free."""
    filler = path / "filler.bin"
    with open(filler, "ab") as f:
        while (room := shutil.disk_usage(path).free - leave) > 0:
            try:
                f.write(b"\0" * min(room, 1 << 20))
                f.flush()
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    return filler


def files_under(root: Path) -> set[str]:
    """Every file under ``root``, relative (the filler and SQLite's own files left out)."""
    skip = {"filler.bin", "van.db", "van.db-wal", "van.db-shm"}
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name not in skip}

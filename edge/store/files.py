"""Writing a file so that a power cut cannot take it back: temporary file, fsync, rename, fsync of the folder."""

from __future__ import annotations

import os
from pathlib import Path

from edge.store import disk


def write_file(directory: Path, name: str, content: bytes) -> Path:
    """Write ``content`` to ``directory/name`` durably: a temporary file, fsync, rename, fsync of the folder
    (and of each folder this created), so that once this returns a power cut cannot take the file back.

    A full disk raises :class:`~edge.store.disk.DiskFull` and leaves no temporary file behind."""
    target = Path(directory) / name
    tmp = target.with_name(f".{name}.tmp")
    with disk.full_is_clear(target):
        try:
            created = _make_dirs(Path(directory))
            with open(tmp, "wb") as f:
                f.write(content)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
            for folder in [Path(directory), *created]:
                fsync_dir(folder)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return target


def _make_dirs(directory: Path) -> list[Path]:
    """mkdir -p; returns the parents of the folders it created (whose entries must be made durable)."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for folder in reversed(missing):
        folder.mkdir(exist_ok=True)
    return [m.parent for m in missing]


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in ``directory`` durable (the directory's own entry), for every module that
    writes files atomically (edge.update too)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

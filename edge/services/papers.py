"""The last papers the printer printed, as pictures for the console's status page (issue 18).

Each picture is drawn from the very ESC/POS bytes the printer was sent (:mod:`edge.devices.printer.paper`), after
the printer said the job printed — the real printer and its twin alike, so a demo user or an operator whose
printer is a twin sees the paper, and a fault in the encoder would show. Only the newest :data:`KEEP` are
kept: a receipt carries a citizen's masked name and ID, and they are for checking the printer, not an archive.
Writing a picture never fails a print: a problem is logged and the paper is simply not shown.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from edge.devices.printer import paper as printer_paper
from edge.devices.printer.layout import Paper
from edge.store import files

log = logging.getLogger(__name__)

KEEP = 12
_NAME = re.compile(r"^(\d{8}T\d{12})Z-(ticket|receipt|test)(-training)?\.png$")


@dataclass(frozen=True)
class Printed:
    name: str       # the file's name, what the console's address for it carries
    kind: str       # ticket, receipt, test
    at: datetime    # when it was printed (UTC)
    training: bool


def keep(folder: Path, kind: str, sent: bytes, paper: Paper, *, training: bool = False,
         now: datetime | None = None) -> Path | None:
    """Keep the picture of a paper that printed (``sent``: its bytes); the oldest pictures beyond KEEP go."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    name = f"{now:%Y%m%dT%H%M%S%f}Z-{kind}{'-training' if training else ''}.png"
    if not _NAME.match(name):
        log.warning("not keeping a picture of a %r paper", kind)
        return None
    try:
        png = io.BytesIO()
        printer_paper.picture(sent, paper).save(png, format="PNG", optimize=True)
        files.write_file(folder, name, png.getvalue())
    except (ValueError, OSError) as exc:  # DiskFull is an OSError too
        log.warning("the picture of a printed %s could not be kept: %s", kind, exc)
        return None
    for old in [p.name for p in recent(folder)][KEEP:]:
        with contextlib.suppress(OSError):
            (folder / old).unlink()
    return folder / name


def recent(folder: Path) -> list[Printed]:
    """The pictures kept, newest first."""
    found = []
    with contextlib.suppress(OSError):
        for path in Path(folder).iterdir():
            m = _NAME.match(path.name)
            if m:
                at = datetime.strptime(m.group(1), "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
                found.append(Printed(path.name, m.group(2), at, bool(m.group(3))))
    return sorted(found, key=lambda p: p.name, reverse=True)


def path_of(folder: Path, name: str) -> Path | None:
    """The picture called ``name``, if it is one of ours and still kept (nothing else can be asked for)."""
    if not _NAME.match(name or ""):
        return None
    path = Path(folder) / name
    return path if path.is_file() else None

"""Log lines for a terminal (with a time stamp) or for systemd's journal (a priority prefix such as <3>, no time)."""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

TERMINAL_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JOURNAL_FORMAT = "%(name)s: %(message)s"  # the journal stamps each line itself


def priority(levelno: int) -> int:
    """The sd-daemon / syslog priority of a logging level: 2 critical, 3 error, 4 warning, 6 info, 7 debug."""
    for floor, prio in ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6)):
        if levelno >= floor:
            return prio
    return 7


class JournalFormatter(logging.Formatter):
    """Every line gets the record's priority prefix, so each line of a traceback is filed as an error too."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines() or [""])


def writes_to_journal(stream: TextIO | None = None) -> bool:
    """True when ``stream`` (stderr) is the journal stream systemd gave this service.

    systemd sets JOURNAL_STREAM to the journal stream's ``device:inode``; a child whose stderr was
    redirected still inherits the variable, so the stream itself is compared, as systemd.exec(5) advises.
    """
    value = os.environ.get("JOURNAL_STREAM", "")
    device, _, inode = value.partition(":")
    if not (value.isascii() and device.isdigit() and inode.isdigit()):
        return False
    try:
        st = os.fstat((stream or sys.stderr).fileno())
    except (AttributeError, OSError, ValueError):  # no real file behind it (a test runner's capture)
        return False
    return (st.st_dev, st.st_ino) == (int(device), int(inode))


def configure(level: int) -> None:
    """Set up the root logger on stderr: journal prefixes under systemd, time stamps everywhere else."""
    handler = logging.StreamHandler()
    if writes_to_journal(handler.stream):
        handler.setFormatter(JournalFormatter(JOURNAL_FORMAT))
    else:
        handler.setFormatter(logging.Formatter(TERMINAL_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])

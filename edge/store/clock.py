"""The store's notion of now: timezone-aware UTC, written as ISO-8601 text; and a clock that does not step."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from edge.core.localtime import VAN_TZ, local_day  # noqa: F401  (re-exported for the store)


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the store only records timezone-aware times")
    return moment.astimezone(UTC).isoformat()


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


# The machine's boot: its id (a new one at every boot) and CLOCK_BOOTTIME, the seconds since it — a clock the wall
# clock's steps (NTP putting right a van without a reliable RTC, just when the LTE link comes back) do not move, the
# same for every process of the machine, counting time suspended. Its readings compare only within one boot.
BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id"
_BOOT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
BOOT_S_MAX = 10 * 366 * 86400.0  # ten years up: more is no reading of this clock


def aware(value: object) -> datetime | None:
    """An ISO-8601 time with its zone (a record another process wrote: the link's return, a word's time, a camera's
    offline time), or None."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def boot_clock() -> tuple[str, float] | None:
    """(this boot's id, seconds since it on CLOCK_BOOTTIME), or None where there is none (not Linux, no /proc)."""
    try:
        with open(BOOT_ID_FILE) as f:
            boot = f.read(100).strip()
        seconds = time.clock_gettime(time.CLOCK_BOOTTIME)
    except (OSError, AttributeError, ValueError):
        return None
    return (boot, seconds) if boot_mark(boot, seconds) is not None else None


def boot_mark(boot: object, seconds: object) -> tuple[str, float] | None:
    """A boot-clock reading another process wrote (untrusted): (boot id, seconds) when it is one, else None."""
    if not (isinstance(boot, str) and _BOOT_ID.fullmatch(boot)):
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return None
    if not 0 <= seconds <= BOOT_S_MAX:  # NaN and infinity too; before float(), which 10**400 overflows
        return None
    return boot, float(seconds)

"""The store's notion of now: timezone-aware UTC, written as ISO-8601 text."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the store only records timezone-aware times")
    return moment.astimezone(UTC).isoformat()


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


# The vans work in Egypt: request numbers and ticket series restart at local midnight.
VAN_TZ = ZoneInfo("Africa/Cairo")


def local_day(moment: datetime) -> date:
    return moment.astimezone(VAN_TZ).date()

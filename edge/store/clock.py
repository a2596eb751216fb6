"""The store's notion of now: timezone-aware UTC, written as ISO-8601 text."""

from __future__ import annotations

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

"""The vans' local time: Egypt. Request numbers, ticket series and printed dates follow the local day."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

VAN_TZ = ZoneInfo("Africa/Cairo")


def local_day(moment: datetime) -> date:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: local day needs a timezone-aware time")
    return moment.astimezone(VAN_TZ).date()

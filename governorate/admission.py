"""What the hub admits from a van beyond the wire schema: times that can be true, known figures in their range.

The wire schema (``edge.sync.schema``) says what a message may look like; it lets through a time in
year 1 or 9999 and a latitude of 1e308, which the hub's own arithmetic, ordering and drawings cannot
take. A message that fails here is refused like one that fails the schema (listed under ``rejected``
in the van's next ack, so the van keeps it and raises its backlog alarm) and kept in the hub's
quarantine with the reason (``governorate.quarantine``) for staff; no other message waits on it
(docs/protocol.md, "Quarantine").
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from edge.core.localtime import VAN_TZ

# No van sent anything before the programme began; a clock reset to 1970 or 2000 is a van fault.
EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)
# How far ahead of the hub's clock a van's time may be. Telemetry is latest-wins, so a fast clock there
# would hide the next snapshots: it gets the small tolerance; business records the day-sized one.
AHEAD_TELEMETRY = timedelta(minutes=10)
AHEAD_RECORDS = timedelta(days=1)
OLDEST_BIRTH = date(1900, 1, 1)
LATEST_READY_YEARS = 10

# Telemetry figures the hub reads, by what the screens call them: the names a van may use, and the range.
FIGURES: dict[str, tuple[tuple[str, ...], float, float]] = {
    "lat": (("gps.lat", "device.gps.lat", "gps_lat"), -90.0, 90.0),
    "lon": (("gps.lon", "device.gps.lon", "gps_lon"), -180.0, 180.0),
    "rsrp": (("lte.rsrp_dbm", "modem.rsrp_dbm", "lte_rsrp_dbm"), -200.0, 0.0),
    "signal_pct": (("modem.signal", "device.modem.signal", "lte.signal_percent"), 0.0, 100.0),
    "backlog": (("outbox_pending", "backlog.pending"), 0.0, 1e9),
    "backlog_age_s": (("outbox_oldest_age_s", "backlog.oldest_s"), 0.0, 10 * 366 * 86400.0),
}
_RANGES = {name: (lo, hi) for names, lo, hi in FIGURES.values() for name in names}
_COUNTS_PREFIX = "outbox_pending_"  # outbox_pending_tx, …: counts like outbox_pending


class Inadmissible(Exception):
    """A message the hub will not apply: ``reason`` is a short code, ``detail`` says which field and why."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def figure(values: Mapping[str, Any], what: str) -> int | float | None:
    """The telemetry figure ``what`` (a key of FIGURES) as the van sent it, if it is a number in range; else None."""
    names, lo, hi = FIGURES[what]
    for name in names:
        value = values.get(name)
        if _number_in(value, lo, hi):
            return value
    return None


def _number_in(value: Any, lo: float, hi: float) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            and lo <= value <= hi)


def check(stream: str, kind: str, created_at: str, body: Mapping[str, Any], received_at: datetime) -> None:
    """Raise Inadmissible for what the hub must not apply; return quietly otherwise."""
    ahead = AHEAD_TELEMETRY if stream == "tel" else AHEAD_RECORDS
    _moment(created_at, "created_at", received_at, ahead)
    for path, value in _times(body, "body"):
        _moment(value, path, received_at, ahead)
    for path, value in _texts(body, "body"):
        if "\x00" in value:  # no van writes one, and PostgreSQL cannot keep one in a text column
            raise Inadmissible("bad-value", f"{path} contains a NUL character")
    if kind == "request.submitted":
        _day(body["citizen"]["birth_date"], "body.citizen.birth_date", OLDEST_BIRTH, received_at.date())
        latest = received_at.date() + timedelta(days=366 * LATEST_READY_YEARS)
        _day(body["expected_ready_on"], "body.expected_ready_on", EARLIEST.date(), latest)
    if kind == "shift.closed":  # its times are plausible (above); they must also agree with each other
        opened, closed = datetime.fromisoformat(body["opened_at"]), datetime.fromisoformat(body["closed_at"])
        if closed < opened:
            raise Inadmissible("bad-value", f"body.closed_at {body['closed_at'][:40]} is before body.opened_at")
        if body["day"] != opened.astimezone(VAN_TZ).date().isoformat():
            raise Inadmissible("bad-value", f"body.day {body['day']} is not the day the shift opened in Egypt")
    if kind == "tel.snapshot":
        for name, value in body["values"].items():
            lo_hi = _RANGES.get(name) or ((0.0, 1e9) if name.startswith(_COUNTS_PREFIX) else None)
            if lo_hi and value is not None and not _number_in(value, *lo_hi):
                raise Inadmissible("out-of-range", f"body.values.{name} must be a number {lo_hi[0]:g}–{lo_hi[1]:g}, "
                                                   f"is {str(value)[:40]!r}")


def _texts(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every text in a body (map keys included), with where it is."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str):
                yield f"{path} key", key
            yield from _texts(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _texts(item, f"{path}[{i}]")


def _times(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every time in a body: the text values of keys ``at`` and ``…_at`` (the schema's timestamp fields)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}"
            if isinstance(item, str) and isinstance(key, str) and (key == "at" or key.endswith("_at")):
                yield where, item
            elif isinstance(item, Mapping | list):
                yield from _times(item, where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _times(item, f"{path}[{i}]")


def _moment(text: str, path: str, received_at: datetime, ahead: timedelta) -> None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Inadmissible("bad-time", f"{path} is not a time: {text[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment < EARLIEST:
        raise Inadmissible("implausible-time", f"{path} {text[:40]} is before {EARLIEST:%Y-%m-%d} (van clock reset?)")
    if moment > received_at + ahead:
        raise Inadmissible("implausible-time", f"{path} {text[:40]} is ahead of the hub's clock "
                                               f"({received_at:%Y-%m-%dT%H:%M:%SZ}) by more than {ahead}")


def _day(text: str, path: str, lo: date, hi: date) -> None:
    moment = date.fromisoformat(text)
    if not lo <= moment <= hi:
        raise Inadmissible("implausible-date", f"{path} {text} is outside {lo}–{hi}")

"""The vans' closed shifts at the governorate (issue 19): the Z-reports that arrived as ``shift.closed``
(governorate.ingest projects them into the ``shifts`` table), for the van page and the performance screens."""

from __future__ import annotations

from governorate.store import HubStore

_FIELDS = ("van", "shift", "operator", "day", "opened_at", "closed_at", "opening_float_piastres",
           "counted_cash_piastres", "expected_cash_piastres", "difference_piastres", "fees_cash_piastres",
           "fees_card_piastres", "fees_reference_piastres", "refunds_piastres", "requests", "reason", "confirmed_by")


def for_van(store: HubStore, van: str, limit: int = 20) -> list[dict]:
    """The van's latest closed shifts, newest first."""
    rows = store._read(f"SELECT {', '.join(_FIELDS)} FROM shifts WHERE van = ? ORDER BY closed_at DESC, shift DESC "
                       "LIMIT ?", [van, limit])
    return [dict(zip(_FIELDS, r, strict=True)) for r in rows]


def with_differences(store: HubStore, since_day: str, limit: int = 200) -> list[dict]:
    """Shifts closed with a cash difference since ``since_day`` (ISO date), largest first: what staff follow up."""
    rows = store._read(f"SELECT {', '.join(_FIELDS)} FROM shifts WHERE day >= ? AND difference_piastres <> 0 "
                       "ORDER BY ABS(difference_piastres) DESC, closed_at DESC LIMIT ?", [since_day, limit])
    return [dict(zip(_FIELDS, r, strict=True)) for r in rows]

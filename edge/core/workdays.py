"""Legal durations in working days: when a request is due (issue 19).

A service's legal duration (``Service.duration_days`` in the catalogue) counts working days: the Egyptian
government week runs Sunday to Thursday, and official public holidays are not counted. The holidays are data
(``edge/core/data/holidays.toml``: fixed ones every year, movable ones per year as the Cabinet announces them),
so the governorate can correct a year's dates without a software update (:func:`loads`).

``due_date(submitted_on, n)`` is the n-th working day after the day of submission (the day itself does not
count, whatever time it was): a request submitted on a Thursday with a duration of 1 is due on Sunday.
"""

from __future__ import annotations

import datetime
import tomllib
from dataclasses import dataclass
from importlib import resources

WEEKEND = frozenset({4, 5})  # date.weekday(): Friday and Saturday
MAX_DAYS = 3650 * 2          # working days counted at most (the catalogue's durations stop at 3,650)
# A calendar from outside (the governorate publishes one) is distrusted: Egypt has about eight fixed holidays and ten
# movable days a year. These bounds keep a due date computable — 366 fixed days off would leave no working day.
MAX_FIXED = 40
MAX_MOVABLE = 400


class CalendarError(ValueError):
    """A holidays file that cannot be used; the message names the entry at fault."""


@dataclass(frozen=True)
class Calendar:
    fixed: frozenset[tuple[int, int]]          # (month, day) off every year
    movable: frozenset[datetime.date]          # single days off
    version: int = 1

    def is_working_day(self, day: datetime.date) -> bool:
        return day.weekday() not in WEEKEND and (day.month, day.day) not in self.fixed and day not in self.movable

    def due_date(self, submitted_on: datetime.date, working_days: int) -> datetime.date:
        """The ``working_days``-th working day after ``submitted_on`` (which does not count)."""
        if not 0 <= working_days <= MAX_DAYS:
            raise ValueError(f"working days must be 0..{MAX_DAYS}, not {working_days!r}")
        day, left = submitted_on, working_days
        while left:
            day += datetime.timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: datetime.date, end: datetime.date) -> int:
        """How many working days lie after ``start`` up to and including ``end`` (0 when ``end`` <= ``start``)."""
        count, day = 0, start
        while day < end:
            day += datetime.timedelta(days=1)
            count += self.is_working_day(day)
        return count


def loads(text: str, source: str = "<holidays>") -> Calendar:
    """A calendar from the holidays TOML (the shipped file's form); CalendarError saying what is wrong."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CalendarError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:  # arrays nested thousands deep: tomllib parses them by recursion
        raise CalendarError(f"{source}: not valid TOML: nested too deeply") from None
    if set(raw) - {"version", "fixed", "movable"}:
        raise CalendarError(f"{source}: unknown keys {sorted(set(raw) - {'version', 'fixed', 'movable'})}")
    version = raw.get("version", 1)
    if type(version) is not int or version < 1:
        raise CalendarError(f"{source}: version must be a whole number from 1")
    fixed, movable = set(), set()
    for key in ("fixed", "movable"):
        if not isinstance(raw.get(key, []), list):
            raise CalendarError(f"{source}: {key} must be a list of tables ([[{key}]])")
    for i, entry in enumerate(raw.get("fixed", [])):
        _names(entry, f"{source}: fixed[{i}]", {"day"})
        try:
            month, day = (int(part) for part in str(entry["day"]).split("-"))
            datetime.date(2024, month, day)  # a leap year: 02-29 is a day some years have
        except (ValueError, TypeError):
            raise CalendarError(f"{source}: fixed[{i}].day must be MM-DD, not {entry['day']!r}") from None
        fixed.add((month, day))
    for i, entry in enumerate(raw.get("movable", [])):
        _names(entry, f"{source}: movable[{i}]", {"days"})
        days = entry["days"]
        if not isinstance(days, list) or not days:
            raise CalendarError(f"{source}: movable[{i}].days must list one or more dates")
        for value in days:
            try:
                movable.add(value if type(value) is datetime.date else datetime.date.fromisoformat(str(value)))
            except ValueError:
                raise CalendarError(f"{source}: movable[{i}] has {value!r}, not a date like 2026-04-13") from None
    if len(fixed) > MAX_FIXED or len(movable) > MAX_MOVABLE:
        raise CalendarError(f"{source}: {len(fixed)} fixed and {len(movable)} movable holidays; at most {MAX_FIXED} "
                            f"and {MAX_MOVABLE}")
    return Calendar(frozenset(fixed), frozenset(movable), version)


def _names(entry, where: str, keys: set[str]) -> None:
    if not isinstance(entry, dict):
        raise CalendarError(f"{where} must be a table")
    wanted = keys | {"name_ar", "name_en"}
    if set(entry) != wanted:
        raise CalendarError(f"{where} must have exactly {sorted(wanted)}, has {sorted(entry)}")
    if not all(isinstance(entry[k], str) and entry[k].strip() for k in ("name_ar", "name_en")):
        raise CalendarError(f"{where} needs its name in Arabic and English")


def load_default() -> Calendar:
    """The holidays shipped with the software."""
    return _DEFAULT


_DEFAULT = loads(resources.files("edge.core").joinpath("data/holidays.toml").read_text(encoding="utf-8"),
                 "edge/core/data/holidays.toml")

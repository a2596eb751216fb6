"""Legal durations in working days (issue 19): Sunday–Thursday, Egypt's public holidays off, as data."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.core import workdays

CAL = workdays.load_default()
DAYS = st.dates(datetime.date(2025, 1, 1), datetime.date(2028, 12, 31))


@settings(derandomize=True, max_examples=300, deadline=None)
@given(DAYS, st.integers(0, 400))
def test_a_due_date_is_a_working_day_exactly_n_working_days_on(start, n):
    due = CAL.due_date(start, n)
    assert CAL.working_days_between(start, due) == n
    if n:
        assert CAL.is_working_day(due) and due > start
        assert (due - start).days >= n  # never sooner than the calendar days
        # and the first day that holds as many working days: the one before it holds one fewer
        assert CAL.working_days_between(start, due - datetime.timedelta(days=1)) == n - 1
    else:
        assert due == start


@settings(derandomize=True, max_examples=200, deadline=None)
@given(DAYS, st.integers(0, 200), st.integers(0, 200))
def test_a_longer_duration_is_due_later(start, a, b):
    assert (CAL.due_date(start, a) < CAL.due_date(start, b)) == (a < b)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(DAYS, st.integers(1, 60))
def test_no_due_date_falls_on_a_friday_a_saturday_or_a_holiday(start, n):
    due = CAL.due_date(start, n)
    assert due.weekday() not in (4, 5)
    assert (due.month, due.day) not in CAL.fixed and due not in CAL.movable


def test_the_egyptian_week_and_holidays():
    thursday = datetime.date(2026, 12, 3)
    assert CAL.due_date(thursday, 1) == datetime.date(2026, 12, 6)  # Friday and Saturday off: Sunday
    # 23 July 2026 is a Thursday and a holiday: a request of the Wednesday before, due in one day, is due Sunday.
    assert CAL.due_date(datetime.date(2026, 7, 22), 1) == datetime.date(2026, 7, 26)
    # Eid al-Fitr 2026 (Thursday 19 to Sunday 22 March): a request of Wednesday the 18th, due in one working
    # day, is due on Monday the 23rd.
    assert CAL.due_date(datetime.date(2026, 3, 18), 1) == datetime.date(2026, 3, 23)
    assert not CAL.is_working_day(datetime.date(2027, 1, 7))  # every year's fixed holidays


@pytest.mark.parametrize("text, why", [
    ("version = 0", "version"),
    ('[[fixed]]\nday = "13-01"\nname_ar = "س"\nname_en = "x"', "MM-DD"),
    ('[[fixed]]\nday = "01-07"\nname_ar = ""\nname_en = "x"', "Arabic and English"),
    ('[[movable]]\ndays = ["2026-02-30"]\nname_ar = "س"\nname_en = "x"', "not a date"),
    ('[[movable]]\ndays = []\nname_ar = "س"\nname_en = "x"', "one or more"),
    ("holidays = 3", "unknown keys"),
    ("version = ", "TOML"),
])
def test_a_holidays_file_that_cannot_be_used_says_why(text, why):
    with pytest.raises(workdays.CalendarError) as caught:
        workdays.loads(text)
    assert why in str(caught.value)


def test_a_governorate_can_add_a_day_off():
    extra = workdays.loads('[[movable]]\ndays = ["2026-12-06"]\nname_ar = "عطلة"\nname_en = "A day off"')
    assert extra.due_date(datetime.date(2026, 12, 3), 1) == datetime.date(2026, 12, 7)


_TOML_VALUE = st.recursive(
    st.one_of(st.integers(-5, 2**63), st.text(max_size=12), st.booleans(), st.dates(), st.just("2026-02-30"),
              st.just("13-01"), st.just("01-07")),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["day", "days", "name_ar", "name_en", "x"]), inner, max_size=4), max_leaves=12)


def _toml(value) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | datetime.date):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["version", "fixed", "movable", "extra"]), _TOML_VALUE, max_size=3),
       st.text(max_size=30))
def test_any_holidays_file_from_outside_is_a_calendar_or_a_calendar_error(doc, noise):
    # The governorate publishes this file to every van (downlink "calendar"): whatever it holds, the van gets a
    # calendar in which a due date can be computed, or a CalendarError saying why — never another exception.
    for text in ("\n".join(f"{k} = {_toml(v)}" for k, v in doc.items()), noise):
        try:
            cal = workdays.loads(text)
        except workdays.CalendarError:
            continue
        assert len(cal.fixed) <= workdays.MAX_FIXED and len(cal.movable) <= workdays.MAX_MOVABLE
        assert cal.due_date(datetime.date(2026, 1, 1), 30) > datetime.date(2026, 1, 1)

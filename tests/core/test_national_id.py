"""A citizen types their national ID at the van: what is accepted, and what they are told when it is wrong."""

from __future__ import annotations

import string
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.core import governorates
from edge.core.digits import eastern_run, to_ascii, to_eastern
from edge.core.errors import EdgeError
from edge.core.national_id import Gender, InvalidNationalId, NationalId, parse

TODAY = date(2026, 6, 1)
REASONS = {"empty", "length", "not-digits", "century", "date", "future-date", "governorate"}


def reason_of(text: str, today: date = TODAY) -> str:
    with pytest.raises(InvalidNationalId) as caught:
        parse(text, today=today)
    return caught.value.reason


# --- the happy path -------------------------------------------------------------------------------


def test_a_typical_id_gives_birth_date_governorate_and_gender():
    # 2 | 900101 | 01 | 1235 | 5: born 1990-01-01 in Cairo, digit 13 is 5 (odd) so male.
    nid = parse("29001010112355", today=TODAY)
    assert nid.number == "29001010112355"
    assert nid.birth_date == date(1990, 1, 1)
    assert nid.governorate.name_en == "Cairo"
    assert nid.gender is Gender.MALE


def test_digits_8_and_9_are_the_governorate_and_digit_13_the_gender():
    # 2 | 900101 | 12 | 3456 | 7: digits 8-9 are 12 (Dakahlia), digit 13 is 6 (even) so female.
    nid = parse("29001011234567", today=TODAY)
    assert nid.governorate.name_en == "Dakahlia"
    assert nid.gender is Gender.FEMALE


def test_century_digit_3_means_born_in_the_2000s():
    nid = parse("30502282101236", today=TODAY)
    assert nid.birth_date == date(2005, 2, 28)
    assert nid.governorate.name_en == "Giza"


def test_born_abroad_code_88_is_accepted():
    assert parse("29001018812345", today=TODAY).governorate.code == governorates.ABROAD


def test_eastern_arabic_digits_are_accepted():
    nid = parse("٢٩٠٠١٠١١٢٣٤٥٦٧", today=TODAY)
    assert nid.number == "29001011234567"  # stored in ASCII whatever was typed
    assert nid.birth_date == date(1990, 1, 1)


def test_persian_digits_are_accepted():
    assert parse("۲۹۰۰۱۰۱۱۲۳۴۵۶۷", today=TODAY).birth_date == date(1990, 1, 1)


@pytest.mark.parametrize(
    "typed",
    [
        "  29001011234567\n",
        "2 900101 01 2345 7",
        "2-900101-12-3456-7",
        "29001 01123 4567",
        "٢٩٠٠١٠١ ١٢٣٤٥٦٧",
        "2900101\u00a01234567",  # no-break space, pasted from a document
        "2900101–1234567",  # en dash from a phone keyboard
    ],
)
def test_spaces_and_hyphens_between_digit_groups_are_ignored(typed):
    assert parse(typed, today=TODAY).birth_date == date(1990, 1, 1)


def test_check_digit_is_never_used_to_reject():
    for last in "0123456789":
        parse("2900101123456" + last, today=TODAY)


def test_leap_day_birth_is_accepted_in_a_leap_year():
    assert parse("30002290112345", today=TODAY).birth_date == date(2000, 2, 29)
    assert parse("29602290112345", today=TODAY).birth_date == date(1996, 2, 29)


def test_born_today_is_not_in_the_future():
    assert parse("32606010112345", today=TODAY).birth_date == TODAY


def test_age_counts_full_years():
    nid = parse("29001011234567", today=TODAY)
    assert nid.age(date(2025, 12, 31)) == 35
    assert nid.age(date(2026, 1, 1)) == 36


def test_leap_day_birthday_is_counted_on_first_of_march_in_common_years():
    nid = parse("30002290112345", today=TODAY)
    assert nid.age(date(2001, 2, 28)) == 0
    assert nid.age(date(2001, 3, 1)) == 1
    assert nid.age(date(2004, 2, 29)) == 4


# --- personal data stays out of logs --------------------------------------------------------------


def test_masked_keeps_first_seven_and_last_two_digits():
    assert parse("29001011234567", today=TODAY).masked() == "2900101*****67"


def test_str_and_repr_never_show_the_full_number():
    nid = parse("29001010112355", today=TODAY)
    assert str(nid) == "NationalId(2900101*****55, born 1990-01-01, male, Cairo)"
    assert repr(nid) == str(nid)
    assert "29001010112355" not in f"{nid} {nid!r} {[nid]}"


def test_error_messages_never_contain_the_full_number():
    with pytest.raises(InvalidNationalId) as caught:
        parse("29001012034567", today=TODAY)  # governorate 20
    err = caught.value
    assert "29001012034567" not in f"{err} {err.detail} {err.message_ar} {err.message_en}"


# --- every reason, with a message that says what to do ---------------------------------------------


@pytest.mark.parametrize("typed", ["", "   ", " - - "])
def test_nothing_typed_is_reported_as_empty(typed):
    assert reason_of(typed) == "empty"


def test_wrong_length_says_how_many_digits_were_entered():
    with pytest.raises(InvalidNationalId) as caught:
        parse("2900101123456", today=TODAY)
    err = caught.value
    assert err.reason == "length"
    assert err.code == "national-id-length"
    assert err.message_en.startswith("The national ID must have 14 digits; you entered 13.")
    assert "١٤" in err.message_ar and "١٣" in err.message_ar
    assert isinstance(err, EdgeError)


def test_letters_are_rejected_naming_the_bad_character():
    with pytest.raises(InvalidNationalId) as caught:
        parse("2900101123456O", today=TODAY)  # letter O for zero
    assert caught.value.reason == "not-digits"
    assert "“O”" in caught.value.message_en
    assert "«O»" in caught.value.message_ar


def test_unknown_century_digit_is_rejected():
    with pytest.raises(InvalidNationalId) as caught:
        parse("19001011234567", today=TODAY)
    assert caught.value.reason == "century"
    assert "you entered 1" in caught.value.message_en


def test_bad_birth_date_is_rejected_naming_the_date():
    with pytest.raises(InvalidNationalId) as caught:
        parse("29002301234567", today=TODAY)
    err = caught.value
    assert err.reason == "date"
    assert err.code == "national-id-date"
    assert "The birth date in the national ID (digits 2–7) is not a real date: 1990-02-30." in err.message_en
    # Eastern digits held in their written order (eastern_run): to_eastern alone drew the groups reversed (issue 18).
    assert eastern_run("1990-02-30") in err.message_ar and "٣٠" in err.message_ar


@pytest.mark.parametrize("digits", ["29013011234567", "29000011234567", "29001321234567", "29100001234567"])
def test_impossible_months_and_days_are_rejected(digits):
    assert reason_of(digits) == "date"


def test_29_february_in_a_common_year_is_not_a_real_date():
    assert reason_of("29902290112345") == "date"  # 1999
    assert parse("30002290112345", today=TODAY)  # 2000 is a leap year (divisible by 400)
    assert reason_of("20002290112345") == "date"  # 1900 is not (divisible by 100)


def test_birth_date_after_today_is_rejected():
    with pytest.raises(InvalidNationalId) as caught:
        parse("32606020112345", today=TODAY)
    assert caught.value.reason == "future-date"
    assert "2026-06-02" in caught.value.message_en
    # The same number is fine once that day has come.
    assert parse("32606020112345", today=date(2026, 6, 2)).birth_date == date(2026, 6, 2)


def test_unknown_governorate_code_is_named():
    with pytest.raises(InvalidNationalId) as caught:
        parse("29001012034567", today=TODAY)
    err = caught.value
    assert err.reason == "governorate"
    assert err.code == "national-id-governorate"
    assert "Unknown governorate code 20 in digits 8–9." in err.message_en
    assert "٢٠" in err.message_ar


@pytest.mark.parametrize("code", ["00", "05", "10", "20", "30", "36", "87", "89", "99"])
def test_codes_outside_the_table_are_rejected(code):
    assert reason_of(f"2900101{code}12345") == "governorate"


@pytest.mark.parametrize("code", sorted(governorates.BY_CODE))
def test_every_code_in_the_table_is_accepted(code):
    assert parse(f"2900101{code}12345", today=TODAY).governorate.code == code


def test_every_message_has_arabic_and_english_text():
    for typed in ["", "12", "x" * 14, "19001011234567", "29002301234567", "32606020112345", "29001012034567"]:
        with pytest.raises(InvalidNationalId) as caught:
            parse(typed, today=TODAY)
        err = caught.value
        assert err.message_en and err.message_ar and err.message_ar != err.message_en
        assert not any(c in string.ascii_letters for c in err.message_ar.replace("x", ""))
        assert err.code == f"national-id-{err.reason}"


# --- properties ------------------------------------------------------------------------------------


@st.composite
def valid_ids(draw):
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    code = draw(st.sampled_from(sorted(governorates.BY_CODE)))
    serial = draw(st.integers(0, 9999))
    check = draw(st.integers(0, 9))
    century = "2" if born.year < 2000 else "3"
    return f"{century}{born:%y%m%d}{code}{serial:04d}{check}", born, code, serial


@given(valid_ids())
def test_any_valid_id_parses_and_round_trips_its_fields(case):
    number, born, code, serial = case
    nid = parse(number, today=TODAY)
    assert nid == NationalId(
        number, born, Gender.MALE if (serial % 10) % 2 else Gender.FEMALE, governorates.BY_CODE[code]
    )
    assert parse(to_eastern(number), today=TODAY) == nid
    assert nid.masked() == number[:7] + "*****" + number[-2:]


@given(st.text(alphabet="0123456789", max_size=40).filter(lambda s: len(s) != 14))
def test_any_digit_string_that_is_not_14_long_is_rejected_for_length(digits):
    assert reason_of(digits) in {"length", "empty"}


_MIXED = "0123456789٠١٢٣٤٥٦٧٨٩ -abcXYZ.,/+٫"


def _is_14_digits_after_cleaning(text: str) -> bool:
    cleaned = "".join(c for c in to_ascii(text) if c not in " -")
    return len(cleaned) == 14 and all(c in "0123456789" for c in cleaned)


@given(st.text(alphabet=_MIXED, max_size=30).filter(lambda s: not _is_14_digits_after_cleaning(s)))
def test_anything_that_is_not_14_digits_raises_invalid_national_id(text):
    with pytest.raises(InvalidNationalId):
        parse(text, today=TODAY)


@given(st.text())
def test_parse_raises_nothing_but_invalid_national_id_on_arbitrary_text(text):
    try:
        parse(text, today=TODAY)
    except InvalidNationalId as err:
        assert err.reason in REASONS

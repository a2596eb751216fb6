"""Mobile numbers and citizen names as operators type them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.core import phone
from edge.core.citizens import Citizen, InvalidName, clean_name
from edge.core.national_id import parse


@pytest.mark.parametrize("typed", [
    "01012345678", "010 1234 5678", "010-1234-5678", "+201012345678", "+20 10 1234 5678",
    "+20 010 1234 5678", "00201012345678", "0020 010 1234 5678", "٠١٠١٢٣٤٥٦٧٨", "(010) 12345678",
])
def test_common_ways_of_writing_a_mobile_number_are_accepted(typed):
    assert phone.parse(typed) == "01012345678"


@pytest.mark.parametrize("typed", ["0101234567", "010123456789", "01312345678", "02 2345 6789", "abc", "",
                                   "٠١٠١٢٣٤٥٦٧²", "০১০১২৩৪৫৬৭৮"])  # '²' and Bengali digits: digits to str.isdigit
def test_wrong_mobile_number_says_what_a_number_looks_like(typed):
    with pytest.raises(phone.InvalidMobile) as err:
        phone.parse(typed)
    assert "01" in err.value.message_en and "٠١" in err.value.message_ar


def test_name_spaces_are_collapsed():
    assert clean_name("  محمد   أحمد\tعلي ") == "محمد أحمد علي"


@pytest.mark.parametrize("typed", ["محمد", "", "محمد 2 علي", "x" * 60 + " " + "y" * 61])
def test_a_name_that_cannot_be_a_full_name_is_refused(typed):
    with pytest.raises(InvalidName):
        clean_name(typed)


def test_citizen_normalises_mobile_and_allows_none():
    nid = parse("29001010112355")
    assert Citizen(nid, "منى أحمد", "+20 101 234 5678").mobile == "01012345678"
    assert Citizen(nid, "منى أحمد", "").mobile is None


@given(st.text(max_size=20) | st.text(alphabet="0123456789+ -()٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹²০১٣", max_size=20))
def test_any_typed_mobile_is_refused_in_words_or_comes_back_as_eleven_ascii_digits(typed):
    try:
        number = phone.parse(typed)
    except phone.InvalidMobile as err:
        assert err.message_en and err.message_ar
    else:
        assert number.isascii() and number.isdigit() and len(number) == 11 and number[:3] in phone.PREFIXES

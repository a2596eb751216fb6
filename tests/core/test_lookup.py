"""What a typed or scanned text names (edge.core.lookup): the console's search and the kiosk's tracking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from edge.core import codes, issuing, lookup, trust
from edge.core.errors import EdgeError

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
NUMBER = "007-261121-0001-5"


@pytest.mark.parametrize(("typed", "found"), [
    ("", {}),
    ("   ", {}),
    ("29001011234567", {"national_id": "29001011234567"}),
    ("٢٩٠٠١٠١١٢٣٤٥٦٧", {"national_id": "29001011234567"}),  # Eastern Arabic digits, as a phone keyboard types
    (NUMBER, {"number": NUMBER}),
    ("00726112100015", {"number": NUMBER}),  # a request number typed without its hyphens
])
def test_the_search_box_reads_a_national_id_or_a_request_number(typed, found):
    assert lookup.search_filter(typed) == found


@pytest.mark.parametrize("typed", ["29013451234567", "49001011234567", "12345", "abc"])
def test_a_search_that_is_neither_says_what_is_wrong_in_both_languages(typed):
    with pytest.raises(EdgeError) as err:
        lookup.search_filter(typed)
    assert err.value.message_ar and err.value.message_en


@pytest.fixture(scope="module")
def signed():
    ca = issuing.make_ca("01", now=NOW - timedelta(days=300))
    van = issuing.make_van_signer(ca, "V007", now=NOW - timedelta(days=300))
    blob = issuing.make_trust_list(ca, [van.certificate], now=NOW - timedelta(days=1))
    return codes.issue(van, "receipt", NUMBER, "BLD-NEW", now=NOW), trust.verify_list(blob, ca.certificate)


def test_a_scanned_receipt_code_gives_its_request_number(signed):
    code, trust_list = signed
    assert lookup.request_number_from(code, trust_list, NOW) == NUMBER
    assert lookup.request_number_from(f"  {NUMBER} ", trust_list, NOW) == NUMBER


def test_a_code_that_does_not_verify_asks_the_citizen_to_type_the_number(signed):
    code, trust_list = signed
    for text, trusted in ((code[:-4] + "AAAA", trust_list), (code, None)):
        with pytest.raises(lookup.CodeUnreadable) as err:
            lookup.request_number_from(text, trusted, NOW)
        assert "Type the request number" in err.value.message_en and err.value.code == "track-code-unreadable"

"""A new-request draft's completeness (edge.core.drafts): which wizard step comes next, which documents are
missing, and what a complete draft becomes — the rule that sends the console back to what is missing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.core import catalogue as catalogue_mod
from edge.core import drafts
from edge.core.money import InvalidAmount
from edge.core.requests import InvalidPayment, PaymentMethod

CATALOGUE = catalogue_mod.load_default()
SERVICE = CATALOGUE.service("BLD-NEW")
MANDATORY = [d.code for d in SERVICE.documents if d.mandatory]
OPTIONAL = [d.code for d in SERVICE.documents if not d.mandatory]
CITIZEN = {"national_id": "29001011234567", "name": "Ahmed Ali Hassan", "mobile": ""}


def _draft(**data):
    return {"pages": [], **data}


def test_an_empty_draft_starts_at_the_service():
    assert drafts.first_incomplete(_draft(), CATALOGUE) == "service"
    assert drafts.first_incomplete(_draft(service="NO-SUCH"), CATALOGUE) == "service"


def test_a_draft_with_a_service_waits_for_a_valid_citizen():
    assert drafts.first_incomplete(_draft(service="BLD-NEW"), CATALOGUE) == "citizen"
    bad = _draft(service="BLD-NEW", **{**CITIZEN, "national_id": "29013451234567"})
    assert drafts.first_incomplete(bad, CATALOGUE) == "citizen"


def test_citizen_errors_name_each_wrong_field_and_the_mobile_is_optional():
    assert drafts.citizen_errors(CITIZEN) == {}
    errors = drafts.citizen_errors({"national_id": "2900101123", "name": "Ahmed", "mobile": "0101"})
    assert set(errors) == {"national_id", "name", "mobile"}
    assert all(e.message_ar and e.message_en for e in errors.values())


def test_a_valid_citizen_then_waits_for_the_mandatory_documents():
    draft = _draft(service="BLD-NEW", **CITIZEN, seen=OPTIONAL)
    assert drafts.first_incomplete(draft, CATALOGUE) == "documents"
    assert [d.code for d in drafts.missing_documents(draft, SERVICE)] == MANDATORY


def test_documents_seen_or_attached_complete_the_draft():
    half = len(MANDATORY) // 2
    pages = [{"doc_code": code, "page": 1, "file": f"{code}.jpg"} for code in MANDATORY[half:]]
    draft = {**CITIZEN, "service": "BLD-NEW", "seen": MANDATORY[:half], "pages": pages}
    assert drafts.missing_documents(draft, SERVICE) == []
    assert drafts.first_incomplete(draft, CATALOGUE) is None


@given(st.sets(st.sampled_from(MANDATORY + OPTIONAL)))
def test_missing_documents_are_exactly_the_mandatory_ones_not_seen(seen):
    missing = drafts.missing_documents({"seen": sorted(seen)}, SERVICE)
    assert [d.code for d in missing] == [c for c in MANDATORY if c not in seen]


def test_the_missing_documents_error_names_each_in_both_languages():
    missing = drafts.missing_documents(_draft(seen=MANDATORY[1:]), SERVICE)
    error = drafts.DocumentsMissing(missing)
    assert error.code == "documents-missing"
    assert missing[0].name_ar in error.message_ar and missing[0].name_en in error.message_en


def test_first_incomplete_is_always_a_step_before_payment():
    for draft in (_draft(), _draft(service="BLD-NEW"), _draft(service="BLD-NEW", **CITIZEN)):
        assert drafts.STEPS.index(drafts.first_incomplete(draft, CATALOGUE)) < drafts.STEPS.index("payment")


def test_an_empty_amount_means_the_fee_and_a_typed_one_is_read_in_egp():
    paid = drafts.payment({"method": "cash", "reference": "", "amount": " "}, SERVICE)
    assert paid.method is PaymentMethod.CASH and paid.amount_piastres == SERVICE.fee_piastres
    assert drafts.payment({"method": "cash", "reference": "", "amount": "١٠"}, SERVICE).amount_piastres == 1000


def test_a_bad_amount_or_payment_is_refused_in_words():
    with pytest.raises(InvalidAmount):
        drafts.payment({"method": "cash", "reference": "", "amount": "ten"}, SERVICE)
    with pytest.raises(InvalidPayment):
        drafts.payment({"method": "reference", "reference": "", "amount": ""}, SERVICE)


def test_the_citizen_of_a_complete_draft():
    citizen = drafts.citizen({**CITIZEN, "name": "  Ahmed   Ali Hassan "})
    assert citizen.national_id.number == CITIZEN["national_id"]
    assert citizen.name == "Ahmed Ali Hassan" and citizen.mobile is None

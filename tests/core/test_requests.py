"""A request's life at the van: its states, the number on the citizen's receipt, and its payment."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from edge.core.digits import to_eastern
from edge.core.errors import EdgeError
from edge.core.money import InvalidAmount, format_egp, parse_egp
from edge.core.requests import (
    CANCEL_REASON_MAX,
    STAGE,
    STATE_LABELS,
    TRANSITIONS,
    CancelReasonMissing,
    InvalidPayment,
    InvalidRequestNumber,
    InvalidTransition,
    InvalidVanId,
    NotCancellable,
    Payment,
    PaymentMethod,
    RequestNumber,
    RequestState,
    can_transition,
    cancel_reason,
    cancellable,
    check_payment,
    damm_check_digit,
    damm_is_valid,
    is_terminal,
    parse_request_number,
    transition,
    van_id,
    van_number,
)

S = RequestState
ALL_PAIRS = list(itertools.product(RequestState, RequestState))
ALLOWED = [(a, b) for a, b in ALL_PAIRS if b in TRANSITIONS[a]]
FORBIDDEN = [(a, b) for a, b in ALL_PAIRS if b not in TRANSITIONS[a]]

# ==================================================================================================
# State machine
# ==================================================================================================


def test_the_table_covers_every_state_and_labels_every_state():
    assert set(TRANSITIONS) == set(RequestState) == set(STATE_LABELS) == set(STAGE)


def test_normal_path_from_draft_to_delivered():
    state = S.DRAFT
    for nxt in [S.SUBMITTED, S.RECEIVED, S.UNDER_REVIEW, S.READY, S.DELIVERED]:
        state = transition(state, nxt)
    assert state is S.DELIVERED and is_terminal(state)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.SUBMITTED, S.UNDER_REVIEW),
        (S.SUBMITTED, S.READY),
        (S.SUBMITTED, S.REJECTED),
        (S.RECEIVED, S.READY),
        (S.RECEIVED, S.REJECTED),
    ],
)
def test_governorate_may_skip_ahead_when_status_messages_arrive_out_of_order(current, target):
    assert transition(current, target) is target


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_every_allowed_pair_succeeds(current, target):
    assert can_transition(current, target)
    assert transition(current, target) is target
    assert STAGE[target] > STAGE[current]  # nothing in the table goes backwards or sideways


@pytest.mark.parametrize(("current", "target"), FORBIDDEN)
def test_every_other_pair_raises_invalid_transition(current, target):
    assert not can_transition(current, target)
    with pytest.raises(InvalidTransition) as caught:
        transition(current, target)
    err = caught.value
    assert err.code == "request-invalid-transition"
    assert (err.current, err.target) == (current, target)
    assert STATE_LABELS[current].en in err.message_en and STATE_LABELS[target].en in err.message_en
    assert STATE_LABELS[current].ar in err.message_ar and STATE_LABELS[target].ar in err.message_ar


def test_a_delivered_request_cannot_be_reopened_and_the_message_says_so():
    with pytest.raises(InvalidTransition) as caught:
        transition(S.DELIVERED, S.READY)
    assert "closed" in caught.value.message_en
    assert caught.value.message_en.startswith(
        "Cannot change the request from “Delivered” to “Ready to collect”"
    )


def test_ready_cannot_be_rejected_afterwards():
    assert not can_transition(S.READY, S.REJECTED)


def test_terminal_states_are_exactly_rejected_delivered_and_cancelled():
    assert {s for s in RequestState if is_terminal(s)} == {S.REJECTED, S.DELIVERED, S.CANCELLED}


def test_states_are_accepted_as_plain_strings_from_downlink_messages():
    assert transition("submitted", "ready") is S.READY
    assert can_transition("draft", "submitted")
    with pytest.raises(ValueError):
        transition("submitted", "lost")


def test_every_state_tells_the_citizen_what_to_do_next_in_both_languages():
    for label in STATE_LABELS.values():
        assert label.ar and label.en and label.next_ar and label.next_en
        assert label.next_en.endswith(".")
    ready = STATE_LABELS[S.READY]
    assert (
        ready.next_step("en") == "Your document is ready. Bring your receipt and national ID to collect it."
    )
    assert ready.name("ar") == "جاهز للاستلام"


class RequestLifeCycle(RuleBasedStateMachine):
    """Throw random attempted transitions at one request, as a mixed-up downlink would."""

    def __init__(self):
        super().__init__()
        self.state = S.DRAFT
        self.history = [S.DRAFT]

    @rule(wanted=st.sampled_from(list(RequestState)))
    def attempt(self, wanted):
        before = self.state
        if can_transition(before, wanted):
            self.state = transition(before, wanted)
            self.history.append(self.state)
        else:
            with pytest.raises(InvalidTransition):
                transition(before, wanted)
            assert self.state is before

    @invariant()
    def only_edges_of_the_graph_were_taken(self):
        for a, b in itertools.pairwise(self.history):
            assert b in TRANSITIONS[a]

    @invariant()
    def never_goes_backwards(self):
        stages = [STAGE[s] for s in self.history]
        assert stages == sorted(stages) and len(set(stages)) == len(stages)

    @invariant()
    def terminal_states_stay_terminal(self):
        first_terminal = next((i for i, s in enumerate(self.history) if is_terminal(s)), None)
        if first_terminal is not None:
            assert first_terminal == len(self.history) - 1


TestRequestLifeCycle = RequestLifeCycle.TestCase


# ==================================================================================================
# Request numbers
# ==================================================================================================


def test_damm_known_vector():
    assert damm_check_digit("572") == "4"
    assert damm_is_valid("5724")
    assert not damm_is_valid("5723")


def test_request_number_display_matches_the_receipt_format():
    number = RequestNumber(7, date(2026, 11, 21), 1)
    assert str(number) == "007-261121-0001-5"
    assert number.digits == "00726112100015"
    assert number.check_digit == "5"


def test_request_number_round_trips_through_its_display():
    number = RequestNumber(123, date(2031, 2, 3), 4567)
    assert parse_request_number(str(number)) == number
    assert parse_request_number(number.digits) == number


@pytest.mark.parametrize(
    "typed",
    ["007-261121-0001-5", "00726112100015", " 007 261121 0001 5 ", "٠٠٧-٢٦١١٢١-٠٠٠١-٥", "۰۰۷۲۶۱۱۲۱۰۰۰۱۵"],
)
def test_request_number_is_accepted_however_it_is_typed(typed):
    assert parse_request_number(typed) == RequestNumber(7, date(2026, 11, 21), 1)


def test_arabic_display_is_the_same_number_in_eastern_digits():
    number = RequestNumber(7, date(2026, 11, 21), 1)
    assert to_eastern(str(number)) == "٠٠٧-٢٦١١٢١-٠٠٠١-٥"
    assert parse_request_number(to_eastern(str(number))) == number


def test_a_wrong_check_digit_is_refused_suggesting_a_typo():
    with pytest.raises(InvalidRequestNumber) as caught:
        parse_request_number("007-261121-0001-4")
    err = caught.value
    assert err.reason == "check-digit"
    assert err.code == "request-number-check-digit"
    assert "mistyped" in err.message_en and "receipt" in err.message_en
    assert "خطأ" in err.message_ar


@pytest.mark.parametrize(
    ("typed", "reason"), [("007-261121-0001", "length"), ("", "length"), ("007-26112l-0001-5", "not-digits")]
)
def test_malformed_request_numbers_are_refused(typed, reason):
    with pytest.raises(InvalidRequestNumber) as caught:
        parse_request_number(typed)
    assert caught.value.reason == reason


def _with_check_digit(body: str) -> str:
    return body + damm_check_digit(body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("0002611210001", "van"),
        ("0072613210001", "date"),
        ("0072602300001", "date"),
        ("0072611210000", "seq"),
    ],
)
def test_numbers_with_a_good_check_digit_but_impossible_fields_are_refused(body, reason):
    with pytest.raises(InvalidRequestNumber) as caught:
        parse_request_number(_with_check_digit(body))
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("van", "day", "seq", "reason"),
    [
        (0, date(2026, 1, 1), 1, "van"),
        (1000, date(2026, 1, 1), 1, "van"),
        (1, date(2026, 1, 1), 0, "seq"),
        (1, date(2026, 1, 1), 10000, "seq"),
        (1, date(1999, 12, 31), 1, "date"),
        (1, date(2100, 1, 1), 1, "date"),
    ],
)
def test_request_number_fields_are_checked_on_construction(van, day, seq, reason):
    with pytest.raises(InvalidRequestNumber) as caught:
        RequestNumber(van, day, seq)
    assert caught.value.reason == reason


def test_request_numbers_sort_by_van_then_day_then_sequence():
    a = RequestNumber(1, date(2026, 1, 2), 1)
    b = RequestNumber(1, date(2026, 1, 2), 2)
    c = RequestNumber(2, date(2026, 1, 1), 1)
    assert sorted([c, b, a]) == [a, b, c]


request_numbers = st.builds(
    RequestNumber,
    van=st.integers(1, 999),
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    seq=st.integers(1, 9999),
)


@given(request_numbers)
def test_any_request_number_round_trips(number):
    assert parse_request_number(str(number)) == number
    assert parse_request_number(to_eastern(number.digits)) == number
    assert len(number.digits) == 14 and number.digits.isdigit()


@given(request_numbers, st.integers(0, 13), st.integers(1, 9))
def test_damm_catches_every_single_digit_typo(number, position, shift):
    digits = number.digits
    wrong = str((int(digits[position]) + shift) % 10)
    typo = digits[:position] + wrong + digits[position + 1 :]
    with pytest.raises(InvalidRequestNumber) as caught:
        parse_request_number(typo)
    assert caught.value.reason == "check-digit"


@given(request_numbers, st.integers(0, 12))
def test_damm_catches_every_adjacent_swap(number, position):
    digits = number.digits
    if digits[position] == digits[position + 1]:
        return  # swapping equal digits is not a typo
    swapped = digits[:position] + digits[position + 1] + digits[position] + digits[position + 2 :]
    with pytest.raises(InvalidRequestNumber) as caught:
        parse_request_number(swapped)
    assert caught.value.reason == "check-digit"


def test_damm_catches_all_single_errors_and_adjacent_swaps_exhaustively_on_short_strings():
    # Every 3-digit body: a complete check of the two guarantees, independent of the random ones above.
    for n in range(1000):
        valid = _with_check_digit(f"{n:03d}")
        for i in range(4):
            for d in "0123456789":
                if d != valid[i]:
                    assert not damm_is_valid(valid[:i] + d + valid[i + 1 :])
        for i in range(3):
            if valid[i] != valid[i + 1]:
                assert not damm_is_valid(valid[:i] + valid[i + 1] + valid[i] + valid[i + 2 :])


@given(st.text(max_size=30))
def test_parse_request_number_raises_only_invalid_request_number(text):
    try:
        parse_request_number(text)
    except InvalidRequestNumber:
        pass


def test_van_ids_map_to_fleet_numbers_and_back():
    assert van_number("V007") == 7
    assert van_number("V999") == 999
    assert van_id(7) == "V007"


@pytest.mark.parametrize("bad", ["V000", "V1000", "V07", "v007", "007", "", " V007", "V٠٠٧", "X007", None])
def test_bad_van_ids_are_refused(bad):
    with pytest.raises(InvalidVanId) as caught:
        van_number(bad)
    assert isinstance(caught.value, EdgeError)
    assert caught.value.code == "van-id-invalid"


@pytest.mark.parametrize("bad", [0, 1000, -1, True, "7"])
def test_bad_van_numbers_are_refused(bad):
    with pytest.raises(InvalidVanId):
        van_id(bad)


# ==================================================================================================
# Money
# ==================================================================================================


@pytest.mark.parametrize(
    ("piastres", "en", "ar"),
    [
        (125050, "1,250.50 EGP", "١٬٢٥٠٫٥٠ ج.م"),
        (0, "0.00 EGP", "٠٫٠٠ ج.م"),
        (5, "0.05 EGP", "٠٫٠٥ ج.م"),
        (15000, "150.00 EGP", "١٥٠٫٠٠ ج.م"),
        (123456789, "1,234,567.89 EGP", "١٬٢٣٤٬٥٦٧٫٨٩ ج.م"),
        (-250, "-2.50 EGP", "-٢٫٥٠ ج.م"),
    ],
)
def test_amounts_are_formatted_in_both_languages_with_two_decimals(piastres, en, ar):
    assert format_egp(piastres) == en
    assert format_egp(piastres, "en") == en
    assert format_egp(piastres, "ar") == ar


def test_format_refuses_non_integer_amounts_and_unknown_languages():
    with pytest.raises(TypeError):
        format_egp(12.5)
    with pytest.raises(ValueError):
        format_egp(100, "fr")


@pytest.mark.parametrize(
    ("typed", "piastres"),
    [
        ("1250", 125000),
        ("1250.5", 125050),
        ("1250.50", 125050),
        ("١٢٥٠٫٥", 125050),
        ("١٢٥٠.٥", 125050),
        ("1,250.50", 125050),
        ("١٬٢٥٠٫٥٠ ج.م", 125050),
        ("1,250.50 EGP", 125050),
        ("150 egp", 15000),
        ("  0.05 ", 5),
        (".5", 50),
        ("150.", 15000),
        ("0", 0),
    ],
)
def test_amounts_are_read_as_operators_type_them(typed, piastres):
    assert parse_egp(typed) == piastres


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "empty"),
        ("  ", "empty"),
        ("EGP", "empty"),
        ("-5", "negative"),
        ("−5", "negative"),
        ("1.234", "precision"),
        ("12.500", "precision"),
        ("abc", "not-a-number"),
        ("1,5", "not-a-number"),
        ("12,34.5", "not-a-number"),
        ("1.2.3", "not-a-number"),
        (".", "not-a-number"),
        ("1e3", "not-a-number"),
        ("1" * 5000, "too-large"),
        ("2000000000", "too-large"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(typed, reason):
    with pytest.raises(InvalidAmount) as caught:
        parse_egp(typed)
    assert caught.value.reason == reason
    assert caught.value.code == f"amount-{reason}"
    assert caught.value.message_ar and caught.value.message_en


@given(st.integers(0, 10**11))
def test_formatted_amounts_read_back_to_the_same_piastres(piastres):
    assert parse_egp(format_egp(piastres, "en")) == piastres
    assert parse_egp(format_egp(piastres, "ar")) == piastres


@given(st.text(max_size=30))
def test_parse_egp_raises_only_invalid_amount(text):
    try:
        assert parse_egp(text) >= 0
    except InvalidAmount:
        pass


# ==================================================================================================
# Payment
# ==================================================================================================


def test_cash_payment_of_the_exact_fee_is_accepted():
    payment = Payment(PaymentMethod.CASH, 15000)
    assert payment.reference is None
    check_payment(payment, 15000)


def test_e_payment_needs_a_reference():
    with pytest.raises(InvalidPayment) as caught:
        Payment(PaymentMethod.REFERENCE, 15000)
    assert caught.value.reason == "reference-missing"
    assert caught.value.code == "payment-reference-missing"
    with pytest.raises(InvalidPayment):
        Payment(PaymentMethod.REFERENCE, 15000, "   ")


def test_e_payment_reference_is_normalised_from_arabic_digits():
    assert Payment(PaymentMethod.REFERENCE, 15000, " ٩٨٧٦٥٤٣٢١ ").reference == "987654321"


@pytest.mark.parametrize("bad", ["123", "x" * 33, "12 34", "1234-5678", "ABC_123", "مرجع١٢٣٤"])
def test_malformed_references_are_refused(bad):
    with pytest.raises(InvalidPayment) as caught:
        Payment(PaymentMethod.REFERENCE, 15000, bad)
    assert caught.value.reason == "reference-format"


@pytest.mark.parametrize("good", ["1234", "A1B2C3", "x" * 32])
def test_well_formed_references_are_accepted(good):
    assert Payment(PaymentMethod.REFERENCE, 100, good).reference == good


def test_a_card_payment_needs_the_terminals_approval_code():
    # Issue 18, finding 4: a card payment was accepted with no approval code (stored payment_reference: null).
    for missing in (None, "", "  "):
        with pytest.raises(InvalidPayment) as caught:
            Payment(PaymentMethod.CARD, 15000, missing)
        assert caught.value.reason == "approval-missing" and "approval code" in caught.value.message_en
    assert Payment(PaymentMethod.CARD, 15000, " a1b2c3 ").reference == "A1B2C3"
    assert Payment(PaymentMethod.CARD, 15000, "٠١٢٣٤٥").reference == "012345"
    for bad in ("12", "A1B2C3D", "A1-B2C", "أ١ب٢ج٣"):
        with pytest.raises(InvalidPayment) as caught:
            Payment(PaymentMethod.CARD, 15000, bad)
        assert caught.value.reason == "approval-format"


def test_cash_payment_cannot_carry_a_reference():
    with pytest.raises(InvalidPayment) as caught:
        Payment(PaymentMethod.CASH, 15000, "12345")
    assert caught.value.reason == "reference-not-allowed"


@pytest.mark.parametrize("bad", [-1, 1.5, "100", True, None])
def test_payment_amount_must_be_whole_non_negative_piastres(bad):
    with pytest.raises(InvalidPayment) as caught:
        Payment(PaymentMethod.CASH, bad)
    assert caught.value.reason == "amount"


def test_payment_method_may_be_given_as_a_string_but_must_be_known():
    assert Payment("cash", 100).method is PaymentMethod.CASH
    with pytest.raises(InvalidPayment) as caught:
        Payment("cheque", 100)
    assert caught.value.reason == "method"


@pytest.mark.parametrize("paid", [10000, 20000, 0])
def test_a_payment_that_is_not_the_exact_fee_is_refused_naming_both_amounts(paid):
    with pytest.raises(InvalidPayment) as caught:
        check_payment(Payment(PaymentMethod.CASH, paid), 15000)
    err = caught.value
    assert err.reason == "amount-mismatch"
    assert format_egp(paid) in err.message_en and "150.00 EGP" in err.message_en
    assert format_egp(paid, "ar") in err.message_ar and "١٥٠٫٠٠ ج.م" in err.message_ar


def test_a_free_service_takes_a_zero_payment():
    check_payment(Payment(PaymentMethod.CASH, 0), 0)


# ==================================================================================================
# Cancelling at the van
# ==================================================================================================


@pytest.mark.parametrize("state", list(RequestState))
def test_a_request_is_cancellable_exactly_while_it_may_still_close_as_rejected(state):
    assert cancellable(state) == can_transition(state, S.REJECTED)


def test_cancellable_before_the_decision_not_after():
    assert cancellable(S.SUBMITTED) and cancellable(S.UNDER_REVIEW)
    assert not any(cancellable(s) for s in (S.READY, S.REJECTED, S.DELIVERED, S.CANCELLED))


def test_the_cancel_reason_is_folded_and_cut_to_its_limit():
    assert cancel_reason(S.SUBMITTED, "  citizen \n asked  ") == "citizen asked"
    assert len(cancel_reason(S.SUBMITTED, "x" * 1000)) == CANCEL_REASON_MAX


@pytest.mark.parametrize("blank", ["", "   ", "\n\t", None])
def test_a_cancel_needs_a_reason_whatever_the_state(blank):
    for state in (S.SUBMITTED, S.DELIVERED):
        with pytest.raises(CancelReasonMissing) as err:
            cancel_reason(state, blank)
        assert err.value.message_ar and err.value.message_en


def test_a_decided_request_cannot_be_cancelled():
    with pytest.raises(NotCancellable) as err:
        cancel_reason(S.READY, "citizen asked")
    assert "decided" in err.value.message_en

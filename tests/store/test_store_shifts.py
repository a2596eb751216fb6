"""Operators' shifts in the van database (issue 19): open, take money, refund, close once, hand over, and the
totals of a closed shift always equal what was recorded in it."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.core import requests as rq
from edge.core import shifts as sh
from edge.core.citizens import Citizen
from edge.core.national_id import parse
from edge.store import audit_log, outbox, shifts
from edge.store import requests as store_requests
from edge.store.db import open_db
from edge.store.migrations import migrate

CITIZEN = Citizen(parse("29001010112355"), "منى أحمد حسن", "01012345678")
OP, OTHER, SUP = "operator:3", "operator:4", "operator:1"


def _service(catalogue):
    return next(s for s in catalogue.services if s.fee_piastres > 0 and not s.fee_assessed)


def _pay(db, catalogue, now, shift_id, method="cash", operator=OP):
    service = _service(catalogue)
    ref = {"cash": None, "card": "A1B2C3", "reference": "FWRY123456"}[method]
    return str(store_requests.submit(db, van_id="V007", catalogue=catalogue, service_code=service.code,
                                     citizen=CITIZEN, payment=rq.Payment(method, service.fee_piastres, ref),
                                     operator=operator, now=now, shift_id=shift_id))


def test_a_shift_opens_once_takes_money_and_closes_with_the_count(db, catalogue, now):
    shift = shifts.open_shift(db, operator=OP, opening_float=50_000, counter=2, now=now)
    with pytest.raises(sh.ShiftAlreadyOpen):
        shifts.open_shift(db, operator=OP, opening_float=0, now=now)
    fee = _service(catalogue).fee_piastres
    _pay(db, catalogue, now, shift.id)
    _pay(db, catalogue, now, shift.id, "card")
    paid_back = _pay(db, catalogue, now, shift.id)
    store_requests.cancel(db, paid_back, "طلب المواطن", actor=OP, confirmed_by=SUP, shift_id=shift.id, now=now)

    closed = shifts.close(db, shift.id, van_id="V007", counted_cash=50_000 + fee, closed_by=OP,
                          now=now + timedelta(hours=8))
    t = closed.totals
    assert (t.requests, t.fees["cash"], t.fees["card"], t.refunds["cash"]) == (3, 2 * fee, fee, fee)
    assert (t.cancellations, t.refund_count) == (1, 1)
    assert closed.expected_cash_piastres == 50_000 + fee and closed.difference_piastres == 0
    assert shifts.current(db, OP) is None
    # Reported up the tx stream, and every step in the audit chain.
    body = [r for r in outbox.pending(db, "tx") if r.kind == "shift.closed"][0].body
    assert body["totals"]["fees"]["card"] == fee and body["difference_piastres"] == 0
    actions = [r[0] for r in db.execute("SELECT action FROM audit_log WHERE action LIKE 'shift.%' ORDER BY seq")]
    assert actions == ["shift.open", "shift.close"]
    assert audit_log.verify(db) is None


def test_a_closed_shift_is_never_closed_twice_changed_or_deleted(db, now):
    shift = shifts.open_shift(db, operator=OP, opening_float=0, now=now)
    shifts.close(db, shift.id, van_id="V007", counted_cash=0, closed_by=OP, now=now)
    with pytest.raises(sh.ShiftClosed):
        shifts.close(db, shift.id, van_id="V007", counted_cash=0, closed_by=OP, now=now)
    for sql in ("UPDATE shifts SET counted_cash_piastres = 5 WHERE id = ?", "UPDATE shifts SET state = 'open' "
                "WHERE id = ?", "DELETE FROM shifts WHERE id = ?"):
        with pytest.raises(sqlite3.IntegrityError):
            db.execute(sql, [shift.id])


def test_money_is_refused_into_a_closed_shift(db, catalogue, now):
    shift = shifts.open_shift(db, operator=OP, opening_float=0, now=now)
    shifts.close(db, shift.id, van_id="V007", counted_cash=0, closed_by=OP, now=now)
    with pytest.raises(sh.ShiftClosed):
        _pay(db, catalogue, now, shift.id)
    assert db.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == 0


def test_a_difference_needs_a_reason_and_above_the_threshold_a_supervisor(db, catalogue, now):
    shift = shifts.open_shift(db, operator=OP, opening_float=10_000, now=now)
    with pytest.raises(sh.DifferenceReasonMissing):
        shifts.close(db, shift.id, van_id="V007", counted_cash=9_900, closed_by=OP, now=now)
    with pytest.raises(sh.DifferenceNeedsSupervisor):
        shifts.close(db, shift.id, van_id="V007", counted_cash=5_000, reason="عملة مزيفة", closed_by=OP,
                     threshold=2_000, now=now)
    assert shifts.current(db, OP) is not None  # refused closes changed nothing
    closed = shifts.close(db, shift.id, van_id="V007", counted_cash=5_000, reason="  عملة   مزيفة ", closed_by=OP,
                          confirmed_by=SUP, threshold=2_000, now=now)
    assert (closed.difference_piastres, closed.reason, closed.confirmed_by) == (-5_000, "عملة مزيفة", SUP)
    confirmed = db.execute("SELECT actor FROM audit_log WHERE action = 'shift.difference_confirmed'").fetchone()
    assert confirmed == (SUP,)


def test_a_hand_over_closes_one_shift_and_opens_the_next_with_the_counted_cash(db, catalogue, now):
    first = shifts.open_shift(db, operator=OP, opening_float=20_000, counter=1, now=now)
    _pay(db, catalogue, now, first.id)
    counted = 20_000 + _service(catalogue).fee_piastres
    shifts.close(db, first.id, van_id="V007", counted_cash=counted, closed_by=OP, hand_over_to=OTHER,
                 now=now + timedelta(hours=4))
    second = shifts.current(db, OTHER)
    assert (second.opening_float_piastres, second.received_from, second.counter) == (counted, first.id, 1)
    assert shifts.get(db, first.id).handed_to == OTHER


def test_a_shift_left_open_since_yesterday_takes_no_money_until_a_supervisor_closes_it(db, catalogue, now):
    old = shifts.open_shift(db, operator=OP, opening_float=0, now=now - timedelta(days=1))
    with pytest.raises(sh.ShiftFromAnotherDay):
        shifts.for_taking_money(db, OP, now=now)
    # Not by its operator alone: its counts ran on past its day, so a supervisor counts the drawer too.
    with pytest.raises(sh.StaleCloseNeedsSupervisor):
        shifts.close(db, old.id, van_id="V007", counted_cash=0, closed_by=OP, now=now)
    with pytest.raises(sh.SelfConfirmation):
        shifts.close(db, old.id, van_id="V007", counted_cash=0, closed_by=OP, confirmed_by=OP, now=now)
    closed = shifts.close(db, old.id, van_id="V007", counted_cash=0, closed_by=SUP, confirmed_by=SUP, now=now)
    assert (closed.closed_by, closed.confirmed_by) == (SUP, SUP)
    fresh = shifts.open_shift(db, operator=OP, opening_float=0, now=now)
    assert shifts.for_taking_money(db, OP, now=now).id == fresh.id


def test_nobody_confirms_their_own_difference(db, now):
    shift = shifts.open_shift(db, operator=SUP, opening_float=10_000, now=now)
    with pytest.raises(sh.SelfConfirmation) as refused:
        shifts.close(db, shift.id, van_id="V007", counted_cash=5_000, reason="عملة مزيفة", closed_by=SUP,
                     confirmed_by=SUP, threshold=2_000, now=now)
    assert "مشرف آخر" in refused.value.message_ar and "another supervisor" in refused.value.message_en
    closed = shifts.close(db, shift.id, van_id="V007", counted_cash=5_000, reason="عملة مزيفة", closed_by=SUP,
                          confirmed_by=OTHER, threshold=2_000, now=now)
    assert closed.confirmed_by == OTHER


def test_a_hand_over_names_the_next_operator_and_they_have_no_shift_open(db, now):
    first = shifts.open_shift(db, operator=OP, opening_float=1_000, now=now)
    with pytest.raises(sh.HandOverToSelf):
        shifts.close(db, first.id, van_id="V007", counted_cash=1_000, closed_by=OP, hand_over_to=OP, now=now)
    shifts.open_shift(db, operator=OTHER, opening_float=0, now=now)
    with pytest.raises(sh.NextShiftOpen) as refused:
        shifts.close(db, first.id, van_id="V007", counted_cash=1_000, closed_by=OP, hand_over_to=OTHER, now=now)
    assert "4" in refused.value.message_en and "They close theirs first" in refused.value.message_en
    assert shifts.current(db, OP).id == first.id  # nothing changed


def test_difference_messages_say_short_or_over_never_a_bare_minus():
    for exc in (sh.DifferenceReasonMissing(-3_000), sh.DifferenceNeedsSupervisor(-3_000, 2_000)):
        assert "short 30.00" in exc.message_en and "عجز ٣٠٫٠٠" in exc.message_ar
        assert "-" not in exc.message_en and "-" not in exc.message_ar
    assert "over 30.00" in sh.DifferenceReasonMissing(3_000).message_en


def test_training_shifts_are_not_reported(db, now):
    shift = shifts.open_shift(db, operator=OP, opening_float=0, now=now)
    shifts.close(db, shift.id, van_id="V007", counted_cash=0, closed_by=OP, report=False, now=now)
    assert not [r for r in outbox.pending(db, "tx") if r.kind == "shift.closed"]


_EVENTS = st.lists(st.one_of(
    st.tuples(st.just("pay"), st.sampled_from(["cash", "card", "reference"]), st.booleans()),
    st.tuples(st.just("reprint"), st.just(""), st.just(False)),
    st.tuples(st.just("other-operator-pays"), st.just("cash"), st.just(False)),
    # A citizen paid at another operator's counter; this operator cancels it and pays the refund from this drawer.
    st.tuples(st.just("refund-other-shifts-fee"), st.sampled_from(["cash", "card", "reference"]), st.just(True)),
    st.tuples(st.just("served"), st.just(""), st.just(False)),
), max_size=12)
# What the operator does outside the shift's window: before it opened, after it closed, in their next shift.
_OUTSIDE = st.lists(st.sampled_from(["reprint-before", "reprint-after", "pay-next-shift", "served-after"]),
                    max_size=4)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=_EVENTS, outside=_OUTSIDE, opening=st.integers(0, 1_000_000), off_by=st.integers(-3_000, 3_000))
def test_a_closed_shifts_totals_always_equal_the_sum_of_its_recorded_events(tmp_path_factory, catalogue, now,
                                                                             events, outside, opening, off_by):
    db = open_db(tmp_path_factory.mktemp("shift") / "van.db")
    migrate(db)
    try:
        opened = now - timedelta(hours=1)
        for what in outside:
            if what == "reprint-before":
                audit_log.record(db, actor=OP, action="receipt.reprint", subject="x", details={},
                                 now=opened - timedelta(seconds=1))
        shift = shifts.open_shift(db, operator=OP, opening_float=opening, now=opened)
        other = shifts.open_shift(db, operator=OTHER, opening_float=0, now=opened)
        fee = _service(catalogue).fee_piastres
        want = {"fees": {"cash": 0, "card": 0, "reference": 0}, "refunds": {"cash": 0, "card": 0, "reference": 0},
                "requests": 0, "reprints": 0, "cancellations": 0, "tickets_served": 0}
        for kind, method, refund in events:
            if kind == "pay":
                number = _pay(db, catalogue, now, shift.id, method)
                want["fees"][method] += fee
                want["requests"] += 1
                if refund:
                    store_requests.cancel(db, number, "خطأ", actor=OP, confirmed_by=SUP, shift_id=shift.id, now=now)
                    want["refunds"][method] += fee
                    want["cancellations"] += 1
            elif kind == "reprint":
                audit_log.record(db, actor=OP, action="receipt.reprint", subject="x", details={}, now=now)
                want["reprints"] += 1
            elif kind == "refund-other-shifts-fee":  # the fee is the other drawer's, the refund this one's
                number = _pay(db, catalogue, now, other.id, method, operator=OTHER)
                store_requests.cancel(db, number, "خطأ", actor=OP, confirmed_by=SUP, shift_id=shift.id, now=now)
                want["refunds"][method] += fee
                want["cancellations"] += 1
            elif kind == "served":
                audit_log.record(db, actor=OP, action="ticket.finish", subject="A001", details={}, now=now)
                want["tickets_served"] += 1
            else:  # another operator's drawer: never in this shift
                _pay(db, catalogue, now, other.id, operator=OTHER)
        expected = opening + want["fees"]["cash"] - want["refunds"]["cash"]
        counted = max(0, expected + off_by)
        closed = shifts.close(db, shift.id, van_id="V007", counted_cash=counted, closed_by=OP, reason="عدّ",
                              confirmed_by=SUP, now=now + timedelta(minutes=1))
        t = closed.totals.as_dict()
        assert t["fees"] == want["fees"] and t["refunds"] == want["refunds"]
        assert (t["requests"], t["reprints"], t["cancellations"], t["tickets_served"]) == (
            want["requests"], want["reprints"], want["cancellations"], want["tickets_served"])
        assert closed.expected_cash_piastres == expected
        assert closed.difference_piastres == counted - expected
        # What the operator does after the close (and in their next shift) never changes the closed shift's count.
        later = now + timedelta(minutes=2)
        nxt = shifts.open_shift(db, operator=OP, opening_float=0, now=later) if "pay-next-shift" in outside else None
        for what in outside:
            if what == "reprint-after":
                audit_log.record(db, actor=OP, action="receipt.reprint", subject="x", details={}, now=later)
            elif what == "served-after":
                audit_log.record(db, actor=OP, action="ticket.finish", subject="A002", details={}, now=later)
            elif what == "pay-next-shift":
                _pay(db, catalogue, later, nxt.id)
        assert shifts.live_totals(db, shifts.get(db, shift.id)).as_dict() == t
    finally:
        db.close()

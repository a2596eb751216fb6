"""Requests in the van database: submission, decisions from the governorate applied once, history kept."""

from __future__ import annotations

from datetime import date

import pytest

from edge.core import requests as rq
from edge.core import workdays
from edge.core.citizens import Citizen
from edge.core.digits import eastern_run
from edge.core.errors import EdgeError
from edge.core.national_id import parse
from edge.store import clock, inbox, outbox
from edge.store import requests as store_requests

CITIZEN = Citizen(parse("29001010112355"), "  منى   أحمد  حسن ", "+20 101 234 5678")


def _submit(db, catalogue, now, **kw):
    service = catalogue.services[0]
    return store_requests.submit(
        db, van_id="V007", catalogue=catalogue, service_code=service.code, citizen=kw.get("citizen", CITIZEN),
        payment=kw.get("payment", rq.Payment("cash", service.fee_piastres)), operator="operator:3", now=now,
        training=kw.get("training", False),
    )


def test_submission_numbers_requests_per_van_and_local_day(db, catalogue, now):
    first, second = _submit(db, catalogue, now), _submit(db, catalogue, now)
    assert (first.van, first.day, first.seq) == (7, date(2026, 11, 21), 1)
    assert second.seq == 2
    # 23:30 UTC is already the next day in Cairo: a new series starts.
    late = _submit(db, catalogue, now.replace(hour=23, minute=30))
    assert (late.day, late.seq) == (date(2026, 11, 22), 1)
    assert rq.parse_request_number(str(late)) == late


def test_submitted_request_keeps_citizen_fee_and_expected_date(db, catalogue, now):
    number = _submit(db, catalogue, now)
    stored = store_requests.get(db, str(number))
    service = catalogue.services[0]
    assert stored.state is rq.RequestState.SUBMITTED
    assert stored.citizen_name == "منى أحمد حسن" and stored.citizen_mobile == "01012345678"
    assert stored.fee_piastres == service.fee_piastres
    # The legal duration counts working days (Sunday–Thursday, public holidays off): issue 19.
    due = workdays.load_default().due_date(date(2026, 11, 21), service.duration_days)
    assert stored.expected_ready_on == due.isoformat()
    assert [h["state"] for h in stored.history] == ["submitted"]


def test_wrong_payment_is_refused_and_nothing_is_written(db, catalogue, now):
    fee = catalogue.services[0].fee_piastres
    with pytest.raises(rq.InvalidPayment):
        _submit(db, catalogue, now, payment=rq.Payment("cash", fee + 100))
    assert db.execute("SELECT count(*) FROM requests").fetchone()[0] == 0
    assert outbox.backlog(db).pending == 0


def test_same_citizen_twice_is_one_citizen_row(db, catalogue, now):
    _submit(db, catalogue, now)
    _submit(db, catalogue, now, citizen=Citizen(CITIZEN.national_id, "منى أحمد حسن علي"))
    rows = db.execute("SELECT name, mobile FROM citizens").fetchall()
    assert rows == [("منى أحمد حسن علي", "01012345678")]


def test_governorate_decision_moves_request_forward_with_history(db, catalogue, now):
    number = str(_submit(db, catalogue, now))
    assert store_requests.change_state(db, number, "under_review", source="hub", now=now)
    assert store_requests.change_state(db, number, "rejected", source="hub", reason="missing deed", now=now)
    stored = store_requests.get(db, number)
    assert stored.state is rq.RequestState.REJECTED and stored.state_reason == "missing deed"
    assert [h["state"] for h in stored.history] == ["submitted", "under_review", "rejected"]
    # Decisions from the hub are not sent back up.
    assert [r.kind for r in outbox.pending(db, "tx")] == ["request.submitted"]


def test_repeated_status_is_not_a_change(db, catalogue, now):
    number = str(_submit(db, catalogue, now))
    assert store_requests.change_state(db, number, "ready", source="hub", now=now)
    assert not store_requests.change_state(db, number, "ready", source="hub", now=now)
    assert len(store_requests.get(db, number).history) == 2


def test_backward_status_is_refused(db, catalogue, now):
    number = str(_submit(db, catalogue, now))
    store_requests.change_state(db, number, "ready", source="hub", now=now)
    with pytest.raises(rq.InvalidTransition):
        store_requests.change_state(db, number, "under_review", source="hub", now=now)
    assert store_requests.get(db, number).state is rq.RequestState.READY


def test_handing_over_at_the_van_is_audited_and_reported(db, catalogue, now):
    number = str(_submit(db, catalogue, now))
    store_requests.change_state(db, number, "ready", source="hub", now=now)
    store_requests.change_state(db, number, "delivered", source="van", actor="operator:3", now=now)
    kinds = [r.kind for r in outbox.pending(db, "tx")]
    assert kinds == ["request.submitted", "request.state"]
    actions = [r[0] for r in db.execute("SELECT action FROM audit_log ORDER BY seq")]
    assert actions == ["request.submit", "request.delivered"]


def test_unknown_request_says_so_in_both_languages(db):
    with pytest.raises(store_requests.UnknownRequest) as err:
        store_requests.get(db, "007-261121-0001-5")
    assert "007-261121-0001-5" in err.value.message_en
    # In Arabic with Eastern digits, held in their written order (a usability review found Latin digits there).
    assert eastern_run("007-261121-0001-5") in err.value.message_ar


def test_downlink_message_is_applied_exactly_once(db, catalogue, now):
    number = str(_submit(db, catalogue, now))

    def effect(d):
        store_requests.change_state(d, number, "ready", source="hub", now=now)

    assert inbox.apply_once(db, "01HUBMSG1", "request-status", effect, now=now) == "applied"
    assert inbox.apply_once(db, "01HUBMSG1", "request-status", effect, now=now) == "duplicate"
    assert len(store_requests.get(db, number).history) == 2


def test_bad_downlink_message_is_rejected_with_reason_and_changes_nothing(db, catalogue, now):
    number = str(_submit(db, catalogue, now))
    store_requests.change_state(db, number, "ready", source="hub", now=now)

    def backwards(d):
        d.execute("UPDATE requests SET operator = 'tampered' WHERE number = ?", [number])
        store_requests.change_state(d, number, "received", source="hub", now=now)

    assert inbox.apply_once(db, "01HUBMSG2", "request-status", backwards, now=now) == "rejected"
    assert store_requests.get(db, number).operator == "operator:3"
    outcome, error = db.execute("SELECT outcome, error FROM inbox WHERE msg_id = '01HUBMSG2'").fetchone()
    assert outcome == "rejected" and "received" in error
    assert inbox.apply_once(db, "01HUBMSG2", "request-status", backwards, now=now) == "duplicate"


def test_crash_while_applying_downlink_leaves_it_unhandled_for_redelivery(db, catalogue, now):
    def crash(d):
        d.execute("UPDATE requests SET operator = 'half'")
        raise OSError("disk")

    with pytest.raises(OSError):
        inbox.apply_once(db, "01HUBMSG3", "request-status", crash, now=now)
    assert not inbox.seen(db, "01HUBMSG3")


def test_every_store_error_is_a_user_facing_error():
    for cls in (store_requests.UnknownRequest, store_requests.DailyLimitReached):
        assert issubclass(cls, EdgeError)


def _written(db) -> tuple[int, int, int, int]:
    return tuple(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                 for t in ("outbox", "audit_log", "request_history", "refunds"))


def test_cancelling_a_paid_request_closes_it_as_cancelled_and_records_the_refund_in_one_transaction(
        db, catalogue, now):
    # Issue 18, finding 3: a cancellation showed as a rejection, any operator could cancel a paid request, and
    # no refund was recorded.
    number = str(_submit(db, catalogue, now))
    paid = store_requests.get(db, number).fee_piastres
    assert paid > 0
    before = _written(db)
    with pytest.raises(rq.RefundNeedsSupervisor) as caught:
        store_requests.cancel(db, number, "citizen asked", actor="operator:3", now=now)
    assert "supervisor" in caught.value.message_en and _written(db) == before
    assert store_requests.cancel(db, number, "  citizen \n asked ", actor="operator:3", confirmed_by="operator:1",
                                 now=now) == "citizen asked"
    found = store_requests.get(db, number)
    assert found.state is rq.RequestState.CANCELLED
    assert found.history[-1]["reason"] == "citizen asked"
    assert [r.kind for r in outbox.pending(db, "tx")] == ["request.submitted", "request.state", "request.refunded"]
    assert outbox.pending(db, "tx")[1].body["state"] == "cancelled"
    assert outbox.pending(db, "tx")[2].body == {
        "number": number, "amount_piastres": paid, "method": "cash", "reason": "citizen asked",
        "operator": "operator:3", "confirmed_by": "operator:1", "at": clock.iso(now)}
    rows = db.execute("SELECT action, actor, details FROM audit_log ORDER BY seq").fetchall()
    assert [r[0] for r in rows] == ["request.submit", "request.cancelled", "request.cancel", "request.refund"]
    assert rows[2][1] == "operator:3" and "citizen asked" in rows[2][2]
    assert rows[3][1] == "operator:1" and str(paid) in rows[3][2]
    assert store_requests.refund_of(db, number) == {
        "amount_piastres": paid, "method": "cash", "reason": "citizen asked", "operator": "operator:3",
        "confirmed_by": "operator:1", "at": clock.iso(now)}


def test_a_request_with_nothing_paid_is_cancelled_without_a_supervisor_or_a_refund(db, catalogue, now):
    number = str(_submit(db, catalogue, now))
    db.execute("UPDATE requests SET paid_piastres = 0 WHERE number = ?", [number])
    store_requests.cancel(db, number, "duplicate", actor="operator:3", now=now)
    assert store_requests.get(db, number).state is rq.RequestState.CANCELLED
    assert store_requests.refund_of(db, number) is None


def test_a_cancel_without_a_reason_or_after_the_decision_writes_nothing(db, catalogue, now):
    number = str(_submit(db, catalogue, now))
    before = _written(db)
    with pytest.raises(rq.CancelReasonMissing):
        store_requests.cancel(db, number, "   ", actor="operator:3", now=now)
    assert _written(db) == before and store_requests.get(db, number).state is rq.RequestState.SUBMITTED
    store_requests.change_state(db, number, "ready", source="hub", now=now)
    before = _written(db)
    with pytest.raises(rq.NotCancellable):
        store_requests.cancel(db, number, "citizen asked", actor="operator:3", confirmed_by="operator:1", now=now)
    assert _written(db) == before and store_requests.get(db, number).state is rq.RequestState.READY


def test_cancelling_an_unknown_request_says_so(db):
    with pytest.raises(store_requests.UnknownRequest):
        store_requests.cancel(db, "007-261121-0001-5", "citizen asked", actor="operator:3", confirmed_by="operator:1")


@pytest.mark.parametrize("last", ["request.cancel", "request.refund"])
def test_a_failure_at_the_cancels_last_write_leaves_nothing_half_done(db, catalogue, now, monkeypatch, last):
    number = str(_submit(db, catalogue, now))
    before = _written(db)
    record = store_requests.audit_log.record

    def broken(database, *, action, **kwargs):
        if action == last:  # the state change (and the refund) are already written when this fails
            raise OSError("disk")
        return record(database, action=action, **kwargs)

    monkeypatch.setattr(store_requests.audit_log, "record", broken)
    with pytest.raises(OSError):
        store_requests.cancel(db, number, "citizen asked", actor="operator:3", confirmed_by="operator:1", now=now)
    assert _written(db) == before and store_requests.get(db, number).state is rq.RequestState.SUBMITTED


def test_training_mode_numbers_from_9001_and_real_requests_stop_at_9000(db, catalogue, now):
    # Issue 18, finding 2: a training paper must never carry a real request's number.
    first_training = _submit(db, catalogue, now, training=True)
    assert first_training.seq == rq.TRAINING_FIRST_SEQ and first_training.training
    db.execute("UPDATE request_counters SET last_seq = 8999")
    assert _submit(db, catalogue, now).seq == 9000
    with pytest.raises(store_requests.DailyLimitReached):
        _submit(db, catalogue, now)


def _location_sent(db) -> object:
    row = [r for r in outbox.pending(db, "tx", limit=100) if r.kind == "request.submitted"][-1]
    return row.body["location"]


def test_the_request_carries_where_the_van_stood_when_its_gps_has_a_recent_fix(db, catalogue, now):
    from datetime import timedelta

    from edge.store import device_status

    _submit(db, catalogue, now)
    assert _location_sent(db) is None  # no GPS receiver: no place, never a made-up one
    device_status.report(db, "gps", "gps", "warning", detail={"fault": "no_fix", "satellites": 2}, now=now)
    _submit(db, catalogue, now)
    assert _location_sent(db) is None  # a receiver with no fix yet
    fix = {"latitude": 30.0444196, "longitude": 31.2357116, "fix_age_s": 2.0}
    device_status.report(db, "gps", "gps", "ok", detail=fix, now=now - timedelta(seconds=30))
    _submit(db, catalogue, now)
    assert _location_sent(db) == {"lat": 30.04442, "lon": 31.235712, "fix_age_s": 32}
    # The watch stopped 20 minutes ago: its last fix says nothing of where the van is now.
    device_status.report(db, "gps", "gps", "ok", detail=fix, now=now - timedelta(minutes=20))
    _submit(db, catalogue, now)
    assert _location_sent(db) is None
    device_status.report(db, "gps", "gps", "ok", detail={**fix, "latitude": 1e308}, now=now)
    _submit(db, catalogue, now)
    assert _location_sent(db) is None

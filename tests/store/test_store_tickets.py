"""The queue in the van database: tickets issued per category series, priority first, transfers keep the place."""

from __future__ import annotations

from datetime import timedelta

import pytest

from edge.core import tickets as tk
from edge.store import audit_log, outbox
from edge.store import tickets as store_tickets


def _two_categories(catalogue):
    a, b = catalogue.categories[0], catalogue.categories[1]
    return a, b


def test_tickets_are_numbered_per_category_series(db, catalogue, now):
    a, b = _two_categories(catalogue)
    t1 = store_tickets.issue(db, catalogue, a.code, now=now).ticket
    t2 = store_tickets.issue(db, catalogue, a.code, now=now).ticket
    t3 = store_tickets.issue(db, catalogue, b.code, now=now).ticket
    assert [t1.number, t2.number, t3.number] == [f"{a.ticket_series}001", f"{a.ticket_series}002",
                                                 f"{b.ticket_series}001"]


def test_series_restart_on_a_new_local_day(db, catalogue, now):
    a, _ = _two_categories(catalogue)
    store_tickets.issue(db, catalogue, a.code, now=now)
    tomorrow = store_tickets.issue(db, catalogue, a.code, now=now + timedelta(days=1)).ticket
    assert tomorrow.seq == 1


def test_issued_ticket_tells_people_ahead_and_wait(db, catalogue, now):
    a, _ = _two_categories(catalogue)
    for _ in range(3):
        store_tickets.issue(db, catalogue, a.code, now=now)
    issued = store_tickets.issue(db, catalogue, a.code, now=now)
    assert issued.people_ahead == 3
    assert issued.wait == tk.estimate_wait(3, [])


def test_priority_ticket_is_called_before_earlier_regular_ticket(db, catalogue, now):
    a, _ = _two_categories(catalogue)
    store_tickets.issue(db, catalogue, a.code, now=now)
    prio = store_tickets.issue(db, catalogue, a.code, "elderly", now=now + timedelta(minutes=1)).ticket
    called = store_tickets.call_next(db, counter=1, operator="operator:1", now=now + timedelta(minutes=2))
    assert called.number == prio.number and called.state is tk.TicketState.CALLED and called.counter == 1


def test_full_service_is_recorded_reported_and_audited(db, catalogue, now):
    a, _ = _two_categories(catalogue)
    t = store_tickets.issue(db, catalogue, a.code, now=now).ticket
    store_tickets.call_next(db, 2, "operator:1", now=now + timedelta(minutes=1))
    store_tickets.recall(db, t.number, "operator:1", now=now + timedelta(minutes=2))
    store_tickets.start(db, t.number, "operator:1", now=now + timedelta(minutes=3))
    done = store_tickets.finish(db, t.number, "operator:1", now=now + timedelta(minutes=10))
    assert done.state is tk.TicketState.DONE and done.recalls == 1
    assert [r.kind for r in outbox.pending(db, "tx")] == [
        "ticket.issued", "ticket.call", "ticket.recall", "ticket.start", "ticket.finish"]
    assert [e.action for e in audit_log.entries(db)] == [
        "ticket.call", "ticket.recall", "ticket.start", "ticket.finish"]
    # The finished service now feeds the wait estimate.
    assert store_tickets._recent_service_seconds(db, a.code) == [420.0]


def test_nobody_waiting_calls_nobody(db, now):
    assert store_tickets.call_next(db, 1, "operator:1", now=now) is None


def test_no_show_closes_the_ticket(db, catalogue, now):
    a, _ = _two_categories(catalogue)
    t = store_tickets.issue(db, catalogue, a.code, now=now).ticket
    store_tickets.call_next(db, 1, "operator:1", now=now)
    assert store_tickets.no_show(db, t.number, "operator:1", now=now).state is tk.TicketState.NO_SHOW
    with pytest.raises(store_tickets.UnknownTicket):
        store_tickets.start(db, t.number, "operator:1", now=now)


def test_transferred_ticket_keeps_its_place_in_new_queue(db, catalogue, now):
    a, b = _two_categories(catalogue)
    t = store_tickets.issue(db, catalogue, a.code, now=now).ticket
    store_tickets.issue(db, catalogue, b.code, now=now + timedelta(minutes=5))
    store_tickets.call_next(db, 1, "operator:1", categories=[a.code], now=now + timedelta(minutes=6))
    fresh = store_tickets.transfer(db, catalogue, t.number, b.code, "operator:1", now=now + timedelta(minutes=7))
    assert (fresh.number, fresh.category, fresh.transferred_from) == (t.number, b.code, t.number)
    assert [w.number for w in store_tickets.waiting(db, now=now)][0] == t.number
    # The screen calls the number on the citizen's paper, at the next counter serving the new service.
    called = store_tickets.call_next(db, 2, "operator:2", categories=[b.code], now=now + timedelta(minutes=8))
    assert (called.number, called.category, called.counter) == (t.number, b.code, 2)
    # The series' counter did not move back: the next ticket in the old series is new.
    later = store_tickets.issue(db, catalogue, a.code, now=now + timedelta(minutes=9)).ticket
    assert later.number != t.number and later.seq == t.seq + 1


def test_action_on_done_ticket_is_refused_in_both_languages(db, catalogue, now):
    a, _ = _two_categories(catalogue)
    t = store_tickets.issue(db, catalogue, a.code, now=now).ticket
    with pytest.raises(tk.InvalidTicketTransition) as err:
        store_tickets.start(db, t.number, "operator:1", now=now)
    assert t.number in err.value.message_en and t.number in err.value.message_ar


def test_now_serving_lists_called_tickets_latest_first(db, catalogue, now):
    a, _ = _two_categories(catalogue)
    for _ in range(2):
        store_tickets.issue(db, catalogue, a.code, now=now)
    first = store_tickets.call_next(db, 1, "operator:1", now=now + timedelta(minutes=1))
    second = store_tickets.call_next(db, 2, "operator:2", now=now + timedelta(minutes=2))
    assert [t.number for t in store_tickets.called(db, now=now)] == [second.number, first.number]

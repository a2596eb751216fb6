"""The store under faults: a failed COMMIT, a wrapped ticket series, retention, bad downlink content."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from edge.core import requests as rq
from edge.core.citizens import Citizen
from edge.core.national_id import parse
from edge.store import device_status, inbox, outbox, retention
from edge.store import requests as store_requests
from edge.store import tickets as store_tickets
from edge.store.db import StoreUnavailable, open_db, transaction


def test_failed_commit_rolls_back_and_releases_the_write_lock(db, db_path):
    db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    db.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, "
               "parent INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)")
    with pytest.raises(sqlite3.IntegrityError), transaction(db):
        outbox.enqueue(db, "tx", "t", {})
        db.execute("INSERT INTO child (parent) VALUES (42)")  # fails only at COMMIT
    assert not db.conn.in_transaction
    assert outbox.backlog(db).pending == 0
    # Another process can write again at once.
    other = open_db(db_path)
    outbox.enqueue(other, "tx", "t", {})
    assert outbox.backlog(db).pending == 1


def test_nested_transaction_failure_rolls_back_only_the_inner_part(db):
    with transaction(db):
        outbox.enqueue(db, "tx", "kept", {})
        with pytest.raises(RuntimeError), transaction(db):
            outbox.enqueue(db, "tx", "dropped", {})
            raise RuntimeError
    assert [r.kind for r in outbox.pending(db)] == ["kept"]


def test_missing_database_file_is_a_clear_error_when_it_must_exist(tmp_path):
    with pytest.raises(StoreUnavailable) as err:
        open_db(tmp_path / "nope" / "van.db", must_exist=True)
    assert "does not exist" in err.value.message_en and err.value.message_ar


def test_unwritable_data_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreUnavailable):
        open_db(blocker / "van.db")


def test_called_ticket_after_series_wrap_is_the_oldest_waiting_one(db, catalogue, now, monkeypatch):
    monkeypatch.setattr(store_tickets.tk, "MAX_SEQ", 3)
    category = catalogue.categories[0]
    issued = [store_tickets.issue(db, catalogue, category.code, now=now + timedelta(seconds=i)).ticket
              for i in range(4)]
    assert [t.number for t in issued][-1] == issued[0].number  # wrapped: the 4th reuses the 1st number
    first = store_tickets.call_next(db, 1, "operator:1", now=now + timedelta(minutes=1))
    assert first.issued_at == issued[0].issued_at
    states = [r[0] for r in db.execute("SELECT state FROM tickets ORDER BY id")]
    assert states == ["called", "waiting", "waiting", "waiting"]
    # Acting on the number means the called ticket, not its waiting namesake.
    started = store_tickets.start(db, first.number, "operator:1", now=now + timedelta(minutes=2))
    assert started.issued_at == issued[0].issued_at


def test_series_restart_at_local_midnight_not_utc(db, catalogue, now):
    category = catalogue.categories[0]
    store_tickets.issue(db, catalogue, category.code, now=now.replace(hour=21, minute=30))  # 23:30 Cairo
    after_midnight = store_tickets.issue(db, catalogue, category.code, now=now.replace(hour=22, minute=30))
    assert after_midnight.ticket.seq == 1


def _submit(db, catalogue, now):
    service = catalogue.services[0]
    return str(store_requests.submit(
        db, van_id="V007", catalogue=catalogue, service_code=service.code,
        citizen=Citizen(parse("29001010112355"), "منى أحمد حسن"),
        payment=rq.Payment("cash", service.fee_piastres), operator="operator:3", now=now))


def test_unknown_state_from_the_hub_is_rejected_not_retried_forever(db, catalogue, now):
    number = _submit(db, catalogue, now)
    outcome = inbox.apply_once(
        db, "01BOGUS", "request-status",
        lambda d: store_requests.change_state(d, number, "bogus", source="hub", now=now), now=now)
    assert outcome == "rejected"
    assert inbox.apply_once(db, "01BOGUS", "request-status", lambda d: None, now=now) == "duplicate"


def test_unknown_source_is_a_programming_error(db, catalogue, now):
    number = _submit(db, catalogue, now)
    with pytest.raises(ValueError):
        store_requests.change_state(db, number, "ready", source="governorate", now=now)


def test_duplicate_downlink_does_not_run_its_effect_again(db, now):
    runs = []
    for _ in range(3):
        inbox.apply_once(db, "01SAME", "command", lambda d: runs.append(1), now=now)
    assert runs == [1]


def test_retention_purges_only_old_delivered_rows_and_old_device_events(db, now):
    old_delivered = outbox.enqueue(db, "tx", "t", {}, now=now - timedelta(days=40))
    outbox.mark_delivered(db, [old_delivered.msg_id], now=now - timedelta(days=40))
    old_pending = outbox.enqueue(db, "tx", "t", {}, now=now - timedelta(days=400))
    device_status.report(db, "printer", "printer", "ok", now=now - timedelta(days=20))
    device_status.report(db, "printer", "printer", "error", now=now - timedelta(days=1))
    removed = retention.purge(db, now, delivered_outbox_days=30, device_events_days=14)
    assert removed == {"outbox": 1, "device_events": 1}
    assert [r.msg_id for r in outbox.pending(db)] == [old_pending.msg_id]
    assert device_status.current(db)[0].state == "error"


@pytest.mark.parametrize("poison", [ValueError("bad number"), KeyError("state"), TypeError("None"),
                                    ArithmeticError("1e308"), RecursionError("deep")])
def test_a_downlink_the_vans_code_cannot_handle_is_rejected_with_its_reason_not_looped_on(db, now, poison):
    # Finding 2 of issue 16: only EdgeError was caught, so any other exception crashed edge sync on every
    # redelivery. Now the message is recorded as rejected (its partial effect undone) and reported.
    reports = []

    def effect(d):
        outbox.enqueue(d, "tx", "half.done", {}, now=now)
        raise poison

    outcome = inbox.apply_once(db, "01POISON", "catalog", effect, now=now,
                               report=lambda d, outcome, error: reports.append((outcome, error)))
    assert outcome == "rejected"
    assert reports[0][0] == "rejected" and type(poison).__name__ in reports[0][1]
    assert db.execute("SELECT outcome FROM inbox WHERE msg_id = '01POISON'").fetchone() == ("rejected",)
    assert not [r for r in outbox.pending_after(db, "tx", 0, 10) if r.kind == "half.done"]
    assert inbox.apply_once(db, "01POISON", "catalog", effect, now=now) == "duplicate"


@pytest.mark.parametrize("fault", [sqlite3.OperationalError("database or disk is full"), OSError(28, "No space")])
def test_a_fault_of_the_van_itself_records_nothing_so_the_hub_sends_the_message_again(db, now, fault):
    def effect(d):
        raise fault

    with pytest.raises(type(fault)):
        inbox.apply_once(db, "01FULL", "request-status", effect, now=now)
    assert not inbox.seen(db, "01FULL")
    assert inbox.apply_once(db, "01FULL", "request-status", lambda d: None, now=now) == "applied"

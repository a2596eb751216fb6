"""The transactional outbox: a business row and its outbox row are committed together or not at all."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest

from edge.core import requests as rq
from edge.core.citizens import Citizen
from edge.core.national_id import parse
from edge.store import outbox
from edge.store import requests as store_requests
from edge.store.db import open_db, transaction

CITIZEN = Citizen(parse("29001011234567"), "أحمد محمد علي", "01012345678")


def _submit(db, catalogue, now, service=None):
    service = service or catalogue.services[0]
    return store_requests.submit(
        db, van_id="V007", catalogue=catalogue, service_code=service.code, citizen=CITIZEN,
        payment=rq.Payment(rq.PaymentMethod.CASH, service.fee_piastres), operator="operator:3", now=now,
    )


def _counts(db):
    return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("requests", "citizens", "request_history", "outbox", "audit_log", "request_counters")}


def test_submitted_request_has_its_outbox_row(db, catalogue, now):
    number = _submit(db, catalogue, now)
    rows = outbox.pending(db, "tx")
    assert [r.kind for r in rows] == ["request.submitted"]
    assert rows[0].body["number"] == str(number)
    assert rows[0].body["citizen"]["national_id"] == "29001011234567"
    assert [r.kind for r in outbox.pending(db, "audit")] == ["audit.entry"]


def test_failure_between_business_row_and_outbox_row_leaves_neither(db, catalogue, now, monkeypatch):
    _submit(db, catalogue, now)
    before = _counts(db)

    def broken_enqueue(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(outbox, "enqueue", broken_enqueue)
    with pytest.raises(OSError):
        _submit(db, catalogue, now)
    assert _counts(db) == before


def test_power_cut_between_business_row_and_outbox_row_leaves_neither(db_path, db, catalogue, now):
    # A real process dies (os._exit: no cleanup, no rollback) after the request row is written and
    # before its outbox row; on restart the database must hold neither.
    before = _counts(db)
    script = textwrap.dedent(f"""
        import os
        from datetime import datetime
        from edge.core import catalogue, requests as rq
        from edge.core.citizens import Citizen
        from edge.core.national_id import parse
        from edge.store import outbox, requests as store_requests
        from edge.store.db import open_db

        def die(*a, **k):
            os._exit(9)

        outbox.enqueue = die
        cat = catalogue.load_default()
        svc = cat.services[0]
        store_requests.submit(open_db({str(db_path)!r}), van_id="V007", catalogue=cat,
            service_code=svc.code, citizen=Citizen(parse("29001011234567"), "أحمد محمد علي"),
            payment=rq.Payment("cash", svc.fee_piastres), operator="operator:3",
            now=datetime.fromisoformat({now.isoformat()!r}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 9, proc.stderr
    assert _counts(open_db(db_path)) == before


def test_request_numbers_continue_after_a_rolled_back_submission(db, catalogue, now, monkeypatch):
    first = _submit(db, catalogue, now)
    real = outbox.enqueue
    monkeypatch.setattr(outbox, "enqueue", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("x")))
    with pytest.raises(RuntimeError):
        _submit(db, catalogue, now)
    monkeypatch.setattr(outbox, "enqueue", real)
    second = _submit(db, catalogue, now)
    assert (first.seq, second.seq) == (1, 2)


def test_per_stream_sequence_numbers_have_no_gaps(db):
    with transaction(db):
        for i in range(5):
            outbox.enqueue(db, "tx", "t", {"i": i})
        outbox.enqueue(db, "doc", "d", {})
    with pytest.raises(RuntimeError), transaction(db):
        outbox.enqueue(db, "tx", "lost", {})
        raise RuntimeError("rolled back")
    outbox.enqueue(db, "tx", "t", {"i": 5})
    assert [r.seq for r in outbox.pending(db, "tx")] == [1, 2, 3, 4, 5, 6]
    assert [r.seq for r in outbox.pending(db, "doc")] == [1]


def test_pending_puts_business_records_before_documents(db):
    outbox.enqueue(db, "doc", "chunk", {"n": 1})
    outbox.enqueue(db, "tx", "request.submitted", {})
    outbox.enqueue(db, "audit", "audit.entry", {})
    assert [r.stream for r in outbox.pending(db)] == ["audit", "tx", "doc"]


def test_row_is_delivered_once_and_repeated_acks_change_nothing(db, now):
    row = outbox.enqueue(db, "tx", "t", {}, now=now)
    assert outbox.mark_delivered(db, [row.msg_id], now=now) == 1
    assert outbox.mark_delivered(db, [row.msg_id], now=now) == 0
    assert outbox.pending(db) == []
    assert outbox.backlog(db).pending == 0


def test_backlog_reports_count_and_age_of_oldest(db, now):
    outbox.enqueue(db, "tx", "t", {}, now=now)
    outbox.enqueue(db, "doc", "d", {}, now=now + timedelta(minutes=5))
    b = outbox.backlog(db)
    assert (b.pending, b.by_stream) == (2, {"tx": 1, "doc": 1})
    assert b.oldest_age(now + timedelta(hours=2)) == timedelta(hours=2)


def test_purge_never_removes_undelivered_rows(db, now):
    old = outbox.enqueue(db, "tx", "t", {}, now=now - timedelta(days=60))
    kept = outbox.enqueue(db, "tx", "t", {}, now=now - timedelta(days=60))
    outbox.mark_delivered(db, [old.msg_id], now=now - timedelta(days=45))
    assert outbox.purge_delivered(db, now - timedelta(days=30)) == 1
    assert [r.msg_id for r in outbox.pending(db)] == [kept.msg_id]


def test_outbox_rows_survive_reopening(db_path, db):
    row = outbox.enqueue(db, "tx", "t", {"نص": "عربي"})
    db.close()
    again = outbox.pending(open_db(db_path))
    assert again[0].msg_id == row.msg_id and again[0].body == {"نص": "عربي"}

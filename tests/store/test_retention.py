"""Retention of citizens' personal data: erased once the governorate has it and the retention has passed,
never before; what an operator needs to answer a status question stays."""

from __future__ import annotations

from datetime import timedelta

from edge.core import requests as rq
from edge.core.citizens import Citizen
from edge.core.national_id import parse
from edge.store import documents, outbox, retention
from edge.store import requests as store_requests

CITIZEN = Citizen(parse("29001010112355"), "منى أحمد حسن", "01012345678")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200 + b"\xff\xd9"


def _submit(db, catalogue, now):
    service = catalogue.services[0]
    return str(store_requests.submit(
        db, van_id="V007", catalogue=catalogue, service_code=service.code, citizen=CITIZEN,
        payment=rq.Payment("card", service.fee_piastres, "AB12CD"), operator="operator:3", now=now,
    ))


def _scan(db, folder, number, now):
    kept = documents.read_page(folder, documents.write_page(folder, "intake", JPEG))
    return documents.record(db, number, "NID", 1, kept, now=now)


def _deliver_all(db, now):
    ids = [r[0] for r in db.execute("SELECT msg_id FROM outbox WHERE delivered_at IS NULL").fetchall()]
    outbox.mark_delivered(db, ids, now=now)


def test_acknowledged_old_request_loses_personal_data_but_keeps_its_status(db, catalogue, now, tmp_path):
    old = now - timedelta(days=100)
    number = _submit(db, catalogue, old)
    doc = _scan(db, tmp_path, number, old)
    _deliver_all(db, old)
    erased = retention.purge_personal_data(db, tmp_path, now, personal_data_days=90)
    assert erased == {"requests": 1, "citizens": 1, "documents": 1}
    found = store_requests.get(db, number)
    assert found.state.value == "submitted" and found.service_code == catalogue.services[0].code
    assert found.citizen_name == "" and found.payment_reference is None
    row = db.execute("SELECT national_id, name, mobile, purged_at FROM citizens").fetchone()
    assert row[0] is None and row[1] == "" and row[2] is None and row[3]
    assert not (tmp_path / doc.path).exists()
    bodies = " ".join(r[0] for r in db.execute("SELECT body FROM outbox").fetchall())
    assert "29001010112355" not in bodies and "منى" not in bodies and "AB12CD" not in bodies
    # Running again finds nothing more to do.
    assert retention.purge_personal_data(db, tmp_path, now, personal_data_days=90) == \
        {"requests": 0, "citizens": 0, "documents": 0}


def test_unacknowledged_request_keeps_everything_however_old(db, catalogue, now, tmp_path):
    number = _submit(db, catalogue, now - timedelta(days=400))
    erased = retention.purge_personal_data(db, tmp_path, now, personal_data_days=90)
    assert erased["requests"] == 0
    assert store_requests.get(db, number).citizen_national_id == "29001010112355"


def test_a_pending_scan_holds_back_the_erasure(db, catalogue, now, tmp_path):
    old = now - timedelta(days=100)
    number = _submit(db, catalogue, old)
    _deliver_all(db, old)
    _scan(db, tmp_path, number, old)  # its upload is not acknowledged yet
    assert retention.purge_personal_data(db, tmp_path, now, personal_data_days=90)["requests"] == 0


def test_a_citizen_with_a_recent_request_keeps_their_identity(db, catalogue, now, tmp_path):
    _submit(db, catalogue, now - timedelta(days=100))
    recent = _submit(db, catalogue, now - timedelta(days=5))
    _deliver_all(db, now)
    erased = retention.purge_personal_data(db, tmp_path, now, personal_data_days=90)
    assert erased["requests"] == 1 and erased["citizens"] == 0
    assert store_requests.get(db, recent).citizen_national_id == "29001010112355"

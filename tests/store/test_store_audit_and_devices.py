"""Audit log in the database (tamper detection on the real table) and device status rows."""

from __future__ import annotations

from datetime import timedelta

from edge.store import audit_log, device_status, outbox


def _log(db, now, n=10):
    for i in range(n):
        audit_log.record(db, actor="operator:1", action="ticket.call", subject=f"A{i:03d}",
                         details={"counter": i % 3, "ملاحظة": "تجربة"}, now=now + timedelta(seconds=i))


def test_intact_log_verifies_and_each_entry_goes_up(db, now):
    _log(db, now)
    assert audit_log.verify(db) is None
    assert len(outbox.pending(db, "audit")) == 10
    assert audit_log.last(db).seq == 10


def test_edited_row_is_found(db, now):
    _log(db, now)
    db.execute("UPDATE audit_log SET subject = 'A999' WHERE seq = 4")
    broken = audit_log.verify(db)
    assert (broken.seq, broken.reason) == (4, "hash-mismatch")


def test_deleted_row_is_found(db, now):
    _log(db, now)
    db.execute("DELETE FROM audit_log WHERE seq = 6")
    # The row now at position 6 does not link to entry 5.
    broken = audit_log.verify(db)
    assert (broken.seq, broken.reason) == (6, "broken-link")


def test_device_state_changes_are_logged_heartbeats_are_not(db, now):
    assert device_status.report(db, "printer", "printer", "ok", now=now)
    assert not device_status.report(db, "printer", "printer", "ok", now=now + timedelta(seconds=30))
    assert device_status.report(db, "printer", "printer", "error", message_en="Paper out",
                                message_ar="نفد الورق", detail={"paper": "out"}, now=now + timedelta(minutes=1))
    [status] = device_status.current(db)
    assert (status.state, status.message_en, status.detail) == ("error", "Paper out", {"paper": "out"})
    assert status.since == (now + timedelta(minutes=1)).isoformat()
    assert db.execute("SELECT count(*) FROM device_events").fetchone()[0] == 2


def test_deleting_the_newest_entries_is_found(db, now):
    _log(db, now)
    db.execute("DELETE FROM audit_log WHERE seq >= 9")
    broken = audit_log.verify(db)
    assert (broken.seq, broken.reason) == (9, audit_log.TRUNCATED)


def test_details_edited_into_non_json_is_reported_not_a_crash(db, now):
    _log(db, now)
    db.execute("UPDATE audit_log SET details = 'not json' WHERE seq = 2")
    broken = audit_log.verify(db)
    assert (broken.seq, broken.reason) == (2, "hash-mismatch")

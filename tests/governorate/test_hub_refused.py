"""Staff screens for what the hub refused (issue 15): the quarantine for admins — each message, why, its
bytes and "try again" — and the conflicts (a request number sent again with other content) side by side."""

from __future__ import annotations

import cbor2
import pytest
from ulid import ULID

from edge.sync import protocol as p
from governorate import admission, quarantine
from governorate.store import HubStore
from governorate.web import create_app
from tests.support.gov_support import GOV, add_staff, csrf, login, offline_hub, tel, van_requests


@pytest.fixture(scope="module")
def v008(tmp_path_factory):
    numbers, messages = van_requests(tmp_path_factory.mktemp("v008"), "V008", 1)
    return numbers, messages


@pytest.fixture
def hub_app(tmp_path):
    store = HubStore(tmp_path / "hub.db")
    add_staff(store)
    hub = offline_hub(store)
    sent = []
    hub.client.publish = lambda topic, payload, qos=0: sent.append((topic, cbor2.loads(payload)))
    app = create_app({"DB_PATH": store.path, "SECRET_KEY": b"k" * 32, "SENDER": hub, "GOVERNORATE": GOV})
    yield store, hub, app, sent
    store.close()


def _submitted(messages, **changes):
    topic, payload = next(m for m in messages if cbor2.loads(m[1])["kind"] == "request.submitted")
    fields = cbor2.loads(payload)
    fields["body"].update(changes)
    fields["msg_id"] = str(ULID())
    return topic, p.encode(p.Envelope(**fields)), fields


def test_an_admin_sees_why_a_message_was_refused_and_who_else_may_not(hub_app, v008):
    store, hub, app, _sent = hub_app
    topic, payload, fields = _submitted(v008[1], submitted_at="9999-12-31T10:00:00+00:00")
    hub.ingest_now([(topic, payload)])
    admin = app.test_client()
    login(admin, "admin")
    page = admin.get("/quarantine").get_data(as_text=True)
    assert 'data-reason="implausible-time"' in page and fields["msg_id"][:26] in page
    assert "وقت غير معقول" in page and "Implausible time" in page
    assert "/quarantine" in admin.get("/").get_data(as_text=True)  # in the admin's menu
    (entry,) = quarantine.listing(store)
    download = admin.get(f"/quarantine/{entry['id']}/payload")
    assert download.data == payload and "attachment" in download.headers["Content-Disposition"]
    assert store._read("SELECT action, subject FROM staff_audit WHERE action = 'quarantine.download'") == \
        [("quarantine.download", fields["msg_id"])]
    for role in ("clerk", "viewer"):
        other = app.test_client()
        login(other, role)
        assert other.get("/quarantine").status_code == 403
        assert other.get(f"/quarantine/{entry['id']}/payload").status_code == 403
        assert "/quarantine" not in other.get("/").get_data(as_text=True)


def test_try_again_stores_a_message_once_the_hubs_check_is_put_right_and_acks_its_van(hub_app, v008, monkeypatch):
    store, hub, app, sent = hub_app
    topic, payload, fields = _submitted(v008[1], submitted_at="9999-12-31T10:00:00+00:00")
    hub.ingest_now([(topic, payload)])
    (entry,) = quarantine.listing(store)
    admin = app.test_client()
    token = login(admin, "admin")
    # Still refused: it stays, and the admin reads so.
    page = admin.post(f"/quarantine/{entry['id']}/release", data={"csrf_token": token}, follow_redirects=True)
    assert "refused again" in page.get_data(as_text=True) and len(quarantine.listing(store)) == 1
    # The hub's check is corrected (here: it accepts the van's date): "try again" stores it.
    monkeypatch.setattr(admission, "check", lambda *a, **k: None)
    sent.clear()
    page = admin.post(f"/quarantine/{entry['id']}/release", data={"csrf_token": csrf(admin, "/quarantine")},
                      follow_redirects=True)
    assert "accepted and stored" in page.get_data(as_text=True)
    assert store.request(fields["body"]["number"]) is not None
    assert quarantine.listing(store) == []
    acks = [m for t, m in sent if t == p.down_topic(GOV, "V008", "ack")]
    assert fields["msg_id"] in acks[0]["body"]["msg_ids"]
    outcomes = [r[0] for r in store._read("SELECT details FROM staff_audit WHERE action = 'quarantine.release'")]
    assert '"refused"' in outcomes[0] and '"stored"' in outcomes[1]


def test_refused_telemetry_is_shown_but_not_put_through_again(hub_app):
    store, hub, app, _sent = hub_app
    hub.ingest_now([tel("V007", {"gps.lat": 1e9})])
    (entry,) = quarantine.listing(store)
    admin = app.test_client()
    token = login(admin, "admin")
    assert "/release" not in admin.get("/quarantine").get_data(as_text=True)
    page = admin.post(f"/quarantine/{entry['id']}/release", data={"csrf_token": token}, follow_redirects=True)
    assert "not put through again" in page.get_data(as_text=True) and len(quarantine.listing(store)) == 1


def test_a_clerk_sees_both_versions_of_a_request_number_sent_again(hub_app, v008):
    store, hub, app, _sent = hub_app
    first = next(m for m in v008[1] if cbor2.loads(m[1])["kind"] == "request.submitted")
    fields = cbor2.loads(first[1])
    topic, again, _ = _submitted(v008[1], citizen={**fields["body"]["citizen"], "name": "سارة محمود علي"})
    hub.ingest_now([first])
    hub.ingest_now([(topic, again)])
    clerk = app.test_client()
    login(clerk, "clerk")
    page = clerk.get("/conflicts").get_data(as_text=True)
    assert f'data-conflict="{fields["body"]["number"]}"' in page
    assert fields["body"]["citizen"]["name"] in page and "سارة محمود علي" in page
    viewer = app.test_client()
    login(viewer, "viewer")
    assert viewer.get("/conflicts").status_code == 403


def test_a_shift_report_that_does_not_add_up_is_refused_with_its_reason():
    # Issue 19: the hub trusts no van's Z-report: the drawer's arithmetic, and times that agree with each other.
    from datetime import UTC, datetime

    from governorate import admission
    from tests.sync.test_protocol import shift_body

    now = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    good = shift_body()
    admission.check("tx", "shift.closed", good["closed_at"], good, now)
    p.validate_body("tx", "shift.closed", good, good["van"])
    wrong_sum = {**good, "expected_cash_piastres": 171_000, "difference_piastres": -4_000}
    with pytest.raises(p.ProtocolError, match="float plus cash fees minus cash refunds"):
        p.validate_body("tx", "shift.closed", wrong_sum, good["van"])
    for body, why in (({**good, "closed_at": "2026-11-21T05:00:00+00:00"}, "before body.opened_at"),
                      ({**good, "day": "2026-11-20"}, "not the day the shift opened"),
                      # 23:30 UTC on the 20th is already the 21st in Cairo: that one is right.
                      ({**good, "opened_at": "2026-11-20T23:30:00+00:00", "day": "2026-11-20"}, "not the day")):
        with pytest.raises(admission.Inadmissible, match=why) as refused:
            admission.check("tx", "shift.closed", body["closed_at"], body, now)
        assert refused.value.reason == "bad-value"
    late_evening = {**good, "opened_at": "2026-11-20T23:30:00+00:00", "day": "2026-11-21"}
    admission.check("tx", "shift.closed", late_evening["closed_at"], late_evening, now)

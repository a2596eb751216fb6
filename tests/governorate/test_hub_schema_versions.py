"""The hub talks to each van in a protocol version the van's software reads (a fleet is updated van by van).

Every downlink is labelled with the oldest schema version that can carry it (edge.sync.protocol.down_schema), so
a van still on schema 1 or 2 reads the hub's acks, decisions and catalogues; a downlink kind the van's software does
not know yet (the public-holidays ``calendar``, schema 3) waits at the hub, shown as such on the van page, and
goes down with the van's first birth on newer software."""

from __future__ import annotations

from datetime import UTC, date, datetime

import cbor2
import pytest
from ulid import ULID

from edge.core import workdays
from edge.sync import protocol as p
from governorate import backoffice
from governorate.store import HubStore
from governorate.web import create_app
from tests.support.gov_support import GOV, add_staff, login, offline_hub, van_requests

HOLIDAYS = """version = 2

[[movable]]
days = ["2026-12-06", "2026-12-07"]
name_ar = "حداد وطني"
name_en = "National mourning"
"""


@pytest.fixture
def hub(tmp_path):
    store = HubStore(tmp_path / "hub.db")
    add_staff(store)
    hub = offline_hub(store)
    sent: list[tuple[str, bytes]] = []
    hub.client.publish = lambda topic, payload, qos=0: sent.append((topic, payload))
    yield store, hub, sent
    store.close()


def _birth(van: str, session: int, schema: int) -> tuple[str, bytes]:
    body = {"session": session, "online": True, "schema": schema}
    env = p.Envelope(str(ULID()), van, "status", session, schema, datetime.now(UTC).isoformat(), "status.birth", body)
    return p.up_topic(GOV, van, "status"), p.encode(env)


def _read_as(monkeypatch, schema: int, payload: bytes, van: str, kind: str) -> p.Downlink:
    """Decode ``payload`` as a van whose software knows schema versions up to ``schema`` does."""
    with monkeypatch.context() as m:
        m.setattr(p, "SCHEMA_VERSION", schema)
        return p.decode_down(payload, van=van, kind=kind)


def test_an_older_van_reads_every_ack_and_decision(hub, tmp_path, monkeypatch):
    store, h, sent = hub
    numbers, messages = van_requests(tmp_path / "v", "V007", 1)
    h.ingest_now([_birth("V007", 1, 1)])
    h.ingest_now(messages)
    acks = [payload for topic, payload in sent if topic.endswith("/ack")]
    assert acks
    for payload in acks:
        for version in (1, 2):
            assert _read_as(monkeypatch, version, payload, "V007", "ack").message.msg_ids
    for state, oldest in (("ready", 1), ("cancelled", 2)):
        msg_id = h.send("V007", p.RequestStatus(numbers[0], state, None, datetime.now(UTC).isoformat()))
        (payload,) = [bytes(r[0]) for r in store._read("SELECT payload FROM downlinks WHERE msg_id = ?", [msg_id])]
        assert cbor2.loads(payload)["schema"] == oldest
        assert _read_as(monkeypatch, 2, payload, "V007", "request-status").message.state == state
        went_down = [pl for _topic, pl in sent if cbor2.loads(pl)["msg_id"] == msg_id]
        if oldest == 1:
            assert went_down == [payload]
        else:  # a van on schema 1 does not know the state: it would refuse it as too new, so it is held
            assert went_down == []
            with pytest.raises(p.ProtocolError) as refused:
                _read_as(monkeypatch, 1, payload, "V007", "request-status")
            assert refused.value.reason == "schema-too-new"


def test_a_calendar_waits_for_a_van_that_cannot_read_it_and_goes_down_after_its_upgrade(hub, monkeypatch):
    store, h, sent = hub
    h.ingest_now([_birth("V007", 1, 2), _birth("V008", 1, 3)])
    sent.clear()
    version, vans = backoffice.publish_holidays(store, h, HOLIDAYS, "amal")
    assert (version, vans) == (2, 2)
    calendars = [(topic, payload) for topic, payload in sent if topic.endswith("/calendar")]
    assert [topic.split("/")[3] for topic, _ in calendars] == ["V008"]  # V007 speaks schema 2
    assert _read_as(monkeypatch, 3, calendars[0][1], "V008", "calendar").message.version == 2
    assert [kind for _, kind, _ in store.pending_downlinks("V007")] == []
    # The van page says why it has not gone down.
    app = create_app({"DB_PATH": store.path, "SECRET_KEY": b"k" * 32, "SENDER": h, "GOVERNORATE": GOV})
    staff = app.test_client()
    login(staff, "admin")
    page = staff.get("/vans/V007").get_data(as_text=True)
    assert "waits for the van&#39;s software update" in page or "waits for the van's software update" in page
    assert "waits for the van" not in staff.get("/vans/V008").get_data(as_text=True)
    # Reconnecting on the same software changes nothing; the first birth on schema 3 sends it.
    sent.clear()
    h.ingest_now([_birth("V007", 2, 2)])
    assert not [t for t, _ in sent if t.endswith("/calendar")]
    h.ingest_now([_birth("V007", 3, 3)])
    (payload,) = [pl for topic, pl in sent if topic.endswith("/calendar") and topic.split("/")[3] == "V007"]
    assert _read_as(monkeypatch, 3, payload, "V007", "calendar").message.text == HOLIDAYS
    # Rolled back to older software: the calendar is pending again only if not applied; a van that cannot read it
    # is never sent it.
    sent.clear()
    h.ingest_now([_birth("V007", 4, 2)])
    assert not [t for t, _ in sent if t.endswith("/calendar")]


def test_a_downlink_cannot_be_labelled_older_than_its_content():
    with pytest.raises(p.ProtocolError):
        p.encode_down(p.Calendar(2, HOLIDAYS), van="V007", schema=2)
    assert cbor2.loads(p.encode_down(p.Calendar(2, HOLIDAYS), van="V007"))["schema"] == 3


def test_the_due_window_follows_a_newly_published_calendar_without_a_restart(hub):
    store, h, _sent = hub
    h.ingest_now([_birth("V008", 1, 3)])
    friday = date(2026, 12, 4)
    shipped = workdays.load_default().due_date(friday, backoffice.SOON_WORKING_DAYS).isoformat()
    assert backoffice.due_window(friday, backoffice.calendar_in_force(store))[1] == shipped
    backoffice.publish_holidays(store, h, HOLIDAYS, "amal")
    after = backoffice.due_window(friday, backoffice.calendar_in_force(store))[1]
    assert after == workdays.loads(HOLIDAYS).due_date(friday, backoffice.SOON_WORKING_DAYS).isoformat()
    assert after > shipped  # the two days of mourning are skipped


def test_deeply_nested_toml_is_a_calendar_error():
    with pytest.raises(workdays.CalendarError, match="nested too deeply"):
        workdays.loads("version = 2\nx = " + "[" * 50_000 + "]" * 50_000)

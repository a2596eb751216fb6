"""The hub trusts no van (issue 15): a message it cannot apply is quarantined with its reason and refused,
and never stops the ingest, other messages or other vans, nor breaks a staff page."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime

import cbor2
import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion
from ulid import ULID

from edge.core import requests as rq
from edge.sync import protocol as p
from governorate import fleet, ingest, quarantine
from governorate.store import HubStore
from governorate.web import charts, create_app
from tests.support import hub_strategies as hs
from tests.support.gov_support import BACKENDS, add_staff, empty_hub, login, offline_hub, tel, van_requests
from tests.support.hub_rig import HubFuzzRig
from tests.support.hub_strategies import _GARBAGE, _SNAPSHOTS, _TIMES
from tests.support.sync_harness import GOV, wait_until


class Acks:
    """What the hub publishes, recorded instead of sent (the offline hub has no broker)."""

    def __init__(self, hub):
        self.sent: list[tuple[str, dict]] = []
        hub.client.publish = lambda topic, payload, qos=0: self.sent.append((topic, cbor2.loads(payload)))

    def acked(self, van: str) -> set[str]:
        return {i for t, m in self.sent if t == p.down_topic(GOV, van, "ack") for i in m["body"]["msg_ids"]}

    def rejected(self, van: str) -> dict[str, str]:
        return {r["msg_id"]: r["reason"] for t, m in self.sent if t == p.down_topic(GOV, van, "ack")
                for r in m["body"]["rejected"]}


def _envelope(van: str, stream: str, kind: str, body: dict, created_at: str | None = None) -> tuple[str, bytes]:
    created = created_at or datetime.now(UTC).isoformat()
    env = p.Envelope(str(ULID()), van, stream, 1, p.SCHEMA_VERSION, created, kind, body)
    return p.up_topic(GOV, van, stream), p.encode(env)  # p.encode: it passes the wire schema


def _reencode(message: tuple[str, bytes], **body_changes) -> tuple[str, bytes]:
    topic, payload = message
    fields = cbor2.loads(payload)
    fields["body"].update(body_changes)
    fields["msg_id"] = str(ULID())
    return topic, p.encode(p.Envelope(**fields))


@pytest.fixture
def store(tmp_path):
    s = HubStore(tmp_path / "hub.db")
    yield s
    s.close()


@pytest.fixture
def v008(tmp_path):
    """Two real requests of van V008 (tx + audit rows), as the hub receives them."""
    numbers, messages = van_requests(tmp_path / "V008", "V008", 2)
    return numbers, messages


def _quarantined(store, van=None):
    return [(q["van"], q["reason"]) for q in quarantine.listing(store, van)]


# --- finding 1: one telemetry snapshot in year 1 ------------------------------------------------


def test_a_snapshot_dated_year_one_is_quarantined_and_other_vans_are_stored_and_acked(store, v008):
    hub = offline_hub(store)
    acks = Acks(hub)
    numbers, messages = v008
    year_one = tel("V007", {"outbox_pending": 0}, at=datetime(1, 1, 1, 0, 0, 30, tzinfo=UTC))
    hub._process([year_one, *messages])
    assert all(store.request(n) for n in numbers)
    assert acks.acked("V008") == {cbor2.loads(m)["msg_id"] for _, m in messages}
    assert _quarantined(store) == [("V007", "implausible-time")]
    assert store.van("V007")["telemetry"] is None


def test_the_ingest_process_survives_a_year_one_snapshot_and_stores_the_next_vans_request(running_ingest, v008):
    proc, client, store, log = running_ingest
    numbers, messages = v008
    acked: list[str] = []
    client.on_message = lambda c, u, m: acked.extend(cbor2.loads(m.payload)["body"]["msg_ids"])
    client.subscribe(p.down_topic(GOV, "V008", "ack"), qos=1)
    time.sleep(0.3)  # the subscription is in place
    topic, payload = tel("V007", {"outbox_pending": 0}, at=datetime(1, 1, 1, 0, 0, 30, tzinfo=UTC))
    client.publish(topic, payload, qos=1).wait_for_publish(5)
    for topic, payload in messages:
        client.publish(topic, payload, qos=1).wait_for_publish(5)
    wait_until(lambda: all(store.request(n) for n in numbers) and len(acked) >= len(messages), 20,
               "V008's requests stored and acked")
    assert proc.poll() is None, log.read_text()
    assert set(acked) == {cbor2.loads(m)["msg_id"] for _, m in messages}
    assert _quarantined(store, "V007") == [("V007", "implausible-time")]


# --- finding 2: one van's GPS figures -----------------------------------------------------------


@pytest.mark.parametrize("lat", [1e9, 1e308, 91.0, -90.5])
def test_a_position_off_the_globe_is_refused(store, lat):
    hub = offline_hub(store)
    hub._process([tel("V007", {"gps.lat": lat, "gps.lon": 31.2})])
    assert _quarantined(store) == [("V007", "out-of-range")]


def test_the_fleet_map_of_a_position_stored_before_the_checks_draws_a_few_grid_lines(store):
    # What an older hub stored without checking: the overview must neither hang nor fail on it.
    for van, lat, lon in (("V007", 1e9, 31.2), ("V008", 1e17, 1e17), ("V009", 30.0, 31.0), ("V010", 30.0, 31.0)):
        store.conn.execute("INSERT INTO vans (van, online, telemetry, telemetry_at) VALUES (?, 1, ?, ?)",
                           [van, json.dumps({"gps.lat": lat, "gps.lon": lon}), datetime.now(UTC).isoformat()])
    vans = fleet.overview(store, fleet.Thresholds())
    drawing = charts.fleet_map(vans)
    assert [m["van"] for m in drawing["markers"]] == ["V009", "V010"]  # the same spot twice: span is the pad
    assert 0 < len(drawing["grid"]) <= 14


@pytest.mark.parametrize("span", [0.0, 0.1, 3.0, 60.0, 180.0, 360.0])
def test_the_map_grid_stays_small_for_any_span_on_the_globe(span):
    vans = [{"van": "V001", "lat": -span / 4, "lon": -span / 2, "status": "online", "alerts": 0},
            {"van": "V002", "lat": span / 4, "lon": span / 2, "status": "online", "alerts": 0}]
    assert len(charts.fleet_map(vans)["grid"]) <= 14


# --- finding 3: values that break pages or freeze telemetry ----------------------------------------


def test_a_figure_of_the_wrong_type_is_refused_and_one_stored_earlier_does_not_break_the_overview(store):
    hub = offline_hub(store)
    hub._process([tel("V007", {"outbox_oldest_age_s": "soon"})])
    assert _quarantined(store) == [("V007", "out-of-range")]
    store.conn.execute("INSERT INTO vans (van, online, telemetry) VALUES ('V008', 1, ?)",
                       [json.dumps({"outbox_oldest_age_s": "soon", "outbox_pending": "many"})])
    fleet.evaluate_alerts(store, fleet.Thresholds())
    (v8,) = [v for v in fleet.overview(store, fleet.Thresholds()) if v["van"] == "V008"]
    assert v8["backlog_age_s"] is None and v8["backlog"] is None


def test_a_snapshot_from_year_9999_is_refused_and_one_stored_earlier_does_not_hide_the_next(store):
    hub = offline_hub(store)
    hub._process([tel("V007", {"outbox_pending": 1}, at=datetime(9999, 12, 31, tzinfo=UTC))])
    assert _quarantined(store) == [("V007", "implausible-time")]
    store.conn.execute("INSERT INTO vans (van, online, telemetry, telemetry_at) VALUES "
                       "('V008', 1, '{\"outbox_pending\": 9}', '9999-12-31T00:00:00+00:00')")
    hub._process([tel("V008", {"outbox_pending": 2})])
    assert store.van("V008")["telemetry"] == {"outbox_pending": 2}


def test_a_request_submitted_in_year_9999_is_quarantined_and_refused_to_its_van(store, v008):
    hub = offline_hub(store)
    acks = Acks(hub)
    numbers, messages = v008
    first = next(m for m in messages if cbor2.loads(m[1])["kind"] == "request.submitted")
    future = _reencode(first, submitted_at="9999-12-31T10:00:00+00:00")
    hub._process([future])
    assert store.request(numbers[0]) is None
    assert _quarantined(store) == [("V008", "implausible-time")]
    assert acks.rejected("V008") == {cbor2.loads(future[1])["msg_id"]: "implausible-time"}
    assert acks.acked("V008") == set()


def test_staff_pages_answer_after_a_van_sent_only_nonsense(store, tmp_path):
    add_staff(store)
    hub = offline_hub(store)
    hub._process([tel("V007", {"gps.lat": 1e308, "gps.lon": -1e308, "outbox_oldest_age_s": "soon"}),
                  tel("V007", {"outbox_pending": 1}, at=datetime(9999, 1, 1, tzinfo=UTC))])
    store.conn.execute("INSERT INTO vans (van, online, telemetry, telemetry_at) VALUES ('V009', 1, ?, ?)",
                       [json.dumps({"gps.lat": 1e308, "gps.lon": 0, "outbox_oldest_age_s": "soon"}),
                        "9999-12-31T00:00:00+00:00"])
    app = create_app({"DB_PATH": store.path, "SECRET_KEY": b"k" * 32, "SENDER": offline_hub(store),
                      "GOVERNORATE": GOV})
    client = app.test_client()
    login(client, "admin")
    hub.evaluate_alerts()
    for path in ("/", "/fleet/partial", "/vans/V007", "/vans/V009", "/alerts", "/requests"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:500])
    (alert,) = [a for a in fleet.alerts(store) if a["kind"] == "quarantine"]
    assert alert["van"] == "V007" and alert["label_en"] == "Van messages refused (quarantine)"


# --- isolation: what the hub did not foresee ------------------------------------------------------


def test_a_message_the_hub_fails_on_is_undone_alone_quarantined_and_refused(store, v008, monkeypatch):
    hub = offline_hub(store)
    acks = Acks(hub)
    numbers, messages = v008
    poisoned = next(cbor2.loads(m)["msg_id"] for _, m in messages if cbor2.loads(m)["kind"] == "request.submitted")
    request_row = ingest._request_row

    def failing(env, text, at):  # a fault injected into one message, as an unforeseen bug would be
        if env.msg_id == poisoned:  # on both paths: the batch's (which fails whole) and message by message
            raise ArithmeticError("injected")
        return request_row(env, text, at)

    monkeypatch.setattr(ingest, "_request_row", failing)
    hub._process(messages)
    stored = [n for n in numbers if store.request(n)]
    assert len(stored) == 1
    assert acks.rejected("V008") == {poisoned: "hub-error"}
    assert acks.acked("V008") == {cbor2.loads(m)["msg_id"] for _, m in messages} - {poisoned}
    (entry,) = quarantine.listing(store)
    assert entry["reason"] == "hub-error" and "ArithmeticError: injected" in entry["detail"]
    assert store._read("SELECT count(*) FROM messages WHERE msg_id = ?", [poisoned])[0][0] == 0


def test_a_message_refused_again_and_again_is_kept_once(store):
    hub = offline_hub(store)
    bad = tel("V007", {"gps.lat": 1e9})
    for _ in range(3):
        hub._process([bad])
    assert len(quarantine.listing(store)) == 1


def test_a_van_cannot_fill_the_quarantine_beyond_its_share(store, monkeypatch):
    monkeypatch.setattr(quarantine, "KEEP_PER_VAN", 5)
    hub = offline_hub(store)
    hub._process([tel("V007", {"gps.lat": 100 + i}) for i in range(12)] + [tel("V008", {"gps.lat": 1e9})])
    assert len(quarantine.listing(store, "V007")) == 5 and len(quarantine.listing(store, "V008")) == 1


def test_garbage_on_a_vans_topic_is_kept_and_refused_without_stopping_the_batch(store, v008):
    hub = offline_hub(store)
    acks = Acks(hub)
    numbers, messages = v008
    hub._process([(p.up_topic(GOV, "V008", "tx"), b"\xff\x00not cbor"), *messages])
    assert all(store.request(n) for n in numbers)
    (entry,) = quarantine.listing(store)
    assert entry["van"] == "V008" and entry["msg_key"].startswith("sha256:")
    assert acks.acked("V008") == {cbor2.loads(m)["msg_id"] for _, m in messages}


# --- property-based: whatever a van sends ---------------------------------------------------------

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots=st.lists(st.tuples(_SNAPSHOTS, _TIMES), max_size=4), garbage=st.lists(_GARBAGE, max_size=3))
def test_whatever_one_van_sends_the_other_vans_are_stored_and_acked_and_the_screens_draw(
        tmp_path_factory, snapshots, garbage):
    folder = tmp_path_factory.mktemp("fuzz")
    store = HubStore(folder / "hub.db")
    try:
        hub = offline_hub(store)
        acks = Acks(hub)
        batch = [_envelope("V007", stream, kind, body, created.isoformat())
                 for (stream, kind, body), created in snapshots]
        batch += [(p.up_topic(GOV, "V007", "tx"), g) for g in garbage]
        good = tel("V008", {"outbox_pending": 3, "gps.lat": 30.0, "gps.lon": 31.0})
        batch.append(good)
        hub._process(batch)
        assert store.van("V008")["telemetry"]["outbox_pending"] == 3
        fleet.evaluate_alerts(store, fleet.Thresholds())
        vans = fleet.overview(store, fleet.Thresholds())
        assert len(charts.fleet_map(vans)["grid"]) <= 14
        fleet.history(store, "V007")
        assert not acks.rejected("V008")
    finally:
        store.close()


@pytest.fixture
def running_ingest(broker, tmp_path):
    db = tmp_path / "hub.db"
    log = open(tmp_path / "ingest.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "governorate.cli", "ingest", "--db", str(db), "--governorate",
                             GOV, "--broker", broker.url, "--worker", "fuzz", "--metrics", "off"],
                            stdout=log, stderr=log)
    wait_until(db.exists, 20, "the ingest to make its database")
    time.sleep(1.0)  # it has connected and subscribed by then
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fuzz-vans", protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    store = HubStore(db)
    yield proc, client, store, tmp_path / "ingest.log"
    store.close()
    client.loop_stop()
    client.disconnect()
    proc.terminate()
    proc.wait(10)


def test_the_real_ingest_survives_fuzzed_messages_and_keeps_storing_other_vans(running_ingest):
    proc, client, store, log = running_ingest
    sent = 0

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                     HealthCheck.function_scoped_fixture])
    @given(snapshot=_SNAPSHOTS, created=_TIMES, garbage=_GARBAGE)
    def one_round(snapshot, created, garbage):
        nonlocal sent
        stream, kind, body = snapshot
        for topic, payload in (_envelope("V007", stream, kind, body, created.isoformat()),
                               (p.up_topic(GOV, "V007", "tx"), garbage)):
            client.publish(topic, payload, qos=1).wait_for_publish(5)
        sent += 1
        marker = tel("V008", {"outbox_pending": sent})
        client.publish(*marker, qos=1).wait_for_publish(5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (store.van("V008") or {}).get("telemetry", {}).get(
                "outbox_pending") != sent:
            time.sleep(0.05)
        assert proc.poll() is None, log.read_text()
        assert store.van("V008")["telemetry"]["outbox_pending"] == sent

    one_round()
    assert sent >= 10
    assert proc.poll() is None


def test_the_real_ingest_survives_every_kind_of_fuzzed_message_from_two_vans_and_the_pages_answer(broker, tmp_path):
    """Issue #15: generated messages of every stream and kind (at and past every limit, broken, replayed)
    from two hostile vans, around a good van's requests, through the real ingest and Mosquitto."""
    rig = HubFuzzRig(tmp_path, broker.port, good_batch=40).start()
    rounds = 0
    try:
        # No shrinking: the hub's database carries over from one round to the next, so a smaller example
        # would not replay the failure; the failing round's messages and the problems are in the report.
        @settings(max_examples=30, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                         HealthCheck.function_scoped_fixture])
        @given(first=hs.batches("V007"), second=hs.batches("V009"))
        def one_round(first, second):
            nonlocal rounds
            rounds += 1
            assert rig.round([first, second]) == []

        one_round()
        assert rig.check_pages() == []
        figures = rig.figures()
        assert rig.alive() and rig.restarts == 0
        kinds_sent = {k for k in figures["messages_by_kind"]}
        assert len(kinds_sent) >= len(hs.KINDS) // 2, figures  # a bounded run still spreads over the kinds
        assert figures["stored"] > 0 and figures["refused_by_reason"], figures
    finally:
        rig.stop()


# --- found by the fuzz: numbers the schema allows, stored on PostgreSQL too -------------------------


@pytest.fixture(params=BACKENDS)
def any_store(request, tmp_path):
    with empty_hub(request.param, tmp_path, "big") as s:
        yield s


def test_the_largest_seq_and_session_the_schema_allows_are_stored_and_acked(any_store):
    # The wire schema takes seq and session up to 2**63 - 1; on PostgreSQL these columns were 32-bit
    # INTEGERs, so such a message failed at the hub ("hub-error") and was refused for ever.
    hub = offline_hub(any_store)
    acks = Acks(hub)
    top = 2**63 - 1
    now = datetime.now(UTC).isoformat()
    number = str(rq.RequestNumber(rq.van_number("V007"), datetime.now(UTC).date(), 1))
    state = p.Envelope(str(ULID()), "V007", "tx", top, p.SCHEMA_VERSION, now, "request.state",
                       {"number": number, "state": "ready", "reason": None, "at": now})  # parked: no request yet
    ticket = p.Envelope(str(ULID()), "V007", "tx", top - 1, p.SCHEMA_VERSION, now, "ticket.issued",
                        {"number": "A001", "series": "A", "seq": 1, "category": "BLD", "priority": "none",
                         "state": "waiting", "issued_at": now, "called_at": None, "counter": None, "recalls": 0,
                         "started_at": None, "finished_at": None, "transferred_to": None,
                         "transferred_from": None})
    birth = p.birth("V007", top)
    hub._process([(p.up_topic(GOV, "V007", e.stream), p.encode(e)) for e in (state, ticket, birth)])
    assert quarantine.listing(any_store) == []
    assert acks.acked("V007") == {state.msg_id, ticket.msg_id}
    assert any_store.van("V007")["session"] == top and any_store.van("V007")["online"]
    assert any_store._read("SELECT seq FROM parked_states")[0][0] == top



def test_a_text_with_a_nul_character_is_refused_alike_on_both_backends(any_store, v008):
    # PostgreSQL cannot keep a NUL in a text column: a request whose service code held one failed there
    # ("hub-error") and was stored on SQLite. Now both refuse it, like any invalid value.
    hub = offline_hub(any_store)
    acks = Acks(hub)
    numbers, messages = v008
    nul = _reencode(_submitted(messages), service_code="BLD\x00")
    hub._process([nul, tel("V007", {"lte.operator": "Voda\x00fone"}), *messages])
    assert [any_store.request(n)["service_code"] for n in numbers] == [cbor2.loads(_submitted(messages)[1])[
        "body"]["service_code"]] * 2  # the van's own messages, after the refused copy, are stored
    assert sorted(_quarantined(any_store)) == [("V007", "bad-value"), ("V008", "bad-value")]
    assert acks.rejected("V008") == {cbor2.loads(nul[1])["msg_id"]: "bad-value"}


def test_a_latitude_without_a_longitude_is_no_position_and_every_page_answers(store):
    # Found by the fuzz: a snapshot with gps.lat alone (each figure in range) made the overview and the
    # van's page fail formatting a missing longitude (500).
    add_staff(store)
    offline_hub(store)._process([tel("V007", {"gps.lat": 30.0}), tel("V009", {"gps.lon": 31.0, "gps.lat": None})])
    (v7,) = [v for v in fleet.overview(store, fleet.Thresholds()) if v["van"] == "V007"]
    assert v7["lat"] is None and v7["lon"] is None
    app = create_app({"DB_PATH": store.path, "SECRET_KEY": b"k" * 32, "SENDER": offline_hub(store),
                      "GOVERNORATE": GOV})
    client = app.test_client()
    login(client, "admin")
    for path in ("/", "/fleet/partial", "/vans/V007", "/vans/V009"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])


# --- finding 5 and 7: order and conflicts -------------------------------------------------------


def _submitted(messages):
    return next(m for m in messages if cbor2.loads(m[1])["kind"] == "request.submitted")


def _state_change(van: str, number: str, state: str, seq: int = 5) -> tuple[str, bytes]:
    now = datetime.now(UTC).isoformat()
    env = p.Envelope(str(ULID()), van, "tx", seq, p.SCHEMA_VERSION, now, "request.state",
                     {"number": number, "state": state, "reason": "Withdrawn by the citizen.", "at": now})
    return p.up_topic(GOV, van, "tx"), p.encode(env)


def test_a_state_change_that_arrives_before_its_request_waits_for_it(store, v008):
    hub = offline_hub(store)
    acks = Acks(hub)
    numbers, messages = v008
    submitted = _submitted(messages)
    number = cbor2.loads(submitted[1])["body"]["number"]
    early = _state_change("V008", number, "rejected")
    hub._process([early])
    assert store.request(number) is None
    assert cbor2.loads(early[1])["msg_id"] in acks.acked("V008")  # kept at the hub: acked
    hub._process([submitted])
    assert store.request(number)["state"] == "rejected"
    assert store._read("SELECT count(*) FROM parked_states")[0][0] == 0


def test_a_known_request_number_with_other_content_is_kept_and_raised_not_dropped(store, v008):
    hub = offline_hub(store)
    acks = Acks(hub)
    numbers, messages = v008
    first = _submitted(messages)
    fields = cbor2.loads(first[1])
    again = _reencode(first, citizen={**fields["body"]["citizen"], "name": "سارة محمود علي"})
    same = _reencode(first)  # the same content under a new message id: a replay, nothing to raise
    hub._process([first])
    hub._process([same, again])
    number = fields["body"]["number"]
    assert cbor2.loads(again[1])["msg_id"] in acks.acked("V008")
    assert store._read("SELECT count(*) FROM messages WHERE msg_id = ?", [cbor2.loads(again[1])["msg_id"]])[0][0] == 1
    body = json.loads(store._read("SELECT body FROM requests WHERE number = ?", [number])[0][0])
    assert body["citizen"]["name"] == fields["body"]["citizen"]["name"]
    conflicts = store._read("SELECT van, number, detail FROM request_conflicts")
    assert conflicts == [("V008", number, "differs in citizen")]
    fleet.evaluate_alerts(store, fleet.Thresholds())
    assert [a["kind"] for a in fleet.alerts(store, "V008")] == ["conflict"]

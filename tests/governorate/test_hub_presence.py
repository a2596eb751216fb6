"""Presence when a van's connection counter goes back (its database restored from a backup, its disk swapped for a
spare): the hub takes the lower birth once the van's last connection is over, tells staff, and no message of the
connections before the restore, delivered late, undoes it. End to end: tests/sync/test_restored_van.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ulid import ULID

from edge.core import catalogue as catalogue_mod
from edge.core import requests as rq
from edge.sync import downlink
from edge.sync import protocol as p
from governorate import backoffice, fleet, ingest, quarantine
from governorate.store import HubStore
from tests.support.gov_support import BACKENDS, GOV, empty_hub, offline_hub, van_requests

T0 = datetime.now(UTC) - timedelta(hours=2)


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    with empty_hub(request.param, tmp_path, "presence") as s:
        yield s


def _status(kind: str, session: int, minutes: float) -> tuple[str, bytes]:
    make = p.birth if kind == "birth" else p.death
    return p.up_topic(GOV, "V007", "status"), p.encode(make("V007", session, now=T0 + timedelta(minutes=minutes)))


def _status_on(schema: int, kind: str, session: int, minutes: float) -> tuple[str, bytes]:
    """A status of V007 running software that speaks protocol ``schema`` (a spare on older software)."""
    body = {"session": session, "online": kind == "birth", "schema": schema}
    env = p.Envelope(str(ULID()), "V007", "status", session, schema, (T0 + timedelta(minutes=minutes)).isoformat(),
                     f"status.{kind}", body)
    return p.up_topic(GOV, "V007", "status"), p.encode(env)


HOLIDAYS = """version = 2

[[movable]]
days = ["2026-12-06", "2026-12-07"]
name_ar = "حداد وطني"
name_en = "National mourning"
"""


def _presence(store) -> tuple[int, bool]:
    van = store.van("V007")
    return van["session"], van["online"]


def _session_alerts(store) -> list[dict]:
    fleet.evaluate_alerts(store, fleet.Thresholds())
    return [a for a in fleet.alerts(store, "V007") if a["kind"] == "session"]


def test_a_lower_birth_after_the_vans_death_is_taken_and_staff_are_told(store):
    hub = offline_hub(store)
    hub._process([_status("birth", 57, 0), _status("death", 57, 0)])  # the will: made at the connect
    assert _presence(store) == (57, False)
    hub._process([_status("death", 40, 30)])  # the restored van's will, before its birth: nothing yet
    assert _presence(store) == (57, False)
    hub._process([_status("birth", 40, 30.1)])
    assert _presence(store) == (40, True)
    [alert] = _session_alerts(store)
    assert alert["detail"].startswith("connection counter 57 → 40")
    assert alert["label_ar"].startswith("عدّاد اتصال الوحدة") and "backup" in alert["label_en"]
    # The old connection's will, delivered again late (the hub reconnected, a second worker): it was news before.
    hub._process([_status("death", 57, 0)])
    assert _presence(store) == (40, True)
    # The restored van's own will still counts, and its counter goes on from there.
    hub._process([_status("death", 40, 30)])
    assert _presence(store) == (40, False)
    hub._process([_status("birth", 41, 45), _status("birth", 41, 45)])
    assert _presence(store) == (41, True)
    hub._process([_status("death", 41, 45)])
    hub._process([_status("birth", 58, 60)])
    assert _presence(store) == (58, True)
    assert len(_session_alerts(store)) == 1


def test_a_lower_birth_older_than_the_status_held_is_not_taken(store):
    hub = offline_hub(store)
    hub._process([_status("birth", 57, 10)])
    hub._process([_status("death", 57, 10)])
    hub._process([_status("birth", 56, 5)])  # an earlier session's birth delivered late: older than the death
    hub._process([_status("birth", 57, 10.1)])  # its own session's birth after its will: no dead session back
    assert _presence(store) == (57, False)
    assert _session_alerts(store) == []


def test_a_lower_birth_is_taken_while_the_hub_holds_the_van_online_and_the_old_will_changes_nothing(store):
    """The old connection half-open (power or LTE lost): with a persistent session (clean_start=False) Mosquitto never
    publishes its will when the restored van connects with the same client id. Until 2026-12 the hub held 57 online
    and ignored every status below it: a gone van showed online, no alert, no counters."""
    hub = offline_hub(store)
    hub._process([_status("birth", 57, 0)])
    hub._process([_status("birth", 40, 30)])
    assert _presence(store) == (40, True)
    assert len(_session_alerts(store)) == 1
    assert store._read("SELECT count(*) FROM downlinks WHERE kind = 'command'")[0][0] == 1
    hub._process([_status("death", 57, 0)])  # the old will, if the broker does publish it (another worker, late)
    assert _presence(store) == (40, True)
    hub._process([_status("death", 40, 29.9)])
    hub._process([_status("birth", 41, 40), _status("death", 41, 40)])
    assert _presence(store) == (41, False)


def test_a_replayed_old_birth_after_the_vans_clock_stepped_back_is_not_taken(store):
    """Its birth 56 made 5 minutes ahead, NTP corrected the clock before 57 (will +2, birth +2.1); birth 56 delivered
    again afterwards is no later than the status held: status_at never goes back (a will is older than its birth)."""
    hub = offline_hub(store)
    hub._process([_status("birth", 56, 5), _status("death", 56, 5)])
    hub._process([_status("birth", 57, 2.1)])
    hub._process([_status("death", 57, 2)])
    assert _presence(store) == (57, False)
    hub._process([_status("birth", 56, 5)])
    assert _presence(store) == (57, False)
    assert _session_alerts(store) == []


def test_a_hub_from_before_this_release_takes_no_lower_birth_until_it_holds_a_status_time(store):
    hub = offline_hub(store)
    hub._process([_status("birth", 57, 0), _status("death", 57, 0)])
    with store.transaction() as conn:
        conn.execute("UPDATE vans SET status_at = NULL")  # as the migration leaves a van it knew
    hub._process([_status("birth", 40, 30)])
    assert _presence(store) == (57, False)
    hub._process([_status("death", 40, 30), _status("birth", 58, 40), _status("death", 58, 40)])
    hub._process([_status("birth", 41, 50)])
    assert _presence(store) == (41, True)


_STEPS = st.lists(st.tuples(st.sampled_from(["birth", "death"]),
                            st.integers(1, 6) | st.sampled_from([2**63 - 1]),
                            st.floats(-120, 120, allow_nan=False)), max_size=25)


@given(steps=_STEPS, cut=st.integers(1, 5))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_births_and_deaths_of_any_session_at_any_time_never_break_the_hub(tmp_path_factory, steps, cut):
    """Hostile or reordered status messages, lower sessions among them, in batches and one by one: the hub refuses
    nothing it should store, never fails, holds a session it was sent, and a van's next birth always counts."""
    s = HubStore(tmp_path_factory.mktemp("fuzz") / "hub.db")
    try:
        hub = offline_hub(s)
        messages = [_status(kind, session, minutes) for kind, session, minutes in steps]
        for start in range(0, len(messages), cut):
            hub._process(messages[start:start + cut])
        assert quarantine.listing(s) == []
        if steps:
            assert _presence(s)[0] in {session for _, session, _ in steps}
        top = max([session for _, session, _ in steps if session < 2**63 - 1], default=0) + 1
        if all(session < 2**63 - 1 for _, session, _ in steps):
            hub._process([_status("birth", top, 121)])
            assert _presence(s) == (top, True)
        fleet.evaluate_alerts(s, fleet.Thresholds())  # a counter gone back, however drawn, reads as an alert
        alerts = fleet.alerts(s)
        assert {a["van"] for a in alerts} <= {"V007"}, alerts
        assert all(a["kind"] in fleet.ALERT_KINDS for a in alerts), alerts
        went_back = any(later <= earlier for i, (_, earlier, _) in enumerate(steps) for _, later, _ in steps[i + 1:])
        if not went_back:  # each status's session above all before it: nothing to say about the counter
            assert [a for a in alerts if a["kind"] == "session"] == [], alerts
        for a in alerts:
            if a["kind"] == "session":
                assert a["detail"].startswith("connection counter "), a
    finally:
        s.close()


def test_the_hub_tells_a_van_whose_counters_went_back_what_it_saw_of_it(store, tmp_path):
    hub = offline_hub(store)
    numbers, messages = van_requests(tmp_path / "van", "V007", 3)
    hub._process([_status("birth", 57, 0), *messages, _status("death", 57, 0)])
    assert store._read("SELECT count(*) FROM downlinks WHERE kind = 'command'")[0][0] == 0
    hub._process([_status("birth", 40, 30)])
    [(payload,)] = store._read("SELECT payload FROM downlinks WHERE kind = 'command'")
    told = p.decode_down(payload, van="V007", kind="command").message
    last = rq.parse_request_number(numbers[-1])
    assert told == p.Command("counters", {"session": 57, "requests": {last.day.isoformat(): last.seq}})
    hub._process([_status("birth", 40, 30)])  # the same birth again: told once
    assert store._read("SELECT count(*) FROM downlinks WHERE kind = 'command'")[0][0] == 1


def test_what_the_van_applied_goes_again_when_its_counter_went_back_and_only_then(store, tmp_path):
    hub = offline_hub(store)
    numbers, messages = van_requests(tmp_path / "van", "V007", 1)
    hub._process([_status("birth", 57, 0), *messages])
    decision = hub.send("V007", p.RequestStatus(numbers[0], "under_review", None, T0.isoformat()))
    ping = hub.send("V007", p.Command("ping", {}))
    waiting = hub.send("V007", p.RequestStatus(numbers[0], "ready", None, T0.isoformat()))
    data = catalogue_mod.to_dict(catalogue_mod.load_default())
    catalogue = hub.send("V007", p.Catalog(data["version"] + 1, data | {"version": data["version"] + 1}))
    with store.transaction() as conn:
        conn.execute("UPDATE downlinks SET applied_at = ?, outcome = 'applied' WHERE msg_id IN (?, ?, ?)",
                     [T0.isoformat(), decision, ping, catalogue])
    sent: list[str] = []
    hub.client.publish = lambda topic, payload, qos=0: sent.append(cbor2.loads(payload)["msg_id"])
    hub._process([_status("death", 57, 0), _status("birth", 58, 10)])  # a new connection: only what waits
    assert sent == [waiting]
    sent.clear()
    hub._process([_status("death", 58, 10), _status("birth", 40, 30)])  # the counter went back
    # Not the decision: the restored van may have given its number to another citizen before this connection.
    assert set(sent) == {waiting, catalogue} | {d for (d,) in store._read(
        "SELECT msg_id FROM downlinks WHERE kind = 'command' AND msg_id <> ?", [ping])}


def _applied(store, kind: str) -> None:
    with store.transaction() as conn:  # the van applied it
        conn.execute("UPDATE downlinks SET applied_at = ?, outcome = 'applied' WHERE kind = ?",
                     [datetime.now(UTC).isoformat(), kind])


def _pending_commands(store) -> int:
    return store._read("SELECT count(*) FROM downlinks WHERE kind = 'command' AND applied_at IS NULL")[0][0]


def test_a_van_restored_again_from_the_same_backup_is_taken_and_told_again(store):
    """Restored (57 → 40), counters applied (its counter now 57); restored again from the same backup three hours on:
    birth 40 again. Until 2026-12 it equalled the session held: not taken, and 41 then taken as ordinary (no
    counters ever again: request numbers the hub holds issued again)."""
    hub = offline_hub(store)
    hub._process([_status("birth", 57, 0), _status("death", 57, 0)])
    hub._process([_status("birth", 40, 30)])
    _applied(store, "command")
    hub._process([_status("death", 40, 29.9)])
    hub._process([_status("birth", 40, 30)])  # its own birth delivered again after its will: nothing
    assert (_presence(store), _pending_commands(store)) == ((40, False), 0)
    hub._process([_status("birth", 40, 200)])
    assert (_presence(store), _pending_commands(store)) == ((40, True), 1)
    assert _session_alerts(store)[0]["detail"].startswith("connection counter 40 → 40")
    _applied(store, "command")
    hub._process([_status("death", 40, 199.9), _status("birth", 41, 201)])  # below 57: told again, whatever else
    assert (_presence(store), _pending_commands(store)) == ((41, True), 1)
    hub._process([_status("death", 41, 201), _status("birth", 42, 202)])  # the same still waits: not twice
    assert _pending_commands(store) == 1
    _applied(store, "command")
    hub._process([_status("death", 42, 202), _status("birth", 58, 203)])  # above every session seen: nothing
    assert (_presence(store), _pending_commands(store)) == ((58, True), 0)


def test_a_van_whose_counter_goes_back_again_within_the_hour_is_told_its_counters_but_sent_nothing_else(store):
    hub = offline_hub(store)
    data = catalogue_mod.to_dict(catalogue_mod.load_default())
    hub._process([_status("birth", 57, 0)])
    hub.send("V007", p.Catalog(data["version"] + 1, data | {"version": data["version"] + 1}))
    _applied(store, "catalog")
    sent: list[str] = []
    hub.client.publish = lambda topic, payload, qos=0: sent.append(topic.rsplit("/", 1)[1])
    hub._process([_status("death", 57, 0), _status("birth", 40, 30)])
    assert sent.count("catalog") == 1 and _pending_commands(store) == 1
    _applied(store, "command")
    sent.clear()
    hub._process([_status("death", 40, 29.9), _status("birth", 30, 50)])  # restored again from an older backup
    assert _presence(store) == (30, True)
    assert sent == ["command"] and _pending_commands(store) == 1  # its counters, not the catalogue again
    told = p.decode_down(store._read("SELECT payload FROM downlinks WHERE kind = 'command' AND applied_at IS NULL")
                         [0][0], van="V007", kind="command").message
    assert told.args["session"] == 57  # the highest it ever had, not the 40 held
    _applied(store, "command")
    sent.clear()
    with store.transaction() as conn:  # an hour after the catalogue went again
        conn.execute("UPDATE vans SET session_told_at = ?", [(datetime.now(UTC) - timedelta(hours=1)).isoformat()])
    hub._process([_status("death", 30, 50), _status("birth", 20, 60)])
    assert sorted(sent) == ["catalog", "command"]


def test_a_van_sent_again_the_newest_applied_downlink_of_each_kind_only(store):
    """An older catalogue sent again after a newer one waiting is refused "not newer"; its report overwrote the
    hub's "applied". Only the newest of each kind goes again, and no report undoes "applied"."""
    hub = offline_hub(store)
    hub._process([_status("birth", 57, 0)])
    data = catalogue_mod.to_dict(catalogue_mod.load_default())
    v = data["version"]
    older = hub.send("V007", p.Catalog(v + 1, data | {"version": v + 1}))
    applied = hub.send("V007", p.Catalog(v + 2, data | {"version": v + 2}))
    _applied(store, "catalog")
    hub._process([_status("death", 57, 0)])
    sent: list[str] = []
    hub.client.publish = lambda topic, payload, qos=0: sent.append(cbor2.loads(payload)["msg_id"])
    hub._process([_status("birth", 40, 30)])
    assert applied in sent and older not in sent
    waiting = hub.send("V007", p.Catalog(v + 3, data | {"version": v + 3}))
    sent.clear()
    hub._process([_status("death", 40, 29.9), _status("birth", 30, 100)])  # within the hour: what waits only
    assert waiting in sent and applied not in sent and older not in sent
    with store.transaction() as conn:
        conn.execute("UPDATE vans SET session_told_at = NULL")
    sent.clear()
    hub._process([_status("death", 30, 99), _status("birth", 20, 110)])
    # The newer one waiting goes (once: it is pending, not sent again as applied); the older could never apply.
    assert sent.count(waiting) == 1 and applied not in sent and older not in sent, sent
    with store.transaction() as conn:  # a late "not newer" for a catalogue the hub holds applied
        conn.execute(ingest._APPLIED, [datetime.now(UTC).isoformat(), "rejected", "not newer", applied, "V007",
                                       "rejected"])
    assert store.downlink(applied)["outcome"] == "applied"


def test_the_hub_tells_no_session_the_van_would_refuse(store):
    hub = offline_hub(store)
    hub._process([_status("birth", 2**40, 0), _status("death", 2**40, 0)])
    hub._process([_status("birth", 40, 30)])
    [(payload,)] = store._read("SELECT payload FROM downlinks WHERE kind = 'command'")
    told = p.decode_down(payload, van="V007", kind="command").message
    assert told.args["session"] == downlink.MAX_COUNTER_SESSION
    _applied(store, "command")
    hub._process([_status("death", 40, 30), _status("birth", 2**32 + 1, 40)])  # past what it was told: no more
    assert _pending_commands(store) == 0


def _down(sent: list[tuple[str, bytes]]) -> list[str]:
    return [topic.rsplit("/", 1)[1] for topic, _ in sent if "/down/" in topic]


def test_a_retired_van_restored_from_a_backup_is_sent_only_its_counters_and_fresh_copies_once_it_is_back(
        store, tmp_path):
    # Review M1/M2: a retired van whose counter went back was sent its newest applied trust list (and the hour used
    # up), and its counters were held (it kept giving numbers the hub holds for other citizens).
    hub = offline_hub(store)
    _numbers, messages = van_requests(tmp_path / "van", "V007", 2)
    hub._process([_status("birth", 57, 0), *messages])
    backoffice.publish_trust_list(store, hub, b"revocation-list-v1", "amal")
    _applied(store, "trust-list")
    hub._process([_status("death", 57, 0)])
    assert fleet.remove(store, ["V007"]).retired == ["V007"]
    sent: list[tuple[str, bytes]] = []
    hub.client.publish = lambda topic, payload, qos=0: sent.append((topic, payload))
    hub._process([_status("birth", 40, 30)])  # restored from a backup while retired
    assert _down(sent) == ["command"]
    assert p.decode_down(sent[0][1], van="V007", kind="command").message.name == "counters"
    assert store._read("SELECT session_told_at FROM vans WHERE van = 'V007'") == [(None,)]
    _applied(store, "command")
    back = fleet.register(store, ["V007"], on_back=backoffice.queue_latest)
    assert back.back == ["V007"]
    lists = store._read("SELECT applied_at FROM downlinks WHERE van = 'V007' AND kind = 'trust-list' "
                        "ORDER BY created_at, msg_id")
    assert len(lists) == 2 and lists[-1][0] is None  # a fresh copy of what it lost, waiting
    sent.clear()
    hub._process([_status("death", 40, 30), _status("birth", 58, 40)])
    assert _down(sent) == ["trust-list"]
    assert cbor2.loads(sent[0][1])["body"]["blob"] == b"revocation-list-v1"
    # Retired and back again without going back: nothing queued again.
    _applied(store, "trust-list")
    fleet.remove(store, ["V007"])
    fleet.register(store, ["V007"], on_back=backoffice.queue_latest)
    assert len(store._read("SELECT 1 FROM downlinks WHERE van = 'V007' AND kind = 'trust-list'")) == 2


def test_a_retired_van_whose_counters_change_is_sent_them_and_one_waiting_is_merged_into_the_next_not_piled_up(
        store, tmp_path):
    # Review M2: held while retired, a new counters row was recorded whenever its arguments changed.
    hub = offline_hub(store)
    _numbers, messages = van_requests(tmp_path / "van", "V007", 3)
    hub._process([_status("birth", 57, 0), *messages[:1], _status("death", 57, 0)])
    fleet.remove(store, ["V007"])
    sent: list[tuple[str, bytes]] = []
    hub.client.publish = lambda topic, payload, qos=0: sent.append((topic, payload))
    hub._process([_status("birth", 40, 30)])
    hub._process([*messages[1:]])
    hub._process([_status("death", 40, 30), _status("birth", 41, 40)])  # more numbers since: told anew
    told = [p.decode_down(pl, van="V007", kind="command").message for t, pl in sent if t.endswith("/down/command")]
    assert [m.name for m in told] == ["counters", "counters"]  # the first, then the newer one in its place
    assert told[0] != told[1] and hub.resend_pending_downlinks("V007") == 1
    assert told[1].args["session"] == 57 and set(told[0].args["requests"]) <= set(told[1].args["requests"])
    assert all(told[1].args["requests"][day] >= seq for day, seq in told[0].args["requests"].items())
    assert store._read("SELECT outcome FROM downlinks WHERE kind = 'command' ORDER BY created_at, msg_id") == [
        ("superseded",), (None,)]


def test_a_counters_the_van_refused_is_not_recorded_again_at_every_birth(store):
    # Review (low): a refused counters was recorded again, the same, at every birth at or below the high-water mark.
    hub = offline_hub(store)
    hub._process([_status("birth", 57, 0), _status("death", 57, 0), _status("birth", 40, 30)])
    with store.transaction() as conn:
        conn.execute("UPDATE downlinks SET applied_at = ?, outcome = 'rejected', error = 'unknown command' "
                     "WHERE kind = 'command'", [datetime.now(UTC).isoformat()])
    for session, minutes in ((41, 40), (42, 50)):
        hub._process([_status("death", session - 1, minutes - 10), _status("birth", session, minutes)])
    assert store._read("SELECT count(*) FROM downlinks WHERE kind = 'command'")[0][0] == 1


def test_a_van_swapped_for_a_spare_on_older_software_is_not_sent_a_calendar_it_cannot_read_until_its_upgrade(store):
    # Review M3: the re-send after going back ignored the van's schema; the spare dropped the calendar silently and
    # the hub still showed it applied.
    hub = offline_hub(store)
    hub._process([_status("birth", 57, 0)])
    applied = hub.send("V007", p.Calendar(2, HOLIDAYS))
    data = catalogue_mod.to_dict(catalogue_mod.load_default())
    catalogue = hub.send("V007", p.Catalog(data["version"] + 1, data | {"version": data["version"] + 1}))
    _applied(store, "calendar")
    _applied(store, "catalog")
    hub._process([_status("death", 57, 0)])
    sent: list[tuple[str, bytes]] = []
    hub.client.publish = lambda topic, payload, qos=0: sent.append((topic, payload))
    hub._process([_status_on(2, "birth", 40, 30)])  # the spare speaks protocol 2; a calendar needs 3
    assert sorted(_down(sent)) == ["catalog", "command"]
    assert cbor2.loads([pl for t, pl in sent if t.endswith("/down/catalog")][0])["msg_id"] == catalogue
    [(fresh, applied_at)] = store._read("SELECT msg_id, applied_at FROM downlinks WHERE kind = 'calendar' "
                                        "AND msg_id <> ?", [applied])
    assert applied_at is None  # waits, as any downlink the van cannot read yet
    _applied(store, "command")
    sent.clear()
    hub._process([_status_on(2, "death", 40, 30), _status_on(p.SCHEMA_VERSION, "birth", 58, 40)])  # upgraded
    assert [cbor2.loads(pl)["msg_id"] for t, pl in sent if t.endswith("/down/calendar")] == [fresh]


def test_counters_still_waiting_are_merged_by_maximum_into_the_next_never_lowered(store, tmp_path):
    hub = offline_hub(store)
    _numbers, messages = van_requests(tmp_path / "van", "V007", 1)
    hub._process([_status("birth", 57, 0), *messages, _status("death", 57, 0)])
    earlier = (T0 - timedelta(days=3)).date().isoformat()  # a day the hub no longer counts (or no longer holds)
    with store.transaction() as conn:
        hub.record(conn, "V007", p.Command("counters", {"session": 57, "requests": {earlier: 8000}}))
    hub._process([_status("birth", 40, 30)])
    [(payload,)] = store._read("SELECT payload FROM downlinks WHERE kind = 'command' AND applied_at IS NULL")
    told = p.decode_down(payload, van="V007", kind="command").message.args
    assert told["session"] == 57 and told["requests"][earlier] == 8000 and len(told["requests"]) == 2


def test_a_counters_refused_by_software_that_predates_it_is_told_again_after_the_vans_upgrade(store):
    # Review A: a refused counters blocked the same arguments forever; a spare on software predating `counters`
    # ("unknown command 'counters'", edge.sync.downlink), upgraded, kept reusing request numbers the hub holds.
    hub = offline_hub(store)
    hub._process([_status("birth", 57, 0), _status("death", 57, 0), _status("birth", 40, 30)])
    with store.transaction() as conn:  # refused 89 minutes ago by the hub's clock (the van's clock says T0 + 31 min)
        conn.execute("UPDATE downlinks SET applied_at = ?, outcome = 'rejected', "
                     "error = 'unknown command ''counters''' WHERE kind = 'command'",
                     [(datetime.now(UTC) - timedelta(minutes=89)).isoformat()])
    # Upgraded since: its counter still below 57, the same arguments are computed: told again.
    hub._process([_status("death", 40, 31), _status("birth", 41, 115)])
    assert _pending_commands(store) == 1
    # ... and not piled up at the next birth: the one told waits.
    hub._process([_status("death", 41, 115), _status("birth", 42, 116)])
    assert _pending_commands(store) == 1


def test_a_counters_answered_duplicate_or_superseded_does_not_block_the_same_told_again(store):
    # Review F: every counters not applied blocked the same arguments, a "duplicate" answer or a superseded one too.
    hub = offline_hub(store)
    hub._process([_status("birth", 57, 0), _status("death", 57, 0), _status("birth", 40, 30)])
    with store.transaction() as conn:  # the van answers "duplicate" (it held that msg_id in its inbox)
        conn.execute("UPDATE downlinks SET applied_at = ?, outcome = 'duplicate' WHERE kind = 'command'",
                     [datetime.now(UTC).isoformat()])
    hub._process([_status("death", 40, 31), _status("birth", 41, 40)])  # still below 57
    assert _pending_commands(store) == 1
    with store.transaction() as conn:  # superseded (by one since lost from the record): tells nothing either
        conn.execute("UPDATE downlinks SET applied_at = ?, outcome = 'superseded' WHERE kind = 'command' "
                     "AND applied_at IS NULL", [datetime.now(UTC).isoformat()])
    hub._process([_status("death", 41, 40), _status("birth", 42, 50)])
    assert _pending_commands(store) == 1


def _report(hub, msg_id: str, kind: str, outcome: str, error: str | None, seq: int) -> None:
    """The van's report of a downlink (edge.sync.downlink), as it arrives on its tx stream."""
    env = p.Envelope(str(ULID()), "V007", "tx", seq, p.SCHEMA_VERSION, datetime.now(UTC).isoformat(),
                     "downlink.applied", {"msg_id": msg_id, "kind": kind, "outcome": outcome, "error": error})
    hub._process([(p.up_topic(GOV, "V007", "tx"), p.encode(env))])


def test_a_superseded_publication_delivered_late_and_refused_not_newer_stays_superseded(store):
    # Review E: the broker delivered the older catalogue after the newer one; the van refused it "not newer" and the
    # hub showed it red, "refused by the van".
    hub = offline_hub(store)
    hub._process([_status("birth", 57, 0)])
    data = catalogue_mod.to_dict(catalogue_mod.load_default())
    v = data["version"] + 1
    old = hub.send("V007", p.Catalog(v, data | {"version": v}))
    newer = hub.send("V007", p.Catalog(v + 1, data | {"version": v + 1}))
    assert store.downlink(old)["outcome"] == "superseded"
    _report(hub, newer, "catalog", "applied", None, 300)
    _report(hub, old, "catalog", "rejected", f"catalogue v{v} is not newer than v{v + 1}", 301)
    assert store.downlink(old)["outcome"] == "superseded"
    # A first report still counts, whatever it says (the outcome held is NULL: the test must not read NULL).
    third = hub.send("V007", p.Catalog(v + 2, data | {"version": v + 2}))
    _report(hub, third, "catalog", "rejected", "catalogue v9 is invalid: x", 302)
    assert store.downlink(third)["outcome"] == "rejected"


def test_a_van_retired_between_its_going_back_birth_and_the_resend_is_queued_fresh_copies_when_back(store):
    # Review H: `vans remove` between the birth's commit and the re-send after it: the re-send found the van retired
    # and sent nothing, the hour was used up, and session_back_at was older than retired_at: `vans add` queued nothing.
    hub = offline_hub(store)
    hub._process([_status("birth", 57, 0)])
    backoffice.publish_trust_list(store, hub, b"revocation-list-v1", "amal")
    _applied(store, "trust-list")
    hub._process([_status("death", 57, 0)])
    resend = hub.resend_applied_downlinks

    def retired_meanwhile(van, born):
        fleet.remove(store, [van])
        return resend(van, born)

    hub.resend_applied_downlinks = retired_meanwhile
    hub._process([_status("birth", 40, 30)])
    fleet.register(store, ["V007"], on_back=backoffice.queue_latest)
    waiting = store._read("SELECT count(*) FROM downlinks WHERE kind = 'trust-list' AND applied_at IS NULL")
    assert waiting == [(1,)]


def test_a_van_that_connects_before_vans_add_is_queued_the_latest_publications_by_it(store):
    # Review I: the ingest made the row of a van heard from before `vans add`; register took it as known, in service,
    # and queued it nothing: it never had the trust list published before it connected.
    from tests.support.gov_support import birth

    hub = offline_hub(store)
    hub._process([_status("birth", 1, 0)])  # V007, for a publication to exist
    backoffice.publish_trust_list(store, hub, b"revocation-list-v1", "amal")
    hub._process([birth("V030", 1)])  # enrolled, connects before staff run vans add
    done = fleet.register(store, ["V030"], on_back=backoffice.queue_latest)
    assert (list(done), done.early, done.queued) == ([], ["V030"], {"V030": ["trust-list"]})
    assert store._read("SELECT count(*) FROM downlinks WHERE van = 'V030' AND kind = 'trust-list'") == [(1,)]
    # Added again: it has been sent something, it is left as it is.
    assert fleet.register(store, ["V030"], on_back=backoffice.queue_latest).queued == {}
    assert store._read("SELECT count(*) FROM downlinks WHERE van = 'V030' AND kind = 'trust-list'") == [(1,)]


def _trust_lists(store, van: str) -> int:
    return store._read("SELECT count(*) FROM downlinks WHERE van = ? AND kind = 'trust-list'", [van])[0][0]


def test_a_van_heard_before_added_that_got_a_later_publication_is_queued_the_earlier_one_by_vans_add(store):
    # Review: register looked for vans with no downlink at all; V030 connected before `vans add` and then got the
    # holidays published after it connected, so it was left without the trust list published before.
    from tests.support.gov_support import birth

    hub = offline_hub(store)
    hub._process([_status("birth", 1, 0)])
    backoffice.publish_trust_list(store, hub, b"revocation-list-v1", "amal")  # before V030 connected
    hub._process([birth("V030", 1)])
    backoffice.publish_holidays(store, hub, HOLIDAYS, "amal")  # reaches V030, in service
    done = fleet.register(store, ["V030"], on_back=backoffice.queue_latest)
    assert (done.early, done.queued) == (["V030"], {"V030": ["trust-list"]})
    assert _trust_lists(store, "V030") == 1
    assert store._read("SELECT count(*) FROM downlinks WHERE van = 'V030' AND kind = 'calendar'") == [(1,)]


def test_a_van_heard_before_added_that_staff_pinged_is_queued_the_publications_by_vans_add(store):
    from tests.support.gov_support import birth

    hub = offline_hub(store)
    hub._process([_status("birth", 1, 0)])
    backoffice.publish_trust_list(store, hub, b"revocation-list-v1", "amal")
    hub._process([birth("V030", 1)])
    hub.send("V030", p.Command("ping", {}))  # from its page: it is on the overview
    done = fleet.register(store, ["V030"], on_back=backoffice.queue_latest)
    assert (done.early, done.queued) == (["V030"], {"V030": ["trust-list"]})
    assert _trust_lists(store, "V030") == 1


def test_vans_add_queues_an_ordinary_van_in_service_nothing_and_does_not_call_it_early(store):
    hub = offline_hub(store)
    hub._process([_status("birth", 1, 0)])
    backoffice.publish_trust_list(store, hub, b"revocation-list-v1", "amal")  # V007 in service: it got it
    backoffice.publish_holidays(store, hub, HOLIDAYS, "amal")
    done = fleet.register(store, ["V007"], on_back=backoffice.queue_latest)
    assert (list(done), done.early, done.queued) == ([], [], {})
    assert _trust_lists(store, "V007") == 1


def test_a_van_added_that_never_connected_is_not_reported_connected_before_being_added(store):
    # Review: `early` ignored whether the van had ever been heard from; a van added twice before it connects (or
    # every van of --from-broker, on every run) was said to have connected before being added.
    first = fleet.register(store, ["V001"], on_back=backoffice.queue_latest)
    again = fleet.register(store, ["V001"], on_back=backoffice.queue_latest)
    assert store.van("V001")["last_seen"] is None
    assert (list(first), first.early, list(again), again.early) == (["V001"], [], [], [])
    assert fleet.register(store, [], listed=["V001", "V002"], on_back=backoffice.queue_latest).early == []
    # One added by an older hub, which queued it nothing: it is queued what it lacks, still not said to be early.
    hub = offline_hub(store)
    hub._process([_status("birth", 1, 0)])
    backoffice.publish_trust_list(store, hub, b"revocation-list-v1", "amal")
    with store.transaction() as conn:
        conn.execute("DELETE FROM downlinks WHERE van = 'V001'")
    done = fleet.register(store, ["V001"], on_back=backoffice.queue_latest)
    assert (done.early, done.queued) == ([], {"V001": ["trust-list"]})


def test_a_van_restored_while_retired_is_not_queued_again_a_publication_it_refused(store):
    # Review (small): at `vans add` after a restore while retired, a publication whose own newest copy the van had
    # refused (it would refuse it again) was queued again; one refused as not newer than its own (it held it) is.
    hub = offline_hub(store)
    hub._process([_status("birth", 57, 0)])
    backoffice.publish_trust_list(store, hub, b"revocation-list-v1", "amal")
    data = catalogue_mod.to_dict(catalogue_mod.load_default())
    v = data["version"] + 1
    hub.send("V007", p.Catalog(v, data | {"version": v}))
    with store.transaction() as conn:
        conn.execute("UPDATE downlinks SET applied_at = ?, outcome = 'rejected', error = ? WHERE kind = 'trust-list'",
                     [datetime.now(UTC).isoformat(), "the trust list is not signed by the governorate CA"])
        conn.execute("UPDATE downlinks SET applied_at = ?, outcome = 'rejected', error = ? WHERE kind = 'catalog'",
                     [datetime.now(UTC).isoformat(), f"catalogue v{v} is not newer than v{v}"])
    hub._process([_status("death", 57, 0)])
    fleet.remove(store, ["V007"])
    hub._process([_status("birth", 40, 30)])  # restored while retired
    done = fleet.register(store, ["V007"], on_back=backoffice.queue_latest)
    assert done.queued == {"V007": ["catalog"]}
    # The trust list it refused as unsigned: its one copy, not queued again.
    assert store._read("SELECT count(*) FROM downlinks WHERE van = 'V007' AND kind = 'trust-list'") == [(1,)]
    assert store._read("SELECT count(*) FROM downlinks WHERE van = 'V007' AND kind = 'catalog'") == [(2,)]

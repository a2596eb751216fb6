"""Presence when a van's connection counter goes back (its database restored from a backup, its disk swapped for a
spare): the hub takes the lower birth once the van's last connection is over, tells staff, and no message of the
connections before the restore, delivered late, undoes it. End to end: tests/sync/test_restored_van.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.core import catalogue as catalogue_mod
from edge.core import requests as rq
from edge.sync import protocol as p
from governorate import fleet, quarantine
from governorate.store import HubStore
from tests.support import gov_postgres
from tests.support.gov_support import BACKENDS, GOV, offline_hub, van_requests

T0 = datetime.now(UTC) - timedelta(hours=2)


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    if request.param == "sqlite":
        s = HubStore(tmp_path / "hub.db")
        yield s
        s.close()
        return
    cluster = gov_postgres.Cluster().start()
    try:
        s = HubStore(cluster.create_database("presence"))
        yield s
        s.close()
    finally:
        cluster.stop()


def _status(kind: str, session: int, minutes: float) -> tuple[str, bytes]:
    make = p.birth if kind == "birth" else p.death
    return p.up_topic(GOV, "V007", "status"), p.encode(make("V007", session, now=T0 + timedelta(minutes=minutes)))


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


def test_a_lower_birth_while_the_van_is_online_or_older_than_its_death_is_not_taken(store):
    hub = offline_hub(store)
    hub._process([_status("birth", 57, 10)])
    hub._process([_status("birth", 40, 20)])  # the old connection not over yet (its will not seen): not taken
    assert _presence(store) == (57, True)
    hub._process([_status("death", 57, 10)])
    hub._process([_status("birth", 56, 5)])  # an earlier session's birth delivered late: older than the death
    hub._process([_status("birth", 57, 10.1)])  # its own session's birth after its will: no dead session back
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


def test_a_van_whose_counter_goes_back_again_within_the_hour_is_taken_but_not_told_again(store):
    hub = offline_hub(store)
    sent: list[str] = []
    hub.client.publish = lambda topic, payload, qos=0: sent.append(topic.rsplit("/", 1)[1])
    for session, minutes in ((57, 0), (40, 10), (57, 20), (41, 30)):  # a van cycling its counter on purpose
        hub._process([_status("birth", session, minutes), _status("death", session, minutes)])
    hub._process([_status("birth", 30, 40)])
    assert _presence(store) == (30, True)
    assert store._read("SELECT count(*) FROM downlinks WHERE kind = 'command'")[0][0] == 1
    assert sent.count("command") <= 4  # the one command, sent again at each birth until the van applies it
    with store.transaction() as conn:  # an hour on
        conn.execute("UPDATE vans SET session_back_at = ?", [(datetime.now(UTC) - timedelta(hours=1)).isoformat()])
    hub._process([_status("death", 30, 40), _status("birth", 20, 50)])
    assert store._read("SELECT count(*) FROM downlinks WHERE kind = 'command'")[0][0] == 2

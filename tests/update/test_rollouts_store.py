"""The rollout in force at the hub (governorate/rollouts.py): plans stored, the vans' reports read from their
snapshots, offers made as the policy says, pins, resume after a pause, a fleet rollback that needs the previous
release signed again, and vans too old for updates over the link left out."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from governorate import rollouts
from governorate.store import HubStore
from governorate.updates import Bundle, OfferError, Updates
from tests.update.support import signed_release

FLEET = ["V001", "V002", "V003", "V004"]


@pytest.fixture
def releases(tmp_path, keys):
    signed_release(tmp_path / "n0", "1.0.0", keys)
    signed_release(tmp_path / "n1", "1.1.0", keys)
    return Bundle(tmp_path / "n0"), Bundle(tmp_path / "n1")


def _report(store: HubStore, van: str, running: str | None, refused: tuple[str, ...] = (), schema: int = 4,
            deferred: tuple[str, ...] = ()) -> None:
    values = {"outbox_pending": 0, "software.id": running, "software.version": "x",
              "update.refused": ",".join(refused) or None, "update.deferred": ",".join(deferred) or None}
    with store.transaction() as conn:
        conn.execute("INSERT INTO vans (van, last_seen, online, telemetry, schema, session) VALUES (?, ?, 1, ?, ?, 1) "
                     "ON CONFLICT (van) DO UPDATE SET telemetry = excluded.telemetry, schema = excluded.schema",
                     [van, datetime.now(UTC).isoformat(), json.dumps(values), schema])


def _offered(updates: Updates) -> dict[str, str]:
    return {o["van"]: o["bundle"] for o in updates.offers() if o["state"] != "withdrawn"}


def test_waves_follow_the_vans_reports_and_a_failed_canary_pauses(tmp_path, releases):
    n0, n1 = releases
    store = HubStore(tmp_path / "hub.db")
    updates = Updates(store, lambda *a: None)
    for van in FLEET:
        _report(store, van, n0.name)
    _report(store, "V004", None, schema=3)  # its software cannot take an update over the link
    assert rollouts.drive(store, updates) is None  # no rollout yet
    rollouts.start(store, n1.folder, previous=n0.name, previous_folder=n0.folder, canaries=("V002",),
                   wave_sizes=(1,))
    d = rollouts.drive(store, updates)
    assert d.state == "rolling-out" and _offered(updates) == {"V002": n1.name}
    assert "V004" not in d.versions
    rollouts.drive(store, updates)
    assert _offered(updates) == {"V002": n1.name}  # offered once, not again at every turn
    _report(store, "V002", n1.name)  # the canary runs it: wave 1 (V001)
    rollouts.drive(store, updates)
    assert _offered(updates) == {"V002": n1.name, "V001": n1.name}
    _report(store, "V001", n0.name, refused=(n1.name,))  # V001 failed its health check and went back
    d = rollouts.drive(store, updates)
    assert d.state == "paused" and "1 of 1 failed" in d.reason
    assert rollouts.current(store)["state"] == "paused" and "V003" not in _offered(updates)
    # Staff resume: V001 is pinned where it went back to, the next wave goes on.
    row = rollouts.resume(store)
    assert row["pinned"] == {"V001": n0.name}
    rollouts.drive(store, updates)
    assert _offered(updates)["V003"] == n1.name


def test_pin_keeps_a_van_where_it_is_and_unpin_lets_it_follow(tmp_path, releases):
    n0, n1 = releases
    store = HubStore(tmp_path / "hub.db")
    updates = Updates(store, lambda *a: None)
    for van in FLEET[:2]:
        _report(store, van, n0.name)
    with pytest.raises(OfferError, match="No rollout"):
        rollouts.pin(store, "V001")
    rollouts.start(store, n1.folder, previous=n0.name, wave_sizes=(5,))
    rollouts.pin(store, "V001")
    with pytest.raises(OfferError, match="has not said"):
        rollouts.pin(store, "V009")
    rollouts.drive(store, updates)
    assert _offered(updates) == {"V002": n1.name}
    rollouts.unpin(store, "V001")
    rollouts.drive(store, updates)
    assert _offered(updates) == {"V001": n1.name, "V002": n1.name}


def test_a_fleet_rollback_needs_the_previous_release_signed_again(tmp_path, keys, releases):
    n0, n1 = releases
    store = HubStore(tmp_path / "hub.db")
    updates = Updates(store, lambda *a: None)
    for van in FLEET[:2]:
        _report(store, van, n1.name)
    rollouts.start(store, n1.folder, previous=n0.name, wave_sizes=(5,))
    with pytest.raises(OfferError, match="no previous release folder"):
        rollouts.roll_back(store)
    rollouts.start(store, n1.folder, previous=n0.name, previous_folder=n0.folder, wave_sizes=(5,))
    with pytest.raises(OfferError, match="Sign the previous release again"):
        rollouts.roll_back(store)  # its metadata is older than N+1's: every van would refuse it
    from provisioning import tuf_repo

    tuf_repo.sign_release(n0.folder, keys)
    row = rollouts.roll_back(store)
    d = rollouts.drive(store, updates)
    assert row["rolled_back"] and d.state == "rolled-back"
    assert _offered(updates) == {"V001": n0.name, "V002": n0.name}
    with pytest.raises(OfferError, match="not"):
        rollouts.start(store, n1.folder, previous=n1.name)  # target and previous the same


def test_a_van_holding_a_deferred_release_the_plan_no_longer_gives_it_is_offered_what_it_should_run(
        tmp_path, keys, releases):
    # Review of 2026-12-06 (high): the van forgets a deferred release only when it switches to another version, and
    # the hub never offered a van the version it runs, nor anything to a pinned van — so after a fleet rollback (or a
    # pin) a van whose check of the bad release had lost the link still tried it once its link was back.
    from provisioning import tuf_repo

    n0, n1 = releases
    store = HubStore(tmp_path / "hub.db")
    updates = Updates(store, lambda *a: None)
    for van in FLEET[:3]:
        _report(store, van, n0.name)
    rollouts.start(store, n1.folder, previous=n0.name, previous_folder=n0.folder, wave_sizes=(5,))
    rollouts.drive(store, updates)
    assert _offered(updates) == {v: n1.name for v in FLEET[:3]}
    _report(store, "V001", n0.name, deferred=(n1.name,))  # lost the link during its check: it will try again
    _report(store, "V002", n0.name, deferred=(n1.name,))
    rollouts.drive(store, updates)
    assert _offered(updates) == {v: n1.name for v in FLEET[:3]}  # deferred for the target: nothing to cancel
    rollouts.pin(store, "V002")  # staff keep V002 where it is
    rollouts.drive(store, updates)
    # n0's signed metadata is older than n1's, which V002 has seen: it would refuse it — nothing is offered yet.
    assert _offered(updates)["V002"] == n1.name
    tuf_repo.sign_release(n0.folder, keys)
    rollouts.roll_back(store)  # … and send the fleet back
    rollouts.drive(store, updates)
    offered = _offered(updates)
    assert offered["V001"] == n0.name and offered["V002"] == n0.name, offered  # what they run, to cancel n1
    rollouts.drive(store, updates)
    assert _offered(updates) == offered  # once, not at every turn
    _report(store, "V001", n0.name)  # switched to n0 again: it forgot n1
    _report(store, "V003", n0.name)  # a van with nothing deferred is not offered what it runs
    rollouts.drive(store, updates)
    assert _offered(updates)["V003"] == n1.name  # (its earlier offer stands: offered once)


def test_the_command_line_starts_shows_and_pins(tmp_path, releases):
    from governorate.cli import main

    n0, n1 = releases
    db = str(tmp_path / "hub.db")
    _report(HubStore(db), "V001", n0.name)
    run = CliRunner().invoke
    out = run(main, ["rollout", "start", "--db", db, str(n1.folder), "--previous", n0.name, "--canary", "V001",
                     "--waves", "2,10"])
    assert out.exit_code == 0, out.output
    assert f"release 1.1.0 ({n1.name}) after {n0.name}, canaries V001, waves [2, 10]" in out.output
    assert run(main, ["rollout", "start", "--db", db, str(n1.folder), "--previous", n0.name,
                      "--waves", "x"]).exit_code == 2
    shown = json.loads(run(main, ["rollout", "status", "--db", db]).output)
    assert shown["rollout"]["target"] == n1.name and shown["vans"][0]["running"] == n0.name
    assert f"pinned to {n0.name}" in run(main, ["rollout", "pin", "--db", db, "V001"]).output
    assert "follows the rollout" in run(main, ["rollout", "pin", "--db", db, "V001", "--remove"]).output


def test_a_rebuilt_release_folder_is_never_offered_in_its_plans_name(tmp_path, keys, releases):
    n0, n1 = releases
    store = HubStore(tmp_path / "hub.db")
    updates = Updates(store, lambda *a: None)
    _report(store, "V001", n0.name)
    _report(store, "V002", n0.name, schema=3)
    with pytest.raises(OfferError, match="too old"):
        updates.offer("V002", n1.folder)
    rollouts.start(store, n1.folder, previous=n0.name, wave_sizes=(5,))
    import shutil

    shutil.rmtree(n1.folder)
    signed_release(n1.folder, "1.1.1", keys)  # rebuilt in place: another release
    for _ in range(3):
        rollouts.drive(store, updates)
    assert _offered(updates) == {}  # refused each time, never offered in a loop


def _words(store: HubStore) -> list[tuple[str, str | None]]:
    """The update-target downlinks recorded, oldest first: (van, release)."""
    from edge.sync import protocol as p

    return [(van, p.decode_down(bytes(payload), van=van, kind=kind).message.release) for van, kind, payload in
            store._read("SELECT van, kind, payload FROM downlinks WHERE kind = 'update-target' ORDER BY msg_id")]


def test_the_hub_tells_a_van_holding_a_deferred_release_which_release_it_should_run_at_once(tmp_path, keys, releases):
    # docs/updates.md, "The cancel usually came late": the offer of the release to run went at the lowest priority,
    # behind the van's backlog, and was refused or withdrawn at times — the van then tried the cancelled release once
    # its link was back. Now the hub sends a van that speaks schema 5 the release it should run as a small downlink
    # of its own, at once, whenever its report names a deferred release: once a session, and again when it changes.
    from provisioning import tuf_repo
    from tests.support.gov_support import offline_hub

    n0, n1 = releases
    store = HubStore(tmp_path / "hub.db")
    hub = offline_hub(store)
    updates = Updates(store, lambda *a: None)
    for van in FLEET[:4]:
        _report(store, van, n0.name, schema=5)
    rollouts.start(store, n1.folder, previous=n0.name, previous_folder=n0.folder, canaries=("V001", "V002", "V003"),
                   wave_sizes=(5,))
    rollouts.drive(store, updates)
    assert rollouts.tell(store, updates, hub) == 0  # nothing deferred: nothing said
    _report(store, "V001", n0.name, deferred=(n1.name,), schema=5)
    _report(store, "V002", n0.name, deferred=(n1.name,), schema=5)
    _report(store, "V004", n0.name, deferred=(n1.name,), schema=4)  # too old to hear it: offered, as before
    assert rollouts.tell(store, updates, hub) == 2
    assert _words(store) == [("V001", n1.name), ("V002", n1.name)]  # the plan still gives it: try it now
    assert rollouts.tell(store, updates, hub) == 0  # once a session
    rollouts.pin(store, "V002")
    rollouts.drive(store, updates)
    assert rollouts.tell(store, updates, hub) == 1 and _words(store)[-1] == ("V002", n0.name)  # pinned: cancelled
    tuf_repo.sign_release(n0.folder, keys)
    rollouts.roll_back(store)
    rollouts.drive(store, updates)
    assert rollouts.tell(store, updates, hub) == 1 and _words(store)[-1] == ("V001", n0.name)  # rolled back
    # A van that hears the word is not sent the release it runs to cancel (no download); one too old to hear it is.
    offered = _offered(updates)
    assert offered.get("V001") != n0.name and offered.get("V002") != n0.name and offered["V004"] == n0.name, offered
    # The fleet's software screen says so in the staff's words.
    view = {v["van"]: v for v in rollouts.screen(store, updates)["vans"]}
    assert view["V001"]["cancel"] == "sent" and view["V002"]["cancel"] == "sent" and view["V003"]["cancel"] is None
    with store.transaction() as conn:
        conn.execute("UPDATE downlinks SET applied_at = ?, outcome = 'applied' WHERE van = 'V001'",
                     [datetime.now(UTC).isoformat()])
    assert {v["van"]: v for v in rollouts.screen(store, updates)["vans"]}["V001"]["cancel"] == "heard"
    with store.transaction() as conn:  # the van refused V002's word (review: it showed "sent" for ever)
        conn.execute("UPDATE downlinks SET applied_at = ?, outcome = 'rejected', error = 'an older word' "
                     "WHERE van = 'V002'", [datetime.now(UTC).isoformat()])
    assert {v["van"]: v for v in rollouts.screen(store, updates)["vans"]}["V002"]["cancel"] == "refused"
    # A new session (the van reconnected): told again, so its retry hears the hub's current word after each outage.
    with store.transaction() as conn:
        conn.execute("UPDATE vans SET session = session + 1 WHERE van = 'V001'")
    assert rollouts.tell(store, updates, hub) == 1 and _words(store)[-1] == ("V001", n0.name)
    # Offline: nothing sent until it is back (the broker would keep it; the next session's word is the one that counts).
    with store.transaction() as conn:
        conn.execute("UPDATE vans SET online = 0, session = session + 1 WHERE van = 'V001'")
    assert rollouts.tell(store, updates, hub) == 0


def test_withdrawing_the_offer_of_a_deferred_release_by_hand_cancels_it(tmp_path, releases):
    # Left, and known, before: withdrawing one van's offer by hand did not cancel its deferred release.
    from tests.support.gov_support import offline_hub

    n0, n1 = releases
    store = HubStore(tmp_path / "hub.db")
    hub = offline_hub(store)
    updates = Updates(store, lambda *a: None)
    _report(store, "V001", n0.name, schema=5)
    updates.offer("V001", n1.folder)  # by hand, no rollout
    _report(store, "V001", n0.name, deferred=(n1.name,), schema=5)
    assert rollouts.tell(store, updates, hub) == 1 and _words(store) == [("V001", n1.name)]
    assert updates.withdraw("V001")
    assert rollouts.tell(store, updates, hub) == 1 and _words(store)[-1] == ("V001", n0.name)
    # A van with no plan and no offer: the hub names nothing (its retry need not wait, and cancels nothing).
    _report(store, "V002", n0.name, deferred=(n1.name,), schema=5)
    assert rollouts.words(store, updates)["V002"] is None
    assert rollouts.tell(store, updates, hub) == 1 and _words(store)[-1] == ("V002", None)
    # Within a rollout too: the plan gives it n1, but staff withdrew that offer.
    rollouts.start(store, n1.folder, previous=n0.name, previous_folder=n0.folder, canaries=("V001",), wave_sizes=(5,))
    rollouts.drive(store, updates)
    assert (updates.offer_of("V001") or {})["state"] == "withdrawn"
    assert rollouts.words(store, updates)["V001"] == n0.name


def test_a_van_reporting_an_odd_running_id_does_not_stop_the_word_to_the_others(tmp_path, releases):
    # Review of the cancel (M4): the word names the release a van runs when its deferred release's offer was
    # withdrawn — as the van reported it. An id that is no release's made the encoder raise inside tell: no van was
    # told, and the update pump sharing its try block stopped too, every 5 s.
    from tests.support.gov_support import offline_hub

    n0, n1 = releases
    store = HubStore(tmp_path / "hub.db")
    hub = offline_hub(store)
    updates = Updates(store, lambda *a: None)
    for van in ("V001", "V002"):
        _report(store, van, n0.name, schema=5)
        updates.offer(van, n1.folder)
        assert updates.withdraw(van)
    _report(store, "V001", "not/a-release", deferred=(n1.name,), schema=5)
    _report(store, "V002", n0.name, deferred=(n1.name,), schema=5)
    assert rollouts.tell(store, updates, hub) == 1 and _words(store) == [("V002", n0.name)]


def test_retiring_the_van_that_failed_unpauses_a_paused_rollout(tmp_path, releases):
    # Review H1: the policy computed its waves over the vans in service only, so retiring the van that failed its
    # health check made its failure vanish: the paused rollout went on, with no resume by staff and no audit.
    from governorate import fleet

    n0, n1 = releases
    store = HubStore(tmp_path / "hub.db")
    updates = Updates(store, lambda *a: None)
    _report(store, "V001", n1.name)
    _report(store, "V002", n0.name, refused=(n1.name,))  # failed its health check: went back
    for van in ("V003", "V004"):
        _report(store, van, n0.name)
    rollouts.start(store, n1.folder, previous=n0.name, previous_folder=n0.folder, wave_sizes=(2,))
    assert rollouts.drive(store, updates).state == "paused"  # wave 0 = V001, V002: 1 of 2 failed
    fleet.remove(store, ["V002"])  # staff take the broken van out of service
    d = rollouts.drive(store, updates)
    assert d.state == "paused" and "1 of 2 failed" in d.reason, (d.state, d.versions)
    assert "V003" not in _offered(updates) and rollouts.current(store)["state"] == "paused"
    # Resumed by staff: the retired van is pinned where it went back, the rollout goes on.
    assert rollouts.resume(store)["pinned"] == {"V002": n0.name}
    rollouts.drive(store, updates)
    assert _offered(updates) == {"V003": n1.name}


def test_retiring_the_canary_skips_the_canary_wave(tmp_path, releases):
    # Review H2: a canary not in the fleet was dropped from wave 0; retiring the only canary before it ran the
    # release sent it to the whole fleet at once.
    from governorate import fleet

    n0, n1 = releases
    store = HubStore(tmp_path / "hub.db")
    updates = Updates(store, lambda *a: None)
    for van in FLEET:
        _report(store, van, n0.name)
    rollouts.start(store, n1.folder, previous=n0.name, previous_folder=n0.folder, canaries=("V001",),
                   wave_sizes=(5,))
    fleet.remove(store, ["V001"])
    d = rollouts.drive(store, updates)
    assert d.waves[0] == ["V001"] and d.versions["V002"] == n0.name, d
    assert _offered(updates) == {}  # the retired canary is offered nothing either: the rollout waits
    view = rollouts.screen(store, updates)
    assert view["waiting_retired"] == ["V001"]
    assert [v["retired"] for v in view["vans"] if v["van"] == "V001"] == [True]
    # The way out: pin it (or start the rollout again with another canary); then wave 1 goes on.
    rollouts.pin(store, "V001")
    rollouts.drive(store, updates)
    assert _offered(updates) == {v: n1.name for v in ("V002", "V003", "V004")}

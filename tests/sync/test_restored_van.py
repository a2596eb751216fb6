"""A van whose database is restored from a backup (or whose disk is swapped for a spare with one): its connection
counter, request counters and inbox go back. End to end: a real Mosquitto, the hub's ingest, the van's sync agent."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from edge.core import catalogue as catalogue_mod
from edge.core import requests as rq
from edge.core.citizens import Citizen
from edge.core.national_id import parse
from edge.store import catalogues
from edge.store import requests as store_requests
from edge.store.db import open_db, transaction
from edge.sync import protocol as p
from governorate import fleet
from tests.support.sync_harness import VAN, fill_outbox, pending, start_hub, start_van, van_settings, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def hub(tmp_path, broker):
    hub, runner = start_hub(tmp_path / "hub.db", broker.port)
    yield hub
    runner.stop()


def _connect_and_drain(settings, hub) -> int:
    """One connection of the van: until its outbox is empty and the hub shows it online; returns its session."""
    agent, runner = start_van(settings)
    try:
        wait_until(lambda: pending(settings) == 0, 30, "the outbox to drain")
        wait_until(lambda: (hub.store.van(VAN) or {}).get("session") == agent.session
                   and hub.store.van(VAN)["online"], 20, "the hub to show the van online")
        return agent.session
    finally:
        runner.stop()  # a clean stop: the will is published at once
        wait_until(lambda: hub.store.van(VAN)["online"] is False, 10, "the van to go offline")


def _backup(src, dst) -> None:
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)


def _restore(backup, db_path) -> None:
    for suffix in ("", "-wal", "-shm"):
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(backup, db_path)


def _register(settings, name: str) -> str:
    db = open_db(settings.db_path)
    cat = catalogue_mod.load_default()
    service = cat.services[0]
    with transaction(db):
        number = store_requests.submit(
            db, van_id=settings.van.id, catalogue=cat, service_code=service.code,
            citizen=Citizen(parse("29001010112355"), name, "01012345678"),
            payment=rq.Payment("cash", service.fee_piastres), operator="operator:1")
    db.close()
    return str(number)


@pytest.fixture
def restored(tmp_path, broker, hub):
    """A van that ran four connections and registered three requests, then went back to its database as it was
    after the first connection (one request)."""
    settings = van_settings(tmp_path / "van", broker.url)
    fill_outbox(settings, 1)
    first = _connect_and_drain(settings, hub)
    _backup(settings.db_path, tmp_path / "backup.db")
    _connect_and_drain(settings, hub)
    agent, runner = start_van(settings)  # a catalogue the van applies after its backup was taken
    try:
        data = catalogue_mod.to_dict(catalogue_mod.load_default())
        msg_id = hub.send(VAN, p.Catalog(data["version"] + 1, data | {"version": data["version"] + 1}))
        wait_until(lambda: (hub.store.downlink(msg_id) or {}).get("outcome") == "applied", 20, "the catalogue")
    finally:
        runner.stop()
        wait_until(lambda: hub.store.van(VAN)["online"] is False, 10, "the van to go offline")
    later = [_register(settings, "سارة محمود علي"), _register(settings, "كريم سعيد فؤاد")]
    last = _connect_and_drain(settings, hub)
    assert first == 1 and last == 4
    _restore(tmp_path / "backup.db", settings.db_path)
    db = open_db(settings.db_path)
    assert catalogues.newest_version(db) in (None, data["version"])  # the catalogue went back with the database
    db.close()
    return settings, later, data["version"] + 1


def test_a_restored_van_shows_online_on_the_hub_and_staff_are_told_and_gets_back_the_catalogue_it_had(restored, hub):
    settings, _, version = restored
    agent, runner = start_van(settings)
    try:
        wait_until(lambda: agent.session == 2 and hub.store.van(VAN)["online"], 20,
                   "the hub to show the restored van online")
        assert hub.store.van(VAN)["session"] == 2  # the hub follows the van's counter: its words are for session 2
        db = open_db(settings.db_path)  # the catalogue it applied after its backup: sent again, applied again
        wait_until(lambda: catalogues.newest_version(db) == version, 20, "the lost catalogue")
        db.close()
        fleet.evaluate_alerts(hub.store, fleet.Thresholds())
        [alert] = [a for a in fleet.alerts(hub.store, VAN) if a["kind"] == "session"]
        assert alert["detail"].startswith("connection counter 4 → 2, ")
        assert "نسخة احتياطية" in alert["label_ar"] and "backup" in alert["label_en"]
    finally:
        runner.stop()
    wait_until(lambda: hub.store.van(VAN)["online"] is False, 10, "the restored van's will")


def test_a_restored_van_issues_a_number_the_hub_holds_for_another_citizen(restored, hub):
    """The request counter goes back with the database: before its first connection after the restore (the hub has
    not told it its counters yet) the van gives a new citizen a number the hub holds for another. The hub keeps its
    first request and records the conflict (staff see it); the new request's message is kept, not lost, but it is
    not the request the back office shows under that number. Left: docs/protocol.md, "Sessions and the last will"."""
    settings, later, _ = restored
    number = _register(settings, "هالة عادل رضا")
    assert number == later[0]
    agent, runner = start_van(settings)
    try:
        wait_until(lambda: pending(settings) == 0, 30, "the van's outbox to drain (the hub acks it)")
    finally:
        runner.stop()
    kept = hub.store._read("SELECT body FROM requests WHERE number = ?", [number])[0][0]
    assert json.loads(kept)["citizen"]["name"] == "سارة محمود علي"
    [(detail,)] = hub.store._read("SELECT detail FROM request_conflicts WHERE number = ?", [number])
    assert "citizen" in detail
    bodies = [json.loads(b) for (b,) in hub.store._read(
        "SELECT body FROM messages WHERE kind = 'request.submitted'")]
    assert "هالة عادل رضا" in [b["citizen"]["name"] for b in bodies]


def test_once_connected_the_restored_van_numbers_and_counts_past_what_the_hub_holds(restored, hub):
    settings, later, _ = restored
    number = _connect_told_counters_and_register(settings, hub, later)
    kept = hub.store._read("SELECT body FROM requests WHERE number = ?", [number])[0][0]
    assert json.loads(kept)["citizen"]["name"] == "هالة عادل رضا"
    assert hub.store._read("SELECT count(*) FROM request_conflicts")[0][0] == 0
    agent, runner = start_van(settings)  # the next connection counts above the old ones: no lower birth again
    try:
        wait_until(lambda: hub.store.van(VAN)["session"] == 5 and hub.store.van(VAN)["online"], 20,
                   "the van's next connection, above the old ones")
    finally:
        runner.stop()


def test_a_van_restored_while_retired_is_told_its_counters_only_and_gets_its_catalogue_back_once_it_is_back(
        restored, hub):
    """Review M1/M2 of the restored van and the retired van together: retired, it is sent nothing of the
    governorate's state (not its catalogue again) but its counters (it may still serve citizens); brought back with
    `governorate vans add`, it is queued a fresh copy of what it lost, and gets it at its next connection."""
    from governorate import backoffice

    settings, later, version = restored
    assert fleet.remove(hub.store, [VAN]).retired == [VAN]
    _connect_told_counters_and_register(settings, hub, later)
    wait_until(lambda: hub.store.van(VAN)["online"] is False, 10, "the van to go offline")
    db = open_db(settings.db_path)
    assert catalogues.newest_version(db) != version  # not sent to a retired van
    db.close()
    assert hub.store._read("SELECT session_told_at FROM vans WHERE van = ?", [VAN]) == [(None,)]
    back = fleet.register(hub.store, [VAN], on_back=backoffice.queue_latest)
    assert back.back == [VAN]
    agent, runner = start_van(settings)
    try:
        db = open_db(settings.db_path)
        wait_until(lambda: catalogues.newest_version(db) == version, 20, "the lost catalogue, once it is back")
        db.close()
    finally:
        runner.stop()


def _connect_told_counters_and_register(settings, hub, later) -> str:
    """The restored van's next connection: the hub's counters applied, then a new citizen's request, numbered past
    the last one the hub holds and delivered; its number."""
    agent, runner = start_van(settings)
    try:
        wait_until(lambda: hub.store._read("SELECT count(*) FROM downlinks WHERE kind = 'command' "
                                           "AND outcome = 'applied'")[0][0] == 1, 20, "the hub's counters applied")
        number = _register(settings, "هالة عادل رضا")
        assert rq.parse_request_number(number).seq == rq.parse_request_number(later[-1]).seq + 1
        wait_until(lambda: pending(settings) == 0, 30, "the new request to reach the hub")
    finally:
        runner.stop()
    return number

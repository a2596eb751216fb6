"""The van's health answer says whether sync is connected to the governorate (issue 20: an update's health check
holds the new version to "sync connected, devices as before"). Real Mosquitto, real sync agent."""

from __future__ import annotations

from edge.store import sync_state
from edge.store.db import open_db
from edge.web.api.health import check as health
from tests.support.sync_harness import start_van, van_settings, wait_until


def _link(settings):
    db = open_db(settings.db_path)
    try:
        return sync_state.link(db)
    finally:
        db.close()


def test_the_health_answer_follows_the_sync_link(tmp_path, broker):
    settings = van_settings(tmp_path / "van", broker.url)
    _agent, van = start_van(settings)
    try:
        wait_until(lambda: (_link(settings) or {}).get("connected") is True, 10, "the link recorded as connected")
        answer = health(settings)
        assert answer["sync"]["connected"] is True and answer["sync"]["since"]
        assert answer["healthy"]
        broker.stop()
        wait_until(lambda: (_link(settings) or {}).get("connected") is False, 30, "the lost link recorded")
        answer = health(settings)
        assert answer["sync"]["connected"] is False and answer["healthy"]  # out of signal still serves citizens
    finally:
        van.stop()

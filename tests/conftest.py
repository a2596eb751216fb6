"""Shared fixtures: a migrated van database in a temporary folder, the shipped catalogue, fixed times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import settings

from edge.devices import twins
from edge.store.db import open_db
from edge.store.migrations import migrate

# Property tests check behaviour, not speed: on CI's two cores, shared by xdist workers, a run can take
# seconds that a quiet machine does in milliseconds, and hypothesis' default deadline would fail it.
settings.register_profile("edge", deadline=None)
settings.load_profile("edge")


@pytest.fixture(autouse=True)
def healthy_twins():
    """Every simulated device starts each test as it was made: no fault left over from another test."""
    twins.reset_all()
    yield


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "van.db"


@pytest.fixture
def db(db_path):
    database = open_db(db_path)
    migrate(database)
    yield database
    database.close()


@pytest.fixture(scope="session")
def catalogue():
    from edge.core import catalogue as catalogue_mod

    return catalogue_mod.load_default()


@pytest.fixture
def now():
    # 10:00 in Cairo: the local day is 2026-11-21 whatever the machine's timezone.
    return datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


@pytest.fixture
def broker(tmp_path):
    """A real Mosquitto on a free loopback port, for this test only."""
    from tests.support.mqtt_broker import Broker

    b = Broker(tmp_path / "broker").start()
    yield b
    b.stop()

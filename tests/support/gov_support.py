"""Helpers for the governorate web tests: a hub database filled through the real ingest, staff, a logged-in client."""

from __future__ import annotations

import contextlib
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from ulid import ULID

from edge.store import outbox
from edge.store.db import open_db
from edge.sync import protocol as p
from governorate import staff
from governorate.ingest import Hub
from governorate.store import HubStore
from tests.support import gov_postgres
from tests.support.sync_harness import GOV, fill_outbox, van_settings

PASSWORD = "correct horse battery"
USERS = {"viewer": "vera", "clerk": "karim", "admin": "amal"}


BACKENDS = ["sqlite"] + (["postgresql"] if gov_postgres.available() else [])


@contextlib.contextmanager
def empty_hub(backend: str, folder: Path, name: str = "hub") -> Iterator[HubStore]:
    """An empty hub database on ``backend`` (a PostgreSQL cluster of its own, stopped afterwards)."""
    if backend == "sqlite":
        s = HubStore(folder / "hub.db")
        try:
            yield s
        finally:
            s.close()
        return
    cluster = gov_postgres.Cluster().start()
    try:
        s = HubStore(cluster.create_database(name))
        try:
            yield s
        finally:
            s.close()
    finally:
        cluster.stop()


@contextlib.contextmanager
def hub_target(backend: str, folder: Path, name: str = "hub") -> Iterator[str]:
    """Where an empty hub database is, not opened (a test opens it at the migrations it wants): a file on SQLite, a
    database of a PostgreSQL cluster of its own (stopped afterwards)."""
    if backend == "sqlite":
        yield str(folder / "hub.db")
        return
    cluster = gov_postgres.Cluster().start()
    try:
        yield cluster.create_database(name)
    finally:
        cluster.stop()


@contextlib.contextmanager
def hub_template(backend: str, folder: Path, fill: Callable[[HubStore], object]) -> Iterator[tuple]:
    """A hub database filled once by ``fill`` (argon2 staff hashes are slow on purpose), to copy for each test:
    yields (backend, target, cluster, what fill returned)."""
    cluster = None
    if backend == "sqlite":
        target = str(folder / "hub.db")
    else:
        cluster = gov_postgres.Cluster().start()
        target = cluster.create_database("tmpl")
    s = HubStore(target)
    filled = fill(s)
    s.close()  # SQLite: the last close checkpoints the WAL, so a plain copy is complete; PostgreSQL: frees the template
    try:
        yield backend, target, cluster, filled
    finally:
        if cluster:
            cluster.stop()


@contextlib.contextmanager
def hub_copy(template: tuple, folder: Path) -> Iterator[HubStore]:
    """A fresh copy of a ``hub_template`` database for one test."""
    backend, target, cluster = template[:3]
    if backend == "sqlite":
        shutil.copy(target, folder / "hub.db")
        s = HubStore(folder / "hub.db")
    else:
        s = HubStore(cluster.create_database(f"t{uuid.uuid4().hex[:12]}", template="tmpl"))
    try:
        yield s
    finally:
        s.close()


def offline_hub(store: HubStore) -> Hub:
    """A hub that never connects: its acks and downlinks are stored, and the publishes go nowhere."""
    return Hub(store, GOV, "127.0.0.1", 1, listen=False)


def tel(van: str, values: dict, seq: int = 1, at: datetime | None = None) -> tuple[str, bytes]:
    at_text = (at or datetime.now(UTC)).isoformat()
    env = p.Envelope(str(ULID()), van, "tel", seq, p.SCHEMA_VERSION, at_text, "tel.snapshot",
                     {"at": at_text, "values": values})
    return p.up_topic(GOV, van, "tel"), p.encode(env)


def birth(van: str, session: int = 1) -> tuple[str, bytes]:
    return p.up_topic(GOV, van, "status"), p.encode(p.birth(van, session))


def death(van: str, session: int = 1) -> tuple[str, bytes]:
    return p.up_topic(GOV, van, "status"), p.encode(p.death(van, session))


def van_requests(folder: Path, van: str, count: int, broker_url: str = "mqtt://127.0.0.1:1") -> tuple[list, list]:
    """Register ``count`` real requests in a van database; returns (numbers, uplink messages for the hub)."""
    settings = van_settings(folder, broker_url, van=van)
    numbers = fill_outbox(settings, count)
    db = open_db(settings.db_path)
    messages = [(p.up_topic(GOV, van, row.stream), p.encode_outbox_row(row, van)) for row in outbox.pending(db)]
    db.close()
    return numbers, messages


def seed(store: HubStore, folder: Path, van: str = "V007", requests: int = 2, values: dict | None = None,
         online: bool = True) -> list[str]:
    hub = offline_hub(store)
    numbers, messages = van_requests(folder / van, van, requests)
    batch = [birth(van), *messages, tel(van, values or {
        "outbox_pending": 0, "outbox_oldest_age_s": 0, "gps.lat": 30.0444, "gps.lon": 31.2357,
        "lte.rsrp_dbm": -97, "lte.operator": "Vodafone EG", "device.printer": "ok", "device.camera_front": "ok",
        "device.scanner": "ok", "device.qr": "ok"})]
    if not online:
        batch.append(death(van))
    hub._process(batch)
    return numbers


def add_staff(store: HubStore, gov: str = GOV) -> None:
    for role, username in USERS.items():
        staff.add(store, username, f"{role.title()} Person", role, gov, PASSWORD)


def csrf(client, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, role: str):
    token = csrf(client)
    response = client.post("/login", data={"username": USERS[role], "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return csrf(client, "/")


class RecordingSender:
    """A stand-in SMS gateway for the pluggable-notifier test."""

    name = "recording"
    sent: list = []

    def __init__(self, store):
        self.store = store

    def send(self, notification) -> str:
        RecordingSender.sent.append(notification)
        return "sent"


def recording_sender(store):
    return RecordingSender(store)

"""A van, a hub and a real Mosquitto broker on loopback, for the store-and-forward tests and benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from edge import config
from edge.core import catalogue as catalogue_mod
from edge.core import requests as rq
from edge.core.citizens import Citizen
from edge.core.national_id import parse
from edge.store import outbox
from edge.store import requests as store_requests
from edge.store.db import open_db, transaction
from edge.store.migrations import migrate
from edge.sync.agent import SyncAgent, Tuning
from governorate.ingest import Hub
from governorate.store import HubStore

VAN = "V007"
GOV = "01"


def wait_until(condition: Callable[[], bool], timeout: float, what: str, poll: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(poll)


def van_settings(folder: Path, broker_url: str, van: str = VAN) -> config.Settings:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "van.toml"
    path.write_text(f'data_dir = "{folder}"\n[van]\nid = "{van}"\ngovernorate = "{GOV}"\n'
                    f'[broker]\nurl = "{broker_url}"\nkeepalive = 10\n')
    return config.load(path)


def fill_outbox(settings: config.Settings, requests: int) -> list[str]:
    """Register ``requests`` real requests (each a tx and an audit row); returns their numbers."""
    db = open_db(settings.db_path)
    migrate(db)
    cat = catalogue_mod.load_default()
    service = cat.services[0]
    citizen = Citizen(parse("29001010112355"), "منى أحمد حسن", "01012345678")
    numbers = []
    with transaction(db):
        for _ in range(requests):
            numbers.append(str(store_requests.submit(
                db, van_id=settings.van.id, catalogue=cat, service_code=service.code, citizen=citizen,
                payment=rq.Payment("cash", service.fee_piastres), operator="operator:1")))
    db.close()
    return numbers


def fill_raw(settings: config.Settings, rows: int, body_bytes: int = 600) -> None:
    """``rows`` tx rows of about ``body_bytes`` each (ticket events), for backlog and throughput runs."""
    db = open_db(settings.db_path)
    migrate(db)
    body = {"number": "A001", "series": "A", "seq": 1, "category": "BLD", "priority": "none", "state": "waiting",
            "issued_at": "2026-11-21T08:00:00+00:00", "called_at": None, "counter": None, "recalls": 0,
            "started_at": None, "finished_at": None, "transferred_to": None, "transferred_from": None}
    pad = max(0, body_bytes - 330)
    body["category"] = ("B" * min(pad, 32)) or "BLD"
    with transaction(db):
        for _ in range(rows):
            outbox.enqueue(db, "tx", "ticket.issued", body)
    db.close()


def pending(settings: config.Settings) -> int:
    db = open_db(settings.db_path)
    try:
        return outbox.backlog(db).pending
    finally:
        db.close()


class ThreadRunner:
    """Runs ``target(stop)`` in a thread; ``stop()`` ends it."""

    def __init__(self, target: Callable[[threading.Event], None]):
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=target, args=(self.stop_event,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=15)


def start_hub(db_path: Path, port: int) -> tuple[Hub, ThreadRunner]:
    hub = Hub(HubStore(db_path), GOV, "127.0.0.1", port)
    runner = ThreadRunner(hub.run)
    wait_until(hub.connected.is_set, 10, "the hub to connect")
    time.sleep(0.2)  # the SUBACK
    return hub, runner


def start_van(settings: config.Settings, tuning: Tuning | None = None) -> tuple[SyncAgent, ThreadRunner]:
    agent = SyncAgent(settings, tuning or Tuning(resend_after_s=5, telemetry_every_s=3600))
    return agent, ThreadRunner(agent.run)


def spawn(args: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", *args], stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                            env=env, start_new_session=True)


def kill9(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)

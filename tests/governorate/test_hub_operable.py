"""The hub as systemd runs it (issue 15, finding 10): `governorate ingest` and `governorate web` say READY and
keep the watchdog fed, the ingest serves Prometheus metrics, the web app answers /healthz, and the units
that start them are valid and hardened."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from governorate import metrics
from governorate.store import HubStore
from governorate.web import create_app
from tests.support.gov_support import GOV, offline_hub, tel
from tests.support.mqtt_broker import free_port
from tests.support.paths import ROOT
from tests.support.systemd_units import verify_units
from tests.test_sdnotify import FakeSystemd

UNITS = ROOT / "governorate" / "systemd"
INSTALLED = "/opt/governorate/current/venv/bin/governorate"


def _start(tmp_path, args, address):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVERNORATE_")}
    env.update(NOTIFY_SOCKET=address, WATCHDOG_USEC="1000000", GOVERNORATE_SECRET_KEY="s" * 40)
    return subprocess.Popen([sys.executable, "-m", "governorate.cli", *args], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _ready_and_pinging(fake, proc, status_prefix):
    deadline = time.monotonic() + 30
    while "READY=1" not in fake.messages and time.monotonic() < deadline and proc.poll() is None:
        fake.collect(0.2)
    assert "READY=1" in fake.messages, (proc.poll(), proc.stderr.read() if proc.poll() is not None else "")
    assert any(m.startswith("STATUS=" + status_prefix) for m in fake.messages), fake.messages
    before = fake.messages.count("WATCHDOG=1")
    fake.collect(1.6)
    assert fake.messages.count("WATCHDOG=1") - before >= 2  # one every 0.5 s (WatchdogSec=1)


def _stop(fake, proc):
    proc.terminate()
    assert proc.wait(timeout=20) == 0
    assert "STOPPING=1" in fake.collect(0.3)


def test_the_ingest_is_ready_pings_and_serves_its_metrics_with_no_broker(tmp_path):
    # No broker (the hub's network is down): the ingest runs and says so, it is not restarted for ever.
    store = HubStore(tmp_path / "hub.db")
    offline_hub(store)._process([tel("V007", {"outbox_pending": 4, "outbox_oldest_age_s": 60})])
    store.close()
    address, port = f"@gov-ingest-{os.getpid()}", free_port()
    fake = FakeSystemd(address)
    proc = _start(tmp_path, ["ingest", "--db", str(tmp_path / "hub.db"), "--governorate", GOV,
                             "--broker", f"mqtt://127.0.0.1:{free_port()}", "--metrics", f"127.0.0.1:{port}"], address)
    try:
        _ready_and_pinging(fake, proc, f"governorate {GOV} ingest worker 1")
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
        assert 'governorate_vans{status="online"}' in text or 'governorate_vans{status="silent"}' in text
        assert 'governorate_van_backlog_rows{van="V007"} 4.0' in text
        assert "governorate_ack_latency_seconds_bucket" in text and "governorate_messages_acked_total" in text
        _stop(fake, proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        fake.close()


def test_the_web_app_is_ready_and_pings_and_answers_healthz(tmp_path):
    address, port = f"@gov-web-{os.getpid()}", free_port()
    fake = FakeSystemd(address)
    proc = _start(tmp_path, ["web", "--db", str(tmp_path / "hub.db"), "--governorate", GOV, "--port", str(port)],
                  address)
    try:
        _ready_and_pinging(fake, proc, f"governorate {GOV} web on 127.0.0.1:{port}")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            assert answer.status == 200 and b'"ok":true' in answer.read().replace(b" ", b"")
        _stop(fake, proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        fake.close()


def test_healthz_says_503_when_the_database_does_not_answer(tmp_path, monkeypatch):
    store = HubStore(tmp_path / "hub.db")
    app = create_app({"DB_PATH": store.path, "STORE": store, "SECRET_KEY": b"k" * 32, "SENDER": offline_hub(store)})
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"ok": True, "checks": {"database": "ok"}}

    def broken(*_a, **_k):
        raise OSError("disk I/O error")

    monkeypatch.setattr(store, "_read", broken)
    answer = client.get("/healthz")
    assert answer.status_code == 503 and answer.get_json()["checks"]["database"] == "unavailable: OSError"
    store.close()


def test_metrics_count_what_the_ingest_stored_and_refused(tmp_path):
    store = HubStore(tmp_path / "hub.db")
    before = metrics.REFUSED.labels("out-of-range")._value.get()
    offline_hub(store)._process([tel("V007", {"gps.lat": 1e9}), tel("V008", {"outbox_pending": 1})])
    assert metrics.REFUSED.labels("out-of-range")._value.get() == before + 1
    assert "governorate_quarantine_last_day 1.0" in metrics.exposition(store).decode()
    store.close()


# --- the systemd units ----------------------------------------------------------------------------


def _unit(name):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(UNITS / name)
    return parser


@pytest.mark.parametrize("name", ["governorate-ingest.service", "governorate-web.service",
                                  "governorate-releases.service"])
def test_the_hub_units_notify_are_watched_restarted_and_hardened(name):
    service = _unit(name)["Service"]
    assert service["Type"] == "notify" and int(service["WatchdogSec"]) > 0 and service["Restart"] == "always"
    assert service["ExecStart"].startswith(INSTALLED + " ")
    assert service["User"] == "governorate" and service["ExecStartPre"] == f"{INSTALLED} db migrate"
    for key, value in {"ProtectSystem": "strict", "NoNewPrivileges": "yes", "PrivateTmp": "yes",
                       "ProtectHome": "yes", "PrivateDevices": "yes"}.items():
        assert service[key] == value, key
    assert service["ReadWritePaths"] == "/var/lib/governorate"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze missing: apt-get install systemd")
def test_systemd_analyze_verify_accepts_the_hub_units(tmp_path):
    assert verify_units(UNITS, INSTALLED, ROOT / ".venv" / "bin" / "governorate", tmp_path) == {}

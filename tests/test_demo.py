"""The README's demo command: broker, hub and van come up, the pages answer at the URLs the README names,
and a request registered at the van's console arrives at the governorate hub."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.http_client import HttpClient
from tests.support.mqtt_broker import free_port
from tests.support.web_support import login, register_request

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def demo(tmp_path):
    ports = {"EDGE_DEMO_PORT": free_port(), "EDGE_DEMO_HUB_PORT": free_port(), "EDGE_DEMO_MQTT_PORT": free_port()}
    env = {**os.environ, "EDGE_DEMO_DIR": str(tmp_path / "demo"), **{k: str(v) for k, v in ports.items()}}
    env.pop("EDGE_CONFIG", None)
    log = open(tmp_path / "demo.log", "w")
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "demo.py")], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{ports['EDGE_DEMO_PORT']}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if "demo van is running" in (tmp_path / "demo.log").read_text():
            break
        assert proc.poll() is None, (tmp_path / "demo.log").read_text()
        time.sleep(0.3)
    else:
        pytest.fail("the demo did not come up:\n" + (tmp_path / "demo.log").read_text())
    yield base, f"http://127.0.0.1:{ports['EDGE_DEMO_HUB_PORT']}", tmp_path / "demo"
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


def test_demo_serves_kiosk_console_display_and_a_request_reaches_the_hub(demo):
    base, hub_url, folder = demo
    client = HttpClient(base)
    for path in ("/", "/display/", "/operator/login", "/api/health"):
        assert client.get(path).status_code == 200, path
    login(client, (1, "", "1234"))
    number = register_request(client)

    from governorate.store import HubStore

    store = HubStore(folder / "hub" / "hub.db")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and store.request(number) is None:
        time.sleep(0.5)
    assert store.request(number) is not None, "the request never reached the hub"
    assert HttpClient(hub_url).get("/").status_code in (200, 302)


def test_demo_help_says_how_and_starts_nothing():
    # A usability review: --help started the whole demo on the fixed ports.
    import subprocess
    import sys

    from tests.support.paths import ROOT

    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py"), "--help"], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0 and "EDGE_DEMO_PORT" in done.stdout
    wrong = subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py"), "--bogus"], capture_output=True,
                           text=True, timeout=30)
    assert wrong.returncode != 0 and "no arguments" in wrong.stderr

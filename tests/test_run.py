"""``edge run`` starts the van, serves its health endpoint, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_edge_run_serves_health_and_stops_on_sigterm(tmp_path):
    port = _free_port()
    env = {**os.environ, "EDGE_DATA_DIR": str(tmp_path), "EDGE_CONFIG": ""}
    env.pop("EDGE_CONFIG")
    config = tmp_path / "van.toml"
    config.write_text(f'[van]\nid = "V003"\ngovernorate = "21"\n[web]\nport = {port}\n')
    proc = subprocess.Popen([sys.executable, "-m", "edge.cli", "--config", str(config), "run"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as resp:
                    health = json.load(resp)
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "edge run did not start serving"
                time.sleep(0.2)
        assert health["van"] == "V003" and health["governorate"] == "21"
        assert health["outbox"]["pending"] == 0
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (tmp_path / "van.db").exists()

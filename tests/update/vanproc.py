"""The van's units, as the update tests restart them: ``python -m tests.update.vanproc SOFTWARE PORT``.

What ``systemctl restart edge.target`` does on a van, for the one unit the health check looks at: stop the
web process that runs (its pid in SOFTWARE/web.pid), start ``SOFTWARE/current/venv/bin/edge web`` — whatever
version ``current`` names now — in its own session (it outlives this command, as a unit outlives systemctl), and
return once it accepts connections on PORT or has exited.

Modelled: a blocking ``systemctl restart`` of a ``Type=notify`` unit, which returns at the unit's READY=1 — and the
real ``edge web`` sends READY=1 only once its web server is bound (edge.runner; tested with the real process in
tests/test_sdnotify.py, ``test_edge_web_is_ready_only_once_its_port_accepts_connections``). The test releases'
``edge`` (tests/update/support.py) sends no READY=1, so the port accepting stands in for it. Not modelled: the van's
edge-update-check.service restarts with ``--no-block`` (systemctl returns before the start; the health check then
waits for it within its deadline), while ``settle`` here, as every restart the tests make, waits for the port. So a
healthy version passes at its first answer here; on a van its start-up is spent within the deadline (180 s there).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def stop(software: Path) -> None:
    try:
        pid = int((software / "web.pid").read_text())
    except (OSError, ValueError):
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        if not _alive(pid):
            return
        time.sleep(0.02)
    os.killpg(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Running (a zombie no one reaps yet — its parent, the restart command, is gone — counts as stopped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def start(software: Path, port: int) -> None:
    stop(software)
    edge = software / "current" / "venv" / "bin" / "edge"
    if not edge.exists():
        return
    env = {**os.environ, "EDGE_TEST_PORT": str(port), "EDGE_TEST_SURROUNDINGS": str(software / "surroundings.json")}
    log = open(software / "web.log", "ab")  # noqa: SIM115 - the child keeps it
    proc = subprocess.Popen([str(edge), "web"], env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    (software / "web.pid").write_text(str(proc.pid))
    _ready(proc, port)


READY_TIMEOUT_S = 90.0  # systemd's TimeoutStartSec (edge-web.service sets none)


def _ready(proc: subprocess.Popen, port: int) -> None:
    """Wait until ``proc`` accepts connections on ``port`` or has exited (then the check finds it dead)."""
    end = time.monotonic() + READY_TIMEOUT_S
    while proc.poll() is None and time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.01)


if __name__ == "__main__":
    if sys.argv[1] == "stop":
        stop(Path(sys.argv[2]))
    else:
        start(Path(sys.argv[1]), int(sys.argv[2]))

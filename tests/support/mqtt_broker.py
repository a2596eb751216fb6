"""A real Mosquitto broker for tests: started on a free loopback port, stoppable and restartable."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_mosquitto(conf: Path, *ports: int, timeout: float = 10.0) -> subprocess.Popen:
    """Mosquitto on ``conf``, returned once it accepts connections on every one of ``ports`` (its errors if it
    exits).

    Mosquitto opens its listeners one after the other, a TLS one only once its keys are read: under load the
    second can come seconds after the first, so a test waits for each listener it will use.
    """
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    waiting = list(ports)
    while waiting and time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", waiting[0]), timeout=0.2).close()
            waiting.pop(0)
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {proc.stderr.read().decode()}") from None
            time.sleep(0.05)
    if not waiting:
        return proc
    proc.kill()
    proc.wait()
    raise RuntimeError(f"mosquitto does not listen on {waiting[0]} after {timeout:.0f} s")


def stop_process(proc: subprocess.Popen | None) -> None:
    """Terminate ``proc`` (kill it if it does not end within 5 s)."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Broker:
    def __init__(self, folder: Path, port: int | None = None, extra: str = ""):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.conf = self.folder / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence false\n"
            "max_inflight_messages 0\n"
            "max_queued_messages 0\n"
            "log_dest none\n" + extra
        )
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> Broker:
        self.proc = start_mosquitto(self.conf, self.port)
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def restart(self, pause_s: float = 0.0) -> None:
        self.stop()
        time.sleep(pause_s)
        self.start()

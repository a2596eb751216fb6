"""sd_notify: readiness and watchdog pings reach a socket the test plays systemd on; a stalled process is reported."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from common import sdnotify


class FakeSystemd:
    """A unix datagram socket standing for systemd's notify socket; collects what the process says."""

    def __init__(self, address: str):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + address[1:] if address.startswith("@") else address)
        self.sock.settimeout(0.05)
        self.messages: list[str] = []

    def collect(self, seconds: float) -> list[str]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.messages.extend(self.sock.recv(4096).decode().split("\n"))
            except TimeoutError:
                pass
        return self.messages

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(params=["path", "abstract"])
def systemd(request, tmp_path, monkeypatch):
    address = str(tmp_path / "notify") if request.param == "path" else f"@mtc-test-{os.getpid()}-{id(request)}"
    fake = FakeSystemd(address)
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    monkeypatch.setenv("WATCHDOG_USEC", "100000")  # WatchdogSec=0.1 s: a ping every 50 ms
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    yield fake
    fake.close()


def test_without_systemd_every_call_is_a_no_op(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert sdnotify.ready() is False and sdnotify.notify("WATCHDOG=1") is False
    assert sdnotify.watchdog_interval() is None
    stop = threading.Event()
    stop.set()
    sdnotify.Watchdog(lambda: True).run(stop)  # returns at once, sends nothing


def test_ready_and_status_reach_systemd(systemd):
    assert sdnotify.ready("serving on 127.0.0.1:8080")
    assert sdnotify.status("draining 12 messages")
    assert systemd.collect(0.2)[:3] == ["READY=1", "STATUS=serving on 127.0.0.1:8080", "STATUS=draining 12 messages"]


def test_watchdog_interval_is_half_of_watchdog_sec_and_only_for_our_pid(systemd, monkeypatch):
    assert sdnotify.watchdog_interval() == pytest.approx(0.05)
    monkeypatch.setenv("WATCHDOG_PID", "1")  # meant for another process (e.g. our parent)
    assert sdnotify.watchdog_interval() is None


def test_a_process_that_stops_pinging_is_reported(systemd):
    alive = threading.Event()
    alive.set()
    stop = threading.Event()
    dog = sdnotify.Watchdog(alive.is_set, problem=lambda: "sync thread stopped")
    thread = threading.Thread(target=dog.run, args=(stop,), daemon=True)
    thread.start()
    pings_while_alive = systemd.collect(0.4).count("WATCHDOG=1")
    assert pings_while_alive >= 4  # ≈ 8 in 0.4 s at one per 50 ms

    alive.clear()  # the service thread dies
    seen = len(systemd.messages)
    after = systemd.collect(0.4)[seen:]
    assert "STATUS=unhealthy: sync thread stopped" in after
    assert "WATCHDOG=trigger" in after  # systemd restarts it now, not a watchdog period later
    everything = systemd.collect(0.4)
    assert "WATCHDOG=1" not in everything[everything.index("WATCHDOG=trigger"):]  # silent for good
    assert dog.failed
    stop.set()
    thread.join(timeout=2)
    assert not thread.is_alive()


def test_run_until_stopped_pings_while_all_threads_live_then_says_stopping(systemd):
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait, name="web", daemon=True)
    worker.start()
    main = threading.Thread(target=sdnotify.run_until_stopped, args=(stop, [worker], "van V001"), daemon=True)
    main.start()
    messages = systemd.collect(0.3)
    assert messages[:2] == ["READY=1", "STATUS=van V001"]
    assert messages.count("WATCHDOG=1") >= 3
    stop.set()
    main.join(timeout=2)
    assert systemd.collect(0.1)[-1] == "STOPPING=1"


def test_run_until_stopped_names_the_dead_thread(systemd):
    stop = threading.Event()
    dead = threading.Thread(target=lambda: None, name="sync")
    dead.start()
    dead.join()
    main = threading.Thread(target=sdnotify.run_until_stopped, args=(stop, [dead]), daemon=True)
    main.start()
    messages = systemd.collect(0.3)
    assert "STATUS=unhealthy: stopped: sync" in messages and "WATCHDOG=trigger" in messages
    stop.set()
    main.join(timeout=2)


def test_a_loop_that_stops_turning_is_reported_though_its_thread_lives(systemd):
    # The hub's ingest: a thread blocked for ever (a database lock) is alive and useless.
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait, name="ingest", daemon=True)
    worker.start()
    turned = [True]
    main = threading.Thread(target=sdnotify.run_until_stopped, daemon=True,
                            args=(stop, [worker], "hub", lambda: None if turned[0] else "ingest loop stuck for 90 s"))
    main.start()
    assert "WATCHDOG=1" in systemd.collect(0.2)
    turned[0] = False
    messages = systemd.collect(0.3)
    assert "STATUS=unhealthy: ingest loop stuck for 90 s" in messages and "WATCHDOG=trigger" in messages
    stop.set()
    main.join(timeout=2)


def test_ready_only_once_every_service_is_ready(systemd):
    stop = threading.Event()
    web_ready = threading.Event()
    worker = threading.Thread(target=stop.wait, name="web", daemon=True)
    worker.start()
    main = threading.Thread(target=sdnotify.run_until_stopped, daemon=True,
                            args=(stop, [worker], "van V001"), kwargs={"ready": {"web": web_ready}})
    main.start()
    assert "READY=1" not in systemd.collect(0.3)  # the web server is not bound yet: no pings either
    web_ready.set()
    assert systemd.collect(0.3)[:2] == ["READY=1", "STATUS=van V001"]
    stop.set()
    main.join(timeout=2)


def test_no_ready_when_a_service_dies_or_is_late(systemd):
    stop = threading.Event()
    dead = threading.Thread(target=lambda: None, name="web")
    dead.start()
    dead.join()
    first = threading.Thread(target=sdnotify.run_until_stopped, daemon=True,
                             args=(stop, [dead]), kwargs={"ready": {"web": threading.Event()}, "ready_timeout": 30})
    first.start()
    assert "READY=1" not in systemd.collect(0.3)
    assert "STATUS=not ready: stopped: web (waiting for web)" in systemd.messages
    assert "WATCHDOG=trigger" in systemd.messages  # the watchdog still says it
    stop.set()
    first.join(timeout=2)

    stop = threading.Event()
    alive = threading.Thread(target=stop.wait, name="web", daemon=True)
    alive.start()
    main = threading.Thread(target=sdnotify.run_until_stopped, daemon=True,
                            args=(stop, [alive]), kwargs={"ready": {"web": threading.Event()}, "ready_timeout": 0.2})
    main.start()
    messages = systemd.collect(0.5)
    assert "READY=1" not in messages and "STATUS=not ready: not ready after 0 s (waiting for web)" in messages
    assert "WATCHDOG=1" in messages  # the watchdog behaviour is kept
    stop.set()
    main.join(timeout=2)


def test_run_with_watchdog_raises_the_workers_error_so_the_process_exits_non_zero(systemd):
    def crash():
        raise RuntimeError("broker certificate unreadable")

    with pytest.raises(RuntimeError, match="broker certificate unreadable"):
        sdnotify.run_with_watchdog(crash, threading.Event(), "sync")
    assert "READY=1" in systemd.collect(0.1)


def test_a_missing_socket_does_not_break_the_process(tmp_path, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    assert sdnotify.notify("WATCHDOG=1") is False


@pytest.mark.parametrize("command", ["run", "sync"])
def test_edge_processes_tell_systemd_they_are_ready_and_keep_pinging(tmp_path, command):
    """The real process, as systemd would start it (Type=notify, WatchdogSec=1): READY=1, then pings.

    The broker is absent: a van without network must still count as running, not be restarted.
    """
    import subprocess
    import sys

    from tests.support.mqtt_broker import free_port

    address = f"@mtc-{command}-{os.getpid()}"
    fake = FakeSystemd(address)
    config = tmp_path / "van.toml"
    config.write_text(f'[van]\nid = "V003"\ngovernorate = "21"\n[web]\nport = {free_port()}\n'
                      f'[broker]\nurl = "mqtt://127.0.0.1:{free_port()}"\n')
    env = {k: v for k, v in os.environ.items() if k != "EDGE_CONFIG"}
    env.update(EDGE_DATA_DIR=str(tmp_path), NOTIFY_SOCKET=address, WATCHDOG_USEC="1000000")
    proc = subprocess.Popen([sys.executable, "-m", "edge.cli", "--config", str(config), command], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while "READY=1" not in fake.messages and time.monotonic() < deadline:
            fake.collect(0.2)
        assert "READY=1" in fake.messages
        expected = "STATUS=sync running" if command == "sync" else "STATUS=van V003: "
        assert any(m.startswith(expected) for m in fake.messages), fake.messages
        before = fake.messages.count("WATCHDOG=1")
        fake.collect(1.6)
        assert fake.messages.count("WATCHDOG=1") - before >= 2  # one every 0.5 s
        proc.terminate()
        assert proc.wait(timeout=20) == 0
        assert "STOPPING=1" in fake.collect(0.3)
    finally:
        if proc.poll() is None:
            proc.kill()
        fake.close()


def test_edge_web_is_ready_only_once_its_port_accepts_connections(tmp_path):
    """The real ``edge web`` (edge-web.service, Type=notify): when READY=1 arrives — when ``systemctl restart``
    returns on a van — the kiosk's port already accepts a connection (the server is bound before it is said)."""
    import subprocess
    import sys

    from tests.support.mqtt_broker import free_port

    address = f"@mtc-web-ready-{os.getpid()}"
    fake = FakeSystemd(address)
    port = free_port()
    config = tmp_path / "van.toml"
    config.write_text(f'[van]\nid = "V003"\ngovernorate = "21"\n[web]\nhost = "127.0.0.1"\nport = {port}\n'
                      f'[broker]\nurl = "mqtt://127.0.0.1:{free_port()}"\n')
    env = {k: v for k, v in os.environ.items() if k != "EDGE_CONFIG"}
    env.update(EDGE_DATA_DIR=str(tmp_path), NOTIFY_SOCKET=address, WATCHDOG_USEC="30000000")
    proc = subprocess.Popen([sys.executable, "-m", "edge.cli", "--config", str(config), "web"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        fake.sock.settimeout(60)
        while True:  # READY=1 as soon as it comes, nothing in between
            messages = fake.sock.recv(4096).decode().split("\n")
            fake.messages.extend(messages)
            if "READY=1" in messages:
                break
        socket.create_connection(("127.0.0.1", port), timeout=5).close()  # refused if READY=1 came first
        proc.terminate()
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        fake.close()

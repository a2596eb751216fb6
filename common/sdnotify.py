"""Tell systemd how a process is doing (sd_notify): ready, still alive, status; stdlib only (the van's
processes and the hub's).

Outside systemd ($NOTIFY_SOCKET unset) every call is a no-op, so the same code runs under
``edge run`` in a terminal. The watchdog pings only while the process's service threads are alive:
a process whose sync or web thread died, or whose main loop hangs, stops pinging, and systemd
(``WatchdogSec=``) kills and restarts it. When the check fails we also say so at once
(``STATUS=`` and ``WATCHDOG=trigger``) instead of letting systemd find out a period later.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

log = logging.getLogger("common.sdnotify")


def notify(*states: str) -> bool:
    """Send ``states`` ("READY=1", "WATCHDOG=1", "STATUS=…") to systemd; False when not under systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # an abstract socket: no file, its name starts with a NUL byte
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto("\n".join(states).encode(), address)
        return True
    except OSError as exc:
        # A lost notification must never take the van down; systemd's timeouts cover it.
        log.warning("sd_notify to %s failed: %s", os.environ.get("NOTIFY_SOCKET"), exc)
        return False


def ready(status: str = "") -> bool:
    return notify("READY=1", *([f"STATUS={status}"] if status else []))


def status(text: str) -> bool:
    return notify(f"STATUS={text}")


def stopping() -> bool:
    return notify("STOPPING=1")


def watchdog_interval() -> float | None:
    """Seconds between pings (half of WatchdogSec=), or None when no watchdog is asked for this process."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return max(int(usec) / 1e6 / 2, 0.01)
    except ValueError:
        return None


class Watchdog:
    """Pings systemd every ``interval`` seconds while ``alive()`` is true, until ``stop`` is set.

    When ``alive()`` turns false it reports why (``alive`` may return a reason via ``problem()``),
    triggers the watchdog and stops pinging for good: the process is no longer trusted to be whole.
    """

    def __init__(self, alive: Callable[[], bool], *, interval: float | None = None,
                 problem: Callable[[], str] = lambda: "a service thread stopped"):
        self.alive = alive
        self.interval = interval if interval is not None else watchdog_interval()
        self.problem = problem
        self.failed = False

    def run(self, stop: threading.Event) -> None:
        if self.interval is None:
            stop.wait()
            return
        while not stop.is_set():
            if not self.alive():
                self.failed = True
                reason = self.problem()
                log.error("watchdog: %s; no more pings, systemd will restart this process", reason)
                notify(f"STATUS=unhealthy: {reason}", "WATCHDOG=trigger")
                stop.wait()
                return
            notify("WATCHDOG=1")
            stop.wait(self.interval)


def run_until_stopped(stop: threading.Event, threads: list[threading.Thread], status_text: str = "",
                      hung: Callable[[], str | None] = lambda: None, *,
                      ready: dict[str, threading.Event] | None = None, ready_timeout: float = 60.0) -> None:
    """For a main thread whose work runs in ``threads``: ready once every event in ``ready`` is set (a service
    that serves: its socket bound), watchdog while all live (and ``hung()`` names no problem: a loop that stopped
    turning), until ``stop``.

    READY=1 is not sent when a thread dies first, or when ``ready_timeout`` passes first (systemd's start timeout
    then restarts the process); the watchdog runs either way."""

    def problem() -> str:
        dead = [t.name for t in threads if not t.is_alive()]
        return "stopped: " + ", ".join(dead) if dead else (hung() or "")

    if _wait_ready(stop, threads, ready or {}, ready_timeout):
        notify("READY=1", *([f"STATUS={status_text}"] if status_text else []))
    Watchdog(lambda: all(t.is_alive() for t in threads) and hung() is None, problem=problem).run(stop)
    stopping()


def _wait_ready(stop: threading.Event, threads: list[threading.Thread], events: dict[str, threading.Event],
                timeout: float) -> bool:
    """True once every event is set; False if ``stop`` is set, a thread dies or ``timeout`` passes first."""
    end = time.monotonic() + timeout
    while True:
        waiting = [name for name, event in events.items() if not event.is_set()]
        if not waiting:
            return True
        if stop.is_set():
            return False
        dead = [t.name for t in threads if not t.is_alive()]
        if dead or time.monotonic() >= end:
            reason = "stopped: " + ", ".join(dead) if dead else f"not ready after {timeout:.0f} s"
            log.error("not telling systemd the process is ready (%s; waiting for: %s)", reason, ", ".join(waiting))
            status(f"not ready: {reason} (waiting for {', '.join(waiting)})")
            return False
        stop.wait(0.05)


def run_with_watchdog(target: Callable[[], None], stop: threading.Event, name: str, status_text: str = "",
                      hung: Callable[[], str | None] = lambda: None) -> None:
    """Run ``target`` (a loop that ends when ``stop`` is set) in a thread, with readiness and watchdog.

    If ``target`` raises, the exception is raised here after the watchdog loop ends, so the process
    exits non-zero and systemd restarts it.
    """
    errors: list[BaseException] = []

    def body() -> None:
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)
        finally:
            stop.set()

    worker = threading.Thread(target=body, name=name, daemon=True)
    worker.start()
    run_until_stopped(stop, [worker], status_text, hung)
    worker.join(timeout=30)
    if errors:
        raise errors[0]

"""``edge run``: every van process in one, as threads, restarted with back-off if one crashes."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

from edge.config import Settings

log = logging.getLogger("edge.run")

HOUSEKEEPING_INTERVAL_S = 3600
PRINTED_JOBS_DAYS = 2
# How long the services may take to be ready before the process says it is not (and sends no READY=1): under
# systemd's default TimeoutStartSec (90 s), which then restarts it.
READY_TIMEOUT_S = 75.0


@dataclass
class Service:
    name: str
    # Runs until ``stop`` is set; returning early or raising counts as a crash.
    target: Callable[[threading.Event], None]
    # Set by the service once it serves (the web server bound): systemd hears READY=1 only when every such event is
    # set (edge-web.service is Type=notify: ``systemctl restart`` returns then). None: ready as soon as it starts.
    ready: threading.Event | None = None


def services(settings: Settings, host: str, port: int) -> list[Service]:
    web_ready = threading.Event()
    return [
        Service("housekeeping", lambda stop: _housekeeping(settings, stop)),
        Service("web", lambda stop: _web(settings, host, port, stop, web_ready), ready=web_ready),
        Service("sync", lambda stop: _sync(settings, stop)),
        Service("watch", lambda stop: _watch(settings, stop)),
    ]


# The devices each service opens (the web process owns printer, scanner and QR reader; watch the rest).
SERVICE_DEVICES = {"web": ("printer", "scanner", "qr"), "watch": ("gps", "modem", "camera")}


def run_all(settings: Settings, host: str | None = None, port: int | None = None,
            only: tuple[str, ...] | None = None) -> None:
    """Run the van's services (``only`` these, by name, when given: the systemd units split them)."""
    from edge.config import check_devices, load_catalogue
    from edge.store.db import open_db
    from edge.store.migrations import migrate

    with open_db(settings.db_path) as db:
        migrate(db)
    # Refuse to start on a broken catalogue rather than fail later in front of a citizen.
    cat = load_catalogue(settings)
    # And on a device URL its device would refuse: a clear message at boot, not a service restarting for ever.
    chosen = [name for name in SERVICE_DEVICES if only is None or name in only]
    check_devices(settings, tuple(kind for name in chosen for kind in SERVICE_DEVICES[name]))
    log.info("van %s (governorate %s), catalogue v%s with %d services, data in %s",
             settings.van.id, settings.van.governorate, cat.version, len(cat.services), settings.data_dir)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    chosen_services = [svc for svc in services(settings, host or settings.web.host, port or settings.web.port)
                       if only is None or svc.name in only]
    threads = [threading.Thread(target=_supervise, args=(svc, stop), name=svc.name, daemon=True)
               for svc in chosen_services]
    for t in threads:
        t.start()
    from common import sdnotify  # under systemd: ready once the web server listens; pings while every thread lives

    sdnotify.run_until_stopped(stop, threads, f"van {settings.van.id}: {len(threads)} services running",
                               ready={svc.name: svc.ready for svc in chosen_services if svc.ready is not None},
                               ready_timeout=READY_TIMEOUT_S)
    log.info("stopping")
    for t in threads:
        t.join(timeout=10)


def _supervise(svc: Service, stop: threading.Event) -> None:
    delay = 1.0
    while not stop.is_set():
        try:
            svc.target(stop)
            if stop.is_set():
                return
            log.error("%s stopped by itself; restarting in %.0f s", svc.name, delay)
        except Exception:
            log.exception("%s crashed; restarting in %.0f s", svc.name, delay)
        stop.wait(delay)
        delay = min(delay * 2, 60.0)


def _housekeeping(settings: Settings, stop: threading.Event) -> None:
    from edge.store.db import open_db

    with open_db(settings.db_path) as db:
        _purge_until_stopped(settings, db, stop)


def _purge_until_stopped(settings: Settings, db, stop: threading.Event) -> None:
    from edge.store import clock, retention, sweep

    while not stop.is_set():
        removed = retention.purge(
            db, clock.now(),
            delivered_outbox_days=settings.retention.delivered_outbox_days,
            device_events_days=settings.retention.device_events_days,
        )
        if any(removed.values()):
            log.info("retention purge: %s", removed)
        # Printed papers are kept a couple of days for "was it printed?" questions, then go: they carry
        # the citizen's masked name and the receipt's code.
        from datetime import timedelta

        from edge.store import print_jobs

        printed = print_jobs.purge_printed(db, clock.now() - timedelta(days=PRINTED_JOBS_DAYS))
        if printed:
            log.info("retention purge: %d printed papers", printed)
        erased = retention.purge_personal_data(db, settings.documents_dir, clock.now(),
                                               personal_data_days=settings.retention.personal_data_days)
        if any(erased.values()):
            log.info("personal data erased after retention: %s", erased)
        # Files a stopped process left that no request or draft names (see edge.store.sweep).
        sweep.sweep(db, settings.documents_dir)
        stop.wait(HOUSEKEEPING_INTERVAL_S)


def sync_agent(settings: Settings):
    """The van's sync agent, with the updater's end of a release sent down in chunks (kept under the data dir;
    the root unit edge-update.path applies it, and keeps its state in its own folder: docs/updates.md)."""
    from pathlib import Path

    from edge.sync.agent import SyncAgent
    from edge.update.incoming import Incoming

    return SyncAgent(settings, updates=Incoming(Path(settings.data_dir) / "update" / "staging",
                                                 state_file=Path(settings.update.state_dir) / "state.json"))


def _sync(settings: Settings, stop: threading.Event) -> None:
    agent = sync_agent(settings)
    if settings.update.https_url:
        fetch = release_fetch(settings, agent)
        threading.Thread(target=fetch.run, args=(stop,), name="release-fetch", daemon=True).start()
    agent.run(stop)


def release_fetch(settings: Settings, agent):
    """With ``update.https_url``: the van fetches the release offered to it from the hub's release server, with its
    MQTT identity, only while nothing of its own waits to go (edge.update.https; docs/updates.md)."""
    from edge.store import outbox
    from edge.store.db import open_db
    from edge.update.https import HttpsFetch

    local = threading.local()

    def busy() -> bool:
        if not hasattr(local, "db"):  # the fetcher's own connection, in its own thread
            local.db = open_db(settings.db_path, must_exist=True)
        return bool(outbox.pending(local.db, limit=1))

    b = settings.broker
    return HttpsFetch(agent.updates, settings.update.https_url, ca_file=b.ca_file, cert_file=b.cert_file,
                      key_file=b.key_file, busy=busy, report=agent.report_update)


def _web(settings: Settings, host: str, port: int, stop: threading.Event,
         ready: threading.Event | None = None) -> None:
    from waitress.server import create_server

    from edge.web.app import create_app

    server = create_server(create_app(settings), host=host, port=port, threads=8)  # binds and listens
    log.info("web UI on http://%s:%d/", host, port)
    if ready is not None:
        ready.set()  # connections queue in the listening socket until server.run() serves them
    threading.Thread(target=lambda: (stop.wait(), server.close()), daemon=True).start()
    try:
        server.run()
    except OSError:
        if not stop.is_set():
            raise


def _watch(settings: Settings, stop: threading.Event) -> None:
    from edge.services.watch import run

    run(settings, stop)

"""The QR reader's place in the web app: the process that serves the kiosk owns the reader, keeps its
status row up to date, and hands each code read to the kiosk page that is waiting for one."""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app

from edge.devices.qr import QrReader, open_reader
from edge.store import device_status
from edge.store.db import open_db

log = logging.getLogger(__name__)

EXTENSION = "edge_qr_reader"
STATUS_EVERY_S = 10.0


def init_app(app: Flask) -> None:
    """Open the reader of ``devices.qr``; start it (and its status reports) unless ``QR_READER`` is False."""
    settings = app.config["EDGE_SETTINGS"]
    app.config.setdefault("QR_READER", True)
    app.config.setdefault("QR_POLL_S", 20.0)
    reader = open_reader(settings.devices.qr)
    app.extensions[EXTENSION] = reader
    if app.config["QR_READER"]:
        reader.start()
        threading.Thread(target=_report_status, args=(reader, settings.db_path), name="qr-status",
                         daemon=True).start()


def reader(app: Flask | None = None) -> QrReader | None:
    return (app or current_app).extensions.get(EXTENSION)


def _report_status(reader: QrReader, db_path) -> None:
    """The reader's state in ``device_status`` ("qr"), for the console's status page and the telemetry."""
    pause = threading.Event()  # never set: only its timed wait is used
    while reader.running:
        try:
            st = reader.status()
            # Opened for each report (every 10 s) rather than held: no file handles kept by an idle thread.
            # Status rows can be rebuilt: no full sync to disk for each heartbeat (edge.store.db.open_db).
            with open_db(db_path, durable=False) as db:
                device_status.report(db, "qr", "qr", st.state, message_ar=st.message_ar, message_en=st.message_en,
                                     detail={"detail": st.detail} if st.detail else {})
        except Exception:  # noqa: BLE001 - a busy database must not end the reports
            log.exception("could not record the QR reader's status")
        pause.wait(STATUS_EVERY_S)


def wait_for_codes(after: int | None, epoch: str | None) -> dict:
    """What ``GET /qr/events`` answers: a page that just opened learns where "now" is (never old scans);
    afterwards it waits up to ``QR_POLL_S`` for codes after ``after``."""
    r = reader()
    if r is None:
        return {"epoch": "", "last": 0, "events": []}
    events = r.events
    if after is None:
        return {"epoch": events.epoch, "last": events.latest_seq(), "events": []}
    if epoch != events.epoch:  # the process restarted since the page's last call
        after = 0
    found = events.wait_next(after, timeout=float(current_app.config["QR_POLL_S"]))
    last = found[-1].seq if found else min(after, events.latest_seq())
    return {"epoch": events.epoch, "last": last, "events": [{"seq": e.seq, "text": e.text} for e in found]}

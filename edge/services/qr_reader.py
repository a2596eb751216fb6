"""The QR reader as a service: the process that serves the kiosk owns the reader, keeps its status row up
to date, and hands each code read to the page that is waiting for one (no Flask here; see edge.web.qr_reader)."""

from __future__ import annotations

import logging
import threading

from edge.devices.qr import QrReader, open_reader
from edge.store import device_status
from edge.store.db import StoreUnavailable, open_db

log = logging.getLogger(__name__)

STATUS_EVERY_S = 10.0


class QrService:
    """The reader of ``devices.qr``; started (with its status reports) unless ``autostart`` is False."""

    def __init__(self, settings, *, autostart: bool = True):
        self.reader: QrReader = open_reader(settings.devices.qr)
        if autostart:
            self.reader.start()
            threading.Thread(target=_report_status, args=(self.reader, settings.db_path), name="qr-status",
                             daemon=True).start()

    def wait_for_codes(self, after: int | None, epoch: str | None, poll_s: float) -> dict:
        """What ``GET /qr/events`` answers: a page that just opened learns where "now" is (never old scans);
        afterwards it waits up to ``poll_s`` for codes after ``after``."""
        events = self.reader.events
        if after is None:
            return {"epoch": events.epoch, "last": events.latest_seq(), "events": []}
        if epoch != events.epoch:  # the process restarted since the page's last call
            after = 0
        found = events.wait_next(after, timeout=poll_s)
        last = found[-1].seq if found else min(after, events.latest_seq())
        return {"epoch": events.epoch, "last": last, "events": [{"seq": e.seq, "text": e.text} for e in found]}


def _report_status(reader: QrReader, db_path) -> None:
    """The reader's state in ``device_status`` ("qr"), for the console's status page and the telemetry."""
    pause = threading.Event()  # never set: only its timed wait is used
    missing = False
    while reader.running:
        try:
            st = reader.status()
            # Opened for each report (every 10 s) rather than held: no file handles kept by an idle thread.
            # Status rows can be rebuilt: no full sync to disk for each heartbeat (edge.store.db.open_db).
            # must_exist: a heartbeat never creates the van database. Were the file gone (a card pulled, a
            # data folder not mounted), an empty one in its place would hide that from the health check.
            with open_db(db_path, durable=False, must_exist=True) as db:
                device_status.report(db, "qr", "qr", st.state, message_ar=st.message_ar, message_en=st.message_en,
                                     detail={"detail": st.detail} if st.detail else {})
        except StoreUnavailable as exc:  # said once per outage, not every 10 s
            if not missing:
                log.error("the QR reader's status is not recorded: %s", exc.detail)
            missing = True
        except Exception:  # noqa: BLE001 - a busy database must not end the reports
            log.exception("could not record the QR reader's status")
        else:
            missing = False
        pause.wait(STATUS_EVERY_S)

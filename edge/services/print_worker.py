"""The thread that drains the persistent print queue into the printer and tells the operator how it is.

It lives in ``edge.web`` because it joins the store (the queue, the device status row) and the
device (``edge.devices.printer``), and only ``edge.web`` (and the runner) may import both; it runs in
the web process because that process owns the printer (one owner per wire). See docs/printer.md.

One worker per printer. It is the only code that prints, so jobs print one at a time in the order
they were queued. After a failure it holds the queue and asks the printer for its status every
``held_poll`` seconds; when the printer can print again, the held jobs print by themselves.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path

from edge.core.digits import to_eastern
from edge.devices import printer as printer_mod
from edge.devices.printer.layout import document_from_payload
from edge.devices.printer.status import PrinterError, PrinterStatus
from edge.services import papers
from edge.store import device_status, print_jobs
from edge.store.db import open_db

log = logging.getLogger(__name__)

DEVICE = "printer"  # the device_status row the console shows
MAX_BACKOFF_S = 60.0  # a cycle that keeps failing (the database unreadable …) is retried at most this often


class PrintWorker:
    def __init__(self, db_path: str | Path, printer: printer_mod.Printer, *, idle_poll: float = 15.0,
                 held_poll: float = 2.0, device: str = DEVICE, papers_dir: Path | None = None):
        self.db_path = Path(db_path)
        self.printer = printer
        # Pictures of the last papers printed, for the console (edge.services.papers); None: none kept.
        self.papers_dir = Path(papers_dir) if papers_dir is not None else None
        self.idle_poll = idle_poll
        self.held_poll = held_poll
        self.device = device
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._settled = threading.Condition()
        # job id -> None (printed) or the PrinterError of its last attempt; read by submit() callers.
        self._results: OrderedDict[int, PrinterError | None] = OrderedDict()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._held = False
        self._passes = 0  # finished looks at the queue, for wait_settled
        self._db = None

    # -- life ------------------------------------------------------------------------------------

    def start(self) -> PrintWorker:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="print-worker", daemon=True)
                self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        """A job was queued, or the operator asked to retry: look at the queue now."""
        self._wake.set()

    def wait_settled(self, job_id: int, timeout: float) -> tuple[bool, PrinterError | None]:
        """Wait up to ``timeout`` s for an attempt at ``job_id``: (attempted, error or None).

        Also returns (False, None) once a whole pass has looked at the queue without trying the job
        (the printer is known to be unable to print, or older jobs failed first): waiting longer
        would tell the person nothing new.
        """
        with self._settled:
            # The pass running now may have started before the job was queued; the one after it has not.
            seen = self._passes + 2
            self._settled.wait_for(
                lambda: job_id in self._results or self._passes >= seen or self._stop.is_set(), timeout)
            if job_id not in self._results:
                return False, None
            return True, self._results.pop(job_id)

    # -- the loop ---------------------------------------------------------------------------------

    def _run(self) -> None:
        # Its own connection: the web request threads' connections belong to their requests.
        self._db = open_db(self.db_path)
        try:
            recovered = print_jobs.recover(self._db)
            if recovered:
                log.warning("print jobs %s were printing when the process stopped: they print again, "
                            "marked REPRINT", recovered)
            failures, last = 0, ""
            while not self._stop.is_set():
                try:
                    self.run_once()
                except Exception as exc:  # the loop must outlive any one bad cycle (a locked database …)
                    failures += 1
                    what = f"{type(exc).__name__}: {exc}"
                    if what != last:  # the traceback once per fault, not every cycle (issue 16: a log flood)
                        log.exception("print worker cycle failed; retrying with back-off")
                        last = what
                    elif failures & (failures - 1) == 0:  # after 2, 4, 8 … failures: one line
                        log.error("print worker still failing after %d cycles: %s", failures, what)
                    self._held = True
                    delay = min(self.held_poll * 2 ** min(failures, 16), MAX_BACKOFF_S)
                else:
                    if failures:
                        log.warning("print worker works again after %d failed cycles", failures)
                    failures, last = 0, ""
                    delay = self.held_poll if self._held else self.idle_poll
                self._wake.wait(delay)
                self._wake.clear()
        finally:
            self._db.close()
            self._db = None

    def run_once(self, db=None) -> int:
        """One pass: check the printer if jobs are held, then print every queued job. Returns how many printed."""
        try:
            return self._pass(db or self._db)
        finally:
            with self._settled:
                self._passes += 1
                self._settled.notify_all()

    def _pass(self, db) -> int:
        status = None
        if self._held or not print_jobs.pending(db):
            # Idle: a heartbeat of the printer's state for the console. Held: is it back?
            status = self.printer.status()
            if not status.can_print:
                self._held = True
                self._report(db, status)
                return 0
        self._held = False
        printed = 0
        while not self._stop.is_set():
            job = print_jobs.claim_next(db)
            if job is None:
                break
            try:
                self._print(job)
            except PrinterError as exc:
                log.info("print job %s (%s %s) not printed: %s", job.id, job.kind, job.ref, exc.detail)
                print_jobs.mark_failed(db, job.id, exc.code, detail=exc.detail, sent=exc.sent)
                self._held = True
                self._report(db, self.printer.status(), error=exc)
                self._settle(job.id, exc)
                return printed
            except Exception as exc:
                # A document that cannot be laid out would block every job behind it: take it out of
                # the queue (cancelled, with the reason kept) and say so in the log and the console.
                log.exception("print job %s cannot be printed and is cancelled", job.id)
                print_jobs.mark_failed(db, job.id, "bad-document", detail=repr(exc), sent=False)
                print_jobs.cancel(db, job.id)
                self._settle(job.id, PrinterError("تعذّر تجهيز الورقة للطباعة. اطبعها من المتصفح.",
                                                  "This paper could not be prepared for printing. Print it "
                                                  "from the browser.", detail=repr(exc), code="printer-bad-document"))
                continue
            print_jobs.mark_printed(db, job.id)
            printed += 1
            self._settle(job.id, None)
        if printed or status is None:
            status = self.printer.status()
        self._report(db, status)
        return printed

    def _print(self, job: print_jobs.PrintJob) -> None:
        doc = document_from_payload(job.kind, job.payload)
        # A job that failed before may have left part of itself in the printer's buffer.
        after_failure = job.reason is not None
        for _ in range(job.copies):
            result = self.printer.print_document(doc, reprint=job.reprint, training=job.training,
                                                 after_failure=after_failure)
            after_failure = False
            if self.papers_dir is not None:
                papers.keep(self.papers_dir, job.kind, result.sent, self.printer.profile.paper,
                            training=job.training)

    def _settle(self, job_id: int, result: PrinterError | None) -> None:
        with self._settled:
            self._results[job_id] = result
            while len(self._results) > 256:  # nobody waited for these
                self._results.popitem(last=False)
            self._settled.notify_all()

    def _report(self, db, status: PrinterStatus, *, error: PrinterError | None = None) -> None:
        waiting = len(print_jobs.pending(db))
        if error is not None:
            state, ar, en = "error", error.message_ar, error.message_en
        else:
            state, ar, en = status.state, status.message_ar, status.message_en
        if waiting and state != "ok":
            ar += f" ({to_eastern(waiting)} في انتظار الطباعة)"
            en += f" ({waiting} waiting to print)"
        detail = {**status.as_dict(), "waiting": waiting, "printer": self.printer.description}
        if error is not None:
            detail["problem"] = error.code
        device_status.report(db, self.device, "printer", state, message_ar=ar, message_en=en, detail=detail)

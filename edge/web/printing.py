"""The web app's printer: one :class:`edge.services.printing.PrintService` per app, used by the pages.

:func:`submit` turns a :class:`PrintJob` into a document, stores it in the persistent print queue
(``edge.store.print_jobs``) and wakes the app's :class:`~edge.services.print_worker.PrintWorker`, then waits
a few seconds for the first attempt so the page can say "take your paper" or what to do instead.
A receipt that could not print stays queued and prints by itself once the printer is back; a queue
ticket that could not print is dropped from the queue, because the kiosk has just shown the citizen
the number and a ticket printed minutes later would only confuse the next person (docs/printer.md).
"""

from __future__ import annotations

import logging

from flask import Flask, current_app

from edge.services.print_worker import PrintWorker
from edge.services.printing import NOT_CONNECTED, PrintJob, PrintOutcome, PrintService, document  # noqa: F401
from edge.web import context

log = logging.getLogger(__name__)

EXTENSION = "edge_print_worker"


def init_app(app: Flask) -> None:
    """Open the app's printer (refusing to start without Raqm) and start draining the queue.

    ``PRINT_WORKER=False`` in the app config keeps the thread from starting (tests that want to
    drive :meth:`PrintWorker.run_once` themselves); ``PRINT_WAIT_S`` is how long a page waits for
    the first attempt at its job.
    """
    app.config.setdefault("PRINT_WORKER", True)
    app.config.setdefault("PRINT_WAIT_S", 5.0)
    app.extensions[EXTENSION] = PrintService(
        app.config["EDGE_SETTINGS"], catalogue=app.extensions.get("edge_catalogue"),
        autostart=app.config["PRINT_WORKER"], wait_s=app.config["PRINT_WAIT_S"])


def service(app: Flask | None = None) -> PrintService | None:
    return (app or current_app).extensions.get(EXTENSION)


def worker(app: Flask | None = None) -> PrintWorker | None:
    found = service(app)
    return found.worker if found else None


def submit(job: PrintJob) -> PrintOutcome:
    """Queue ``job`` for the app's printer (see :meth:`PrintService.submit`); never raises."""
    found = service()
    if found is None:
        log.info("print job %s (%s) not printed: this app has no printer", job.kind, job.lang)
        return NOT_CONNECTED
    return found.submit(job, wait_s=current_app.config.get("PRINT_WAIT_S"), catalogue=context.catalogue())


def retry() -> None:
    """The operator fixed the printer and pressed "print waiting papers": look at the queue now."""
    found = service()
    if found is not None:
        found.retry()

"""Tickets and receipts become print jobs here: the service between the screens and the printer.

:meth:`PrintService.submit` turns a :class:`PrintJob` into a document, stores it in the persistent print
queue (``edge.store.print_jobs``) and wakes the :class:`~edge.services.print_worker.PrintWorker`, then
waits a few seconds for the first attempt so the page can say "take your paper" or what to do instead.
A receipt that could not print stays queued and prints by itself once the printer is back; a queue
ticket that could not print is dropped from the queue, because the kiosk has just shown the citizen
the number and a ticket printed minutes later would only confuse the next person (docs/printer.md).
No Flask here: ``edge.web.printing`` keeps one service per app.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from edge.devices import printer as printer_mod
from edge.devices.printer.layout import Receipt, ShiftReport, TicketSlip, mask_name
from edge.devices.printer.status import PrinterError
from edge.services.print_worker import PrintWorker
from edge.store import print_jobs
from edge.store.db import open_db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrintJob:
    """Everything a printer needs, as data: no HTML, no layout.

    kind: "ticket" or "receipt". lang: the citizen's language ("ar" / "en"); receipts are bilingual.
    fields: the printed values (ticket: number, category_ar/en, people_ahead, wait_ar/en, priority,
    issued_at; receipt: number, service_ar/en, citizen_name, national_id_masked, fee_piastres,
    payment_method, payment_reference, expected_ready_on, submitted_at, operator, van).
    qr: the text of the QR code to print (a signed EG1 code, or the bare request number), or None.
    training: True when made in training mode: the printout must say "تدريب / TRAINING".
    """

    kind: str
    lang: str
    fields: dict
    qr: str | None = None
    training: bool = False
    copies: int = 1
    reprint: bool = False
    extra: dict = field(default_factory=dict)


def papers_dir(settings) -> Path:
    """Where the pictures of the last papers printed are kept (edge.services.papers)."""
    return Path(settings.data_dir) / "printed"


@dataclass(frozen=True)
class PrintOutcome:
    printed: bool
    message_ar: str
    message_en: str
    job_id: int | None = None  # the row in the print queue, when the job was queued
    queued: bool = False  # not printed yet, but kept: it prints by itself when the printer is back


NOT_CONNECTED = PrintOutcome(
    False,
    "الطابعة غير متصلة بعد: الورقة معروضة على الشاشة ويمكن طباعتها من المتصفح.",
    "The printer is not connected yet: the paper is shown on screen and can be printed from the browser.",
)
PRINTED = ("تمت الطباعة. خذ الورقة من الطابعة.", "Printed. Take the paper from the printer.")
ON_ITS_WAY = ("أُرسلت الورقة إلى الطابعة وستخرج خلال لحظات.",
              "The paper was sent to the printer and will come out in a moment.")
TICKET_NOT_PRINTED = ("لم نتمكن من طباعة التذكرة الآن. رقمك معروض على الشاشة: احفظه أو صوّر الشاشة. "
                      "تم إبلاغ الموظف.",
                      "The ticket could not be printed now. Your number is on the screen: remember it or take "
                      "a photo of the screen. The staff have been told.")


# --------------------------------------------------------------------------------------------------
# Jobs to documents
# --------------------------------------------------------------------------------------------------


def _text(value) -> str:
    value = getattr(value, "value", value)  # enums (payment method, priority)
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def _service(f: dict, catalogue):
    """The catalogue service of a receipt job (for its code and legal duration), found by code or name."""
    if catalogue is None:
        return None
    code = f.get("service_code")
    if code:
        return catalogue.service(code)
    # A job that names its service only in words (older callers, tests): find it by its names.
    return next((s for s in catalogue.services
                 if s.name_en == f.get("service_en") and s.name_ar == f.get("service_ar")), None)


def document(job: PrintJob, van, catalogue=None) -> Receipt | TicketSlip | ShiftReport:
    """The printable document of a print job; ``van`` is the van's settings (id, name, governorate)."""
    f = job.fields
    if job.kind == "receipt":
        service = _service(f, catalogue)
        return Receipt(
            number=_text(f["number"]),
            service_code=service.code if service else _text(f.get("service_code")),
            service_ar=_text(f.get("service_ar")),
            service_en=_text(f.get("service_en")),
            citizen_name=mask_name(_text(f.get("citizen_name"))),
            fee_piastres=int(f.get("fee_piastres") or 0),
            payment_method=_text(f.get("payment_method")),
            payment_reference=_text(f.get("payment_reference")) or None,
            submitted_at=_text(f["submitted_at"]),
            expected_ready_on=_text(f["expected_ready_on"]),
            duration_days=service.duration_days if service else None,
            van_id=van.id, van_name=van.name, governorate=van.governorate,
            qr=job.qr or _text(f["number"]),
        )
    if job.kind == "ticket":
        return TicketSlip(
            number=_text(f["number"]),
            category_ar=_text(f.get("category_ar")),
            category_en=_text(f.get("category_en")),
            priority=_text(f.get("priority") or "none"),
            issued_at=_text(f["issued_at"]),
            people_ahead=int(f.get("people_ahead") or 0),
            wait_minutes=int(f.get("wait_minutes") or 0),
            van_id=van.id, van_name=van.name, governorate=van.governorate,
            qr=job.qr,
            wait_ar=_text(f.get("wait_ar")) or None,
            wait_en=_text(f.get("wait_en")) or None,
        )
    if job.kind == "zreport":  # fields: edge.store.shifts.message() plus the operator's name
        return ShiftReport(
            shift=int(f["shift"]), operator=_text(f.get("operator_label") or f.get("operator")),
            counter=f.get("counter"), opened_at=_text(f["opened_at"]), closed_at=_text(f["closed_at"]),
            closed_by=_text(f.get("closed_by")), opening_float_piastres=int(f["opening_float_piastres"]),
            counted_cash_piastres=int(f["counted_cash_piastres"]),
            expected_cash_piastres=int(f["expected_cash_piastres"]), difference_piastres=int(f["difference_piastres"]),
            reason=_text(f.get("reason")), confirmed_by=f.get("confirmed_by"), handed_to=f.get("handed_to"),
            totals=dict(f.get("totals") or {}), van_id=van.id, van_name=van.name, governorate=van.governorate,
            qr=job.qr or f"Z{int(f['shift'])}")
    raise ValueError(f"unknown print job kind {job.kind!r}")


# --------------------------------------------------------------------------------------------------
# The service
# --------------------------------------------------------------------------------------------------

NOT_QUEUED = PrintOutcome(
    False,
    "تعذّر إرسال الورقة إلى الطابعة، والطلب نفسه محفوظ. اطبع الورقة من المتصفح أو اعرضها على المواطن.",
    "The paper could not be sent to the printer; the request itself is saved. Print the paper from the "
    "browser or show it to the citizen.",
)


class PrintService:
    """The van's printer as the screens use it: one worker draining one queue.

    ``autostart=False`` keeps the worker's thread from starting (tests that drive
    :meth:`PrintWorker.run_once` themselves); ``wait_s`` is how long a page waits for the first attempt.
    """

    def __init__(self, settings, *, catalogue=None, autostart: bool = True, wait_s: float = 5.0):
        self.settings = settings
        self.catalogue = catalogue
        self.autostart = autostart
        self.wait_s = wait_s
        # Refuses to start without Raqm: better no receipt than receipts with broken Arabic.
        self.worker = PrintWorker(settings.db_path, printer_mod.open_printer(settings.devices.printer),
                                  papers_dir=papers_dir(settings))
        if autostart:
            self.worker.start()

    def submit(self, job: PrintJob, *, wait_s: float | None = None, catalogue=None) -> PrintOutcome:
        """Queue ``job`` for the printer and wait briefly for its first attempt; never raises.

        ``wait_s`` and ``catalogue`` override the service's own for this job (the web app passes its current ones).

        The caller has already committed what the paper is for (a request, a ticket): whatever goes wrong
        here must not turn into an error page saying the action was not saved.
        """
        try:
            return self._submit(job, self.wait_s if wait_s is None else wait_s, catalogue or self.catalogue)
        except Exception:
            log.exception("print job %s %s could not be queued", job.kind, job.fields.get("number"))
            return NOT_QUEUED

    def _submit(self, job: PrintJob, wait_s: float, catalogue) -> PrintOutcome:
        w = self.worker
        if self.autostart:
            w.start()  # no-op while it runs; brings it back if its thread ever died
        doc = document(job, self.settings.van, catalogue)
        # Always the van database, also in training mode: the queue belongs to the one physical printer.
        with open_db(self.settings.db_path) as db:
            job_id = print_jobs.add(db, doc.kind, doc.to_payload(), ref=doc.number,
                                    copies=max(1, min(job.copies, 5)), reprint=job.reprint, training=job.training)
            w.wake()
            attempted, error = w.wait_settled(job_id, wait_s)
            if attempted and error is None:
                return PrintOutcome(True, *PRINTED, job_id=job_id)
            if not attempted:
                found = print_jobs.get(db, job_id)
                if found is not None and found.state == "printed":
                    return PrintOutcome(True, *PRINTED, job_id=job_id)
                if found is not None and found.state == "printing":
                    return PrintOutcome(True, *ON_ITS_WAY, job_id=job_id)
                error = self._held_error()
            if job.kind == "ticket":
                print_jobs.cancel(db, job_id)
                return PrintOutcome(False, *TICKET_NOT_PRINTED, job_id=job_id)
            return PrintOutcome(False, error.message_ar, error.message_en, job_id=job_id, queued=True)

    def _held_error(self) -> PrinterError:
        """Why a job has not printed within the wait: the printer's problem, or a plain "waiting"."""
        found = self.worker.printer.status().error()
        if found is not None:
            return found
        return PrinterError("الورقة في طابور الطباعة وستُطبع تلقائيًا بعد الأوراق التي قبلها.",
                            "The paper is in the print queue and will print by itself after the ones before it.",
                            code="printer-queued")

    def retry(self) -> None:
        """The operator fixed the printer and pressed "print waiting papers": look at the queue now."""
        self.worker.wake()

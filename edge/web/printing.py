"""The one seam between the web UI and the printer: tickets and receipts become print jobs here.

Today no printer driver is connected (issue 5 writes ``edge/devices/printer.py``), so :func:`submit`
reports that nothing was printed and the page shows the ticket or receipt on screen, printable from
the browser. To connect the printer, change only :func:`submit` (see its docstring); every caller
already builds a complete :class:`PrintJob` and shows the outcome to the person.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class PrintOutcome:
    printed: bool
    message_ar: str
    message_en: str


NOT_CONNECTED = PrintOutcome(
    False,
    "الطابعة غير متصلة بعد: الورقة معروضة على الشاشة ويمكن طباعتها من المتصفح.",
    "The printer is not connected yet: the paper is shown on screen and can be printed from the browser.",
)


def submit(job: PrintJob) -> PrintOutcome:
    """Hand ``job`` to the printer. THE PRINTER SEAM: connect edge.devices.printer here.

    When issue 5 lands, replace the body with something like::

        from edge.devices import printer
        result = printer.enqueue(job)          # must not block the request for long
        return PrintOutcome(result.ok, result.message_ar, result.message_en)

    and keep returning a PrintOutcome whose messages say what the person should do (paper out …).
    """
    log.info("print job %s (%s) not printed: no printer driver connected", job.kind, job.lang)
    return NOT_CONNECTED

"""The receipt printer over any wire: one lock for the wire, status asked of the printer, documents printed.

:class:`Printer` holds one lock for every use of the wire, so a status poll never interleaves with a job
(the Odoo IoT box lost receipts to a background scan that touched a printing device): while a job prints,
``status()`` answers with the last known state, marked ``busy``, without asking the printer.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import edge.devices.printer.encode as escpos_encode
import edge.devices.printer.layout as printer_layout
import edge.devices.printer.preview as printer_preview
import edge.devices.printer.status as escpos_status
from edge.devices.printer.layout import Document
from edge.devices.printer.status import OFFLINE, UNKNOWN, PrinterStatus, printer_error
from edge.devices.printer.transport import Transport, TransportError

log = logging.getLogger(__name__)

DEFAULT_STATUS_TIMEOUT = 0.5  # seconds to wait for each DLE EOT answer; a TM answers in a few ms
DOTS_PER_MM = 8  # a 203-dpi head
MAX_SETTLE_S = 5.0


@dataclass(frozen=True)
class PrintResult:
    bytes_sent: int
    status: PrinterStatus  # as read right after the job (``unknown`` for a printer that never answers)
    seconds: float
    sent: bytes = field(default=b"", repr=False)  # the job as it went down the wire (for the picture of the paper)


class Printer:
    """One receipt printer on one wire. Thread-safe: every use of the wire holds ``self._lock``."""

    def __init__(self, transport: Transport, profile: escpos_encode.PrinterProfile | None = None, *,
                 status_timeout: float = DEFAULT_STATUS_TIMEOUT, speed: float | None = None, url: str = ""):
        self.transport = transport
        self.profile = profile or escpos_encode.PrinterProfile.named()
        self.status_timeout = status_timeout
        self.speed = speed  # mm/s the head prints at; None: do not wait for the paper after a job
        self.url = url
        self._lock = threading.Lock()
        self._last = UNKNOWN

    @property
    def description(self) -> str:
        return self.transport.description

    # -- the wire ---------------------------------------------------------------------------------

    def _ensure_open(self) -> None:
        if not self.transport.is_open:
            self.transport.open()

    def _release(self) -> None:
        # Network printers serve one connection at a time: let go between jobs.
        if not self.transport.keep_open:
            self.transport.close()

    def _ask(self, n: int, timeout: float) -> int | None:
        """The printer's answer to DLE EOT ``n``, or None when no valid status byte came in time."""
        self.transport.write(escpos_status.query(n))
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            data = self.transport.read(1, left)
            # Anything that is not a status byte (the answer to a buffer clear, line noise) is skipped.
            if data and escpos_status.is_status_byte(data[0]):
                return data[0]
        return None

    def _read_status(self) -> PrinterStatus:
        """Ask DLE EOT 1, then 2, 3 and 4. Called with the lock held."""
        try:
            self._ensure_open()
        except TransportError as exc:
            log.info("printer %s cannot be opened: %s", self.description, exc)
            return OFFLINE
        try:
            if not self.transport.can_answer:
                return UNKNOWN  # a file, or a wire that carries nothing back: never "ok"
            self.transport.discard_input()
            replies: dict[int, int | None] = {escpos_status.PRINTER: self._ask(escpos_status.PRINTER,
                                                                                self.status_timeout)}
            # A printer that does not answer the first question will not answer the others: do not
            # spend three more timeouts finding that out.
            if replies[escpos_status.PRINTER] is not None:
                for n in (escpos_status.OFFLINE_CAUSE, escpos_status.ERROR_CAUSE, escpos_status.ROLL_PAPER):
                    replies[n] = self._ask(n, self.status_timeout)
        except TransportError as exc:
            log.info("printer %s went away while asked for status: %s", self.description, exc)
            self.transport.close()
            return OFFLINE
        finally:
            self._release()
        return escpos_status.decode(replies)

    # -- what callers use -------------------------------------------------------------------------

    def status(self) -> PrinterStatus:
        """How the printer is now; while a job prints, the last known state marked ``busy``."""
        if not self._lock.acquire(blocking=False):
            return self._last.as_busy()
        try:
            self._last = self._read_status()
            return self._last
        finally:
            self._lock.release()

    def print_document(self, doc: Document, *, reprint: bool = False, training: bool = False,
                       after_failure: bool = False) -> PrintResult:
        """Lay out, encode and print ``doc``; raises :class:`PrinterError` when it was not printed whole.

        ``after_failure``: the last attempt may have left part of a job in the printer's buffer, so
        the buffers are cleared first (on printers whose profile allows it).
        """
        blocks = printer_layout.layout(doc, self.profile.paper, reprint=reprint, training=training)
        length_mm = printer_preview.page_height(blocks) / DOTS_PER_MM
        return self.print_bytes(escpos_encode.encode(blocks, self.profile), after_failure=after_failure,
                                length_mm=length_mm)

    def print_bytes(self, data: bytes, *, after_failure: bool = False, length_mm: float = 0.0) -> PrintResult:
        """Send one job. With a print ``speed`` set (mm/s, from the URL), the check after the job waits
        until the paper should be out: a printer still printing from its buffer says "ok" even when
        its roll is about to end under that job."""
        started = time.monotonic()
        with self._lock:
            before = self._read_status()
            self._last = before
            if not before.can_print:
                raise before.error(sent=False) or printer_error("printer-offline", detail=before.describe())
            try:
                self._ensure_open()
                if after_failure and self.profile.clear_buffers and self.transport.can_answer:
                    self.transport.write(escpos_encode.CLEAR_BUFFERS)
                self.transport.write(data)
            except TransportError as exc:
                self.transport.close()
                self._last = OFFLINE
                # Some of the job may have reached the printer: whatever prints next is marked a reprint.
                raise printer_error("printer-offline", detail=f"{self.description}: {exc}", sent=True) from exc
            finally:
                self._release()
            if self.speed and self.transport.can_answer:
                time.sleep(min(MAX_SETTLE_S, max(0.0, length_mm / self.speed - (time.monotonic() - started))))
            after = self._read_status()
            self._last = after
            if not after.can_print:
                # The paper ran out (or the cover opened) during the job: the printer holds the rest
                # and would print it once the paper is back, on top of the reprint. Drop it now.
                self._clear_held()
                raise after.error(sent=True) or printer_error("printer-offline", detail=after.describe(), sent=True)
        return PrintResult(len(data), after, time.monotonic() - started, data)

    def _clear_held(self) -> None:
        if not (self.profile.clear_buffers and self.transport.can_answer):
            return
        try:
            self._ensure_open()
            self.transport.write(escpos_encode.CLEAR_BUFFERS)
        except TransportError as exc:
            log.info("could not clear the buffers of %s: %s", self.description, exc)
        finally:
            self._release()

    def close(self) -> None:
        with self._lock:
            self.transport.close()

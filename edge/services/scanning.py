"""Document capture as the operator's console uses it: a scan (or a photo) becomes one PDF, and the
scanner's status row says how the last scan went (for the van status page and the governorate)."""

from __future__ import annotations

from edge.devices import scanner
from edge.devices.scanner import ScannerError  # noqa: F401  (what a failed scan raises, for the pages)
from edge.store import device_status


def scan_pdf(db, url: str) -> bytes:
    """Scan with the scanner at ``url`` → the PDF to attach. Records the scanner's state in ``db`` either way;
    raises :class:`ScannerError` (with words for the operator) instead of returning a failed or blank page."""
    try:
        content = scanner.scan_document(url).pdf
    except ScannerError as exc:
        _report(db, scanner.ScannerStatus.from_error(exc))
        raise
    _report(db, scanner.ScannerStatus(True))
    return content


def photo_pdf(data: bytes) -> bytes:
    """A phone or camera photo of a page → the page found, straightened and cleaned, as a one-page PDF."""
    return scanner.document_from_photos([data]).pdf


def _report(db, st) -> None:
    device_status.report(db, "scanner", "scanner", "ok" if st.online else "error",
                         message_ar=st.message_ar, message_en=st.message_en,
                         detail={"code": st.code} if not st.online else {})

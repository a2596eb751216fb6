"""Document capture as the operator's console uses it: a scan (or a photo) becomes one PDF, and the
scanner's status row says how the last scan went (for the van status page and the governorate).

A photo (uploaded, or a frame from the overhead document camera) goes through the finder first
(:func:`find_page`). When the finder is sure, the page is straightened at once; when it is not, the wizard
keeps the photo and a smaller copy (:func:`photo_preview`) and shows them with the corners for the operator
to drag, the straightened result drawn again as they move (:func:`straightened_preview`), then
:func:`photo_pdf` straightens it along the corners the operator chose."""

from __future__ import annotations

import cv2
import numpy as np

from edge.devices import scanner
from edge.devices.scanner import ScannerError  # noqa: F401  (what a failed scan raises, for the pages)
from edge.devices.scanner import cleanup as page_cleanup
from edge.devices.scanner import corners as page_corners
from edge.devices.scanner.camera import CameraScanner
from edge.store import device_status

PREVIEW_SIDE = 1280     # long side of the copy of a photo shown for the corners, px
STRAIGHT_DPI = 60       # the straightened preview beside it: enough to judge the outline, fast to redraw
PHOTO_QUALITY = 92      # a camera frame kept as a JPEG while its corners are checked


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


def camera_photo(db, url: str) -> bytes | None:
    """A frame from the overhead document camera at ``url`` as a JPEG, for the finder and the operator's corners;
    None when ``url`` names another kind of scanner (it scans pages itself: :func:`scan_pdf`)."""
    device = scanner.open_scanner(url)
    if not isinstance(device, CameraScanner):
        return None
    try:
        ok, jpeg = cv2.imencode(".jpg", device.capture(), [cv2.IMWRITE_JPEG_QUALITY, PHOTO_QUALITY])
        if not ok:
            raise ScannerError("the camera's frame could not be encoded")
    except ScannerError as exc:
        _report(db, scanner.ScannerStatus.from_error(exc))
        raise
    _report(db, scanner.ScannerStatus(True))
    return jpeg.tobytes()


BadCorners = page_corners.BadCorners  # corners that outline no page, with words for the operator
Finding = page_corners.Finding
parse_corners = page_corners.parse_fractions  # the corner form's text → eight fractions


def corners_in_photo(fractions: list[float], width: int, height: int) -> np.ndarray:
    """Eight fractions (TL TR BR BL) → checked corners in pixels of a ``width`` × ``height`` photo (BadCorners)."""
    return page_corners.from_fractions(fractions, width, height)


def find_page(data: bytes) -> page_corners.Finding:
    """Where the finder thinks the page is in a photo, and how sure it is (ScannerError: not a usable picture)."""
    return page_corners.find(scanner.decode_photo(data))


def photo_pdf(data: bytes, corners: np.ndarray | None = None) -> bytes:
    """A phone or camera photo of a page → the page found (or outlined by ``corners``, pixels TL TR BR BL),
    straightened and cleaned, as a one-page PDF."""
    if corners is None:
        return scanner.document_from_photos([data]).pdf
    return scanner.document_from_photo(data, corners).pdf


def photo_preview(data: bytes, side: int | None = PREVIEW_SIDE) -> bytes:
    """A copy of a photo no longer than ``side`` px on its long side (None: full size), as a JPEG, to show with the
    corners."""
    image = scanner.decode_photo(data)
    h, w = image.shape[:2]
    scale = min(1.0, (side or max(h, w)) / max(h, w))
    if scale < 1:
        image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()


def straightened_preview(preview: bytes, fractions: list[float]) -> bytes:
    """The page the corners (eight fractions, :mod:`edge.devices.scanner.corners`) would give, drawn from the
    photo's preview copy: a small JPEG. BadCorners when they outline no page."""
    image = scanner.decode_photo(preview)
    h, w = image.shape[:2]
    quad = page_corners.from_fractions(fractions, w, h)
    flat = page_cleanup.clean(page_cleanup.rectify(image, quad, STRAIGHT_DPI))
    return cv2.imencode(".jpg", flat, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()


def _report(db, st) -> None:
    device_status.report(db, "scanner", "scanner", "ok" if st.online else "error",
                         message_ar=st.message_ar, message_en=st.message_en,
                         detail={"code": st.code} if not st.online else {})

"""The document scanner: one small interface over SANE scanners, an overhead document camera and a simulated twin.

    scanner = open_scanner("sane://epson2:libusb:001:004?resolution=200&mode=Gray&source=ADF")
    pages = scanner.scan()                      # list[Page]; raises a ScannerError the operator can read
    document = encode_document(pages)           # JPEG pages within the uplink budget + one PDF

or in one call, what the operator wizard uses: ``scan_document(settings.devices.scanner)``.

URLs (config key ``devices.scanner``):

* ``sane://DEVICE?resolution=200&mode=Gray&source=ADF`` — a flatbed or sheet-fed scanner through
  SANE's ``scanimage`` (``sane://`` alone: SANE's first device). See :mod:`edge.devices.scanner.sane`.
* ``camera://0`` (a V4L2 index), ``camera:///dev/video2``, ``camera://rtsp://…`` or ``camera:///path/photo.jpg``
  — an overhead document camera through OpenCV: the page is found, rectified and cleaned up.
* ``sim://`` — the twin: a generated page, faults switchable (jammed, cover open, no documents, unplugged).

A page that failed is never returned: every device error becomes a :class:`ScannerError` with an Arabic
and an English message saying what to do, and a blank page is refused (:class:`BlankPage`) rather
than attached. Pages that a feeder delivered before a jam travel on the error (``error.pages``).
"""

from __future__ import annotations

import numpy as np

from edge.core.digits import to_eastern
from edge.devices.openers import Connection, Openers
from edge.devices.scanner.base import (  # noqa: F401  (the kind's public face)
    DEFAULT_MODE,
    DEFAULT_RESOLUTION,
    DEFAULT_SOURCE,
    PAGE_BUDGET_BYTES,
    BlankPage,
    DeviceInfo,
    NoPageInView,
    Page,
    Scanner,
    ScannerBusy,
    ScannerCoverOpen,
    ScannerError,
    ScannerJammed,
    ScannerNoDocuments,
    ScannerOffline,
    ScannerStatus,
    ScannerTimeout,
    ScannerUrlError,
)
from edge.devices.scanner.camera import CameraScanner, camera_settings, page_from_photo
from edge.devices.scanner.docfind import find_document  # noqa: F401  (the issue names it here: scanner.find_document)
from edge.devices.scanner.encode import (  # noqa: F401
    ScannedDocument,
    encode_document,
    encode_page,
    pdf_from_jpegs,
)
from edge.devices.scanner.sane import SaneScanner, sane_settings
from edge.devices.scanner.sim import SimScanner, sim_settings

OPENERS = Openers("scanner", [
    Connection("sane", lambda url, settings: SaneScanner(url), sane_settings, "sane://test:0?mode=Gray"),
    Connection("camera", lambda url, settings: CameraScanner(url), camera_settings, "camera://0"),
    Connection("sim", lambda url, settings: SimScanner.from_url(url), sim_settings, "sim://"),
])


def open_scanner(url: str) -> Scanner:
    """The scanner a ``devices.scanner`` URL names (sane://, camera://, sim://); a bad one raises
    :class:`edge.devices.urls.DeviceUrlError` with the words ``edge config check`` prints."""
    return OPENERS.open(url)


def scan_document(url: str, *, resolution: int | None = None, mode: str | None = None,
                  source: str | None = None, max_bytes: int = PAGE_BUDGET_BYTES) -> ScannedDocument:
    """Scan with the scanner at ``url`` and return the pages ready to attach (JPEGs + PDF).

    Raises a :class:`ScannerError` (show ``error.message(lang)`` to the operator) instead of ever
    returning a failed or blank page.
    """
    return encode_document(open_scanner(url).scan(resolution, mode, source), max_bytes)


def document_from_photos(photos: list[bytes], *, resolution: int | None = None, mode: str | None = None,
                         max_bytes: int = PAGE_BUDGET_BYTES) -> ScannedDocument:
    """Phone or camera photos of a document's pages (JPEG/PNG bytes, one page each) → rectified, cleaned
    pages ready to attach. Raises NoPageInView / BlankPage naming the page (``detail``) that failed."""
    pages = []
    for n, data in enumerate(photos, start=1):
        image = decode_photo(data, n)
        try:
            page = page_from_photo(image, int(resolution or DEFAULT_RESOLUTION), mode or DEFAULT_MODE)
        except ScannerError as e:
            e.detail = f"photo {n}: {e.detail}"
            e.pages = pages
            raise
        page.index = n
        pages.append(page)
    return encode_document(pages, max_bytes)


def decode_photo(data: bytes, n: int = 1) -> np.ndarray:
    """Photo ``n``'s bytes (JPEG, PNG, WebP) → a BGR image; ScannerError (words for the operator) when it is not
    a picture or is larger than :data:`MAX_PHOTO_PIXELS` (checked before decoding)."""
    import cv2

    _check_photo_size(n, data)  # before decoding: a small file can hold a picture that fills the memory
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ScannerError(f"photo {n} is not an image",
                           message_ar=f"الصورة رقم {n} ليست صورة صالحة. التقط الصورة مرة أخرى.",
                           message_en=f"Photo {n} is not a usable image. Take the photo again.")
    return image


def document_from_photo(data: bytes, corners: np.ndarray, *, resolution: int | None = None,
                        mode: str | None = None, max_bytes: int = PAGE_BUDGET_BYTES) -> ScannedDocument:
    """A photo of one page straightened along ``corners`` (TL TR BR BL in the photo's pixels, as an operator
    placed them: :mod:`edge.devices.scanner.corners`) → the page ready to attach."""
    image = decode_photo(data)
    page = page_from_photo(image, int(resolution or DEFAULT_RESOLUTION), mode or DEFAULT_MODE, corners=corners)
    return encode_document([page], max_bytes)


# A phone's full-resolution photo is 12–50 MP; a page needs far less. Bigger is refused before it is decoded:
# a 1 MB PNG can unpack to gigabytes (issue 16: 93 MB → 2.4 GB for the web process).
MAX_PHOTO_PIXELS = 50_000_000


def _check_photo_size(n: int, data: bytes) -> None:
    """Refuse photo ``n`` when its header says it is larger than :data:`MAX_PHOTO_PIXELS` (nothing decoded)."""
    import io
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():  # Pillow's bomb warning: the size is judged here
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as picture:  # reads the header only
                width, height = picture.size
        pixels = width * height
    except Image.DecompressionBombError:  # Pillow's own alarm, far above our limit
        pixels = None
    except (UnidentifiedImageError, OSError, ValueError):
        # Not a picture format Pillow reads (phones send JPEG, PNG, WebP): OpenCV decodes more formats, but
        # none a phone sends, and their size could not be checked first.
        raise ScannerError(f"photo {n} is not a picture format we take",
                           message_ar=f"الصورة رقم {n} ليست صورة صالحة. التقط الصورة مرة أخرى.",
                           message_en=f"Photo {n} is not a usable image. Take the photo again.") from None
    if pixels is not None and pixels <= MAX_PHOTO_PIXELS:
        return
    limit = MAX_PHOTO_PIXELS // 1_000_000
    size_en = f" ({round(pixels / 1e6)} megapixels)" if pixels else ""
    size_ar = f" ({to_eastern(round(pixels / 1e6))} ميجابكسل)" if pixels else ""
    raise ScannerError(f"photo {n} is {pixels or 'over 179M'} pixels, above {limit} MP",
                       message_ar=f"الصورة رقم {n} كبيرة جدًا{size_ar}. التقطها بدقة أقل (حتى {to_eastern(limit)} "
                                  "ميجابكسل) ثم أعد المحاولة.",
                       message_en=f"Photo {n} is too large{size_en}. Take it at a lower resolution "
                                  f"(up to {limit} megapixels) and try again.")

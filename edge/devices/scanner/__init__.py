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

import io
from dataclasses import dataclass, field

import numpy as np

from edge.core.errors import EdgeError
from edge.devices.scanner.docfind import find_document  # noqa: F401  (the issue names it here: scanner.find_document)

DEFAULT_RESOLUTION = 200   # dpi: small print stays legible, an A4 page fits the uplink budget
DEFAULT_MODE = "Gray"
DEFAULT_SOURCE = "Flatbed"
# Per page, after JPEG: ≈ 1.1 s at the 1.8 Mbit/s a lossy LTE link gives one CUBIC connection
# (../shared/FIELD-NOTES.md); a 10-page file then goes up in well under a minute. See docs/scanner.md.
PAGE_BUDGET_BYTES = 250_000


# --- errors ------------------------------------------------------------------------------------------


class ScannerError(EdgeError):
    """A scan that produced no usable page. ``pages``: good pages a feeder delivered before the failure."""

    code = "scanner-failed"
    message_ar_default = "تعذّر المسح بسبب خطأ في الماسح. أطفئ الماسح ثم شغّله، وحاول مرة أخرى."
    message_en_default = "The scan failed because of a scanner error. Switch the scanner off and on, then try again."

    def __init__(self, detail: str = "", *, pages: list[Page] | None = None,
                 message_ar: str | None = None, message_en: str | None = None):
        self.pages = list(pages or [])
        super().__init__(message_ar or self.message_ar_default, message_en or self.message_en_default,
                         detail=detail)


class ScannerJammed(ScannerError):
    code = "scanner-jammed"
    message_ar_default = ("الورق عالق في وحدة التغذية. افتح غطاء وحدة التغذية وأخرج الورقة برفق، "
                          "ثم أعد وضع الصفحات التي لم تُمسح وامسح مرة أخرى.")
    message_en_default = ("Paper is jammed in the document feeder. Open the feeder cover, gently pull the sheet "
                          "out, put back the pages not yet scanned and scan again.")


class ScannerCoverOpen(ScannerError):
    code = "scanner-cover-open"
    message_ar_default = "غطاء الماسح مفتوح. أغلق الغطاء جيدًا ثم امسح مرة أخرى."
    message_en_default = "The scanner cover is open. Close the cover firmly and scan again."


class ScannerNoDocuments(ScannerError):
    code = "scanner-no-documents"
    message_ar_default = ("لا توجد أوراق في وحدة التغذية. ضع الصفحات في وحدة التغذية (أو على الزجاج واختر "
                          "المسح المسطح) ثم امسح مرة أخرى.")
    message_en_default = ("There are no pages in the document feeder. Put the pages in the feeder (or on the glass "
                          "and choose flatbed) and scan again.")


class ScannerBusy(ScannerError):
    code = "scanner-busy"
    message_ar_default = "الماسح مشغول بعملية مسح أخرى. انتظر لحظة ثم حاول مرة أخرى."
    message_en_default = "The scanner is busy with another scan. Wait a moment and try again."


class ScannerOffline(ScannerError):
    code = "scanner-offline"
    message_ar_default = ("الماسح غير متصل. تأكد أن الماسح يعمل وأن كابل USB موصَّل، ثم حاول مرة أخرى. "
                          "إن استمرت المشكلة فأبلغ الدعم الفني.")
    message_en_default = ("The scanner is not connected. Check that it is switched on and its USB cable is "
                          "plugged in, then try again. If it persists, call technical support.")


class BlankPage(ScannerError):
    code = "scanner-blank-page"
    message_ar_default = ("الصفحة الممسوحة فارغة. تأكد أن الوجه المكتوب للأسفل على الزجاج (أو حسب اتجاه وحدة "
                          "التغذية) ثم امسح مرة أخرى.")
    message_en_default = ("The scanned page is blank. Check that the written side faces the glass (or the way the "
                          "feeder shows) and scan again.")


class NoPageInView(ScannerError):
    code = "scanner-no-page-in-view"
    message_ar_default = ("لم يتم العثور على ورقة تحت الكاميرا. ضع الورقة كاملة داخل الإطار، ويُفضّل على سطح "
                          "داكن، ثم حاول مرة أخرى.")
    message_en_default = ("No page was found under the camera. Put the whole page inside the frame, preferably on "
                          "a dark surface, and try again.")


class ScannerTimeout(ScannerError):
    code = "scanner-timeout"
    message_ar_default = "الماسح لم يستجب في الوقت المحدد. أطفئ الماسح ثم شغّله، وحاول مرة أخرى."
    message_en_default = "The scanner did not answer in time. Switch it off and on, then try again."


# --- pages and the interface -------------------------------------------------------------------------


@dataclass
class Page:
    image: np.ndarray          # uint8, (H, W) grey or (H, W, 3) BGR
    dpi: int
    source: str = DEFAULT_SOURCE
    index: int = 1             # 1-based position in the batch


@dataclass(frozen=True)
class ScannerStatus:
    online: bool
    code: str = "ok"
    message_ar: str = "الماسح جاهز."
    message_en: str = "The scanner is ready."
    detail: str = ""

    @classmethod
    def from_error(cls, err: ScannerError) -> ScannerStatus:
        return cls(False, err.code, err.message_ar, err.message_en, err.detail)


@dataclass(frozen=True)
class DeviceInfo:
    name: str      # what goes after sane:// (or camera://)
    vendor: str = ""
    model: str = ""
    kind: str = ""


class Scanner:
    """What every scanner offers. ``None`` arguments mean: the URL's value, else the defaults above."""

    url = ""

    def scan(self, resolution: int | None = None, mode: str | None = None, source: str | None = None) -> list[Page]:
        raise NotImplementedError

    def status(self) -> ScannerStatus:
        raise NotImplementedError

    def list_devices(self) -> list[DeviceInfo]:
        raise NotImplementedError


def open_scanner(url: str) -> Scanner:
    """The scanner a ``devices.scanner`` URL names (sane://, camera://, sim://)."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme == "sane":
        from edge.devices.scanner.sane import SaneScanner
        return SaneScanner(url)
    if scheme == "camera":
        from edge.devices.scanner.camera import CameraScanner
        return CameraScanner(url)
    if scheme == "sim":
        from edge.devices.scanner.sim import SimScanner
        return SimScanner.from_url(url)
    raise ScannerError(f"unknown scanner URL {url!r}: use sane://, camera:// or sim://",
                       message_ar="عنوان الماسح في الإعدادات غير صحيح. أبلغ الدعم الفني.",
                       message_en="The scanner address in the settings is wrong. Call technical support.")


# --- output: JPEG pages and one PDF ------------------------------------------------------------------


@dataclass
class ScannedDocument:
    jpegs: list[bytes]                   # one per page, each ≤ the budget
    pdf: bytes                           # the same JPEG bytes, embedded (img2pdf does not re-encode)
    dpis: list[int] = field(default_factory=list)

    @property
    def page_count(self) -> int:
        return len(self.jpegs)


def encode_page(page: Page, max_bytes: int = PAGE_BUDGET_BYTES) -> bytes:
    """The page as a baseline JPEG no larger than ``max_bytes``: highest quality that fits, then smaller
    pixels only if even quality 40 does not (a page is never cut or refused for its size)."""
    from PIL import Image

    img = page.image
    if img.ndim == 3:
        img = img[:, :, ::-1]  # BGR → RGB
    pil = Image.fromarray(np.ascontiguousarray(img))
    dpi = float(page.dpi)
    while True:
        best = None
        lo, hi = 40, 90
        data = _jpeg(pil, hi, dpi)
        if len(data) <= max_bytes:
            return data
        while lo <= hi:  # binary search on quality: ~4 encodes
            q = (lo + hi) // 2
            data = _jpeg(pil, q, dpi)
            if len(data) <= max_bytes:
                best, lo = data, q + 1
            else:
                hi = q - 1
        if best is not None:
            return best
        # Fewer pixels keep the page's physical size: the dpi drops with them.
        pil = pil.resize((max(1, int(pil.width * 0.85)), max(1, int(pil.height * 0.85))), Image.LANCZOS)
        dpi *= 0.85


def _jpeg(pil, quality: int, dpi: float) -> bytes:
    buf = io.BytesIO()
    # optimize: Huffman tables per image, ~5-10 % smaller for free; baseline: every PDF reader shows it.
    pil.save(buf, "JPEG", quality=quality, optimize=True, dpi=(dpi, dpi), subsampling=2)
    return buf.getvalue()


def pdf_from_jpegs(jpegs: list[bytes]) -> bytes:
    """One PDF with the JPEG pages embedded byte for byte (DCTDecode), page size from each JPEG's dpi."""
    import img2pdf

    return img2pdf.convert(list(jpegs))


def encode_document(pages: list[Page], max_bytes: int = PAGE_BUDGET_BYTES) -> ScannedDocument:
    jpegs = [encode_page(p, max_bytes) for p in pages]
    return ScannedDocument(jpegs, pdf_from_jpegs(jpegs), [p.dpi for p in pages])


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
    import cv2

    from edge.devices.scanner.camera import page_from_photo

    pages = []
    for n, data in enumerate(photos, start=1):
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ScannerError(f"photo {n} is not an image",
                               message_ar=f"الصورة رقم {n} ليست صورة صالحة. التقط الصورة مرة أخرى.",
                               message_en=f"Photo {n} is not a usable image. Take the photo again.")
        try:
            page = page_from_photo(image, int(resolution or DEFAULT_RESOLUTION), mode or DEFAULT_MODE)
        except ScannerError as e:
            e.detail = f"photo {n}: {e.detail}"
            e.pages = pages
            raise
        page.index = n
        pages.append(page)
    return encode_document(pages, max_bytes)

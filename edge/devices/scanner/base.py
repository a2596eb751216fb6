"""What every scanner is: its interface (:class:`Scanner`), its page, its status, and the errors an operator reads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge.core.errors import EdgeError
from edge.devices.urls import DeviceUrlError, kind_error

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


@kind_error("scanner")
class ScannerUrlError(DeviceUrlError, ScannerError):
    """The scanner's URL in the settings is wrong: no scan can start until it is fixed."""

    def __init__(self, *args):
        self.pages = []
        super().__init__(*args)


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

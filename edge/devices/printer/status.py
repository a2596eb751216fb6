"""What a receipt printer says about itself: ESC/POS real-time status (DLE EOT 1/2/3/4) read into a status.

Every status byte of DLE EOT has bits 1 and 4 set and bits 0 and 7 clear; a byte that does not is line
noise or another answer, and is not believed. A printer that does not answer is "unknown", never "ok".
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from edge.core.errors import EdgeError

DLE_EOT = b"\x10\x04"
PRINTER, OFFLINE_CAUSE, ERROR_CAUSE, ROLL_PAPER = 1, 2, 3, 4
QUERIES = (PRINTER, OFFLINE_CAUSE, ERROR_CAUSE, ROLL_PAPER)


def query(n: int) -> bytes:
    return DLE_EOT + bytes([n])


def is_status_byte(b: int) -> bool:
    return b & 0x93 == 0x12


# --------------------------------------------------------------------------------------------------
# Errors a person sees
# --------------------------------------------------------------------------------------------------


class PrinterError(EdgeError):
    """The printer cannot print now. ``sent`` is True when some of the job reached the printer first."""

    code = "printer-error"

    def __init__(self, message_ar: str, message_en: str, *, detail: str = "", code: str | None = None,
                 sent: bool = False):
        super().__init__(message_ar, message_en, detail=detail, code=code)
        self.sent = sent


_KEEP_AR = "الإيصالات محفوظة وستُطبع تلقائيًا بعد ذلك."
_KEEP_EN = "Waiting receipts are kept and will print by themselves afterwards."

_MESSAGES: dict[str, tuple[str, str]] = {
    "printer-paper-out": (
        "نفد ورق الطابعة. افتح الغطاء وضع بكرة ورق جديدة ثم أغلقه. " + _KEEP_AR,
        "The printer is out of paper. Open the cover, put in a new paper roll and close it. " + _KEEP_EN,
    ),
    "printer-cover-open": (
        "غطاء الطابعة مفتوح. أغلقه جيدًا حتى يُسمع صوت الإغلاق. " + _KEEP_AR,
        "The printer cover is open. Close it firmly until it clicks. " + _KEEP_EN,
    ),
    "printer-offline": (
        "الطابعة غير متصلة. تأكد أنها مشغّلة وأن كابل التوصيل مثبت جيدًا. " + _KEEP_AR,
        "The printer is not connected. Check that it is switched on and its cable is plugged in firmly. "
        + _KEEP_EN,
    ),
    "printer-cutter": (
        "قاطع الورق في الطابعة متعطل أو انحشر فيه الورق. أطفئ الطابعة وأزل الورق العالق ثم شغّلها. " + _KEEP_AR,
        "The printer's paper cutter is jammed. Switch the printer off, remove the stuck paper and switch it "
        "on again. " + _KEEP_EN,
    ),
    "printer-fault": (
        "الطابعة في حالة عطل. أطفئها ثم شغّلها؛ وإذا استمر العطل فاتصل بالدعم الفني. " + _KEEP_AR,
        "The printer reports a fault. Switch it off and on again; if the fault stays, call technical support. "
        + _KEEP_EN,
    ),
    "printer-paused": (
        "توقفت الطابعة عن الطباعة. تأكد من الورق ومن إغلاق الغطاء، ثم اضغط زر تغذية الورق FEED مرة واحدة.",
        "The printer has stopped (offline). Check the paper and that the cover is closed, then press the FEED "
        "button once.",
    ),
    "printer-busy": (
        "الطابعة مشغولة بطباعة إيصال آخر. انتظر لحظة.",
        "The printer is busy printing another receipt. Wait a moment.",
    ),
}

_WARNINGS: dict[str, tuple[str, str]] = {
    "paper-near-end": (
        "ورق الطابعة أوشك على النفاد. جهّز بكرة ورق جديدة.",
        "The printer paper is nearly finished. Have a new paper roll ready.",
    ),
    "unknown": (
        "لا تجيب الطابعة عن استعلام حالتها، فلا يمكن التأكد من وجود الورق. راقب خروج الإيصالات.",
        "The printer does not answer status requests, so paper and cover cannot be checked. Watch that "
        "receipts come out.",
    ),
}


def printer_error(code: str, *, detail: str = "", sent: bool = False) -> PrinterError:
    ar, en = _MESSAGES[code]
    return PrinterError(ar, en, detail=detail, code=code, sent=sent)


# --------------------------------------------------------------------------------------------------
# Status
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrinterStatus:
    """The printer's state as the operator console shows it.

    ``state`` is ``ok``, ``warning`` (prints, but paper is nearly out or status cannot be read),
    ``error`` (cannot print: ``problem`` says why) or ``unknown``. ``online``/``cover_open`` are None
    and ``paper`` is "unknown" when the printer did not say. ``busy`` means a job was printing, so
    the device was not asked and the fields are the last ones known.
    """

    state: str
    online: bool | None = None
    paper: str = "unknown"  # ok / near-end / out / unknown
    cover_open: bool | None = None
    problem: str | None = None  # an error code of _MESSAGES, or a warning of _WARNINGS
    busy: bool = False
    raw: dict[int, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    @property
    def can_print(self) -> bool:
        """False when printing now would surely fail; an unknown printer is tried."""
        return self.state != "error"

    @property
    def message_ar(self) -> str:
        return self._messages()[0]

    @property
    def message_en(self) -> str:
        return self._messages()[1]

    def _messages(self) -> tuple[str, str]:
        if self.problem in _MESSAGES:
            return _MESSAGES[self.problem]
        if self.problem in _WARNINGS:
            return _WARNINGS[self.problem]
        return ("الطابعة جاهزة.", "The printer is ready.") if self.state == "ok" else ("", "")

    def error(self, *, sent: bool = False) -> PrinterError | None:
        if self.state != "error" or self.problem not in _MESSAGES:
            return None
        return printer_error(self.problem, detail=self.describe(), sent=sent)

    def describe(self) -> str:
        raw = " ".join(f"{n}:{b:#04x}" for n, b in sorted(self.raw.items())) or "no answer"
        return (f"state={self.state} online={self.online} paper={self.paper} cover_open={self.cover_open} "
                f"problem={self.problem} busy={self.busy} raw=[{raw}]")

    def as_dict(self) -> dict:
        return {"state": self.state, "online": self.online, "paper": self.paper, "cover_open": self.cover_open,
                "problem": self.problem, "busy": self.busy, "message_ar": self.message_ar,
                "message_en": self.message_en}

    def as_busy(self) -> PrinterStatus:
        return replace(self, busy=True)


UNKNOWN = PrinterStatus("unknown", problem="unknown")
OFFLINE = PrinterStatus("error", online=False, problem="printer-offline")


def decode(replies: dict[int, int | None]) -> PrinterStatus:
    """A status from the answers to DLE EOT n (n -> the byte, or None when there was no valid answer)."""
    raw = {n: b for n, b in replies.items() if b is not None and is_status_byte(b)}
    if not raw:
        return UNKNOWN
    printer, cause, error, roll = (raw.get(n) for n in QUERIES)
    online = None if printer is None else not printer & 0x08
    cover_open = None if cause is None else bool(cause & 0x04)
    paper = "unknown"
    if roll is not None:
        paper = "out" if roll & 0x60 else ("near-end" if roll & 0x0C else "ok")
    if cause is not None and cause & 0x20:
        paper = "out"  # printing stopped by the paper-end sensor
    problem = None
    if paper == "out":
        problem = "printer-paper-out"
    elif cover_open:
        problem = "printer-cover-open"
    elif error is not None and error & 0x08:
        problem = "printer-cutter"
    elif (error is not None and error & 0x60) or (cause is not None and cause & 0x40):
        problem = "printer-fault"
    elif online is False:
        problem = "printer-paused"  # it answers, so it is connected, but it does not print
    if problem is not None:
        state = "error"
    elif paper == "near-end":
        state, problem = "warning", "paper-near-end"
    elif online is None or paper == "unknown":
        state, problem = "warning", "unknown"
    else:
        state = "ok"
    return PrinterStatus(state, online, paper, cover_open, problem, raw=raw)

"""What the van prints (request receipts, queue tickets, a test page) as data, and how each is laid out.

A document is laid out once into blocks: ASCII text lines (printed with the printer's own font),
raster lines (Arabic, rendered by :mod:`printer_raster`), a QR code, gaps and the cut. The ESC/POS
encoder and the PNG preview both draw these same blocks, so the preview shows what the paper shows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Literal

from PIL import Image

import edge.devices.printer.raster as raster
from edge.core import governorates, money, shifts
from edge.core import tickets as tk
from edge.core.digits import count_ar, to_eastern
from edge.core.localtime import VAN_TZ

Align = Literal["left", "center", "right"]

# Arabic type sizes in dots (a 203-dpi head: 26 dots ≈ 3.3 mm, a little taller than the printer's font A).
AR_BODY = 26
AR_TITLE = 30
AR_TICKET = 64  # the ticket's number in Arabic letters and digits, as large as the Latin one below it
LINE_GAP = 6  # dots between two raster lines
MAX_QR_MODULE = 6

_MONTHS_AR = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر",
              "نوفمبر", "ديسمبر")
_PAYMENT = {"cash": ("نقدًا", "cash"), "card": ("بطاقة بنكية", "card"), "reference": ("دفع إلكتروني", "e-payment")}
_PRIORITY = {
    "elderly": ("كبار السن", "elderly"),
    "disabled": ("ذوو الهمم", "disability"),
    "pregnant": ("الحوامل", "pregnancy"),
}
CENTRE_AR = "المركز التكنولوجي المتنقل"
CENTRE_EN = "MOBILE TECHNOLOGY CENTRE"


# --------------------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """One line in the printer's font A: printable ASCII only. ``scale`` 2 doubles width and height."""

    text: str
    align: Align = "left"
    bold: bool = False
    scale: int = 1

    def __post_init__(self) -> None:
        if not all(" " <= c <= "~" for c in self.text):
            raise ValueError(f"printer text must be printable ASCII: {self.text!r}")


@dataclass(frozen=True)
class Raster:
    """A 1-bit image (black = 0), at most the paper width; printed with ``GS v 0``."""

    image: Image.Image = field(compare=False)
    align: Align = "right"
    text: str = ""  # what it says, for logs and tests


@dataclass(frozen=True)
class Qr:
    data: str
    module: int = 4  # dots per module
    error: str = "M"


@dataclass(frozen=True)
class Gap:
    dots: int


@dataclass(frozen=True)
class Cut:
    pass


Block = Text | Raster | Qr | Gap | Cut


@dataclass(frozen=True)
class Paper:
    """What the layout needs to know about the printer."""

    width: int = 576  # printable dots
    columns: int = 48  # font A characters per line


# --------------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """The receipt of a submitted request. ``citizen_name`` is already masked (see :func:`mask_name`)."""

    number: str  # display form, "007-261121-0001-5"
    service_code: str
    service_ar: str
    service_en: str
    citizen_name: str
    fee_piastres: int
    payment_method: str
    payment_reference: str | None
    submitted_at: str  # ISO-8601 with offset
    expected_ready_on: str  # ISO date, local
    duration_days: int | None
    van_id: str
    van_name: str
    governorate: str  # two-digit code
    qr: str  # a signed EG1 code, or the request number when the van has no signing key

    kind = "receipt"

    def to_payload(self) -> dict:
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: Mapping) -> Receipt:
        return cls(**{f.name: payload[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class TicketSlip:
    """A queue ticket as handed to the citizen."""

    number: str  # "A007"
    category_ar: str
    category_en: str
    priority: str
    issued_at: str  # ISO-8601 with offset
    people_ahead: int
    wait_minutes: int
    van_id: str
    van_name: str
    governorate: str
    qr: str | None = None
    # The wait as the kiosk showed it; when given, printed instead of a label made from wait_minutes.
    wait_ar: str | None = None
    wait_en: str | None = None

    kind = "ticket"

    def to_payload(self) -> dict:
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: Mapping) -> TicketSlip:
        return cls(**{f.name: payload.get(f.name) for f in fields(cls)})


@dataclass(frozen=True)
class TestPage:
    """A page that shows the printer works: Arabic shaping, text, the QR code and the cut."""

    van_id: str = ""
    printed_at: str = ""
    note: str = ""

    kind = "test"

    def to_payload(self) -> dict:
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: Mapping) -> TestPage:
        return cls(**{f.name: payload.get(f.name, "") for f in fields(cls)})


@dataclass(frozen=True)
class ShiftReport:
    """The Z-report of a closed shift (issue 19): what the van recorded, the count, the difference, who signed."""

    shift: int
    operator: str  # "operator:3 — Mona" as the console names them
    counter: int | None
    opened_at: str  # ISO-8601 with offset
    closed_at: str
    closed_by: str
    opening_float_piastres: int
    counted_cash_piastres: int
    expected_cash_piastres: int
    difference_piastres: int
    reason: str
    confirmed_by: str | None
    handed_to: str | None
    totals: dict  # edge.core.shifts.ShiftTotals.as_dict()
    van_id: str
    van_name: str
    governorate: str
    qr: str  # a signed EG1 code of type "shift", or "Z<id>" without a signing key

    kind = "zreport"

    @property
    def number(self) -> str:
        return f"Z{self.shift}"

    def to_payload(self) -> dict:
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: Mapping) -> ShiftReport:
        return cls(**{f.name: payload.get(f.name) for f in fields(cls)})


Document = Receipt | TicketSlip | TestPage | ShiftReport
KINDS: dict[str, type] = {"receipt": Receipt, "ticket": TicketSlip, "test": TestPage, "zreport": ShiftReport}


def document_from_payload(kind: str, payload: Mapping) -> Document:
    try:
        cls = KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown document kind {kind!r}") from None
    return cls.from_payload(payload)


# --------------------------------------------------------------------------------------------------
# Helpers for people-facing text
# --------------------------------------------------------------------------------------------------


def mask_name(name: str) -> str:
    """The first name in full, then the initial of every other name: "محمد أ. ع." — enough to
    recognise one's own receipt, not enough to learn a stranger's full name from a lost one."""
    words = name.split()
    if not words:
        return ""
    return " ".join([words[0], *(f"{w[0]}." for w in words[1:])])


def _local(moment_iso: str) -> datetime:
    moment = datetime.fromisoformat(moment_iso)
    if moment.tzinfo is None:
        raise ValueError(f"time without offset: {moment_iso!r}")
    return moment.astimezone(VAN_TZ)


def date_ar(day: date) -> str:
    return f"{to_eastern(day.day)} {_MONTHS_AR[day.month - 1]} {to_eastern(day.year)}"


def date_en(day: date) -> str:
    return day.strftime("%d %b %Y")


def days_ar(n: int) -> str:
    return count_ar(n, "يوم واحد", "يومان", "أيام", "يومًا")


def people_ar(n: int) -> str:
    return "لا أحد أمامك" if n == 0 else "أمامك " + count_ar(n, "شخص واحد", "شخصان", "أشخاص", "شخصًا")


_NOT_ASCII = re.compile(r"[^ -~]")


def ascii_only(text: str) -> str:
    """``text`` with anything the printer's font cannot show dropped (used for English lines only)."""
    return re.sub(r"\s+", " ", _NOT_ASCII.sub("", text.replace("—", "-").replace("–", "-"))).strip()


# --------------------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, paper: Paper):
        self.paper = paper
        self.blocks: list[Block] = []

    def ar(self, text: str, *, align: Align = "right", size: int = AR_BODY, bold: bool = False) -> None:
        for image in raster.render_lines(text, self.paper.width, size, bold):
            self.blocks.append(Raster(image, align, text))
            self.blocks.append(Gap(LINE_GAP))

    def en(self, text: str, *, align: Align = "left", bold: bool = False, scale: int = 1) -> None:
        width = self.paper.columns // scale
        for line in _wrap_ascii(ascii_only(text), width):
            self.blocks.append(Text(line, align, bold, scale))

    def rule(self) -> None:
        self.blocks.append(Text("-" * self.paper.columns))

    def gap(self, dots: int) -> None:
        self.blocks.append(Gap(dots))

    def qr(self, data: str) -> None:
        modules = raster.qr_modules(data)
        # As large as fits in half the paper width, so it scans from a phone held at arm's length.
        module = max(2, min(MAX_QR_MODULE, (self.paper.width // 2) // modules))
        self.blocks.append(Qr(data, module))

    def header(self, governorate: str, van_id: str, van_name: str) -> None:
        gov = governorates.get(governorate)
        self.ar(CENTRE_AR, align="center", size=AR_TITLE, bold=True)
        self.ar(f"محافظة {gov.name_ar}" if gov else CENTRE_AR, align="center")
        self.en(CENTRE_EN, align="center", bold=True)
        place = f"{gov.name_en} - " if gov else ""
        self.en(f"{place}Van {van_id} {van_name}".strip(), align="center")
        self.rule()


def _wrap_ascii(text: str, width: int) -> list[str]:
    words, lines, current = text.split(" "), [], ""
    for word in words:
        while len(word) > width:  # a code longer than a line: cut it
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:width])
            word = word[width:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= width:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current or not lines:
        lines.append(current)
    return lines


def _reprint_mark(b: _Builder) -> None:
    b.ar("إعادة طباعة", align="center", size=AR_TITLE, bold=True)
    b.en("*** REPRINT ***", align="center", bold=True)


def _training_mark(b: _Builder) -> None:
    # A paper made while the console was in training mode must never pass for a real one.
    b.ar("تدريب - ليست ورقة رسمية", align="center", size=AR_TITLE, bold=True)
    b.en("*** TRAINING - NOT VALID ***", align="center", bold=True)


def layout(doc: Document, paper: Paper = Paper(), *, reprint: bool = False, training: bool = False) -> list[Block]:
    """The blocks that print ``doc``; ``reprint`` adds a visible mark on a second print of one job,
    ``training`` a mark at the top and the bottom of a paper made in training mode."""
    b = _Builder(paper)
    if training:
        _training_mark(b)
    if reprint:
        _reprint_mark(b)
    if isinstance(doc, Receipt):
        _receipt(b, doc)
    elif isinstance(doc, TicketSlip):
        _ticket(b, doc)
    elif isinstance(doc, TestPage):
        _test_page(b, doc)
    elif isinstance(doc, ShiftReport):
        _shift_report(b, doc)
    else:
        raise TypeError(f"cannot lay out {type(doc).__name__}")
    if training:
        _training_mark(b)
    b.blocks.append(Cut())
    return b.blocks


def _receipt(b: _Builder, r: Receipt) -> None:
    b.header(r.governorate, r.van_id, r.van_name)
    b.ar("إيصال تقديم طلب", align="center", size=AR_TITLE, bold=True)
    b.en("REQUEST RECEIPT - Request no.", align="center")
    b.en(r.number, align="center", bold=True, scale=2)
    b.rule()
    b.ar(f"الخدمة: {r.service_ar}")
    b.en(f"Service: {r.service_en} ({r.service_code})" if r.service_code else f"Service: {r.service_en}")
    b.ar(f"مقدم الطلب: {r.citizen_name}")
    if ascii_only(r.citizen_name) == r.citizen_name.strip():
        b.en(f"Applicant: {r.citizen_name}")
    method_ar, method_en = _PAYMENT.get(r.payment_method, (r.payment_method, r.payment_method))
    b.ar(f"الرسوم: {money.format_egp(r.fee_piastres, 'ar')}، مدفوعة {method_ar}")
    ref = f", ref. {r.payment_reference}" if r.payment_reference else ""
    b.en(f"Fee: {money.format_egp(r.fee_piastres, 'en')} paid by {method_en}{ref}")
    submitted = _local(r.submitted_at)
    b.ar(f"تاريخ التقديم: {date_ar(submitted.date())}، الساعة {to_eastern(submitted.strftime('%H:%M'))}")
    b.en(f"Submitted: {date_en(submitted.date())} {submitted:%H:%M}")
    ready = date.fromisoformat(r.expected_ready_on)
    duration = f" (المدة القانونية {days_ar(r.duration_days)})" if r.duration_days else ""
    b.ar(f"الموعد المتوقع للإنجاز: {date_ar(ready)}{duration}")
    legal = f" (legal time {r.duration_days} days)" if r.duration_days else ""
    b.en(f"Expected ready: {date_en(ready)}{legal}")
    b.rule()
    b.gap(12)
    b.qr(r.qr)
    b.gap(12)
    b.ar("امسح الرمز أو أدخل رقم الطلب لمتابعة طلبك", align="center")
    b.en("Scan the code or type the request number to track it", align="center")
    b.ar("احتفظ بهذا الإيصال لاستلام المستند", align="center")


def _ticket(b: _Builder, t: TicketSlip) -> None:
    b.header(t.governorate, t.van_id, t.van_name)
    b.ar("رقم دورك", align="center", size=AR_TITLE, bold=True)
    b.en("YOUR NUMBER", align="center")
    b.gap(8)
    # Both forms of one number: أ ٠٠٧ for a reader of Arabic, A007 for a reader of Latin script; the screen and the
    # voice call it in both.
    try:
        b.ar(tk.number_ar(t.number), align="center", size=AR_TICKET, bold=True)
    except ValueError:
        pass  # not a series number (a slip from before the rule): the Latin form alone
    b.en(t.number, align="center", bold=True, scale=2)
    b.gap(8)
    b.ar(t.category_ar, align="center")
    b.en(t.category_en, align="center")
    if t.priority in _PRIORITY:
        ar, en = _PRIORITY[t.priority]
        b.ar(f"أولوية: {ar}", align="center", bold=True)
        b.en(f"Priority: {en}", align="center")
    wait = timedelta(minutes=t.wait_minutes or 0)
    wait_ar = t.wait_ar or tk.wait_label(wait, "ar")
    wait_en = t.wait_en or tk.wait_label(wait, "en")
    b.ar(f"{people_ar(t.people_ahead)}، الانتظار المتوقع {wait_ar}", align="center")
    people = "nobody ahead of you" if t.people_ahead == 0 else f"{t.people_ahead} ahead of you"
    b.en(f"{people}, wait {wait_en}", align="center")
    issued = _local(t.issued_at)
    b.en(f"{date_en(issued.date())} {issued:%H:%M}", align="center")
    if t.qr:
        b.gap(12)
        b.qr(t.qr)
        b.gap(12)
    b.ar("انتظر حتى يظهر رقمك على الشاشة", align="center")
    b.en("Wait until your number shows on the screen", align="center")


def _actor(actor: str | None) -> tuple[str, str]:
    """An audit actor ("operator:3") as the paper names them: «الموظف رقم ٣» / "operator no. 3"."""
    kind, _, number = (actor or "").partition(":")
    if kind == "operator" and number.isdigit():
        return f"الموظف رقم {to_eastern(number)}", f"operator no. {number}"
    return actor or "", ascii_only(actor or "")


def _shift_report(b: _Builder, z: ShiftReport) -> None:
    b.header(z.governorate, z.van_id, z.van_name)
    b.ar("تقرير إغلاق الوردية", align="center", size=AR_TITLE, bold=True)
    b.en(f"SHIFT CLOSE (Z) REPORT - Z{z.shift}", align="center", bold=True)
    b.ar(f"رقم الوردية: {to_eastern(z.shift)}", align="center")
    b.rule()
    opened, closed = _local(z.opened_at), _local(z.closed_at)
    counter_ar = f"، الشباك {to_eastern(z.counter)}" if z.counter else ""
    b.ar(f"الموظف: {to_eastern(z.operator)}{counter_ar}")
    b.en(f"Operator: {ascii_only(z.operator)}" + (f", counter {z.counter}" if z.counter else ""))
    b.ar(f"من {date_ar(opened.date())} {to_eastern(opened.strftime('%H:%M'))} "
         f"إلى {date_ar(closed.date())} {to_eastern(closed.strftime('%H:%M'))}")
    b.en(f"From {date_en(opened.date())} {opened:%H:%M} to {date_en(closed.date())} {closed:%H:%M}")
    b.rule()
    t = z.totals or {}
    b.ar(f"عدد الطلبات: {to_eastern(t.get('requests', 0))}")
    b.en(f"Requests: {t.get('requests', 0)}")
    for method, (ar, en) in _PAYMENT.items():
        amount = int((t.get("fees") or {}).get(method, 0))
        b.ar(f"الرسوم ({ar}): {money.format_egp(amount, 'ar')}")
        b.en(f"Fees by {en}: {money.format_egp(amount, 'en')}")
    refunds = sum(int(v) for v in (t.get("refunds") or {}).values())
    b.ar(f"الإلغاءات: {to_eastern(t.get('cancellations', 0))}، المردود: {money.format_egp(refunds, 'ar')}")
    b.en(f"Cancellations: {t.get('cancellations', 0)}, refunded: {money.format_egp(refunds, 'en')}")
    b.ar(f"إعادات الطباعة: {to_eastern(t.get('reprints', 0))}")
    b.en(f"Reprints: {t.get('reprints', 0)}")
    b.ar(f"المواطنون المخدومون: {to_eastern(t.get('tickets_served', 0))}، "
         f"لم يحضروا: {to_eastern(t.get('no_shows', 0))}")
    b.en(f"Citizens served: {t.get('tickets_served', 0)}, no-shows: {t.get('no_shows', 0)}")
    b.rule()
    b.ar(f"نقدية البداية: {money.format_egp(z.opening_float_piastres, 'ar')}")
    b.en(f"Opening float: {money.format_egp(z.opening_float_piastres, 'en')}")
    b.ar(f"النقدية المتوقعة: {money.format_egp(z.expected_cash_piastres, 'ar')}")
    b.en(f"Expected cash: {money.format_egp(z.expected_cash_piastres, 'en')}")
    b.ar(f"النقدية المعدودة: {money.format_egp(z.counted_cash_piastres, 'ar')}", bold=True)
    b.en(f"Counted cash: {money.format_egp(z.counted_cash_piastres, 'en')}", bold=True)
    diff_ar, diff_en = shifts.difference_words(z.difference_piastres)
    b.ar(f"الفرق: {diff_ar}", bold=True)
    b.en(f"Difference: {diff_en}", bold=True)
    if z.reason:
        b.ar(f"سبب الفرق: {z.reason}")
    for label_ar, label_en, actor in (("اعتمده المشرف", "Confirmed by supervisor", z.confirmed_by),
                                      ("سُلّمت النقدية إلى", "Cash handed over to", z.handed_to),
                                      ("أغلقها", "Closed by", z.closed_by)):
        if actor:
            ar, en = _actor(actor)
            b.ar(f"{label_ar}: {ar}")
            b.en(f"{label_en}: {en}")
    b.rule()
    b.gap(12)
    b.qr(z.qr)
    b.gap(12)
    b.ar("توقيع الموظف: ....................", align="right")
    b.ar("توقيع المشرف: ....................", align="right")


def _test_page(b: _Builder, t: TestPage) -> None:
    b.ar(CENTRE_AR, align="center", size=AR_TITLE, bold=True)
    b.en("PRINTER TEST PAGE", align="center", bold=True)
    b.rule()
    b.ar("لا إله إلا الله — اختبار تشكيل الحروف العربية (لام ألف)")
    b.en("Arabic above: joined letters, right to left.")
    b.en("ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789")
    b.en("Double size", scale=2)
    if t.van_id:
        b.en(f"Van {t.van_id}")
    if t.printed_at:
        b.en(f"Printed {t.printed_at}")
    if t.note:
        b.en(t.note)
    b.gap(12)
    b.qr("EG-PRINTER-TEST")
    b.gap(12)
    b.en("If the code above scans, the printer is ready.", align="center")

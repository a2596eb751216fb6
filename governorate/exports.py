"""The performance screens' tables as files for the ministry's reporting: CSV and XLSX (openpyxl).

A table is a title, its columns (Arabic and English headings) and rows of values as governorate/performance.py
gives them; ``cells`` turns each value into what a reader of the file wants: durations in hours or minutes,
shares in per cent, money in pounds. Texts that came from a van (an operator's name, a service code) are written
as text, never as a formula: a leading ``= + - @`` (CSV and spreadsheet injection) is quoted with an apostrophe,
and characters a spreadsheet cannot hold (control characters) are dropped.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from governorate import performance as perf

# (key, Arabic heading, English heading, unit): unit says how the value is written
FIGURE_COLUMNS = [
    ("received", "الطلبات المستلمة", "Requests received", "count"),
    ("decided", "تم البت فيها", "Decided", "count"),
    ("delivered", "سُلّمت", "Delivered", "count"),
    ("cancelled", "أُلغيت في الوحدة", "Cancelled at the van", "count"),
    ("in_time_share", "نسبة البت في الموعد القانوني", "Decided within the legal duration", "share"),
    ("decision_median_s", "وسيط زمن البت (ساعة)", "Median time to decision (h)", "hours"),
    ("decision_p90_s", "زمن البت ٩٠٪ (ساعة)", "Time to decision, 90th percentile (h)", "hours"),
    ("tickets", "التذاكر", "Tickets", "count"),
    ("wait_median_s", "وسيط الانتظار (دقيقة)", "Median wait (min)", "minutes"),
    ("wait_p90_s", "الانتظار ٩٠٪ (دقيقة)", "Wait, 90th percentile (min)", "minutes"),
    ("service_median_s", "وسيط زمن الخدمة (دقيقة)", "Median service time (min)", "minutes"),
    ("no_show_rate", "نسبة عدم الحضور", "No-show rate", "share"),
    *[(f"collected_{m}", f"المحصّل — {ar}", f"Collected — {en}", "money") for m, ar, en in (
        ("cash", "نقدًا", "cash"), ("card", "بطاقة", "card"), ("reference", "دفع إلكتروني", "e-payment"))],
    ("refunded", "المردود", "Refunded", "money"),
    ("net", "الصافي", "Net", "money"),
    ("shifts", "الورديات المغلقة", "Shifts closed", "count"),
    ("shift_difference", "فروق الورديات (سالب = عجز)", "Shift differences (negative = short)", "money"),
]
WEEK_COLUMNS = [("week", "الأسبوع", "ISO week", "text"), ("monday", "يبدأ في", "Starts on", "text"),
                *[c for c in FIGURE_COLUMNS if not c[0].startswith(("collected_", "refunded", "net", "shift"))]]
TABLES = ("figures", "weekly")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Table:
    title: str  # the sheet's name (ASCII, short)
    columns: list[tuple[str, str, str, str]]
    rows: list[dict]


def figures_table(rows: list[dict], by: str) -> Table:
    ar, en, _ = perf.GROUPINGS[by]
    return Table(f"by-{by}", [("key", ar, en, "text"), *FIGURE_COLUMNS], rows)


def weekly_table(rows: list[dict]) -> Table:
    return Table("weekly", WEEK_COLUMNS, rows)


def headings(table: Table) -> list[str]:
    return [f"{ar} / {en}" for _, ar, en, _ in table.columns]


def cells(table: Table) -> list[list]:
    return [[_value(row.get(key), unit) for key, _, _, unit in table.columns] for row in table.rows]


def _value(value, unit: str):
    if value is None:
        return None
    if unit == "share":
        return round(100 * value, 1)
    if unit == "hours":
        return round(value / 3600, 1)
    if unit == "minutes":
        return round(value / 60, 1)
    if unit == "money":
        return round(value / 100, 2)
    if unit == "text":
        return safe_text(str(value))
    return value


def safe_text(text: str) -> str:
    """A van's text as a spreadsheet shows it: no control characters, never read as a formula."""
    text = _CONTROL.sub("", text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark (so spreadsheet programs read the Arabic), one heading row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headings(table))
    for row in cells(table):
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(tables: list[Table], right_to_left: bool = True) -> bytes:
    """One sheet per table, headings in bold and frozen, sheets right-to-left for Arabic readers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(table.title[:31])
        sheet.sheet_view.rightToLeft = right_to_left
        sheet.append(headings(table))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in cells(table):
            sheet.append(row)
            for cell, (_, _, _, unit) in zip(sheet[sheet.max_row], table.columns, strict=True):
                if unit == "text" and cell.value is not None:
                    cell.data_type = "s"  # text, even if it looks like a formula (it was quoted anyway)
        sheet.freeze_panes = "B2"
        for index, _column in enumerate(table.columns, start=1):
            sheet.column_dimensions[sheet.cell(1, index).column_letter].width = 18
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

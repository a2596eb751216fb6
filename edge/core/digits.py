"""Conversion between Western (0-9), Eastern Arabic (٠-٩) and Persian (۰-۹) digits."""

from __future__ import annotations

_EASTERN = "٠١٢٣٤٥٦٧٨٩"
_PERSIAN = "۰۱۲۳۴۵۶۷۸۹"
_TO_ASCII = str.maketrans(_EASTERN + _PERSIAN, "0123456789" * 2)
_TO_EASTERN = str.maketrans("0123456789", _EASTERN)


def to_ascii(text: str) -> str:
    """Replace Eastern Arabic and Persian digits by ASCII digits; everything else is kept."""
    return text.translate(_TO_ASCII)


def to_eastern(text: str | int) -> str:
    """Replace ASCII digits by Eastern Arabic digits, for text shown in Arabic."""
    return str(text).translate(_TO_EASTERN)


def count_ar(n: int, one: str, two: str, few: str, many: str) -> str:
    """``n`` things in Arabic with the noun agreeing: 1 and 2 are said by the noun alone (``one``,
    ``two``: singular and dual), 3-10 take the plural (``few``), 11 and above the singular accusative
    (``many``); the rule looks at the last two digits, so 103 is "few" and 111 "many"."""
    if n == 1:
        return one
    if n == 2:
        return two
    return f"{to_eastern(n)} {few if 3 <= n % 100 <= 10 else many}"

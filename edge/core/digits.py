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

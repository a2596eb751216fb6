"""Amounts of money as integer piastres (100 piastres = 1 EGP): formatting and parsing for people."""

from __future__ import annotations

import re

from edge.core.digits import to_ascii, to_eastern
from edge.core.errors import EdgeError

PIASTRES_PER_EGP = 100
# Far above any fee a van collects; the cap keeps absurd input (thousands of digits) out of int().
MAX_PIASTRES = 10**11  # one billion EGP

_AR_THOUSANDS = "٬"  # U+066C ARABIC THOUSANDS SEPARATOR
_AR_DECIMAL = "٫"  # U+066B ARABIC DECIMAL SEPARATOR
_CURRENCY = {"en": "EGP", "ar": "ج.م"}
# Currency marks people add before or after a number; they carry no information, so they are dropped.
_MARK = r"(?:egp|l\.?e\.?|e£|ج\.?م\.?|جنيه(?:ا)?(?: مصري)?)"
_CURRENCY_MARKS = re.compile(rf"^{_MARK}\s*|\s*{_MARK}$", re.I)
# Either plain digits or correctly grouped thousands ("1,250"), then an optional decimal part.
_NUMBER = re.compile(r"(?P<int>\d{1,3}(?:,\d{3})+|\d*)(?:\.(?P<frac>\d*))?", re.ASCII)


class InvalidAmount(EdgeError):
    """An amount that cannot be read. ``reason``: "empty", "negative", "precision", "too-large",
    "not-a-number"; ``code`` is ``f"amount-{reason}"``."""

    def __init__(self, reason: str, message_ar: str, message_en: str, *, detail: str = ""):
        self.reason = reason
        super().__init__(message_ar, message_en, detail=detail, code=f"amount-{reason}")


def format_egp(piastres: int, lang: str = "en") -> str:
    """Format piastres for people: "1,250.50 EGP" or "١٬٢٥٠٫٥٠ ج.م".

    Always two decimals (also ".00") so that amounts on a receipt line up and a fee never looks
    different from one screen to the next. Negative amounts (refunds in reports) get a leading "-".
    """
    if isinstance(piastres, bool) or not isinstance(piastres, int):
        raise TypeError(f"piastres must be an int, not {type(piastres).__name__}")
    if lang not in _CURRENCY:
        raise ValueError(f"lang must be 'en' or 'ar', not {lang!r}")
    sign = "-" if piastres < 0 else ""
    pounds, rest = divmod(abs(piastres), PIASTRES_PER_EGP)
    if lang == "en":
        return f"{sign}{pounds:,}.{rest:02d} EGP"
    grouped = f"{pounds:,}".replace(",", _AR_THOUSANDS)
    return f"{sign}{to_eastern(grouped)}{_AR_DECIMAL}{to_eastern(f'{rest:02d}')} {_CURRENCY['ar']}"


def parse_egp(text: str) -> int:
    """Read an amount in EGP as an operator types it and return piastres.

    Accepts "1250", "1250.5", "1,250.50", "١٢٥٠٫٥", "١٬٢٥٠٫٥٠ ج.م", "150 EGP". Thousands separators
    must group by three (so "1,5" is refused rather than guessed). At most two decimals.
    """
    raw = text.strip()
    cleaned = to_ascii(raw).replace(_AR_THOUSANDS, ",").replace(_AR_DECIMAL, ".")
    cleaned = _CURRENCY_MARKS.sub("", cleaned).strip()
    if not cleaned:
        raise InvalidAmount(
            "empty",
            "لم تُدخل مبلغًا. اكتب المبلغ بالجنيه، مثل ١٥٠ أو ١٥٠٫٥٠.",
            "No amount was entered. Type the amount in EGP, e.g. 150 or 150.50.",
        )
    if cleaned.startswith(("-", "\u2212")):
        raise InvalidAmount(
            "negative",
            "لا يمكن أن يكون المبلغ سالبًا. اكتب المبلغ دون علامة الطرح.",
            "The amount cannot be negative. Type it without a minus sign.",
            detail=f"input {raw[:40]!r}",
        )
    match = _NUMBER.fullmatch(cleaned)
    if match is None or not any(c.isdigit() for c in cleaned):
        raise InvalidAmount(
            "not-a-number",
            f"«{raw[:40]}» ليس مبلغًا صحيحًا. اكتب المبلغ بالأرقام، مثل ١٥٠ أو ١٥٠٫٥٠.",
            f"“{raw[:40]}” is not an amount. Type the amount in digits, e.g. 150 or 150.50.",
            detail=f"input {raw[:40]!r}",
        )
    whole = match["int"].replace(",", "") or "0"
    frac = match["frac"] or ""
    if len(frac) > 2:
        raise InvalidAmount(
            "precision",
            "المبلغ يُكتب برقمين على الأكثر بعد العلامة العشرية (قروش). صحّح المبلغ وأعد كتابته.",
            "An amount has at most two digits after the decimal point (piastres). "
            "Correct the amount and type it again.",
            detail=f"input {raw[:40]!r}",
        )
    if len(whole) > 15:  # checked before int() so absurd input stays cheap
        raise _too_large(raw)
    piastres = int(whole) * PIASTRES_PER_EGP + int(frac.ljust(2, "0"))
    if piastres > MAX_PIASTRES:
        raise _too_large(raw)
    return piastres


def _too_large(raw: str) -> InvalidAmount:
    return InvalidAmount(
        "too-large",
        "المبلغ كبير جدًا. راجع عدد الأرقام وأعد كتابته.",
        "The amount is far too large. Check the number of digits and type it again.",
        detail=f"input {raw[:40]!r}",
    )

"""Egyptian mobile numbers: parse what people type into the canonical 11-digit form (01XXXXXXXXX)."""

from __future__ import annotations

import re

from edge.core import digits
from edge.core.errors import EdgeError

# Operator prefixes: 010 Vodafone, 011 Etisalat (e&), 012 Orange, 015 WE.
PREFIXES = ("010", "011", "012", "015")
_SEPARATORS = re.compile(r"[\s\-().]")


class InvalidMobile(EdgeError):
    code = "mobile-invalid"


def parse(text: str) -> str:
    """Return the number as 01XXXXXXXXX; accepts +20 / 0020 / 20 prefixes, Eastern digits, spaces, hyphens."""
    raw = _SEPARATORS.sub("", digits.to_ascii(text or ""))
    if raw.startswith("+"):
        raw = raw[1:]
    if raw.startswith("0020"):
        raw = raw[4:]
    elif raw.startswith("20") and len(raw) in (12, 13):
        raw = raw[2:]
    if not raw.startswith("0"):
        raw = "0" + raw  # people write +20 10…, and also +20 010…
    if not (raw.isascii() and raw.isdigit()) or len(raw) != 11:
        raise InvalidMobile(
            "رقم المحمول يجب أن يكون ١١ رقمًا ويبدأ بـ ٠١، مثل ٠١٠١٢٣٤٥٦٧٨.",
            "A mobile number has 11 digits and starts with 01, for example 01012345678.",
            detail=f"got {len(raw)} characters",
        )
    if raw[:3] not in PREFIXES:
        raise InvalidMobile(
            "رقم المحمول يجب أن يبدأ بـ ٠١٠ أو ٠١١ أو ٠١٢ أو ٠١٥.",
            "A mobile number must start with 010, 011, 012 or 015.",
            detail=f"prefix {raw[:3]}",
        )
    return raw

"""GS1 element strings (a QR code with FNC1 in first position) as the human-readable "(AI)value…" text.

A GS1 QR code carries Application Identifiers and their values back to back, e.g.
``0109506000134352 17201225 10ABC123`` (spaces added); a variable-length value that is not the last one
ends with the GS character (0x1D, what FNC1 becomes inside the data). People, and the software that
checks such codes, read it as ``(01)09506000134352(17)201225(10)ABC123``.

zxing-cpp gives that form itself (``TextMode.HRI``, ``content_type == GS1``). zbar only gives the raw
string (with GS separators) and a GS1 flag in the symbol's modifiers; ``hri`` turns that raw string into
the same text, so a GS1 code reads the same whichever library read it. The AI table below is what the
conversion needs and nothing more: how many digits each AI has (by its first two digits, GS1 General
Specifications §3), and the fixed value lengths of the "predefined length" AIs that never need a GS
after them (§7.8.5: 00–04, 11–17, 20, 31–36, 41; the reserved 14, 18 and 19 are left out, as
zxing-cpp does). Every other value runs to the next GS or to the end.
"""

from __future__ import annotations

GS = "\x1d"

# AI length (digits) by the AI's first two digits.
_AI_DIGITS: dict[str, int] = {}
for _p in ("00", "01", "02", "03", "04", "10", "11", "12", "13", "15", "16", "17", "20", "21", "22", "30",
           "37", *(str(n) for n in range(90, 100))):
    _AI_DIGITS[_p] = 2
for _p in ("23", "24", "25", "40", "41", "42", "71"):
    _AI_DIGITS[_p] = 3
for _p in ("31", "32", "33", "34", "35", "36", "39", "43", "70", "72", "80", "81", "82"):
    _AI_DIGITS[_p] = 4

# Value length of the predefined-length AIs (by the first two digits of the AI).
_FIXED: dict[str, int] = {"00": 18, "01": 14, "02": 14, "03": 14, "04": 16, "11": 6, "12": 6, "13": 6,
                          "15": 6, "16": 6, "17": 6, "20": 2, "41": 13,
                          **{str(n): 6 for n in range(31, 37)}}


def hri(raw: str) -> str | None:
    """``raw`` (a GS1 element string, GS between variable-length values) as "(AI)value…"; None when it is not one.

    A leading symbology identifier (``]Q3``) or GS is ignored. None (the caller keeps the raw text) when an
    AI is unknown, a fixed-length value is cut short, or a value is empty.
    """
    s = raw
    if s.startswith("]Q3") or s.startswith("]C1") or s.startswith("]d2"):
        s = s[3:]
    s = s.lstrip(GS)
    out: list[str] = []
    i = 0
    while i < len(s):
        prefix = s[i:i + 2]
        digits = _AI_DIGITS.get(prefix)
        if digits is None or not (s[i:i + digits].isascii() and s[i:i + digits].isdigit()) or len(s) < i + digits:
            return None
        ai = s[i:i + digits]
        i += digits
        fixed = _FIXED.get(prefix)
        if fixed is not None:
            value = s[i:i + fixed]
            if len(value) != fixed or GS in value:
                return None
            i += fixed
            if s[i:i + 1] == GS:  # allowed (if unnecessary) after a fixed-length value
                i += 1
        else:
            end = s.find(GS, i)
            end = len(s) if end < 0 else end
            value = s[i:end]
            i = end + 1
        if not value:
            return None
        out.append(f"({ai}){value}")
    return "".join(out) or None

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


# Unicode's isolate and mark characters (UAX #9): an isolated left-to-right run, and a left-to-right mark.
LRI, PDI, LRM = "\u2066", "\u2069", "\u200e"


def eastern_run(text: str | int) -> str:
    """Eastern Arabic digits that keep their written order inside Arabic text.

    The bidi algorithm gives Eastern Arabic digits the class AN, and a hyphen, a star, a colon or a space
    between two such groups takes the right-to-left direction: "007-261121-0001-5" would be drawn
    ٥-١٠٠٠-١٢١١٦٢-٧٠٠, its groups reversed, even inside a dir="ltr" element or on paper (issue 18). So a
    number with separators becomes an isolated left-to-right run (LRI … PDI) whose separators sit between
    left-to-right marks: it is drawn as written, and the text around it is untouched. A plain number (٣)
    is only converted."""
    eastern = to_eastern(text)
    if not any(c.isdigit() for c in eastern) or all(c.isdigit() for c in eastern):
        return eastern
    out, run = [LRI], ""
    for c in eastern:
        if c.isdigit():
            if run:
                out.append(LRM + run + LRM)
                run = ""
            out.append(c)
        else:
            run += c
    if run:
        out.append(LRM + run + LRM)
    return "".join(out) + PDI


def count_ar(n: int, one: str, two: str, few: str, many: str) -> str:
    """``n`` things in Arabic with the noun agreeing: 1 and 2 are said by the noun alone (``one``,
    ``two``: singular and dual), 3-10 take the plural (``few``), 11 and above the singular accusative
    (``many``); the rule looks at the last two digits, so 103 is "few" and 111 "many"."""
    if n == 1:
        return one
    if n == 2:
        return two
    return f"{to_eastern(n)} {few if 3 <= n % 100 <= 10 else many}"

"""Parse and check Egyptian national ID numbers (الرقم القومي) as citizens type them at the van."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import StrEnum

from edge.core import governorates
from edge.core.digits import eastern_run, to_ascii, to_eastern
from edge.core.errors import EdgeError
from edge.core.governorates import Governorate

LENGTH = 14
_ASCII_DIGITS = frozenset("0123456789")
# People copy the number in groups ("2 900101 01 2345 6", "29001-0101-23456"): spaces, and the
# hyphen/dash look-alikes a phone or an Arabic keyboard produces, are dropped wherever they appear.
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"
# Digit 1 is the century of birth. Only these two are in circulation.
_CENTURIES = {"2": 1900, "3": 2000}


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"


class InvalidNationalId(EdgeError):
    """A national ID that cannot be right; ``reason`` says which rule it broke.

    Reasons: "empty", "length", "not-digits", "century", "date", "future-date", "governorate".
    The ``code`` is ``f"national-id-{reason}"``. Messages and detail never contain the full number.
    """

    def __init__(self, reason: str, message_ar: str, message_en: str, *, detail: str = ""):
        self.reason = reason
        super().__init__(message_ar, message_en, detail=detail, code=f"national-id-{reason}")


@dataclass(frozen=True, repr=False)
class NationalId:
    number: str  # 14 ASCII digits
    birth_date: datetime.date
    gender: Gender
    governorate: Governorate

    def age(self, on: datetime.date) -> int:
        """Full years on ``on``. Someone born on 29 February gains a year on 1 March in common years."""
        if on < self.birth_date:
            raise ValueError(f"{on} is before the birth date")
        had_birthday = (on.month, on.day) >= (self.birth_date.month, self.birth_date.day)
        return on.year - self.birth_date.year - (0 if had_birthday else 1)

    def masked(self) -> str:
        """The number safe for logs and receipts: first 7 digits (century + birth date) and last 2."""
        return mask(self.number)

    def __repr__(self) -> str:
        # The full number is personal data: it must never reach a log through repr() or an f-string.
        return (
            f"NationalId({self.masked()}, born {self.birth_date.isoformat()}, "
            f"{self.gender.value}, {self.governorate.name_en})"
        )

    __str__ = __repr__


def mask(number: str) -> str:
    """Hide the middle of a 14-digit number: "2900101*****67"."""
    return number[:7] + "*" * (len(number) - 9) + number[-2:]


def parse(text: str, *, today: datetime.date | None = None) -> NationalId:
    """Read a national ID as typed or scanned, or raise InvalidNationalId saying what to fix.

    Accepted: surrounding whitespace; spaces and hyphens anywhere between the digits (they are
    dropped); Eastern Arabic (٠-٩) and Persian (۰-۹) digits. The 14th digit is a check digit whose
    algorithm is not public, so it is never used to reject a number.
    """
    today = today or datetime.date.today()
    number = _normalise(text)
    century = _CENTURIES.get(number[0])
    if century is None:
        raise _century_error(number[0])
    birth_date = _birth_date(century, number)
    if birth_date > today:
        raise _future_error(birth_date, number)
    governorate = governorates.BY_CODE.get(number[7:9])
    if governorate is None:
        raise _governorate_error(number[7:9], number)
    gender = Gender.MALE if int(number[12]) % 2 else Gender.FEMALE
    return NationalId(number, birth_date, gender, governorate)


def _normalise(text: str) -> str:
    """ASCII digits only, separators removed; raises for empty, non-digit or wrong-length input."""
    cleaned = "".join(c for c in to_ascii(text) if not c.isspace() and c not in _DASHES)
    if not cleaned:
        raise InvalidNationalId(
            "empty",
            "لم تُدخل الرقم القومي. اكتب الأرقام الأربعة عشر المطبوعة على بطاقة الرقم القومي.",
            "No national ID was entered. Type the 14 digits printed on the national ID card.",
        )
    bad = next((c for c in cleaned if c not in _ASCII_DIGITS), None)
    if bad is not None:
        shown = _show_char(bad)
        raise InvalidNationalId(
            "not-digits",
            f"الرقم القومي يتكون من أرقام فقط، و«{shown}» ليس رقمًا. "
            "اكتب الأرقام الأربعة عشر المطبوعة على البطاقة.",
            f"The national ID contains digits only; “{shown}” is not a digit. "
            "Type the 14 digits printed on the card.",
            detail=f"first non-digit {bad!r} (U+{ord(bad):04X})",
        )
    if len(cleaned) != LENGTH:
        count = len(cleaned)
        raise InvalidNationalId(
            "length",
            f"يجب أن يتكون الرقم القومي من {to_eastern(LENGTH)} رقمًا، وعدد الأرقام التي أدخلتها "
            f"{to_eastern(count)}. راجع الرقم على البطاقة وأعد كتابته.",
            f"The national ID must have {LENGTH} digits; you entered {count}. "
            "Check the number on the card and type it again.",
            detail=f"{count} digits",
        )
    return cleaned


def _show_char(c: str) -> str:
    return c if c.isprintable() else f"U+{ord(c):04X}"


def _birth_date(century: int, number: str) -> datetime.date:
    year, month, day = century + int(number[1:3]), int(number[3:5]), int(number[5:7])
    try:
        return datetime.date(year, month, day)
    except ValueError:
        shown = f"{year}-{number[3:5]}-{number[5:7]}"
        raise InvalidNationalId(
            "date",
            f"تاريخ الميلاد في الرقم القومي (الأرقام من ٢ إلى ٧) ليس تاريخًا صحيحًا: {eastern_run(shown)}. "
            "راجع هذه الأرقام على البطاقة وأعد كتابتها.",
            f"The birth date in the national ID (digits 2–7) is not a real date: {shown}. "
            "Check these digits against the card and type them again.",
            detail=f"{mask(number)}: no such date {shown}",
        ) from None


def _century_error(digit: str) -> InvalidNationalId:
    return InvalidNationalId(
        "century",
        "الرقم الأول في الرقم القومي يدل على قرن الميلاد ويجب أن يكون ٢ (مواليد ١٩٠٠–١٩٩٩) "
        f"أو ٣ (مواليد ٢٠٠٠–٢٠٩٩)، وقد أدخلت {to_eastern(digit)}. راجع الرقم الأول على البطاقة.",
        "The first digit of the national ID is the century of birth and must be 2 (born 1900–1999) "
        f"or 3 (born 2000–2099); you entered {digit}. Check the first digit against the card.",
        detail=f"century digit {digit}",
    )


def _future_error(birth_date: datetime.date, number: str) -> InvalidNationalId:
    shown = birth_date.isoformat()
    return InvalidNationalId(
        "future-date",
        f"تاريخ الميلاد في الرقم القومي (الأرقام من ٢ إلى ٧) في المستقبل: {eastern_run(shown)}. "
        "راجع الرقم الأول (القرن) والأرقام من ٢ إلى ٧ على البطاقة.",
        f"The birth date in the national ID (digits 2–7) is in the future: {shown}. "
        "Check the first digit (century) and digits 2–7 against the card.",
        detail=f"{mask(number)}: birth date {shown} is after today",
    )


def _governorate_error(code: str, number: str) -> InvalidNationalId:
    return InvalidNationalId(
        "governorate",
        f"كود المحافظة {to_eastern(code)} في الرقمين ٨ و٩ غير معروف. راجع الرقمين ٨ و٩ على البطاقة.",
        f"Unknown governorate code {code} in digits 8–9. Check digits 8 and 9 against the card.",
        detail=f"{mask(number)}: governorate code {code}",
    )

"""A citizen as a request records them: national ID, full name, optional mobile — the minimum the back office needs."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from edge.core import phone
from edge.core.errors import EdgeError
from edge.core.national_id import NationalId

_SPACES = re.compile(r"\s+")


class InvalidName(EdgeError):
    code = "citizen-name-invalid"


@dataclass(frozen=True)
class Citizen:
    national_id: NationalId
    name: str
    mobile: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean_name(self.name))
        if self.mobile:
            object.__setattr__(self, "mobile", phone.parse(self.mobile))
        else:
            object.__setattr__(self, "mobile", None)


def clean_name(text: str) -> str:
    """The full name with spaces collapsed; refuses names that cannot be a person's full name."""
    name = _SPACES.sub(" ", unicodedata.normalize("NFC", text or "")).strip()
    if len(name.split(" ")) < 2:
        raise InvalidName(
            "اكتب الاسم الرباعي أو الثلاثي كما في بطاقة الرقم القومي.",
            "Type the full name (at least first and father's name) as on the national ID card.",
            detail=f"{len(name.split())} word(s)",
        )
    if len(name) > 120 or any(c.isdigit() or unicodedata.category(c).startswith("C") for c in name):
        raise InvalidName(
            "الاسم يجب أن يحتوي على حروف فقط (بدون أرقام) وألا يزيد عن ١٢٠ حرفًا.",
            "The name must contain letters only (no digits) and be at most 120 characters.",
            detail=f"length {len(name)}",
        )
    return name

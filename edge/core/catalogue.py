"""The service catalogue: the services a van offers, their documents, fees and legal durations."""

from __future__ import annotations

import datetime
import os
import pathlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from edge.core.digits import to_eastern
from edge.core.errors import EdgeError


@dataclass(frozen=True)
class Document:
    code: str
    name_ar: str
    name_en: str
    mandatory: bool


@dataclass(frozen=True)
class Category:
    code: str
    name_ar: str
    name_en: str
    ticket_series: str
    order: int


@dataclass(frozen=True)
class Service:
    code: str
    name_ar: str
    name_en: str
    category: str
    documents: tuple[Document, ...]  # mandatory ones first
    fee_piastres: int  # 100 piastres = 1 EGP; money is never a float
    fee_illustrative: bool
    duration_days: int
    law: str | None
    notes_ar: str | None
    notes_en: str | None
    # Set for a service whose amount is assessed case by case (a reconciliation amount, an instalment, rent):
    # the operator enters it, up to this bound, and a supervisor confirms it; fee_piastres is then 0.
    fee_max_piastres: int | None = None

    @property
    def fee_assessed(self) -> bool:
        return self.fee_max_piastres is not None


# Every way a catalogue can be refused: problem -> (Arabic, English), with fields key, value and extra
# (extra may be an (Arabic, English) pair).
_PROBLEMS = {
    "syntax": ("خطأ في صياغة TOML: {value}", "TOML syntax error: {value}"),
    "unreadable": ("تعذرت قراءة الملف", "cannot read the file: {value}"),
    "not-table": ("«{key}» يجب أن يكون جدولًا", "'{key}' must be a table"),
    "unknown-key": ("مفتاح غير معروف «{key}»", "unknown key '{key}'"),
    "missing-key": ("المفتاح «{extra}» مفقود", "'{extra}' is missing"),
    "empty-list": ("«{key}» يجب أن يضم عنصرًا واحدًا على الأقل", "'{key}' needs at least one entry"),
    "text": ("«{key}» يجب أن يكون نصًا غير فارغ", "'{key}' must be non-empty text, not {value!r}"),
    "arabic": ("«{key}» لا يحتوي على حروف عربية", "'{key}' has no Arabic letters: {value!r}"),
    "pattern": ("«{key}» يجب أن يكون على صورة {extra}", "'{key}' must look like {extra}, not {value!r}"),
    "flag": ("«{key}» يجب أن يكون true أو false", "'{key}' must be true or false, not {value!r}"),
    "positive": ("«{key}» يجب أن يكون عددًا صحيحًا موجبًا", "'{key}' must be a whole number > 0: {value!r}"),
    "date": ("«{key}» يجب أن يكون تاريخًا مثل 2026-01-31", "'{key}' must be a date like 2026-01-31"),
    "fee": ("«{key}» يجب أن يكون مبلغًا بالجنيه من صفر إلى مئة مليون",
            "'{key}' must be an amount in EGP from 0 to 100,000,000: {value!r}"),
    "decimals": ("«{key}» يتجاوز رقمين بعد العلامة العشرية", "'{key}' has more than 2 decimals: {value!r}"),
    "code-length": ("«{key}» أطول من {extra} حرفًا", "'{key}' is longer than {extra} characters: {value!r}"),
    "duration": ("«{key}» يجب أن يكون عدد أيام من ١ إلى {extra}",
                 "'{key}' must be a number of days from 1 to {extra}: {value!r}"),
    "document-list": (
        "«{key}» يجب أن يكون قائمة برموز المستندات",
        "'{key}' must be a list of document codes",
    ),
    "unknown-document": ("مستند غير معروف «{value}»", "unknown document '{value}' in '{key}'"),
    "repeated-document": ("المستند «{value}» مذكور مرتين", "document '{value}' is listed twice"),
    "no-mandatory-document": ("لا تتضمن الخدمة أي مستند إلزامي", "a service needs a mandatory document"),
    "duplicate": ("القيمة «{value}» مستخدمة من قبل ({extra})", "'{key}' {value!r} is already used ({extra})"),
    "unknown-category": ("فئة غير معروفة «{value}»", "unknown category '{value}'"),
    "notes-pair": ("يجب كتابة الملاحظات بالعربية والإنجليزية معًا", "notes need both notes_ar and notes_en"),
    "assessed-fee": ("الخدمة ذات المبلغ المقدَّر («{key}») يكون رسمها الثابت صفرًا وحدّها الأقصى أكبر من صفر",
                     "a service with an assessed amount ('{key}') has fee_egp = 0 and a fee_max_egp above 0"),
    "override-unknown": ("تعديل رسم لخدمة غير موجودة «{key}»", "fee override for unknown service '{key}'"),
    "override-fee": ("الرسم المعدل للخدمة «{key}» غير صالح", "fee override for '{key}' is not piastres ≥ 0"),
    "document-names": ("للمستند «{key}» اسمان مختلفان", "document '{key}' has two different names"),
}


MAX_FEE_EGP = Decimal(100_000_000)
# A request and a ticket carry their service and category codes to the governorate, where the wire contract
# (edge.sync.schema) takes at most 32 characters: a longer code would make every request for the service
# unsendable, and the sync process stop on it (issue 16, found by the downlink fuzz).
MAX_CODE_LENGTH = 32
# The expected ready date is the submission day plus the duration: ten years is beyond any legal time, and far
# below what a date can hold (a duration of 10**12 days made registering the service raise OverflowError).
MAX_DURATION_DAYS = 3650


class CatalogueError(EdgeError):
    """A catalogue (file, dict or fee overrides) that cannot be used. ``problem`` is a key of
    _PROBLEMS; ``line`` is 1-based, or None when there is no text to point into; ``path`` names the
    value, e.g. ``services[3].fee_egp``."""

    code = "catalogue-invalid"

    def __init__(
        self,
        problem: str,
        *,
        source: str,
        line: int | None = None,
        path: str = "",
        subject=("", ""),
        **fields,
    ):
        self.problem, self.source, self.line, self.path = problem, source, line, path
        fields = {"key": "", "value": "", "extra": ""} | fields
        extra = fields.pop("extra")
        extras = extra if isinstance(extra, tuple) else (extra, extra)
        ar, en = (t.format(extra=x, **fields) for t, x in zip(_PROBLEMS[problem], extras, strict=True))
        where_ar = f"{source}، السطر {to_eastern(line)}" if line else source
        where_en = f"{source}, line {line}" if line else source
        about_ar, about_en = (f"{s}: " if s else "" for s in subject)
        super().__init__(
            f"دليل الخدمات غير صالح ({where_ar}): {about_ar}{ar}",
            f"Invalid service catalogue ({where_en}): {about_en}{en}",
            detail=path,
        )


class UnknownService(EdgeError, KeyError):
    code = "unknown-service"
    __str__ = Exception.__str__  # KeyError would print the message as a quoted repr

    def __init__(self, code: str):
        self.service_code = code
        super().__init__(f"الخدمة «{code}» غير موجودة في دليل الخدمات.", f"There is no service “{code}”.")


class UnknownCategory(EdgeError, KeyError):
    code = "unknown-category"
    __str__ = Exception.__str__

    def __init__(self, code: str):
        self.category_code = code
        super().__init__(f"الفئة «{code}» غير موجودة في دليل الخدمات.", f"There is no category “{code}”.")


@dataclass(frozen=True)
class Catalogue:
    version: int
    published: datetime.date
    categories: tuple[Category, ...]  # in display order
    services: tuple[Service, ...]  # in file order

    def service(self, code: str) -> Service:
        found = next((s for s in self.services if s.code == code), None)
        if found is None:
            raise UnknownService(code)
        return found

    def category(self, code: str) -> Category:
        found = next((c for c in self.categories if c.code == code), None)
        if found is None:
            raise UnknownCategory(code)
        return found

    def services_in(self, category_code: str) -> tuple[Service, ...]:
        self.category(category_code)
        return tuple(s for s in self.services if s.category == category_code)

    def with_fees(self, overrides: Mapping[str, int]) -> Catalogue:
        """A copy with fees (in piastres) replaced per service code, e.g. from the van's settings.

        An overridden fee is no longer illustrative: someone with authority has set it."""
        for code, fee in overrides.items():
            where = {"source": "fee overrides", "path": f"fees.{code}", "key": code, "value": fee}
            if not any(s.code == code for s in self.services):
                raise CatalogueError("override-unknown", **where)
            if isinstance(fee, bool) or not isinstance(fee, int) or fee < 0:
                raise CatalogueError("override-fee", **where)
        fixed = {
            c: replace(self.service(c), fee_piastres=fee, fee_illustrative=False)
            for c, fee in overrides.items()
        }
        return replace(self, services=tuple(fixed.get(s.code, s) for s in self.services))


class _Lines:
    """Where each table and key starts in the raw text. tomllib keeps no positions, so without this
    a semantic error could not name its line."""

    _HEADER = re.compile(r"\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?\s*(?:#.*)?$")
    _KEY = re.compile(r"\s*([A-Za-z0-9_-]+)\s*=")

    def __init__(self, text: str | None):
        self._known = text is not None
        self._blocks: dict[tuple[str, int], list[tuple[int, str]]] = {("", 0): []}
        counts: dict[str, int] = {}
        current = ("", 0)
        for number, raw in enumerate((text or "").splitlines(), 1):
            if header := self._HEADER.match(raw):
                counts[header[2]] = counts.get(header[2], -1) + 1 if header[1] == "[[" else 0
                current = (header[2], counts[header[2]])
                self._blocks[current] = []
            self._blocks[current].append((number, raw))

    def find(self, section: str, index: int, key: str | None, needle: str | None = None) -> int | None:
        if not self._known:
            return None
        block = self._blocks.get((section, index), [])
        starts = [i for i, (_, raw) in enumerate(block) if (m := self._KEY.match(raw)) and m[1] == key]
        if not starts and not section and (key, 0) in self._blocks:  # a top-level key written as a [table]
            return self._blocks[(key, 0)][0][0]
        if not starts:  # a missing key: point at the table that lacks it
            return block[0][0] if block and section else 1
        # In a list written over several lines, point at the entry rather than at the list's first line.
        hits = [n for n, raw in block[starts[0] :] if needle and f'"{needle}"' in raw]
        return hits[0] if hits else block[starts[0]][0]


@dataclass(frozen=True)
class _At:
    section: str  # "" for the top level
    index: int
    path: str
    anchor: str | None = None  # inline tables: every error points at the line of this key
    subject: tuple[str, str] = ("", "")  # what the error is about, for people: ("الخدمة X", "service X")


# What each table holds: key -> kind of value (see _Reader.check); "?" marks an optional key.
_TOP = dict(version="positive", published="date", documents="any", categories="any", services="any")
_DOCUMENT = dict(ar="arabic", en="text")
_CATEGORY = dict(code="code", name_ar="arabic", name_en="text", ticket_series="letter", order="positive")
_SERVICE = dict(
    code="code", name_ar="arabic", name_en="text", category="text", fee_egp="fee", fee_illustrative="flag?",
    duration_days="days", law="law?", documents="documents", optional_documents="documents?",
    notes_ar="arabic?", notes_en="text?", fee_max_egp="fee?",
)  # fmt: skip
# Text kinds with a fixed form. Laws have one citation form so screens can render it in either language.
_PATTERNS = {
    "code": (r"[A-Z][A-Z0-9]*(?:[-_][A-Z0-9]+)*", "SHOP-NEW"),
    "letter": (r"[A-Z]", "A"),
    "law": (r"Law \d+/\d{4}", "Law 119/2008"),
}


class _Reader:
    """Checks values and raises CatalogueError pointing at the line of the value at fault."""

    def __init__(self, source: str, lines: _Lines):
        self.source, self.lines, self.library = source, lines, {}

    def fail(self, problem: str, at: _At, key: str | None = None, value: Any = "", *, extra="", needle=None):
        line = self.lines.find(at.section, at.index, at.anchor or key, needle)
        path = at.path if at.anchor or not key else f"{at.path}.{key}".lstrip(".")
        fields = {"key": key or at.path or "the file", "value": value, "extra": extra}
        raise CatalogueError(problem, source=self.source, line=line, path=path, subject=at.subject, **fields)

    def duplicate(self, at: _At, key: str, value: Any, first: int):
        line = self.lines.find(at.section, first, key)
        where = (f"السطر {to_eastern(line)}", f"line {line}") if line else f"{at.section}[{first}]"
        self.fail("duplicate", at, key, value, extra=where)

    def fields(self, table: Any, at: _At, spec: dict[str, str]) -> dict[str, Any]:
        if not isinstance(table, Mapping):
            self.fail("not-table", at)
        for key in table:
            if key not in spec:
                self.fail("unknown-key", at, key)
        for key, kind in spec.items():
            if key not in table and not kind.endswith("?"):
                self.fail("missing-key", at, None, extra=key)
        return {
            k: self.check(kind.rstrip("?"), table[k], at, k) if k in table else None
            for k, kind in spec.items()
        }

    def check(self, kind: str, value: Any, at: _At, key: str) -> Any:
        """``value`` checked as ``kind`` and converted to its Python form."""
        if kind == "any":
            return value
        if kind == "flag":
            return value if isinstance(value, bool) else self.fail("flag", at, key, value)
        if kind == "positive":  # type(), not isinstance(): True is an int too
            return value if type(value) is int and value > 0 else self.fail("positive", at, key, value)
        if kind == "days":
            days = self.check("positive", value, at, key)
            if days > MAX_DURATION_DAYS:
                self.fail("duration", at, key, value, extra=(to_eastern(MAX_DURATION_DAYS), str(MAX_DURATION_DAYS)))
            return days
        if kind == "date":
            if isinstance(value, str):  # the JSON form carries the date as ISO text
                try:
                    value = datetime.date.fromisoformat(value)
                except ValueError:
                    pass
            # A TOML datetime is a date too, but not a publication day.
            return value if type(value) is datetime.date else self.fail("date", at, key, value)
        if kind == "fee":
            # Through str(): the float 12.35 must count as 12.35, not as 12.3499999…
            amount = Decimal(str(value)) if type(value) in (int, float) else Decimal("NaN")
            # An upper bound too: a fee of 1e308 cannot be rounded to piastres (or paid at a counter).
            if not amount.is_finite() or not 0 <= amount <= MAX_FEE_EGP:
                self.fail("fee", at, key, value)
            if amount != amount.quantize(Decimal("0.01")):
                self.fail("decimals", at, key, value)
            return int(amount * 100)
        if kind == "documents":
            if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
                self.fail("document-list", at, key)
            for n, code in enumerate(value):
                if code not in self.library:
                    self.fail("unknown-document", at, key, code, needle=code)
                if code in value[:n]:
                    self.fail("repeated-document", at, key, code, needle=code)
            return value
        if not isinstance(value, str) or not value.strip():
            self.fail("text", at, key, value)
        value = value.strip()
        if kind == "arabic" and not re.search(r"[\u0621-\u064A]", value):
            self.fail("arabic", at, key, value)
        if kind in _PATTERNS and not re.fullmatch(_PATTERNS[kind][0], value):
            self.fail("pattern", at, key, value, extra=_PATTERNS[kind][1])
        if kind == "code" and len(value) > MAX_CODE_LENGTH:
            self.fail("code-length", at, key, value, extra=(to_eastern(MAX_CODE_LENGTH), str(MAX_CODE_LENGTH)))
        return value


def _build(data: Any, source: str, lines: _Lines) -> Catalogue:
    r = _Reader(source, lines)
    top_at = _At("", 0, "")
    top = r.fields(data, top_at, _TOP)
    if not isinstance(top["documents"], Mapping):
        r.fail("not-table", top_at, "documents")
    for code, names in top["documents"].items():
        at = _At("documents", 0, f"documents.{code}", code, (f"المستند {code}", f"document {code}"))
        r.check("code", code, at, "code")
        doc = r.fields(names, at, _DOCUMENT)
        r.library[code] = (doc["ar"], doc["en"])

    categories: dict[str, Category] = {}
    seen: dict[str, dict[Any, int]] = {"code": {}, "ticket_series": {}, "order": {}}
    for i, raw in enumerate(_entries(r, top, "categories")):
        at = _At("categories", i, f"categories[{i}]", subject=_subject(raw, i, "الفئة", "category"))
        category = Category(**r.fields(raw, at, _CATEGORY))
        for key, known in seen.items():
            if (value := getattr(category, key)) in known:
                r.duplicate(at, key, value, known[value])
            known[value] = i
        categories[category.code] = category

    services: dict[str, Service] = {}
    for i, raw in enumerate(_entries(r, top, "services")):
        at = _At("services", i, f"services[{i}]", subject=_subject(raw, i, "الخدمة", "service"))
        f = r.fields(raw, at, _SERVICE)
        if f["code"] in services:
            r.duplicate(at, "code", f["code"], list(services).index(f["code"]))
        if f["category"] not in categories:
            r.fail("unknown-category", at, "category", f["category"])
        mandatory, optional = f["documents"], f["optional_documents"] or []
        if not mandatory:
            r.fail("no-mandatory-document", at, "documents")
        for code in optional:
            if code in mandatory:
                r.fail("repeated-document", at, "optional_documents", code, needle=code)
        if (f["notes_ar"] is None) != (f["notes_en"] is None):
            r.fail("notes-pair", at, "notes_ar" if f["notes_en"] is None else "notes_en")
        if f["fee_max_egp"] is not None and (f["fee_egp"] != 0 or f["fee_max_egp"] == 0):
            r.fail("assessed-fee", at, "fee_max_egp", f["fee_max_egp"])
        documents = [Document(c, *r.library[c], mandatory=True) for c in mandatory]
        documents += [Document(c, *r.library[c], mandatory=False) for c in optional]
        services[f["code"]] = Service(
            f["code"], f["name_ar"], f["name_en"], f["category"], tuple(documents), f["fee_egp"],
            bool(f["fee_illustrative"]), f["duration_days"], f["law"], f["notes_ar"], f["notes_en"],
            f["fee_max_egp"],
        )  # fmt: skip
    ordered = tuple(sorted(categories.values(), key=lambda c: c.order))
    return Catalogue(top["version"], top["published"], ordered, tuple(services.values()))


def _subject(raw: Any, index: int, ar: str, en: str) -> tuple[str, str]:
    """Names an entry for people by its code, or by its position when the code itself is at fault."""
    code = raw.get("code") if isinstance(raw, Mapping) else None
    name = code if isinstance(code, str) and code.strip() else f"#{index + 1}"
    return f"{ar} {name}", f"{en} {name}"


def _entries(r: _Reader, top: dict, key: str) -> list:
    if not isinstance(top[key], list) or not top[key]:
        r.fail("empty-list", _At("", 0, ""), key)
    return top[key]


def loads(text: str, source: str = "<string>") -> Catalogue:
    """Parse and validate catalogue TOML; a bad text raises CatalogueError naming the line at fault."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Before Python 3.14 the position is only in the message: "Invalid value (at line 3, column 9)".
        found = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = getattr(exc, "lineno", None) or (int(found[1]) if found else text.count("\n") + 1)
        reason = re.sub(r"\s*\(at [^)]*\)$", "", str(exc))
        raise CatalogueError("syntax", source=source, line=line, value=reason) from exc
    return _build(data, source, _Lines(text))


def load(path: str | os.PathLike) -> Catalogue:
    path = pathlib.Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError("unreadable", source=str(path), value=exc) from exc
    return loads(text, source=str(path))


def default_path() -> pathlib.Path:
    return pathlib.Path(__file__).parent / "data" / "catalogue.toml"


def load_default() -> Catalogue:
    return load(default_path())


def to_dict(catalogue: Catalogue) -> dict:
    """The JSON-able form. It has the shape of the TOML file, so from_dict validates it the same way."""
    library: dict[str, dict[str, str]] = {}
    services = []
    for s in catalogue.services:
        for d in s.documents:
            names = {"ar": d.name_ar, "en": d.name_en}
            if library.setdefault(d.code, names) != names:
                raise CatalogueError(
                    "document-names", source="<catalogue>", path=f"documents.{d.code}", key=d.code
                )
        entry = {
            "code": s.code, "name_ar": s.name_ar, "name_en": s.name_en, "category": s.category,
            "fee_egp": s.fee_piastres // 100 if s.fee_piastres % 100 == 0 else s.fee_piastres / 100,
            "fee_illustrative": s.fee_illustrative, "duration_days": s.duration_days,
            "documents": [d.code for d in s.documents if d.mandatory],
            "optional_documents": [d.code for d in s.documents if not d.mandatory],
        }  # fmt: skip
        if s.fee_max_piastres is not None:
            entry["fee_max_egp"] = s.fee_max_piastres // 100 if s.fee_max_piastres % 100 == 0 else \
                s.fee_max_piastres / 100
        services.append(entry | {k: getattr(s, k) for k in ("law", "notes_ar", "notes_en") if getattr(s, k)})
    return {
        "version": catalogue.version,
        "published": catalogue.published.isoformat(),
        "documents": library,
        "categories": [vars(c).copy() for c in catalogue.categories],
        "services": services,
    }


def from_dict(data: Mapping, source: str = "<dict>") -> Catalogue:
    """Validate the to_dict form (e.g. received over the wire); errors carry a path but no line."""
    return _build(data, source, _Lines(None))

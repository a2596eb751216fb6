"""Hypothesis strategies for what may come down a van's downlink topics, and the oracle that says what the van
must make of each message. Shared by tests/sync/test_downlink_fuzz.py and ``python -m bench.downlink_fuzz``.

A strategy draws a :class:`Draft` (which topic, which envelope fields, how they are put on the wire), not the
bytes: a few values are only fixed when the message is sent (:class:`Fresh` message ids, so two examples never
share one by accident, and :class:`Next` versions of catalogues and trust lists, so some of them are newer than
what the van holds and apply). :func:`render` turns a draft into bytes; :func:`expect` says, from the bytes
alone and the van's state, whether the van must record the message in its inbox and, where the content
decides it, whether it must be applied or rejected.

Three fault classes (``Draft.fault``):

- ``hostile``: a well-formed envelope for this van with hostile field values (huge, NaN, negative numbers,
  year-1 and year-9999 dates, unknown states and request numbers, enormous strings, wrong types, nested junk);
- ``broken``: a payload that is not a valid envelope at all (random bytes, truncated CBOR, invalid UTF-8,
  JSON instead of CBOR, CBOR tags, trailing bytes, too deep, too big, a wrong schema version, another van's
  envelope, a kind on the wrong topic, a topic that is no downlink kind);
- ``replay``: a message sent before, again (:class:`Replay`: the same bytes, or the same msg_id with other
  content).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import strategies as st
from ulid import ULID

from edge.core import catalogue as catalogue_mod
from edge.core import trust, workdays
from edge.core.errors import EdgeError
from edge.core.requests import TRANSITIONS, RequestNumber, RequestState
from edge.sync import protocol as p

# Every downlink kind the wire contract defines: the fuzz draws each of them in every example, and the test
# fails when the contract gains a kind this module does not know (KIND_BODIES below must cover it).
DOWN_KINDS = p.DOWN_KINDS
# Kinds the van takes outside the inbox: acks (the drain's), and a release's chunks (idempotent by themselves; the
# van's tel.update says what it holds).
NOT_INBOX = ("ack", "update-chunk")
# The kinds applied through the inbox: the ones the van answers with downlink.applied.
INBOX_KINDS = tuple(k for k in DOWN_KINDS if k not in NOT_INBOX)


# --------------------------------------------------------------------------------------------------
# What a strategy draws
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fresh:
    """A new ULID, made when the message is rendered."""


@dataclass(frozen=True)
class Next:
    """A catalogue or trust-list version ``step`` above the highest one sent so far (0: that one again)."""

    step: int


@dataclass(frozen=True)
class TrustSpec:
    """A trust list to sign when the message is rendered (a signature over a drawn version)."""

    version: Any  # int or Next
    governorate: str
    issued_at: datetime
    next_update: datetime
    certificates: tuple[str, ...]  # names of FuzzContext.certificates
    signed_by: str  # "ca" (the van's governorate CA) or "other" (another CA of the same governorate)
    damage: tuple[str, int] | None = None  # ("flip", at) or ("cut", at)


@dataclass(frozen=True)
class Draft:
    topic_kind: str  # the last topic segment (a downlink kind, or something that is not one)
    fields: Any  # the envelope (a dict with Fresh / Next / TrustSpec placeholders), or raw bytes
    fault: str  # "hostile" or "broken"
    encoding: str = "cbor"  # cbor, raw, cut, json, trailing, bad-utf8, tag, deep, oversize
    cut_at: int = 0
    topic_van: str = "V007"
    how: str = ""  # for a broken payload, how it is broken (one of BROKEN)


@dataclass(frozen=True)
class Replay:
    """Send an earlier message again: ``pick`` chooses among those the van recorded (modulo their number)."""

    pick: int
    altered: bool  # the same msg_id with another created_at, instead of the same bytes
    fault: str = "replay"


@dataclass(frozen=True)
class Batch:
    drafts: tuple[Draft, ...]
    replays: tuple[tuple[int, Replay], ...]  # (position among the drafts, replay)
    uplink_rows: int  # tx rows the van enqueues meanwhile
    requests: int = 0  # requests the van registers meanwhile


@dataclass
class FuzzContext:
    """What the strategies and the oracle know about the van under test."""

    van: str
    gov: str
    numbers: list[str]  # request numbers the van has registered
    ca: trust.Signer  # the CA whose certificate is in the van's keys folder
    other_ca: trust.Signer  # a CA of the same governorate that the van does not trust
    certificates: dict[str, x509.Certificate]  # "signer" (a van signer of ca), "ca", "other-signer"
    catalogue: dict  # catalogue.to_dict of the shipped catalogue
    cameras: tuple[str, ...]
    versions: dict[str, int] = field(default_factory=lambda: {"catalog": 1, "trust-list": 1})

    def seen(self, kind: str, version: int | None) -> None:
        """The van holds ``version`` of ``kind`` now: the next Next goes above it."""
        if isinstance(version, int):
            self.versions[kind] = max(self.versions[kind], version)

    def resolve(self, kind: str, value: Any) -> Any:
        if isinstance(value, Next):
            self.versions[kind] += value.step
            return self.versions[kind]
        return value


# --------------------------------------------------------------------------------------------------
# Hostile values
# --------------------------------------------------------------------------------------------------

HUGE_TEXT = "ا" * 20_000  # a plain value may have 20,000 characters; each is two bytes in UTF-8
NUMBERS = [1e308, -1e308, float("nan"), float("inf"), -float("inf"), -1, 0, 2**63 - 1, 2**63, -(2**63), 2**64,
           1.5, 0.001, 1e-300, -0.0, True, False]  # fmt: skip
TEXTS = ["", " ", "\x00", "A" * 10_001, HUGE_TEXT, "\u202eRTL", "../../etc/passwd", "'; DROP TABLE inbox;--",
         "%s%n{0}", "٣٣٣", "null"]  # fmt: skip
TIMES = ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59.999999+00:00", "2026-02-30T00:00:00+00:00",
         "2026-11-21T10:00:00+02:00", "2026-11-21T10:00:00", "2026-11-21", "yesterday", ""]  # fmt: skip
DAYS = ["0001-01-01", "9999-12-31", "2026-13-01", "20261121", "2026-11-21T10:00:00+00:00", ""]


def junk(max_leaves: int = 12) -> st.SearchStrategy:
    """Nested free-form values, including what CBOR carries and JSON does not (bytes, non-text keys)."""
    leaves = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
              | st.binary(max_size=20) | st.sampled_from(NUMBERS))  # fmt: skip
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.integers(-3, 3), inner, max_size=4),
        max_leaves=max_leaves,
    )


def nested(depth: int) -> Any:
    value: Any = "deep"
    for i in range(depth):
        value = [value] if i % 2 else {"x": value}
    return value


def hostile() -> st.SearchStrategy:
    """Any value of the wrong type or out of range."""
    return st.one_of(
        st.sampled_from(NUMBERS), st.sampled_from(TEXTS), st.sampled_from(TIMES), st.integers(), st.floats(),
        st.text(max_size=40), st.binary(max_size=40), junk(), st.integers(3, 12).map(nested),
    )


def ulids() -> st.SearchStrategy:
    # 128 random bits are a valid ULID; they never name one of the van's own outbox rows.
    return st.binary(min_size=16, max_size=16).map(lambda b: str(ULID.from_bytes(b)))


def times() -> st.SearchStrategy:
    """A created_at / at: mostly fresh, else stale, ahead of the clock, far past or future, or malformed."""
    offsets = st.sampled_from([0, 1, 59, 3600, 86400 * 3, -60, 86400 * 200, -7200, 86400 * 59])

    def at(seconds: int, zulu: bool) -> str:
        moment = datetime.now(UTC) - timedelta(seconds=seconds)
        return moment.isoformat().replace("+00:00", "Z") if zulu else moment.isoformat()

    return st.one_of(st.builds(at, offsets, st.booleans()), st.sampled_from(TIMES), hostile())


def request_numbers(ctx: FuzzContext) -> st.SearchStrategy:
    # Counted from the newest: the van registers new requests as the fuzz goes, which can still move on.
    known = st.integers(0, 10**6).map(lambda i: ctx.numbers[-1 - i % len(ctx.numbers)])
    van = int(ctx.van[1:])

    def number(van_: int, day: date, seq: int) -> str:
        return str(RequestNumber(van_, day, seq))

    days = st.dates(date(2000, 1, 1), date(2099, 12, 31))
    unknown = st.builds(number, st.just(van), days, st.integers(1, 9999))
    other_van = st.builds(number, st.integers(1, 999).filter(lambda v: v != van), days, st.integers(1, 9999))
    return st.one_of(known, known, unknown, unknown, other_van)


# --------------------------------------------------------------------------------------------------
# Bodies, kind by kind
# --------------------------------------------------------------------------------------------------


def _spoil(body: st.SearchStrategy) -> st.SearchStrategy:
    """A body of values the schema lets through (however hostile their meaning), and in about one draw of three
    one field replaced by a hostile value, dropped, or one field too many."""

    @st.composite
    def build(draw):
        value = draw(body)
        how = draw(st.sampled_from(["keep"] * 8 + ["replace", "replace", "drop", "add"]))
        if how == "keep" or not isinstance(value, dict):
            return value
        value = dict(value)
        if how == "add":
            value[draw(st.sampled_from(["extra", "signature", "", 1]))] = draw(junk())
        elif value:
            key = draw(st.sampled_from(sorted(value, key=str)))
            if how == "drop":
                value.pop(key)
            else:
                value[key] = draw(hostile(), label=f"body.{key}")
        return value

    return build()


def request_status_body(ctx: FuzzContext) -> st.SearchStrategy:
    # A new request is submitted: the states it may move to come first, so that the simplest draws (where a
    # derandomized run starts) are decisions the van applies, not refusals only.
    states = sorted((s.value for s in RequestState),
                    key=lambda s: RequestState(s) not in TRANSITIONS[RequestState.SUBMITTED])
    return _spoil(st.fixed_dictionaries({
        "number": request_numbers(ctx),
        "state": st.sampled_from(states),
        "reason": st.one_of(st.none(), st.text(max_size=500), st.just("ا" * 500), st.sampled_from(TEXTS[:3])),
        "at": valid_times(),
    }))  # fmt: skip


def valid_times() -> st.SearchStrategy:
    """Times the schema accepts, from year 1 to year 9999."""
    return st.one_of(
        st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31), timezones=st.just(UTC)).map(datetime.isoformat),
        st.sampled_from(TIMES[:2]),
        st.builds(lambda: datetime.now(UTC).isoformat()),
    )


# Values a catalogue field may be given, by field: extremes the catalogue's own checks may let through (first),
# then values they must refuse.
_CATALOGUE_EXTREMES = {
    "code": ["A" * 33, "X-" + "9" * 60, "A" * 200, "Z9"],
    "duration_days": [10**12, 999_999_999, 36_500, 3650, 2**63 - 1],
    "fee_egp": [100_000_000, 99_999_999.99, 0, 0.01],
    "name_ar": ["ا" * 20_000],
    "name_en": [HUGE_TEXT, "\u202eRTL", "'; DROP TABLE requests;--"],
    "law": ["Law 99999999999/2026", "Law 0/0000"],
    "order": [2**63 - 1, 10**6],
    "published": ["0001-01-01", "9999-12-31"],
}
_CATALOGUE_INVALID = {
    "fee_egp": [1e308, -1, -0.01, 0.001, 100_000_000.01, 1e-300, 12.345, 2**63, "12", None, True],
    "duration_days": [0, -1, 1.5, True, "30"],
    "code": ["lower", "", " ", "A B", "Ä"],
    "name_ar": ["", " ", "no arabic"],
    "name_en": ["", " ", 5],
    "documents": [[], ["NOPE"], "BIRTH-CERT", [1]],
    "optional_documents": [["NOPE"], "X", [None]],
    "category": ["NOPE", "", 7],
    "law": ["Law 1/1", "law"],
    "fee_illustrative": ["yes", 1, None],
    "notes_ar": ["ملاحظة"],
    "ticket_series": ["AA", "a", "1", ""],
    "order": [0, -1, 1.5],
    "published": DAYS[2:] + [20261121],
}


def _catalogue_value(name: str) -> st.SearchStrategy:
    extremes = st.sampled_from(_CATALOGUE_EXTREMES.get(name, TEXTS[3:5]))
    invalid = st.sampled_from(_CATALOGUE_INVALID.get(name, TEXTS))
    return st.one_of(extremes, extremes, invalid, hostile())


def catalogue_data(ctx: FuzzContext, version: Any) -> st.SearchStrategy:
    """The shipped catalogue under a new version with 0–3 hostile changes (or junk in its place, now and then)."""
    # Fields whose extremes might pass come up more often than the others.
    service_fields = sorted(set(catalogue_mod._SERVICE) | {"unknown_key"}) + ["code", "duration_days", "fee_egp"] * 3
    category_fields = sorted(set(catalogue_mod._CATEGORY) | {"unknown_key"}) + ["code", "order"] * 2
    services = st.tuples(st.just("services"), st.integers(0, 10**4), st.sampled_from(service_fields), st.data())
    # One extreme the catalogue's checks may let through, on one service or category.
    extremes = [("services", name, value) for name, values in _CATALOGUE_EXTREMES.items()
                if name in catalogue_mod._SERVICE for value in values]  # fmt: skip
    extremes += [("categories", name, value) for name, values in _CATALOGUE_EXTREMES.items()
                 if name in catalogue_mod._CATEGORY for value in values]  # fmt: skip
    stretch = st.builds(lambda i, e: (e[0], i, e[1], e[2]), st.integers(0, 10**4), st.sampled_from(extremes))
    change = st.one_of(
        stretch, stretch, stretch, stretch, services, services,
        st.tuples(st.just("categories"), st.integers(0, 10**4), st.sampled_from(category_fields), st.data()),
        st.tuples(st.just("top"), st.just(0), st.sampled_from(["published", "documents", "categories", "services",
                                                               "extra", "version"]), st.data()),
        st.tuples(st.just("drop"), st.integers(0, 10**4), st.sampled_from(service_fields), st.data()),
    )

    @st.composite
    def build(draw):
        data = copy.deepcopy(ctx.catalogue)
        data["version"] = version
        if draw(st.integers(0, 19)) == 0:
            return draw(st.dictionaries(st.text(max_size=10), junk(), max_size=5) | junk())
        for where, index, name, more in draw(st.lists(change, min_size=1, max_size=3)):
            if isinstance(more, st.DataObject):
                value = more.draw(_catalogue_value(name), label=f"{where}.{name}")
            else:
                value = more  # a drawn extreme
            if where == "top":
                data[name] = value if name != "version" else more.draw(st.sampled_from([0, -1, "2", None, 10**30]))
            else:
                entries = data.get("services" if where == "drop" else where)
                entry = entries[index % len(entries)] if isinstance(entries, list) and entries else None
                if not isinstance(entry, dict):
                    continue
                if where == "drop":
                    entry.pop(name, None)
                else:
                    entry[name] = value
        return data

    return build()


def catalog_body(ctx: FuzzContext) -> st.SearchStrategy:
    @st.composite
    def build(draw):
        # Mostly newer than the last one sent (some apply); now and then the first version, or a huge one
        # (the rig moves the next versions above it once it applied).
        version = draw(st.sampled_from([Next(1)] * 8 + [Next(0), Next(3), 1, 2**62]))
        data = draw(catalogue_data(ctx, version))
        return {"version": version, "data": data}

    return _spoil(build())


def trust_specs(ctx: FuzzContext) -> st.SearchStrategy:
    now = datetime.now(UTC)
    moments = st.sampled_from([now, now - timedelta(days=400), now + timedelta(days=30),
                               datetime(1, 1, 1, tzinfo=UTC), datetime(1969, 12, 31, tzinfo=UTC),
                               datetime(2106, 2, 8, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)])
    names = sorted(ctx.certificates)
    return st.builds(
        TrustSpec,
        version=st.one_of(st.integers(0, 3).map(Next), st.sampled_from([0, -1, 2**31, 2**63 - 1, 2**64])),
        governorate=st.sampled_from([ctx.gov, ctx.gov, "02", "1", "٠١"]),
        issued_at=moments,
        next_update=moments,
        certificates=st.lists(st.sampled_from(names), max_size=3).map(tuple),
        signed_by=st.sampled_from(["ca", "ca", "ca", "other"]),
        damage=st.one_of(st.none(), st.none(), st.tuples(st.sampled_from(["flip", "cut"]), st.integers(0, 10**6))),
    )


def trust_list_body(ctx: FuzzContext) -> st.SearchStrategy:
    return _spoil(st.fixed_dictionaries({
        "blob": st.one_of(trust_specs(ctx), trust_specs(ctx), trust_specs(ctx), st.binary(min_size=1, max_size=400),
                          st.just(b"\x00" * 200_000)),
    }))  # fmt: skip


def command_body(ctx: FuzzContext) -> st.SearchStrategy:
    cameras = list(ctx.cameras) + ["FRONT", "../../etc/passwd", "front.jpg", "", "x" * 300]
    plain = st.recursive(st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
                         | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
                         lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                     max_size=3), max_leaves=10)
    args = st.one_of(
        st.just({}),
        st.fixed_dictionaries({"camera": st.one_of(st.sampled_from(cameras), st.sampled_from(cameras), plain)}),
        st.dictionaries(st.text(max_size=10), plain, max_size=4),
        st.integers(3, 12).map(lambda d: {"deep": nested(d)}),
        # The hub's own ``counters`` (a van whose counters went back): sound and hostile.
        st.fixed_dictionaries({
            "session": st.one_of(st.integers(1, 2**32 + 1), st.sampled_from([2**63 - 1, 2**32, 2**32 + 1]),
                                 st.integers(-3, 0), st.booleans(), plain),
            "requests": st.one_of(
                st.dictionaries(st.dates().map(str), st.integers(1, 100), max_size=3),
                st.dictionaries(st.one_of(st.text(max_size=12), st.just("2026-02-30")),
                                st.one_of(st.integers(-2, 9002), st.booleans(), plain), max_size=3),
                st.dictionaries(st.dates().map(str), st.just(1), min_size=32, max_size=33), plain),
        }),
    )
    names = st.one_of(st.sampled_from(p.COMMANDS), st.sampled_from(p.COMMANDS), st.just("counters"),
                      st.from_regex(r"[a-z][a-z0-9_.-]{0,20}", fullmatch=True))
    return _spoil(st.fixed_dictionaries({"name": names, "args": args}))


def ack_body(ctx: FuzzContext) -> st.SearchStrategy:
    doc = _spoil(st.fixed_dictionaries({
        "doc_id": ulids(),
        "highest_contiguous": st.integers(-1, p.MAX_DOCUMENT_BYTES),
        "state": st.sampled_from(p.DOC_STATES),
    }))  # fmt: skip
    rejected = st.fixed_dictionaries({
        "msg_id": ulids(),
        "reason": st.from_regex(r"[a-z][a-z0-9_.-]{0,39}", fullmatch=True),
    })  # fmt: skip
    return _spoil(st.fixed_dictionaries({
        "msg_ids": st.lists(ulids(), max_size=5),
        "docs": st.lists(doc, max_size=3),
        "rejected": st.lists(rejected, max_size=3),
    }))  # fmt: skip


_HOLIDAYS = resources.files("edge.core").joinpath("data/holidays.toml").read_text(encoding="utf-8")
_TOO_MANY_FIXED = "".join(f'[[fixed]]\nday = "01-{d:02d}"\nname_ar = "ع"\nname_en = "x"\n' for d in range(1, 32)) + \
    "".join(f'[[fixed]]\nday = "02-{d:02d}"\nname_ar = "ع"\nname_en = "x"\n' for d in range(1, 29))


def calendar_body(ctx: FuzzContext) -> st.SearchStrategy:
    """Public holidays as the governorate publishes them: the shipped file under a drawn version, and now and then
    a file the van must refuse (not TOML, the wrong shapes, every day of two months off, a version it does not
    say, a date that is none) or one past the wire's limit."""

    @st.composite
    def build(draw):
        version = draw(st.sampled_from([1, 2, 3, 7, 2**62]))
        said = draw(st.sampled_from([version] * 4 + [version + 1, 0, -1]))
        text = re.sub(r"(?m)^version = \d+", f"version = {said}", _HOLIDAYS)
        change = draw(st.sampled_from(["none"] * 4 + ["junk", "fixed-not-a-list", "two-months-off", "bad-date",
                                                      "unknown-key", "not-toml", "oversize", "empty"]))
        text = {
            "none": text,
            "junk": draw(st.text(min_size=1, max_size=60)),
            "fixed-not-a-list": f"version = {said}\nfixed = 3\n",
            "two-months-off": f"version = {said}\n" + _TOO_MANY_FIXED,
            "bad-date": text.replace('day = "01-07"', 'day = "02-30"'),
            "unknown-key": text + "\nextra = 1\n",
            "not-toml": text.replace("version =", "version := ", 1),
            "oversize": text + "#" * 70_000,
            "empty": "",
        }[change]
        return {"version": version, "text": text}

    return _spoil(build())


def update_chunk_body(ctx: FuzzContext) -> st.SearchStrategy:
    """A chunk of a software release as the hub cuts it (edge.update.transfer.cut's shape), now and then with a
    chunk hash that is not its data's, a path leaving the bundle, or seq/index/count that do not fit."""

    @st.composite
    def build(draw):
        data = draw(st.binary(min_size=0, max_size=300))
        count = draw(st.integers(1, 4))
        index = draw(st.integers(0, count - 1))
        total = draw(st.integers(count, 40))
        body = {"bundle": draw(st.sampled_from(["B1", "0123456789abcdef", "x" * 64])),
                "seq": draw(st.integers(index, total - 1)), "total": total, "files": draw(st.integers(1, total)),
                "path": draw(st.sampled_from(["release.json", "wheels/a-1.0-py3-none-any.whl", "tuf/1.root.json"])),
                "index": index, "count": count, "size": len(data) + 65536 * (count - 1),
                "sha256": hashlib.sha256(data).hexdigest(), "data": data,
                "chunk_sha256": hashlib.sha256(data).hexdigest()}
        change = draw(st.sampled_from(["none"] * 5 + ["hash", "path", "seq", "index", "oversize"]))
        if change == "hash":
            body["chunk_sha256"] = hashlib.sha256(data + b"x").hexdigest()
        elif change == "path":
            body["path"] = draw(st.sampled_from(["../etc/passwd", "/etc/shadow", ".hidden", "a//b", "a/./b", ""]))
        elif change == "seq":
            body["seq"] = total
        elif change == "index":
            body["index"] = count
        elif change == "oversize":
            body["data"] = bytes(65537)
            body["chunk_sha256"] = hashlib.sha256(body["data"]).hexdigest()
        return body

    return _spoil(build())


def update_target_body(ctx: FuzzContext) -> st.SearchStrategy:
    """The governorate's word on the release to run: a release id, none, or (spoiled) a path, an id too long, …"""
    return _spoil(st.fixed_dictionaries({"release": st.sampled_from(
        [None, "0123456789abcdef", "B1", "x" * 64, "x" * 65, "../../etc", "", "a b", "٠١٢٣"]),
        "session": st.one_of(st.integers(1, 3), st.integers(1, 2**62))}))


KIND_BODIES: dict[str, Callable[[FuzzContext], st.SearchStrategy]] = {
    "ack": ack_body,
    "request-status": request_status_body,
    "catalog": catalog_body,
    "trust-list": trust_list_body,
    "command": command_body,
    "calendar": calendar_body,
    "update-chunk": update_chunk_body,
    "update-target": update_target_body,
}


# --------------------------------------------------------------------------------------------------
# Envelopes, fault classes, batches
# --------------------------------------------------------------------------------------------------


def hostile_downlink(ctx: FuzzContext, kind: str) -> st.SearchStrategy:
    """A well-formed envelope of ``kind`` for this van, with a hostile body (and now and then a hostile head)."""

    @st.composite
    def build(draw):
        fields = {"msg_id": Fresh(), "van": ctx.van, "kind": kind, "schema": p.SCHEMA_VERSION,
                  "created_at": draw(st.builds(lambda s: datetime.now(UTC) - timedelta(seconds=s),
                                               st.integers(0, 120)).map(lambda m: m.isoformat())),
                  "body": draw(KIND_BODIES[kind](ctx))}  # fmt: skip
        head = draw(st.sampled_from([None] * 6 + ["created_at", "msg_id", "van"]))
        if head == "created_at":
            fields["created_at"] = draw(times())
        elif head == "msg_id":
            fields["msg_id"] = draw(st.one_of(st.sampled_from(["", "01ARZ3NDEKTSV4RRFFQ69G5FA", "8" * 26,
                                                               "01arz3ndektsv4rrffq69g5fav"]), hostile()))
        elif head == "van":
            fields["van"] = draw(st.sampled_from(["V008", "V000", "v007", "V7", "", None]))
        return Draft(kind, fields, "hostile")

    return build()


BROKEN = ("random-bytes", "cut", "json", "trailing", "bad-utf8", "tag", "deep", "oversize", "schema", "other-van",
          "other-vans-topic", "wrong-topic-kind", "no-such-topic", "not-a-map", "missing-field", "extra-field")


def broken_downlink(ctx: FuzzContext) -> st.SearchStrategy:
    """A payload that is no valid downlink for this van, built around a hostile envelope of any kind."""

    @st.composite
    def build(draw):
        draft = draw(_broken(ctx))
        return Draft(draft.topic_kind, draft.fields, "broken", draft.encoding, draft.cut_at, draft.topic_van,
                     draft.how or draft.encoding)

    return build()


def _broken(ctx: FuzzContext) -> st.SearchStrategy:
    @st.composite
    def build(draw):
        kind = draw(st.sampled_from(DOWN_KINDS))
        base: Draft = draw(hostile_downlink(ctx, kind))
        how = draw(st.sampled_from(BROKEN))
        fields = dict(base.fields)
        if how == "random-bytes":
            return Draft(kind, draw(st.binary(max_size=300)), "broken", "raw", how=how)
        if how in ("cut", "json", "trailing", "bad-utf8", "tag", "deep", "oversize"):
            if how == "bad-utf8":
                fields["created_at"] = "\x01" * 25  # replaced by invalid UTF-8 of the same length
            if how == "tag":
                fields["created_at"] = datetime.now(UTC)  # cbor2 writes a datetime as tag 0
            if how == "deep":
                fields["body"] = nested(draw(st.integers(17, 40)))
            return Draft(kind, fields, "broken", how, cut_at=draw(st.integers(0, 10**6)))
        if how == "schema":
            fields["schema"] = draw(st.sampled_from([0, 2, 99, -1, "1", 1.0, True, None, 2**64]))
        elif how == "other-van":
            fields["van"] = "V008"
        elif how == "other-vans-topic":
            return Draft(kind, fields | {"van": "V008"}, "broken", topic_van="V008", how=how)
        elif how == "wrong-topic-kind":
            return Draft(draw(st.sampled_from([k for k in DOWN_KINDS if k != kind])), fields, "broken", how=how)
        elif how == "no-such-topic":
            return Draft(draw(st.sampled_from(["requests", "ACK", "status", "tx"])), fields, "broken", how=how)
        elif how == "not-a-map":
            return Draft(kind, draw(st.one_of(st.lists(junk(), max_size=3), junk())), "broken", how=how)
        elif how == "missing-field":
            fields.pop(draw(st.sampled_from(sorted(fields))))
        elif how == "extra-field":
            fields[draw(st.sampled_from(["extra", "signature", 1]))] = draw(junk())
        return Draft(kind, fields, "broken", how=how)

    return build()


def batches(ctx: FuzzContext, *, extra: int = 6, replays: int = 3, uplink: int = 5) -> st.SearchStrategy:
    """One hostile message of every downlink kind, up to ``extra`` more of any class (hostile or broken), up
    to ``replays`` replays at drawn places, and up to ``uplink`` tx rows and two new requests for the van to
    send meanwhile."""
    every_kind = st.tuples(*(hostile_downlink(ctx, kind) for kind in DOWN_KINDS))
    any_draft = st.one_of(*(hostile_downlink(ctx, kind) for kind in DOWN_KINDS), broken_downlink(ctx),
                          broken_downlink(ctx))
    return st.builds(
        lambda kinds, more, again, rows, requests: Batch(tuple(kinds) + tuple(more), tuple(again), rows, requests),
        every_kind,
        st.lists(any_draft, max_size=extra),
        st.lists(st.tuples(st.integers(0, extra + len(DOWN_KINDS)),
                           st.builds(Replay, st.integers(0, 10**6), st.booleans())), max_size=replays),
        st.integers(0, uplink),
        st.integers(0, 2),
    )


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------


def render(ctx: FuzzContext, draft: Draft) -> bytes:
    """The bytes to publish for ``draft`` (placeholders filled in now)."""
    if draft.encoding == "raw":
        return draft.fields
    fields = _fill(ctx, draft.fields, draft.topic_kind)
    if draft.encoding == "json":
        return json.dumps(fields, default=repr).encode()
    if draft.encoding == "oversize":
        fields = fields | {"body": {"pad": "x" * (p.MAX_MESSAGE_BYTES + 10)}} if isinstance(fields, dict) else fields
    payload = cbor2.dumps(fields, canonical=True)
    if draft.encoding == "cut":
        return payload[: draft.cut_at % max(len(payload), 1)]
    if draft.encoding == "trailing":
        return payload + b"\x00"
    if draft.encoding == "bad-utf8":
        return payload.replace(b"\x01" * 25, b"\xff\xfe" * 12 + b"\xc3", 1)
    return payload


def _fill(ctx: FuzzContext, value: Any, kind: str) -> Any:
    if isinstance(value, Fresh):
        return str(ULID())
    if isinstance(value, Next):
        return ctx.resolve("catalog", value)
    if isinstance(value, TrustSpec):
        return _sign(ctx, value)
    if isinstance(value, dict):
        filled = {k: _fill(ctx, v, kind) for k, v in value.items()}
        # A catalogue's version appears twice; a Next resolves once, and data.version follows body.version.
        if kind == "catalog" and isinstance(value.get("version"), Next) and isinstance(filled.get("data"), dict) \
                and isinstance(value["data"].get("version"), Next):  # fmt: skip
            filled["data"]["version"] = filled["version"]
        return filled
    if isinstance(value, list):
        return [_fill(ctx, v, kind) for v in value]
    return value


def _sign(ctx: FuzzContext, spec: TrustSpec) -> bytes:
    payload = {
        "format": trust.TRUST_LIST_FORMAT,
        "version": ctx.resolve("trust-list", spec.version),
        "governorate": spec.governorate,
        "issued_at": _seconds(spec.issued_at),
        "next_update": _seconds(spec.next_update),
        "certificates": [ctx.certificates[name].public_bytes(Encoding.DER) for name in spec.certificates],
        "revoked": [],
    }
    signer = ctx.ca if spec.signed_by == "ca" else ctx.other_ca
    blob = trust.sign1(cbor2.dumps(payload, canonical=True), signer)
    if spec.damage is None:
        return blob
    how, at = spec.damage
    at %= len(blob)
    if how == "cut":
        return blob[: max(at, 1)]
    return blob[:at] + bytes([blob[at] ^ 0x01]) + blob[at + 1 :]


def _seconds(moment: datetime) -> int:
    # Past the year 2106 the list's own check (0 ≤ t < 2^32) refuses it; before 1970 it is negative.
    return math.floor(moment.timestamp())




# --------------------------------------------------------------------------------------------------
# The oracle
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    """What the van must do with one published message.

    ``arrives``: the van's subscription receives it at all. ``recorded``: it decodes as a downlink that goes
    through the inbox, so the inbox must hold exactly one row for ``msg_id`` and one downlink.applied report
    must go up. ``must``: "applied" or "rejected" where the content alone decides it (None: it depends on the
    van's state, e.g. whether a state change goes forward). ``crash``: decoding it raised something other than
    a ProtocolError, which the sync agent does not catch: always a bug.
    """

    arrives: bool
    recorded: bool
    kind: str
    msg_id: str | None = None
    must: str | None = None
    why: str = ""
    crash: str | None = None
    decoded: p.Downlink | None = None


def expect(ctx: FuzzContext, topic_kind: str, topic_van: str, payload: bytes,
           now: datetime | None = None) -> Expectation:  # fmt: skip
    now = now or datetime.now(UTC)
    if topic_van != ctx.van:
        return Expectation(False, False, topic_kind, why="another van's topic")
    if topic_kind not in DOWN_KINDS:
        return Expectation(True, False, topic_kind, why="not a downlink topic")
    try:
        down = p.decode_down(payload, van=ctx.van, kind=topic_kind, now=now)
    except p.ProtocolError as exc:
        return Expectation(True, False, topic_kind, why=exc.reason)
    except Exception as exc:  # noqa: BLE001 - the agent would not survive this either
        return Expectation(True, False, topic_kind, crash=f"{type(exc).__name__}: {exc}")
    if isinstance(down.message, p.Ack):
        return Expectation(True, False, topic_kind, down.msg_id, why="ack", decoded=down)
    if isinstance(down.message, p.UpdateChunk):
        return Expectation(True, False, topic_kind, down.msg_id, why="a release's chunk: not through the inbox",
                           decoded=down)
    must, why = _must(ctx, down)
    return Expectation(True, True, topic_kind, down.msg_id, must, why, decoded=down)


# The inbox kinds _must has a rule for (a new kind fails test_the_strategies_cover_every_downlink_kind...).
RULES = ("request-status", "catalog", "trust-list", "command", "calendar", "update-target")


def _must(ctx: FuzzContext, down: p.Downlink) -> tuple[str | None, str]:
    m = down.message
    if isinstance(m, p.RequestStatus):
        if m.number not in ctx.numbers:
            return "rejected", "a request the van never registered"
        return None, "depends on the request's state"
    if isinstance(m, p.Catalog):
        try:
            cat = catalogue_mod.from_dict(m.data)
        except EdgeError:
            return "rejected", "an invalid catalogue"
        except Exception:  # noqa: BLE001 - the van's code chokes on it: it must still be refused, not applied
            return "rejected", "a catalogue the catalogue code cannot read"
        if cat.version != m.version:
            return "rejected", "data.version is not the message's version"
        return None, "depends on the newest catalogue the van holds"
    if isinstance(m, p.Calendar):
        try:
            cal = workdays.loads(m.text)
        except workdays.CalendarError:
            return "rejected", "an invalid holidays file"
        except Exception:  # noqa: BLE001 - the van's code chokes on it: it must still be refused, not applied
            return "rejected", "a holidays file the calendar code cannot read"
        if cal.version != m.version:
            return "rejected", "the file's version is not the message's version"
        return None, "depends on the newest calendar the van holds"
    if isinstance(m, p.TrustList):
        try:
            trust.verify_list(m.blob, ctx.certificates["ca"])
        except Exception:  # noqa: BLE001
            return "rejected", "a trust list the van's CA does not vouch for"
        return None, "depends on the cached trust list's version"
    if isinstance(m, p.Command):
        if m.name == "counters":
            return (("applied", "counters the van can raise") if _sound_counters(m.args)
                    else ("rejected", "counters without a session, or with a day or a sequence that is none"))
        if m.name not in p.COMMANDS:
            return "rejected", "an unknown command"
        camera = m.args.get("camera")
        if m.name == "camera-thumbnail" and not (isinstance(camera, str) and camera):
            return "rejected", "camera-thumbnail without a camera name"
        if m.name == "camera-thumbnail" and camera not in ctx.cameras:
            return "rejected", "a camera the van does not have"
        if m.name == "camera-thumbnail":
            return None, "depends on the camera's state and its latest picture"
        return "applied", "a known command"
    if isinstance(m, p.UpdateTarget):
        return None, "depends on the word the van holds (an older one is refused)"
    raise AssertionError(f"no rule for {down.kind}")  # a new kind: teach the oracle about it


def _sound_counters(args: dict) -> bool:
    """Whether the van takes the hub's ``counters`` (edge.sync.downlink.HUB_COMMANDS), said again here."""
    session, days = args.get("session"), args.get("requests")
    if type(session) is not int or not 1 <= session <= 2**32 or not isinstance(days, dict) or len(days) > 31:
        return False
    for day, seq in days.items():
        try:
            datetime.strptime(day, "%Y-%m-%d")
        except (TypeError, ValueError):
            return False
        if len(day) != 10 or type(seq) is not int or not 1 <= seq <= 9000:
            return False
    return True

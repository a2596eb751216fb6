"""What each message on the van–hub link may contain: the field checks and one schema per stream kind and down kind.

A schema is a plain dict of field name → check, where a check is a function ``(value, path)`` that
raises :class:`ProtocolError`; rules that span fields (a request number issued by the sender, a
chunk matching its hash) run after it. ``edge.sync.protocol`` applies them to every message, on both
ends. No jsonschema: the checks are a few lines each and say exactly what they refuse.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from edge.core.errors import EdgeError
from edge.core.national_id import Gender
from edge.core.requests import PaymentMethod, RequestState, parse_request_number, van_number
from edge.core.tickets import Priority, TicketState
from edge.core.tickets import parse_number as parse_ticket_number

CHUNK_SIZE = 64 * 1024  # the default and the largest chunk of a document
MAX_MESSAGE_BYTES = 256 * 1024  # a 64 KiB chunk is ≈ 66 KB on the wire, a whole catalogue ≈ 27 KB
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
MAX_ACK_IDS = 1000
DOC_STATES = ("partial", "complete", "hash-mismatch")

_VAN = re.compile(r"V(?!000)\d{3}", re.ASCII)
_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}", re.ASCII)
_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_DAY = re.compile(r"\d{4}-\d\d-\d\d", re.ASCII)
_NAME = re.compile(r"[a-z][a-z0-9_.-]{0,63}", re.ASCII)  # telemetry keys, command names, reason codes


class ProtocolError(EdgeError, ValueError):
    """A message (or topic) that does not match the contract; ``reason`` is a short stable code for logs,
    tests and the hub's rejection notices, ``detail`` says where and why (never a citizen's data)."""

    code = "protocol"

    def __init__(self, reason: str, detail: str = ""):
        self.reason = reason
        super().__init__(
            "رُفضت رسالة على خط الاتصال بالمحافظة. يجد الدعم الفني السبب في السجل.",
            "A message on the link to the governorate was refused. Technical support can find why in the log.",
            detail=f"{reason}: {detail}" if detail else reason,
            code=f"protocol-{reason}",
        )


# --------------------------------------------------------------------------------------------------
# Field checks
# --------------------------------------------------------------------------------------------------

Check = Callable[[Any, str], None]


def _bad_type(path: str, want: str, value: object) -> ProtocolError:
    return ProtocolError("bad-type", f"{path} must be {want}, got {type(value).__name__}")


def text(max_len: int = 200, pattern: re.Pattern | None = None, *, min_len: int = 1) -> Check:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, str):
            raise _bad_type(path, "text", value)
        if not min_len <= len(value) <= max_len:
            raise ProtocolError("bad-value", f"{path} must have {min_len}–{max_len} characters, has {len(value)}")
        if pattern is not None and not pattern.fullmatch(value):
            raise ProtocolError("bad-value", f"{path} does not match {pattern.pattern}")

    return check


def integer(lo: int = 0, hi: int = 2**63 - 1) -> Check:
    def check(value: Any, path: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad_type(path, "an integer", value)
        if not lo <= value <= hi:
            raise ProtocolError("bad-value", f"{path} must be {lo}–{hi}, is {value}")

    return check


def degrees(limit: float) -> Check:
    """A latitude (limit 90) or longitude (180) in degrees: a finite number within ±limit."""
    def check(value: Any, path: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad_type(path, "a number", value)
        if not math.isfinite(value) or not -limit <= value <= limit:
            raise ProtocolError("bad-value", f"{path} must be within ±{limit} degrees")

    return check


def boolean(value: Any, path: str) -> None:
    if not isinstance(value, bool):
        raise _bad_type(path, "true or false", value)


def choice(values: tuple[str, ...]) -> Check:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, str):
            raise _bad_type(path, "text", value)
        if value not in values:
            raise ProtocolError("bad-value", f"{path} must be one of {', '.join(values)}, is {value[:40]!r}")

    return check


def nullable(inner: Check) -> Check:
    def check(value: Any, path: str) -> None:
        if value is not None:
            inner(value, path)

    return check


def timestamp(value: Any, path: str) -> None:
    """ISO-8601 with a zero UTC offset ("+00:00" or "Z"); what ``clock.iso`` writes."""
    if not isinstance(value, str):
        raise _bad_type(path, "an ISO-8601 time", value)
    try:
        moment = datetime.fromisoformat(value) if len(value) <= 40 else None
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() != timedelta(0):
        raise ProtocolError("bad-time", f"{path} must be an ISO-8601 time in UTC, is {value[:40]!r}")


def day(value: Any, path: str) -> None:
    if not isinstance(value, str):
        raise _bad_type(path, "a date", value)
    try:
        ok = _DAY.fullmatch(value) is not None and date.fromisoformat(value) is not None
    except ValueError:
        ok = False
    if not ok:
        raise ProtocolError("bad-time", f"{path} must be a date YYYY-MM-DD, is {value[:20]!r}")


def ulid(value: Any, path: str) -> None:
    if not isinstance(value, str):
        raise _bad_type(path, "a ULID", value)
    if not _ULID.fullmatch(value):
        raise ProtocolError("bad-msg-id" if path == "msg_id" else "bad-value", f"{path} is not a ULID: {value[:40]!r}")


def is_van_id(value: object) -> bool:
    return isinstance(value, str) and _VAN.fullmatch(value) is not None


def van_id(value: Any, path: str) -> None:
    if not isinstance(value, str):
        raise _bad_type(path, "a van id", value)
    if not is_van_id(value):
        raise ProtocolError("bad-van-id", f"{path} must be V001–V999, is {value[:20]!r}")


def request_number(value: Any, path: str) -> None:
    """A request number in its printed form (``007-261121-0001-5``), check digit included."""
    if not isinstance(value, str):
        raise _bad_type(path, "a request number", value)
    try:
        ok = str(parse_request_number(value)) == value
    except (EdgeError, ValueError):
        ok = False
    if not ok:
        raise ProtocolError("bad-value", f"{path} is not a request number in printed form")


def ticket_number(value: Any, path: str) -> None:
    if not isinstance(value, str):
        raise _bad_type(path, "a ticket number", value)
    try:
        parse_ticket_number(value)
    except (ValueError, EdgeError):
        raise ProtocolError("bad-value", f"{path} is not a ticket number: {value[:12]!r}") from None


def digits(n: int) -> Check:
    return text(n, re.compile(rf"\d{{{n}}}", re.ASCII), min_len=n)


def blob(max_len: int = MAX_MESSAGE_BYTES) -> Check:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, bytes):
            raise _bad_type(path, "bytes", value)
        if not 1 <= len(value) <= max_len:
            raise ProtocolError("bad-value", f"{path} must have 1–{max_len} bytes, has {len(value)}")

    return check


def list_of(item: Check, max_items: int) -> Check:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, list | tuple):
            raise _bad_type(path, "a list", value)
        if len(value) > max_items:
            raise ProtocolError("bad-value", f"{path} has {len(value)} items, at most {max_items}")
        for i, v in enumerate(value):
            item(v, f"{path}[{i}]")

    return check


def record(fields: Mapping[str, Check], since_v2: Mapping[str, Check] | None = None) -> Check:
    """A map with exactly these keys (each one present, even when its value may be null). ``since_v2``: keys a later
    schema added to a version-1 body (2 or, for request.submitted's location, 4); present in what this code
    writes, absent in an older van's."""
    later = dict(since_v2 or {})

    def check(value: Any, path: str) -> None:
        if not isinstance(value, Mapping):
            raise _bad_type(path, "a map", value)
        exact_keys(value, [*fields, *(k for k in later if k in value)], path)
        for key, field_check in [*fields.items(), *((k, c) for k, c in later.items() if k in value)]:
            field_check(value[key], f"{path}.{key}")

    return check


def exact_keys(value: Mapping, names: Iterable[str], path: str) -> None:
    keys, wanted = set(value), set(names)
    if missing := sorted(wanted - keys):
        raise ProtocolError("missing-field", f"{path} lacks {', '.join(missing)}")
    if extra := sorted(keys - wanted, key=repr):
        raise ProtocolError("extra-field", f"{path} has unknown {', '.join(repr(k)[:40] for k in extra[:5])}")


def scalars(max_keys: int = 200) -> Check:
    """A flat map of named numbers, texts, booleans or nulls (telemetry)."""

    def check(value: Any, path: str) -> None:
        if not isinstance(value, Mapping):
            raise _bad_type(path, "a map", value)
        if len(value) > max_keys:
            raise ProtocolError("bad-value", f"{path} has {len(value)} keys, at most {max_keys}")
        for key, item in value.items():
            text(64, _NAME)(key, f"{path} key")
            if isinstance(item, str):
                text(200, min_len=0)(item, f"{path}.{key}")
            elif item is not None and not isinstance(item, bool | int | float):
                raise _bad_type(f"{path}.{key}", "a number, text, boolean or null", item)
            plain(item, f"{path}.{key}")

    return check


def plain(value: Any, path: str, depth: int = 0) -> None:
    """Free-form data of JSON's types only (maps with text keys, lists, text, finite numbers, bools, null)."""
    if depth > 8:
        raise ProtocolError("bad-value", f"{path} is nested too deeply")
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        integer(-(2**63), 2**63 - 1)(value, path)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ProtocolError("bad-value", f"{path} is not a finite number")
    elif isinstance(value, str):
        text(20_000, min_len=0)(value, path)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            plain(item, f"{path}[{i}]", depth + 1)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _bad_type(f"{path} key", "text", key)
            plain(item, f"{path}.{key}", depth + 1)
    else:
        raise _bad_type(path, "plain data", value)


def plain_map(value: Any, path: str) -> None:
    if not isinstance(value, Mapping):
        raise _bad_type(path, "a map", value)
    plain(value, path)


# --------------------------------------------------------------------------------------------------
# Uplink bodies: one schema per (stream, kind); a rule after it checks what spans fields
# --------------------------------------------------------------------------------------------------


def _values(enum: Iterable) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


_HASH = text(64, _HEX64, min_len=64)
_ticket = record({
    "number": ticket_number, "series": text(4, re.compile(r"[A-Z]{1,4}", re.ASCII)), "seq": integer(1, 999),
    "category": text(32), "priority": choice(_values(Priority)), "state": choice(_values(TicketState)),
    "issued_at": timestamp, "called_at": nullable(timestamp), "counter": nullable(integer(1, 999)),
    "recalls": integer(0, 1000), "started_at": nullable(timestamp), "finished_at": nullable(timestamp),
    "transferred_to": nullable(ticket_number), "transferred_from": nullable(ticket_number),
})  # fmt: skip
TICKET_KINDS = ("ticket.issued", "ticket.call", "ticket.recall", "ticket.start", "ticket.finish",
                "ticket.no_show", "ticket.transferred")  # fmt: skip

THUMBNAIL_MAX_BYTES = 64 * 1024
# A software release travelling down in chunks (schema 4, issue 20): at most 2 GiB in 64 KiB chunks, 2,000 files.
# A van's ``update.last`` (its tel.snapshot) that begins with this: an update failed its health check, and the
# version the van went back to did not come up either — the van needs a technician (edge.update.install; the
# governorate raises its "software" alert).
ROLLED_BACK_UNHEALTHY = "rolled-back-unhealthy"
UPDATE_MAX_CHUNKS = 32 * 1024
UPDATE_MAX_FILES = 2000
UPDATE_MAX_FILE_BYTES = 512 * 1024 * 1024
UPDATE_MAX_RANGES = 64
UPDATE_STATES = ("receiving", "complete", "refused")
_BUNDLE = re.compile(r"[0-9A-Za-z]{1,64}", re.ASCII)


def is_bundle_name(value: object) -> bool:
    """A release bundle's name as the wire carries it (1–64 letters or digits): never a path."""
    return isinstance(value, str) and _BUNDLE.fullmatch(value) is not None

_PATH_PART = re.compile(r"[0-9A-Za-z_+-][0-9A-Za-z._+-]{0,199}", re.ASCII)
CALENDAR_MAX_CHARS = 64 * 1024  # the shipped holidays file is under 4 KiB
# A shift's bounds (shift.closed): a drawer holds at most 100,000 EGP (edge.core.shifts); a day's fees stay far below
# a billion pounds; counts and ids are what a van can reach in years.
_MAX_CASH = 10_000_000
_MAX_MONEY = 10**11
_MAX_COUNT = 1_000_000
_MAX_ID = 2**31 - 1

BODIES: dict[str, dict[str, Check]] = {
    "tx": {
        "request.submitted": record({
            "number": request_number, "van": van_id, "service_code": text(32), "catalogue_version": integer(1),
            "citizen": record({
                "national_id": digits(14), "name": text(200), "mobile": nullable(digits(11)),
                "birth_date": day, "gender": choice(_values(Gender)),
            }),
            "fee_piastres": integer(0), "operator": text(64), "submitted_at": timestamp, "expected_ready_on": day,
            "payment": record({
                "method": choice(_values(PaymentMethod)), "amount_piastres": integer(0),
                "reference": nullable(text(64)),
            }),
        }, since_v2={
            # What the clerk needs to decide without calling the van (issue 18): the documents the operator saw
            # in the original, and each scanned page by its document and number (matched to doc.chunk by sha256).
            "originals_seen": list_of(text(32), 50),
            "pages": list_of(record({"doc_code": text(32), "page": integer(1, 999), "sha256": _HASH}), 200),
            # Schema 4 (issue 19): where the van stood at intake (its GPS fix, at most FIX_MAX_AGE_S old; null
            # without one), so the governorate sees where the demand is.
            "location": nullable(record({"lat": degrees(90), "lon": degrees(180),
                                         "fix_age_s": integer(0, 24 * 3600)})),
        }),
        "request.state": record({
            "number": request_number, "state": choice(_values(RequestState)), "reason": nullable(text(500)),
            "at": timestamp,
        }),
        # Schema 2: a paid request cancelled at the van, and the money handed back (issue 18).
        "request.refunded": record({
            "number": request_number, "amount_piastres": integer(1), "method": choice(_values(PaymentMethod)),
            "reason": text(500), "operator": text(64), "confirmed_by": text(64), "at": timestamp,
        }),
        # An operator's shift closed at the van: its Z-report (issue 19; edge.store.shifts.message).
        "shift.closed": record({
            "van": van_id, "shift": integer(1, _MAX_ID), "operator": text(64), "counter": nullable(integer(1, 999)),
            "day": day, "opened_at": timestamp, "closed_at": timestamp, "closed_by": text(64),
            "opening_float_piastres": integer(0, _MAX_CASH), "received_from": nullable(integer(1, _MAX_ID)),
            "counted_cash_piastres": integer(0, _MAX_CASH),
            "expected_cash_piastres": integer(-_MAX_MONEY, _MAX_MONEY),
            "difference_piastres": integer(-_MAX_MONEY, _MAX_MONEY), "reason": text(500, min_len=0),
            "confirmed_by": nullable(text(64)), "handed_to": nullable(text(64)),
            "totals": record({
                "requests": integer(0, _MAX_COUNT), "cancellations": integer(0, _MAX_COUNT),
                "refund_count": integer(0, _MAX_COUNT), "reprints": integer(0, _MAX_COUNT),
                "tickets_served": integer(0, _MAX_COUNT), "no_shows": integer(0, _MAX_COUNT),
                "fees": record({m: integer(0, _MAX_MONEY) for m in _values(PaymentMethod)}),
                "refunds": record({m: integer(0, _MAX_MONEY) for m in _values(PaymentMethod)}),
            }),
        }),
        **{kind: _ticket for kind in TICKET_KINDS},
        # The van's answer to a downlink, written in the same transaction that applied (or refused) it:
        # the hub re-sends a downlink until this arrives, so a van that was away for days still gets it.
        "downlink.applied": record({
            "msg_id": ulid,
            "kind": choice(("request-status", "catalog", "trust-list", "command", "calendar", "update-target")),
            "outcome": choice(("applied", "rejected", "duplicate")), "error": nullable(text(500, min_len=0)),
        }),
    },
    "audit": {
        "audit.entry": record({
            "seq": integer(1), "at": timestamp, "actor": text(64), "action": text(64),
            "subject": text(200, min_len=0), "details": plain_map, "prev_hash": _HASH, "hash": _HASH,
        }),
    },
    "doc": {
        "doc.chunk": record({
            "doc_id": ulid, "request_number": request_number, "index": integer(0, MAX_DOCUMENT_BYTES - 1),
            "count": integer(1, MAX_DOCUMENT_BYTES), "size": integer(1, MAX_DOCUMENT_BYTES), "sha256": _HASH,
            "data": blob(CHUNK_SIZE), "chunk_sha256": _HASH,
        }),
    },
    "tel": {
        "tel.snapshot": record({"at": timestamp, "values": scalars()}),
        # A camera's latest picture, sent when the hub asks ("camera-thumbnail"): small, latest wins.
        "tel.thumbnail": record({"camera": text(64, _NAME), "at": timestamp, "jpeg": blob(THUMBNAIL_MAX_BYTES)}),
        # Schema 4 (issue 20): how much of a software release the van holds ("have": ranges of chunk seqs, the first
        # UPDATE_MAX_RANGES of them), so the hub sends only what is missing; "refused": a chunk or the whole failed.
        "tel.update": record({
            "bundle": text(64, _BUNDLE), "at": timestamp, "state": choice(UPDATE_STATES),
            "total": integer(0, UPDATE_MAX_CHUNKS), "held": integer(0, UPDATE_MAX_CHUNKS),
            "have": list_of(list_of(integer(0, UPDATE_MAX_CHUNKS - 1), 2), UPDATE_MAX_RANGES),
            "error": nullable(text(500, min_len=0)),
        }),
    },
    "status": {
        kind: record({"session": integer(1), "online": boolean, "schema": integer(1)})
        for kind in ("status.birth", "status.death")
    },
}  # fmt: skip


def _owned_number(number: str, van: str, path: str) -> None:
    # A request number carries the number of the van that issued it: a van can only report its own.
    if parse_request_number(number).van != van_number(van):
        raise ProtocolError("wrong-van", f"{path} {number} was not issued by {van}")


def _submitted_rule(body: dict, van: str, kind: str) -> None:
    if body["van"] != van:
        raise ProtocolError("wrong-van", f"body.van {body['van']} is not the sender {van}")
    _owned_number(body["number"], van, "body.number")


def _state_rule(body: dict, van: str, kind: str) -> None:
    _owned_number(body["number"], van, "body.number")


def _chunk_rule(body: dict, van: str, kind: str) -> None:
    _owned_number(body["request_number"], van, "body.request_number")
    if not body["index"] < body["count"] <= body["size"]:
        raise ProtocolError("bad-value", f"chunk {body['index']} of {body['count']} for {body['size']} bytes")
    if hashlib.sha256(body["data"]).hexdigest() != body["chunk_sha256"]:
        raise ProtocolError("chunk-hash-mismatch", f"chunk {body['index']} of document {body['doc_id']}")


def _shift_rule(body: dict, van: str, kind: str) -> None:
    if body["van"] != van:
        raise ProtocolError("wrong-van", f"body.van {body['van']} is not the sender {van}")
    if body["difference_piastres"] != body["counted_cash_piastres"] - body["expected_cash_piastres"]:
        raise ProtocolError("bad-value", "body.difference_piastres is not counted minus expected cash")
    totals = body["totals"]
    if body["expected_cash_piastres"] != (body["opening_float_piastres"] + totals["fees"]["cash"]
                                          - totals["refunds"]["cash"]):
        raise ProtocolError("bad-value", "body.expected_cash_piastres is not the float plus cash fees minus cash "
                                         "refunds")


def _update_rule(body: dict, van: str, kind: str) -> None:
    last = -2
    for pair in body["have"]:
        if len(pair) != 2 or not last + 1 < pair[0] <= pair[1] < body["total"]:
            raise ProtocolError("bad-value", f"body.have {pair} is not an ascending range of chunks below total")
        last = pair[1]
    if body["held"] > body["total"]:
        raise ProtocolError("bad-value", f"body.held {body['held']} is more than total {body['total']}")


def _status_rule(body: dict, van: str, kind: str) -> None:
    if body["online"] != (kind == "status.birth"):
        raise ProtocolError("bad-value", f"{kind} must have online = {kind == 'status.birth'}")


_RULES: dict[str, Callable[[dict, str, str], None]] = {
    "request.submitted": _submitted_rule,
    "request.state": _state_rule,
    "request.refunded": _state_rule,  # a van refunds only its own requests
    "shift.closed": _shift_rule,
    "doc.chunk": _chunk_rule,
    "tel.update": _update_rule,
    "status.birth": _status_rule,
    "status.death": _status_rule,
}


def validate_body(stream: str, kind: str, body: Any, van: str) -> None:
    """Check one body against its kind's schema (and the sender's van id where the body names a van)."""
    kinds = BODIES.get(stream)
    if kinds is None:
        raise ProtocolError("unknown-stream", repr(stream)[:40])
    if kind not in kinds:
        raise ProtocolError("unknown-kind", f"{kind!r} on stream {stream}"[:120])
    kinds[kind](body, "body")
    if kind in _RULES:
        _RULES[kind](body, van, kind)


# --------------------------------------------------------------------------------------------------
# Downlink bodies
# --------------------------------------------------------------------------------------------------

def _chunk_data(value: Any, path: str) -> None:
    if not isinstance(value, bytes):
        raise _bad_type(path, "bytes", value)
    if len(value) > CHUNK_SIZE:
        raise ProtocolError("bad-value", f"{path} has {len(value)} bytes, at most {CHUNK_SIZE}")


def update_path(value: Any, path: str = "body.path") -> None:
    """A plain relative path inside a release (no "..", no hidden or absolute parts, at most 6 deep)."""
    text(600)(value, path)
    parts = value.split("/")
    if len(parts) > 6 or not all(_PATH_PART.fullmatch(x) for x in parts):
        raise ProtocolError("bad-value", f"{path} {value[:80]!r} is not a plain relative path inside the release")


def _update_chunk_rule(body: dict) -> None:
    update_path(body["path"])
    if not body["seq"] < body["total"] or not body["index"] < body["count"]:
        raise ProtocolError("bad-value",
                            f"chunk {body['index']} of {body['count']}, seq {body['seq']} of {body['total']}")
    if body["index"] > body["seq"] or body["count"] > body["total"] or body["files"] > body["total"]:
        raise ProtocolError("bad-value", "body.index, count and files must fit in the bundle's total")
    if hashlib.sha256(body["data"]).hexdigest() != body["chunk_sha256"]:
        raise ProtocolError("chunk-hash-mismatch", f"chunk {body['index']} of {body['path'][:80]}")


_DOC_ACK = record({"doc_id": ulid, "highest_contiguous": integer(-1, MAX_DOCUMENT_BYTES), "state": choice(DOC_STATES)})
DOWN_BODIES: dict[str, Check] = {
    "ack": record({
        "msg_ids": list_of(ulid, MAX_ACK_IDS), "docs": list_of(_DOC_ACK, MAX_ACK_IDS),
        "rejected": list_of(record({"msg_id": ulid, "reason": text(40, _NAME)}), MAX_ACK_IDS),
    }),
    "request-status": record({
        "number": request_number, "state": choice(_values(RequestState)), "reason": nullable(text(500)),
        "at": timestamp,
    }),
    "catalog": record({"version": integer(1), "data": plain_map}),
    "trust-list": record({"blob": blob()}),
    "command": record({"name": text(64, _NAME), "args": plain_map}),
    # Schema 3 (issue 19): Egypt's public holidays for legal durations in working days, as the governorate corrects
    # them each year (the TOML of edge/core/data/holidays.toml; the van checks it with edge.core.workdays.loads).
    "calendar": record({"version": integer(1), "text": text(CALENDAR_MAX_CHARS)}),
    # Schema 4 (issue 20): one chunk of a signed software release (edge.update.transfer cuts and puts it back
    # together; only TUF metadata makes it trusted, on the van, before anything is installed). ``seq`` numbers the
    # bundle's chunks from 0 to ``total`` - 1, file by file in path order.
    "update-chunk": record({
        "bundle": text(64, _BUNDLE), "seq": integer(0, UPDATE_MAX_CHUNKS - 1), "total": integer(1, UPDATE_MAX_CHUNKS),
        "files": integer(1, UPDATE_MAX_FILES), "path": text(600), "index": integer(0, UPDATE_MAX_CHUNKS - 1),
        "count": integer(1, UPDATE_MAX_CHUNKS), "size": integer(0, UPDATE_MAX_FILE_BYTES), "sha256": _HASH,
        "data": _chunk_data, "chunk_sha256": _HASH,
    }),
    # Schema 5: the release the van should run (a bundle name, the updater's id), or null: none named. The van drops
    # every release it deferred that is not this one (edge.update.incoming.Incoming.target, Updater.retry).
    "update-target": record({"release": nullable(text(64, _BUNDLE)), "session": integer(1)}),
}  # fmt: skip


def validate_down_body(kind: str, body: Any, van: str) -> None:
    """Check a downlink body addressed to ``van`` against its kind's schema."""
    if kind not in DOWN_BODIES:
        raise ProtocolError("unknown-kind", repr(kind)[:40])
    DOWN_BODIES[kind](body, "body")
    if kind == "ack" and not (body["msg_ids"] or body["docs"] or body["rejected"]):
        raise ProtocolError("bad-value", "an ack must name at least one message or document")
    if kind == "request-status":
        _owned_number(body["number"], van, "body.number")
    if kind == "update-chunk":
        _update_chunk_rule(body)
    if kind == "catalog" and body["data"].get("version") != body["version"]:
        raise ProtocolError("bad-value", "body.version differs from body.data.version")

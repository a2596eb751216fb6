"""The wire contract between a van and its governorate hub: topics, envelopes, body schemas, downlink messages.

Both ends import this module and validate with the same code, so what one side sends is exactly what
the other accepts. Everything on the wire is one CBOR map (RFC 8949, deterministic encoding, no tags);
``docs/protocol.md`` explains the choice, shows every message and states the rules around them (acks,
ordering, priorities, idempotency, sessions, versioning). Chunked documents live in ``edge.sync.chunks``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

import cbor2
from ulid import ULID

from edge.core import governorates
from edge.core.errors import EdgeError
from edge.core.requests import RequestState, parse_request_number, van_number
from edge.core.tickets import Priority, TicketState
from edge.core.tickets import parse_number as parse_ticket_number
from edge.store import clock

PREFIX = "mtc/v1"
SCHEMA_VERSION = 1  # the newest envelope/body schema this code writes and reads
MIN_SCHEMA_VERSION = 1  # the oldest one it still reads
STREAMS = ("tx", "audit", "doc", "tel", "status")
DOWN_KINDS = ("ack", "request-status", "catalog", "trust-list", "command")
CHUNK_SIZE = 64 * 1024  # the default and the largest chunk of a document
MAX_MESSAGE_BYTES = 256 * 1024  # a 64 KiB chunk is ≈ 66 KB on the wire; a whole catalogue ≈ 27 KB
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
MAX_ACK_IDS = 1000
# The van's inbox forgets downlink ids after retention.inbox_days (90 by default); a command or a status
# decision older than this could no longer be recognised as a replay, so it is refused as "stale".
DOWNLINK_MAX_AGE = timedelta(days=60)
MAX_CLOCK_SKEW = timedelta(minutes=10)
DOC_STATES = ("partial", "complete", "hash-mismatch")

_GOV = re.compile(r"\d\d", re.ASCII)
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
# Topics
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    gov: str
    van: str
    direction: str  # "up" (van → hub) or "down" (hub → van)
    name: str  # a stream going up, a kind going down

    def __str__(self) -> str:
        return f"{PREFIX}/{self.gov}/{self.van}/{self.direction}/{self.name}"


def up_topic(gov: str, van: str, stream: str) -> str:
    _check_ids(gov, van)
    if stream not in STREAMS:
        raise ProtocolError("unknown-stream", repr(stream))
    return f"{PREFIX}/{gov}/{van}/up/{stream}"


def down_topic(gov: str, van: str, kind: str) -> str:
    _check_ids(gov, van)
    if kind not in DOWN_KINDS:
        raise ProtocolError("unknown-kind", repr(kind))
    return f"{PREFIX}/{gov}/{van}/down/{kind}"


def hub_subscription(gov: str) -> str:
    """The hub's shared subscription: every van of the governorate, spread over the hub's instances."""
    _check_gov(gov)
    return f"$share/hub/{PREFIX}/{gov}/+/up/#"


def van_subscription(gov: str, van: str) -> str:
    _check_ids(gov, van)
    return f"{PREFIX}/{gov}/{van}/down/#"


def parse_topic(topic: str) -> Topic:
    parts = topic.split("/") if isinstance(topic, str) else []
    if len(parts) != 6 or "/".join(parts[:2]) != PREFIX or parts[4] not in ("up", "down"):
        raise ProtocolError("bad-topic", repr(topic)[:120])
    _, _, gov, van, direction, name = parts
    _check_ids(gov, van)
    if direction == "up" and name not in STREAMS:
        raise ProtocolError("unknown-stream", repr(name))
    if direction == "down" and name not in DOWN_KINDS:
        raise ProtocolError("unknown-kind", repr(name))
    return Topic(gov, van, direction, name)


def is_van_id(value: object) -> bool:
    return isinstance(value, str) and _VAN.fullmatch(value) is not None


def _check_gov(gov: str) -> None:
    if not (isinstance(gov, str) and _GOV.fullmatch(gov) and gov in governorates.ASSIGNABLE):
        raise ProtocolError("bad-governorate", repr(gov)[:40])


def _check_ids(gov: str, van: str) -> None:
    _check_gov(gov)
    if not is_van_id(van):
        raise ProtocolError("bad-van-id", repr(van)[:40])


# --------------------------------------------------------------------------------------------------
# Field checks: each takes (value, path) and raises ProtocolError; a schema is a dict of them
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
    except EdgeError:
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


def record(fields: Mapping[str, Check]) -> Check:
    """A map with exactly these keys (each one present, even when its value may be null)."""
    def check(value: Any, path: str) -> None:
        if not isinstance(value, Mapping):
            raise _bad_type(path, "a map", value)
        _exact_keys(value, fields, path)
        for key, field_check in fields.items():
            field_check(value[key], f"{path}.{key}")
    return check


def _exact_keys(value: Mapping, names: Iterable[str], path: str) -> None:
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
# Body schemas: one per (stream, kind); a rule after the schema checks what spans fields
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

BODIES: dict[str, dict[str, Check]] = {
    "tx": {
        "request.submitted": record({
            "number": request_number, "van": van_id, "service_code": text(32), "catalogue_version": integer(1),
            "citizen": record({
                "national_id": digits(14), "name": text(200), "mobile": nullable(digits(11)),
                "birth_date": day, "gender": choice(("male", "female")),
            }),
            "fee_piastres": integer(0), "operator": text(64), "submitted_at": timestamp, "expected_ready_on": day,
            "payment": record({"method": text(32), "amount_piastres": integer(0), "reference": nullable(text(64))}),
        }),
        "request.state": record({
            "number": request_number, "state": choice(_values(RequestState)), "reason": nullable(text(500)),
            "at": timestamp,
        }),
        **{kind: _ticket for kind in TICKET_KINDS},
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
    "tel": {"tel.snapshot": record({"at": timestamp, "values": scalars()})},
    "status": {
        kind: record({"session": integer(1), "online": boolean, "schema": integer(1)})
        for kind in ("status.birth", "status.death")
    },
}  # fmt: skip


def _owned_number(number: str, van: str, path: str) -> None:
    # A request number carries the number of the van that issued it: a van can only report its own.
    if parse_request_number(number).van != van_number(van):
        raise ProtocolError("wrong-van", f"{path} {number} was not issued by {van}")


def _submitted_rule(body: dict, van: str) -> None:
    if body["van"] != van:
        raise ProtocolError("wrong-van", f"body.van {body['van']} is not the sender {van}")
    _owned_number(body["number"], van, "body.number")


def _chunk_rule(body: dict, van: str) -> None:
    import hashlib  # noqa: PLC0415 - only chunks need it

    _owned_number(body["request_number"], van, "body.request_number")
    if not body["index"] < body["count"] <= body["size"]:
        raise ProtocolError("bad-value", f"chunk {body['index']} of {body['count']} for {body['size']} bytes")
    if hashlib.sha256(body["data"]).hexdigest() != body["chunk_sha256"]:
        raise ProtocolError("chunk-hash-mismatch", f"chunk {body['index']} of document {body['doc_id']}")


def _status_rule(body: dict, kind: str) -> None:
    if body["online"] != (kind == "status.birth"):
        raise ProtocolError("bad-value", f"{kind} must have online = {kind == 'status.birth'}")


_RULES: dict[str, Callable[[dict, str, str], None]] = {
    "request.submitted": lambda body, van, kind: _submitted_rule(body, van),
    "request.state": lambda body, van, kind: _owned_number(body["number"], van, "body.number"),
    "doc.chunk": lambda body, van, kind: _chunk_rule(body, van),
    "status.birth": lambda body, van, kind: _status_rule(body, kind),
    "status.death": lambda body, van, kind: _status_rule(body, kind),
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
# The uplink envelope
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    msg_id: str  # ULID; the hub inserts by (van, msg_id), so a re-sent message is a no-op there
    van: str
    stream: str
    seq: int  # per stream, from the van's outbox: 1, 2, 3 … without gaps
    schema: int
    created_at: str  # ISO-8601 UTC, when the row was written on the van (not when it was sent)
    kind: str
    body: dict


_ENVELOPE_FIELDS = ("msg_id", "van", "stream", "seq", "schema", "created_at", "kind", "body")


def encode(envelope: Envelope) -> bytes:
    """The bytes to publish; refuses (ProtocolError) what the other end would refuse."""
    fields = {name: getattr(envelope, name) for name in _ENVELOPE_FIELDS}
    _check_envelope(fields, expected_van=None, expected_stream=None)
    return _dumps(fields)


def decode(payload: bytes, *, expected_van: str | None, expected_stream: str | None) -> Envelope:
    """The envelope in ``payload`` received on the topic of ``expected_van`` / ``expected_stream``.

    Pass the van and stream parsed from the topic (None skips that comparison, for tools only): the
    broker's ACL lets a van publish only under its own id, and this check ties the envelope to it.
    """
    fields = _loads(payload)
    _check_envelope(fields, expected_van=expected_van, expected_stream=expected_stream)
    return Envelope(**{name: fields[name] for name in _ENVELOPE_FIELDS})


def from_outbox_row(row: Any, van: str) -> Envelope:
    """The envelope for an ``edge.store.outbox.OutboxRow``; refuses a row the hub would refuse."""
    envelope = Envelope(row.msg_id, van, row.stream, row.seq, SCHEMA_VERSION, row.created_at, row.kind, row.body)
    _check_envelope(vars(envelope), expected_van=None, expected_stream=None)
    return envelope


def _check_envelope(fields: Any, *, expected_van: str | None, expected_stream: str | None) -> None:
    _check_head(fields, _ENVELOPE_FIELDS)
    ulid(fields["msg_id"], "msg_id")
    van_id(fields["van"], "van")
    if expected_van is not None and fields["van"] != expected_van:
        raise ProtocolError("wrong-van", f"envelope van {fields['van']} on the topic of {expected_van}")
    if not isinstance(fields["stream"], str) or fields["stream"] not in STREAMS:
        raise ProtocolError("unknown-stream", repr(fields["stream"])[:40])
    if expected_stream is not None and fields["stream"] != expected_stream:
        raise ProtocolError("wrong-stream", f"envelope stream {fields['stream']} on topic {expected_stream}")
    integer()(fields["seq"], "seq")
    if fields["seq"] < 1:
        raise ProtocolError("bad-seq", f"seq must be at least 1, is {fields['seq']}")
    timestamp(fields["created_at"], "created_at")
    text(64)(fields["kind"], "kind")
    validate_body(fields["stream"], fields["kind"], fields["body"], fields["van"])


def _check_head(fields: Any, names: tuple[str, ...]) -> None:
    # The schema version is read first: a newer one may have different fields, so "too new" must win.
    if not isinstance(fields, Mapping):
        raise ProtocolError("malformed", f"the message is a {type(fields).__name__}, not a map")
    schema = fields.get("schema")
    integer()(schema, "schema") if "schema" in fields else None
    if isinstance(schema, int) and schema > SCHEMA_VERSION:
        raise ProtocolError("schema-too-new", f"schema {schema}; this side knows up to {SCHEMA_VERSION}")
    if isinstance(schema, int) and schema < MIN_SCHEMA_VERSION:
        raise ProtocolError("schema-too-old", f"schema {schema}; this side reads from {MIN_SCHEMA_VERSION}")
    record(dict.fromkeys(names, lambda value, path: None))(fields, "envelope")


# --------------------------------------------------------------------------------------------------
# Downlink: hub → van
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocAck:
    """How far the hub has a document: chunks 0…highest_contiguous are stored (-1: none yet)."""

    doc_id: str
    highest_contiguous: int
    state: str = "partial"  # "complete" once verified and stored; "hash-mismatch": start again from 0


@dataclass(frozen=True)
class Rejected:
    """A message the hub refused (never stored, never acked), with the ProtocolError reason."""

    msg_id: str
    reason: str


@dataclass(frozen=True)
class Ack:
    kind: ClassVar[str] = "ack"
    msg_ids: tuple[str, ...]  # stored (now or before): the van marks these delivered
    docs: tuple[DocAck, ...] = ()
    rejected: tuple[Rejected, ...] = ()


@dataclass(frozen=True)
class RequestStatus:
    kind: ClassVar[str] = "request-status"
    number: str
    state: str
    reason: str | None
    at: str


@dataclass(frozen=True)
class Catalog:
    kind: ClassVar[str] = "catalog"
    version: int
    data: dict  # edge.core.catalogue.to_dict form; the van loads it with catalogue.from_dict


@dataclass(frozen=True)
class TrustList:
    kind: ClassVar[str] = "trust-list"
    blob: bytes  # signed; verified by its consumer, not here


@dataclass(frozen=True)
class Command:
    kind: ClassVar[str] = "command"
    name: str
    args: dict


DownMessage = Ack | RequestStatus | Catalog | TrustList | Command


@dataclass(frozen=True)
class Downlink:
    msg_id: str  # ULID; the van applies each one once (edge.store.inbox)
    van: str
    kind: str
    schema: int
    created_at: str
    message: DownMessage


_DOWN_FIELDS = ("msg_id", "van", "kind", "schema", "created_at", "body")
_DOC_ACK = record({"doc_id": ulid, "highest_contiguous": integer(-1, MAX_DOCUMENT_BYTES), "state": choice(DOC_STATES)})
DOWN_BODIES: dict[str, Check] = {
    "ack": record({
        "msg_ids": list_of(ulid, MAX_ACK_IDS), "docs": list_of(_DOC_ACK, MAX_ACK_IDS),
        "rejected": list_of(record({"msg_id": ulid, "reason": text(40, _NAME)}), MAX_ACK_IDS),
    }),
    "request-status": record({
        "number": request_number, "state": choice(_values(RequestState)), "reason": nullable(text(500)), "at": timestamp,
    }),
    "catalog": record({"version": integer(1), "data": plain_map}),
    "trust-list": record({"blob": blob()}),
    "command": record({"name": text(64, _NAME), "args": plain_map}),
}  # fmt: skip
# Replaying an ack, a catalogue or a trust list changes nothing (ids and versions only move forward);
# replaying a command or a status decision could, so those carry an expiry.
FRESHNESS_CHECKED = ("request-status", "command")


def _down_rule(kind: str, body: dict, van: str) -> None:
    if kind == "ack" and not (body["msg_ids"] or body["docs"] or body["rejected"]):
        raise ProtocolError("bad-value", "an ack must name at least one message or document")
    if kind == "request-status":
        _owned_number(body["number"], van, "body.number")
    if kind == "catalog" and body["data"].get("version") != body["version"]:
        raise ProtocolError("bad-value", "body.version differs from body.data.version")


def encode_down(
    message: DownMessage, *, van: str, msg_id: str | None = None, now: datetime | None = None,
    schema: int = SCHEMA_VERSION,
) -> bytes:  # fmt: skip
    """The bytes to publish on ``down_topic(gov, van, message.kind)``."""
    fields = {
        "msg_id": msg_id or str(ULID()), "van": van, "kind": message.kind, "schema": schema,
        "created_at": clock.iso(now or clock.now()), "body": _down_body(message),
    }  # fmt: skip
    _check_down(fields, van=van, kind=message.kind, now=None)
    return _dumps(fields)


def decode_down(payload: bytes, *, van: str, kind: str, now: datetime | None = None) -> Downlink:
    """The downlink in ``payload``, received on this van's topic for ``kind``.

    With ``now``, a command or request-status older than DOWNLINK_MAX_AGE ("stale") or dated ahead of
    now by more than MAX_CLOCK_SKEW ("from-future") is refused.
    """
    fields = _loads(payload)
    _check_down(fields, van=van, kind=kind, now=now)
    return Downlink(fields["msg_id"], fields["van"], fields["kind"], fields["schema"], fields["created_at"],
                    _down_message(fields["kind"], fields["body"]))


def _check_down(fields: Any, *, van: str, kind: str, now: datetime | None) -> None:
    _check_head(fields, _DOWN_FIELDS)
    ulid(fields["msg_id"], "msg_id")
    van_id(fields["van"], "van")
    if fields["van"] != van:
        raise ProtocolError("wrong-van", f"downlink for {fields['van']} received by {van}")
    if not isinstance(fields["kind"], str) or fields["kind"] not in DOWN_KINDS:
        raise ProtocolError("unknown-kind", repr(fields["kind"])[:40])
    if fields["kind"] != kind:
        raise ProtocolError("wrong-kind", f"a {fields['kind']} on the {kind} topic")
    timestamp(fields["created_at"], "created_at")
    if now is not None and kind in FRESHNESS_CHECKED:
        age = now - datetime.fromisoformat(fields["created_at"])
        if age > DOWNLINK_MAX_AGE:
            raise ProtocolError("stale", f"{kind} {fields['msg_id']} is {age.days} days old")
        if -age > MAX_CLOCK_SKEW:
            raise ProtocolError("from-future", f"{kind} {fields['msg_id']} is dated {-age} ahead")
    DOWN_BODIES[kind](fields["body"], "body")
    _down_rule(kind, fields["body"], van)


def _down_body(message: DownMessage) -> dict:
    if isinstance(message, Ack):
        return {"msg_ids": list(message.msg_ids), "docs": [vars(d) for d in message.docs],
                "rejected": [vars(r) for r in message.rejected]}  # fmt: skip
    if not isinstance(message, RequestStatus | Catalog | TrustList | Command):
        raise ProtocolError("unknown-kind", f"not a downlink message: {type(message).__name__}")
    return dict(vars(message))


def _down_message(kind: str, body: dict) -> DownMessage:
    if kind == "ack":
        return Ack(tuple(body["msg_ids"]), tuple(DocAck(**d) for d in body["docs"]),
                   tuple(Rejected(**r) for r in body["rejected"]))  # fmt: skip
    cls = {"request-status": RequestStatus, "catalog": Catalog, "trust-list": TrustList, "command": Command}[kind]
    return cls(**body)


# --------------------------------------------------------------------------------------------------
# Sessions: the retained birth and the last will on up/status
# --------------------------------------------------------------------------------------------------


def birth(van: str, session: int, *, now: datetime | None = None, msg_id: str | None = None) -> Envelope:
    """Published retained right after CONNECT; ``session`` is the counter the van bumped before it."""
    return _status(van, session, "status.birth", now, msg_id)


def death(van: str, session: int, *, now: datetime | None = None, msg_id: str | None = None) -> Envelope:
    """The last will, set in CONNECT for the same session (so its created_at is the connect time)."""
    return _status(van, session, "status.death", now, msg_id)


def _status(van: str, session: int, kind: str, now: datetime | None, msg_id: str | None) -> Envelope:
    body = {"session": session, "online": kind == "status.birth", "schema": SCHEMA_VERSION}
    envelope = Envelope(msg_id or str(ULID()), van, "status", session, SCHEMA_VERSION,
                        clock.iso(now or clock.now()), kind, body)  # fmt: skip
    _check_envelope(vars(envelope), expected_van=None, expected_stream=None)
    return envelope


@dataclass(frozen=True)
class Presence:
    session: int
    online: bool

    @classmethod
    def of(cls, envelope: Envelope) -> Presence:
        return cls(envelope.body["session"], envelope.body["online"])


def is_newer_session(current: Presence | None, incoming: Presence) -> bool:
    """Whether the hub should replace what it knows about a van with ``incoming``.

    A later session always wins; within one session only the step from online to offline counts.
    So a will that arrives late, after the van has already reconnected, cannot mark it offline.
    """
    if current is None or incoming.session > current.session:
        return True
    return incoming.session == current.session and current.online and not incoming.online


# --------------------------------------------------------------------------------------------------
# CBOR on the wire, and a JSON view for people
# --------------------------------------------------------------------------------------------------


def _refuse_tag(*args: Any) -> Any:
    raise ValueError("CBOR tags are not part of the protocol")


class _NoTags(Mapping):
    # cbor2 consults this for every tag, including the ones it would otherwise decode itself
    # (dates, big numbers, sets, regular expressions, shared references …): the contract has none.
    def __getitem__(self, tag: int) -> Callable[..., Any]:
        return _refuse_tag

    def __iter__(self):
        return iter(())

    def __len__(self) -> int:
        return 0


_NO_TAGS = _NoTags()


def _loads(payload: bytes) -> Any:
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise ProtocolError("malformed", f"payload is a {type(payload).__name__}, not bytes")
    if len(payload) > MAX_MESSAGE_BYTES:
        raise ProtocolError("oversize", f"{len(payload)} bytes, at most {MAX_MESSAGE_BYTES}")
    stream = io.BytesIO(payload)
    try:
        value = cbor2.CBORDecoder(
            stream, tag_hook=_refuse_tag, semantic_decoders=_NO_TAGS, read_size=1, max_depth=16,
            allow_indefinite=False, allow_duplicate_keys=False,
        ).decode()  # fmt: skip
    except Exception as exc:  # any failure to parse is the sender's fault, whatever the library raises
        raise ProtocolError("malformed", f"not CBOR: {str(exc)[:100]}") from None
    if stream.tell() != len(payload):
        raise ProtocolError("malformed", f"{len(payload) - stream.tell()} bytes after the message")
    return value


def _dumps(fields: dict) -> bytes:
    payload = cbor2.dumps(fields, canonical=True)
    if len(payload) > MAX_MESSAGE_BYTES:
        raise ProtocolError("oversize", f"{len(payload)} bytes, at most {MAX_MESSAGE_BYTES}")
    return payload


def to_json(payload: bytes) -> str:
    """A readable view of a wire message for logs, tools and docs; bytes appear as {"$base64": "…"}."""
    return json.dumps(_loads(payload), ensure_ascii=False, indent=2, default=_json_default)


def from_json(text_: str) -> bytes:
    """The wire bytes for a JSON view made by :func:`to_json` (not validated: decode them for that)."""
    def hook(obj: dict) -> Any:
        return base64.b64decode(obj["$base64"], validate=True) if set(obj) == {"$base64"} else obj
    return _dumps(json.loads(text_, object_hook=hook))


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$base64": base64.b64encode(value).decode("ascii")}
    raise TypeError(f"{type(value).__name__} has no JSON view")

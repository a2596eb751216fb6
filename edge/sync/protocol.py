"""The wire contract between a van and its governorate hub: topics, envelopes, downlink messages, sessions.

Both ends import this module and validate with the same code, so what one side sends is exactly what
the other accepts. Everything on the wire is one CBOR map (RFC 8949, deterministic encoding, no tags).
``docs/protocol.md`` explains that choice, shows every message and states the rules around them (acks,
ordering, priorities, idempotency, sessions, versioning). What each body may hold is declared in
``edge.sync.schema``; chunked documents are cut and put back together in ``edge.sync.chunks``.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import cbor2
from ulid import ULID

from edge.core import governorates
from edge.sync.schema import (
    CHUNK_SIZE,
    DOC_STATES,
    MAX_ACK_IDS,
    MAX_DOCUMENT_BYTES,
    MAX_MESSAGE_BYTES,
    ProtocolError,
    exact_keys,
    integer,
    is_van_id,
    text,
    timestamp,
    ulid,
    validate_body,
    validate_down_body,
    van_id,
)

__all__ = [
    "CHUNK_SIZE", "DOC_STATES", "DOWN_KINDS", "DOWNLINK_MAX_AGE", "FRESHNESS_CHECKED", "MAX_ACK_IDS",
    "MAX_CLOCK_SKEW", "MAX_DOCUMENT_BYTES", "MAX_MESSAGE_BYTES", "MIN_SCHEMA_VERSION", "PREFIX", "SCHEMA_VERSION",
    "STREAMS", "Ack", "Calendar", "Catalog", "Command", "DocAck", "Downlink", "Envelope", "Presence", "ProtocolError",
    "Rejected", "RequestStatus", "Topic", "TrustList", "UpdateChunk", "UpdateTarget", "birth", "death", "decode",
    "decode_down", "down_schema", "down_topic",
    "encode", "encode_down", "from_json", "from_outbox_row", "hub_subscription", "is_newer_session",
    "is_van_id", "parse_topic", "to_json", "up_topic", "validate_body", "validate_down_body", "van_subscription",
]  # fmt: skip

PREFIX = "mtc/v1"
# The newest envelope/body schema this code writes and reads. 2: the request state "cancelled" and the kind
# "request.refunded" (issue 18); a version-1 message is read as before. 3: "shift.closed" and the downlink
# "calendar" (issue 19). 4: a software release down in chunks ("update-chunk") and the van's progress
# ("tel.update"; issue 20). 5: the governorate's word on which release a van should run ("update-target"), which
# cancels a release the van deferred (docs/updates.md).
SCHEMA_VERSION = 5
MIN_SCHEMA_VERSION = 1  # the oldest one it still reads
STREAMS = ("tx", "audit", "doc", "tel", "status")
DOWN_KINDS = ("ack", "request-status", "catalog", "trust-list", "command", "calendar", "update-chunk",
              "update-target")
# The commands a van carries out (edge.sync.downlink); the hub offers only these.
COMMANDS = ("rebirth", "send-telemetry", "ping", "camera-thumbnail")
# The van's inbox forgets downlink ids after retention.inbox_days (90 by default); a command or a status
# decision older than this could no longer be recognised as a replay, so it is refused as "stale".
DOWNLINK_MAX_AGE = timedelta(days=60)
MAX_CLOCK_SKEW = timedelta(minutes=10)
# Replaying an ack, a catalogue or a trust list changes nothing (ids and versions only move forward), nor does the
# governorate's word on a van's release (the van keeps the newest by created_at and refuses an older one);
# replaying a command or a status decision could, so those two expire.
FRESHNESS_CHECKED = ("request-status", "command")

_GOV = re.compile(r"\d\d", re.ASCII)


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


def _check_gov(gov: str) -> None:
    if not (isinstance(gov, str) and _GOV.fullmatch(gov) and gov in governorates.ASSIGNABLE):
        raise ProtocolError("bad-governorate", repr(gov)[:40])


def _check_ids(gov: str, van: str) -> None:
    _check_gov(gov)
    if not is_van_id(van):
        raise ProtocolError("bad-van-id", repr(van)[:40])


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


def encode_outbox_row(row: Any, van: str) -> bytes:
    """``encode(from_outbox_row(row, van))`` with one validation instead of two (the drain's hot path)."""
    envelope = from_outbox_row(row, van)
    return _dumps({name: getattr(envelope, name) for name in _ENVELOPE_FIELDS})


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
    # The schema version is read first: a newer one may have other fields, so "too new" must win.
    if not isinstance(fields, Mapping):
        raise ProtocolError("malformed", f"the message is a {type(fields).__name__}, not a map")
    if "schema" in fields:
        schema = fields["schema"]
        integer(1)(schema, "schema")
        if schema > SCHEMA_VERSION:
            raise ProtocolError("schema-too-new", f"schema {schema}; this side knows up to {SCHEMA_VERSION}")
        if schema < MIN_SCHEMA_VERSION:
            raise ProtocolError("schema-too-old", f"schema {schema}; this side reads from {MIN_SCHEMA_VERSION}")
    exact_keys(fields, names, "envelope")


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
class Calendar:
    kind: ClassVar[str] = "calendar"
    version: int
    text: str  # the public-holidays TOML (edge/core/data/holidays.toml's form); the van loads it with workdays.loads


@dataclass(frozen=True)
class TrustList:
    kind: ClassVar[str] = "trust-list"
    blob: bytes  # signed; verified by its consumer, not here


@dataclass(frozen=True)
class Command:
    kind: ClassVar[str] = "command"
    name: str
    args: dict


@dataclass(frozen=True)
class UpdateChunk:
    """One chunk of a signed software release (edge.update.transfer); never through the inbox: chunks are
    idempotent by themselves (the same bytes at the same place) and the van's progress report says what is held."""

    kind: ClassVar[str] = "update-chunk"
    bundle: str
    seq: int
    total: int
    files: int
    path: str
    index: int
    count: int
    size: int
    sha256: str
    data: bytes
    chunk_sha256: str


@dataclass(frozen=True)
class UpdateTarget:
    """The governorate's word on the release this van should run (schema 5): the van drops every release it deferred
    that is not ``release`` (a fleet rollback, a pin, an offer withdrawn cancel it), and its ``retry`` switches to a
    deferred release only after it heard this word since its link came back (edge.update.install.Updater.retry).
    ``release`` None: the governorate names none for this van (no rollout covers it, nothing offered): the van keeps
    what it deferred. Sent at once, through the inbox (applied once, answered with ``downlink.applied``). ``session``:
    the van's connection the word was told for (its birth's counter); the van refuses a word for another one (one sent
    again from an earlier connection may be stale: the hub tells each connection anew), and of its words the newest
    (by session, then the envelope's ``created_at``) counts."""

    kind: ClassVar[str] = "update-target"
    release: str | None
    session: int


DownMessage = Ack | RequestStatus | Catalog | TrustList | Command | Calendar | UpdateChunk | UpdateTarget


@dataclass(frozen=True)
class Downlink:
    msg_id: str  # ULID; the van applies each one once (edge.store.inbox)
    van: str
    kind: str
    schema: int
    created_at: str
    message: DownMessage


_DOWN_FIELDS = ("msg_id", "van", "kind", "schema", "created_at", "body")


# The schema version that introduced each downlink kind (the others are in version 1).
DOWN_KIND_SINCE = {"calendar": 3, "update-chunk": 4, "update-target": 5}


def down_schema(message: DownMessage) -> int:
    """The oldest schema version that can carry ``message``: what the hub labels it with, so that a van still on
    older software reads every downlink it can understand (a van refuses a version newer than its own as
    "schema-too-new"). A request state a version does not know needs the version that added it."""
    since = DOWN_KIND_SINCE.get(message.kind, 1)
    if isinstance(message, RequestStatus) and message.state == "cancelled":
        since = max(since, 2)
    return since


def encode_down(
    message: DownMessage, *, van: str, msg_id: str | None = None, now: datetime | None = None,
    schema: int | None = None,
) -> bytes:  # fmt: skip
    """The bytes to publish on ``down_topic(gov, van, message.kind)``, labelled with ``schema`` (by default the
    oldest version that can carry the message: :func:`down_schema`)."""
    oldest = down_schema(message)
    if schema is None:
        schema = oldest
    elif schema < oldest:
        raise ProtocolError("bad-value", f"a {message.kind} needs schema {oldest} or newer, not {schema}")
    fields = {
        "msg_id": msg_id or str(ULID()), "van": van, "kind": message.kind, "schema": schema,
        "created_at": _iso(now), "body": _down_body(message),
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
    return Downlink(
        fields["msg_id"],
        fields["van"],
        fields["kind"],
        fields["schema"],
        fields["created_at"],
        _down_message(fields["kind"], fields["body"]),
    )


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
    validate_down_body(kind, fields["body"], van)


def _down_body(message: DownMessage) -> dict:
    if isinstance(message, Ack):
        return {"msg_ids": list(message.msg_ids), "docs": [vars(d) for d in message.docs],
                "rejected": [vars(r) for r in message.rejected]}  # fmt: skip
    if not isinstance(message, RequestStatus | Catalog | TrustList | Command | Calendar | UpdateChunk | UpdateTarget):
        raise ProtocolError("unknown-kind", f"not a downlink message: {type(message).__name__}")
    return dict(vars(message))


def _down_message(kind: str, body: dict) -> DownMessage:
    if kind == "ack":
        return Ack(tuple(body["msg_ids"]), tuple(DocAck(**d) for d in body["docs"]),
                   tuple(Rejected(**r) for r in body["rejected"]))  # fmt: skip
    cls = {"request-status": RequestStatus, "catalog": Catalog, "trust-list": TrustList, "command": Command,
           "calendar": Calendar, "update-chunk": UpdateChunk, "update-target": UpdateTarget}[kind]
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
                        _iso(now), kind, body)  # fmt: skip
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
    """A readable view of a wire message for logs, tools and docs; bytes appear as {"$base64": "…"}.

    The envelope's fields come in their documented order and every map below it in alphabetical order
    (on the wire they are in CBOR's deterministic order, shortest key first).
    """
    return json.dumps(_readable(_loads(payload), _FIELD_ORDER), ensure_ascii=False, indent=2, default=_json_default)


_FIELD_ORDER = {name: i for i, name in enumerate(dict.fromkeys(_ENVELOPE_FIELDS + _DOWN_FIELDS))}


def _readable(value: Any, order: Mapping[str, int] | None = None) -> Any:
    if isinstance(value, Mapping):
        keys = sorted(value, key=lambda k: (order.get(k, len(order)) if order else 0, str(k)))
        return {k: _readable(value[k]) for k in keys}
    if isinstance(value, list):
        return [_readable(v) for v in value]
    return value


def from_json(text_: str) -> bytes:
    """The wire bytes for a JSON view made by :func:`to_json` (not validated: decode them for that)."""

    def hook(obj: dict) -> Any:
        return base64.b64decode(obj["$base64"], validate=True) if set(obj) == {"$base64"} else obj

    return _dumps(json.loads(text_, object_hook=hook))


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$base64": base64.b64encode(value).decode("ascii")}
    raise TypeError(f"{type(value).__name__} has no JSON view")


def _iso(now: datetime | None) -> str:
    # The hub imports this module without the van's store, so it keeps its own clock reading.
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("naive datetime: protocol times must be timezone-aware")
    return moment.astimezone(UTC).isoformat()

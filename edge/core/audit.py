"""The operator audit log as a SHA-256 hash chain, so an edited, deleted or reordered row is detectable.

Each entry's hash covers its own fields and the previous entry's hash. Checking the chain
(:func:`verify`) therefore finds the first place where the log stops being the one that was written.

What a chain alone cannot catch: cutting rows off the end, or rewriting a whole suffix with freshly
computed hashes. Both need an anchor kept elsewhere (the hub's last acknowledged ``seq`` and
``hash``), which is also what ``verify(start_prev_hash=..., start_seq=...)`` takes when only the
part after an archived prefix is checked.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from edge.core.errors import EdgeError

GENESIS = "0" * 64

HASH_MISMATCH = "hash-mismatch"  # the row's content is not what was hashed: it was edited
BROKEN_LINK = "broken-link"  # prev_hash is not the previous row's hash: deleted, inserted or reordered
SEQUENCE_GAP = "sequence-gap"  # hash and link hold but the number is wrong: renumbered and re-hashed
BAD_GENESIS = "bad-genesis"  # the first row does not hang off the expected start (GENESIS or archive)


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    details: dict
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainBreak:
    """Where the chain first fails.

    ``seq`` is the number the chain expected at that position (``start_seq`` + index), not the
    number written in the row: a tampered row's own fields cannot be trusted. So for a deleted entry
    k the break is found at the row after it, which now stands at position k: ``ChainBreak(k, ...)``.
    """

    seq: int
    reason: str


class InvalidAuditEntry(EdgeError, ValueError):
    """An action could not be recorded because the entry itself is malformed (a programming error)."""

    code = "audit-invalid-entry"

    def __init__(self, detail: str):
        super().__init__(
            "تعذّر تسجيل هذا الإجراء في سجل المراجعة. يُرجى إبلاغ الدعم الفني.",
            "This action could not be recorded in the audit log. Please tell technical support.",
            detail=detail,
        )


def entry_hash(
    seq: int, at: str, actor: str, action: str, subject: str, details: Mapping, prev_hash: str
) -> str:
    """SHA-256 hex digest of the entry's canonical JSON; the van and the hub must compute it identically."""
    payload = json.dumps(
        [seq, at, actor, action, subject, details, prev_hash],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(
    previous: AuditEntry | None,
    *,
    at: datetime | str,
    actor: str,
    action: str,
    subject: str = "",
    details: Mapping | None = None,
) -> AuditEntry:
    """The entry that follows ``previous`` (or the first one of the log when it is None)."""
    for name, value in (("actor", actor), ("action", action), ("subject", subject)):
        if not isinstance(value, str):
            raise InvalidAuditEntry(f"{name} must be a string, got {type(value).__name__}")
    if not actor or not action:
        raise InvalidAuditEntry("actor and action must not be empty")
    seq = 1 if previous is None else previous.seq + 1
    prev_hash = GENESIS if previous is None else previous.hash
    stamp = _timestamp(at)
    plain = _plain_details({} if details is None else details)
    return AuditEntry(
        seq=seq,
        at=stamp,
        actor=actor,
        action=action,
        subject=subject,
        details=plain,
        prev_hash=prev_hash,
        hash=entry_hash(seq, stamp, actor, action, subject, plain, prev_hash),
    )


def verify(
    entries: Iterable[AuditEntry], *, start_prev_hash: str = GENESIS, start_seq: int = 1
) -> ChainBreak | None:
    """The first break in ``entries`` (in the order given), or None when the chain holds.

    Checks per entry, in this order: its own hash (``hash-mismatch``), its link to the previous
    entry (``bad-genesis`` for the first entry, ``broken-link`` after), its number
    (``sequence-gap``). A deleted or moved row has an intact hash but a wrong link, so deletions and
    reorderings report ``broken-link``; ``sequence-gap`` is left for a row renumbered and re-hashed.
    """
    expected_seq, expected_prev = start_seq, start_prev_hash
    for entry in entries:
        reason = _first_fault(entry, expected_seq, expected_prev, first=expected_seq == start_seq)
        if reason is not None:
            return ChainBreak(seq=expected_seq, reason=reason)
        expected_seq, expected_prev = expected_seq + 1, entry.hash
    return None


def _first_fault(entry: AuditEntry, seq: int, prev_hash: str, *, first: bool) -> str | None:
    try:
        recomputed = entry_hash(
            entry.seq, entry.at, entry.actor, entry.action, entry.subject, entry.details, entry.prev_hash
        )
    except (TypeError, ValueError):  # details tampered into something that is not JSON at all
        return HASH_MISMATCH
    if recomputed != entry.hash:
        return HASH_MISMATCH
    if entry.prev_hash != prev_hash:
        return BAD_GENESIS if first else BROKEN_LINK
    if entry.seq != seq:
        return SEQUENCE_GAP
    return None


def _timestamp(at: datetime | str) -> str:
    # Always microseconds and "+00:00": one instant has exactly one spelling, so the hub and the van
    # never disagree about a hash because of how a time was printed.
    if isinstance(at, datetime):
        if at.tzinfo is None or at.utcoffset() is None:
            raise InvalidAuditEntry(f"audit times must be timezone-aware, got naive {at!r}")
        return at.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(at, str):
        # A string is kept verbatim (it may be re-creating a stored row), so it is only checked.
        try:
            parsed = datetime.fromisoformat(at)
        except ValueError:
            raise InvalidAuditEntry(f"not an ISO-8601 timestamp: {at!r}") from None
        if parsed.utcoffset() != timedelta(0):
            raise InvalidAuditEntry(f"audit timestamps must be in UTC with an offset, got {at!r}")
        return at
    raise InvalidAuditEntry(f"at must be a datetime or an ISO-8601 string, got {type(at).__name__}")


def _plain_details(details: Mapping) -> dict:
    """A deep copy made only of JSON types, so the entry hashes the same after a trip through storage.

    Tuples would come back as lists (same JSON, same hash, fine), but non-string keys would come back
    as strings and NaN is not JSON at all; both are refused rather than silently changed.
    """
    if not isinstance(details, Mapping):
        raise InvalidAuditEntry(f"details must be a mapping, got {type(details).__name__}")
    return _plain(details, "details")


def _plain(value: object, path: str) -> object:
    # Subclasses (StrEnum, IntEnum, bool) are turned into the plain type JSON will give back.
    if value is None:
        return None
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidAuditEntry(f"{path} is {value!r}, which JSON cannot represent")
        return float(value)
    if isinstance(value, Mapping):
        plain = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidAuditEntry(f"{path} has a non-string key {key!r}; JSON keys are strings")
            plain[key] = _plain(item, f"{path}[{key!r}]")
        return plain
    if isinstance(value, list | tuple):
        return [_plain(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise InvalidAuditEntry(f"{path} is a {type(value).__name__}, which is not JSON-serialisable")

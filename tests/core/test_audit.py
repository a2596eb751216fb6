"""The audit hash chain: appending, and catching edited, deleted and reordered rows."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.core import audit
from edge.core.audit import GENESIS, AuditEntry, ChainBreak, InvalidAuditEntry
from edge.core.errors import EdgeError

START = datetime(2026, 11, 21, 10, 15, tzinfo=UTC)


def chain(length: int, *, first_seq_time: datetime = START) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for i in range(length):
        entries.append(
            audit.append(
                entries[-1] if entries else None,
                at=first_seq_time + timedelta(seconds=37 * i, microseconds=i),
                actor=f"operator:{i % 4 + 1}",
                action=("ticket.call", "ticket.finish", "request.submit")[i % 3],
                subject=f"A{i % 999 + 1:03d}",
                details={"counter": i % 4 + 1, "note": "مواطن مسن" if i % 2 else "", "n": [i, i * 0.5]},
            )
        )
    return entries


def rehashed(entry: AuditEntry) -> AuditEntry:
    """What a tamperer who knows the hash recipe would store."""
    return replace(
        entry,
        hash=audit.entry_hash(
            entry.seq, entry.at, entry.actor, entry.action, entry.subject, entry.details, entry.prev_hash
        ),
    )


# --- appending --------------------------------------------------------------------------------


def test_first_entry_hangs_off_genesis():
    first = audit.append(None, at=START, actor="system", action="van.start")
    assert (first.seq, first.prev_hash, first.subject, first.details) == (1, GENESIS, "", {})
    assert first.hash == audit.entry_hash(1, first.at, "system", "van.start", "", {}, GENESIS)


def test_next_entry_links_to_previous():
    first = audit.append(None, at=START, actor="system", action="van.start")
    second = audit.append(first, at=START, actor="operator:1", action="ticket.call", subject="A001")
    assert (second.seq, second.prev_hash) == (2, first.hash)


def test_times_are_stored_as_utc_strings_with_microseconds():
    cairo = timezone(timedelta(hours=2))
    entry = audit.append(None, at=datetime(2026, 11, 21, 12, 15, tzinfo=cairo), actor="system", action="x")
    assert entry.at == "2026-11-21T10:15:00.000000+00:00"


def test_time_given_as_utc_string_is_kept_verbatim():
    entry = audit.append(None, at="2026-11-21T10:15:00.123456+00:00", actor="system", action="x")
    assert entry.at == "2026-11-21T10:15:00.123456+00:00"


@pytest.mark.parametrize(
    "bad",
    [
        datetime(2026, 11, 21, 10, 15),
        "2026-11-21T10:15:00",
        "2026-11-21T12:15:00+02:00",
        "yesterday",
        1700000000,
    ],
)
def test_naive_non_utc_or_garbled_times_are_refused(bad):
    with pytest.raises(InvalidAuditEntry):
        audit.append(None, at=bad, actor="system", action="x")


@pytest.mark.parametrize(
    "details",
    [
        {"when": START},
        {"tags": {"a", "b"}},
        {1: "numeric key"},
        {"x": float("nan")},
        {"deep": [{"o": object()}]},
    ],
    ids=["datetime", "set", "int-key", "nan", "nested-object"],
)
def test_details_that_are_not_json_are_refused_with_a_clear_error(details):
    with pytest.raises(InvalidAuditEntry) as caught:
        audit.append(None, at=START, actor="system", action="x", details=details)
    assert isinstance(caught.value, EdgeError) and isinstance(caught.value, ValueError)
    assert caught.value.code == "audit-invalid-entry"
    assert "details" in caught.value.detail


def test_details_are_copied_so_later_changes_by_the_caller_do_not_break_the_chain():
    details = {"items": ["birth-certificate"]}
    entry = audit.append(None, at=START, actor="operator:1", action="request.submit", details=details)
    details["items"].append("smuggled")
    assert audit.verify([entry]) is None


def test_details_hash_the_same_after_a_trip_through_json_storage():
    class Priority(StrEnum):
        ELDERLY = "elderly"

    entry = audit.append(
        None, at=START, actor="operator:1", action="x", details={"p": Priority.ELDERLY, "t": (1, 2)}
    )
    stored = replace(entry, details=json.loads(json.dumps(entry.details)))
    assert stored.details == entry.details == {"p": "elderly", "t": [1, 2]}
    assert audit.verify([stored]) is None


def test_arabic_details_hash_stably():
    details = {"الاسم": "محمد عبد الله", "الخدمة": "شهادة ميلاد", "counter": 2}
    digest = audit.entry_hash(
        7, "2026-11-21T10:15:00.123456+00:00", "operator:3", "request.submit", "R-0042", details, GENESIS
    )
    # The canonical form is spelled out so the hub (or anyone) can reproduce it byte for byte.
    canonical = (
        '[7,"2026-11-21T10:15:00.123456+00:00","operator:3","request.submit","R-0042",'
        '{"counter":2,"الاسم":"محمد عبد الله","الخدمة":"شهادة ميلاد"},"' + GENESIS + '"]'
    )
    assert digest == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert digest == "d4c3cbd995844f9f85bc4cb4aa4ed96d201ef37eb29919790303f790ea328893"
    reordered = dict(reversed(list(details.items())))
    assert (
        audit.entry_hash(
            7,
            "2026-11-21T10:15:00.123456+00:00",
            "operator:3",
            "request.submit",
            "R-0042",
            reordered,
            GENESIS,
        )
        == digest
    )


# --- verifying --------------------------------------------------------------------------------


def test_chain_of_100_entries_verifies():
    assert audit.verify(chain(100)) is None


def test_empty_log_verifies():
    assert audit.verify([]) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("action", "ticket.no_show"),
        ("details", {"counter": 9}),
        ("at", "2026-11-21T09:00:00.000000+00:00"),
        ("actor", "operator:9"),
        ("subject", "A999"),
        ("seq", 99),
        ("prev_hash", "f" * 64),
        ("hash", "e" * 64),
    ],
)
@pytest.mark.parametrize("k", [1, 2, 50, 100])
def test_editing_any_field_is_caught_at_that_entry(field, value, k):
    entries = chain(100)
    entries[k - 1] = replace(entries[k - 1], **{field: value})
    assert audit.verify(entries) == ChainBreak(seq=k, reason="hash-mismatch")


def test_details_edited_into_something_not_json_is_a_hash_mismatch():
    entries = chain(5)
    entries[2] = replace(entries[2], details={"x": object()})
    assert audit.verify(entries) == ChainBreak(3, "hash-mismatch")


@pytest.mark.parametrize("k", [2, 37, 99])
def test_deleted_entry_is_caught_as_broken_link_where_it_was(k):
    entries = chain(100)
    del entries[k - 1]
    # Detected at the entry after the deleted one, which now stands at position k.
    assert audit.verify(entries) == ChainBreak(seq=k, reason="broken-link")


def test_deleted_first_entry_is_caught_as_bad_genesis():
    assert audit.verify(chain(10)[1:]) == ChainBreak(seq=1, reason="bad-genesis")


def test_deleting_the_last_entry_needs_an_outside_anchor():
    # A documented limit: the chain alone cannot tell a cut-off tail from a shorter log.
    assert audit.verify(chain(10)[:-1]) is None


@pytest.mark.parametrize(("i", "j"), [(1, 2), (4, 5), (3, 40), (10, 100)])
def test_swapped_entries_are_caught_at_the_first_swapped_position(i, j):
    entries = chain(100)
    entries[i - 1], entries[j - 1] = entries[j - 1], entries[i - 1]
    expected = "bad-genesis" if i == 1 else "broken-link"
    assert audit.verify(entries) == ChainBreak(seq=i, reason=expected)


def test_inserted_forged_entry_is_caught():
    entries = chain(10)
    forged = audit.append(entries[3], at=START, actor="operator:1", action="request.approve")
    entries.insert(4, forged)  # links correctly to entry 4, so the original entry 5 no longer fits
    assert audit.verify(entries) == ChainBreak(seq=6, reason="broken-link")


def test_edit_with_recomputed_hash_is_caught_at_the_next_entry():
    entries = chain(20)
    entries[6] = rehashed(replace(entries[6], details={"counter": 1, "note": "تم التعديل"}))
    assert audit.verify(entries) == ChainBreak(seq=8, reason="broken-link")


def test_renumbered_and_rehashed_entry_is_a_sequence_gap():
    entries = chain(5)
    entries[2] = rehashed(replace(entries[2], seq=30))
    assert audit.verify(entries) == ChainBreak(seq=3, reason="sequence-gap")


def test_suffix_after_archived_prefix_verifies_from_its_anchor():
    entries = chain(30)
    archived, live = entries[:20], entries[20:]
    assert audit.verify(live, start_prev_hash=archived[-1].hash, start_seq=21) is None
    assert audit.verify(live) == ChainBreak(seq=1, reason="bad-genesis")
    assert audit.verify(live, start_prev_hash=archived[-2].hash, start_seq=21) == ChainBreak(
        21, "bad-genesis"
    )
    assert audit.verify(live, start_prev_hash=archived[-1].hash, start_seq=20) == ChainBreak(
        20, "sequence-gap"
    )


def test_verify_accepts_any_iterable_and_stops_at_the_first_break():
    entries = chain(10)
    entries[3] = replace(entries[3], actor="intruder")
    entries[7] = replace(entries[7], actor="intruder")
    assert audit.verify(iter(entries)) == ChainBreak(4, "hash-mismatch")


# --- property: a single edit is found exactly where it was made -------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
hex64 = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
FIELD_VALUES = {
    "seq": st.integers(min_value=-5, max_value=10_000),
    "at": st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat(timespec="microseconds")),
    "actor": st.text(max_size=12),
    "action": st.text(max_size=12),
    "subject": st.text(max_size=12),
    "details": st.dictionaries(st.text(max_size=5), json_values, max_size=4),
    "prev_hash": hex64,
    "hash": hex64,
}


@st.composite
def random_chains(draw, min_size: int = 1) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for _ in range(draw(st.integers(min_value=min_size, max_value=12))):
        entries.append(
            audit.append(
                entries[-1] if entries else None,
                at=draw(st.datetimes(timezones=st.just(UTC))),
                actor=draw(st.text(min_size=1, max_size=10)),
                action=draw(st.text(min_size=1, max_size=10)),
                subject=draw(st.text(max_size=10)),
                details=draw(st.dictionaries(st.text(max_size=5), json_values, max_size=2)),
            )
        )
    return entries


@settings(max_examples=150, deadline=None)
@given(entries=random_chains(), data=st.data())
def test_single_edit_is_found_at_exactly_the_edited_entry(entries, data):
    assert audit.verify(entries) is None
    k = data.draw(st.integers(min_value=1, max_value=len(entries)), label="k")
    field = data.draw(st.sampled_from(sorted(FIELD_VALUES)), label="field")
    old = getattr(entries[k - 1], field)
    # Compared as canonical JSON: {"a": 1, "b": 2} and {"b": 2, "a": 1} are the same content, not an edit.
    same = json.dumps(old, sort_keys=True)
    new = data.draw(FIELD_VALUES[field].filter(lambda v: json.dumps(v, sort_keys=True) != same), label="new")
    entries[k - 1] = replace(entries[k - 1], **{field: new})
    assert audit.verify(entries) == ChainBreak(seq=k, reason="hash-mismatch")


@settings(max_examples=60, deadline=None)
@given(entries=random_chains(min_size=2), data=st.data())
def test_single_deletion_is_found_where_the_entry_was(entries, data):
    k = data.draw(st.integers(min_value=1, max_value=len(entries) - 1), label="k")
    del entries[k - 1]
    assert audit.verify(entries) == ChainBreak(seq=k, reason="bad-genesis" if k == 1 else "broken-link")

"""The hub's ``counters`` command (a van whose database went back: docs/protocol.md, "Sessions and the last will"):
the van raises its connection counter and the days' request counters to at least the hub's, never lowers one, and
refuses what is not a session, a day and a sequence. End to end: tests/sync/test_restored_van.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from edge.store import sync_state
from edge.store.migrations import migrate
from edge.sync import downlink
from edge.sync import protocol as p


@pytest.fixture
def van_db(db):
    migrate(db)
    return db


def _send(db, tmp_path, args) -> str:
    down = p.decode_down(p.encode_down(p.Command("counters", args), van="V007"), van="V007", kind="command")
    return downlink.apply(db, down, tmp_path / "keys")[0]


def _counter(db, day: str) -> int | None:
    row = db.execute("SELECT last_seq FROM request_counters WHERE day = ?", [day]).fetchone()
    return row[0] if row else None


def test_the_van_raises_its_counters_to_the_hubs_and_never_lowers_one(van_db, tmp_path):
    sync_state.put(van_db, "session", "3")
    van_db.execute("INSERT INTO request_counters (day, last_seq) VALUES ('2026-12-06', 9)")
    van_db.conn.commit()
    assert _send(van_db, tmp_path, {"session": 57, "requests": {"2026-12-06": 4, "2026-12-05": 12}}) == "applied"
    assert sync_state.get(van_db, "session") == "57" and sync_state.next_session(van_db) == 58
    assert _counter(van_db, "2026-12-06") == 9  # the van's own is higher: kept
    assert _counter(van_db, "2026-12-05") == 12
    assert _send(van_db, tmp_path, {"session": 2, "requests": {"2026-12-05": 1}}) == "applied"
    assert sync_state.get(van_db, "session") == "58" and _counter(van_db, "2026-12-05") == 12


@pytest.mark.parametrize("args", [
    {}, {"session": 0, "requests": {}}, {"session": True, "requests": {}}, {"session": "57", "requests": {}},
    {"session": -5, "requests": {}}, {"session": 2**63 - 1, "requests": {}},
    {"session": 2**32 + 1, "requests": {}}, {"session": 5}, {"session": 5, "requests": []},
    {"session": 5, "requests": {"2026-02-30": 3}}, {"session": 5, "requests": {"2026-12-06": 0}},
    {"session": 5, "requests": {"2026-12-06": 9001}}, {"session": 5, "requests": {"2026-12-06": True}},
    {"session": 5, "requests": {"20261206": 3}}, {"session": 5, "requests": {"2026-12-6": 3}},
    {"session": 5, "requests": {f"2026-01-{d:02d}": 1 for d in range(1, 32)} | {"2026-02-01": 1}},
])
def test_counters_that_are_not_a_session_days_and_sequences_are_refused_and_change_nothing(van_db, tmp_path, args):
    sync_state.put(van_db, "session", "3")
    assert _send(van_db, tmp_path, args) == "rejected"
    assert sync_state.get(van_db, "session") == "3"
    assert van_db.execute("SELECT count(*) FROM request_counters").fetchone()[0] == 0


def test_staff_are_not_offered_the_hubs_own_command():
    assert "counters" not in p.COMMANDS and "counters" in downlink.HUB_COMMANDS


def test_the_highest_session_the_van_takes_leaves_it_a_birth_it_can_send(van_db, tmp_path):
    # A session raised to the wire's top (2**63 - 1) made the next connection's will and birth unsendable: edge sync
    # failed at every connect, for good (found looking for why one downlink fuzz run failed).
    assert _send(van_db, tmp_path, {"session": downlink.MAX_COUNTER_SESSION, "requests": {}}) == "applied"
    p.encode(p.death("V007", sync_state.next_session(van_db)))
    assert _send(van_db, tmp_path, {"session": 2**63 - 1, "requests": {}}) == "rejected"


def test_counters_for_a_day_after_tomorrow_are_refused_and_change_nothing(van_db, tmp_path):
    # A day to come (a hub clock wrong, a hostile hub) raised now would make the van skip, or use up, that day's
    # numbers: only days up to the van's local tomorrow are taken (its request numbers' day: edge.store.clock).
    now = datetime(2026, 12, 6, 22, 30, tzinfo=UTC)  # already 7 December in Cairo
    sync_state.put(van_db, "session", "3")

    def send(requests):
        down = p.decode_down(p.encode_down(p.Command("counters", {"session": 57, "requests": requests}), van="V007"),
                             van="V007", kind="command")
        return downlink.apply(van_db, down, tmp_path / "keys", now=now)[0]

    assert send({"2026-12-09": 4}) == "rejected"
    assert sync_state.get(van_db, "session") == "3" and _counter(van_db, "2026-12-09") is None
    assert send({"2026-12-08": 4, "2026-12-07": 2}) == "applied"
    assert _counter(van_db, "2026-12-08") == 4 and sync_state.get(van_db, "session") == "57"

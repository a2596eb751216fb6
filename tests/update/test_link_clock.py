"""The updater's retry waits for the governorate's word from when the link came back — measured on the boot clock
(CLOCK_BOOTTIME, with the boot's id), which NTP's steps of the wall clock do not move; a record of another boot from
this boot's start; the wall clock only for a record from before the boot clock, or with no boot clock here
(docs/updates.md, "Steps of the van's wall clock")."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.store import clock, sync_state
from edge.update import received
from edge.update.incoming import Incoming
from edge.update.install import WORD_WAIT_S, link_back

BOOT = "0b3c1e8e-6f0a-4c55-9d2e-7a1f00c0ffee"
OTHER = "7d41a2c0-1111-4222-8333-944455556666"
T0 = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)  # the wall clock when the link came back (a van's clock, wrong)


def sync(since: datetime = T0, boot: str | None = BOOT, boot_s: object = 100.0) -> dict:
    """The health answer's ``sync``, as the sync agent records it (edge.store.sync_state.set_link)."""
    answer = {"connected": True, "since": since.isoformat()}
    if boot is not None:
        answer.update(boot=boot, since_boot_s=boot_s)
    return answer


def word(heard: datetime, boot: tuple[str, float] | None) -> dict:
    return {"release": "0123456789abcdef", "heard": heard, "boot": boot}


def test_a_step_of_the_wall_clock_forward_after_the_link_came_back_does_not_end_the_wait():
    # NTP puts the van's clock right (hours ahead) 30 s after the link came back: the wall clock says the wait
    # ran out long ago; the boot clock says 30 s.
    back = link_back(sync(), T0 + timedelta(hours=5), (BOOT, 130.0))
    assert back is not None and back.elapsed_s == pytest.approx(30.0) and back.elapsed_s < WORD_WAIT_S
    # and a word heard after the step counts; one heard before the link came back does not, though the wall
    # clock (stepped back meanwhile, this time) says the opposite
    assert back.heard_since(word(T0 + timedelta(hours=5), (BOOT, 125.0)))
    assert not back.heard_since(word(T0 + timedelta(hours=6), (BOOT, 99.0)))
    # the wait ends on the boot clock, as it should
    assert link_back(sync(), T0, (BOOT, 100.0 + WORD_WAIT_S)).elapsed_s == pytest.approx(WORD_WAIT_S)


def test_a_step_of_the_wall_clock_back_after_the_link_came_back_is_waited_on_and_the_word_counts():
    # Before: a "since" ahead of the clock was not waited on at all, and a word heard after the link came back but
    # stamped before it (the clock set back in between) did not count.
    back = link_back(sync(), T0 - timedelta(hours=3), (BOOT, 160.0))
    assert back is not None and back.elapsed_s == pytest.approx(60.0)
    assert back.heard_since(word(T0 - timedelta(hours=3), (BOOT, 150.0)))


def test_a_record_of_another_boot_is_waited_on_from_this_boots_start():
    # Review of camclock (M1): the link record outlived a restart (a power cut while connected; this boot's agent
    # not yet running, crashed, or failing to write it). It was taken on the wall clock — "back for two hours", no
    # wait, the release switched to without the governorate's word (a try burnt). Now: measured from this boot's
    # start on its clock, marked before_boot (retry says why it waits).
    back = link_back(sync(T0 - timedelta(hours=2), boot=OTHER, boot_s=5000.0), T0, (BOOT, 30.0))
    assert back is not None and back.before_boot and back.elapsed_s == pytest.approx(30.0)
    assert back.since == T0 - timedelta(seconds=30) and back.boot == (BOOT, 0.0)
    # a word heard this boot counts (it came over this boot's link); one of the boot before does not
    assert back.heard_since(word(T0 - timedelta(days=9), (BOOT, 19.0)))
    assert not back.heard_since(word(T0, (OTHER, 9999.0)))
    # the wait ends: this boot's clock runs on though the agent never writes its record
    assert link_back(sync(boot=OTHER), T0, (BOOT, WORD_WAIT_S + 1)).elapsed_s > WORD_WAIT_S
    # a van without an RTC, its clock behind the old record: still measured (it was unknown: no word counted,
    # not even a cancel heard this boot)
    back = link_back(sync(boot=OTHER, boot_s=5000.0), T0 - timedelta(days=30), (BOOT, 30.0))
    assert back is not None and back.before_boot and back.heard_since(word(T0 - timedelta(days=30), (BOOT, 25.0)))
    # no boot clock here now (not Linux): the wall clock, as before
    back = link_back(sync(boot=OTHER), T0 + timedelta(seconds=90), None)
    assert back.elapsed_s == pytest.approx(90.0) and not back.before_boot
    assert link_back(sync(), T0 + timedelta(seconds=90), None).elapsed_s == pytest.approx(90.0)


def test_a_word_from_another_boot_or_from_before_the_boot_clock():
    back = link_back(sync(), T0 + timedelta(seconds=50), (BOOT, 150.0))
    # heard in an earlier boot: before this boot's link came back, whatever its wall time says
    assert not back.heard_since(word(T0 + timedelta(seconds=40), (OTHER, 9999.0)))
    # written by an agent from before the boot clock (no reading): the wall clock, as before
    assert back.heard_since(word(T0 + timedelta(seconds=40), None))
    assert not back.heard_since(word(T0 - timedelta(seconds=40), None))


def test_a_record_from_before_the_boot_clock_keeps_the_wall_clocks_rule():
    back = link_back(sync(boot=None), T0 + timedelta(seconds=10), (BOOT, 100.0))
    assert back is not None and back.boot is None and back.elapsed_s == pytest.approx(10.0)
    assert link_back(sync(boot=None), T0 - timedelta(seconds=10), (BOOT, 100.0)) is None


@pytest.mark.parametrize("boot, boot_s", [
    ("not-a-boot-id", 100.0), (BOOT.upper(), 100.0), (BOOT + "\n", 100.0), (None, 100.0), (7, 100.0),
    (BOOT, None), (BOOT, "100"), (BOOT, True), (BOOT, -1.0), (BOOT, math.inf), (BOOT, math.nan), (BOOT, 1e300),
    (BOOT, [100.0]), (BOOT, 10**400),
])
def test_a_hostile_boot_clock_reading_in_the_link_is_unknown(boot, boot_s):
    # Written by the sync agent (user edge): anything but a boot id and a reading is unknown — no wait, no word.
    answer = {"connected": True, "since": T0.isoformat(), "boot": boot, "since_boot_s": boot_s}
    assert link_back(answer, T0 + timedelta(seconds=10), (BOOT, 200.0)) is None


def test_a_reading_of_this_boot_ahead_of_its_clock_is_unknown():
    # A boot clock never goes back: a since ahead of it is not one (a wait from it would never end).
    assert link_back(sync(boot_s=500.0), T0 + timedelta(seconds=10), (BOOT, 200.0)) is None


@given(st.dictionaries(st.sampled_from(["since", "boot", "since_boot_s", "connected"]),
                       st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=50),
                                 st.just(BOOT), st.just(T0.isoformat()), st.lists(st.integers(), max_size=3))),
       st.one_of(st.none(), st.tuples(st.sampled_from([BOOT, OTHER]), st.floats(0, 1e6))))
def test_link_back_never_raises_and_never_measures_a_negative_wait(answer, boot_now):
    back = link_back(answer, T0, boot_now)
    assert back is None or back.elapsed_s >= 0


def test_the_sync_agent_records_the_link_on_both_clocks(db):
    sync_state.set_link(db, True, now=T0, boot=(BOOT, 123.456))
    assert sync_state.link(db) == {"connected": True, "since": T0.isoformat(), "boot": BOOT, "since_boot_s": 123.456}
    sync_state.set_link(db, False, now=T0, boot=None)  # no boot clock: as before
    assert sync_state.link(db) == {"connected": False, "since": T0.isoformat()}
    sync_state.set_link(db, True)  # this machine's own
    recorded = sync_state.link(db)
    here = clock.boot_clock()
    assert here is not None and recorded["boot"] == here[0] and -0.01 <= here[1] - recorded["since_boot_s"] < 60


def test_a_word_is_kept_with_the_boot_clock_and_read_back_by_root(tmp_path, monkeypatch):
    staging = tmp_path / "staging"
    monkeypatch.setattr(Incoming, "boot_clock", staticmethod(lambda: (BOOT, 42.5)))
    Incoming(staging).target("0123456789abcdef", T0.isoformat(), "01ARZ3NDEKTSV4RRFFQ69G5FAV")
    kept = json.loads((staging / "TARGET").read_text())
    assert (kept["boot"], kept["heard_boot_s"]) == (BOOT, 42.5)
    read = received.target(staging)
    assert read["release"] == "0123456789abcdef" and read["boot"] == (BOOT, 42.5)
    # The file an updater from before the boot clock reads: its two fields are where they were (extra ones it
    # reads past), and a word from an agent before it (no reading) is still a word, compared on the wall clock.
    assert {"release", "heard"} <= set(kept)
    del kept["boot"], kept["heard_boot_s"]
    (staging / "TARGET").write_text(json.dumps(kept))
    assert received.target(staging)["boot"] is None


@pytest.mark.parametrize("boot, boot_s", [
    ("x", 1.0), (BOOT, "1.0"), (BOOT, -5), (BOOT, 1e99), (BOOT, None), (None, 1.0), (BOOT, False), ({}, []),
])
def test_a_word_with_a_hostile_boot_clock_reading_is_no_word(tmp_path, boot, boot_s):
    staging = tmp_path / "staging"
    staging.mkdir()
    heard = T0.isoformat()
    for planted in ({"boot": boot, "heard_boot_s": boot_s}, {"boot": boot}, {"heard_boot_s": boot_s}):
        body = {"release": "0123456789abcdef", "heard": heard, "at": heard, **planted}
        (staging / "TARGET").write_text(json.dumps(body))
        assert received.target(staging) is None, planted
    infinite = f'{{"release": null, "heard": "{heard}", "boot": "{BOOT}", "heard_boot_s": 1e999}}'  # json: inf
    (staging / "TARGET").write_text(infinite)
    assert received.target(staging) is None

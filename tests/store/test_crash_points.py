"""Crash consistency, proven: every filesystem and database step of the van's multi-step writes is a
point where a real process is killed, and the van restarted there must hold its invariants (issue 16).

How the crash points are found and what is checked: tests/support/crashpoints.py; the operations and
what each promises: tests/support/crash_scenarios.py and docs/outbox.md. The long version (more pages,
more steps): ``python -m bench.crashpoints``.
"""

from __future__ import annotations

import json

import pytest

from tests.support import crashpoints
from tests.support.crash_scenarios import SCENARIOS

# At least this many crash points per operation: a change that makes an operation skip its steps (or the
# tracer see none) must not pass quietly.
MIN_POINTS = {"intake": 5, "corners": 12, "recorners": 8, "submit": 15, "discard": 4, "print": 8, "downlink": 15,
              "retention": 8, "shift-close": 12}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_crash_at_any_step_leaves_a_van_that_holds_its_invariants(name, tmp_path):
    report = crashpoints.exercise(SCENARIOS[name], tmp_path)
    print(json.dumps(report.as_dict()))
    assert report.violations == [], "\n".join(report.violations[:20])
    assert report.points == len(report.steps) >= MIN_POINTS[name], report.steps


def test_the_crash_point_test_finds_the_old_submit_unsafe(tmp_path):
    """The test of the test: submit as it was before issue 16 (pages moved into place inside the
    transaction) is caught — a crash after a move and before the commit leaves a draft that cannot be
    submitted again."""
    report = crashpoints.exercise(SCENARIOS["submit"], tmp_path, key="old:submit")
    assert any("a draft's page" in v and "has no file" in v for v in report.violations), report.violations
    assert any("the retry failed: MissingPage" in v for v in report.violations), report.violations


def test_a_submit_with_a_photo_still_held_leaves_only_the_requests_pages(tmp_path):
    """Without a crash too: the photo a draft still held (kept to check its last page) goes with the submit —
    the sweeper, which would otherwise be left to find it, refuses to delete anything past 50 orphans."""
    from tests.support import crash_scenarios as cs

    scenario = cs.SCENARIOS["submit"]
    scenario.prepare(tmp_path)
    db = cs._db(tmp_path)
    try:
        cs.catalogue_mod.load_default()
        cs._submit(db, tmp_path, cs._state(tmp_path)["draft"])
        assert scenario.check_done(tmp_path, db) == []
    finally:
        db.close()

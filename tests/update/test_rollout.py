"""The hub's staged rollout policy (governorate/rollout.py): canaries, waves, pause on failures, pins,
fleet rollback — simulated over fleets where some vans fail the new version's health check."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governorate.rollout import Plan, Report, decide, waves

FLEET = [f"V{n:03d}" for n in range(1, 51)]


def _simulate(plan, fleet, broken):
    """Each round every van does what the decision says: a healthy van runs the target it is given; a broken
    one fails its health check, rolls itself back and refuses it (as edge/update does)."""
    reports = {v: Report(plan.previous) for v in fleet}
    seen_target = set()
    decision = None
    for _ in range(len(fleet) + 5):  # a wave a round at least
        decision = decide(plan, fleet, reports)
        for v, want in decision.versions.items():
            if want == plan.target and reports[v].running != plan.target and plan.target not in reports[v].refused:
                seen_target.add(v)
                if v in broken:
                    reports[v] = Report(plan.previous, reports[v].refused | {plan.target})
                else:
                    reports[v] = Report(plan.target, reports[v].refused)
            elif want != reports[v].running and plan.target not in reports[v].refused or want == plan.previous:
                reports[v] = Report(want, reports[v].refused)
    return decision, reports, seen_target


def test_a_healthy_release_reaches_every_van_canaries_first():
    plan = Plan("n1", "n0", canaries=("V007", "V031"), wave_sizes=(5, 20))
    assert [len(w) for w in waves(plan, FLEET)] == [2, 5, 20, 20, 3]
    first = decide(plan, FLEET, {v: Report("n0") for v in FLEET})
    assert {v for v, x in first.versions.items() if x == "n1"} == {"V007", "V031"} and first.started == 1
    decision, reports, _ = _simulate(plan, FLEET, broken=set())
    assert decision.state == "complete" and all(r.running == "n1" for r in reports.values())


def test_a_broken_release_stops_at_the_canary_and_the_hub_says_why():
    plan = Plan("n2", "n1", canaries=("V007",))
    decision, reports, seen = _simulate(plan, FLEET, broken=set(FLEET))
    assert seen == {"V007"} and decision.paused and decision.state == "paused"
    assert decision.failed == ["V007"] and "1 of 1 failed" in decision.reason
    assert all(r.running == "n1" for r in reports.values())


def test_pinned_vans_stay_and_a_fleet_rollback_brings_everyone_back():
    plan = Plan("n1", "n0", canaries=("V001",), pinned={"V002": "n0-special"})
    decision, _, seen = _simulate(plan, FLEET, broken=set())
    assert "V002" not in seen and decision.versions["V002"] == "n0-special"
    back = Plan("n1", "n0", canaries=("V001",), pinned={"V002": "n0-special"}, rolled_back=True)
    d = decide(back, FLEET, {v: Report("n1") for v in FLEET})
    assert d.state == "rolled-back" and d.versions["V002"] == "n0-special"
    assert {x for v, x in d.versions.items() if v != "V002"} == {"n0"}


def test_unpinning_a_van_sends_no_van_back_to_the_previous_version():
    pinned = Plan("n1", "n0", wave_sizes=(5, 20), pinned={"V003": "n0"})
    # Waves 0 (V001-V006 but V003) and 1 (V007-V026) run the release; wave 2 has started.
    reports = {v: Report("n1" if v <= "V026" and v != "V003" else "n0") for v in FLEET}
    assert decide(pinned, FLEET, reports).started == 3
    unpinned = Plan("n1", "n0", wave_sizes=(5, 20))
    d = decide(unpinned, FLEET, reports)  # V003 is back in wave 0: V006 slides to wave 1, V026 to wave 2
    assert d.versions["V003"] == "n1" and d.started == 1
    assert all(d.versions[v] == "n1" for v, r in reports.items() if r.running == "n1")  # V026 was told n0


def test_a_van_holding_the_release_deferred_is_not_sent_back_when_the_fleet_changes():
    plan = Plan("n1", "n0", wave_sizes=(5, 20))
    reports = {v: Report("n1" if v <= "V004" else "n0") for v in FLEET}
    reports["V005"] = Report("n0", deferred=frozenset({"n1"}))  # its check lost the link: it tries again
    grown = ["V000a"] + FLEET  # a van joins before them: V005 slides into wave 1, not started
    d = decide(plan, grown, {**reports, "V000a": Report("n0")})
    assert d.versions["V005"] == "n1" and d.started == 1
    refused = {**reports, "V000a": Report("n0"), "V005": Report("n0", frozenset({"n1"}), frozenset({"n1"}))}
    assert decide(plan, grown, refused).versions["V005"] == "n0"  # refused wins over deferred


def test_a_van_that_runs_the_release_is_never_sent_back_when_the_fleet_changes():
    plan = Plan("n1", "n0", wave_sizes=(5, 20))
    reports = {v: Report("n1" if v <= "V005" else "n0") for v in FLEET}
    assert decide(plan, FLEET, reports).started == 2
    # Five new vans sort before the first wave's: V001-V005 now fall in wave 1 or 2.
    grown = [f"V000{c}" for c in "abcde"] + FLEET
    reports.update({v: Report("n0") for v in grown[:5]})
    d = decide(plan, grown, reports)
    assert all(d.versions[v] == "n1" for v in FLEET[:5]) and d.started == 1
    assert {v for v, x in d.versions.items() if x == "n1"} == set(grown[:5]) | set(FLEET[:5])


def test_plans_that_make_no_sense_are_refused():
    for bad in (dict(wave_sizes=()), dict(wave_sizes=(0,)), dict(max_failure_rate=1.5)):
        with pytest.raises(ValueError):
            Plan("a", "b", **bad)
    with pytest.raises(ValueError):
        Plan("a", "a")


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 60), canaries=st.integers(0, 3), sizes=st.lists(st.integers(1, 15), min_size=1, max_size=3),
       rate=st.sampled_from([0.0, 0.1, 0.2, 0.5]), broken=st.sets(st.integers(0, 59), max_size=20),
       pins=st.sets(st.integers(0, 59), max_size=5))
def test_rollout_properties(n, canaries, sizes, rate, broken, pins):
    fleet = [f"V{i:03d}" for i in range(n)]
    plan = Plan("new", "old", canaries=tuple(fleet[:canaries]), wave_sizes=tuple(sizes), max_failure_rate=rate,
                pinned={fleet[i]: "pin" for i in pins if i < n})
    broken_vans = {fleet[i] for i in broken if i < n}
    decision, reports, seen = _simulate(plan, fleet, broken_vans)
    plan_waves = waves(plan, fleet)
    assert sorted(v for w in plan_waves for v in w) == sorted(set(fleet) - set(plan.pinned))  # each van once
    assert not seen & set(plan.pinned) and all(decision.versions[v] == "pin" for v in plan.pinned)
    # No van beyond the started waves ever got the release.
    reached = {v for w in plan_waves[:decision.started] for v in w}
    assert seen <= reached
    # Paused exactly when a wave's failures passed the threshold; then no later wave started.
    if decision.paused:
        wave = plan_waves[decision.started - 1]
        assert len([v for v in wave if v in broken_vans]) / len(wave) > rate
    else:
        assert decision.state == "complete"
        for wave in plan_waves:
            assert len([v for v in wave if v in broken_vans]) <= rate * len(wave)
    # Every van runs a version that is the target only if it is healthy with it.
    for v, r in reports.items():
        assert r.running != "new" or v not in broken_vans


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 40), sizes=st.lists(st.integers(1, 10), min_size=1, max_size=3),
       pins=st.sets(st.integers(0, 39), max_size=5), repins=st.sets(st.integers(0, 39), max_size=5),
       joined=st.sets(st.integers(0, 39), max_size=8), rounds=st.integers(0, 6))
def test_no_van_that_runs_the_release_is_sent_back_by_a_change_of_pins_or_fleet(n, sizes, pins, repins, joined,
                                                                                rounds):
    """Part of the fleet rolls out under one set of pins, then pins change and vans join (ids between the others'):
    from then on, every van that runs the target is told to keep it, unless pinned, and the rollout completes."""
    fleet = [f"V{i:03d}" for i in range(n)]
    first = Plan("new", "old", wave_sizes=tuple(sizes), pinned={fleet[i]: "old" for i in pins if i < n})
    reports = {v: Report("old") for v in fleet}
    for _ in range(rounds):
        for v, want in decide(first, fleet, reports).versions.items():
            reports[v] = Report(want)
    grown = sorted(fleet + [f"V{i:03d}a" for i in joined if i < n])
    reports.update({v: Report("old") for v in grown if v not in reports})
    second = Plan("new", "old", wave_sizes=tuple(sizes), pinned={fleet[i]: "old" for i in repins if i < n})
    for _ in range(len(grown) + 3):
        decision = decide(second, grown, reports)
        for v, r in reports.items():
            if r.running == "new" and v not in second.pinned:
                assert decision.versions[v] == "new", v
        for v, want in decision.versions.items():
            reports[v] = Report(want)
    assert decision.state == "complete"

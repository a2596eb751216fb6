"""Staged rollout of a van software release: canaries first, then waves, pausing on failures (issue 20).

Pure policy, no storage and no I/O: given the rollout plan and what each van last reported (the version it
runs, a version it refused after a failed health check), :func:`decide` says which version each van
should run now, how far the rollout got, and whether it is paused and why. The hub's store and screens
(migration m007, the fleet page) and the downlink that tells a van its target are not built yet
(docs/updates.md).

Rules:
- a **pinned** van runs its pinned version, whatever else happens;
- a **rolled back** rollout sends every van that is not pinned back to ``previous``;
- wave 0 is the canaries; then waves of ``wave_sizes`` unpinned vans (the last size repeats), in van-id order;
- a van that runs the target, or holds it deferred (its check lost the link: it tries it again), keeps it
  (unless pinned or rolled back), whatever wave it falls in: a fleet that changes (a van joins, is pinned or
  unpinned, is able again to take a release over the link) moves vans between waves, and must not send a van that
  already has the release back to the previous one;
- a wave is **done** when every van of it runs the target or refused it; the next starts only then;
- when a wave's failures (vans that refused the target) pass ``max_failure_rate`` the rollout **pauses**:
  no new wave; vans already given the target keep it (each one that failed rolled itself back and is given
  ``previous``) until staff resume (a new plan) or roll back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Plan:
    target: str  # the release's id (edge/update: the first 16 hex digits of its identity)
    previous: str  # what the fleet ran before, and goes back to on a rollback
    canaries: tuple[str, ...] = ()
    wave_sizes: tuple[int, ...] = (5, 20)
    max_failure_rate: float = 0.2
    pinned: Mapping[str, str] = field(default_factory=dict)
    rolled_back: bool = False

    def __post_init__(self):
        if not self.wave_sizes or any(type(n) is not int or n < 1 for n in self.wave_sizes):
            raise ValueError("wave sizes are whole numbers ≥ 1")
        if not 0 <= self.max_failure_rate < 1:
            raise ValueError("max_failure_rate is in [0, 1)")
        if self.target == self.previous:
            raise ValueError("target and previous are the same version")


@dataclass(frozen=True)
class Report:
    """What a van last said: the version it runs, the versions it refused (failed health check) and those it holds
    deferred."""

    running: str | None
    refused: frozenset[str] = frozenset()
    deferred: frozenset[str] = frozenset()  # installed, its check lost the link: the van tries it again


@dataclass(frozen=True)
class Decision:
    versions: dict[str, str]  # van -> the version it should run now
    waves: list[list[str]]  # every wave of the plan, in order (wave 0: the canaries)
    started: int  # how many waves have started
    paused: bool
    reason: str | None  # why paused (or rolled back)
    succeeded: list[str]
    failed: list[str]

    @property
    def state(self) -> str:
        if self.reason and not self.paused:
            return "rolled-back"
        if self.paused:
            return "paused"
        return "complete" if self.started == len(self.waves) and self._all_done else "rolling-out"

    @property
    def _all_done(self) -> bool:
        return len(self.succeeded) + len(self.failed) == sum(len(w) for w in self.waves)


def waves(plan: Plan, fleet: Iterable[str]) -> list[list[str]]:
    """The plan's waves over the unpinned vans of ``fleet``, wave 0 the canaries (when any of them is in it)."""
    vans = sorted(set(fleet) - set(plan.pinned))
    canaries = [v for v in dict.fromkeys(plan.canaries) if v in vans]
    rest = [v for v in vans if v not in canaries]
    out = [canaries] if canaries else []
    i = 0
    while rest:
        size = plan.wave_sizes[min(i, len(plan.wave_sizes) - 1)]
        out.append(rest[:size])
        rest = rest[size:]
        i += 1
    return out


def decide(plan: Plan, fleet: Iterable[str], reports: Mapping[str, Report]) -> Decision:
    fleet = sorted(set(fleet))
    plan_waves = waves(plan, fleet)
    versions = {v: plan.pinned[v] for v in fleet if v in plan.pinned}
    ok = [v for w in plan_waves for v in w if (r := reports.get(v)) and r.running == plan.target]
    bad = [v for w in plan_waves for v in w
           if (r := reports.get(v)) and plan.target in r.refused and r.running != plan.target]
    if plan.rolled_back:
        versions.update({v: plan.previous for w in plan_waves for v in w})
        return Decision(versions, plan_waves, 0, False, "the fleet was rolled back by staff", ok, bad)
    started, paused, reason = 0, False, None
    for i, wave in enumerate(plan_waves):
        started = i + 1
        failed = [v for v in wave if v in bad]
        done = all(v in ok or v in failed for v in wave)
        if wave and len(failed) / len(wave) > plan.max_failure_rate:
            paused = True
            reason = (f"wave {i} ({'canaries' if i == 0 and wave[0] in plan.canaries else f'{len(wave)} vans'}): "
                      f"{len(failed)} of {len(wave)} failed, over {plan.max_failure_rate:.0%}")
            break
        if not done:
            break
    for wave in plan_waves[:started]:
        for v in wave:
            versions[v] = plan.previous if v in bad else plan.target
    for wave in plan_waves[started:]:
        for v in wave:  # already there, or about to try it again: not sent back
            r = reports.get(v)
            has = v in ok or (r is not None and v not in bad and plan.target in r.deferred)
            versions[v] = plan.target if has else plan.previous
    return Decision(versions, plan_waves, started, paused, reason, ok, bad)

"""A power cut at any step of install, switch or rollback leaves a van that boots a working version
(issue 20's acceptance: 0 vans unbootable).

For each scenario a van is prepared once (version A installed and current, release B verified and waiting),
then the update runs in a real process (tests/update/crashrun.py) that records its steps; then, for each
step k, the van is put back as prepared, the process is killed just before step k (``os._exit``: no
clean-up), every process of the van is stopped (the power cut), and the van boots: the real
``python -m edge.update recover`` (what edge-update-recover.service runs), then the units, then ``settle`` (what
edge-update-check.service runs once they do) — each run a process of its own, forked from one that imported
edge.update once (crashrun.Server: the imports cost more than the runs). Checked: the state
is readable and idle, ``current`` names a complete version whose ``edge --version`` answers and whose web
process serves /api/health, no half-made version or link is left, a version that failed its health check
never runs; and then the update is tried again and ends as it must (B runs; or, B broken, A runs, B refused).

The same for ``retry`` (B installed and deferred: its check lost the link before): the same switch, check and
rollback entered from another door, and ``recover``/``settle`` know nothing of which door it was. Also with the link
dropping again during B's check (``link``): B ends deferred again, or refused when the cut came during the link test
of A after the rollback (refused until that test ends: the conservative side), never both, and A runs — or, when the
cut came before the link dropped, B connected after the start and was kept. And with the governorate's word naming A
(``cancelled``: the fleet was rolled back while the van was away): B is dropped, never switched to, whichever side of
the state's one atomic write the cut came.

Each scenario's crash points are spread over CHUNKS test items (xdist runs them side by side); every item finds the
steps itself, and together they crash at every one of them (checked: chunk, _same_steps_in_every_chunk) — when all
are run: an item selected alone (``-k``, ``--lf``) crashes at its 1/n of the steps only, and warns so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from edge.update import state as state_mod
from edge.update import verify as verify_mod
from tests.update import crashrun, vanproc
from tests.update.support import Rig, free_port, signed_release

CRASHED = 86
MIN_POINTS = 20  # an operation that stops taking steps (or a tracer that sees none) must not pass quietly
MIN_RETRY_POINTS = 10  # a retry installs nothing: its steps are the switch's, the check's and the rollback's
MIN_CANCEL_POINTS = 2  # a retry the governorate's word cancels: one atomic write of the state (the file, the rename)
# The health check's deadline: waited out in full only by a version that is not healthy (or whose link is down), so
# short where the test expects that; wider where only healthy versions are checked (they pass at their first answer,
# the units having returned once the port accepts): 20 s is a margin for a loaded machine, yet a regression that makes
# them fail waits 20 s per crash point, not 60, and a chunk prints its violations before pytest-timeout ends it.
DEADLINE = {"healthy": 20, "cancelled": 20}
SHORT = 2


def _prepare(tmp_path, keys, mode: str, scenario: str = "apply"):
    work = tmp_path / "work"
    rig = Rig(work, keys)  # software = work/opt, data = work/data, the updater's state = work/state
    signed_release(tmp_path / "a", "1.0.0", keys)
    signed_release(tmp_path / "b", "2.0.0", keys, mode="healthy" if mode == "link" else mode)
    port = free_port()
    up = crashrun.updater(work, port, deadline=60)  # A is healthy: it passes at its first answer
    a = verify_mod.verify(tmp_path / "a", anchor=rig.anchor, trusted_dir=work / "state/trusted",
                          dest=tmp_path / "a-verified")
    with up:
        assert up.switch(up.install(a))
    vanproc.stop(work / "opt")
    b = verify_mod.verify(tmp_path / "b", anchor=rig.anchor, trusted_dir=work / "state/trusted",
                          dest=work / "verified")
    (work / "candidate.json").write_text(json.dumps({"identity": b.identity, "targets_version": b.targets_version}))
    if scenario == "retry":  # B installed, switched to once and deferred: its check lost the link, and A's too
        with up:
            up.install(b)
        st = state_mod.read(work / "state/state.json")
        st["deferred"][b.identity[:16]] = {"version": "2.0.0", "reason": "sync is not connected", "attempts": 1,
                                           "at": "2026-12-06T00:00:00Z"}
        state_mod.write(work / "state/state.json", st)
        if mode == "link":
            (work / "link-drops").write_text("")
        if mode == "cancelled":  # the link came back a minute ago, and the hub's word since names A: B is cancelled
            from datetime import UTC, datetime, timedelta

            from edge.update.incoming import Incoming

            since = (datetime.now(UTC) - timedelta(seconds=60)).isoformat()
            (work / "surroundings-retry.json").write_text(json.dumps({"link": True, "since": since}))
            Incoming(work / "data" / "update" / "staging").target(a.identity[:16], datetime.now(UTC).isoformat(),
                                                                  "01ARZ3NDEKTSV4RRFFQ69G5FAV")
    snap = tmp_path / "snap"
    shutil.copytree(work, snap, symlinks=True)
    return work, snap, port, a.identity[:16], b.identity[:16]


def _child(server, work, k, trace, port, scenario="apply", deadline=SHORT):
    if scenario == "retry":  # the van runs, connected: the timer's turn finds the link up
        around = work / "surroundings-retry.json"
        (work / "opt/surroundings.json").write_text(around.read_text() if around.exists() else '{"link": true}')
        vanproc.start(work / "opt", port)
    return server.run(["crashrun", scenario, work, k, trace, port, deadline])


def _boot(server, work, port, deadline=SHORT) -> list[str]:
    """The van starts after the cut as systemd starts it: recover (edge-update-recover.service: before the units,
    nothing to restart, no health URL to ask), the units, then settle (edge-update-check.service, once they run);
    what is wrong with it (empty: nothing)."""
    problems = []
    common = ["--software", str(work / "opt"), "--state", str(work / "state"), "--units", str(work / "units"),
              "--reload-command", "", "--deadline", str(deadline)]
    recover = server.run(["edge.update", "recover", *common])
    if recover.returncode != 0:
        problems.append(f"recover failed: {recover.stderr.strip()[-300:]}")
    vanproc.start(work / "opt", port)  # the units start (systemd, after edge-update-recover)
    # The link's grace is waited out in full only when the link is down (mode "link"): as short as the deadline.
    settle = server.run(["edge.update", "settle", *common,
                         "--health-url", f"http://127.0.0.1:{port}/api/health", "--link-grace", str(deadline),
                         "--restart-command", f"{sys.executable} -m tests.update.vanproc {work / 'opt'} {port}"])
    if settle.returncode not in (0, 3):  # 3: the version a cut caught being checked is not healthy: rolled back
        problems.append(f"settle failed ({settle.returncode}): {settle.stderr.strip()[-300:]}")
    lay = crashrun.updater(work, port).layout
    st = state_mod.read(lay.state_file)
    if st["phase"] != "idle" or any(h["event"] == "state-unreadable" for h in st["history"]):
        problems.append(f"state after recovery: phase {st['phase']}")
    vid = lay.pointed()
    record = lay.installed(vid)
    if record is None:
        problems.append(f"current names no complete version ({vid})")
        return problems
    if vid in st["refused"]:
        problems.append(f"current is a version that failed its health check ({vid})")
    if vid in st["deferred"] or set(st["deferred"]) & set(st["refused"]):
        problems.append(f"deferred {list(st['deferred'])} runs or is refused too")
    edge = subprocess.run([str(lay.venv(vid) / "bin/edge"), "--version"], capture_output=True, text=True)
    if edge.returncode != 0 or record["version"] not in edge.stdout:
        problems.append(f"current's edge --version does not answer: {edge.stderr.strip()[-200:]}")
    rig = type("R", (), {"port": port})
    served = None
    end = time.monotonic() + 10
    while time.monotonic() < end and served != record["version"]:
        served = Rig.serving(rig)
        time.sleep(0.05)
    if served != record["version"]:
        problems.append(f"the web process does not serve {record['version']} (serves {served})")
    own = lay.folder(vid) / "units"
    if not own.is_dir() or _texts(lay.units) != _texts(own):
        problems.append(f"the units are not those of current's version {record['version']}: {_texts(lay.units)}")
    leftovers = [p.name for p in lay.versions.iterdir() if lay.installed(p.name) is None]
    leftovers += [p.name for p in lay.software.iterdir() if p.name.startswith(".current")]
    if leftovers:
        problems.append(f"left behind: {leftovers}")
    return problems


def _texts(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def chunk(total: int, i: int, n: int) -> list[int]:
    """The crash points (1..``total``) the ``i``-th of ``n`` test items crashes at: every ``n``-th, from ``i`` + 1 — so
    each item has some of the cheap steps (the install's) and some of the dear ones (those after the switch, which
    wait for health checks), and the ``n`` items together have every step exactly once."""
    return list(range(i + 1, total + 1, n))


# How many test items each scenario's crash points are spread over (pytest-xdist runs them on all its workers, not
# one long test alone at the end): about 30-60 s each on a loaded 2-core machine (pip and deadlines dominate).
CHUNKS = {("apply", "healthy"): 3, ("apply", "unhealthy"): 5, ("retry", "healthy"): 1, ("retry", "unhealthy"): 3,
          ("retry", "link"): 4, ("retry", "cancelled"): 1}


def test_the_chunks_cover_every_crash_point_once():
    for n in {*CHUNKS.values(), 1, 3, 5}:
        for total in range(0, 120):
            points = [k for i in range(n) for k in chunk(total, i, n)]
            assert sorted(points) == list(range(1, total + 1)), (n, total)


def _same_steps_in_every_chunk(tmp_path_factory, key: str, i: int, n: int, steps: list[str]) -> None:
    """Each item discovers the steps itself (its own complete run): they must be the same in all ``n`` items, or the
    chunks would not add up to every step. Each item leaves its list where the others (on any xdist worker) find it;
    the last to end compares them all."""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if base.name.startswith("popen-gw") else base) / "update-crash-steps"
    shared.mkdir(exist_ok=True)
    mine = shared / f"{key}-{i}-of-{n}.json"
    partial = shared / f".{mine.name}.{os.getpid()}.tmp"  # not a *.json: never read half-written by another worker
    partial.write_text(json.dumps(steps))
    os.replace(partial, mine)
    for other in shared.glob(f"{key}-*-of-{n}.json"):
        theirs = json.loads(other.read_text())
        assert theirs == steps, f"{other.name} found other steps: {len(theirs)} against {len(steps)} here"


def _warn_if_some_chunks_only(request, scenario: str, mode: str, n: int) -> None:
    """``-k`` or ``--lf`` selecting some of a scenario's chunks crashes at only some of its steps: say so."""
    chosen = sorted({item.callspec.params["i"] for item in request.session.items
                     if getattr(item, "callspec", None) and item.originalname == request.node.originalname
                     and (item.callspec.params["scenario"], item.callspec.params["mode"]) == (scenario, mode)})
    if len(chosen) < n:
        warnings.warn(f"{scenario}-{mode}: only chunk(s) {[c + 1 for c in chosen]} of {n} selected: the crash points "
                      f"of the others are not tested in this run", stacklevel=2)


def _normal(steps: list[str], work: Path, port: int, a: str, b: str) -> list[str]:
    """The steps without what differs from one item to the next (its folder, its port, its releases' identities)."""
    return [s.replace(str(work.resolve()), "WORK").replace(a, "A").replace(b, "B").replace(f" {port}", " PORT")
            for s in steps]


@pytest.mark.slow
@pytest.mark.parametrize(("scenario", "mode", "i", "n"),
                         [(scenario, mode, i, n) for (scenario, mode), n in CHUNKS.items() for i in range(n)])
def test_a_power_cut_at_any_step_of_an_update_leaves_a_van_that_boots(request, tmp_path, tmp_path_factory, keys,
                                                                      scenario, mode, i, n):
    _warn_if_some_chunks_only(request, scenario, mode, n)
    deadline = DEADLINE.get(mode, SHORT)
    work, snap, port, a, b = _prepare(tmp_path, keys, mode, scenario)
    trace = tmp_path / "trace.json"
    server = crashrun.Server()
    try:
        done = _child(server, work, 0, trace, port, scenario, deadline)
        assert done.returncode == 0, done.stderr
        steps = json.loads(trace.read_text())
        points = [s for s in steps if not s.startswith("fsync")]
        least = MIN_POINTS if scenario == "apply" else MIN_CANCEL_POINTS if mode == "cancelled" else MIN_RETRY_POINTS
        assert len(points) >= least, steps
        st = state_mod.read(work / "state/state.json")
        if scenario == "retry":  # the run without a cut ends as it must
            want = {"healthy": ({}, b), "unhealthy": ({}, a), "link": ({b: 2}, a), "cancelled": ({}, a)}[mode]
            assert ({v: e["attempts"] for v, e in st["deferred"].items()}, st["current"]) == want, st
        if mode == "cancelled":  # one atomic write of the state, nothing switched
            assert not any(s.startswith("symlink") for s in points), "\n".join(points)
        else:
            assert any(s.startswith("symlink versions/") for s in points), "\n".join(points)
        mine = chunk(len(points), i, n)
        assert sorted(k for j in range(n) for k in chunk(len(points), j, n)) == list(range(1, len(points) + 1))
        _same_steps_in_every_chunk(tmp_path_factory, f"{scenario}-{mode}", i, n, _normal(points, work, port, a, b))
        violations, unbootable = [], 0
        for k in mine:
            vanproc.stop(work / "opt")
            shutil.rmtree(work)
            shutil.copytree(snap, work, symlinks=True)
            done = _child(server, work, k, tmp_path / "t.json", port, scenario, deadline)
            assert done.returncode == CRASHED, (k, points[k - 1], done.stderr[-2000:])
            vanproc.stop(work / "opt")  # the power cut takes every process with it
            problems = _boot(server, work, port, deadline)
            if problems:
                unbootable += 1
                violations += [f"crash before step {k} ({points[k - 1]}): {p}" for p in problems]
                continue
            # Then the update is tried again, as the hub's next offer would.
            vanproc.stop(work / "opt")
            again = _child(server, work, 0, tmp_path / "t.json", port, scenario, deadline)
            assert again.returncode == 0, (k, again.stderr[-2000:])
            st = state_mod.read(work / "state/state.json")
            pointed = crashrun.updater(work, port).layout.pointed()
            want = b if mode == "healthy" else a
            if mode == "link" and pointed == b and not {b} & (set(st["refused"]) | set(st["deferred"])):
                continue  # the cut came before the link dropped: B connected after the start, and was kept
            if pointed != want or (mode == "unhealthy" and b not in st["refused"]) or \
                    (mode == "cancelled" and (b in st["deferred"] or b in st["refused"])) or \
                    (mode == "link" and (b in st["refused"]) == (b in st["deferred"])):
                violations.append(f"crash before step {k} ({points[k - 1]}): after a retry current is {pointed}, "
                                  f"expected {want}; refused {list(st['refused'])}, deferred {list(st['deferred'])}")
        print(json.dumps({"scenario": scenario, "mode": mode, "chunk": f"{i + 1}/{n}", "steps": len(points),
                          "crash_points": len(mine), "unbootable": unbootable}))
        assert unbootable == 0 and violations == [], "\n".join(violations[:20])
    finally:
        vanproc.stop(work / "opt")
        server.close()

"""The race the review found (docs/updates.md, "Retrying a deferred release"), over the real link: a van whose check
of a new release lost the link holds it deferred; while it is away staff roll the fleet back; its link comes back and
``python -m edge.update retry`` runs at once (the timer may fire at any moment). Before, retry waited only for the
link, and the cancel (an offer of the release to run) went at the lowest priority, behind the van's backlog: the van
switched to the cancelled release and kept it. Now the hub sends the release the van should run as a small downlink
of its own (``update-target``) as soon as the van's first snapshot names the deferred release, and retry waits for
that word once its link is back: the van never switches to the cancelled release, and drops it.

Real Mosquitto, the real hub ingest worker (its rollout loop), the van's real sync agent and the real updater in a
process of its own."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import pytest

from edge.sync.agent import SyncAgent, Tuning
from edge.update.incoming import TARGET, Incoming
from governorate import rollouts
from tests.support.sync_harness import ThreadRunner, start_hub, van_settings, wait_until
from tests.update.support import SHORT_S, Rig, signed_release

pytestmark = pytest.mark.slow


def _van(rig: Rig, broker) -> ThreadRunner:
    settings = van_settings(rig.data, broker.url, van="V001")
    agent = SyncAgent(settings, Tuning(resend_after_s=5, telemetry_every_s=1),
                      updates=Incoming(rig.data / "update" / "staging", state_file=rig.state / "state.json"))
    return ThreadRunner(agent.run)


def _link_drops(rig: Rig) -> str:
    script = rig.base / "restart-link-drops"
    script.write_text(f"#!/bin/sh\nprintf '{{\"link\": false}}' > {rig.software / 'surroundings.json'}\n"
                      f"exec {sys.executable} -m tests.update.vanproc {rig.software} {rig.port}\n")
    script.chmod(0o755)
    return str(script)


def _word(rig: Rig) -> str | None:
    try:
        return json.loads((rig.data / "update" / "staging" / TARGET).read_text())["release"]
    except (OSError, ValueError, KeyError):
        return None


def test_a_van_back_from_an_outage_never_switches_to_a_release_the_fleet_rolled_back(tmp_path, broker, keys):
    from provisioning import tuf_repo

    rig = Rig(tmp_path / "V001", keys)  # wide: 1.0.0 is healthy however loaded the machine (it was 4 s: a flake)
    hub, hub_runner = start_hub(tmp_path / "hub.db", broker.port)
    van = None
    try:
        signed_release(tmp_path / "n0", "1.0.0", keys)
        assert rig.apply(tmp_path / "n0").returncode == 0
        n0 = rig.status()["current"]
        signed_release(tmp_path / "n1", "1.1.0", keys)
        rollouts.start(hub.store, tmp_path / "n1", previous=n0, previous_folder=tmp_path / "n0", canaries=("V001",),
                       wave_sizes=(1,))
        # The van takes 1.1.0 (here by hand, as it would over the link) and the link drops during its check and stays
        # down for 1.0.0 after the rollback: deferred.
        done = rig.apply(tmp_path / "n1", restart=_link_drops(rig), deadline=SHORT_S)  # waited out twice
        assert done.returncode == 3 and "deferred, not refused" in done.stderr, (done.stdout, done.stderr)
        [n1] = rig.status()["deferred"]
        # While it is away, staff roll the fleet back (1.0.0 signed again first).
        tuf_repo.sign_release(tmp_path / "n0", keys)
        rollouts.roll_back(hub.store)
        # The link comes back: the van connects, and the retry timer fires right then.
        since = datetime.now(UTC).isoformat()
        (rig.software / "surroundings.json").write_text(json.dumps({"link": True, "since": since}))
        van = _van(rig, broker)
        done = rig.run("retry", *rig.options())
        assert done.returncode == 0, (done.stdout, done.stderr)
        assert rig.status()["pointed_version"] == "1.0.0", (done.stdout, rig.status()["history"][-3:])
        # The hub's word arrives within seconds of the van's first snapshot: the release it should run is 1.0.0.
        wait_until(lambda: _word(rig) == n0, 30, "the hub's word on the release to run")
        # The next turn of the timer (or this one, if the word came first) drops 1.1.0 without switching to it.
        for _ in range(2):
            done = rig.run("retry", *rig.options())
            assert done.returncode == 0, (done.stdout, done.stderr)
        st = rig.status()
        assert (st["pointed_version"], st["current"], st["deferred"], st["refused"]) == ("1.0.0", n0, {}, {}), st
        assert [h["version"] for h in st["history"] if h["event"] == "deferred-cancelled"] == ["1.1.0"]
        assert "no release deferred" in done.stdout
        assert rig.serving() == "1.0.0"
        # The hub sees the van no longer holds it, and that the van applied its word.
        wait_until(lambda: not rollouts.fleet(hub.store)["V001"].deferred, 30, "the van's report without 1.1.0")
        wait_until(lambda: (hub.store.downlink(_last_word(hub)) or {}).get("outcome") == "applied", 30,
                   "the van's answer to the word")
        assert rollouts.fleet(hub.store)["V001"].running == n0
        assert n1 not in rollouts.fleet(hub.store)["V001"].refused
    finally:
        if van is not None:
            van.stop()
        hub_runner.stop()
        rig.stop()


def _last_word(hub) -> str:
    rows = hub.store._read("SELECT msg_id FROM downlinks WHERE kind = 'update-target' ORDER BY msg_id DESC LIMIT 1")
    return rows[0][0] if rows else ""

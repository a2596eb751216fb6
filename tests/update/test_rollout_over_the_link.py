"""Issue 20's acceptance over the real link: the hub's staged rollout offers release N+1 to the canary, the canary's
sync agent receives it over MQTT (real Mosquitto, the real hub ingest worker), the root unit's command
(``python -m edge.update apply-ready``, run here as edge-update.path would) verifies it with TUF, installs it beside,
switches and finds it healthy; the canary's snapshot says so and the next wave is offered N+1. A broken N+2 fails
its health check on the canary, which rolls back by itself; its report makes the hub pause the rollout with the
reason, and the other van is not offered N+2."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.sync.agent import SyncAgent, Tuning
from edge.update.incoming import READY, Incoming
from governorate import rollouts
from tests.support.sync_harness import ThreadRunner, start_hub, van_settings, wait_until
from tests.update.support import SHORT_S, Rig, signed_release

pytestmark = pytest.mark.slow


def _van(folder, broker, van: str, state: Path | None = None) -> ThreadRunner:
    settings = van_settings(folder, broker.url, van=van)
    agent = SyncAgent(settings, Tuning(resend_after_s=5, telemetry_every_s=1),
                      updates=Incoming(folder / "update" / "staging",
                                       state_file=state / "state.json" if state else None))
    return ThreadRunner(agent.run)


def _apply_when_ready(rig: Rig, bundle: str, deadline: float | None = None):
    """What edge-update.path does: start apply-ready once READY names the bundle."""
    ready = rig.data / "update" / "staging" / READY
    wait_until(lambda: ready.exists() and ready.read_text().strip() == bundle, 90, f"{bundle} to arrive whole")
    return rig.run("apply-ready", "--anchor", str(rig.anchor), "--no-pip", *rig.options(deadline=deadline))


def test_canary_over_mqtt_then_next_wave_and_a_broken_release_pauses_the_rollout(tmp_path, broker, keys):
    canary = Rig(tmp_path / "V001", keys)
    hub, hub_runner = start_hub(tmp_path / "hub.db", broker.port)
    vans = []
    try:
        signed_release(tmp_path / "n0", "1.0.0", keys)
        assert canary.apply(tmp_path / "n0").returncode == 0  # what the van was installed with
        n0 = canary.status()["current"]
        vans = [_van(canary.data, broker, "V001", canary.state), _van(tmp_path / "V002", broker, "V002")]
        wait_until(lambda: (rollouts.fleet(hub.store).get("V001") or rollouts.VanSoftware(*[None] * 7)).running
                   == n0, 30, "the canary to report the version it runs")

        signed_release(tmp_path / "n1", "1.1.0", keys)
        plan = rollouts.start(hub.store, tmp_path / "n1", previous=n0, canaries=("V001",), wave_sizes=(1,))
        n1 = plan["target"]
        assert (hub.updates.offer_of("V002") or {}).get("bundle") != n1
        done = _apply_when_ready(canary, n1)
        assert done.returncode == 0, done.stderr
        assert canary.serving() == "1.1.0" and canary.status()["current"] == n1
        # The canary's snapshot says it runs N+1: the next wave (V002) is offered it.
        wait_until(lambda: (hub.updates.offer_of("V002") or {}).get("bundle") == n1, 60, "the next wave's offer")
        assert rollouts.current(hub.store)["state"] == "rolling-out"

        # A broken N+2 to the canary: it fails its health check and rolls back by itself.
        signed_release(tmp_path / "n2", "1.2.0", keys, mode="unhealthy")
        plan2 = rollouts.start(hub.store, tmp_path / "n2", previous=n1, canaries=("V001",), wave_sizes=(1,))
        n2 = plan2["target"]
        done = _apply_when_ready(canary, n2, deadline=SHORT_S)
        assert done.returncode == 3 and "rolled back" in done.stderr
        # The rollback restarts the units and returns: the previous version's web process answers a moment later.
        wait_until(lambda: canary.serving() == "1.1.0", 10, "1.1.0 to serve again after the rollback")
        assert canary.status()["current"] == n1
        wait_until(lambda: rollouts.current(hub.store)["state"] == "paused", 60, "the rollout to pause")
        row = rollouts.current(hub.store)
        assert "canaries" in row["reason"] and "1 of 1 failed" in row["reason"]
        assert n2 in rollouts.fleet(hub.store)["V001"].refused
        assert (hub.updates.offer_of("V002") or {}).get("bundle") != n2  # no other van is offered N+2
    finally:
        for v in vans:
            v.stop()
        hub_runner.stop()
        canary.stop()

"""Issue 16: poison downlinks are quarantined, never looped on. Hypothesis draws batches of downlink messages of
every kind the wire contract defines — well-formed envelopes with hostile values, broken payloads, replays —
and publishes them on the van's downlink topics of a real Mosquitto, to the real ``edge sync`` process, while
the van keeps queueing uplink rows and the real hub acks them. After every batch the sync process is still
running, each message that decodes is in the inbox once (rejected ones with a reason) with one answer to the
hub, and the outbox has drained (tests/support/downlink_rig.py says exactly what is checked).

The broker, the hub and the van are started once for the module; each example is one batch of about ten
messages. A longer run: ``python -m bench.downlink_fuzz --examples 500``.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.sync import protocol as p
from edge.sync import schema
from tests.support import downlink_strategies as ds
from tests.support.downlink_rig import FuzzRig

pytestmark = pytest.mark.slow

# A modest run for `make test` (about half a minute); DOWNLINK_FUZZ_EXAMPLES=300 for a longer one here.
EXAMPLES = int(os.environ.get("DOWNLINK_FUZZ_EXAMPLES", "60"))


def test_the_strategies_cover_every_downlink_kind_of_the_contract():
    # A kind added to the contract later must be added to the fuzz (and to its oracle) too.
    assert set(ds.KIND_BODIES) == set(p.DOWN_KINDS) == set(schema.DOWN_BODIES)
    answered = schema.BODIES["tx"]["downlink.applied"]
    assert set(ds.INBOX_KINDS) == set(p.DOWN_KINDS) - {"ack"}
    # The van's answer names the kind of what it applied: every inbox kind must be one the answer can carry.
    for kind in ds.INBOX_KINDS:
        answered({"msg_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "kind": kind, "outcome": "rejected", "error": "x"}, "b")


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    rig = FuzzRig(tmp_path_factory.mktemp("downlink-fuzz"))
    yield rig
    rig.close()


def test_hostile_downlinks_never_stop_the_sync_agent_and_the_outbox_keeps_draining(rig):
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
    @given(st.data())
    def batch(data):
        rig.run_batch(data.draw(ds.batches(rig.ctx), label="batch"))

    batch()
    figures = rig.figures()
    print(figures)
    assert figures["agent_restarts"] == 0 and figures["duplicates_recorded"] == 0
    assert figures["outbox_drained"], figures
    # Every kind went down, and every fault class: hostile values, broken payloads, replays.
    assert set(p.DOWN_KINDS) <= set(figures["sent_per_kind"]), figures["sent_per_kind"]
    assert {"hostile", "broken", "replay"} <= set(figures["sent_per_fault"]), figures["sent_per_fault"]
    # The inbox path was taken both ways, for every inbox kind (so the fuzz is not refused at the door).
    assert set(figures["rejected"]) == set(ds.INBOX_KINDS), figures
    assert figures["applied"].get("command") and figures["applied"].get("request-status"), figures

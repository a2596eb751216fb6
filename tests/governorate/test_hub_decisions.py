"""Two clerks deciding on one request at the same moment: one decision is recorded, sent and notified;
the other clerk is told who decided first (issue 15, finding 6). SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid

import cbor2
import pytest

from edge.core.errors import EdgeError
from governorate import backoffice
from governorate.store import HubStore
from tests.support import gov_postgres
from tests.support.gov_support import BACKENDS, offline_hub, seed

PAIRS = 10


@pytest.fixture(params=BACKENDS)
def target(request, tmp_path):
    if request.param == "sqlite":
        yield str(tmp_path / "hub.db")
        return
    cluster = gov_postgres.Cluster().start()
    try:
        yield cluster.create_database(f"d{uuid.uuid4().hex[:12]}")
    finally:
        cluster.stop()


def test_simultaneous_ready_and_rejected_send_one_decision_and_tell_the_second_clerk(target, tmp_path):
    setup = HubStore(target)
    numbers = seed(setup, tmp_path, requests=PAIRS)
    setup.close()
    outcomes: dict[str, list] = {n: [] for n in numbers}

    def clerk(who: str, state: str, reason: str | None, start: threading.Barrier) -> None:
        store = HubStore(target)  # each clerk's web worker has its own connection
        hub = offline_hub(store)
        try:
            for number in numbers:
                start.wait()
                try:
                    backoffice.decide(store, hub, number, state, reason, who)
                    outcomes[number].append((who, "sent"))
                except EdgeError as exc:
                    outcomes[number].append((who, exc.message_en))
        finally:
            store.close()

    start = threading.Barrier(2)
    threads = [threading.Thread(target=clerk, args=("karim", "ready", None, start)),
               threading.Thread(target=clerk, args=("amal", "rejected", "The plan is not signed.", start))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    store = HubStore(target)
    try:
        for number in numbers:
            sent = [who for who, what in outcomes[number] if what == "sent"]
            told = [what for who, what in outcomes[number] if what != "sent"]
            assert len(sent) == 1 and len(told) == 1, outcomes[number]
            # Told who decided: "has just decided" when both read the request before either wrote,
            # "has already decided" when the second read it after the first committed.
            assert told[0].startswith((f"{sent[0]} has just decided this request",
                                       f"{sent[0]} has already decided this request")), told
            downlinks = [cbor2.loads(payload)["body"] for (payload,) in store._read(
                "SELECT payload FROM downlinks WHERE kind = 'request-status'")]
            states = [d["state"] for d in downlinks if d["number"] == number]
            final = store.request(number)["state"]
            assert states == [final], (states, final)
            notes = store._read("SELECT count(*) FROM notifications WHERE request_number = ?", [number])[0][0]
            assert notes == 1
            decided = store._read("SELECT actor FROM staff_audit WHERE action = 'request.decide' AND subject = ?",
                                  [number])
            assert [r[0] for r in decided] == sent
    finally:
        store.close()

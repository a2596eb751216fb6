"""The field soak, short (about a minute of day and a few seconds of drain): 30 citizens across an emulated
LTE link with outages, power cuts, a broker restart and a hub restart; nothing lost, nothing twice.

The full day (``python -m bench.soak``) and how to read its report: docs/soak.md.
"""

from __future__ import annotations

import importlib.util

import pytest

from tests.support.lte_link import unavailable_reason

REASON = unavailable_reason()


@pytest.mark.skipif(REASON is not None, reason=f"the field soak needs network namespaces: {REASON}")
def test_a_short_day_on_a_bad_link_loses_and_duplicates_nothing(tmp_path):
    from bench.soak.run import Params, Soak, run_soak

    params = Params(minutes=1.0, seed=11, citizens=30, outages=3, power_cuts=3, broker_restarts=1, hub_restarts=1,
                    drain_timeout_s=240, out=str(tmp_path / "soak"))
    soak = Soak(params)
    results = run_soak(params, soak)

    assert results["problems"] == []
    assert results["lost"] == {"messages": 0, "requests": 0, "documents": 0, "decisions": 0}
    assert results["duplicated"] == {"messages": 0, "requests": 0, "documents": 0, "decisions": 0}
    assert results["outbox_pending"] == 0 and results["drained"]
    assert results["audit"]["van_ok"] and results["audit"]["hub_ok"]
    assert results["document_hash_mismatches"] == 0
    counts = results["counts"]
    assert counts["requests"] == 30 and counts["pages"] >= 30
    assert counts["decisions_sent"] == 60  # under review, then ready or rejected, for each request
    # The faults did happen: 3 short cuts and the long one, 3 power cuts, the two restarts.
    kinds = [e["kind"] for e in results["log"]]
    assert kinds.count("outage_begin") == 4 and kinds.count("outage_end") == 4
    assert kinds.count("power_cut_begin") == 3 and kinds.count("power_cut_end") == 3
    assert kinds.count("broker_restart_begin") == 1 and kinds.count("hub_restart_begin") == 1
    assert results["ok"]

    if importlib.util.find_spec("matplotlib") is not None:  # in the test extra; the soak itself does not need it
        from bench.soak.report import write_report

        report = write_report(results)
        for name in ("backlog.png", "latency.png", "goodput.png"):
            assert (report.parent / name).stat().st_size > 10_000
        assert "**0 lost, 0 duplicated**" in report.read_text()

    # The checks are not vacuous: take a request, a page and a decision away and add a second copy of a
    # request at the hub, and the same reconciliation counts each of them.
    _tamper(soak)
    again = soak.reconcile()
    assert again["lost"]["requests"] == 1 and again["lost"]["documents"] == 1 and again["lost"]["decisions"] == 1
    assert again["duplicated"]["requests"] == 1 and again["duplicated"]["messages"] >= 1


def _tamper(soak) -> None:
    import json
    import sqlite3

    from ulid import ULID

    hub = sqlite3.connect(soak.hub_db)
    with hub:
        first, second = hub.execute("SELECT msg_id, seq, body, created_at, received_at FROM messages "
                                    "WHERE kind = 'request.submitted' ORDER BY seq LIMIT 2").fetchall()
        hub.execute("DELETE FROM messages WHERE msg_id = ?", [first[0]])
        hub.execute("INSERT INTO messages (van, msg_id, stream, seq, kind, body, created_at, received_at) "
                    "VALUES ('V007', ?, 'tx', 100000, 'request.submitted', ?, ?, ?)",
                    [str(ULID()), second[2], second[3], second[4]])
        hub.execute("DELETE FROM documents WHERE rowid = (SELECT min(rowid) FROM documents)")
    hub.close()
    van = sqlite3.connect(soak.settings.db_path)
    with van:
        van.execute("DELETE FROM request_history WHERE id = (SELECT min(id) FROM request_history WHERE source = 'hub')")
    van.close()
    assert json.loads(second[2])["number"]


def test_without_network_namespaces_the_soak_says_why_and_exits_non_zero(monkeypatch, capsys):
    import bench.soak.run as run
    from bench.soak.__main__ import main

    monkeypatch.setattr(run, "unavailable_reason", lambda: "the LTE link emulator needs root (ip netns, /dev/net/tun)")
    assert main(["--minutes", "0.1", "--out", "/nonexistent-never-written"]) == 2
    err = capsys.readouterr().err
    assert "cannot run here" in err and "needs root" in err

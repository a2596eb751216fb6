"""A signed release sent to a van over the real MQTT link (issue 20): the hub's offer, windows of chunks, the van's
``tel.update`` reports, resume after the van stops mid-transfer, the lowest priority, and the assembled folder
verifying with TUF on the van. Real Mosquitto on loopback, the real hub ingest worker and the real sync agent."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.sync import protocol as p
from edge.sync.agent import SyncAgent, Tuning
from edge.update import transfer
from edge.update.incoming import READY, Incoming
from governorate.store import HubStore
from governorate.updates import MIN_WINDOW, Bundle, OfferError, Updates, missing
from tests.support.sync_harness import VAN, ThreadRunner, start_hub, van_settings, wait_until
from tests.update.support import signed_release


def _release(folder: Path, keys: Path, version: str = "1.1.0", padding: int = 700_000) -> Path:
    """A signed release with a file big enough to need several chunks."""
    (folder / "system").mkdir(parents=True)
    (folder / "system" / "padding.bin").write_bytes(os.urandom(padding))
    signed_release(folder, version, keys)
    return folder


def _files(folder: Path) -> dict[str, str]:
    return {q.relative_to(folder).as_posix(): hashlib.sha256(q.read_bytes()).hexdigest()
            for q in folder.rglob("*") if q.is_file()}


def test_the_hub_cuts_a_release_as_the_van_expects(tmp_path, keys):
    folder = _release(tmp_path / "rel", keys)
    b = Bundle(folder)
    cut = list(transfer.cut(folder, b.name))
    assert b.total == len(cut) > 10
    for seq in (0, 5, b.total - 1):
        assert dict(vars(b.chunk(seq))) == cut[seq]
    assert list(missing([[0, 3], [6, 6]], 9)) == [4, 5, 7, 8]
    assert list(missing([[0, 3], [6, 6]], 6, 2)) == [4, 5]


def test_only_a_signed_release_is_offered(tmp_path, keys):
    store = HubStore(tmp_path / "hub.db")
    updates = Updates(store, lambda *a: None)
    (tmp_path / "empty").mkdir()
    with pytest.raises(OfferError, match="not a release folder"):
        updates.offer(VAN, tmp_path / "empty")
    from tests.update.support import make_release

    make_release(tmp_path / "unsigned", "1.0.0")
    with pytest.raises(OfferError, match="not a signed release"):
        updates.offer(VAN, tmp_path / "unsigned")
    with pytest.raises(OfferError, match="not a van id"):
        updates.offer("V1", _release(tmp_path / "rel", keys))


def _van_row(store: HubStore, online: bool, pending: int | None) -> None:
    with store.transaction() as conn:
        conn.execute("INSERT INTO vans (van, last_seen, online, telemetry) VALUES (?, ?, ?, ?) ON CONFLICT (van) DO "
                     "UPDATE SET online = excluded.online, telemetry = excluded.telemetry",
                     [VAN, datetime.now(UTC).isoformat(), int(online),
                      None if pending is None else json.dumps({"outbox_pending": pending})])


def test_chunks_go_only_to_an_online_van_with_nothing_else_to_send_a_window_at_a_time(tmp_path, keys):
    store = HubStore(tmp_path / "hub.db")
    sent: list[p.Downlink] = []
    updates = Updates(store, lambda van, kind, payload: sent.append(p.decode_down(payload, van=van, kind=kind)),
                      window=4, stall_s=30)
    offer = updates.offer(VAN, _release(tmp_path / "rel", keys))
    assert offer["state"] == "offered"
    _van_row(store, online=False, pending=0)
    assert updates.pump(VAN) == 0
    _van_row(store, online=True, pending=3)  # a backlog at the van: its transactions go first
    assert updates.pump(VAN) == 0
    _van_row(store, online=True, pending=None)  # no snapshot yet: not known to be drained
    assert updates.pump(VAN) == 0
    _van_row(store, online=True, pending=0)
    assert updates.pump(VAN) == 4 and [d.message.seq for d in sent] == [0, 1, 2, 3]
    assert updates.pump(VAN) == 0  # the window is full until the van reports
    # The van holds 0-1 and 3 after the window: 2 was lost on the way (chunks of a topic arrive in order), so it
    # goes again at once with the next three.
    report = {"bundle": offer["bundle"], "at": datetime.now(UTC).isoformat(), "state": "receiving",
              "total": offer["total"], "held": 3, "have": [[0, 1], [3, 3]], "error": None}
    with store.transaction() as conn:
        assert Updates.report(conn, VAN, report, datetime.now(UTC).isoformat())
        assert not Updates.report(conn, VAN, report | {"bundle": "0" * 16}, datetime.now(UTC).isoformat())
    assert updates.pump(VAN) == 4 and [d.message.seq for d in sent[4:]] == [2, 4, 5, 6]
    # Nothing heard for longer than the stall time: sent again from the first chunk the van lacks (2).
    later = datetime.now(UTC) + timedelta(seconds=31)
    del sent[:]
    assert updates.pump(VAN, now=later) == 4 and [d.message.seq for d in sent] == [2, 4, 5, 6]
    assert all(d.schema == 4 and d.kind == "update-chunk" for d in sent)
    assert updates.withdraw(VAN) and updates.pump(VAN, now=later + timedelta(seconds=60)) == 0


def test_a_van_that_never_answers_gets_windows_less_and_less_often_and_one_that_comes_back_at_once(tmp_path, keys):
    # An online, drained van that never reports (its agent takes no updates, or nothing reaches it): without a
    # back-off the hub would send it a MiB every 30 s, 2.8 GiB a day over paid LTE.
    store = HubStore(tmp_path / "hub.db")
    sent: list[int] = []
    updates = Updates(store, lambda v, kind, payload: sent.append(p.decode_down(payload, van=v, kind=kind).message.seq),
                      window=16, stall_s=30)
    offer = updates.offer(VAN, _release(tmp_path / "rel", keys, padding=3_000_000))
    _van_row(store, online=True, pending=0)
    start = now = datetime.now(UTC)
    times = []
    while now < start + timedelta(hours=24):
        if updates.pump(VAN, now=now):
            times.append(now)
        now += timedelta(seconds=5)
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    assert len(times) <= 40, len(times)  # 2,880 windows without the back-off
    assert gaps[0] <= 40 and gaps == sorted(gaps) and max(gaps) <= 3600 + 5 and min(gaps[-5:]) >= 3600
    assert set(sent) == set(range(MIN_WINDOW))  # always the same first window (its link not known): it holds nothing
    # The van comes back and says what it holds (after every connect): the next window goes within the stall time.
    report = {"bundle": offer["bundle"], "at": now.isoformat(), "state": "receiving", "total": offer["total"],
              "held": 16, "have": [[0, 15]], "error": None}
    with store.transaction() as conn:
        Updates.report(conn, VAN, report, now.isoformat())
    assert updates.pump(VAN, now=now + timedelta(seconds=1)) == MIN_WINDOW
    # That window is lost on the way: after all the waste of the silent day, it goes again within the stall time —
    # the report reset the back-off — and the silence from there doubles it again from 30 s.
    times = []
    t = now + timedelta(seconds=1)
    while t < now + timedelta(minutes=20):
        t += timedelta(seconds=5)
        if updates.pump(VAN, now=t):
            times.append((t - now).total_seconds())
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert times[0] <= 40 and gaps[0] <= 45 and all(1.8 <= b / a <= 2.2 for a, b in zip(gaps, gaps[1:], strict=False))


@pytest.mark.parametrize("fault", ["restart mid-window", "disk full at first", "every fifth chunk lost"])
def test_the_transfer_completes_whatever_the_van_loses_or_refuses_on_the_way(tmp_path, keys, fault):
    # The hub and the van's end in a loop, as the link would carry them: windows go, the van keeps what arrives
    # (and refuses what it cannot keep), reports; time passes. It must end with the whole release, never stall.
    store = HubStore(tmp_path / "hub.db")
    outbox_: list[p.UpdateChunk] = []
    updates = Updates(store, lambda van, kind, payload: outbox_.append(p.decode_down(payload, van=van,
                                                                                     kind=kind).message),
                      window=8, stall_s=30)
    offer = updates.offer(VAN, _release(tmp_path / "rel", keys, padding=1_500_000))
    _van_row(store, online=True, pending=0)
    reserve = {"disk full at first": 10**15}.get(fault, 0)
    inc = Incoming(tmp_path / "staging", disk_reserve=reserve)
    now = datetime.now(UTC)
    for turn in range(400):
        now += timedelta(seconds=1)
        updates.pump(VAN, now=now)
        window, outbox_[:] = list(outbox_), []
        if fault == "restart mid-window" and turn == 3:
            window = window[:2]  # the van stopped: the rest of the window never arrived
            inc = Incoming(tmp_path / "staging")
        if fault == "disk full at first" and turn == 5:
            inc.disk_reserve = 0  # space was freed
        said = None  # what the agent would send: add's report when it has one (a refusal), else progress()
        for chunk in window:
            if fault == "every fifth chunk lost" and chunk.seq % 5 == 4 and turn < 20:
                continue
            said = inc.add(dict(vars(chunk))) or said
        if window:
            report = inc.progress() or said
            now += timedelta(seconds=1)
            with store.transaction() as conn:
                Updates.report(conn, VAN, report | {"at": now.isoformat()}, now.isoformat())
        else:
            now += timedelta(seconds=10)  # nothing sent: time passes until the stall timer fires
        if (updates.offer_of(VAN) or {}).get("state") == "complete":
            break
    done = updates.offer_of(VAN)
    assert done["state"] == "complete" and done["held"] == offer["total"], (fault, done["held"], done["have"])
    assert inc.ready() == offer["bundle"]


def test_a_timestamp_re_signed_while_the_release_is_offered_goes_out_with_its_own_hash(tmp_path, keys, van):
    # `provision release timestamp` rewrites tuf/timestamp.json every day, while a release may be on its way to a van
    # for days. The hub must send the file as it is, under its own SHA-256 (not the hash it took when it first read
    # the folder): the van puts the release together, and TUF verifies it.
    from provisioning import tuf_repo

    store = HubStore(tmp_path / "hub.db")
    sent: list[p.UpdateChunk] = []
    updates = Updates(store, lambda v, kind, payload: sent.append(p.decode_down(payload, van=v, kind=kind).message),
                      window=8, stall_s=30)
    folder = _release(tmp_path / "rel", keys, padding=1_500_000)
    offer = updates.offer(VAN, folder)
    _van_row(store, online=True, pending=0)
    inc = Incoming(tmp_path / "staging", disk_reserve=0)
    now = datetime.now(UTC)
    before = (folder / "tuf" / "timestamp.json").read_bytes()
    lost = False
    for _ in range(200):
        now += timedelta(seconds=1)
        updates.pump(VAN, now=now)
        window, sent[:] = list(sent), []
        said = None
        for chunk in window:
            if chunk.path == "tuf/timestamp.json" and not lost:
                # The hub has read and hashed the file and sent it; the link loses it; the timestamp is re-signed
                # before it goes again.
                lost = True
                tuf_repo.refresh_timestamp(folder, keys)
                continue
            said = inc.add(dict(vars(chunk))) or said
        report = inc.progress() or said
        if report is not None:
            now += timedelta(seconds=1)
            with store.transaction() as conn:
                Updates.report(conn, VAN, report | {"at": now.isoformat()}, now.isoformat())
        else:
            now += timedelta(seconds=31)
        if (updates.offer_of(VAN) or {}).get("state") == "complete":
            break
    assert lost and updates.offer_of(VAN)["state"] == "complete" and inc.ready() == offer["bundle"]
    assert (folder / "tuf" / "timestamp.json").read_bytes() != before
    assert _files(inc.folder(offer["bundle"])) == _files(folder)
    assert van.verify(inc.folder(offer["bundle"])).version == "1.1.0"


@pytest.mark.slow
def test_a_release_reaches_the_van_over_mqtt_resumes_after_a_stop_and_verifies(tmp_path, broker, keys, van):
    from governorate.updates import PUMP_EVERY_S

    folder = _release(tmp_path / "rel", keys, padding=1_500_000)
    hub, hub_runner = start_hub(tmp_path / "hub.db", broker.port)
    hub.updates.window = 4
    settings = van_settings(tmp_path / "van", broker.url)
    staging = tmp_path / "van" / "update" / "staging"
    tuning = Tuning(resend_after_s=5, telemetry_every_s=3600)
    try:
        offer = hub.updates.offer(VAN, folder)
        agent = SyncAgent(settings, tuning, updates=Incoming(staging))
        runner = ThreadRunner(agent.run)
        # Stopped as soon as it holds a few chunks: what it got is on its disk.
        wait_until(lambda: (hub.updates.offer_of(VAN) or {}).get("held", 0) >= 6, 30 + PUMP_EVERY_S,
                   "the van to hold its first chunks")
        runner.stop()
        first = hub.updates.offer_of(VAN)
        assert first["state"] == "receiving" and first["held"] < first["total"]
        held = len(Incoming(staging).progress()["have"]) and Incoming(staging).progress()["held"]
        assert held >= 6 and not (staging / READY).exists()

        # Back: it says what it holds, the hub goes on from there.
        agent = SyncAgent(settings, tuning, updates=Incoming(staging))
        runner = ThreadRunner(agent.run)
        wait_until(lambda: (hub.updates.offer_of(VAN) or {}).get("state") == "complete", 60,
                   "the van to hold the whole release")
        runner.stop()
    finally:
        hub_runner.stop()
    done = hub.updates.offer_of(VAN)
    assert done["held"] == done["total"] == offer["total"] and done["error"] is None
    # Nothing that had arrived was sent again, beyond what was in flight when the van stopped (one window).
    assert done["chunks_sent"] <= done["total"] + hub.updates.window
    assert (staging / READY).read_text().strip() == offer["bundle"]
    received = staging / offer["bundle"] / "files"
    assert _files(received) == _files(folder)
    verified = van.verify(received)
    assert verified.version == "1.1.0" and verified.identity[:16] == offer["bundle"]
    # The van's snapshot names its software and the bundle it holds (the fleet screen reads them).
    telemetry = hub.store.van(VAN)["telemetry"]
    assert telemetry["update.bundle"] == offer["bundle"] and telemetry["software.version"]


def test_the_vans_end_reports_refusals_a_full_disk_and_a_newer_offer(tmp_path, keys):
    a = _release(tmp_path / "a", keys)
    bodies = list(transfer.cut(a, "A1"))
    inc = Incoming(tmp_path / "staging")
    assert inc.add(bodies[0]) is None and inc.progress()["held"] == 1
    bad = dict(bodies[1], data=bodies[1]["data"][:-1] + b"x")
    bad["chunk_sha256"] = hashlib.sha256(bad["data"]).hexdigest()  # its own hash right, its file's share wrong
    report = inc.add(dict(bad, size=bad["size"] + 1))
    assert report["state"] == "refused" and "A1" == report["bundle"] and report["held"] == 1
    p.validate_body("tel", "tel.update", report, VAN)
    # A disk that would be left with less than the reserve: the chunk waits, the van says why.
    full = Incoming(tmp_path / "staging", disk_reserve=10**15)
    report = full.add(bodies[2])
    assert report["state"] == "receiving" and "free disk" in report["error"]
    assert inc.progress()["held"] == 1
    # A newer offer replaces the old bundle's chunks.
    b = _release(tmp_path / "b", keys, version="1.2.0")
    other = list(transfer.cut(b, "B2"))
    assert inc.add(other[0]) is None
    assert not (tmp_path / "staging" / "A1").exists() and inc.current() == "B2"
    for body in other[1:]:
        last = inc.add(body)
    assert last["state"] == "complete" and last["held"] == last["total"] == len(other)
    assert (tmp_path / "staging" / READY).read_text().strip() == "B2"
    inc.done("B2")
    assert not (tmp_path / "staging" / READY).exists() and inc.current() is None


def test_putting_the_bundle_together_keeps_the_disk_reserve_and_waits_for_room(tmp_path, keys):
    # The assembled files are a second copy of the chunks: with room for the chunks but not for that copy, the van
    # says so and waits (nothing written, READY not there); once there is room, the next report puts it together.
    import shutil

    bodies = list(transfer.cut(_release(tmp_path / "a", keys, padding=2_000_000), "A1"))
    inc = Incoming(tmp_path / "staging", disk_reserve=0)
    for body in bodies[:-1]:
        inc.add(body)
    inc.disk_reserve = shutil.disk_usage(tmp_path).free - 1_000_000  # the last chunk fits, 2 MB more do not
    report = inc.add(bodies[-1])
    assert report["state"] == "receiving" and "put the update together" in report["error"], report
    assert report["held"] == report["total"] and not (tmp_path / "staging" / READY).exists()
    assert not (tmp_path / "staging" / "A1" / "files").exists()
    assert not (tmp_path / "staging" / "A1" / ".files.partial").exists()
    inc.disk_reserve = 0
    assert inc.progress()["state"] == "complete" and (tmp_path / "staging" / READY).read_text().strip() == "A1"


def _receive(staging: Path, folder: Path, bundle: str) -> Incoming:
    inc = Incoming(staging)
    for body in transfer.cut(folder, bundle):
        inc.add(body)
    assert inc.ready() == bundle
    return inc


@pytest.mark.slow
def test_apply_ready_installs_what_arrived_and_a_tampered_one_is_refused_and_forgotten(tmp_path, keys):
    from edge.update import state as state_mod
    from tests.update.support import Rig

    rig = Rig(tmp_path / "V001", keys)
    staging = rig.data / "update" / "staging"
    try:
        assert "nothing to apply" in rig.run("apply-ready", "--anchor", str(rig.anchor), "--no-pip",
                                             *rig.options()).stdout
        _receive(staging, _release(tmp_path / "n1", keys, padding=200_000), "N1")
        done = rig.run("apply-ready", "--anchor", str(rig.anchor), "--no-pip", *rig.options())
        assert done.returncode == 0, done.stderr
        assert rig.serving() == "1.1.0" and not (staging / READY).exists() and not (staging / "N1").exists()

        # A release whose file was changed after it arrived (or by whoever sent it): TUF refuses it, nothing is
        # installed, and the marker goes (the path unit does not start it again and again).
        inc = _receive(staging, _release(tmp_path / "n2", keys, version="1.2.0", padding=200_000), "N2")
        (inc.folder("N2") / "system" / "padding.bin").write_bytes(os.urandom(200_000))
        done = rig.run("apply-ready", "--anchor", str(rig.anchor), "--no-pip", *rig.options())
        assert done.returncode == 1 and "tampered" in (done.stdout + done.stderr).lower()
        assert rig.serving() == "1.1.0" and not (staging / READY).exists() and not (staging / "N2").exists()
        last = state_mod.read(rig.state / "state.json")["history"][-1]
        assert last["event"] == "refused-release" and last["version"] == "N2" and "update-tampered" in last["reason"]
        status = Incoming(staging, state_file=rig.state / "state.json").status()
        assert status["update.last"].startswith("refused-release N2 update-tampered")
        assert status["software.id"] == rig.status()["current"] and status["update.phase"] == "idle"
    finally:
        rig.stop()


def test_staff_offer_withdraw_and_list_from_the_command_line(tmp_path, keys):
    from click.testing import CliRunner

    from governorate.cli import main

    db = str(tmp_path / "hub.db")
    folder = _release(tmp_path / "rel", keys)
    run = CliRunner().invoke
    out = run(main, ["update", "offer", "--db", db, VAN, str(folder)])
    assert out.exit_code == 0 and "release 1.1.0" in out.output and f"offered to {VAN}" in out.output
    listed = [json.loads(line) for line in run(main, ["update", "status", "--db", db]).output.splitlines()]
    assert [(o["van"], o["version"], o["state"], o["held"]) for o in listed] == [(VAN, "1.1.0", "offered", 0)]
    out = run(main, ["update", "offer", "--db", db, VAN, str(tmp_path)])
    assert out.exit_code != 0 and "not a release folder" in out.output
    assert "withdrawn" in run(main, ["update", "withdraw", "--db", db, VAN]).output
    assert "has no offer" in run(main, ["update", "withdraw", "--db", db, VAN]).output


def test_a_ready_marker_naming_a_path_is_never_followed(tmp_path):
    # apply-ready runs as root on what the sync agent (user edge) wrote: a READY naming "../../x" must not make
    # it apply, or remove, anything outside the staging folder.
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep").write_text("x")
    staging = tmp_path / "data" / "update" / "staging"
    staging.mkdir(parents=True)
    (staging / READY).write_text("../../../victim\n")
    inc = Incoming(staging)
    assert inc.ready() is None
    inc.done("../../../victim")
    assert (victim / "keep").exists() and not (staging / READY).exists()


def test_the_agents_end_survives_apply_ready_forgetting_its_bundle_and_a_bad_chunk_wipes_nothing(tmp_path, keys):
    a = _release(tmp_path / "a", keys)
    bodies = list(transfer.cut(a, "A1"))
    staging = tmp_path / "staging"
    agent_side = Incoming(staging)
    for body in bodies:
        agent_side.add(body)
    assert agent_side.ready() == "A1"
    Incoming(staging).done("A1")  # root's apply-ready, another process, forgot it (a TUF refusal, say)
    assert agent_side.current() is None and agent_side.progress() is None
    # Offered again (the same release signed afresh has the same name): the same agent takes it from the start.
    assert agent_side.add(bodies[0]) is None and agent_side.progress()["held"] == 1
    # A malformed chunk of another bundle is refused before it could replace the one held.
    other = dict(bodies[1], bundle="B2", size=bodies[1]["size"] + 1)
    assert agent_side.add(other)["state"] == "refused"
    assert (staging / "A1").is_dir() and agent_side.current() == "A1"
    # While apply-ready installs A1 (READY names it), a newer offer's chunks do not delete it.
    for body in bodies[1:]:
        agent_side.add(body)
    assert agent_side.ready() == "A1"
    b2 = list(transfer.cut(_release(tmp_path / "b", keys, version="1.2.0"), "B2"))
    agent_side.add(b2[0])
    assert (staging / "A1").is_dir() and agent_side.ready() == "A1" and agent_side.current() == "B2"
    Incoming(staging).done("B2")  # forgetting another bundle leaves READY naming A1
    assert agent_side.ready() == "A1"

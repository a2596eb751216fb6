"""Install beside, switch atomically, check health with a deadline, roll back on its own (issue 20, step 3),
with the real ``python -m edge.update`` and a real web process whose /api/health the check asks."""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.update.support import SHORT_S, Rig, signed_release


@pytest.fixture
def rig(tmp_path, keys):
    r = Rig(tmp_path / "van", keys, deadline=SHORT_S)  # most tests here wait a failing check out
    yield r
    r.stop()


def _wait_serving(rig, version, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if rig.serving() == version:
            return True
        time.sleep(0.1)
    return False


def test_update_switch_and_automatic_rollback(tmp_path, keys, rig):
    signed_release(tmp_path / "n", "1.0.0", keys)
    done = rig.apply(tmp_path / "n")
    assert done.returncode == 0, done.stderr
    assert rig.current_answers() == "edge, version 1.0.0" and _wait_serving(rig, "1.0.0")
    first = rig.status()["current"]

    signed_release(tmp_path / "n1", "1.1.0", keys)
    done = rig.apply(tmp_path / "n1")
    assert done.returncode == 0, done.stderr
    assert "1.1.0" in done.stdout and _wait_serving(rig, "1.1.0")
    st = rig.status()
    assert st["pointed_version"] == "1.1.0" and st["previous"] == first and st["phase"] == "idle"
    good = st["current"]
    assert sorted(p.name for p in (rig.software / "versions").iterdir()) == sorted([first, good])

    # N+2 starts (its edge --version answers) but its web process dies: rolled back, and says why.
    signed_release(tmp_path / "n2", "1.2.0", keys, mode="unhealthy")
    t0 = time.monotonic()
    done = rig.apply(tmp_path / "n2")
    took = time.monotonic() - t0
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "rolled back" in done.stderr and "أُعيدت العربة" in done.stderr
    assert took < rig.deadline + 20
    st = rig.status()
    assert st["current"] == good and st["pointed_version"] == "1.1.0" and st["phase"] == "idle"
    assert _wait_serving(rig, "1.1.0")
    [(bad, reason)] = st["refused"].items()
    assert "not healthy within" in reason
    events = [h["event"] for h in st["history"]]
    assert events[-3:] == ["switch", "rollback", "rolled-back"]
    # Offered again, it is not tried again by itself.
    done = rig.apply(tmp_path / "n2")
    assert done.returncode == 1 and "not installed again" in done.stderr
    assert rig.status()["pointed_version"] == "1.1.0"


def test_a_version_that_cannot_start_is_never_switched_to(tmp_path, keys, rig):
    signed_release(tmp_path / "n", "1.0.0", keys)
    assert rig.apply(tmp_path / "n").returncode == 0
    signed_release(tmp_path / "dead", "2.0.0", keys, mode="dead")
    done = rig.apply(tmp_path / "dead")
    assert done.returncode == 1 and "does not start" in done.stderr and "لا يعمل" in done.stderr
    st = rig.status()
    assert st["pointed_version"] == "1.0.0" and len(list((rig.software / "versions").iterdir())) == 1
    assert st["history"][-1]["event"] == "install-failed" and _wait_serving(rig, "1.0.0")


def test_a_refused_signature_installs_nothing(tmp_path, keys, rig):
    from provisioning import tuf_repo

    tuf_repo.make_keys(tmp_path / "attacker")
    signed_release(tmp_path / "evil", "6.6.6", tmp_path / "attacker")
    done = rig.apply(tmp_path / "evil")
    assert done.returncode == 1 and "not signed by the governorate's trusted keys" in done.stderr
    assert not (rig.software / "versions").exists() and rig.status()["current"] is None


def test_the_old_process_still_answering_is_not_the_new_one_healthy(tmp_path, keys, rig):
    """A restart that did not happen (a unit that did not stop): /api/health answers 200, but for 1.0.0."""
    signed_release(tmp_path / "n", "1.0.0", keys)
    assert rig.apply(tmp_path / "n").returncode == 0 and _wait_serving(rig, "1.0.0")
    signed_release(tmp_path / "n1", "1.1.0", keys)
    done = rig.apply(tmp_path / "n1", restart="true")
    assert done.returncode == 3, done.stderr
    st = rig.status()
    assert st["pointed_version"] == "1.0.0"
    [(_, reason)] = st["refused"].items()
    assert "version 1.0.0" in reason and "not healthy within" in reason


@pytest.mark.parametrize(("mode", "why"), [("no-sync", "sync is not connected to the governorate"),
                                           ("printer-fault", "device printer is in fault")])
def test_a_version_that_loses_the_link_or_a_device_is_rolled_back(tmp_path, keys, rig, mode, why):
    # "Sync connected, devices as before": the new version's health answer is held to the old one's, taken just
    # before the switch. A camera already in fault before (camera:front) is not held against it.
    signed_release(tmp_path / "n", "1.0.0", keys)
    assert rig.apply(tmp_path / "n").returncode == 0 and _wait_serving(rig, "1.0.0")
    signed_release(tmp_path / "n1", "1.1.0", keys, mode=mode)
    done = rig.apply(tmp_path / "n1")
    assert done.returncode == 3, (done.stdout, done.stderr)
    st = rig.status()
    assert st["pointed_version"] == "1.0.0" and _wait_serving(rig, "1.0.0")
    [(_, reason)] = st["refused"].items()
    assert why in reason and "camera" not in reason, reason


def test_what_counts_as_worse_after_a_switch():
    import json

    from edge.update.install import regressions

    before = {"sync_connected": True, "devices": {"printer": "ok", "scanner": "warning", "camera:back": "error"}}
    same = json.dumps({"sync": {"connected": True}, "devices": {"printer": "ok", "camera:back": "error"}}).encode()
    assert regressions(before, same) == [] and regressions(None, b"not json") == []
    worse = json.dumps({"sync": None, "devices": {"printer": "error", "scanner": "error"}}).encode()
    assert regressions(before, worse) == ["sync is not connected to the governorate (it was before the switch)",
                                          "device printer is in fault (it was ok before the switch)"]
    # A van out of signal before the switch is not asked to connect after it.
    assert regressions({"sync_connected": False, "devices": {}}, b'{"sync": {"connected": false}}') == []
    assert regressions(before, b"[1, 2]") != []  # an answer that is not an object says nothing is as before


def _units(rig) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(rig.units.iterdir())} if rig.units.is_dir() else {}


def test_each_version_brings_its_units_and_a_rollback_takes_them_back(tmp_path, keys, rig):
    # A release carries the van's systemd units; the van runs each version with its own (docs/updates.md), so a
    # version that adds a unit or changes one is switched to with it, and a rollback puts the previous ones back.
    signed_release(tmp_path / "n", "1.0.0", keys)
    assert rig.apply(tmp_path / "n").returncode == 0
    first = {"edge.target": "[Unit]\nDescription=van 1.0.0\n"}
    assert _units(rig) == first and (rig.base / "reloaded").exists()
    (rig.base / "reloaded").unlink()

    (tmp_path / "n2" / "systemd").mkdir(parents=True)
    (tmp_path / "n2" / "systemd" / "edge-extra.service").write_text("[Service]\nExecStart=/bin/true\n")
    (tmp_path / "n2" / "systemd" / "sshd.service").write_text("[Service]\nExecStart=/bin/false\n")  # not ours
    signed_release(tmp_path / "n2", "1.2.0", keys, mode="unhealthy")
    done = rig.apply(tmp_path / "n2")
    assert done.returncode == 3, done.stderr
    assert _units(rig) == first and (rig.base / "reloaded").exists()  # back, and systemd told so

    (tmp_path / "n3" / "systemd").mkdir(parents=True)
    (tmp_path / "n3" / "systemd" / "edge-extra.service").write_text("[Service]\nExecStart=/bin/true\n")
    signed_release(tmp_path / "n3", "1.3.0", keys)
    assert rig.apply(tmp_path / "n3").returncode == 0 and _wait_serving(rig, "1.3.0")
    assert _units(rig) == {"edge-extra.service": "[Service]\nExecStart=/bin/true\n",
                           "edge.target": "[Unit]\nDescription=van 1.3.0\n"}
    assert oct((rig.units / "edge.target").stat().st_mode & 0o777) == "0o644"
    # A unit edited by hand is the version's again at the next start (recover); a unit the updater never wrote
    # (someone else's edge-something) stays, and so does a unit masked by hand (a link to /dev/null).
    (rig.units / "edge.target").write_text("edited\n")
    (rig.units / "edge-stray.service").write_text("[Service]\n")
    (rig.units / "edge-extra.service").unlink()
    (rig.units / "edge-extra.service").symlink_to("/dev/null")
    assert rig.recover().returncode == 0
    assert (rig.units / "edge.target").read_text() == "[Unit]\nDescription=van 1.3.0\n"
    assert (rig.units / "edge-stray.service").read_text() == "[Service]\n"
    assert os.readlink(rig.units / "edge-extra.service") == "/dev/null"


def test_a_reload_that_fails_is_done_again_and_a_version_without_units_gets_its_own_back(tmp_path, keys, rig):
    import json

    signed_release(tmp_path / "n", "1.0.0", keys)
    assert rig.apply(tmp_path / "n").returncode == 0
    # As if 1.0.0 had been installed before versions kept their units: what the van runs with is what it had.
    first = rig.status()["current"]
    shutil.rmtree(rig.software / "versions" / first / "units")
    (rig.units / "edge.target").write_text("[Unit]\nDescription=the units 1.0.0 ran with\n")
    (tmp_path / "n2" / "systemd").mkdir(parents=True)
    (tmp_path / "n2" / "systemd" / "edge-extra.service").write_text("[Service]\nExecStart=/bin/true\n")
    signed_release(tmp_path / "n2", "1.2.0", keys, mode="unhealthy")
    options = rig.options()
    options[options.index("--reload-command") + 1] = "false"  # systemd does not take the reload
    done = rig.run("apply", str(tmp_path / "n2"), "--anchor", str(rig.anchor), "--no-pip", *options)
    assert done.returncode == 3, done.stderr
    # Rolled back to 1.0.0 with the units it ran with (not 1.2.0's), and the failed reload remembered.
    assert _units(rig) == {"edge.target": "[Unit]\nDescription=the units 1.0.0 ran with\n"}
    st = json.loads((rig.state / "state.json").read_text())
    assert st["units_reload"] is True and "units-reload-failed" in [h["event"] for h in st["history"]]
    (rig.base / "reloaded").unlink(missing_ok=True)
    assert rig.recover().returncode == 0  # the next start: reloaded, and no longer pending
    assert (rig.base / "reloaded").exists()
    assert json.loads((rig.state / "state.json").read_text())["units_reload"] is False


def test_the_updaters_folder_inside_the_data_dir_is_refused(tmp_path, keys, rig):
    staging = rig.data / "update" / "staging"
    staging.mkdir(parents=True)
    (staging / "READY").write_text("B1\n")
    done = rig.run("apply-ready", "--anchor", str(rig.anchor), "--no-pip", "--software", str(rig.software),
                   "--data", str(rig.data), "--state", str(rig.data / "update"))
    assert done.returncode == 1 and "must not be inside the van's data dir" in done.stderr


def test_a_rollback_to_a_version_that_does_not_come_up_either_says_the_van_needs_a_technician(tmp_path, keys, rig):
    import sys

    signed_release(tmp_path / "n", "1.0.0", keys)
    assert rig.apply(tmp_path / "n").returncode == 0 and _wait_serving(rig, "1.0.0")
    good = rig.status()["current"]
    # From here the van's units start nothing at all (a disk that went read-only, a unit broken by hand): the new
    # version fails its check, and so does the one it is rolled back to.
    stopping = f"{sys.executable} -m tests.update.vanproc stop {rig.software}"
    signed_release(tmp_path / "n1", "1.1.0", keys)
    done = rig.apply(tmp_path / "n1", restart=stopping)
    assert done.returncode == 4, (done.stdout, done.stderr)
    assert "not healthy either" in done.stderr and "تحتاج العربة إلى فني" in done.stderr
    st = rig.status()
    assert st["current"] == good and st["pointed_version"] == "1.0.0" and st["phase"] == "idle"
    last = st["history"][-1]
    assert last["event"] == "rolled-back-unhealthy" and last["version"] == "1.0.0"
    assert "not healthy within" in last["reason"] and "(after: " in last["reason"]
    assert rig.serving() is None  # what the check saw: nothing answers
    # Said in the van's status (the fleet screen's update.last) until a version is healthy again, whatever is noted
    # meanwhile (a release refused before installing, say).
    from edge.update import install as install_mod
    from edge.update.incoming import Incoming

    install_mod.Updater(install_mod.Layout(rig.software, rig.state)).note("refused-release", "N9", "update-untrusted")
    status = Incoming(tmp_path / "staging", state_file=rig.state / "state.json").status()
    assert status["update.last"].startswith("rolled-back-unhealthy 1.0.0: ")
    # Checked while still broken: said again, nothing cleared.
    done = rig.run("check", *rig.options())
    assert done.returncode == 1 and "not healthy" in done.stderr and rig.status()["attention"]
    # The technician gets the units working again and checks: the van no longer asks for one.
    from tests.update import vanproc

    vanproc.start(rig.software, rig.port)
    assert _wait_serving(rig, "1.0.0")
    done = rig.run("check", *rig.options())
    assert done.returncode == 0, done.stderr
    assert rig.status()["attention"] is None
    status = Incoming(tmp_path / "staging", state_file=rig.state / "state.json").status()
    assert status["update.last"].startswith("healthy 1.0.0")


def test_a_rollback_finished_at_boot_says_it_was_not_checked(tmp_path, keys, rig):
    _rolled_back_at_boot(tmp_path, keys, rig)


def _rolled_back_at_boot(tmp_path, keys, rig):
    # A power cut while the version gone back to was being checked: recover, at boot, runs before the van's units
    # (no health URL, nothing to ask), puts it back and says it could only check that its edge --version answers.
    import json

    signed_release(tmp_path / "n", "1.0.0", keys)
    assert rig.apply(tmp_path / "n").returncode == 0
    signed_release(tmp_path / "n1", "1.1.0", keys)
    assert rig.apply(tmp_path / "n1").returncode == 0
    st = rig.status()
    state_file = rig.state / "state.json"
    saved = json.loads(state_file.read_text())
    saved.update(phase="rolling-back", candidate=st["current"], previous=st["previous"])
    saved["refused"][st["current"]] = "the web process did not answer"
    state_file.write_text(json.dumps(saved))
    options = [o for o in rig.options() if not o.startswith("--health-url") and "/api/health" not in o]
    done = rig.run("recover", *options)
    assert done.returncode == 0, done.stderr
    last = rig.status()["history"][-1]
    assert (last["event"], last["version"]) == ("rolled-back-unchecked", "1.0.0")
    assert rig.status()["pointed_version"] == "1.0.0" and rig.status()["unchecked"] == st["previous"]


def test_a_rollback_finished_at_boot_is_checked_once_the_units_run(tmp_path, keys, rig):
    from tests.update import vanproc

    _rolled_back_at_boot(tmp_path, keys, rig)
    vanproc.start(rig.software, rig.port)  # the units start 1.0.0; then edge-update-check.service
    done = rig.run("settle", *rig.options())
    assert done.returncode == 0, (done.stdout, done.stderr)
    st = rig.status()
    assert st["unchecked"] is None and st["attention"] is None
    assert (st["history"][-1]["event"], st["history"][-1]["version"]) == ("healthy", "1.0.0")


def test_a_rollback_finished_at_boot_that_does_not_come_up_says_the_van_needs_a_technician(tmp_path, keys, rig):
    _rolled_back_at_boot(tmp_path, keys, rig)
    rig.stop()  # its units start nothing (a disk gone read-only, say)
    done = rig.run("settle", *rig.options())
    assert done.returncode == 4, (done.stdout, done.stderr)
    assert "تحتاج العربة إلى فني" in done.stderr
    st = rig.status()
    assert st["attention"].startswith("rolled-back-unhealthy 1.0.0: ") and st["unchecked"] is None
    assert st["history"][-1]["event"] == "rolled-back-unhealthy"


def test_a_van_whose_printer_is_out_of_paper_and_outbox_stuck_still_takes_an_update(tmp_path, keys, rig):
    # /api/health answers 503 for a printer in fault or records waiting on a link that is down: the van's
    # surroundings, which the old version reports just the same. The new version is held to them (the baseline, read
    # from the 503 too), not refused for them — nor is the version a rollback goes back to.
    import json

    signed_release(tmp_path / "n", "1.0.0", keys)
    assert rig.apply(tmp_path / "n").returncode == 0 and _wait_serving(rig, "1.0.0")
    (rig.software / "surroundings.json").write_text(json.dumps({"printer": "error", "outbox_stuck": True}))
    signed_release(tmp_path / "n1", "1.1.0", keys)
    done = rig.apply(tmp_path / "n1")
    assert done.returncode == 0, (done.stdout, done.stderr)
    st = rig.status()
    assert st["pointed_version"] == "1.1.0" and st["history"][-1]["event"] == "healthy" and not st["refused"]
    assert st["baseline"]["devices"]["printer"] == "error"
    # A version that breaks what the 503 says (its database) is refused, and the one gone back to is fine as it was.
    signed_release(tmp_path / "n2", "1.2.0", keys, mode="no-database")
    done = rig.apply(tmp_path / "n2")
    assert done.returncode == 3, (done.stdout, done.stderr)
    st = rig.status()
    [(_, reason)] = st["refused"].items()
    assert "HTTP 503" in reason and "database cannot be read" in reason, reason
    assert st["pointed_version"] == "1.1.0" and st["attention"] is None and st["history"][-1]["event"] == "rolled-back"


def test_which_health_answers_a_new_version_passes():
    import json

    from edge.update.install import judge

    def answer(status, reasons=(), version="2.0", **more):
        return status, json.dumps({"version": version, "reasons": [{"check": c, "message": c} for c in reasons],
                                   **more}).encode()

    assert judge("2.0", *answer(200), None) is None
    assert judge("2.0", *answer(503, ["printer", "outbox"]), None) is None
    assert judge("2.0", *answer(503, ["database"]), None) == "HTTP 503, version 2.0: database"
    assert judge("2.0", *answer(503, ["printer", "something-new"]), None).startswith("HTTP 503")
    assert judge("2.0", *answer(503), None) == "HTTP 503, version 2.0"  # unhealthy, and not saying why
    assert judge("2.0", 503, b"<html>busy</html>", None) == "HTTP 503"
    assert judge("2.0", *answer(200, version="1.0"), None) == "HTTP 200, version 1.0"
    assert judge("2.0", *answer(503, ["printer"], version="1.0"), None) == "HTTP 503, version 1.0"
    assert judge("2.0", 500, b"", None) == "HTTP 500"
    before = {"sync_connected": False, "devices": {"printer": "ok"}}
    assert judge("2.0", *answer(503, ["printer"], devices={"printer": "error"}), before) == \
        "device printer is in fault (it was ok before the switch)"


def _cut_during_the_check(tmp_path, keys, rig, mode):
    """1.0.0 runs; 1.1.0 (``mode``) is switched to and the power goes right after the switch, before its check;
    the van boots: recover as edge-update-recover.service runs it (before the units: no health URL, nothing to
    restart), then the units start."""
    signed_release(tmp_path / "n", "1.0.0", keys)
    assert rig.apply(tmp_path / "n").returncode == 0 and _wait_serving(rig, "1.0.0")
    signed_release(tmp_path / "n1", "1.1.0", keys, mode=mode)
    done = rig.apply(tmp_path / "n1", restart="sh -c 'kill -9 $PPID'")
    assert done.returncode == -9, (done.stdout, done.stderr)
    rig.stop()
    boot = [o for o in rig.options() if o not in ("--health-url", "--restart-command")
            and not o.startswith("http://") and "vanproc" not in o]
    done = rig.run("recover", *boot)
    assert done.returncode == 0, done.stderr
    st = rig.status()
    assert (st["phase"], st["pointed_version"]) == ("checking", "1.1.0")
    assert st["history"][-1]["event"] == "check-after-start"
    from tests.update import vanproc

    vanproc.start(rig.software, rig.port)


@pytest.mark.parametrize(("mode", "why"), [("unhealthy", "not healthy within"),
                                           ("no-database", "database cannot be read")])
def test_a_new_version_a_power_cut_caught_being_checked_is_checked_once_the_units_run(tmp_path, keys, rig, mode, why):
    # Before, recover accepted it on its `edge --version` alone: a version whose web process dies (or that cannot read
    # its database) stayed on the van for good. Now settle (edge-update-check.service) decides it.
    _cut_during_the_check(tmp_path, keys, rig, mode)
    done = rig.run("settle", *rig.options())
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "went back to its previous version" in done.stderr and "أُعيدت العربة إلى إصدارها السابق" in done.stderr
    st = rig.status()
    assert st["pointed_version"] == "1.0.0" and st["phase"] == "idle" and _wait_serving(rig, "1.0.0")
    assert [h["event"] for h in st["history"][-3:]] == ["check-after-start", "rollback", "rolled-back"]
    [(_, reason)] = st["refused"].items()
    assert why in reason, reason
    # Nothing is left to decide: the next start does nothing more.
    done = rig.run("settle", *rig.options())
    assert done.returncode == 0 and "no update left undecided" in done.stdout


def test_a_version_a_power_cut_caught_being_checked_is_not_held_to_devices_the_cut_restarted(tmp_path, keys, rig):
    # The printer is still off after the cut (it was ok before the switch): not the new version's doing.
    import json

    _cut_during_the_check(tmp_path, keys, rig, "healthy")
    (rig.software / "surroundings.json").write_text(json.dumps({"printer": "error"}))
    done = rig.run("settle", *rig.options())
    assert done.returncode == 0, (done.stdout, done.stderr)
    st = rig.status()
    assert (st["phase"], st["pointed_version"], st["candidate"]) == ("idle", "1.1.0", None)
    assert st["history"][-1]["event"] == "healthy" and not st["refused"]


def test_a_version_a_power_cut_caught_being_checked_must_connect_within_the_grace(tmp_path, keys, rig):
    # The link was up before the switch, and a release is only ever fixed over it: a version that never connects is
    # rolled back — after --link-grace, since the modem may take minutes to attach after a power cut.
    import json

    _cut_during_the_check(tmp_path, keys, rig, "no-sync")
    assert json.loads((rig.state / "state.json").read_text())["baseline"]["sync_connected"] is True
    done = rig.run("settle", *rig.options(), "--link-grace", "2")
    assert done.returncode == 3, (done.stdout, done.stderr)
    st = rig.status()
    assert st["pointed_version"] == "1.0.0" and _wait_serving(rig, "1.0.0")
    [(_, reason)] = st["refused"].items()
    assert "sync is not connected to the governorate within 2 s after the start" in reason, reason


def test_a_version_whose_link_comes_back_within_the_grace_is_kept(tmp_path, keys, rig):
    import json
    import subprocess
    import sys

    from tests.support.paths import ROOT

    _cut_during_the_check(tmp_path, keys, rig, "healthy")
    around = rig.software / "surroundings.json"
    around.write_text(json.dumps({"link": False}))  # the modem attaches a while after the start
    settle = subprocess.Popen([sys.executable, "-m", "edge.update", "settle", *rig.options(), "--link-grace", "60"],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3)
        assert settle.poll() is None  # still waiting for the link
        around.write_text(json.dumps({"link": True}))
        out, err = settle.communicate(timeout=60)
    finally:
        settle.kill()
    assert settle.returncode == 0, (out, err)
    st = rig.status()
    assert (st["pointed_version"], st["phase"]) == ("1.1.0", "idle") and st["history"][-1]["event"] == "healthy"


def test_the_technicians_check_leaves_an_undecided_update_to_settle(tmp_path, keys, rig):
    # Run by hand (no restart command), it must not roll back without restarting the units: it says what to run.
    _cut_during_the_check(tmp_path, keys, rig, "unhealthy")
    options = [o for o in rig.options() if "vanproc" not in o and o != "--restart-command"]
    done = rig.run("check", *options)
    assert done.returncode == 2 and "systemctl restart edge-update-check.service" in done.stderr, done.stderr
    assert rig.status()["phase"] == "checking" and rig.status()["pointed_version"] == "1.1.0"
    # settle needs what a decision needs; edge --version alone decides nothing.
    no_url = [o for o in rig.options() if o != "--health-url" and "/api/health" not in o]
    done = rig.run("settle", *no_url)
    assert done.returncode == 2 and "--health-url" in done.stderr
    done = rig.run("check", *no_url)
    assert done.returncode == 2 and "--health-url" in done.stderr
    assert rig.status()["phase"] == "checking"


def test_settle_started_by_an_updates_own_restart_leaves_it_alone(tmp_path, keys, rig):
    # A van whose previous version had no edge-update-check.service: the restart of edge.target the update makes
    # starts it while the update holds the lock. It says so and ends well (no failed unit), deciding nothing.
    from edge.update import install as install_mod

    _cut_during_the_check(tmp_path, keys, rig, "unhealthy")
    with install_mod.Updater(install_mod.Layout(rig.software, rig.state)):
        done = rig.run("settle", *rig.options())
    assert done.returncode == 0 and "an update is running" in done.stdout, (done.stdout, done.stderr)
    assert rig.status()["phase"] == "checking"  # left for the update (or the next start) to decide


def test_a_refused_release_is_installed_again_only_by_hand(tmp_path, keys, rig):
    # A good release refused for something that was not its fault (here: its restart did not happen) is not tried
    # again over the air; a technician installing it on the van (provision van install --release) tries it again.
    from edge.update import install as install_mod
    from edge.update import verify as verify_mod
    from tests.update import vanproc

    signed_release(tmp_path / "n", "1.0.0", keys)
    assert rig.apply(tmp_path / "n").returncode == 0 and _wait_serving(rig, "1.0.0")
    signed_release(tmp_path / "n1", "1.1.0", keys)
    assert rig.apply(tmp_path / "n1", restart="true").returncode == 3
    assert rig.apply(tmp_path / "n1").returncode == 1  # refused: not installed again by itself
    verified = verify_mod.verify(tmp_path / "n1", anchor=rig.anchor, trusted_dir=rig.state / "trusted",
                                 dest=tmp_path / "verified")
    updater = install_mod.Updater(install_mod.Layout(rig.software, rig.state, rig.units), seed_pip=False,
                                  health=install_mod.Health(deadline_s=rig.deadline,
                                                            url=f"http://127.0.0.1:{rig.port}/api/health"),
                                  restart=lambda: vanproc.start(rig.software, rig.port))
    with updater:
        assert updater.switch(updater.install(verified, again=True))
    st = rig.status()
    assert st["pointed_version"] == "1.1.0" and not st["refused"] and _wait_serving(rig, "1.1.0")
    assert "refusal-cleared" in [h["event"] for h in st["history"]]


# -- a link that drops by itself during a check: deferred, tried again once it is back ---------------------------

def _link_drops(rig) -> str:
    """A restart command: the units restart and the link drops with it (a tunnel, a cell's edge, the modem attaching
    again), for whichever version starts — the new one and the one a rollback goes back to alike."""
    import sys

    script = rig.base / "restart-link-drops"
    script.write_text(f"#!/bin/sh\nprintf '{{\"link\": false}}' > {rig.software / 'surroundings.json'}\n"
                      f"exec {sys.executable} -m tests.update.vanproc {rig.software} {rig.port}\n")
    script.chmod(0o755)
    return str(script)


def _link_back(rig) -> None:
    (rig.software / "surroundings.json").write_text('{"link": true}')


def _reported(rig, tmp_path) -> dict:
    from edge.update.incoming import Incoming

    return Incoming(tmp_path / "staging", state_file=rig.state / "state.json").status()


def _deferred_once(tmp_path, keys, rig) -> str:
    """1.0.0 runs, connected; 1.1.0 (good) is switched to and the link drops right then, for the rest of its check and
    for 1.0.0 after the rollback: deferred, not refused. Its id."""
    signed_release(tmp_path / "n", "1.0.0", keys)
    assert rig.apply(tmp_path / "n").returncode == 0 and _wait_serving(rig, "1.0.0")
    signed_release(tmp_path / "n1", "1.1.0", keys)
    done = rig.apply(tmp_path / "n1", restart=_link_drops(rig))
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "deferred, not refused" in done.stderr and "مؤجل وليس مرفوضًا" in done.stderr
    st = rig.status()
    assert st["pointed_version"] == "1.0.0" and st["phase"] == "idle" and not st["refused"] and not st["attention"]
    [(new, entry)] = st["deferred"].items()
    assert entry["version"] == "1.1.0" and entry["attempts"] == 1, entry
    assert "sync is not connected to the governorate" in entry["reason"], entry
    assert [h["event"] for h in st["history"][-4:]] == ["switch", "rollback", "rolled-back", "deferred"]
    assert "1.0.0 did not connect within 4 s either" in st["history"][-1]["reason"]
    return new


def test_a_link_that_drops_during_the_check_defers_a_good_release_until_it_is_back(tmp_path, keys, rig):
    new = _deferred_once(tmp_path, keys, rig)
    status = _reported(rig, tmp_path)
    assert status["update.deferred"] == new and status["update.refused"] is None
    # Its folder stays through the next start (recover prunes what is beyond current and previous).
    assert rig.recover().returncode == 0
    assert (rig.software / "versions" / new / "installed.json").exists() and rig.status()["pointed_version"] == "1.0.0"
    # The timer's turn while the link is still down: nothing is tried.
    done = rig.run("retry", *rig.options())
    assert done.returncode == 0 and "the link is still down" in done.stdout, (done.stdout, done.stderr)
    st = rig.status()
    assert st["pointed_version"] == "1.0.0" and new in st["deferred"] and st["history"][-1]["event"] == "deferred"
    # The link is back: the next turn switches to it again (no download, no install), and it is kept.
    _link_back(rig)
    done = rig.run("retry", *rig.options())
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "runs now and is healthy" in done.stdout and "يعمل الآن بسلامة" in done.stdout
    st = rig.status()
    assert (st["pointed_version"], st["current"], st["deferred"], st["refused"]) == ("1.1.0", new, {}, {})
    assert [h["event"] for h in st["history"][-2:]] == ["switch", "healthy"] and _wait_serving(rig, "1.1.0")
    assert "install" not in [h["event"] for h in st["history"][-3:]]
    assert _reported(rig, tmp_path)["update.deferred"] is None
    done = rig.run("retry", *rig.options())
    assert done.returncode == 0 and "no release deferred" in done.stdout


def test_a_version_that_breaks_the_link_is_refused_when_the_one_gone_back_to_connects(tmp_path, keys, rig):
    # The link works (1.0.0 connects again after the rollback, within the same time): the new version could not use
    # it. Refused as before, and said so.
    signed_release(tmp_path / "n", "1.0.0", keys)
    assert rig.apply(tmp_path / "n").returncode == 0 and _wait_serving(rig, "1.0.0")
    signed_release(tmp_path / "n1", "1.1.0", keys, mode="no-sync")
    done = rig.apply(tmp_path / "n1")
    assert done.returncode == 3 and "deferred" not in done.stderr, (done.stdout, done.stderr)
    st = rig.status()
    assert st["pointed_version"] == "1.0.0" and st["deferred"] == {}
    [(bad, reason)] = st["refused"].items()
    assert "sync is not connected" in reason and "1.0.0 connected within 4 s after the rollback" in reason, reason
    assert st["history"][-1]["event"] == "link-works"
    status = _reported(rig, tmp_path)
    assert status["update.refused"] == bad and status["update.deferred"] is None


def test_a_release_whose_check_loses_the_link_three_times_is_refused(tmp_path, keys, rig):
    new = _deferred_once(tmp_path, keys, rig)
    _link_back(rig)
    done = rig.run("retry", *rig.options(_link_drops(rig)))  # the link drops again during the retry's check
    assert done.returncode == 3 and "deferred, not refused" in done.stderr, (done.stdout, done.stderr)
    st = rig.status()
    assert st["deferred"][new]["attempts"] == 2 and not st["refused"] and st["pointed_version"] == "1.0.0"
    _link_back(rig)
    done = rig.run("retry", *rig.options(_link_drops(rig)))
    assert done.returncode == 3 and "refused for good" in done.stderr and "رُفض الإصدار" in done.stderr, done.stderr
    st = rig.status()
    assert st["deferred"] == {} and st["pointed_version"] == "1.0.0" and _wait_serving(rig, "1.0.0")
    assert "3 checks of 1.1.0 lost it: refused after 3" in st["refused"][new], st["refused"]
    assert st["history"][-1]["event"] == "deferred-refused"
    status = _reported(rig, tmp_path)
    assert status["update.refused"] == new and status["update.deferred"] is None
    _link_back(rig)
    done = rig.run("retry", *rig.options())
    assert done.returncode == 0 and "no release deferred" in done.stdout and rig.status()["pointed_version"] == "1.0.0"


def test_retry_with_nothing_deferred_touches_nothing(tmp_path, keys, rig):
    # It runs every 10 minutes on every van: nothing deferred (or no update state at all) → exit 0 at once.
    marker = rig.base / "restarted"
    restart = f"touch {marker}"
    done = rig.run("retry", *rig.options(restart))
    assert done.returncode == 0 and "no release deferred" in done.stdout, (done.stdout, done.stderr)
    assert not rig.state.exists() and not marker.exists()
    signed_release(tmp_path / "n", "1.0.0", keys)
    assert rig.apply(tmp_path / "n").returncode == 0 and _wait_serving(rig, "1.0.0")
    before = (rig.state / "state.json").read_bytes()
    t0 = time.monotonic()
    done = rig.run("retry", *rig.options(restart))
    assert done.returncode == 0 and "no release deferred" in done.stdout
    assert time.monotonic() - t0 < 10 and not marker.exists() and (rig.state / "state.json").read_bytes() == before
    # settle's options are retry's: without a health URL or a restart it is a usage error, not a quiet success.
    no_url = [o for o in rig.options() if o != "--health-url" and "/api/health" not in o]
    assert rig.run("retry", *no_url).returncode == 2


def test_retry_while_the_link_is_still_down_tries_nothing(tmp_path, keys, rig):
    new = _deferred_once(tmp_path, keys, rig)
    marker = rig.base / "restarted"
    before = (rig.state / "state.json").read_bytes()
    done = rig.run("retry", *rig.options(f"touch {marker}"))
    assert done.returncode == 0 and "the link is still down" in done.stdout, (done.stdout, done.stderr)
    assert not marker.exists() and (rig.state / "state.json").read_bytes() == before
    assert rig.status()["pointed_version"] == "1.0.0" and new in rig.status()["deferred"]


def test_a_new_release_while_one_is_deferred_replaces_it(tmp_path, keys, rig):
    # The hub's newest offer is the one that counts: the deferred release is forgotten (and its folder goes).
    new = _deferred_once(tmp_path, keys, rig)
    _link_back(rig)
    signed_release(tmp_path / "n2", "1.2.0", keys)
    done = rig.apply(tmp_path / "n2")
    assert done.returncode == 0, (done.stdout, done.stderr)
    st = rig.status()
    assert st["pointed_version"] == "1.2.0" and st["deferred"] == {} and not st["refused"]
    dropped = [h for h in st["history"] if h["event"] == "deferred-dropped"]
    assert [(h["version"], h["reason"]) for h in dropped] == [("1.1.0", "1.2.0 was switched to after it")]
    assert not (rig.software / "versions" / new).exists()
    done = rig.run("retry", *rig.options())
    assert done.returncode == 0 and "no release deferred" in done.stdout and rig.status()["pointed_version"] == "1.2.0"


def test_a_power_cut_during_the_check_then_no_signal_for_longer_than_the_grace_defers_the_release(tmp_path, keys, rig):
    # Before, the price of holding a version a cut caught being checked to the link: a van out of signal for longer
    # than the grace refused a good release. Now the version gone back to is given the same grace: it does not
    # connect either, so the link is to blame.
    _cut_during_the_check(tmp_path, keys, rig, "healthy")
    (rig.software / "surroundings.json").write_text('{"link": false}')
    done = rig.run("settle", *rig.options(), "--link-grace", "2")
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "deferred, not refused" in done.stderr and "مؤجل وليس مرفوضًا" in done.stderr
    st = rig.status()
    assert st["pointed_version"] == "1.0.0" and st["phase"] == "idle" and not st["refused"]
    [(new, entry)] = st["deferred"].items()
    assert entry["attempts"] == 1 and "within 2 s after the start" in entry["reason"], entry
    assert "1.0.0 did not connect within 2 s either" in st["history"][-1]["reason"]
    assert (rig.software / "versions" / new / "installed.json").exists()
    assert _reported(rig, tmp_path)["update.deferred"] == new and _reported(rig, tmp_path)["update.refused"] is None
    _link_back(rig)
    done = rig.run("retry", *rig.options())
    assert done.returncode == 0, (done.stdout, done.stderr)
    st = rig.status()
    assert (st["pointed_version"], st["deferred"]) == ("1.1.0", {}) and st["history"][-1]["event"] == "healthy"


def test_a_retry_killed_during_its_check_leaves_the_deferred_entry_for_settle(tmp_path, keys, rig):
    # Review of 2026-12-06: a retry whose unit was stopped (or timed out) during its check, with no reboot, leaves
    # the deferred version pointed at and `checking`. The next turn of the timer dropped its entry ("it runs") and
    # with it the count of checks that lost the link; settle then deferred it as a first loss.
    new = _deferred_once(tmp_path, keys, rig)
    state_file = rig.state / "state.json"
    st = json.loads(state_file.read_text())
    st.update(phase="checking", candidate=new, previous=st["current"])
    state_file.write_text(json.dumps(st))
    pointer = rig.software / "current"
    tmp = rig.software / ".current.new"
    os.symlink(f"versions/{new}", tmp)
    os.replace(tmp, pointer)
    _link_back(rig)
    done = rig.run("retry", *rig.options())
    assert done.returncode == 0 and "undecided" in done.stdout, (done.stdout, done.stderr)
    after = rig.status()
    assert after["deferred"][new]["attempts"] == 1 and after["phase"] == "checking", after


def test_a_link_lost_going_back_to_a_version_that_cannot_retry_refuses_as_before(tmp_path, keys, rig):
    # Review of 2026-12-06: the first release with the deferral, deferred by its own settle or check back to a
    # version from before it, would never be tried again (that version has no retry, no timer, and prunes the
    # folder), and the hub's wave would wait for the van for good. Refused then, as before the deferral.
    signed_release(tmp_path / "n", "1.0.0", keys)
    assert rig.apply(tmp_path / "n").returncode == 0 and _wait_serving(rig, "1.0.0")
    old = rig.status()["current"]
    updater = rig.software / "versions" / old / "venv" / "lib" / "python3.11" / "site-packages" / "edge" / "update"
    updater.mkdir(parents=True)
    (updater / "__main__.py").write_text("def apply_ready():\n    pass\ndef settle():\n    pass\n")
    signed_release(tmp_path / "n1", "1.1.0", keys)
    done = rig.apply(tmp_path / "n1", restart=_link_drops(rig))
    assert done.returncode == 3 and "deferred, not refused" not in done.stderr, (done.stdout, done.stderr)
    st = rig.status()
    assert st["pointed_version"] == "1.0.0" and st["deferred"] == {} and len(st["refused"]) == 1, st
    reason = next(iter(st["refused"].values()))
    assert "sync is not connected" in reason and "not deferred: 1.0.0 cannot try it again" in reason, reason


# -- the governorate's word: retry asks the hub first, and a word naming another release cancels the deferred one --

def _link_back_since(rig, seconds_ago: float) -> str:
    """The link is back since ``seconds_ago`` (the running version's health answer says when, as the real one does)."""
    from datetime import UTC, datetime, timedelta

    since = (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()
    (rig.software / "surroundings.json").write_text(json.dumps({"link": True, "since": since}))
    return since


def _word(rig, release: str | None) -> None:
    """What the sync agent does with the hub's update-target downlink."""
    from datetime import UTC, datetime

    from edge.update.incoming import Incoming

    staging = rig.data / "update" / "staging"
    Incoming(staging).target(release, datetime.now(UTC).isoformat(), "01ARZ3NDEKTSV4RRFFQ69G5FAV")


def test_retry_asks_the_hub_first_once_the_link_is_back_and_goes_on_without_it_after_a_while(tmp_path, keys, rig):
    # docs/updates.md, "The cancel usually came late": retry waited only for the link, so a van back from an outage
    # tried its deferred release before the hub's cancel could arrive. Now it waits for a word heard since the link
    # came back — for at most --word-wait: a hub that says nothing delays it, never for good.
    new = _deferred_once(tmp_path, keys, rig)
    _word(rig, new)  # a word heard before the link came back (the last outage's): not the hub's current one
    time.sleep(0.05)
    _link_back_since(rig, 0)
    marker = rig.base / "restarted"
    before = (rig.state / "state.json").read_bytes()
    done = rig.run("retry", *rig.options(f"touch {marker}"))
    assert done.returncode == 0 and "asking the governorate first" in done.stdout, (done.stdout, done.stderr)
    assert not marker.exists() and (rig.state / "state.json").read_bytes() == before
    # The hub stays silent (down, or too old to speak): once --word-wait has passed since the link came back, the
    # deferred release is tried without its word, as before.
    _link_back_since(rig, 30)
    done = rig.run("retry", *rig.options(), "--word-wait", "20")
    assert done.returncode == 0 and "runs now and is healthy" in done.stdout, (done.stdout, done.stderr)
    assert (rig.status()["pointed_version"], rig.status()["deferred"]) == ("1.1.0", {})


def test_a_word_naming_the_deferred_release_lets_retry_try_it_at_once(tmp_path, keys, rig):
    new = _deferred_once(tmp_path, keys, rig)
    _link_back_since(rig, 0)
    time.sleep(0.05)
    _word(rig, new)
    done = rig.run("retry", *rig.options())
    assert done.returncode == 0 and "runs now and is healthy" in done.stdout, (done.stdout, done.stderr)
    assert (rig.status()["pointed_version"], rig.status()["deferred"]) == ("1.1.0", {})


def test_a_word_naming_another_release_cancels_the_deferred_one(tmp_path, keys, rig):
    # Staff rolled the fleet back (or pinned the van, or withdrew its offer) while it was away: the hub's word names
    # the release it runs. The deferred release is dropped, never switched to.
    new = _deferred_once(tmp_path, keys, rig)
    running = rig.status()["current"]
    _link_back_since(rig, 0)
    time.sleep(0.05)
    _word(rig, running)
    marker = rig.base / "restarted"
    done = rig.run("retry", *rig.options(f"touch {marker}"))
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "cancelled" in done.stdout and "أُلغي الإصدار المؤجل" in done.stdout and running in done.stdout
    assert not marker.exists()
    st = rig.status()
    assert (st["pointed_version"], st["deferred"], st["refused"]) == ("1.0.0", {}, {})
    assert st["history"][-1]["event"] == "deferred-cancelled" and st["history"][-1]["version"] == "1.1.0"
    status = _reported(rig, tmp_path)
    assert status["update.deferred"] is None and status["update.refused"] is None
    done = rig.run("retry", *rig.options())
    assert done.returncode == 0 and "no release deferred" in done.stdout
    assert new not in rig.status()["deferred"]


def test_a_word_the_van_cannot_read_is_no_word(tmp_path, keys, rig):
    # The word is written by the sync agent (user edge): root reads it as it reads READY — a link, a FIFO, junk,
    # a huge file are no word (retry waits for a real one), never followed, never a crash.
    _deferred_once(tmp_path, keys, rig)
    since = _link_back_since(rig, 0)
    staging = rig.data / "update" / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    target = staging / "TARGET"
    elsewhere = rig.base / "word.json"
    elsewhere.write_text(json.dumps({"release": "0123456789abcdef", "heard": since, "at": since}))
    for plant in ("link", "fifo", "junk", "huge", "path", "naive"):
        if target.exists() or target.is_symlink():
            target.unlink()
        if plant == "link":
            target.symlink_to(elsewhere)
        elif plant == "fifo":
            os.mkfifo(target)
        elif plant == "junk":
            target.write_bytes(b"\xff{not json")
        elif plant == "huge":
            target.write_text(json.dumps({"release": "0123456789abcdef", "heard": since, "pad": "x" * 5000}))
        elif plant == "path":
            target.write_text(json.dumps({"release": "../../etc", "heard": since}))
        else:
            target.write_text(json.dumps({"release": "0123456789abcdef", "heard": since[:19]}))
        done = rig.run("retry", *rig.options(), timeout=60)
        assert done.returncode == 0 and "asking the governorate first" in done.stdout, (plant, done.stdout,
                                                                                        done.stderr)
        assert rig.status()["pointed_version"] == "1.0.0" and rig.status()["deferred"], plant


def test_a_link_back_since_a_time_ahead_of_the_clock_is_not_waited_on_for_good(tmp_path, keys, rig):
    # The van's clock set back after the link came back (a wrong clock put right): "since" is ahead of now, and a wait
    # measured from it would never end. It is taken as unknown: no wait, the release is tried as before.
    _deferred_once(tmp_path, keys, rig)
    _link_back_since(rig, -3600)
    done = rig.run("retry", *rig.options())
    assert done.returncode == 0 and "runs now and is healthy" in done.stdout, (done.stdout, done.stderr)


def test_a_step_of_the_wall_clock_after_the_link_came_back_does_not_end_the_wait(tmp_path, keys, rig):
    # docs/updates.md, "Steps of the van's wall clock": NTP puts a van's clock right when the LTE link comes back —
    # just when retry waits for the governorate's word. A step forward of an hour ended the wait at once (the
    # deferred release tried before the hub's cancel could come). The sync agent records the link's return on the
    # boot clock too (CLOCK_BOOTTIME, this boot's id): retry measures the wait on it. Another boot's reading (the
    # record outlived a restart) is measured from this boot's start (review of camclock, M1: it fell back to the
    # wall clock, "back for an hour", and the release was switched to without the word).
    from edge.store.clock import boot_clock

    _deferred_once(tmp_path, keys, rig)
    boot, now_s = boot_clock()
    around = rig.software / "surroundings.json"
    stepped = (datetime.now(UTC) - timedelta(hours=1)).isoformat()  # recorded before the clock's step forward
    around.write_text(json.dumps({"link": True, "since": stepped, "boot": boot, "since_boot_s": now_s - 1}))
    done = rig.run("retry", *rig.options())
    assert done.returncode == 0 and "asking the governorate first" in done.stdout, (done.stdout, done.stderr)
    assert rig.status()["pointed_version"] == "1.0.0" and rig.status()["deferred"]
    other = "7d41a2c0-1111-4222-8333-944455556666"  # tests/update/test_link_clock.py: the rest of the rule
    around.write_text(json.dumps({"link": True, "since": stepped, "boot": other, "since_boot_s": now_s - 1}))
    done = rig.run("retry", *rig.options(), "--word-wait", f"{now_s + 3600:.0f}")
    assert done.returncode == 0 and "from before this boot" in done.stdout, (done.stdout, done.stderr)
    assert rig.status()["pointed_version"] == "1.0.0" and rig.status()["deferred"]
    # the wait ends --word-wait after this boot's start, though this boot's agent never writes its record
    done = rig.run("retry", *rig.options(), "--word-wait", f"{max(now_s - 60, 0):.0f}")
    assert done.returncode == 0 and "runs now and is healthy" in done.stdout, (done.stdout, done.stderr)


def test_a_cancel_held_from_before_the_link_came_back_is_honoured_after_the_wait(tmp_path, keys, rig):
    # Review of the cancel (M1): a word naming another release, heard while the release was deferred but before the
    # link's latest return (a flapping link, a hub down this session), was overridden by silence: once the wait for
    # a fresh word ran out, retry switched to the cancelled release. Silence is no newer news: the cancel holds.
    _deferred_once(tmp_path, keys, rig)
    running = rig.status()["current"]
    staging = rig.data / "update" / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    time.sleep(1.5)  # heard after the deferral (its time is to the second), then the link dropped and came back
    heard = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    (staging / "TARGET").write_text(json.dumps({"release": running, "at": heard, "msg_id": "x", "heard": heard}))
    _link_back_since(rig, 0.5)
    done = rig.run("retry", *rig.options(), "--word-wait", "0")
    assert rig.status()["pointed_version"] == "1.0.0", done.stdout
    assert "cancelled" in done.stdout + done.stderr or not rig.status().get("deferred"), done.stdout


def test_a_word_held_from_before_the_deferral_does_not_cancel_it(tmp_path, keys, rig):
    # The other side of the rule above: a word heard before the release was deferred was not said about it.
    staging = rig.data / "update" / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    heard = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    _deferred_once(tmp_path, keys, rig)
    running = rig.status()["current"]
    (staging / "TARGET").write_text(json.dumps({"release": running, "at": heard, "msg_id": "x", "heard": heard}))
    _link_back_since(rig, 0.5)
    rig.run("retry", *rig.options(), "--word-wait", "0")
    assert rig.status()["pointed_version"] == "1.1.0"

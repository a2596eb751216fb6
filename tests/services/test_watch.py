"""The watch process: simulated cameras, GPS and modem → device_status rows an operator can read."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from edge.devices.cctv import CctvTuning
from edge.devices.cctv import sim as cctv_sim
from edge.devices.gps import sim as gps_sim
from edge.devices.modem import sim as modem_sim
from edge.services.watch import Watch, WatchTuning
from edge.store import device_status

FAST = WatchTuning(
    cctv=CctvTuning(sample_every_s=0.1, alarm_after=2, clear_after=2, offline_after_s=1.0, frozen_after_s=1.0,
                    reference_samples=3),
    gps_every_s=0.1, gps_silent_after_s=1.0, modem_every_s=0.1, heartbeat_s=60, thumbnail_every_s=0.1,
)


@pytest.fixture(autouse=True)
def fresh_twins():
    cctv_sim.TWINS.reset()
    gps_sim.TWINS.reset()
    yield
    cctv_sim.TWINS.reset()
    gps_sim.TWINS.reset()


def _rows(db) -> dict:
    return {s.device: s for s in device_status.current(db)}


def _tick_until(watch: Watch, predicate, ticks: int = 60):
    for _ in range(ticks):
        watch.tick()
        rows = _rows(watch.db)
        if predicate(rows):
            return rows
        time.sleep(FAST.cctv.sample_every_s)
    raise AssertionError(f"not reached in {ticks} ticks: {rows}")


def test_operator_reads_that_the_front_camera_is_covered_in_arabic_and_english(db, tmp_path):
    watch = Watch(db, {"front": "sim://watch-front"}, None, None, FAST, thumbs_dir=tmp_path / "cctv")
    try:
        rows = _tick_until(watch, lambda r: "camera:front" in r and r["camera:front"].state == "ok"
                           and not r["camera:front"].detail["learning"])
        assert rows["camera:front"].message_en == "The front camera is working"
        cctv_sim.device("watch-front").set_fault("covered")
        rows = _tick_until(watch, lambda r: r["camera:front"].state == "error")
    finally:
        watch.close()
    front = rows["camera:front"]
    assert front.kind == "camera" and front.state == "error"
    assert front.message_ar == "الكاميرا الأمامية مغطاة أو مظلمة"
    assert front.message_en == "The front camera is covered or dark"
    assert front.detail["fault"] == "dark" and front.detail["tel"]["fault"] == "dark"
    events = [r[0] for r in db.execute("SELECT state FROM device_events WHERE device = 'camera:front' ORDER BY id")]
    assert events[-2:] == ["ok", "error"]
    assert (tmp_path / "cctv" / "front.jpg").read_bytes()[:2] == b"\xff\xd8"


def test_a_camera_with_a_password_in_its_url_never_shows_it_in_status(db):
    watch = Watch(db, {"rear": "sim://admin:secret@watch-rear"}, None, None, FAST)
    try:
        rows = _tick_until(watch, lambda r: "camera:rear" in r)
    finally:
        watch.close()
    assert "secret" not in str(rows["camera:rear"].detail)


def test_gps_fix_and_position_reach_the_status_row(db):
    # A short heartbeat: the satellite count arrives a sentence after the first position.
    watch = Watch(db, {}, "sim://watch-gps", None, replace(FAST, heartbeat_s=0.2))
    try:
        rows = _tick_until(watch, lambda r: "gps" in r and r["gps"].state == "ok" and r["gps"].detail["satellites"])
        gps_sim.device("watch-gps").set_fault("no_fix")
        later = _tick_until(watch, lambda r: r["gps"].state == "warning")
    finally:
        watch.close()
    assert rows["gps"].detail["latitude"] == pytest.approx(30.0444, abs=0.01)
    assert rows["gps"].detail["satellites"] == 9
    assert later["gps"].message_en.startswith("GPS has no fix")
    assert later["gps"].detail["tel"]["lat"] == pytest.approx(30.0444, abs=0.01)  # the last good fix stays


def test_a_silent_gps_receiver_becomes_an_error(db):
    gps_sim.device("watch-silent").set_fault("silent")
    watch = Watch(db, {}, "sim://watch-silent", None, FAST)
    try:
        rows = _tick_until(watch, lambda r: "gps" in r and r["gps"].state == "error")
    finally:
        watch.close()
    assert rows["gps"].detail["fault"] == "silent"
    assert "لا يرسل بيانات" in rows["gps"].message_ar


def test_a_modem_that_loses_its_signal_is_reported_and_recovers(db):
    watch = Watch(db, {}, None, "sim://watch-modem", FAST)
    twin = modem_sim.device("watch-modem")
    try:
        rows = _tick_until(watch, lambda r: "modem" in r)
        assert rows["modem"].state == "ok" and "Vodafone EG" in rows["modem"].message_en
        twin.set_fault("no_signal")
        rows = _tick_until(watch, lambda r: r["modem"].state == "error")
        assert rows["modem"].message_en == "The modem has no signal"
        twin.set_fault(None)
        rows = _tick_until(watch, lambda r: r["modem"].state == "ok")
    finally:
        twin.set_fault(None)
        watch.close()
    assert rows["modem"].detail["tel"] == {"signal": 71, "tech": "lte", "operator": "Vodafone EG"}


def test_without_modemmanager_the_modem_row_says_unknown(db, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    watch = Watch(db, {}, None, "mmcli://", FAST)
    try:
        rows = _tick_until(watch, lambda r: "modem" in r)
    finally:
        watch.close()
    assert rows["modem"].state == "unknown"
    assert "ModemManager" in rows["modem"].message_en


def test_an_unchanged_state_is_not_rewritten_every_second(db):
    watch = Watch(db, {}, None, "sim://watch-quiet", FAST)
    try:
        _tick_until(watch, lambda r: "modem" in r)
        written = [watch.tick() for _ in range(5)]
    finally:
        watch.close()
    assert written == [[]] * 5
    assert db.execute("SELECT count(*) FROM device_events WHERE device = 'modem'").fetchone()[0] == 1


def test_the_van_runner_starts_the_watch_and_the_cli_has_a_watch_command():
    from click.testing import CliRunner

    from edge import runner
    from edge.cli import main
    from edge.config import Settings

    assert "watch" in [s.name for s in runner.services(Settings(), "127.0.0.1", 0)]
    result = CliRunner().invoke(main, ["watch", "--help"])
    assert result.exit_code == 0 and "camera" in result.output.lower()


def test_a_demo_van_can_start_with_a_covered_camera_and_a_weak_modem_from_its_settings(db):
    watch = Watch(db, {"rear": "sim://demo-rear?fault=covered"}, None, "sim://demo-modem?fault=weak", FAST)
    try:
        rows = _tick_until(watch, lambda r: "camera:rear" in r and r["camera:rear"].state == "error" and "modem" in r)
    finally:
        watch.close()
        modem_sim.device("demo-modem").set_fault(None)
    assert rows["camera:rear"].message_en == "The rear camera is covered or dark"
    assert rows["modem"].state == "warning" and rows["modem"].detail["fault"] == "weak_signal"


def test_a_camera_knocked_while_the_watch_was_down_is_still_reported_moved_until_the_view_is_accepted(db, tmp_path):
    from click.testing import CliRunner

    from edge.cli import main

    cctv_dir = tmp_path / "cctv"
    watch = Watch(db, {"front": "sim://knocked"}, None, None, FAST, thumbs_dir=cctv_dir)
    try:
        _tick_until(watch, lambda r: "camera:front" in r and not r["camera:front"].detail["learning"])
    finally:
        watch.close()
    assert (cctv_dir / "front.reference.npz").is_file()

    cctv_sim.device("knocked").set_fault("moved")  # bumped while the watch was stopped
    watch = Watch(db, {"front": "sim://knocked"}, None, None, FAST, thumbs_dir=cctv_dir)
    try:
        rows = _tick_until(watch, lambda r: r["camera:front"].detail["fault"] == "moved")
        assert rows["camera:front"].state == "warning"
        config = tmp_path / "van.toml"
        config.write_text(f'data_dir = "{tmp_path}"\n[devices.cameras]\nfront = "sim://knocked"\n')
        result = CliRunner().invoke(main, ["--config", str(config), "watch", "--accept-view", "front"])
        assert result.exit_code == 0, result.output
        rows = _tick_until(watch, lambda r: r["camera:front"].state == "ok"
                           and not r["camera:front"].detail["learning"])
        watch.tick()  # the sample after learning keeps the new reference
    finally:
        watch.close()
    assert rows["camera:front"].state == "ok"
    assert (cctv_dir / "front.reference.npz").is_file()  # the new view is kept in its turn


def test_telemetry_figures_leave_out_what_is_not_known(db):
    modem_sim.device("watch-lost").set_fault("absent")
    watch = Watch(db, {}, None, "sim://watch-lost", FAST)
    try:
        rows = _tick_until(watch, lambda r: "modem" in r)
    finally:
        modem_sim.device("watch-lost").set_fault(None)
        watch.close()
    assert rows["modem"].state == "error"
    assert rows["modem"].detail["tel"] == {}


def test_a_nearly_full_disk_sheds_thumbnails_and_history_first_and_says_so(db, tmp_path):
    # Issue 16: telemetry and thumbnails go before transactions. A real small tmpfs is filled in steps.
    from edge.services.watch import DiskWatch
    from edge.store import disk
    from tests.support.small_disk import fill, small_disk

    with small_disk(tmp_path / "disk", size_kb=8192) as root:
        space = DiskWatch(root, low=4 * disk.MB, reserve=2 * disk.MB)
        watch = Watch(db, {"front": "sim://shed-front"}, None, None, FAST, thumbs_dir=root / "cctv", space=space)
        try:
            rows = _tick_until(watch, lambda r: "camera:front" in r and (root / "cctv" / "front.jpg").exists())
            assert rows["disk"].state == "ok" and rows["disk"].detail["free_mb"] >= 7
            filler = fill(root, leave=3 * disk.MB)
            (root / "cctv" / "front.jpg").unlink()
            rows = _tick_until(watch, lambda r: r["disk"].state == "warning")
            assert "توشك أن تنفد" in rows["disk"].message_ar and "nearly full" in rows["disk"].message_en
            events_before = db.execute("SELECT count(*) FROM device_events").fetchone()[0]
            cctv_sim.device("shed-front").set_fault("covered")
            rows = _tick_until(watch, lambda r: r["camera:front"].state == "error")
            for _ in range(5):
                watch.tick()
                time.sleep(FAST.thumbnail_every_s)
            assert not (root / "cctv" / "front.jpg").exists()  # no thumbnail while the disk is low
            assert db.execute("SELECT count(*) FROM device_events").fetchone()[0] == events_before
            filler.unlink()
            fill(root, leave=disk.MB)
            rows = _tick_until(watch, lambda r: r["disk"].state == "error")
            assert rows["disk"].detail["fault"] == "full" and "ممتلئ" in rows["disk"].message_ar
        finally:
            watch.close()


def test_an_offline_cameras_last_picture_keeps_the_time_it_was_taken(db, tmp_path):
    # It was saved again every minute from the last frame kept, so the van sent a picture from before the camera
    # went down dated as new; the van's answer to staff (edge.sync.downlink.picture_refusal) goes by this time.
    watch = Watch(db, {"front": "sim://watch-gone"}, None, None, FAST, thumbs_dir=tmp_path / "cctv")
    picture = tmp_path / "cctv" / "front.jpg"
    try:
        _tick_until(watch, lambda r: picture.exists())
        cctv_sim.device("watch-gone").set_fault("offline")
        _tick_until(watch, lambda r: r["camera:front"].detail.get("fault") == "offline")
        taken = picture.stat().st_mtime_ns
        for _ in range(5):
            time.sleep(FAST.thumbnail_every_s)
            watch.tick()
        assert picture.stat().st_mtime_ns == taken
        cctv_sim.device("watch-gone").set_fault(None)
        _tick_until(watch, lambda r: picture.stat().st_mtime_ns != taken)  # a new frame: a new picture
    finally:
        watch.close()


def test_a_camera_back_from_offline_has_its_fresh_picture_sent_and_its_going_is_dated(db, tmp_path):
    # Review of camclock: "offline since" was the state's since (when it turned to error: covered earlier said so),
    # M2; and a camera back, its alarm clearing over a few good samples, was refused its fresh picture, L3.
    from datetime import UTC, datetime

    from edge.store import clock
    from edge.sync import downlink

    watch = Watch(db, {"front": "sim://watch-back"}, None, None, FAST, thumbs_dir=tmp_path / "cctv")
    cams = downlink.Cameras(("front",), tmp_path / "cctv")
    picture = tmp_path / "cctv" / "front.jpg"
    try:
        _tick_until(watch, lambda r: picture.exists())
        before = datetime.now(UTC)
        cctv_sim.device("watch-back").set_fault("offline")
        rows = _tick_until(watch, lambda r: r["camera:front"].detail.get("fault") == "offline")
        went = datetime.fromisoformat(rows["camera:front"].detail["offline_since"])
        assert before <= went <= datetime.now(UTC)
        why = downlink.picture_refusal(db, cams, "front", datetime.now(UTC))
        assert why is not None and f"offline since {went:%Y-%m-%d %H:%M:%S} UTC" in why
        taken = picture.stat().st_mtime_ns
        cctv_sim.device("watch-back").set_fault(None)
        _tick_until(watch, lambda r: picture.stat().st_mtime_ns != taken)  # a fresh picture saved
        assert downlink.picture_refusal(db, cams, "front", datetime.now(UTC)) is None
        # noted beside it on the boot clock, paired by its file time (an NTP step does not age it: L2)
        note = json.loads((tmp_path / "cctv" / "front.taken.json").read_text())
        assert note["mtime_ns"] == picture.stat().st_mtime_ns and note["boot"] == clock.boot_clock()[0]
    finally:
        watch.close()

"""Staff ask a van for a camera's picture (downlink ``command`` camera-thumbnail): the van sends it, or refuses
with why — never "done" with nothing sent. Applied through the sync agent's own downlink path (``_on_message`` →
``downlink.apply`` → the picture sent), with what it would publish caught instead of a broker."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from edge.store import device_status
from edge.sync import protocol as p
from edge.sync.agent import SyncAgent
from tests.support.sync_harness import GOV, VAN, van_settings

JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 64 + b"\xff\xd9"


@pytest.fixture
def van(tmp_path):
    settings = van_settings(tmp_path / "van", "mqtt://127.0.0.1:1")  # default cameras: front, rear
    agent = SyncAgent(settings)
    sent: list[tuple[str, dict]] = []
    agent._send_tel = lambda kind, body, now: sent.append((kind, body)) or True
    pictures = settings.data_dir / "cctv"
    pictures.mkdir(parents=True)
    yield SimpleNamespace(agent=agent, sent=sent, pictures=pictures)
    agent.db.close()


def ask(van, camera) -> tuple[str, str | None]:
    """The hub's command, as it arrives on the van's downlink topic; the van's answer (downlink.applied)."""
    payload = p.encode_down(p.Command("camera-thumbnail", {"camera": camera}), van=VAN)
    van.agent._on_message(None, None, SimpleNamespace(topic=p.down_topic(GOV, VAN, "command"), payload=payload))
    row = van.agent.db.execute("SELECT body FROM outbox WHERE kind = 'downlink.applied' ORDER BY rowid DESC").fetchone()
    body = json.loads(row[0])
    return body["outcome"], body["error"]


def test_a_picture_of_a_camera_the_van_has_is_sent(van):
    (van.pictures / "front.jpg").write_bytes(JPEG)
    assert ask(van, "front") == ("applied", None)
    [(kind, body)] = van.sent
    assert kind == "tel.thumbnail" and body["camera"] == "front" and body["jpeg"] == JPEG


@pytest.mark.parametrize("camera", ["back", "FRONT", "../../etc/passwd", "front.jpg", "x" * 300])
def test_a_camera_the_van_does_not_have_is_refused_naming_those_it_has(van, camera):
    (van.pictures / "front.jpg").write_bytes(JPEG)
    outcome, error = ask(van, camera)
    assert outcome == "rejected" and not van.sent
    assert error == f"no camera named {camera[:64]!r} on this van; its cameras: front, rear"


def test_a_camera_without_a_picture_yet_is_refused(van):
    assert ask(van, "rear") == ("rejected", "no picture of camera rear yet")
    assert not van.sent


def test_a_covered_camera_answers_with_its_picture(van):
    # It sends frames: the dark one is what staff asked to see; its state is on the van page beside it.
    (van.pictures / "front.jpg").write_bytes(JPEG)
    device_status.report(van.agent.db, "camera:front", "camera", "error", message_en="Front camera is covered or dark",
                         detail={"fault": "dark"})
    assert ask(van, "front") == ("applied", None)
    assert [kind for kind, _ in van.sent] == ["tel.thumbnail"]


def test_an_offline_camera_is_refused_with_since_when_and_its_last_pictures_time(van):
    picture = van.pictures / "front.jpg"
    picture.write_bytes(JPEG)
    down_at = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=60)
    os.utime(picture, (down_at.timestamp() - 60,) * 2)  # taken just before it went down: still "fresh"
    # covered two hours before (its state turned to error then), then offline: the watch's offline_since, not the
    # state's since (review of camclock, M2: "offline since" said when it was covered)
    device_status.report(van.agent.db, "camera:front", "camera", "error", detail={"fault": "dark"},
                         now=down_at - timedelta(hours=2))
    device_status.report(van.agent.db, "camera:front", "camera", "error", now=down_at,
                         detail={"fault": "offline", "offline_since": down_at.isoformat()})
    outcome, error = ask(van, "front")
    assert outcome == "rejected" and not van.sent
    assert error.startswith(f"camera front is not sending pictures (offline since {down_at:%Y-%m-%d %H:%M:%S} UTC): "
                            "no picture now; its last one was taken ")
    from governorate.web.downlinks import refusal_words

    assert "Cairo time" in refusal_words(error)[1]
    # a watch from before offline_since: no since said (the state's would be the covering's)
    device_status.report(van.agent.db, "camera:front", "camera", "error", detail={"fault": "offline"}, now=down_at)
    outcome, error = ask(van, "front")
    assert error.startswith("camera front is not sending pictures: no picture now; its last one was taken ")
    from governorate.web.downlinks import refusal_words

    assert refusal_words(error) is not None  # the hub reads it in the staff's words


def test_a_camera_back_from_offline_sends_its_fresh_picture(van):
    # Review of camclock (L3): its alarm needs a few good samples to clear; the picture newer than its going is sent.
    picture = van.pictures / "front.jpg"
    picture.write_bytes(JPEG)
    went = datetime.now(UTC) - timedelta(minutes=3)
    device_status.report(van.agent.db, "camera:front", "camera", "error",
                         detail={"fault": "offline", "offline_since": went.isoformat()})
    assert ask(van, "front") == ("applied", None) and len(van.sent) == 1
    os.utime(picture, (went.timestamp() - 30, went.timestamp() - 30))  # from before it went: refused
    assert ask(van, "front")[0] == "rejected" and len(van.sent) == 1


def _fifo(path):
    os.mkfifo(path)


@pytest.mark.parametrize("make, why", [
    (lambda f: f.write_bytes(b"\xff\xd8" + b"\0" * 70_000), "it is 70002 bytes, over the 65536 sent"),
    (lambda f: f.write_bytes(b""), "its file is empty"),
    (lambda f: f.mkdir(), "its file is not a regular file"),
    (_fifo, "its file is not a regular file"),
    (lambda f: f.write_bytes(b"GIF89a" + b"\0" * 20), "its file is not a JPEG"),
    (lambda f: f.symlink_to(f.with_name("elsewhere.jpg")), "its file is a link"),
])
def test_a_picture_file_that_is_no_picture_is_refused_saying_why(van, make, why):
    # Review of camclock (L1): it was "done by the van" with nothing sent (a FIFO would block the MQTT callback).
    (van.pictures / "elsewhere.jpg").write_bytes(JPEG)
    make(van.pictures / "front.jpg")
    assert ask(van, "front") == ("rejected", f"the picture of camera front cannot be sent: {why}")
    assert not van.sent
    # the hub reads it in the staff's words (governorate/web/downlinks.py: the sentence is its contract)
    from governorate.web.downlinks import refusal_words

    assert refusal_words(f"the picture of camera front cannot be sent: {why}") is not None


def test_a_picture_dated_ahead_of_the_clock_is_sent_as_taken_now(van):
    # Review of camclock (L2): saved before NTP set the clock back 3 h: "fresh" for three hours, dated ahead.
    picture = van.pictures / "front.jpg"
    picture.write_bytes(JPEG)
    ahead = time.time() + 3 * 3600
    os.utime(picture, (ahead, ahead))
    before = datetime.now(UTC)
    assert ask(van, "front") == ("applied", None)
    [(_, body)] = van.sent
    assert before <= datetime.fromisoformat(body["at"]) <= datetime.now(UTC)


def test_a_stale_picture_is_not_sent_as_the_latest(van):
    # No new frame for ten minutes (the watch saves one a minute from a new frame only), or no watch at all.
    picture = van.pictures / "front.jpg"
    picture.write_bytes(JPEG)
    os.utime(picture, (time.time() - 600, time.time() - 600))
    outcome, error = ask(van, "front")
    assert outcome == "rejected" and not van.sent
    assert error.startswith("no recent picture of camera front: its latest was taken ") and error.endswith(
        ", 10 min ago")
    from governorate.web.downlinks import refusal_words

    assert refusal_words(error)[1].endswith(", 10 min ago")  # the hub reads it in the staff's words, Cairo time


def test_a_refusal_is_answered_once(van):
    payload = p.encode_down(p.Command("camera-thumbnail", {"camera": "back"}), van=VAN)
    message = SimpleNamespace(topic=p.down_topic(GOV, VAN, "command"), payload=payload)
    van.agent._on_message(None, None, message)
    van.agent._on_message(None, None, message)  # sent again by the hub or the broker
    answers = van.agent.db.execute("SELECT count(*) FROM outbox WHERE kind = 'downlink.applied'").fetchone()[0]
    assert answers == 1 and not van.sent


def test_a_step_of_the_clock_forward_does_not_age_a_picture_taken_seconds_ago(van):
    # Review of camclock (L2): NTP stepped the clock an hour forward at the link's return; the picture taken ten
    # seconds before was "60 min ago" and refused. The watch notes when it was taken on the boot clock beside it.
    from edge.store.clock import boot_clock

    picture = van.pictures / "front.jpg"
    picture.write_bytes(JPEG)
    stepped = time.time() - 3600
    os.utime(picture, (stepped, stepped))
    boot, now_s = boot_clock()
    note = van.pictures / "front.taken.json"
    note.write_text(json.dumps({"mtime_ns": picture.stat().st_mtime_ns, "boot": boot, "boot_s": now_s - 10}))
    assert ask(van, "front") == ("applied", None)
    [(_, body)] = van.sent
    assert 5 <= (datetime.now(UTC) - datetime.fromisoformat(body["at"])).total_seconds() < 60
    # a note of another picture (another file time), of another boot, or not one: the file's time
    for other in ({"mtime_ns": picture.stat().st_mtime_ns + 1, "boot": boot, "boot_s": now_s - 10},
                  {"mtime_ns": picture.stat().st_mtime_ns, "boot": "7d41a2c0-1111-4222-8333-944455556666",
                   "boot_s": 1.0},
                  {"mtime_ns": picture.stat().st_mtime_ns, "boot": boot, "boot_s": now_s + 999}, ["junk"]):
        note.write_text(json.dumps(other))
        outcome, error = ask(van, "front")
        assert outcome == "rejected" and error.endswith("60 min ago"), other

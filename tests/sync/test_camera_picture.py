"""Staff ask a van for a camera's picture (downlink ``command`` camera-thumbnail): the van sends it, or refuses
with why — never "done" with nothing sent. Applied through the sync agent's own downlink path (``_on_message`` →
``downlink.apply`` → the picture sent), with what it would publish caught instead of a broker."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
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
    os.utime(picture, (time.time() - 120, time.time() - 120))  # taken just before it went down: still "fresh"
    down_at = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
    device_status.report(van.agent.db, "camera:front", "camera", "error", detail={"fault": "offline"}, now=down_at)
    outcome, error = ask(van, "front")
    assert outcome == "rejected" and not van.sent
    assert error.startswith("camera front is not sending pictures (offline since 2026-12-06 09:30:00 UTC): "
                            "no picture now; its last one was taken ")


def test_a_stale_picture_is_not_sent_as_the_latest(van):
    # No new frame for ten minutes (the watch saves one a minute from a new frame only), or no watch at all.
    picture = van.pictures / "front.jpg"
    picture.write_bytes(JPEG)
    os.utime(picture, (time.time() - 600, time.time() - 600))
    outcome, error = ask(van, "front")
    assert outcome == "rejected" and not van.sent
    assert error.startswith("no recent picture of camera front: its latest was taken ") and error.endswith(
        ", 10 min ago")


def test_a_refusal_is_answered_once(van):
    payload = p.encode_down(p.Command("camera-thumbnail", {"camera": "back"}), van=VAN)
    message = SimpleNamespace(topic=p.down_topic(GOV, VAN, "command"), payload=payload)
    van.agent._on_message(None, None, message)
    van.agent._on_message(None, None, message)  # sent again by the hub or the broker
    answers = van.agent.db.execute("SELECT count(*) FROM outbox WHERE kind = 'downlink.applied'").fetchone()[0]
    assert answers == 1 and not van.sent

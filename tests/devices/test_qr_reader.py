"""The QR reader as the web app sees it: numbered events, the simulated twin, pictures and a camera."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from edge.devices.qr import QrEvents, QrImageError, QrReader, open_reader
from edge.devices.qr.camera import CameraSource
from edge.devices.qr.sim import device as sim_scanner
from tests.support.qrgen import qr_modules


def wait_state(reader, state, within=5.0):
    deadline = time.monotonic() + within
    while reader.status().state != state:
        assert time.monotonic() < deadline, f"reader stayed {reader.status()}"
        time.sleep(0.02)


def picture(text: str, module_px: int = 6) -> np.ndarray:
    code = cv2.resize(qr_modules(text), None, fx=module_px, fy=module_px, interpolation=cv2.INTER_NEAREST)
    canvas = np.full((480, 640), 128, np.uint8)
    canvas[40:40 + code.shape[0], 60:60 + code.shape[1]] = code
    return cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR)


def test_a_listener_asks_for_what_came_after_the_last_event_it_saw():
    events = QrEvents()
    start = events.latest_seq()
    assert events.wait_next(start, timeout=0.05) == []  # bounded: nothing came
    first = events.publish("A", source="sim")
    events.publish("B", source="sim")
    assert [e.text for e in events.wait_next(start, timeout=1)] == ["A", "B"]
    assert [e.text for e in events.wait_next(first.seq, timeout=1)] == ["B"]
    assert first.as_dict()["seq"] == 1 and first.at.endswith("Z")


def test_a_waiting_listener_wakes_when_a_code_is_read():
    events = QrEvents()
    got = []
    listener = threading.Thread(target=lambda: got.extend(events.wait_next(0, timeout=10)))
    listener.start()
    time.sleep(0.05)
    events.publish("WAKE")
    listener.join(timeout=10)
    assert [e.text for e in got] == ["WAKE"]


def test_every_listener_sees_every_event():
    events = QrEvents()
    results = [[], [], []]
    threads = [threading.Thread(target=lambda r=r: r.extend(events.wait_next(0, timeout=10))) for r in results]
    for t in threads:
        t.start()
    time.sleep(0.05)
    events.publish("ALL")
    for t in threads:
        t.join(timeout=10)
    assert all([e.text for e in r] == ["ALL"] for r in results)


def test_a_browser_from_before_a_restart_gets_the_new_runs_events():
    events = QrEvents()
    events.publish("NEW")
    assert [e.text for e in events.since(57)] == ["NEW"]  # 57 was the old process's number


def test_only_the_newest_events_are_kept():
    events = QrEvents(keep=3)
    for i in range(10):
        events.publish(str(i))
    assert [e.text for e in events.since(0)] == ["7", "8", "9"]


def test_closing_wakes_waiters_at_shutdown():
    events = QrEvents()
    done = threading.Event()
    listener = threading.Thread(target=lambda: (events.wait_next(0, timeout=30), done.set()))
    listener.start()
    events.close()
    assert done.wait(5)


def test_the_simulated_reader_delivers_codes_and_can_be_unplugged():
    scanner = sim_scanner("reader-test")
    reader = open_reader("sim://reader-test?debounce=5").start()
    try:
        wait_state(reader, "ok")
        scanner.feed("V001-2026-000001", "V001-2026-000001", b"\x02EG1:ABC\x03\r\n")
        events, deadline = [], time.monotonic() + 5
        while len(events) < 2 and time.monotonic() < deadline:
            events += reader.events.wait_next(events[-1].seq if events else 0, timeout=0.5)
        assert [e.text for e in events] == ["V001-2026-000001", "EG1:ABC"]
        assert {e.source for e in events} == {"sim"}

        scanner.set(unplugged=True)
        wait_state(reader, "error")
        assert reader.status().message_ar and "unplugged" in reader.status().detail
        scanner.set(unplugged=False)
        wait_state(reader, "ok")
        scanner.feed("AFTER")
        assert [e.text for e in reader.events.wait_next(events[-1].seq, timeout=5)] == ["AFTER"]
    finally:
        reader.stop()
    assert not reader.running


def test_a_picture_from_the_kiosk_camera_becomes_an_event():
    reader = open_reader("sim://picture-test")
    published = reader.submit_image(picture("V001-2026-000777"))
    assert [(e.text, e.source) for e in published] == [("V001-2026-000777", "image")]
    assert reader.submit_image(picture("V001-2026-000777")) == []  # the same code again: debounced
    with pytest.raises(QrImageError):
        reader.submit_image("not a picture")


def test_a_reader_thread_survives_a_driver_that_raises_anything():
    class Broken:
        kind, name, calls = "test", "broken", 0

        def open(self):
            pass

        def read(self, timeout):
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("driver bug")
            time.sleep(0.01)
            return ["OK"] if self.calls == 3 else []

        def close(self):
            pass

    reader = QrReader(Broken(), retry_interval=0.01).start()
    try:
        assert [e.text for e in reader.events.wait_next(0, timeout=5)] == ["OK"]
        assert reader.running
    finally:
        reader.stop()


def test_a_camera_reads_codes_from_its_frames(tmp_path):
    clip = str(tmp_path / "counter.avi")
    writer = cv2.VideoWriter(clip, cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    if not writer.isOpened():
        pytest.skip("this OpenCV build cannot write MJPG")
    blank = np.full((480, 640, 3), 128, np.uint8)
    for frame in [blank] * 3 + [picture("V001-2026-000042")] * 5 + [blank] * 3:
        writer.write(frame)
    writer.release()

    reader = open_reader(f"camera://{clip}?fps=100")
    assert isinstance(reader.source, CameraSource)
    reader.start()
    try:
        events = reader.events.wait_next(0, timeout=10)
        assert [(e.text, e.source) for e in events] == [("V001-2026-000042", "camera")]
    finally:
        reader.stop()


def test_a_camera_that_cannot_be_opened_is_an_error_state(tmp_path):
    reader = open_reader(f"camera://{tmp_path}/missing.avi").start()
    try:
        wait_state(reader, "error")
    finally:
        reader.stop()

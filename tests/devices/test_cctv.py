"""CCTV heartbeat: the picture checks on generated frames, and real cameras served as MJPEG on loopback."""

from __future__ import annotations

import base64
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest

from edge.devices.cctv import CameraMonitor, CameraUrlError, CctvTuning, Frame, checks, open_camera
from edge.devices.cctv.sim import SimCamera, scene

# Small windows so each story takes a second or two of wall time.
FAST = CctvTuning(sample_every_s=0.15, alarm_after=2, clear_after=2, offline_after_s=1.0, frozen_after_s=0.9,
                  reference_samples=3)
# For the clock-free stories: one sample per (virtual) second.
VIRTUAL = CctvTuning(frozen_after_s=5, offline_after_s=5)


def _feed(monitor: CameraMonitor, cam: SimCamera, start: int, count: int) -> list:
    reports = []
    for i in range(start, start + count):
        image = cam.frame(float(i))
        frame = None if image is None else Frame(image, float(i), i + 1)
        reports.append(monitor.observe(frame, float(i)))
    return reports


# --- the checks on numpy frames ------------------------------------------------------------------


def test_brightness_change_does_not_look_like_blur_or_a_moved_camera():
    ref = checks.prepare(scene("front", 1.0))
    for gain in (0.45, 1.4):
        p = checks.prepare(scene("front", 1.0, gain=gain))
        assert checks.sharpness(p) == pytest.approx(checks.sharpness(ref), rel=0.25)
        match = checks.view_match(ref, p)
        assert match.similarity > 0.8 and match.shift_px < 2


def test_a_frozen_picture_with_fresh_sensor_noise_still_counts_as_unchanged():
    rng = np.random.default_rng(3)
    still = scene("front", 0.0, noise=0).astype(np.float32)
    a, b = (checks.prepare(np.clip(still + rng.normal(0, 6, still.shape), 0, 255).astype(np.uint8))
            for _ in range(2))
    assert checks.change(a, b) < VIRTUAL.frozen_max_change
    live = checks.change(checks.prepare(scene("front", 1.0)), checks.prepare(scene("front", 2.0)))
    assert live > VIRTUAL.frozen_max_change


def test_thumbnail_is_a_small_jpeg():
    data = checks.thumbnail(scene("front", 0.0, (1280, 720)))
    assert data[:2] == b"\xff\xd8" and len(data) < 15_000
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape == (90, 160, 3)


def test_a_healthy_camera_stays_ok_for_a_minute():
    monitor = CameraMonitor("front", VIRTUAL, started=0.0)
    reports = _feed(monitor, SimCamera("front", (320, 240)), 0, 60)
    assert {r.state for r in reports} == {"ok"}
    assert not reports[-1].learning


@pytest.mark.parametrize("fault, expected, state", [
    ("frozen", "frozen", "error"),
    ("black", "dark", "error"),
    ("covered", "dark", "error"),
    ("blurred", "blurred", "warning"),
    ("moved", "moved", "warning"),
    ("offline", "offline", "error"),
])
def test_each_camera_fault_raises_its_alarm_within_the_window_and_clears_after_the_cool_down(fault, expected, state):
    cam = SimCamera("front", (320, 240))
    monitor = CameraMonitor("front", VIRTUAL, started=0.0)
    _feed(monitor, cam, 0, 10)
    cam.set_fault(fault)
    reports = _feed(monitor, cam, 10, 10)
    window = {"frozen": 6, "offline": 5}.get(fault, VIRTUAL.alarm_after)
    assert [r.fault for r in reports[:window - 1]] == [None] * (window - 1), "raised before the window"
    assert reports[window].fault == expected and reports[window].state == state
    cam.set_fault(None)
    after = _feed(monitor, cam, 20, VIRTUAL.clear_after + 1)
    assert after[0].fault == expected, "cleared without a cool-down"
    assert after[-1].state == "ok"


def test_one_odd_frame_does_not_raise_an_alarm():
    cam = SimCamera("front", (320, 240))
    monitor = CameraMonitor("front", VIRTUAL, started=0.0)
    _feed(monitor, cam, 0, 10)
    cam.set_fault("black")  # someone walks right in front of the lens for one sample
    _feed(monitor, cam, 10, 1)
    cam.set_fault(None)
    assert {r.state for r in _feed(monitor, cam, 11, 10)} == {"ok"}


def test_a_camera_that_never_answered_is_unknown_then_offline():
    monitor = CameraMonitor("rear", VIRTUAL, started=0.0)
    assert monitor.observe(None, 1.0).state == "unknown"
    assert monitor.observe(None, 6.0).fault == "offline"


def test_an_unsupported_camera_address_is_refused_in_both_languages():
    with pytest.raises(CameraUrlError) as err:
        open_camera("ftp://10.0.0.9/cam")
    assert "Unsupported camera address" in err.value.message_en and "الكاميرا" in err.value.message_ar


# --- real cameras: MJPEG over HTTP on loopback, and video files -------------------------------------


class FakeCamera:
    """An IP camera on 127.0.0.1: /stream (multipart MJPEG at ~10 fps) and /snapshot.jpg."""

    def __init__(self, name: str = "front", size=(320, 240), password: str = ""):
        self.cam = SimCamera(name, size)
        self.alive = True
        self.password = password
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if camera.password and self.headers.get("Authorization") != camera.expected_auth():
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="camera"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path == "/snapshot.jpg":
                    body = camera.jpeg()
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                try:
                    while camera.alive:
                        body = camera.jpeg()
                        if body:
                            self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n"
                                             + f"Content-Length: {len(body)}\r\n\r\n".encode() + body + b"\r\n")
                        time.sleep(0.1)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def expected_auth(self) -> str:
        return "Basic " + base64.b64encode(f"admin:{self.password}".encode()).decode()

    def jpeg(self) -> bytes:
        image = self.cam.frame()
        return b"" if image is None else cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()

    def disappear(self) -> None:
        self.alive = False
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ip_camera():
    camera = FakeCamera()
    yield camera
    if camera.alive:
        camera.disappear()


def _watch(url: str, until, samples: int = 40, monitor: CameraMonitor | None = None):
    """Sample a real source at FAST's pace until ``until(report)`` or ``samples`` samples; return the reports."""
    source = open_camera(url, timeout_s=1.0)
    monitor = monitor or CameraMonitor("front", FAST)
    reports = []
    try:
        for _ in range(samples):
            time.sleep(FAST.sample_every_s)
            reports.append(monitor.observe(source.latest(), time.monotonic()))
            if until(reports[-1]):
                break
    finally:
        source.close()
    return monitor, reports


def _learned(report) -> bool:
    return report.state == "ok" and not report.learning


def test_a_normal_mjpeg_camera_stays_ok(ip_camera):
    monitor, reports = _watch(ip_camera.url + "/stream", _learned)
    assert _learned(reports[-1])
    _, later = _watch(ip_camera.url + "/stream", lambda r: False, samples=12, monitor=monitor)
    assert [r.state for r in later if r.frame_age_s is not None] and all(r.state == "ok" for r in later)


@pytest.mark.parametrize("fault, expected", [
    ("frozen", "frozen"), ("black", "dark"), ("blurred", "blurred"), ("moved", "moved"),
])
def test_a_faulty_mjpeg_camera_is_detected_within_the_configured_window(ip_camera, fault, expected):
    source = open_camera(ip_camera.url + "/stream", timeout_s=1.0)
    monitor = CameraMonitor("front", FAST)
    try:
        for _ in range(40):  # learn the reference view
            time.sleep(FAST.sample_every_s)
            if _learned(monitor.observe(source.latest(), time.monotonic())):
                break
        assert monitor.reference_view is not None
        ip_camera.cam.set_fault(fault)
        # The window in samples: the alarm's own count, the frozen time, and two for frames in flight.
        window = FAST.alarm_after + int(FAST.frozen_after_s / FAST.sample_every_s) + 3
        faults = []
        for _ in range(window):
            time.sleep(FAST.sample_every_s)
            faults.append(monitor.observe(source.latest(), time.monotonic()).fault)
            if faults[-1]:
                break
    finally:
        source.close()
    assert faults[-1] == expected, faults


def test_a_camera_that_disappears_becomes_offline(ip_camera):
    monitor, reports = _watch(ip_camera.url + "/stream", lambda r: r.state == "ok")
    assert reports[-1].state == "ok"
    ip_camera.disappear()
    _, reports = _watch(ip_camera.url + "/stream", lambda r: r.fault == "offline", monitor=monitor)
    assert reports[-1].fault == "offline" and reports[-1].state == "error"


def test_a_snapshot_url_camera_is_sampled(ip_camera):
    _, reports = _watch(ip_camera.url + "/snapshot.jpg", _learned)
    assert _learned(reports[-1])
    assert reports[-1].metrics["brightness"] > 50


def test_a_video_file_camera_plays_and_a_black_recording_is_dark(tmp_path):
    def write(path, fault):
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
        for i in range(20):
            writer.write(scene("front", i / 10, (320, 240), fault))
        writer.release()
        return "file://" + str(path)

    _, reports = _watch(write(tmp_path / "ok.avi", None), lambda r: r.state == "ok")
    assert reports[-1].state == "ok"
    _, reports = _watch(write(tmp_path / "black.avi", "black"), lambda r: r.fault is not None)
    assert reports[-1].fault == "dark"


def test_a_missing_video_file_is_offline(tmp_path):
    _, reports = _watch("file://" + str(tmp_path / "gone.avi"), lambda r: r.fault is not None)
    assert reports[-1].fault == "offline"


def test_a_camera_that_asks_for_a_password_is_read_with_the_one_in_its_url():
    camera = FakeCamera(password="s3cret")
    try:
        host = camera.url.removeprefix("http://")
        _, refused = _watch(f"http://admin:wrong@{host}/stream", lambda r: r.fault is not None)
        _, reports = _watch(f"http://admin:s3cret@{host}/stream", _learned)
    finally:
        camera.disappear()
    assert refused[-1].fault == "offline"
    assert _learned(reports[-1])

"""CCTV cameras by URL and their heartbeat: is each one reachable, live, uncovered, sharp and still aimed right.

Two halves. *Sources* (:func:`open_camera`) fetch frames from ``sim://``, ``http(s)://`` (MJPEG stream
or a snapshot URL), ``rtsp://`` and ``file://`` in a background thread each, so one slow camera
never delays the others and ``latest()`` never blocks. The :class:`CameraMonitor` turns samples
into a state with debounced alarms; it takes frames and times as arguments, so it is tested on
numpy frames without a clock or a network. The picture checks themselves are in ``cctv_checks``.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import cv2
import numpy as np

from edge.core.errors import EdgeError
from edge.devices.cctv import checks
from edge.devices.cctv.sim import sim_camera

log = logging.getLogger("edge.cctv")

# Severity of each fault, and the order in which they name the camera's state (first wins): a
# camera that is offline is not also "blurred".
FAULT_ORDER = ("offline", "dark", "frozen", "moved", "blurred")
ERROR_FAULTS = {"offline", "dark", "frozen"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


class CameraUrlError(EdgeError):
    code = "camera-url"

    def __init__(self, url: str):
        super().__init__(
            f"عنوان الكاميرا غير مدعوم: {url}. استخدم sim:// أو rtsp:// أو http:// أو file://",
            f"Unsupported camera address: {url}. Use sim://, rtsp://, http(s):// or file://",
            detail=url,
        )


@dataclass(frozen=True)
class CctvTuning:
    """Thresholds and windows of the heartbeat; the defaults suit a van, tests shrink the windows."""

    sample_every_s: float = 1.0
    alarm_after: int = 3  # consecutive bad samples before a picture alarm is raised
    clear_after: int = 5  # consecutive good samples before it is cleared (cool-down)
    offline_after_s: float = 10.0  # no new frame for this long: offline
    frozen_after_s: float = 30.0  # no visible change for this long: frozen
    frozen_max_change: float = 0.01  # share of the picture that changed, below which two samples "match"
    dark_mean: float = 35.0
    dark_share: float = 0.9
    flat_std: float = 6.0
    blur_ratio: float = 0.35  # sharpness below this share of the camera's reference: blurred
    moved_shift_px: float = 6.0  # view slid more than this (of 160 px, ≈ 4 %): moved
    moved_min_similarity: float = 0.45  # edge maps correlate less than this: turned away
    reference_samples: int = 5  # healthy samples learned before blur/moved are judged
    reference_follow: float = 0.02  # how fast the sharpness reference follows slow changes


# --- sources --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # BGR
    at: float  # time.monotonic() when it arrived
    seq: int  # increases with every new frame from the camera


class CameraSource:
    """A camera's newest frame, fetched in the background. ``latest()`` returns at once."""

    url: str = ""
    last_error: str = ""

    def latest(self) -> Frame | None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class SimSource(CameraSource):
    def __init__(self, url: str):
        self.url = url
        parts = urlsplit(url)
        self.camera = sim_camera(parts.netloc or parts.path.strip("/") or "default")
        # sim://front?fault=covered: a demo van whose camera starts out covered (from the settings file).
        if fault := parse_qs(parts.query).get("fault", [""])[0]:
            self.camera.set_fault(fault)
        self._last: Frame | None = None
        self._seq = 0

    def latest(self) -> Frame | None:
        image = self.camera.frame()
        if image is None:
            self.last_error = "simulated camera is offline"
            return self._last
        self._seq += 1
        self._last = Frame(image, time.monotonic(), self._seq)
        return self._last


class _ThreadedSource(CameraSource):
    """A reader thread keeps the newest encoded or grabbed frame; decoding waits until it is sampled."""

    retry_s = 1.0

    def __init__(self, url: str, timeout_s: float = 5.0):
        self.url = url
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._seq = 0
        self._at = 0.0
        self._decoded: Frame | None = None
        self._thread = threading.Thread(target=self._run, name=f"camera {public_url(url)}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        delay = self.retry_s
        while not self._stop.is_set():
            seq_before = self._seq
            try:
                self._read_until_stopped()
            except Exception as exc:  # any failure of the link: note it, wait, reconnect
                if self.last_error != str(exc):
                    log.info("camera %s: %s", public_url(self.url), exc)
                self.last_error = str(exc) or type(exc).__name__
            if self._seq != seq_before:
                delay = self.retry_s  # it worked for a while: a fresh failure, not a dead camera
            self._stop.wait(delay)
            delay = min(delay * 2, 10.0)

    def _read_until_stopped(self) -> None:
        raise NotImplementedError

    def _decode(self) -> np.ndarray | None:
        raise NotImplementedError

    def latest(self) -> Frame | None:
        with self._lock:
            seq, at = self._seq, self._at
        if seq == 0:
            return None
        if self._decoded is None or self._decoded.seq != seq:
            image = self._decode()
            if image is not None:
                self._decoded = Frame(image, at, seq)
        return self._decoded

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.timeout_s + 1)


def public_url(url: str) -> str:
    """The camera URL fit for logs and status rows: camera URLs often carry a password
    (``rtsp://admin:secret@…``), and status rows travel to the hub."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def _http_opener(url: str) -> tuple[str, urllib.request.OpenerDirector]:
    """The URL without its user:password, and an opener that answers the camera's Basic or Digest
    challenge with them (IP cameras use both; urllib does neither from a URL by itself)."""
    parts = urlsplit(url)
    if not parts.username:
        return url, urllib.request.build_opener()
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    bare = parts._replace(netloc=netloc).geturl()
    passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    passwords.add_password(None, bare, unquote(parts.username), unquote(parts.password or ""))
    opener = urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(passwords),
                                         urllib.request.HTTPDigestAuthHandler(passwords))
    return bare, opener


class HttpSource(_ThreadedSource):
    """An MJPEG stream (multipart/x-mixed-replace) or a snapshot URL (one JPEG per request).

    JPEGs are kept encoded and decoded only when sampled, at a reduced scale (libjpeg's DCT
    scaling): the checks need 320 px, so a 1280 px camera costs a quarter of a full decode.
    """

    def __init__(self, url: str, timeout_s: float = 5.0, snapshot_every_s: float = 1.0):
        self._jpeg = b""
        self._full_width = 0
        self.snapshot_every_s = snapshot_every_s
        self._fetch_url, self._opener = _http_opener(url)
        super().__init__(url, timeout_s)

    def _publish(self, jpeg: bytes) -> None:
        with self._lock:
            self._jpeg = jpeg
            self._seq += 1
            self._at = time.monotonic()
        self.last_error = ""

    def _read_until_stopped(self) -> None:
        with self._opener.open(self._fetch_url, timeout=self.timeout_s) as resp:
            ctype = resp.headers.get("Content-Type", "")
            if ctype.startswith("multipart/"):
                self._read_stream(resp, ctype)
                return
            self._publish(resp.read())
        # A snapshot URL: ask again at the sampling pace.
        while not self._stop.wait(self.snapshot_every_s):
            with self._opener.open(self._fetch_url, timeout=self.timeout_s) as resp:
                self._publish(resp.read())

    def _read_stream(self, resp, ctype: str) -> None:
        boundary = b""
        for part in ctype.split(";"):
            key, _, value = part.strip().partition("=")
            if key.lower() == "boundary":
                boundary = value.strip('"').encode()
        if not boundary:
            raise OSError(f"multipart stream without a boundary: {ctype}")
        marker = b"--" + boundary.removeprefix(b"--")
        while not self._stop.is_set():
            line = resp.readline()
            if not line:
                raise OSError("the camera closed the stream")
            if not line.startswith(marker):
                continue
            length = None
            while True:  # the part's headers
                header = resp.readline()
                if not header:
                    raise OSError("the camera closed the stream")
                if header in (b"\r\n", b"\n"):
                    break
                name, _, value = header.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if length is not None:
                body = resp.read(length)
                if len(body) < length:
                    raise OSError("the camera closed the stream")
            else:
                # No length: the JPEG ends where its end-of-image marker is.
                chunks = []
                while not (chunks and chunks[-1].rstrip(b"\r\n").endswith(b"\xff\xd9")):
                    chunk = resp.readline()
                    if not chunk:
                        raise OSError("the camera closed the stream")
                    chunks.append(chunk)
                body = b"".join(chunks).rstrip(b"\r\n")
            self._publish(body)

    def _decode(self) -> np.ndarray | None:
        with self._lock:
            jpeg = self._jpeg
        buf = np.frombuffer(jpeg, np.uint8)
        flag = cv2.IMREAD_COLOR
        for factor, reduced in ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4),
                                (2, cv2.IMREAD_REDUCED_COLOR_2)):
            if self._full_width and self._full_width // factor >= checks.SHARP_WIDTH:
                flag = reduced
                break
        image = cv2.imdecode(buf, flag)
        if image is None:
            self.last_error = "the camera sent a picture that cannot be decoded"
            return None
        if flag == cv2.IMREAD_COLOR:
            self._full_width = image.shape[1]
        return image


class CaptureSource(_ThreadedSource):
    """RTSP (or any stream FFmpeg opens) and video/image files, through OpenCV's VideoCapture.

    A live stream is grabbed continuously, or it would fall behind by the frames left unread; only
    the sampled frame is converted. A video file plays in real time and loops, like a camera.
    """

    def __init__(self, url: str, timeout_s: float = 5.0):
        parts = urlsplit(url)
        self.path = unquote(parts.path) if parts.scheme == "file" else url
        self.is_file = parts.scheme == "file"
        self._cap: cv2.VideoCapture | None = None
        self._image: np.ndarray | None = None
        self._cap_lock = threading.Lock()
        super().__init__(url, timeout_s)

    def _publish(self) -> None:
        with self._lock:
            self._seq += 1
            self._at = time.monotonic()
        self.last_error = ""

    def _read_until_stopped(self) -> None:
        if self.is_file and Path(self.path).suffix.lower() in IMAGE_SUFFIXES:
            self._read_image_file()
            return
        if self.is_file and not Path(self.path).is_file():
            raise OSError(f"no such file: {self.path}")
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(self.timeout_s * 1000),
                  cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.timeout_s * 1000)]
        cap = cv2.VideoCapture(self.path, cv2.CAP_FFMPEG, params)
        if not cap.isOpened():
            cap.release()
            raise OSError(f"cannot open {public_url(self.url)}")
        fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        fps = fps if 1.0 <= fps <= 120.0 else 25.0
        with self._cap_lock:
            self._cap = cap
        try:
            while not self._stop.is_set():
                with self._cap_lock:
                    ok = cap.grab()
                if not ok:
                    if self.is_file and Path(self.path).is_file():
                        with self._cap_lock:
                            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                        continue
                    raise OSError("the stream ended")
                self._publish()
                if self.is_file:
                    self._stop.wait(1.0 / fps)
        finally:
            with self._cap_lock:
                self._cap = None
                cap.release()

    def _read_image_file(self) -> None:
        # A still image: a "snapshot camera" that is gone once the file is.
        while not self._stop.is_set():
            image = cv2.imread(self.path, cv2.IMREAD_COLOR)
            if image is None:
                raise OSError(f"cannot read {self.path}")
            self._image = image
            self._publish()
            self._stop.wait(1.0)

    def _decode(self) -> np.ndarray | None:
        if self._image is not None and self._cap is None:
            return self._image
        with self._cap_lock:
            if self._cap is None:
                return self._decoded.image if self._decoded else None
            ok, image = self._cap.retrieve()
        return image if ok else None


def open_camera(url: str, *, timeout_s: float = 5.0) -> CameraSource:
    scheme = urlsplit(url).scheme
    if scheme == "sim":
        return SimSource(url)
    if scheme in ("http", "https"):
        return HttpSource(url, timeout_s)
    if scheme in ("rtsp", "file"):
        return CaptureSource(url, timeout_s)
    raise CameraUrlError(url)


# --- the heartbeat -----------------------------------------------------------------------------------


class Debounce:
    """A condition becomes an alarm after ``raise_after`` consecutive observations and ends after
    ``clear_after`` consecutive clear ones, so one odd frame neither raises nor clears it."""

    def __init__(self, raise_after: int, clear_after: int):
        self.raise_after = raise_after
        self.clear_after = clear_after
        self.active = False
        self._run = 0

    def observe(self, condition: bool) -> bool:
        if condition != self.active:
            self._run += 1
            if self._run >= (self.raise_after if condition else self.clear_after):
                self.active = condition
                self._run = 0
        else:
            self._run = 0
        return self.active


@dataclass(frozen=True)
class CameraReport:
    name: str
    state: str  # ok / warning / error / unknown
    faults: tuple[str, ...]  # active alarms, most serious first
    frame_age_s: float | None  # None: no frame yet
    learning: bool  # still learning its reference view
    metrics: dict = field(default_factory=dict)

    @property
    def fault(self) -> str | None:
        return self.faults[0] if self.faults else None


class CameraMonitor:
    """One camera's heartbeat: feed it a sample per second, read the debounced state."""

    def __init__(self, name: str, tuning: CctvTuning | None = None, started: float | None = None):
        self.name = name
        self.t = tuning or CctvTuning()
        self.started = time.monotonic() if started is None else started
        self.alarms = {f: Debounce(self.t.alarm_after, self.t.clear_after) for f in FAULT_ORDER}
        # Offline and frozen are already windows of time: they raise at once when the window is full.
        self.alarms["offline"] = Debounce(1, self.t.clear_after)
        self.alarms["frozen"] = Debounce(1, self.t.clear_after)
        self.last_seq = -1
        self.last_at: float | None = None
        self.last_image: np.ndarray | None = None
        self._previous: checks.Prepared | None = None
        self._unchanged_since: float | None = None
        self._learned: list[tuple[checks.Prepared, float]] = []
        self.reference_view: checks.Prepared | None = None
        self.reference_sharpness: float | None = None
        self._stored: tuple[np.ndarray, float] | None = None
        self.newly_learned = False  # a reference was learned from frames and is not yet kept anywhere
        self.samples = 0
        self._picture: dict[str, float] = {}

    def accept_view(self) -> None:
        """Forget the reference view and sharpness (after a camera was deliberately re-aimed)."""
        self._learned.clear()
        self._stored = None
        self.reference_view = None
        self.reference_sharpness = None
        self.alarms["moved"].active = self.alarms["blurred"].active = False

    def reference(self) -> tuple[np.ndarray, float] | None:
        """The learned reference (small grey view, sharpness) to keep across restarts, or None."""
        if self.reference_view is None or self.reference_sharpness is None:
            return None
        return self.reference_view.tiny, self.reference_sharpness

    def restore_reference(self, tiny: np.ndarray, sharpness: float) -> None:
        """Judge against a reference learned before a restart, or a camera knocked while the watch
        was down would simply become the new normal. Used from the first frame of the same shape."""
        self._stored = (np.asarray(tiny, np.float32), float(sharpness))

    def observe(self, frame: Frame | None, now: float) -> CameraReport:
        self.samples += 1
        metrics: dict[str, float] = {}
        fresh = frame is not None and frame.seq != self.last_seq
        if fresh:
            self.last_seq, self.last_at, self.last_image = frame.seq, frame.at, frame.image
        age = None if self.last_at is None else max(0.0, now - self.last_at)
        waited = now - (self.last_at if self.last_at is not None else self.started)
        self.alarms["offline"].observe(waited >= self.t.offline_after_s)
        if fresh:
            self._picture = {}
            self._judge(checks.prepare(frame.image), now, self._picture)
        # The last judged picture's figures stay in the report until a new frame replaces them.
        metrics.update(self._picture)
        faults = tuple(f for f in FAULT_ORDER if self.alarms[f].active)
        if "offline" in faults:
            faults = ("offline",)  # the picture alarms describe a picture we no longer have
        if faults:
            state = "error" if faults[0] in ERROR_FAULTS else "warning"
        elif self.last_at is None:
            state = "unknown"
        else:
            state = "ok"
        if age is not None:
            metrics["frame_age_s"] = round(age, 1)
        return CameraReport(self.name, state, faults, age, self.reference_view is None, metrics)

    def _judge(self, p: checks.Prepared, now: float, metrics: dict) -> None:
        t = self.t
        b = checks.brightness(p)
        dark = checks.is_dark_or_covered(b, dark_mean=t.dark_mean, dark_share=t.dark_share, flat_std=t.flat_std)
        metrics.update(brightness=round(b.mean, 1), contrast=round(b.std, 1), dark_share=round(b.dark_share, 3))
        self.alarms["dark"].observe(dark)

        if self._previous is not None:
            change = checks.change(self._previous, p)
            metrics["change"] = round(change, 3)
            if change >= t.frozen_max_change:
                self._unchanged_since = None
            elif self._unchanged_since is None:
                self._unchanged_since = now
        self._previous = p
        still_for = 0.0 if self._unchanged_since is None else now - self._unchanged_since
        metrics["unchanged_s"] = round(still_for, 1)
        # A black picture does not change either; it is reported as dark, not also frozen.
        self.alarms["frozen"].observe(still_for >= t.frozen_after_s and not dark)

        if dark or self.alarms["dark"].active or self.alarms["frozen"].active:
            return  # nothing to learn from, or judge on, a dark or stale picture
        sharp = checks.sharpness(p)
        metrics["sharpness"] = round(sharp, 3)
        if self.reference_view is None and self._stored is not None:
            tiny, stored_sharpness = self._stored
            self._stored = None
            if tiny.shape == p.tiny.shape:  # else the camera (or its resolution) changed: learn anew
                self.reference_view, self.reference_sharpness = checks.from_tiny(tiny), stored_sharpness
        if self.reference_view is None:
            self._learned.append((p, sharp))
            if len(self._learned) >= t.reference_samples:
                self.reference_sharpness = float(np.median([s for _, s in self._learned]))
                self.reference_view = self._learned[-1][0]
                self._learned.clear()
                self.newly_learned = True
            return
        ref = self.reference_sharpness or 1e-6
        ratio = sharp / ref
        metrics["sharpness_ratio"] = round(ratio, 3)
        blurred = self.alarms["blurred"].observe(ratio < t.blur_ratio)
        match = checks.view_match(self.reference_view, p)
        metrics.update(view_similarity=round(match.similarity, 3), view_shift_px=round(match.shift_px, 1))
        turned = match.shift_px > t.moved_shift_px or match.similarity < t.moved_min_similarity
        # A defocused lens also weakens the edges; do not call it "moved" as well.
        self.alarms["moved"].observe(turned and not blurred)
        if not blurred and not turned and 0.7 < ratio < 1.5:
            # Follow slow changes (dust, seasons, a new poster) but never a sudden loss of focus.
            self.reference_sharpness = ref + t.reference_follow * (sharp - ref)

    def thumbnail(self, width: int = 160) -> bytes | None:
        """A small JPEG of the last frame, or None before the first one."""
        return None if self.last_image is None else checks.thumbnail(self.last_image, width)

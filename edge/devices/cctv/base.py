"""What every CCTV source is: the newest frame, fetched in the background; ``latest()`` never blocks."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import numpy as np

from edge.devices.urls import DeviceUrlError, kind_error, public

log = logging.getLogger("edge.cctv")


@kind_error("camera")
class CameraUrlError(DeviceUrlError):
    code = "camera-url"


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


class ThreadedSource(CameraSource):
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
        self._thread = threading.Thread(target=self._run, name=f"camera {public(url)}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        delay = self.retry_s
        while not self._stop.is_set():
            seq_before = self._seq
            try:
                self._read_until_stopped()
            except Exception as exc:  # any failure of the link: note it, wait, reconnect
                if self.last_error != str(exc):
                    log.info("camera %s: %s", public(self.url), exc)
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

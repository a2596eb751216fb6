"""RTSP streams and video or image files, through OpenCV's VideoCapture."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np

from edge.devices.cctv.base import ThreadedSource
from edge.devices.urls import DeviceUrl, parse, public

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


class CaptureSource(ThreadedSource):
    """RTSP (or any stream FFmpeg opens) and video/image files, through OpenCV's VideoCapture.

    A live stream is grabbed continuously, or it would fall behind by the frames left unread; only
    the sampled frame is converted. A video file plays in real time and loops, like a camera.
    """

    def __init__(self, url: str | DeviceUrl, timeout_s: float = 5.0):
        parsed = parse("camera", url)
        self.is_file = parsed.scheme == "file"
        self.path = parsed.path if self.is_file else parsed.raw
        url = parsed.raw
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
            raise OSError(f"cannot open {public(self.url)}")
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

"""A camera as a QR reader: frames from OpenCV's VideoCapture, decoded with ``decode_image``.

URLs: ``camera://0`` (the first V4L2 camera), ``camera:///dev/video2``, ``camera:///srv/demo/qr.mp4``
(a file, replayed from the start when it ends: handy for a demo), ``camera://?src=rtsp://10.0.0.7/s1``
(anything VideoCapture opens). ``fps`` (default 8) caps how many frames are decoded per second.

Frames are decoded with ``thorough=False``: most frames hold no code, and the next frame is another
chance, so the expensive whole-picture passes would only take CPU from the web app.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import cv2

from edge.devices.qr.base import QrConfigError, QrDeviceError
from edge.devices.qr.decode import decode_image


class CameraSource:
    kind = "camera"

    def __init__(self, url: str):
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.url = url
        if "src" in query:
            self.src: int | str = query["src"][0]
        elif parts.netloc.isdigit():
            self.src = int(parts.netloc)
        elif parts.path:
            self.src = parts.path
        else:
            raise QrConfigError(url, "no camera given (camera://0, camera:///dev/video0, camera:///path/file.mp4)")
        try:
            self.fps = float(query.get("fps", ["8"])[0])
        except ValueError:
            raise QrConfigError(url, "fps must be a number") from None
        if self.fps <= 0:
            raise QrConfigError(url, "fps must be above 0")
        self._capture: cv2.VideoCapture | None = None
        self._next_frame = 0.0

    @property
    def name(self) -> str:
        return str(self.src)

    def open(self) -> None:
        self.close()
        capture = cv2.VideoCapture(self.src)
        if not capture.isOpened():
            capture.release()
            raise QrDeviceError(f"camera {self.src!r} cannot be opened")
        self._capture = capture

    def read(self, timeout: float) -> list[str]:
        if self._capture is None:
            raise QrDeviceError(f"camera {self.src!r} is not open")
        wait = self._next_frame - time.monotonic()
        if wait > 0:
            time.sleep(min(wait, timeout))
            if wait > timeout:
                return []
        self._next_frame = time.monotonic() + 1.0 / self.fps
        ok, frame = self._capture.read()
        if not ok or frame is None:
            # End of a file, or a camera that went away: the reader reopens it (a file starts over).
            self.close()
            raise QrDeviceError(f"camera {self.src!r} gave no frame")
        return decode_image(frame, thorough=False)

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

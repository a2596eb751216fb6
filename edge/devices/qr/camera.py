"""A camera as a QR reader: frames from OpenCV's VideoCapture, decoded with ``decode_image``.

URLs: ``camera://0`` (the first V4L2 camera), ``camera:///dev/video2``, ``camera:///srv/demo/qr.mp4``
(a file, replayed from the start when it ends: handy for a demo), ``camera://?src=rtsp://10.0.0.7/s1``
(anything VideoCapture opens). ``fps`` (default 8) caps how many frames are decoded per second.

Frames are decoded with ``thorough=False``: most frames hold no code, and the next frame is another
chance, so the expensive whole-picture passes would only take CPU from the web app.
"""

from __future__ import annotations

import time

import cv2

from edge.devices.qr.base import QrDeviceError
from edge.devices.qr.decode import decode_image
from edge.devices.urls import DeviceUrl, parse


def camera_settings(url: DeviceUrl) -> dict:
    """``camera://0?fps=8``, ``camera:///dev/video2``, ``camera:///srv/demo/qr.mp4``, ``camera://?src=rtsp://…``"""
    url.refuse_unknown(("src", "fps", "debounce"))
    if "src" in url.options:
        src: int | str = url.options["src"]
    elif url.netloc.isascii() and url.netloc.isdigit():
        src = int(url.netloc)
    elif url.path:
        src = url.path
    else:
        raise url.error("no camera given (camera://0, camera:///dev/video0, camera:///path/file.mp4)",
                        "لم تُحدَّد الكاميرا (camera://0 أو camera:///dev/video0 أو camera:///path/file.mp4)")
    return dict(src=src, fps=url.number("fps", 8.0, low=0.1, high=120))


class CameraSource:
    kind = "camera"

    def __init__(self, url: str | DeviceUrl):
        url = parse("qr", url)
        settings = camera_settings(url)
        self.url = url.raw
        self.src: int | str = settings["src"]
        self.fps = settings["fps"]
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

"""The overhead document camera (``camera://0``, ``camera:///dev/video2``, ``camera://rtsp://…``, ``camera:///photo.jpg``).

A frame is captured through OpenCV, the page is found (:func:`edge.devices.scanner.docfind.find_document`),
warped flat to its own aspect, and cleaned up (shadows divided out, contrast stretched, optionally black
and white). :func:`page_from_photo` does the same for a photo that arrived another way (a phone upload).

URL options: ``width`` / ``height`` (ask the camera for its full resolution; most UVC document cameras
default to 640 × 480), ``warmup`` (frames dropped while auto-exposure settles, default 5).
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

import edge.devices.scanner.cleanup as page_cleanup
import edge.devices.scanner.docfind as docfind
from edge.devices.scanner.base import (
    DEFAULT_MODE,
    DEFAULT_RESOLUTION,
    BlankPage,
    DeviceInfo,
    NoPageInView,
    Page,
    Scanner,
    ScannerOffline,
    ScannerStatus,
)
from edge.devices.urls import DeviceUrl, parse

_STILLS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def page_from_photo(image: np.ndarray, dpi: int = DEFAULT_RESOLUTION, mode: str = DEFAULT_MODE,
                    corners: np.ndarray | None = None) -> Page:
    """The page in a BGR photo: found (or outlined by ``corners``, TL TR BR BL in pixels, as an operator placed
    them: :mod:`edge.devices.scanner.corners`), rectified, cleaned. Raises NoPageInView or BlankPage."""
    quad = docfind.find_document(image) if corners is None else np.asarray(corners, np.float64)
    if quad is None:
        raise NoPageInView(f"no page found in a {image.shape[1]}x{image.shape[0]} photo")
    flat = page_cleanup.rectify(image, quad, dpi)
    m = mode.lower()
    if m in ("lineart", "binary", "text"):
        out = page_cleanup.clean(flat, binarize=True)
    elif m.startswith("gray") or m.startswith("grey"):
        out = page_cleanup.clean(flat, color=False)
    else:
        out = page_cleanup.clean(flat)
    why = page_cleanup.blank_reason(out)
    if why:
        raise BlankPage(f"rectified page: {why}")
    # The page's dpi follows from its pixels and its format; unknown formats are taken at the asked dpi.
    return Page(out, dpi, "camera", 1)


def camera_settings(url: DeviceUrl) -> dict:
    """``camera://0?width=1920&height=1080&warmup=5``: a V4L2 index, a device path, a stream or a photo file."""
    url.refuse_unknown(("width", "height", "warmup"))
    if not url.target:
        raise url.error("it needs a camera, e.g. camera://0 or camera:///dev/video2",
                        "ينقصه اسم الكاميرا، مثل camera://0 أو camera:///dev/video2")
    return dict(source=int(url.target) if url.target.isascii() and url.target.isdigit() else url.target,
                width=url.number("width", 0, kind=int, low=0, high=16384),
                height=url.number("height", 0, kind=int, low=0, high=16384),
                warmup=url.number("warmup", 5, kind=int, low=0, high=100))


class CameraScanner(Scanner):
    def __init__(self, url: str | DeviceUrl):
        url = parse("scanner", url)
        settings = camera_settings(url)
        self.url = url.raw
        self.source: int | str = settings["source"]
        self.width = settings["width"]
        self.height = settings["height"]
        self.warmup = settings["warmup"]
        self._lock = threading.Lock()  # one capture at a time: a V4L2 device opens once

    def capture(self) -> np.ndarray:
        """One frame (BGR) from the camera, after auto-exposure has settled."""
        if isinstance(self.source, str) and self.source.lower().endswith(_STILLS):
            image = cv2.imread(self.source, cv2.IMREAD_COLOR)
            if image is None:
                raise ScannerOffline(f"cannot read {self.source}")
            return image
        with self._lock:
            cap = cv2.VideoCapture(self.source)
            try:
                if not cap.isOpened():
                    raise ScannerOffline(f"VideoCapture({self.source!r}) did not open")
                if self.width and self.height:
                    cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
                    cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
                frame = None
                for _ in range(max(1, self.warmup)):
                    ok, f = cap.read()
                    if ok and f is not None:
                        frame = f
                if frame is None:
                    raise ScannerOffline(f"VideoCapture({self.source!r}) gave no frame")
                return frame
            finally:
                cap.release()

    def scan(self, resolution: int | None = None, mode: str | None = None, source: str | None = None) -> list[Page]:
        return [page_from_photo(self.capture(), int(resolution or DEFAULT_RESOLUTION), mode or DEFAULT_MODE)]

    def status(self) -> ScannerStatus:
        if isinstance(self.source, str) and self.source.lower().endswith(_STILLS):
            ok = Path(self.source).is_file()
        else:
            with self._lock:
                cap = cv2.VideoCapture(self.source)
                ok = cap.isOpened()
                cap.release()
        if not ok:
            return ScannerStatus.from_error(ScannerOffline(f"camera {self.source!r} not reachable"))
        return ScannerStatus(True, detail=str(self.source))

    def list_devices(self) -> list[DeviceInfo]:
        return [DeviceInfo(p.name.replace("video", ""), "", p.name, "v4l2")
                for p in sorted(Path("/dev").glob("video*"))]

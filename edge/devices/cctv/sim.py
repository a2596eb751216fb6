"""The simulated CCTV camera (``sim://name``): a moving scene with sensor noise that can be told to fail.

Faults, switchable at any time: ``frozen`` (keeps sending the same picture), ``black``, ``covered``
(a flat, dim picture), ``blurred`` (defocused), ``moved`` (the camera was knocked to a new view) and
``offline`` (no frames at all). One twin per name in a process, so the watch and a test (or the demo
operator) reach the same camera. :func:`scene` is also how tests and the benchmark make their frames.
"""

from __future__ import annotations

import threading
import time
import zlib
from functools import lru_cache

import cv2
import numpy as np

from edge.devices.cctv.base import CameraSource, Frame
from edge.devices.twins import Twins
from edge.devices.urls import DeviceUrl, parse

FAULTS = ("frozen", "black", "covered", "blurred", "moved", "offline")



@lru_cache(maxsize=16)
def _canvas(name: str, width: int, height: int) -> np.ndarray:
    """A fixed, textured background wider than the view, so a moved camera can look elsewhere."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    cw = int(width * 1.6)
    canvas = np.full((height, cw, 3), 120, np.uint8)
    # A gradient floor and wall, then furniture-like blocks and lines: enough edges to be "sharp".
    canvas[:] = np.linspace(90, 170, height, dtype=np.uint8)[:, None, None]
    for _ in range(40):
        x, y = int(rng.integers(0, cw)), int(rng.integers(0, height))
        w, h = int(rng.integers(width // 30, width // 6)), int(rng.integers(height // 30, height // 5))
        colour = tuple(int(c) for c in rng.integers(20, 235, 3))
        cv2.rectangle(canvas, (x, y), (x + w, y + h), colour, -1)
    for _ in range(30):
        p1 = (int(rng.integers(0, cw)), int(rng.integers(0, height)))
        p2 = (int(rng.integers(0, cw)), int(rng.integers(0, height)))
        cv2.line(canvas, p1, p2, tuple(int(c) for c in rng.integers(0, 255, 3)), max(1, width // 320))
    for i in range(8):
        cv2.putText(canvas, f"MTC {i} {name}", (int(rng.integers(0, cw - width // 4)), int(rng.integers(20, height))),
                    cv2.FONT_HERSHEY_SIMPLEX, width / 900, (240, 240, 240), max(1, width // 480))
    return canvas


def scene(name: str, t: float, size: tuple[int, int] = (640, 480), fault: str | None = None,
          noise: float = 3.0, rng: np.random.Generator | None = None, gain: float = 1.0) -> np.ndarray:
    """The picture camera ``name`` would show at time ``t`` (seconds) with ``fault`` (None: healthy).

    A person-sized block walks across the view, so consecutive healthy frames differ; ``noise`` is
    the sensor's per-pixel noise (grey levels) and ``gain`` a lighting change.
    """
    width, height = size
    rng = rng or np.random.default_rng(int(t * 1000) % (2**32))
    if fault == "black":
        return np.clip(rng.normal(4, 1.5, (height, width, 3)), 0, 255).astype(np.uint8)
    if fault == "covered":
        flat = np.full((height, width, 3), (38, 44, 52), np.float32)
        return np.clip(flat + rng.normal(0, 1.5, flat.shape), 0, 255).astype(np.uint8)
    canvas = _canvas(name, width, height)
    x0 = int(width * 0.3) if fault == "moved" else 0
    frame = canvas[:, x0:x0 + width].astype(np.float32)
    # The walker: across the view every 8 s, so a 1 s sample interval always sees it move.
    px = int((t % 8.0) / 8.0 * (width + width // 5)) - width // 10
    py = height // 3 + int(height / 10 * np.sin(t))
    cv2.rectangle(frame, (px, py), (px + width // 10, py + height // 2), (60, 90, 200), -1)
    cv2.circle(frame, (px + width // 20, py - height // 20), max(2, height // 18), (120, 160, 210), -1)
    frame *= gain
    if fault == "blurred":
        frame = cv2.GaussianBlur(frame, (0, 0), width / 110)
    if noise:
        frame += rng.normal(0, noise, frame.shape).astype(np.float32)
    return np.clip(frame, 0, 255).astype(np.uint8)


class SimCamera:
    """The twin: its picture at the current time, or the fault it was told to show."""

    def __init__(self, name: str, size: tuple[int, int] = (640, 480)):
        self.name = name
        self.size = size
        self._lock = threading.Lock()
        self._fault: str | None = None
        self._frozen: np.ndarray | None = None
        self.frames_served = 0

    def reset(self) -> None:
        """Back as it was made (:func:`edge.devices.twins.reset_all`)."""
        with self._lock:
            self._fault, self._frozen, self.frames_served = None, None, 0


    @property
    def fault(self) -> str | None:
        return self._fault

    def set_fault(self, fault: str | None) -> None:
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown camera fault {fault!r}; one of {', '.join(FAULTS)}")
        with self._lock:
            self._fault = fault
            self._frozen = None

    def frame(self, t: float | None = None) -> np.ndarray | None:
        """The current picture, or None while offline."""
        t = time.monotonic() if t is None else t
        with self._lock:
            fault = self._fault
            if fault == "offline":
                return None
            if fault == "frozen":
                if self._frozen is None:
                    self._frozen = scene(self.name, t, self.size)
                picture = self._frozen.copy()
            else:
                picture = scene(self.name, t, self.size, fault)
            self.frames_served += 1
            return picture


TWINS: Twins[SimCamera] = Twins("camera", SimCamera)


def device(name: str = "default") -> SimCamera:
    """The process-wide twin called ``name`` (created on first use)."""
    return TWINS.get(name)


def sim_settings(url: DeviceUrl) -> dict:
    """``sim://NAME?fault=covered``: a demo van whose camera starts out covered (from the settings file)."""
    url.refuse_unknown(("fault",))
    return dict(fault=url.choice("fault", FAULTS, None))


class SimSource(CameraSource):
    def __init__(self, url: str | DeviceUrl):
        url = parse("camera", url)
        settings = sim_settings(url)
        self.url = url.raw
        self.camera = device(url.name or "default")
        if settings["fault"]:
            self.camera.set_fault(settings["fault"])
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


"""The heartbeat of one camera: samples in, a debounced state out (ok / warning / error), with the faults named.

It takes frames and times as arguments, so it is tested on numpy frames without a clock or a network.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

import edge.devices.cctv.checks as checks
from edge.devices.cctv.base import Frame

# Severity of each fault, and the order in which they name the camera's state (first wins): a
# camera that is offline is not also "blurred".
FAULT_ORDER = ("offline", "dark", "frozen", "moved", "blurred")
ERROR_FAULTS = {"offline", "dark", "frozen"}


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

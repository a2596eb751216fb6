"""The watch loop: samples every camera (~1/s), the GPS and the modem, and writes their ``device_status`` rows.

A row is written when a device's state or message changes, and otherwise every ``heartbeat_s`` to
keep ``updated_at`` fresh: the events table grows with changes, and a commit per camera per
second would be most of this process's work.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sqlite_utils

from edge.devices.cctv import CameraMonitor, CctvTuning, open_camera, public_url
from edge.devices.gps import GpsReceiver
from edge.devices.modem import ModemStatus, judge, open_modem
from edge.services import watch_messages as messages
from edge.store import clock, device_status, disk

log = logging.getLogger("edge.services")


@dataclass(frozen=True)
class WatchTuning:
    cctv: CctvTuning = field(default_factory=CctvTuning)
    gps_every_s: float = 1.0
    gps_silent_after_s: float = 10.0  # no good sentence for this long: the receiver is silent
    modem_every_s: float = 15.0  # mmcli costs a D-Bus round trip; signal changes slowly
    heartbeat_s: float = 15.0
    thumbnail_every_s: float = 60.0


@dataclass(frozen=True)
class Reading:
    device: str
    kind: str
    state: str
    message_ar: str
    message_en: str
    detail: dict


def _tel(**values) -> dict:
    """The figures for the telemetry snapshot: flat scalars. What is not known is left out (not a -1
    the hub would chart); ``fault`` stays even when empty, which says the fault has cleared."""
    return {k: v for k, v in values.items() if k == "fault" or v not in (None, "")}


def reference_path(cctv_dir: Path, camera: str) -> Path:
    """Where camera ``camera``'s learned reference view is kept (under ``<data_dir>/cctv``)."""
    return cctv_dir / f"{camera}.reference.npz"


def taken_note_path(cctv_dir: Path, camera: str) -> Path:
    """When the camera's saved picture was taken on the boot clock (CameraWatch._note_taken, downlink.take_picture)."""
    return cctv_dir / f"{camera}.taken.json"


def forget_reference(cctv_dir: Path, camera: str) -> bool:
    """Accept a camera's new view: the running watch notices the file is gone and learns the view again."""
    try:
        reference_path(cctv_dir, camera).unlink()
        return True
    except FileNotFoundError:
        return False


class CameraWatch:
    def __init__(self, name: str, url: str, tuning: CctvTuning, thumbs_dir: Path | None = None,
                 thumbnail_every_s: float = 60.0):
        self.name = name
        self.url = url
        self.source = open_camera(url)
        self.monitor = CameraMonitor(name, tuning)
        self.thumbs_dir = thumbs_dir
        self.thumbnail_every_s = thumbnail_every_s
        self._thumb_at = 0.0
        self._thumb_seq: int | None = None  # the frame the saved picture is of
        self.shed = False  # the disk is low: no thumbnail is written (set by the Watch)
        self._reference_saved = False
        self._offline_since: str | None = None  # when this watch saw the camera go offline (wall clock, ISO)
        if thumbs_dir is not None and reference_path(thumbs_dir, name).is_file():
            try:
                with np.load(reference_path(thumbs_dir, name)) as stored:
                    self.monitor.restore_reference(stored["tiny"], float(stored["sharpness"]))
                self._reference_saved = True
            except (OSError, ValueError, KeyError) as exc:  # a damaged file: learn the view again
                log.warning("camera %s: stored reference view unreadable (%s); learning it again", name, exc)

    def sample(self, now: float) -> Reading:
        report = self.monitor.observe(self.source.latest(), now)
        ar, en = messages.camera(self.name, report.fault, report.state)
        detail = {
            "url": public_url(self.url),
            "fault": report.fault or "",
            "faults": list(report.faults),
            "learning": report.learning,
            **report.metrics,
            "tel": _tel(fault=report.fault or "", frame_age_s=report.metrics.get("frame_age_s")),
        }
        if report.fault == "offline":
            # When the watch saw it go (the state's ``since`` is when it turned to error: covered at 07:00, offline
            # at 09:30 said "offline since 07:00"); the van's answer to a picture asked goes by it (downlink).
            if self._offline_since is None:
                self._offline_since = datetime.now(UTC).isoformat()
            detail["offline_since"] = self._offline_since
            if self.source.last_error:
                detail["error"] = self.source.last_error[:200]
        else:
            self._offline_since = None
        self._save_thumbnail(now)
        self._keep_reference()
        return Reading(f"camera:{self.name}", "camera", report.state, ar, en, detail)

    def _save_thumbnail(self, now: float) -> None:
        # A file the web process can serve on request: the watch owns the cameras, the web does not.
        if self.thumbs_dir is None or now - self._thumb_at < self.thumbnail_every_s or self.shed:
            return
        if self.monitor.last_seq == self._thumb_seq:
            # No new frame (a camera that went offline keeps its last one): the file keeps its time, so the picture
            # sent to the hub is dated when it was taken, not restamped each minute as if it were new.
            return
        data = self.monitor.thumbnail()
        if data is None:
            return
        self._thumb_at, self._thumb_seq = now, self.monitor.last_seq
        self.thumbs_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.thumbs_dir / f".{self.name}.jpg.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.thumbs_dir / f"{self.name}.jpg")
        self._note_taken(self.thumbs_dir / f"{self.name}.jpg")

    def _note_taken(self, picture: Path) -> None:
        """Beside the picture, when it was taken on the boot clock (paired with the file by its time): NTP stepping
        the wall clock forward at the link's return made a picture taken seconds before "an hour old" (downlink)."""
        mark = clock.boot_clock()
        if mark is None:
            return
        try:
            note = {"mtime_ns": picture.stat().st_mtime_ns, "boot": mark[0], "boot_s": round(mark[1], 3)}
            tmp = picture.with_name(f".{picture.name}.taken.tmp")
            tmp.write_text(json.dumps(note))
            os.replace(tmp, taken_note_path(picture.parent, self.name))
        except OSError as exc:  # the picture's own time is used
            log.debug("camera %s: no note of when its picture was taken (%s)", self.name, exc)

    def _keep_reference(self) -> None:
        if self.thumbs_dir is None:
            return
        path = reference_path(self.thumbs_dir, self.name)
        if self._reference_saved and not path.exists():  # `edge watch --accept-view NAME` removed it
            log.info("camera %s: new view accepted; learning it", self.name)
            self.monitor.accept_view()
            self._reference_saved = False
            return
        reference = self.monitor.reference()
        if reference is None or not self.monitor.newly_learned:
            return
        self.monitor.newly_learned = False
        self.thumbs_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(tmp, tiny=reference[0], sharpness=np.float64(reference[1]))
        os.replace(tmp, path)
        self._reference_saved = True

    def close(self) -> None:
        self.source.close()


class GpsWatch:
    def __init__(self, url: str, tuning: WatchTuning):
        self.url = url
        self.silent_after_s = tuning.gps_silent_after_s
        self.receiver = GpsReceiver(url, receiving_within_s=tuning.gps_silent_after_s)
        self.started = time.monotonic()
        self._corrupt_seen = 0
        self._corrupt_at: float | None = None

    def sample(self, now: float) -> Reading:
        s = self.receiver.status(now)
        if s.corrupt > self._corrupt_seen:
            self._corrupt_seen, self._corrupt_at = s.corrupt, now
        garbling = self._corrupt_at is not None and now - self._corrupt_at < self.silent_after_s
        if s.fix:
            state, reason = "ok", "ok"
        elif s.receiving:
            state, reason = "warning", "no_fix"
        elif now - self.started < self.silent_after_s and not garbling:
            state, reason = "unknown", "unknown"
        else:
            state, reason = "error", "garbled" if garbling else "silent"
        ar, en = messages.gps(reason, satellites=s.satellites, fix_age_s=s.fix_age_s)
        detail: dict = {"fault": "" if reason in ("ok", "unknown") else reason, "satellites": s.satellites,
                        "sentences": s.sentences, "corrupt": s.corrupt}
        tel: dict = {"fix": s.fix, "satellites": s.satellites}
        if s.last_fix is not None:
            fix = s.last_fix
            detail.update(latitude=round(fix.latitude, 6), longitude=round(fix.longitude, 6),
                          speed_kmh=None if fix.speed_kmh is None else round(fix.speed_kmh, 1),
                          fix_utc=fix.utc, fix_age_s=round(s.fix_age_s or 0.0, 1))
            tel.update(lat=detail["latitude"], lon=detail["longitude"], fix_age_s=round(s.fix_age_s or 0.0))
        if s.last_error and not s.receiving:
            detail["error"] = s.last_error[:200]
        detail["tel"] = _tel(**tel)
        return Reading("gps", "gps", state, ar, en, detail)

    def close(self) -> None:
        self.receiver.close()


class DiskWatch:
    """Room left on the van's disk. Below ``low`` the watch sheds what can be rebuilt (camera thumbnails,
    device-event history) so that the room left goes to transactions; below ``reserve`` intake refuses
    new pages (edge.store.disk), and this row tells the operator and the governorate why."""

    def __init__(self, path: Path, low: int, reserve: int):
        self.path, self.low, self.reserve = path, low, reserve
        self.is_low = False

    def sample(self, now: float) -> Reading:
        try:
            free = disk.free_bytes(self.path)
        except OSError as exc:
            self.is_low = False
            return Reading("disk", "disk", "unknown", "تعذّر قياس مساحة القرص", "Disk space cannot be measured",
                           {"fault": "", "problem": str(exc)[:200], "tel": _tel(fault="")})
        self.is_low = free < self.low
        state = "error" if free < self.reserve else "warning" if self.is_low else "ok"
        free_mb = free // disk.MB
        ar, en = messages.disk(state, free_mb)
        fault = {"ok": "", "warning": "low", "error": "full"}[state]
        return Reading("disk", "disk", state, ar, en, {"fault": fault, "free_mb": free_mb,
                                                      "tel": _tel(fault=fault, free_mb=free_mb)})


class ModemWatch:
    """Polls the modem in its own thread: an mmcli call may take seconds and must not stall the cameras."""

    def __init__(self, url: str, tuning: WatchTuning):
        self.url = url
        self.modem = open_modem(url)
        self.every_s = tuning.modem_every_s
        self._status: ModemStatus | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="modem", daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                self._status = self.modem.status()
            except Exception as exc:  # a broken modem must not end the watch
                self._status = ModemStatus(present=None, problem=str(exc))
            self._stop.wait(self.every_s)

    def sample(self, now: float) -> Reading | None:
        s = self._status
        if s is None:
            return None
        verdict = judge(s)
        tech = "/".join(t.upper() for t in s.access_tech)
        ar, en = messages.modem(verdict.reason, operator=s.operator_name, tech=tech, signal=s.signal_percent)
        detail = {
            "fault": "" if verdict.reason in ("ok", "unknown") else verdict.reason,
            "state": s.state, "signal_percent": s.signal_percent, "access_tech": list(s.access_tech),
            "operator": s.operator_name, "operator_code": s.operator_code, "registration": s.registration,
            "model": s.model,
            "tel": _tel(signal=s.signal_percent, tech=tech.lower(), operator=s.operator_name or s.operator_code),
        }
        if s.problem:
            detail["problem"] = s.problem[:200]
        return Reading("modem", "modem", verdict.state, ar, en, detail)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)


class Watch:
    """Every monitor of the van, and the rows they write."""

    def __init__(self, db: sqlite_utils.Database, cameras: Mapping[str, str], gps: str | None, modem: str | None,
                 tuning: WatchTuning | None = None, thumbs_dir: Path | None = None, space: DiskWatch | None = None):
        self.db = db
        self.space = space
        self.t = tuning or WatchTuning()
        self.cameras = [CameraWatch(name, url, self.t.cctv, thumbs_dir, self.t.thumbnail_every_s)
                        for name, url in cameras.items()]
        self.gps = GpsWatch(gps, self.t) if gps else None
        self.modem = ModemWatch(modem, self.t) if modem else None
        self._written: dict[str, tuple[tuple, float]] = {}
        self._gps_at = 0.0

    def tick(self, now: float | None = None) -> list[Reading]:
        """Sample what is due; return the readings that were written to the database."""
        now = time.monotonic() if now is None else now
        readings: list[Reading | None] = [self.space.sample(now)] if self.space is not None else []
        for cam in self.cameras:
            cam.shed = self.shedding
            readings.append(cam.sample(now))
        if self.gps is not None and now - self._gps_at >= self.t.gps_every_s:
            self._gps_at = now
            readings.append(self.gps.sample(now))
        if self.modem is not None:
            readings.append(self.modem.sample(now))
        return [r for r in readings if r is not None and self._write(r, now)]

    def _write(self, r: Reading, now: float) -> bool:
        # Figures in the message (satellites, signal %) change all the time; they wait for the heartbeat.
        key = (r.state, r.detail.get("fault"), r.detail.get("learning"))
        last = self._written.get(r.device)
        if last is not None and last[0] == key and now - last[1] < self.t.heartbeat_s:
            return False
        changed = device_status.report(self.db, r.device, r.kind, r.state, message_ar=r.message_ar,
                                       message_en=r.message_en, detail=r.detail, history=not self.shedding)
        if changed:
            log.info("%s: %s — %s", r.device, r.state, r.message_en)
        self._written[r.device] = (key, now)
        return True

    @property
    def shedding(self) -> bool:
        """The disk is low: write only what transactions and the operator need."""
        return self.space is not None and self.space.is_low

    def run(self, stop: threading.Event) -> None:
        period = self.t.cctv.sample_every_s
        next_at = time.monotonic()
        while not stop.is_set():
            self.tick()
            next_at += period
            delay = next_at - time.monotonic()
            if delay < 0:  # fell behind (a slow disk, a busy CPU): skip, never try to catch up
                next_at, delay = time.monotonic(), 0.0
            stop.wait(delay)

    def close(self) -> None:
        for cam in self.cameras:
            cam.close()
        if self.gps is not None:
            self.gps.close()
        if self.modem is not None:
            self.modem.close()


def run(settings, stop: threading.Event, tuning: WatchTuning | None = None) -> None:
    """The ``edge watch`` process (and the runner's "watch" service) until ``stop`` is set."""
    from edge.store.db import open_db

    devices = settings.devices
    # Only status rows are written here, and they can be rebuilt: no full sync to disk for each one.
    with open_db(settings.db_path, durable=False) as db:
        space = DiskWatch(settings.data_dir, settings.storage.low_mb * disk.MB, settings.storage.reserve_mb * disk.MB)
        watch = Watch(db, devices.cameras, devices.gps, devices.modem, tuning,
                      thumbs_dir=settings.data_dir / "cctv", space=space)
        log.info("watching %d camera(s), GPS %s, modem %s", len(watch.cameras), devices.gps, devices.modem)
        try:
            watch.run(stop)
        finally:
            watch.close()

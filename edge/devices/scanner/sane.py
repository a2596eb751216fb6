"""Flatbed and sheet-fed scanners through SANE's ``scanimage`` (``sane://DEVICE?resolution=…&mode=…&source=…``).

Why ``scanimage`` and not python-sane: it ships with sane-utils on every Debian, needs no compile step,
and a scanner driver that crashes takes a child process down, not the web process. Its exit code is
the SANE status of the failure (SANE_STATUS_JAMMED = 6 …), and its messages are SANE's own
``sane_strstatus`` texts; both are mapped to the operator's errors of :mod:`edge.devices.scanner`.

A feeder batch writes one PNG per page into a temporary folder; only pages that scanimage reports as
finished ("Scanned page N.") are kept, so a page cut short by a jam is never returned.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np

import edge.devices.scanner.cleanup as page_cleanup
from edge.devices.scanner.base import (
    DEFAULT_MODE,
    DEFAULT_RESOLUTION,
    DEFAULT_SOURCE,
    BlankPage,
    DeviceInfo,
    Page,
    Scanner,
    ScannerBusy,
    ScannerCoverOpen,
    ScannerError,
    ScannerJammed,
    ScannerNoDocuments,
    ScannerOffline,
    ScannerStatus,
    ScannerTimeout,
)
from edge.devices.urls import DeviceUrl, parse

SCANIMAGE = "scanimage"
PAGE_TIMEOUT_S = 90      # a slow flatbed at 600 dpi colour takes ~40 s; beyond that it hangs
FAILURE_GRACE_S = 5     # after the device reported a failure, scanimage has this long to exit
MAX_FEEDER_PAGES = 100   # a feeder that never says "empty" must not fill the disk

# SANE_Status codes (sane.h) → error type. The exit code of scanimage is the status of the failure.
_STATUS_CODES = {3: ScannerBusy, 6: ScannerJammed, 7: ScannerNoDocuments, 8: ScannerCoverOpen}
# sane_strstatus texts, for when the exit code says nothing useful (e.g. a failed open).
_STATUS_TEXTS = (
    ("Document feeder jammed", ScannerJammed),
    ("Scanner cover is open", ScannerCoverOpen),
    ("Document feeder out of documents", ScannerNoDocuments),
    ("Device busy", ScannerBusy),
    ("no SANE devices found", ScannerOffline),
    ("open of device", ScannerOffline),
)
# "Scanned page N. (scanner status = S)": scanimage says it for a page cut short too; only S = 5
# (SANE_STATUS_EOF: the page ended normally) is a whole page.
_SCANNED = re.compile(r"Scanned page (\d+)\. \(scanner status = (\d+)\)")
# Short names an operator (or a settings file) uses for a scanner's sources.
_SOURCE_ALIASES = {"adf": ("automatic document feeder", "adf", "feeder", "document feeder"),
                   "flatbed": ("flatbed", "normal", "document table")}


_OPTION_NAME = re.compile(r"[a-z][a-z0-9-]*")


def sane_settings(url: DeviceUrl) -> dict:
    """``sane://DEVICE?resolution=200&mode=Gray&source=ADF&clean=1`` and backend options passed through
    to scanimage as ``--name=value`` (e.g. the test backend's ``test-picture``)."""
    extra = {k: v for k, v in url.options.items() if k not in ("resolution", "mode", "source", "clean")}
    for key in extra:
        if not _OPTION_NAME.fullmatch(key):
            raise url.error(f"'{key}' is not a scanner option name", f"«{key}» ليس اسم خيار للماسح")
    return dict(device=url.target, resolution=url.number("resolution", DEFAULT_RESOLUTION, kind=int, low=50, high=1200),
                mode=url.text("mode", DEFAULT_MODE), source=url.text("source", DEFAULT_SOURCE),
                clean=url.flag("clean"), extra=extra)


class SaneScanner(Scanner):
    def __init__(self, url: str | DeviceUrl, *, env: dict[str, str] | None = None, scanimage: str = SCANIMAGE):
        url = parse("scanner", url)
        settings = sane_settings(url)
        self.url = url.raw
        self.device = settings["device"]
        self.resolution = settings["resolution"]
        self.mode = settings["mode"]
        self.source = settings["source"]
        self.clean = settings["clean"]
        # Extra backend options (e.g. the test backend's test-picture), passed through as --name=value.
        self.extra = settings["extra"]
        self.env = env
        self.scanimage = scanimage
        self._sources: list[str] | None = None

    # --- interface --------------------------------------------------------------------------------

    def scan(self, resolution: int | None = None, mode: str | None = None, source: str | None = None) -> list[Page]:
        resolution = int(resolution or self.resolution)
        mode = mode or self.mode
        source = self._resolve_source(source or self.source)
        feeder = _is_feeder(source)
        args = self._device_args() + [f"--resolution={resolution}", f"--mode={mode}", "--format=png"]
        if source:
            args.append(f"--source={source}")
        args += [f"--{k}={v}" for k, v in self.extra.items()]
        with tempfile.TemporaryDirectory(prefix="scan-") as tmp:
            if feeder:
                args += [f"--batch={tmp}/page-%d.png", f"--batch-count={MAX_FEEDER_PAGES}"]
            else:
                args += ["-o", f"{tmp}/page-1.png"]
            rc, err = self._run(args, timeout=PAGE_TIMEOUT_S * (10 if feeder else 1))
            done = sorted(int(n) for n, st in _SCANNED.findall(err) if st == "5") if feeder else []
            if not feeder and _failure(rc, err) is None:
                done = [1]
            pages = [self._page(Path(tmp) / f"page-{n}.png", resolution, source, n) for n in done]
        pages = [p for p in pages if p is not None]
        failure = _failure(rc, err)
        if feeder and failure is ScannerNoDocuments and pages:
            failure = None  # the feeder ran empty after the last page: the normal end of a batch
        if failure is not None:
            raise failure(f"scanimage exit {rc}: {_tail(err)}", pages=pages)
        if not pages:
            raise ScannerError(f"scanimage exit {rc} but no page: {_tail(err)}")
        blank = [(p.index, page_cleanup.blank_reason(p.image)) for p in pages]
        blank = [(i, why) for i, why in blank if why]
        if blank:
            i, why = blank[0]
            raise BlankPage(f"page {i}: {why}", pages=[p for p in pages if p.index < i])
        if self.clean:
            for p in pages:
                p.image = page_cleanup.clean(p.image)
        return pages

    def status(self) -> ScannerStatus:
        names = [d.name for d in self._list()]
        if not names:
            return ScannerStatus.from_error(ScannerOffline("scanimage -L found no device"))
        if self.device and self.device not in names:
            return ScannerStatus.from_error(ScannerOffline(f"{self.device} not among {names}"))
        return ScannerStatus(True, detail=self.device or names[0])

    def list_devices(self) -> list[DeviceInfo]:
        return self._list()

    # --- helpers ----------------------------------------------------------------------------------

    def _device_args(self) -> list[str]:
        return [f"--device-name={self.device}"] if self.device else []

    def _list(self) -> list[DeviceInfo]:
        rc, out = self._run(["--formatted-device-list=%d\t%v\t%m\t%t%n"], timeout=30, stdout=True)
        devices = []
        for line in out.splitlines():
            parts = line.split("\t")
            if len(parts) == 4 and parts[0]:
                devices.append(DeviceInfo(*parts))
        return devices

    def _resolve_source(self, wanted: str) -> str:
        """The device's own name for ``wanted`` ('ADF' → 'Automatic Document Feeder' on one, 'ADF Front' on another)."""
        if not wanted:
            return ""
        if self._sources is None:
            rc, out = self._run(self._device_args() + ["--help"], timeout=30, stdout=True)
            m = re.search(r"--source ([^\[\n]+)", out)
            self._sources = [s.strip() for s in m.group(1).split("|")] if m else []
        if not self._sources or wanted in self._sources:
            return wanted
        for alias in _SOURCE_ALIASES.get(wanted.lower(), (wanted.lower(),)):
            for s in self._sources:
                low = s.lower()
                if low == alias or (alias != "normal" and low.startswith(alias) and "duplex" not in low):
                    return s
        return wanted

    def _run(self, args: list[str], *, timeout: float, stdout: bool = False) -> tuple[int, str]:
        if shutil.which(self.scanimage) is None:
            raise ScannerOffline("scanimage is not installed (apt-get install sane-utils)")
        env = dict(os.environ, **(self.env or {}))
        if stdout:
            try:
                proc = subprocess.run([self.scanimage, *args], capture_output=True, timeout=timeout, env=env,
                                      stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired as e:
                raise ScannerTimeout(f"scanimage {' '.join(args)} ran over {timeout} s") from e
            return proc.returncode, proc.stdout.decode("utf-8", "replace")
        return self._run_scan(args, timeout, env)

    def _run_scan(self, args: list[str], timeout: float, env: dict[str, str]) -> tuple[int, str]:
        """Run a scan, watching stderr: once the device has reported a failure, scanimage gets a few
        seconds to exit. Its signal handler can hang in sane_cancel after a failed read (seen with the
        test backend), and the operator should not wait for the long per-page timeout to hear "jammed"."""
        proc = subprocess.Popen([self.scanimage, *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=env)
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(
            raw.decode("utf-8", "replace") for raw in iter(proc.stderr.readline, b"")), daemon=True)
        reader.start()
        deadline = time.monotonic() + timeout
        failed_at = None
        try:
            while proc.poll() is None:
                now = time.monotonic()
                if failed_at is None and _reported_failure("".join(lines)):
                    failed_at = now
                if now > deadline or (failed_at is not None and now - failed_at > FAILURE_GRACE_S):
                    proc.kill()
                    proc.wait()
                    reader.join(2)
                    if failed_at is not None:
                        return proc.returncode or 1, "".join(lines)
                    raise ScannerTimeout(f"scanimage {' '.join(args)} ran over {timeout} s: {_tail(''.join(lines))}")
                time.sleep(0.05)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        reader.join(5)
        proc.stderr.close()
        return proc.returncode, "".join(lines)

    @staticmethod
    def _page(path: Path, dpi: int, source: str, index: int) -> Page | None:
        if not path.exists() or path.stat().st_size == 0:
            return None
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if image is None:
            return None
        if image.dtype != np.uint8:  # 16-bit depth: the JPEG pages are 8-bit anyway
            image = (image >> 8).astype(np.uint8)
        if image.ndim == 3 and image.shape[2] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
        return Page(image, dpi, source or "Flatbed", index)


def _is_feeder(source: str) -> bool:
    s = source.lower()
    return "feeder" in s or "adf" in s or "duplex" in s


# scanimage's line for any SANE call that failed: "scanimage: sane_read: Error during device I/O".
_SANE_CALL_FAILED = re.compile(r"scanimage: sane_\w+: ")


def _reported_failure(err: str) -> bool:
    """The device has said it failed (a known status, or any failed SANE call): the scan is over."""
    return _failure(1, err) not in (None, ScannerError) or bool(_SANE_CALL_FAILED.search(err))


def _failure(rc: int, err: str) -> type[ScannerError] | None:
    # The texts first: scanimage can exit 0 after a failed read (a SIGPIPE from the backend's reader
    # process ends it through its signal handler), but it has printed the status before.
    for text, kind in _STATUS_TEXTS:
        if text.lower() in err.lower():
            return kind
    if rc == 0:
        return ScannerError if "received signal" in err else None
    return _STATUS_CODES.get(rc, ScannerError)


def _tail(err: str) -> str:
    return " | ".join(line for line in err.strip().splitlines()[-2:])[-300:]

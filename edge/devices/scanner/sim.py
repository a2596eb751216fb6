"""The simulated scanner (``sim://``): scans a generated text page, runs a feeder batch, and can be told to fail.

Faults, switched by URL (``sim://?fault=jammed``) or at run time (``device("").set_fault("cover_open")``):
``jammed``, ``cover_open``, ``no_documents``, ``unplugged``, ``busy``, ``blank`` (the sheet was fed
upside down) and ``jam_after=N`` (the feeder jams on page N+1 of a batch). Every ``open_scanner("sim://x")``
in a process reaches the same twin, so a test and the web app see the same feeder.
"""

from __future__ import annotations

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
    ScannerJammed,
    ScannerNoDocuments,
    ScannerOffline,
    ScannerStatus,
)
from edge.devices.twins import Twins
from edge.devices.urls import DeviceUrl, parse

FAULTS = {
    "jammed": ScannerJammed,
    "cover_open": ScannerCoverOpen,
    "no_documents": ScannerNoDocuments,
    "unplugged": ScannerOffline,
    "busy": ScannerBusy,
}


class SimScanner(Scanner):
    def __init__(self, name: str = "", *, fault: str = "", sheets: int = 3, jam_after: int | None = None):
        self.url = f"sim://{name}"
        self.name = name
        self.fault = ""
        self.set_fault(fault)
        self.sheets = sheets          # pages waiting in the feeder
        self.jam_after = jam_after
        self.scans = 0

    def reset(self) -> None:
        """Back as it was made (:func:`edge.devices.twins.reset_all`)."""
        self.__init__(self.name)


    @classmethod
    def from_url(cls, url: str | DeviceUrl) -> SimScanner:
        """The twin ``url`` names, with the URL's fault, sheets and jam_after applied (each time)."""
        url = parse("scanner", url)
        settings = sim_settings(url)
        twin = TWINS.get(url.name)
        if "fault" in settings:
            twin.set_fault(settings["fault"])
        if "sheets" in settings:
            twin.sheets = settings["sheets"]
        if "jam_after" in settings:
            twin.jam_after = settings["jam_after"]
        return twin

    def set_fault(self, fault: str) -> None:
        if fault and fault not in FAULTS and fault != "blank":
            raise ValueError(f"unknown fault {fault!r}: one of {', '.join([*FAULTS, 'blank'])}")
        self.fault = fault

    def clear(self) -> None:
        self.fault = ""
        self.jam_after = None

    def load(self, sheets: int) -> None:
        self.sheets = sheets

    def scan(self, resolution: int | None = None, mode: str | None = None, source: str | None = None) -> list[Page]:
        resolution = int(resolution or DEFAULT_RESOLUTION)
        mode = mode or DEFAULT_MODE
        source = source or DEFAULT_SOURCE
        feeder = source.lower() in ("adf", "automatic document feeder", "feeder")
        if self.fault in FAULTS:
            raise FAULTS[self.fault](f"sim scanner {self.name!r}: fault {self.fault}")
        if feeder and self.sheets <= 0:
            raise ScannerNoDocuments(f"sim scanner {self.name!r}: feeder empty")
        count = self.sheets if feeder else 1
        pages = []
        for i in range(1, count + 1):
            if feeder and self.jam_after is not None and i > self.jam_after:
                self.sheets -= len(pages)
                raise ScannerJammed(f"sim scanner {self.name!r}: jammed on page {i}", pages=pages)
            self.scans += 1
            image = sample_page(resolution, mode, seed=self.scans, blank=self.fault == "blank")
            why = page_cleanup.blank_reason(image)
            if why:
                raise BlankPage(f"sim scanner {self.name!r}: page {i} {why}", pages=pages)
            pages.append(Page(image, resolution, "ADF" if feeder else "Flatbed", i))
        if feeder:
            self.sheets = 0
        return pages

    def status(self) -> ScannerStatus:
        if self.fault in FAULTS:
            return ScannerStatus.from_error(FAULTS[self.fault](f"sim fault {self.fault}"))
        return ScannerStatus(True, detail=self.url)

    def list_devices(self) -> list[DeviceInfo]:
        return [] if self.fault == "unplugged" else [DeviceInfo(self.name or "sim", "edge", "simulated scanner", "sim")]


TWINS: Twins[SimScanner] = Twins("scanner", SimScanner)


def sim_settings(url: DeviceUrl) -> dict:
    """``sim://NAME?fault=jammed&sheets=3&jam_after=1`` (only what the URL names)."""
    url.refuse_unknown(("fault", "sheets", "jam_after"))
    settings: dict = {}
    if "fault" in url.options:
        settings["fault"] = url.choice("fault", ("", *FAULTS, "blank"))
    if "sheets" in url.options:
        settings["sheets"] = url.number("sheets", 3, kind=int, low=0, high=1000)
    if "jam_after" in url.options:
        settings["jam_after"] = url.number("jam_after", None, kind=int, low=0, high=1000)
    return settings


def device(name: str = "") -> SimScanner:
    """The twin behind ``sim://name`` (made on first use)."""
    return TWINS.get(name)


def sample_page(dpi: int = 200, mode: str = "Gray", *, seed: int = 0, blank: bool = False) -> np.ndarray:
    """An A5 form page at ``dpi``: a heading, lines of text, a table; small (A5) so tests stay fast."""
    w, h = int(148 / 25.4 * dpi), int(210 / 25.4 * dpi)
    img = np.full((h, w, 3), 250, np.uint8)
    if not blank:
        rng = np.random.default_rng(seed)
        unit = dpi / 25.4  # px per mm
        cv2.putText(img, f"ARAB REPUBLIC OF EGYPT - FORM {seed:03d}", (int(12 * unit), int(20 * unit)),
                    cv2.FONT_HERSHEY_DUPLEX, 0.08 * unit, (20, 20, 20), max(1, int(unit / 4)), cv2.LINE_AA)
        y = 32 * unit
        while y < h - 50 * unit:
            words = " ".join("".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz0123456789"), int(rng.integers(2, 9))))
                             for _ in range(6))
            cv2.putText(img, words, (int(12 * unit), int(y)), cv2.FONT_HERSHEY_SIMPLEX, 0.05 * unit, (30, 30, 30),
                        max(1, int(unit / 6)), cv2.LINE_AA)
            y += 7 * unit
        for k in range(5):
            yy = int(h - (45 - 7 * k) * unit)
            cv2.line(img, (int(12 * unit), yy), (int(w - 12 * unit), yy), (40, 40, 40), max(1, int(unit / 5)))
        cv2.circle(img, (int(w - 30 * unit), int(h - 20 * unit)), int(12 * unit), (150, 60, 30), max(1, int(unit / 3)))
    if mode.lower().startswith("gray") or mode.lower() in ("lineart", "binary"):
        return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    return img

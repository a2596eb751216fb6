"""The simulated QR reader (``sim://``): codes are fed to it by a test or the demo, and it can be unplugged.

One twin per name in a process, like the printer's: ``sim://`` and ``sim://desk`` are two readers, and
every ``device("desk")`` reaches the same one, so a test feeds the reader the web app listens to.
It also keeps raw bytes, so a test can show that undecodable bytes do not stop the reader.
"""

from __future__ import annotations

import queue

from edge.devices.qr.base import QrDeviceError, clean_code, text_from_bytes
from edge.devices.twins import Twins
from edge.devices.urls import DeviceUrl, parse


class SimReader:
    """The device: a queue of scans and an "unplugged" switch. Thread-safe."""

    def __init__(self, name: str = ""):
        self.name = name
        self.unplugged = False
        self._scans: queue.Queue[bytes | str] = queue.Queue()

    def reset(self) -> None:
        """Back as it was made (:func:`edge.devices.twins.reset_all`)."""
        self.__init__(self.name)


    def feed(self, *codes: str | bytes) -> None:
        """Scan codes (text, or raw bytes as a serial scanner would send them)."""
        for code in codes:
            self._scans.put(code)

    def set(self, *, unplugged: bool) -> None:
        self.unplugged = unplugged

    def take(self, timeout: float) -> list[str]:
        if self.unplugged:
            raise QrDeviceError(f"sim://{self.name} is unplugged")
        try:
            first = self._scans.get(timeout=timeout)
        except queue.Empty:
            return []
        items = [first]
        while True:
            try:
                items.append(self._scans.get_nowait())
            except queue.Empty:
                break
        texts = (text_from_bytes(i) if isinstance(i, bytes) else i for i in items)
        return [t for t in (clean_code(t) for t in texts) if t]


TWINS: Twins[SimReader] = Twins("qr", SimReader)


def device(name: str = "") -> SimReader:
    """The simulated reader called ``name`` (created on first use)."""
    return TWINS.get(name)


def sim_settings(url: DeviceUrl) -> dict:
    """``sim://NAME?debounce=2``"""
    url.refuse_unknown(("debounce",))
    return {}


class SimSource:
    kind = "sim"

    def __init__(self, url: str | DeviceUrl):
        url = parse("qr", url)
        sim_settings(url)
        self.url = url.raw
        self.scanner = device(url.name)

    @property
    def name(self) -> str:
        return f"sim://{self.scanner.name}"

    def open(self) -> None:
        if self.scanner.unplugged:
            raise QrDeviceError(f"{self.name} is unplugged")

    def read(self, timeout: float) -> list[str]:
        return self.scanner.take(timeout)

    def close(self) -> None:
        pass

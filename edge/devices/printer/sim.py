"""The simulated receipt printer (``sim://``): answers status like an Epson TM and can be told to fail.

Like the real thing it keeps the data it receives while it cannot print (paper out, cover open) and
prints it once it can again, unless the buffers are cleared; it can run out of paper in the middle of
a job; it can be unplugged, stop answering status requests, or jam its cutter. The demo van and most
tests use it; the real-part tests drive the serial driver over a pty instead.

One twin per name in a process: ``sim://`` and ``sim://front`` are two printers, and every
``open_printer("sim://front")`` reaches the same one (so the web app and a test see the same paper).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import edge.devices.printer.status as escpos_status
from edge.devices.printer.encode import CLEAR_BUFFERS
from edge.devices.printer.transport import Transport, TransportError
from edge.devices.twins import Twins
from edge.devices.urls import DeviceUrl


@dataclass
class SimJob:
    data: bytes
    complete: bool  # False: the paper ran out part-way; the rest is held in the printer


class SimPrinter:
    """The device: paper, cover, cutter, buffers. Thread-safe; faults may be switched at any time."""

    def __init__(self, name: str = "", *, paper: str = "ok", cover_open: bool = False, unplugged: bool = False,
                 mute: bool = False, cutter_jam: bool = False):
        self.name = name
        self._lock = threading.RLock()
        self.paper = paper  # ok / near-end / out
        self.cover_open = cover_open
        self.unplugged = unplugged
        self.mute = mute  # does not answer status requests (a one-way cable)
        self.cutter_jam = cutter_jam
        self.paper_left: int | None = None  # bytes it can still print before the paper runs out
        self.printed: list[SimJob] = []
        self.held = bytearray()  # received while it could not print
        self._answers = bytearray()
        self.status_queries = 0

    # -- faults ------------------------------------------------------------------------------------

    def set(self, **faults) -> None:
        with self._lock:
            for key, value in faults.items():
                if key not in ("paper", "cover_open", "unplugged", "mute", "cutter_jam", "paper_left"):
                    raise AttributeError(f"no such fault {key!r}")
                setattr(self, key, value)
            self._resume()

    def run_out_after(self, n_bytes: int) -> None:
        """The paper ends after ``n_bytes`` more bytes of print data (mid-job if the job is longer)."""
        self.set(paper_left=n_bytes)

    def load_paper(self) -> None:
        self.set(paper="ok", paper_left=None)

    @property
    def can_print(self) -> bool:
        return self.paper != "out" and not self.cover_open and not self.cutter_jam

    def _resume(self) -> None:
        # A real TM goes back online once paper and cover are fine, and prints what it was holding.
        if self.can_print and self.held:
            data, self.held = bytes(self.held), bytearray()
            self._print(data)

    def _print(self, data: bytes) -> None:
        if self.paper_left is not None and len(data) > self.paper_left:
            done, rest = data[: self.paper_left], data[self.paper_left:]
            self.printed.append(SimJob(done, complete=False))
            self.held += rest
            self.paper, self.paper_left = "out", None
            return
        if self.paper_left is not None:
            self.paper_left -= len(data)
        self.printed.append(SimJob(data, complete=True))

    # -- what the wire sees -----------------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        with self._lock:
            if self.unplugged:
                raise TransportError(f"sim printer {self.name!r} is unplugged")
            if len(data) == 3 and data[:2] == escpos_status.DLE_EOT:
                self.status_queries += 1
                if not self.mute:
                    self._answers.append(self.status_byte(data[2]))
            elif data == CLEAR_BUFFERS:
                self.held.clear()
            elif self.can_print:
                self._print(data)
            else:
                self.held += data

    def answer(self, n: int) -> bytes:
        with self._lock:
            if self.unplugged:
                raise TransportError(f"sim printer {self.name!r} is unplugged")
            out, self._answers = bytes(self._answers[:n]), self._answers[n:]
            return out

    def discard(self) -> None:
        with self._lock:
            self._answers.clear()

    def status_byte(self, n: int) -> int:
        """The byte an Epson TM answers to DLE EOT ``n`` in this state."""
        offline = not self.can_print
        if n == escpos_status.PRINTER:
            return 0x12 | (0x08 if offline else 0)
        if n == escpos_status.OFFLINE_CAUSE:
            return (0x12 | (0x04 if self.cover_open else 0) | (0x20 if self.paper == "out" else 0)
                    | (0x40 if self.cutter_jam else 0))
        if n == escpos_status.ERROR_CAUSE:
            return 0x12 | (0x08 if self.cutter_jam else 0)
        if n == escpos_status.ROLL_PAPER:
            return 0x12 | {"ok": 0, "near-end": 0x0C, "out": 0x6C}[self.paper]
        return 0x12

    # -- for tests and the console ------------------------------------------------------------------

    @property
    def jobs(self) -> list[bytes]:
        """Every job printed to the end, in order."""
        with self._lock:
            return [j.data for j in self.printed if j.complete]

    def reset(self) -> None:
        with self._lock:
            self.__init__(self.name)


class SimTransport(Transport):
    description = "simulated printer"
    keep_open = True
    can_answer = True

    def __init__(self, device: SimPrinter):
        self.device = device
        self.description = f"simulated printer {device.name!r}" if device.name else "simulated printer"
        self._open = False

    def open(self) -> None:
        if self.device.unplugged:
            raise TransportError(f"sim printer {self.device.name!r} is unplugged")
        self._open = True

    @property
    def is_open(self) -> bool:
        return self._open

    def write(self, data: bytes) -> None:
        try:
            self.device.receive(data)
        except TransportError:
            self._open = False
            raise

    def read(self, n: int, timeout: float) -> bytes:
        out = self.device.answer(n)
        if not out and timeout > 0:
            time.sleep(min(timeout, 0.005))  # a silent printer costs the caller its timeout, briefly
        return out

    def discard_input(self) -> None:
        self.device.discard()

    def close(self) -> None:
        self._open = False


TWINS: Twins[SimPrinter] = Twins("printer", SimPrinter)
SIM_OPTIONS = ("paper", "cover", "mute", "unplugged", "cutter")


def device(name: str = "") -> SimPrinter:
    """The process's simulated printer called ``name`` (created on first use)."""
    return TWINS.get(name)


def sim_settings(url: DeviceUrl) -> dict:
    """``sim://NAME?paper=near-end|out&cover=open&mute=1&unplugged=1&cutter=jam``"""
    return dict(paper=url.choice("paper", ("ok", "near-end", "out"), "ok"),
                cover_open=url.choice("cover", ("open", "closed"), "closed") == "open",
                mute=url.flag("mute"), unplugged=url.flag("unplugged"),
                cutter_jam=url.choice("cutter", ("jam", "ok"), "ok") == "jam")


def transport(url: DeviceUrl, settings: dict) -> SimTransport:
    """The wire to twin ``url.name``; the URL's faults apply when this makes the twin."""
    sim, created = TWINS.obtain(url.name)
    if created:
        sim.set(**settings)
    return SimTransport(sim)

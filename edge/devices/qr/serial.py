"""QR scanners in USB-serial (CDC/ACM) mode: bytes from pyserial cut into codes by a terminator or a pause.

URL: ``serial:///dev/ttyACM0?baudrate=9600&terminator=CR&idle=0.3``

* ``terminator``: CR (the factory setting of most scanners), LF, CRLF, TAB or NONE. With NONE a code
  ends when the line has been quiet for ``idle`` seconds.
* ``idle`` (default 0.3 s; 0.15 s with NONE): also a safety net with a terminator — a scanner set to a
  different suffix than the van's settings still delivers its codes, one pause late, instead of
  gluing them together forever.
* ``baudrate`` (default 9600), ``bytesize``/``parity``/``stopbits`` rarely need changing.
"""

from __future__ import annotations

import os
import time

import serial

from edge.devices.qr.base import QrDeviceError, clean_code, text_from_bytes
from edge.devices.urls import SERIAL_LINE_OPTIONS, DeviceUrl, parse, serial_line

TERMINATORS = {"CR": b"\r", "LF": b"\n", "CRLF": b"\r\n", "TAB": b"\t", "NONE": b""}
# A scanner sends a code in one burst; nothing sane is longer than a large QR code (≈ 3 KB).
MAX_LINE = 8192


class LineSplitter:
    """Bytes in, codes out: split on the terminator, or after ``idle`` seconds of silence."""

    def __init__(self, terminator: bytes, idle: float):
        self.terminator = terminator
        self.idle = idle
        self._buffer = bytearray()
        self._last_byte = 0.0

    def feed(self, data: bytes, now: float) -> list[str]:
        codes: list[str] = []
        if data:
            self._buffer += data
            self._last_byte = now
            if self.terminator:
                *complete, rest = bytes(self._buffer).split(self.terminator)
                self._buffer = bytearray(rest)
                codes.extend(complete)
            if len(self._buffer) > MAX_LINE:  # noise on the line, or a wrong baud rate: do not grow forever
                codes.append(bytes(self._buffer))
                self._buffer.clear()
        elif self._buffer and now - self._last_byte >= self.idle:
            codes.append(bytes(self._buffer))
            self._buffer.clear()
        return [text for text in (clean_code(text_from_bytes(c)) for c in codes) if text]

    def reset(self) -> None:
        self._buffer.clear()


SERIAL_OPTIONS = ("terminator", "idle", *SERIAL_LINE_OPTIONS, "debounce")


def serial_settings(url: DeviceUrl) -> dict:
    """``serial:///dev/ttyACM0?terminator=CR&baudrate=9600&idle=0.3``"""
    url.refuse_unknown(SERIAL_OPTIONS)
    port = url.need_path("serial:///dev/ttyACM0")
    terminator = url.choice("terminator", (*TERMINATORS, *(t.lower() for t in TERMINATORS)), "CR").upper()
    return dict(
        port=port, terminator=terminator,
        idle=url.number("idle", 0.15 if terminator == "NONE" else 0.3, low=0.01, high=10),
        **serial_line(url, 9600),
    )


class SerialSource:
    """One serial scanner. ``read()`` returns the codes that arrived; QrDeviceError when it is gone."""

    kind = "serial"

    def __init__(self, url: str | DeviceUrl):
        url = parse("qr", url)
        settings = serial_settings(url)
        self.url = url.raw
        self.port = settings["port"]
        self.baudrate = settings["baudrate"]
        self.bytesize = settings["bytesize"]
        self.parity = settings["parity"]
        self.stopbits = settings["stopbits"]
        self.splitter = LineSplitter(TERMINATORS[settings["terminator"]], settings["idle"])
        self._serial: serial.Serial | None = None

    @property
    def name(self) -> str:
        return self.port

    def open(self) -> None:
        self.close()
        try:
            self._serial = serial.Serial(self.port, self.baudrate, bytesize=self.bytesize, parity=self.parity,
                                         stopbits=self.stopbits, timeout=0.05,
                                         exclusive=True)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise QrDeviceError(f"cannot open {self.port}: {exc}") from exc
        self.splitter.reset()

    def read(self, timeout: float) -> list[str]:
        """Wait up to ``timeout`` for bytes; the codes completed by them (or by a pause)."""
        if self._serial is None:
            raise QrDeviceError(f"{self.port} is not open")
        deadline = time.monotonic() + timeout
        try:
            while True:
                data = self._serial.read(max(1, self._serial.in_waiting))
                codes = self.splitter.feed(data, time.monotonic())
                if codes or time.monotonic() >= deadline:
                    break
            if not data and not os.path.exists(self.port):
                # Some USB-serial drivers keep a vanished device's file handle quiet instead of failing.
                raise QrDeviceError(f"{self.port} has disappeared (unplugged)")
            return codes
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise QrDeviceError(f"{self.port}: {exc}") from exc

    def close(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            except (serial.SerialException, OSError):
                pass
            self._serial = None

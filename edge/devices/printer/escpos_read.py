"""A small ESC/POS parser: the byte stream a printer received, read back into what it would print.

The console draws the last papers from it (:mod:`edge.devices.printer.paper`: a picture made from the very bytes
sent, for the real printer and its twin alike), and the tests decode what the printer received with it. It
understands what the van sends (text with ESC a / ESC E / GS !, ``GS v 0`` rasters, ``GS ( k`` QR
codes, ESC J / ESC d feeds, GS V cuts) and the real-time requests (DLE EOT status, DLE DC4 buffer
clear). It is incremental, so a test that plays the printer can feed it whatever the wire delivers and
answer a status request as soon as it is complete, never mistaking raster bytes for one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

ESC, GS, DLE, LF = 0x1B, 0x1D, 0x10, 0x0A


@dataclass
class Text:
    text: str
    align: int
    bold: bool
    size: int  # GS ! n


@dataclass
class Raster:
    image: Image.Image = field(repr=False)  # mode "1", black ink = 0
    align: int = 0


@dataclass
class Qr:
    data: str
    module: int
    error: str


@dataclass
class Feed:
    dots: int = 0
    lines: int = 0


@dataclass
class Cut:
    partial: bool


@dataclass
class StatusQuery:
    n: int


@dataclass
class ClearBuffers:
    pass


@dataclass
class Init:
    pass


Command = Text | Raster | Qr | Feed | Cut | StatusQuery | ClearBuffers | Init


class Incomplete(Exception):
    """The buffer ends inside a command: wait for more bytes."""


class Decoder:
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.align = 0
        self.bold = False
        self.size = 0
        self.line = bytearray()
        # GS ( k state: the printer keeps module size, error level and the stored data until "print".
        self._qr_module = 3
        self._qr_error = "L"
        self._qr_data = b""

    def feed(self, data: bytes) -> list[Command]:
        self.buffer += data
        out: list[Command] = []
        while self.buffer:
            try:
                used, commands = self._one(self.buffer)
            except Incomplete:
                break
            del self.buffer[:used]
            out.extend(commands)
        return out

    def _need(self, buf: bytearray, n: int) -> None:
        if len(buf) < n:
            raise Incomplete

    def _flush_line(self) -> list[Command]:
        text = self.line.decode("ascii")
        self.line.clear()
        return [Text(text, self.align, self.bold, self.size)]

    def _one(self, buf: bytearray) -> tuple[int, list[Command]]:
        b = buf[0]
        if b == LF:
            return 1, self._flush_line()
        if 0x20 <= b <= 0x7E:
            self.line.append(b)
            return 1, []
        if b == DLE:
            self._need(buf, 2)
            if buf[1] == 0x04:
                self._need(buf, 3)
                return 3, [StatusQuery(buf[2])]
            if buf[1] == 0x14:
                self._need(buf, 3)
                if buf[2] == 0x08:
                    self._need(buf, 10)
                    return 10, [ClearBuffers()]
                raise ValueError(f"unknown DLE DC4 function {buf[2]}")
            raise ValueError(f"unknown DLE command {bytes(buf[:2])!r}")
        if b == ESC:
            self._need(buf, 2)
            c = buf[1]
            if c == ord("@"):
                self.align, self.bold, self.size = 0, False, 0
                return 2, [Init()]
            self._need(buf, 3)
            n = buf[2]
            if c == ord("a"):
                self.align = n
                return 3, []
            if c == ord("E"):
                self.bold = bool(n)
                return 3, []
            if c == ord("J"):
                return 3, [Feed(dots=n)]
            if c == ord("d"):
                return 3, [Feed(lines=n)]
            raise ValueError(f"unknown ESC command {bytes(buf[:3])!r}")
        if b == GS:
            self._need(buf, 2)
            c = buf[1]
            if c == ord("!"):
                self._need(buf, 3)
                self.size = buf[2]
                return 3, []
            if c == ord("V"):
                self._need(buf, 3)
                m = buf[2]
                if m in (0, 1, 48, 49):
                    return 3, [Cut(partial=m in (1, 49))]
                self._need(buf, 4)
                return 4, [Cut(partial=m in (66, 98))]
            if c == ord("v"):
                self._need(buf, 8)
                if buf[2] != ord("0"):
                    raise ValueError("only GS v 0 is understood")
                width_bytes = buf[4] | buf[5] << 8
                height = buf[6] | buf[7] << 8
                size = 8 + width_bytes * height
                self._need(buf, size)
                bits = bytes(buf[8:size])
                # GS v 0 sets a bit for a black dot; a PIL "1" image is 1 for white.
                image = Image.frombytes("1", (width_bytes * 8, height), bytes(x ^ 0xFF for x in bits))
                return size, [Raster(image, self.align)]
            if c == ord("("):
                self._need(buf, 5)
                if buf[2] != ord("k"):
                    raise ValueError(f"unknown GS ( {chr(buf[2])}")
                length = buf[3] | buf[4] << 8
                self._need(buf, 5 + length)
                return 5 + length, self._qr(bytes(buf[5:5 + length]))
            raise ValueError(f"unknown GS command {bytes(buf[:2])!r}")
        raise ValueError(f"unexpected byte {b:#04x}")

    def _qr(self, body: bytes) -> list[Command]:
        cn, fn = body[0], body[1]
        if cn != 49:
            raise ValueError(f"GS ( k for symbol type {cn} (only QR, 49)")
        if fn == 65:  # model
            return []
        if fn == 67:
            self._qr_module = body[2]
            return []
        if fn == 69:
            self._qr_error = {48: "L", 49: "M", 50: "Q", 51: "H"}[body[2]]
            return []
        if fn == 80:
            self._qr_data = body[3:]
            return []
        if fn == 81:
            return [Qr(self._qr_data.decode("utf-8"), self._qr_module, self._qr_error)]
        raise ValueError(f"GS ( k function {fn}")


def decode(data: bytes) -> list[Command]:
    """Every command of a complete byte stream (raises if it ends inside one)."""
    decoder = Decoder()
    commands = decoder.feed(data)
    if decoder.buffer:
        raise ValueError(f"stream ends inside a command: {bytes(decoder.buffer[:16])!r}")
    if decoder.line:
        commands.extend(decoder._flush_line())
    return commands


def texts(commands: list[Command]) -> list[str]:
    return [c.text for c in commands if isinstance(c, Text)]


def of_type(commands: list[Command], kind: type) -> list:
    return [c for c in commands if isinstance(c, kind)]

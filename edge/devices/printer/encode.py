"""Layout blocks to the ESC/POS byte stream a receipt printer reads, and printer profiles.

Text goes as text, the QR code as the printer's own ``GS ( k`` command when the profile has it (a
few dozen bytes instead of a raster), and only Arabic lines as ``GS v 0`` rasters cropped to their
ink. The raster and QR commands come from python-escpos; the small mode commands are written here
because python-escpos's ``set()`` re-sends every mode on each call.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from escpos.constants import ESC, GS, HW_INIT, QR_ECLEVEL_H, QR_ECLEVEL_L, QR_ECLEVEL_M, QR_ECLEVEL_Q
from escpos.printer import Dummy
from PIL import Image

import edge.devices.printer.raster as raster
from edge.devices.printer.layout import Block, Cut, Gap, Paper, Qr, Raster, Text

DEFAULT_PROFILE = "TM-T20II"
_ALIGN = {"left": 0, "center": 1, "right": 2}
_EC = {"L": QR_ECLEVEL_L, "M": QR_ECLEVEL_M, "Q": QR_ECLEVEL_Q, "H": QR_ECLEVEL_H}
# Real-time request: clear the receive and print buffers (DLE DC4 fn 8). Sent before a job is
# resent, so data a printer kept while it was out of paper is not printed on top of the new copy.
CLEAR_BUFFERS = b"\x10\x14\x08\x01\x03\x14\x01\x06\x02\x08"
FEED_BEFORE_CUT = 4  # lines between the last print and the cutter


@dataclass(frozen=True)
class PrinterProfile:
    """What differs between printer models. Built from python-escpos's capability database."""

    name: str = DEFAULT_PROFILE
    width: int = 576  # printable dots
    columns: int = 48  # font A characters per line
    native_qr: bool = True
    clear_buffers: bool = True

    @property
    def paper(self) -> Paper:
        return Paper(self.width, self.columns)

    @classmethod
    def named(cls, name: str | None = None, **overrides) -> PrinterProfile:
        """The python-escpos profile ``name`` (default TM-T20II), with ``overrides`` (width, columns …)."""
        from escpos.capabilities import get_profile

        name = name or DEFAULT_PROFILE
        try:
            data = get_profile(name).profile_data
        except Exception as exc:  # python-escpos raises its own NotSupported / KeyError mix
            raise ValueError(f"unknown printer profile {name!r}") from exc
        pixels = data.get("media", {}).get("width", {}).get("pixels")
        width = int(pixels) if str(pixels).isascii() and str(pixels).isdigit() else 576
        fonts = data.get("fonts", {})
        columns = int(fonts.get("0", {}).get("columns") or width // 12)
        native_qr = bool(data.get("features", {}).get("qrCode", False))
        profile = cls(name=name, width=width, columns=columns, native_qr=native_qr)
        return replace(profile, **{k: v for k, v in overrides.items() if v is not None})

    def dummy(self) -> Dummy:
        """A python-escpos byte collector for this model, with this profile's paper width."""
        dummy = Dummy(profile=self.name)
        data = dummy.profile.profile_data
        # An instance attribute: the class-level capability data other printers share stays as it is.
        dummy.profile.profile_data = {**data, "media": {**data.get("media", {}), "width": {"pixels": self.width}}}
        return dummy


class _Modes:
    """The modes the printer is in, so a command is only sent when a mode changes."""

    def __init__(self, out: bytearray):
        self.out = out
        self.align = self.bold = self.size = 0

    def set(self, align: int | None = None, bold: int | None = None, size: int | None = None) -> None:
        if align is not None and align != self.align:
            self.out += ESC + b"a" + bytes([align])
            self.align = align
        if bold is not None and bold != self.bold:
            self.out += ESC + b"E" + bytes([bold])
            self.bold = bold
        if size is not None and size != self.size:
            self.out += GS + b"!" + bytes([size])
            self.size = size


def raster_bytes(image: Image.Image, profile: PrinterProfile) -> bytes:
    """``GS v 0`` for a 1-bit image, through python-escpos."""
    dummy = profile.dummy()
    dummy.image(image.convert("1"), impl="bitImageRaster", high_density_vertical=True,
                high_density_horizontal=True, fragment_height=2400)
    return dummy.output


def native_qr_bytes(qr: Qr) -> bytes:
    """The ``GS ( k`` commands that make the printer draw the QR code itself."""
    dummy = Dummy()
    dummy.qr(qr.data, ec=_EC[qr.error], size=qr.module, native=True)
    return dummy.output


def encode(blocks: list[Block], profile: PrinterProfile) -> bytes:
    """The whole job as one ESC/POS byte stream, starting from a printer reset (``ESC @``)."""
    out = bytearray(HW_INIT)
    modes = _Modes(out)
    for block in blocks:
        if isinstance(block, Text):
            scale = block.scale - 1
            modes.set(_ALIGN[block.align], int(block.bold), (scale << 4) | scale)
            out += block.text.encode("ascii") + b"\n"
        elif isinstance(block, Raster):
            if block.image.width == 0:
                continue
            if block.image.width > profile.width:
                raise ValueError(f"raster {block.image.width} dots wide on {profile.width}-dot paper")
            modes.set(_ALIGN[block.align])
            out += raster_bytes(block.image, profile)
        elif isinstance(block, Qr):
            modes.set(_ALIGN["center"])
            if profile.native_qr:
                out += native_qr_bytes(block)
                # The symbol is printed in its own line; ESC J 0 ends it without extra paper.
                out += ESC + b"J\x00"
            else:
                out += raster_bytes(raster.qr_image(block.data, block.module, block.error), profile)
        elif isinstance(block, Gap):
            dots = block.dots
            while dots > 0:
                out += ESC + b"J" + bytes([min(dots, 255)])
                dots -= 255
        elif isinstance(block, Cut):
            modes.set(0, 0, 0)
            out += ESC + b"d" + bytes([FEED_BEFORE_CUT])
            out += GS + b"V\x01"  # partial cut: the receipt hangs on a tab instead of falling
        else:
            raise TypeError(f"unknown block {block!r}")
    return bytes(out)


def naive_raster(page: Image.Image, profile: PrinterProfile) -> bytes:
    """The whole page as one raster (how a receipt is printed without any of this): the baseline."""
    return bytes(HW_INIT) + raster_bytes(page, profile) + ESC + b"d" + bytes([FEED_BEFORE_CUT]) + GS + b"V\x01"

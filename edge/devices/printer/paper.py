"""What a printer was sent, as a picture of the paper: the ESC/POS bytes read back (:mod:`escpos_read`) and drawn.

The console's status page shows the last papers each printer printed (issue 18): made from the very bytes
that went down the wire, not from the document they were meant to show, so a fault in the encoder shows
too. The twin and a real printer are drawn the same way. Drawing reuses :mod:`preview` (font A cells, QR
modules, feeds and the cut), so the picture has the paper's dots: 576 wide on 80 mm paper.
"""

from __future__ import annotations

from PIL import Image

import edge.devices.printer.escpos_read as escpos_read
import edge.devices.printer.preview as printer_preview
from edge.devices.printer.layout import Block, Cut, Gap, Paper, Qr, Raster, Text

_ALIGN = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}


def blocks_of(data: bytes) -> list[Block]:
    """The layout blocks the printer drew from ``data`` (ValueError for bytes that are not ESC/POS it knows)."""
    out: list[Block] = []
    for command in escpos_read.decode(data):
        if isinstance(command, escpos_read.Text):
            scale = 2 if command.size & 0x11 else 1  # GS ! 0x11: double width and height
            out.append(Text(command.text, _ALIGN.get(command.align, "left"), command.bold, scale))
        elif isinstance(command, escpos_read.Raster):
            out.append(Raster(command.image, _ALIGN.get(command.align, "left")))
        elif isinstance(command, escpos_read.Qr):
            out.append(Qr(command.data, command.module, command.error))
        elif isinstance(command, escpos_read.Feed):
            out.append(Gap(command.dots + command.lines * printer_preview.LINE))
        elif isinstance(command, escpos_read.Cut):
            if out and isinstance(out[-1], Gap) and out[-1].dots == printer_preview.FEED_BEFORE_CUT_LINES * \
                    printer_preview.LINE:
                out.pop()  # the feed before the cut is part of the cut's drawing
            out.append(Cut())
    return out


def picture(data: bytes, paper: Paper = printer_preview.DEFAULT_PAPER) -> Image.Image:
    """The paper ``data`` prints, as a 1-bit image ``paper.width`` dots wide."""
    return printer_preview.render(blocks_of(data), paper)

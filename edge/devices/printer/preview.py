"""A picture of the paper: the layout blocks drawn as the printer draws them, for the console and the docs."""

from __future__ import annotations

import functools
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

import edge.devices.printer.raster as raster
from edge.devices.printer.layout import Block, Cut, Gap, Paper, Qr, Raster, Text

# Font A of an 80-mm printer: 12 x 24 dots per character; a text line advances 30 dots (1/6 inch
# at the printers' default line spacing, rounded).
CHAR_W, CHAR_H, LINE = 12, 24, 30
FEED_BEFORE_CUT_LINES = 4
_MONO = Path("/usr/share/fonts/truetype/dejavu")
DEFAULT_PAPER = Paper()


@functools.lru_cache(maxsize=8)
def _mono(bold: bool, scale: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # DejaVu Sans Mono advances 0.602 em: 20 px gives the printer's 12-dot cell.
    name = "DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf"
    try:
        return ImageFont.truetype(str(_MONO / name), 20 * scale)
    except OSError:
        return ImageFont.load_default(20 * scale)


def _x(align: str, width: int, paper: int) -> int:
    return {"left": 0, "center": (paper - width) // 2, "right": paper - width}[align]


def page_height(blocks: list[Block]) -> int:
    """How many dots of paper the blocks take, to the cut."""
    return sum(_height(block) for block in blocks)


def render(blocks: list[Block], paper: Paper = DEFAULT_PAPER) -> Image.Image:
    """The page as a 1-bit image ``paper.width`` dots wide, ending at the cut."""
    height = page_height(blocks)
    page = Image.new("1", (paper.width, max(height, 1)), 1)
    draw = ImageDraw.Draw(page)
    y = 0
    for block in blocks:
        if isinstance(block, Text):
            font = _mono(block.bold, block.scale)
            width = len(block.text) * CHAR_W * block.scale
            draw.text((_x(block.align, width, paper.width), y), block.text, font=font, fill=0)
        elif isinstance(block, Raster):
            page.paste(block.image, (_x(block.align, block.image.width, paper.width), y))
        elif isinstance(block, Qr):
            image = raster.qr_image(block.data, block.module, block.error)
            page.paste(image, (_x("center", image.width, paper.width), y))
        elif isinstance(block, Cut):
            for x in range(0, paper.width, 16):
                draw.line([(x, height - 1), (x + 8, height - 1)], fill=0)
        y += _height(block)
    return page


def _height(block: Block) -> int:
    if isinstance(block, Text):
        return LINE + CHAR_H * (block.scale - 1)
    if isinstance(block, Raster):
        return block.image.height
    if isinstance(block, Qr):
        return raster.qr_modules(block.data, block.error) * block.module
    if isinstance(block, Gap):
        return block.dots
    if isinstance(block, Cut):
        return FEED_BEFORE_CUT_LINES * LINE
    raise TypeError(f"unknown block {block!r}")

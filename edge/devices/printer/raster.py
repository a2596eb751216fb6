"""Lines a thermal printer cannot print as text (Arabic) rendered to tight 1-bit images with Pillow and Raqm.

ESC/POS code pages cannot shape Arabic, so an Arabic line goes to the printer as a raster image. The
text is given in logical order and Raqm (FriBiDi + HarfBuzz) does the joining, the lam-alef ligatures
and the right-to-left order; nothing here reshapes letters by hand.

The bundled Noto Naskh Arabic has no Latin letters, parentheses or slashes, and Pillow has no font
fallback. So a line is split into runs by font (Naskh where it has the glyph, Noto Sans otherwise)
and by bidi embedding level; each run is shaped by Raqm in its own direction, and the runs are
placed in visual order (rules W1-W7, N1-N2, I1-I2, L1-L2 of the Unicode Bidirectional Algorithm;
there are no explicit embeddings on a receipt). A line without missing glyphs is one run, and is
laid out by Raqm exactly as given.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, features

from edge.core.errors import EdgeError

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
ARABIC_REGULAR = FONTS_DIR / "NotoNaskhArabic-Regular.ttf"
ARABIC_BOLD = FONTS_DIR / "NotoNaskhArabic-Bold.ttf"
FALLBACK = FONTS_DIR / "NotoSans-Regular.ttf"

# Anti-aliased pixels darker than this become black dots. Above the midpoint (128) on purpose: thin
# Naskh strokes stay unbroken on a 203-dpi head.
THRESHOLD = 150


class RaqmMissing(EdgeError):
    code = "printer-raqm-missing"

    def __init__(self) -> None:
        super().__init__(
            "لا يمكن طباعة الإيصالات العربية: مكتبة تشكيل النص العربي libraqm غير مثبتة على جهاز العربة. "
            "اتصل بالدعم الفني لتثبيت الحزمة libraqm0.",
            "Arabic receipts cannot be printed: the Arabic text layout library libraqm is not installed on "
            "the van computer. Call technical support to install the package libraqm0.",
            detail="PIL.features.check('raqm') is False: install the Debian package libraqm0 (which brings "
            "libfribidi0 and libharfbuzz0b) and restart; Pillow loads libraqm at run time",
        )


def require_raqm() -> None:
    """Refuse to go on without Raqm: without it Pillow draws Arabic letters unjoined and left to right."""
    if not features.check("raqm"):
        raise RaqmMissing()


@functools.lru_cache(maxsize=32)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    path = ARABIC_BOLD if bold else ARABIC_REGULAR
    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM)


@functools.lru_cache(maxsize=32)
def fallback_font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FALLBACK), size, layout_engine=ImageFont.Layout.RAQM)


@functools.lru_cache(maxsize=4096)
def _covers(face: ImageFont.FreeTypeFont, char: str) -> bool:
    if char.isspace() or unicodedata.category(char) in ("Mn", "Cf"):
        return True  # marks and format characters shape with their base; spaces are in every font
    return bytes(face.getmask(char)) != _notdef_mask(face)


@functools.lru_cache(maxsize=64)
def _notdef_mask(face: ImageFont.FreeTypeFont) -> bytes:
    return bytes(face.getmask("\U0010fffd"))


# --------------------------------------------------------------------------------------------------
# Bidi: embedding levels and visual order of runs (UAX #9 without explicit embeddings)
# --------------------------------------------------------------------------------------------------

_NEUTRAL = {"B", "S", "WS", "ON", "BN"}
_EXPLICIT = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}


def _strong_direction(text: str) -> str | None:
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return "L"
        if kind in ("R", "AL"):
            return "R"
    return None


def paragraph_level(text: str) -> int:
    """0 for left-to-right, 1 for right-to-left: the first strong character decides (rules P2, P3)."""
    return 1 if _strong_direction(text) == "R" else 0


def embedding_levels(text: str, base: int) -> list[int]:
    """The resolved embedding level of every character of one line, in logical order."""
    types = []
    for char in text:
        kind = unicodedata.bidirectional(char) or "L"
        types.append("BN" if kind in _EXPLICIT else kind)
    n = len(types)
    sos = "R" if base % 2 else "L"
    # W1: a non-spacing mark takes the type of what it sits on.
    prev = sos
    for i in range(n):
        if types[i] == "NSM":
            types[i] = prev
        prev = types[i]
    # W2: European digits after Arabic letters are Arabic numbers. W3: AL becomes R.
    strong = sos
    for i in range(n):
        if types[i] in ("L", "R", "AL"):
            strong = types[i]
        elif types[i] == "EN" and strong == "AL":
            types[i] = "AN"
    types = ["R" if t == "AL" else t for t in types]
    # W4: one separator between two numbers of the same kind joins them.
    for i in range(1, n - 1):
        before, after = types[i - 1], types[i + 1]
        if types[i] == "ES" and before == after == "EN":
            types[i] = "EN"
        elif types[i] == "CS" and before == after and before in ("EN", "AN"):
            types[i] = before
    # W5: terminators (%, currency signs) next to European numbers belong to them.
    i = 0
    while i < n:
        if types[i] != "ET":
            i += 1
            continue
        j = i
        while j < n and types[j] == "ET":
            j += 1
        if (i > 0 and types[i - 1] == "EN") or (j < n and types[j] == "EN"):
            types[i:j] = ["EN"] * (j - i)
        i = j
    # W6: leftover separators and terminators are neutral.
    types = ["ON" if t in ("ES", "ET", "CS") else t for t in types]
    # W7: European numbers after left-to-right text are left-to-right.
    strong = sos
    for i in range(n):
        if types[i] in ("L", "R"):
            strong = types[i]
        elif types[i] == "EN" and strong == "L":
            types[i] = "L"
    # N1, N2: neutrals between two strong types of one direction take it; others the embedding's.
    direction = ["R" if t in ("R", "EN", "AN") else ("L" if t == "L" else None) for t in types]
    i = 0
    while i < n:
        if direction[i] is not None:
            i += 1
            continue
        j = i
        while j < n and direction[j] is None:
            j += 1
        before = direction[i - 1] if i > 0 else sos
        after = direction[j] if j < n else sos
        fill = before if before == after else sos
        direction[i:j] = [fill] * (j - i)
        i = j
    # I1, I2.
    levels = []
    for t, d in zip(types, direction, strict=True):
        if base % 2 == 0:
            level = base + (2 if t in ("EN", "AN") else (1 if d == "R" else 0))
        else:
            level = base + (1 if d == "L" or t in ("EN", "AN") else 0)
        levels.append(level)
    # L1: trailing white space goes back to the paragraph level.
    k = n
    while k > 0 and types[k - 1] in ("WS", "S", "B", "BN"):
        k -= 1
        levels[k] = base
    return levels


@dataclass(frozen=True)
class Run:
    text: str
    level: int
    fallback: bool  # drawn with the fallback font

    @property
    def direction(self) -> str:
        return "rtl" if self.level % 2 else "ltr"


def visual_runs(text: str, base: int, size: int, bold: bool = False) -> list[Run]:
    """``text`` cut into runs of one level and one font, in the order they appear from left to right."""
    primary = font(size, bold)
    levels = embedding_levels(text, base)
    runs: list[Run] = []
    for char, level in zip(text, levels, strict=True):
        fallback = not _covers(primary, char)
        if runs and runs[-1].level == level and runs[-1].fallback == fallback:
            runs[-1] = Run(runs[-1].text + char, level, fallback)
        else:
            runs.append(Run(char, level, fallback))
    if not runs:
        return runs
    # L2: from the highest level down to the lowest odd one, reverse every sequence at or above it.
    highest = max(r.level for r in runs)
    lowest_odd = min((r.level for r in runs if r.level % 2), default=highest + 1)
    for level in range(highest, lowest_odd - 1, -1):
        i = 0
        while i < len(runs):
            if runs[i].level < level:
                i += 1
                continue
            j = i
            while j < len(runs) and runs[j].level >= level:
                j += 1
            runs[i:j] = runs[i:j][::-1]
            i = j
    return runs


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------


def _face(run: Run, size: int, bold: bool) -> ImageFont.FreeTypeFont:
    return fallback_font(size) if run.fallback else font(size, bold)


def _language(run: Run) -> str | None:
    return None if run.fallback else "ar"


def text_width(text: str, size: int, bold: bool = False, base: int | None = None) -> float:
    """Advance width of one line in dots."""
    base = paragraph_level(text) if base is None else base
    return _runs_width(visual_runs(text, base, size, bold), size, bold)


def _runs_width(runs: list[Run], size: int, bold: bool) -> float:
    return sum(_face(r, size, bold).getlength(r.text, direction=r.direction, language=_language(r)) for r in runs)


def render_line(text: str, size: int, bold: bool = False, base: int | None = None) -> Image.Image:
    """One line as a 1-bit image ("1", black ink = 0), cropped to its ink. Empty text: a 0x0 image."""
    require_raqm()
    base = paragraph_level(text) if base is None else base
    runs = visual_runs(text, base, size, bold)
    primary = font(size, bold)
    ascent, descent = primary.getmetrics()
    pad = size  # room for glyphs that overhang their advance (kashida, swashes)
    width = int(_runs_width(runs, size, bold)) + 2 * pad
    canvas = Image.new("L", (max(width, 1), ascent + descent + 2 * pad), 255)
    draw = ImageDraw.Draw(canvas)
    x = float(pad)
    baseline = pad + ascent
    for run in runs:
        face = _face(run, size, bold)
        draw.text((x, baseline), run.text, font=face, fill=0, anchor="ls",
                  direction=run.direction, language=_language(run))
        x += face.getlength(run.text, direction=run.direction, language=_language(run))
    ink = canvas.point(lambda v: 0 if v < THRESHOLD else 255, mode="1")
    box = ink_bbox(ink)
    if box is None:
        return Image.new("1", (0, 0), 1)
    return ink.crop(box)


def ink_bbox(image: Image.Image) -> tuple[int, int, int, int] | None:
    """Bounding box of the black pixels of a 1-bit image (``getbbox`` finds the non-zero ones)."""
    return image.point(lambda v: 255 - v).getbbox()


def wrap(text: str, max_width: int, size: int, bold: bool = False) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``max_width`` dots (a longer word stays whole)."""
    words = text.split()
    if not words:
        return []
    base = paragraph_level(text)
    lines: list[str] = []
    current = words[0]
    for word in words[1:]:
        candidate = f"{current} {word}"
        if text_width(candidate, size, bold, base) <= max_width:
            current = candidate
        else:
            lines.append(current)
            current = word
    lines.append(current)
    return lines


def render_lines(text: str, max_width: int, size: int, bold: bool = False) -> list[Image.Image]:
    """``text`` wrapped to ``max_width`` and rendered line by line; every image fits ``max_width``."""
    base = paragraph_level(text)
    images = []
    for line in wrap(text, max_width, size, bold):
        image = render_line(line, size, bold, base)
        if image.width > max_width:
            # One word wider than the paper: scale it down rather than lose its end.
            image = image.resize((max_width, max(1, image.height * max_width // image.width)))
        images.append(image)
    return images


def qr_image(data: str, module: int, error: str = "M") -> Image.Image:
    """The QR code as a 1-bit image, ``module`` dots per module and no quiet zone (blank paper is one)."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

    levels = {"L": ERROR_CORRECT_L, "M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "H": ERROR_CORRECT_H}
    code = qrcode.QRCode(error_correction=levels[error], box_size=module, border=0)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix)
    small = Image.new("1", (size, size), 1)
    small.putdata([0 if cell else 1 for row in matrix for cell in row])
    return small.resize((size * module, size * module), Image.Resampling.NEAREST)


def qr_modules(data: str, error: str = "M") -> int:
    """How many modules wide the QR code of ``data`` is (the same version a printer picks)."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

    levels = {"L": ERROR_CORRECT_L, "M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "H": ERROR_CORRECT_H}
    code = qrcode.QRCode(error_correction=levels[error], border=0)
    code.add_data(data)
    code.make(fit=True)
    return code.modules_count

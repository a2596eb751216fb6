"""Small pictures of a request's scanned pages for the clerk's request page (issue 18, finding 7).

A van sends each page as a JPEG (edge/devices/scanner/encode.py, at most 250 KB). The hub trusts no van: the bytes
are decoded only when they say JPEG or PNG, only up to a size a page can have, and any picture that does not decode
gets no thumbnail (the page says so) instead of an error. JPEGs are decoded at a reduced scale (libjpeg's DCT
scaling, ``Image.draft``), so a thumbnail costs a few milliseconds.
"""

from __future__ import annotations

import io
import logging
import warnings

log = logging.getLogger("governorate.thumbnails")

SIZE = 320                  # the longer side, in pixels
MAX_PIXELS = 60_000_000     # a 600 dpi A3 page is 50 MP; a larger claim is a decompression bomb, not a page
_KINDS = {b"\xff\xd8": "JPEG", b"\x89PNG": "PNG"}


def thumbnail(data: bytes, size: int = SIZE) -> bytes | None:
    """A JPEG of at most ``size`` × ``size`` pixels of the picture in ``data``; None when it is not a picture this
    hub shows (a PDF, an unknown format, a truncated or hostile file)."""
    from PIL import Image

    kind = next((name for magic, name in _KINDS.items() if data.startswith(magic)), None)
    if kind is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind]) as img:
                width, height = img.size
                if width < 1 or height < 1 or width * height > MAX_PIXELS:
                    return None
                if kind == "JPEG":
                    img.draft("RGB", (size, size))
                img.thumbnail((size, size))
                out = img.convert("L" if img.mode in ("1", "L", "I;16", "I") else "RGB")
        buffer = io.BytesIO()
        out.save(buffer, "JPEG", quality=75, optimize=True)
        return buffer.getvalue()
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        log.info("no thumbnail for a %s of %d bytes: %s", kind, len(data), exc)
        return None

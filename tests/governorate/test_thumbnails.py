"""Thumbnails of scanned pages at the hub (issue 18, finding 7): the hub trusts no van's bytes — anything that is not
a picture it shows, a truncated file, or a picture claiming to be enormous gets no thumbnail, never an error."""

from __future__ import annotations

import io
import struct
import zlib

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from governorate import thumbnails


def _picture(fmt: str, size: tuple[int, int], mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, 128).save(buffer, fmt)
    return buffer.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` × ``height`` pixels and whose data is a few bytes (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def test_a_page_becomes_a_small_jpeg_of_its_shape():
    for fmt, size, mode, want in (("JPEG", (2480, 3508), "RGB", (226, 320)), ("PNG", (800, 400), "L", (320, 160)),
                                  ("PNG", (100, 50), "1", (100, 50))):
        small = thumbnails.thumbnail(_picture(fmt, size, mode))
        with Image.open(io.BytesIO(small)) as img:
            assert (img.format, img.size) == ("JPEG", want)


def test_what_is_not_a_picture_it_shows_gets_no_thumbnail():
    page = _picture("JPEG", (1000, 1400))
    for data in (b"%PDF-1.4 scanned", b"", b"GIF89a....", page[: len(page) // 3], _png_claiming(100_000, 100_000),
                 _png_claiming(0, 10), _picture("PNG", (30, 30))[:40]):
        assert thumbnails.thumbnail(data) is None


@settings(max_examples=200, deadline=None)
@given(magic=st.sampled_from([b"\xff\xd8", b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n"]), rest=st.binary(max_size=2000))
def test_any_bytes_a_van_sends_give_a_thumbnail_or_none_never_an_error(magic, rest):
    small = thumbnails.thumbnail(magic + rest)
    assert small is None or small.startswith(b"\xff\xd8")

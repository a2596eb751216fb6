"""Scanned pages as the uplink carries them: JPEGs within the per-page budget, and one PDF of them."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

from edge.devices.scanner.base import PAGE_BUDGET_BYTES, Page


@dataclass
class ScannedDocument:
    jpegs: list[bytes]                   # one per page, each ≤ the budget
    pdf: bytes                           # the same JPEG bytes, embedded (img2pdf does not re-encode)
    dpis: list[int] = field(default_factory=list)

    @property
    def page_count(self) -> int:
        return len(self.jpegs)


def encode_page(page: Page, max_bytes: int = PAGE_BUDGET_BYTES) -> bytes:
    """The page as a baseline JPEG no larger than ``max_bytes``: highest quality that fits, then smaller
    pixels only if even quality 40 does not (a page is never cut or refused for its size)."""
    from PIL import Image

    img = page.image
    if img.ndim == 3:
        img = img[:, :, ::-1]  # BGR → RGB
    pil = Image.fromarray(np.ascontiguousarray(img))
    dpi = float(page.dpi)
    while True:
        best = None
        lo, hi = 40, 90
        data = _jpeg(pil, hi, dpi)
        if len(data) <= max_bytes:
            return data
        while lo <= hi:  # binary search on quality: ~4 encodes
            q = (lo + hi) // 2
            data = _jpeg(pil, q, dpi)
            if len(data) <= max_bytes:
                best, lo = data, q + 1
            else:
                hi = q - 1
        if best is not None:
            return best
        # Fewer pixels keep the page's physical size: the dpi drops with them.
        pil = pil.resize((max(1, int(pil.width * 0.85)), max(1, int(pil.height * 0.85))), Image.LANCZOS)
        dpi *= 0.85


def _jpeg(pil, quality: int, dpi: float) -> bytes:
    buf = io.BytesIO()
    # optimize: Huffman tables per image, ~5-10 % smaller for free; baseline: every PDF reader shows it.
    pil.save(buf, "JPEG", quality=quality, optimize=True, dpi=(dpi, dpi), subsampling=2)
    return buf.getvalue()


def pdf_from_jpegs(jpegs: list[bytes]) -> bytes:
    """One PDF with the JPEG pages embedded byte for byte (DCTDecode), page size from each JPEG's dpi."""
    import img2pdf

    return img2pdf.convert(list(jpegs))


def encode_document(pages: list[Page], max_bytes: int = PAGE_BUDGET_BYTES) -> ScannedDocument:
    jpegs = [encode_page(p, max_bytes) for p in pages]
    return ScannedDocument(jpegs, pdf_from_jpegs(jpegs), [p.dpi for p in pages])

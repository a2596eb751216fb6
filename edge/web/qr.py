"""QR codes drawn as inline SVG (no image files, no external service)."""

from __future__ import annotations

import qrcode
import qrcode.image.svg
from markupsafe import Markup


def svg(text: str, *, label: str) -> Markup:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    body = image.to_string(encoding="unicode")
    body = body.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(label)}" class="qr" ', 1)
    return Markup(body)

"""What every QR source shares: its errors, turning scanner bytes into text, and cleaning a code's text."""

from __future__ import annotations

import unicodedata

from edge.core.errors import EdgeError
from edge.devices.urls import DeviceUrlError, kind_error


@kind_error("qr")
class QrConfigError(DeviceUrlError):
    """The QR reader's URL in the settings (devices.qr) is wrong: the reader cannot start until it is fixed."""

    code = "qr-config-invalid"


class QrDeviceError(EdgeError):
    """The reader is unplugged, busy or broken; the reader thread keeps retrying."""

    code = "qr-device-unavailable"

    def __init__(self, detail: str):
        super().__init__(
            "قارئ الرمز غير متصل. تأكد من توصيل الكابل؛ سيعاد الاتصال تلقائيًا.",
            "The QR reader is not connected. Check its cable; it reconnects by itself.",
            detail=detail,
        )


def text_from_bytes(data: bytes) -> str:
    """Bytes from a scanner or a decoder as text: UTF-8, else Windows-1256 (Arabic), else Latin-1.

    Cheap scanners send whatever their keyboard code page says; a wrong guess must still give a
    string (Latin-1 maps every byte), never an exception in a reader thread.
    """
    for encoding in ("utf-8", "cp1256"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def clean_code(text: str) -> str:
    """A code's text without control characters or edge spaces.

    Control characters (Cc) are scanner framing (STX/ETX, stray CR/LF, NUL); invisible format characters
    (Cf: BOM, bidi marks) come from code-page guesses. Neither belongs in a request number or an EG1 code,
    and either would make an otherwise good code fail to match.
    """
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf")).strip()

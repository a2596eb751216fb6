"""The device kinds of the settings file, the connections each accepts, and the full check of a URL.

This module is light on purpose (no OpenCV, no Pillow): ``edge.config`` reads the scheme table to
refuse ``printer = "lpt://1"`` when any process loads the settings. :func:`check_url` goes further and
asks the kind's own opener table (importing the kind's package), so ``edge config check`` refuses every
URL the device would refuse at start, with the device's own message.
"""

from __future__ import annotations

import importlib

from edge.devices.urls import DeviceUrl, DeviceUrlError, masked, parse

# settings key -> (package, the schemes its OPENERS accept). tests/devices check the two agree.
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "printer": ("edge.devices.printer", ("file", "serial", "sim", "tcp", "usb")),
    "scanner": ("edge.devices.scanner", ("camera", "sane", "sim")),
    "qr": ("edge.devices.qr", ("camera", "serial", "sim")),
    "gps": ("edge.devices.gps", ("gpsd", "serial", "sim")),
    "modem": ("edge.devices.modem", ("mmcli", "sim")),
    "camera": ("edge.devices.cctv", ("file", "http", "https", "rtsp", "sim")),
}


# What to do instead, for a connection people try that the kind does not take.
HINTS = {
    ("qr", "hid"): ("a keyboard-wedge scanner types into the kiosk page by itself; to have the van read it, set "
                    "the scanner to USB-serial (CDC) mode and use serial://",
                    "الماسح الذي يعمل كلوحة مفاتيح يكتب في صفحة الكشك مباشرة؛ ليقرأه البرنامج اضبطه على وضع USB-serial "
                    "(CDC) واستخدم serial://"),
    ("modem", "serial"): ("AT commands over a serial port are not supported: let ModemManager own the modem and "
                          "use mmcli://", "أوامر AT عبر المنفذ التسلسلي غير مدعومة: اترك المودم لـ ModemManager "
                          "واستخدم mmcli://"),
}


def schemes(kind: str) -> tuple[str, ...]:
    return KINDS[kind][1]


def unknown_scheme(kind: str, url: DeviceUrl) -> DeviceUrlError:
    shown = ", ".join(f"{s}://" for s in schemes(kind))
    hint_en, hint_ar = HINTS.get((kind, url.scheme), ("", ""))
    return url.error(f"'{masked(url.raw)}' must start with one of {shown}" + (f"; {hint_en}" if hint_en else ""),
                     f"يجب أن يبدأ بأحد: {shown}" + (f"؛ {hint_ar}" if hint_ar else ""))


def check_scheme(kind: str, url) -> DeviceUrl:
    """The parsed URL when its scheme is one the kind accepts (no option is read here)."""
    parsed = parse(kind, url)
    if parsed.scheme not in schemes(kind):
        raise unknown_scheme(kind, parsed)
    return parsed


def openers(kind: str):
    """The kind's :class:`edge.devices.openers.Openers` (imports the kind's package)."""
    return importlib.import_module(KINDS[kind][0]).OPENERS


def check_url(kind: str, url) -> DeviceUrl:
    """Everything the device checks at start without touching it; :class:`DeviceUrlError` if it would refuse."""
    return openers(kind).check(url)

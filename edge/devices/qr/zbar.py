"""zbar's QR reader (through pyzbar's ctypes binding) with what pyzbar leaves out: the GS1 flag.

``pyzbar.decode`` returns each symbol's bytes and outline but not its *modifiers*, and the GS1 modifier is
the only way to tell a GS1 QR code (FNC1 in first position) from one that happens to hold the same
digits: zbar gives both as the raw element string. This module runs the same scan as ``pyzbar.decode``
(same library, same image format, QR only), reads ``zbar_symbol_get_modifiers`` for each symbol, and
returns GS1 codes in their human-readable form (``edge.devices.qr.gs1.hri``), as zxing-cpp does. If the
installed libzbar has no ``zbar_symbol_get_modifiers`` (older than 0.10), every code is returned as text.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np
from pyzbar import pyzbar
from pyzbar import wrapper as zw

from edge.devices.qr.base import text_from_bytes
from edge.devices.qr.gs1 import hri

_MOD_GS1 = 1 << 0  # zbar_modifier_t ZBAR_MOD_GS1 = 0

try:
    _get_modifiers = zw.zbar_function("zbar_symbol_get_modifiers", ctypes.c_uint, ctypes.POINTER(zw.zbar_symbol))
except AttributeError:  # pragma: no cover - libzbar < 0.10
    _get_modifiers = None


@dataclass(frozen=True)
class ZbarCode:
    text: str
    gs1: bool
    polygon: tuple[tuple[int, int], ...]


def read(gray: np.ndarray) -> list[ZbarCode]:
    """QR codes zbar reads in a uint8 grey picture."""
    gray = np.ascontiguousarray(gray, dtype=np.uint8)
    h, w = gray.shape
    pixels = gray.tobytes()
    found: list[ZbarCode] = []
    with pyzbar._image_scanner() as scanner:
        zw.zbar_image_scanner_set_config(scanner, pyzbar.ZBarSymbol.NONE, zw.ZBarConfig.CFG_ENABLE, 0)
        zw.zbar_image_scanner_set_config(scanner, pyzbar.ZBarSymbol.QRCODE, zw.ZBarConfig.CFG_ENABLE, 1)
        with pyzbar._image() as image:
            zw.zbar_image_set_format(image, pyzbar._FOURCC["L800"])
            zw.zbar_image_set_size(image, w, h)
            zw.zbar_image_set_data(image, ctypes.cast(pixels, ctypes.c_void_p), len(pixels), None)
            if zw.zbar_scan_image(scanner, image) <= 0:
                return []
            for symbol in pyzbar._symbols_for_image(image):
                data = ctypes.string_at(zw.zbar_symbol_get_data(symbol), zw.zbar_symbol_get_data_length(symbol))
                if not data:
                    continue
                gs1 = bool(_get_modifiers and _get_modifiers(symbol) & _MOD_GS1)
                polygon = tuple((zw.zbar_symbol_get_loc_x(symbol, i), zw.zbar_symbol_get_loc_y(symbol, i))
                                for i in range(zw.zbar_symbol_get_loc_size(symbol)))
                found.append(ZbarCode(_text(data, gs1), gs1, polygon))
    return found


def _text(data: bytes, gs1: bool) -> str:
    if gs1:
        raw = data.decode("latin-1")
        return hri(raw) or raw
    return text_from_bytes(data)

"""The QR reader: a serial scanner, a camera or the simulated twin, delivering codes as numbered events.

The web process owns the reader (ARCHITECTURE: edge-web drives the QR reader), so codes travel through
an in-process, thread-safe event hub rather than the database: a scan is only useful to the screen in
front of the citizen, now; nothing about it must survive a restart.

    reader = open_reader(settings.devices.qr)        # "serial:///dev/ttyACM0?terminator=CR", "sim://" …
    reader.start()                                   # a daemon thread; reopens the device by itself
    after = reader.events.latest_seq()               # a page starts from "now", not from old scans
    for event in reader.events.wait_next(after, timeout=25):
        event.text, event.seq                        # …
    reader.stop()

See docs/qr.md for the URLs, the debounce and how a browser long-polls or streams the events.
"""

from __future__ import annotations

from edge.devices.openers import Connection, Openers
from edge.devices.qr.base import QrConfigError, QrDeviceError
from edge.devices.qr.camera import CameraSource, camera_settings
from edge.devices.qr.decode import QrImageError, decode_image
from edge.devices.qr.reader import DEFAULT_DEBOUNCE, QrEvent, QrEvents, QrReader, ReaderStatus, Source
from edge.devices.qr.serial import SerialSource, serial_settings
from edge.devices.qr.sim import SimSource, sim_settings
from edge.devices.urls import DeviceUrl

__all__ = [
    "OPENERS", "QrConfigError", "QrDeviceError", "QrEvent", "QrEvents", "QrImageError", "QrReader", "ReaderStatus",
    "Source", "decode_image", "open_reader",
]


def _with_debounce(settings):
    """Every connection takes ``debounce=`` (seconds a repeated code is ignored; default 2)."""
    def check(url: DeviceUrl):
        return settings(url), url.number("debounce", DEFAULT_DEBOUNCE, low=0, high=60)
    return check


def _reader(source):
    def open_(url: DeviceUrl, settings, *, events: QrEvents | None = None, debounce: float | None = None):
        _, url_debounce = settings  # the source reads its own settings with the same function
        return QrReader(source(url), events=events,
                        debounce=url_debounce if debounce is None else debounce, url=url.raw)
    return open_


OPENERS = Openers("qr", [
    Connection("serial", _reader(SerialSource), _with_debounce(serial_settings),
               "serial:///dev/ttyACM0?terminator=CR"),
    Connection("camera", _reader(CameraSource), _with_debounce(camera_settings), "camera://0"),
    Connection("sim", _reader(SimSource), _with_debounce(sim_settings), "sim://"),
])


def open_reader(url: str, *, events: QrEvents | None = None, debounce: float | None = None) -> QrReader:
    """A reader (not started) for a ``devices.qr`` URL: ``serial://…``, ``camera://…`` or ``sim://…``.

    ``debounce`` (seconds) defaults to the URL's ``debounce=`` or 2 s. A wrong URL raises
    :class:`QrConfigError` with the words ``edge config check`` prints.
    """
    return OPENERS.open(url or "", events=events, debounce=debounce)

"""The receipt printer: one object owns the wire, asks the printer how it is, and prints documents.

``open_printer(url)`` picks the wire by URL (``serial://``, ``usb://``, ``tcp://``, ``file://``,
``sim://``) and the printer model from the URL's ``profile=`` option. :class:`Printer` holds one lock
for every use of the wire, so a status poll never interleaves with a job (the Odoo IoT box lost
receipts to a background scan that touched a printing device): while a job prints, ``status()``
answers with the last known state, marked ``busy``, without asking the printer.

Printing is synchronous and knows nothing of queues; the persistent print queue lives above
(``edge.store.print_jobs`` and ``edge.services.print_worker``) because ``edge.devices`` may import
``edge.core`` only.
"""

from __future__ import annotations

from edge.devices.openers import Connection, Openers
from edge.devices.printer import raster as printer_raster
from edge.devices.printer import sim as printer_sim
from edge.devices.printer import transport as transports
from edge.devices.printer.base import DEFAULT_STATUS_TIMEOUT, Printer, PrintResult
from edge.devices.printer.encode import PrinterProfile
from edge.devices.printer.raster import RaqmMissing
from edge.devices.printer.status import PrinterError, PrinterStatus
from edge.devices.urls import DeviceUrl, parse

# Query keys that describe the printer rather than the wire, accepted by every connection.
PRINTER_OPTIONS = ("profile", "width", "columns", "qr", "clear_buffers", "status_timeout", "speed")


def profile_from_url(url: str | DeviceUrl) -> PrinterProfile:
    url = parse("printer", url)
    overrides = {
        "width": url.number("width", None, kind=int, low=96, high=4096),
        "columns": url.number("columns", None, kind=int, low=8, high=200),
        "native_qr": (url.choice("qr", ("native", "raster")) == "native") if "qr" in url.options else None,
        "clear_buffers": url.flag("clear_buffers") if "clear_buffers" in url.options else None,
    }
    try:
        return PrinterProfile.named(url.text("profile"), **overrides)
    except (KeyError, ValueError) as exc:
        raise url.error(f"unknown printer profile: {exc}", f"طراز طابعة غير معروف: {exc}") from None


def _printer_settings(url: DeviceUrl) -> dict:
    return dict(profile=profile_from_url(url),
                status_timeout=url.number("status_timeout", DEFAULT_STATUS_TIMEOUT, low=0.01, high=30),
                speed=url.number("speed", None, low=1, high=1000) if url.text("speed") else None)


def _connection(scheme: str, wire_settings, make_wire, wire_options=(), example: str = "") -> Connection:
    def check(url: DeviceUrl):
        url.refuse_unknown((*PRINTER_OPTIONS, *wire_options))
        return wire_settings(url), _printer_settings(url)

    def open_(url: DeviceUrl, settings, *, check_raqm: bool = True) -> Printer:
        if check_raqm:
            printer_raster.require_raqm()
        wire, printer = settings
        return Printer(make_wire(url, wire), **printer, url=url.raw)

    return Connection(scheme, open_, check, example)


OPENERS = Openers("printer", [
    _connection("serial", transports.serial_settings, lambda u, w: transports.SerialTransport(**w),
                transports.SERIAL_OPTIONS, "serial:///dev/ttyUSB0?baudrate=115200"),
    _connection("usb", transports.usb_settings, lambda u, w: transports.UsbTransport(**w), (), "usb://04b8:0202"),
    _connection("tcp", transports.tcp_settings, lambda u, w: transports.TcpTransport(**w),
                transports.TCP_OPTIONS, "tcp://10.0.0.5:9100"),
    _connection("file", transports.file_settings, lambda u, w: transports.FileTransport(**w), (),
                "file:///var/lib/edge/printer.bin"),
    _connection("sim", printer_sim.sim_settings, printer_sim.transport, printer_sim.SIM_OPTIONS, "sim://"),
])


def open_printer(url: str, *, check_raqm: bool = True) -> Printer:
    """The printer a URL names (see docs/printer.md). Does not touch the device yet.

    Refuses a URL it cannot use with :class:`edge.devices.urls.DeviceUrlError` (the same words
    ``edge config check`` prints), and (:class:`RaqmMissing`, naming libraqm0) when Pillow cannot shape
    Arabic: better no receipt at start-up than receipts with broken Arabic in citizens' hands.
    """
    return OPENERS.open(url, check_raqm=check_raqm)


__all__ = ["OPENERS", "Printer", "PrintResult", "PrinterError", "PrinterStatus", "RaqmMissing", "open_printer",
           "profile_from_url"]

"""The wire to a receipt printer: serial, USB printer class, TCP port 9100 or a file; one small interface.

A transport moves bytes and nothing else; what the bytes mean is the printer's business
(:mod:`edge.devices.printer`). Every failure of the wire is a :class:`TransportError`, so an unplugged
cable looks the same whichever way the printer is attached.
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import socket
import stat
import time
from pathlib import Path

from edge.devices.urls import SERIAL_LINE_OPTIONS, DeviceUrl, serial_line


class TransportError(OSError):
    """The printer cannot be reached; ``busy`` when another program holds it."""

    def __init__(self, message: str, *, busy: bool = False):
        super().__init__(message)
        self.busy = busy


class Transport:
    """Bytes to and from one printer. Not thread-safe: :class:`edge.devices.printer.Printer` serialises."""

    description = "printer"
    keep_open = True  # stay open between jobs (False: connect for each job, e.g. a network printer)
    can_answer = True  # the wire carries the printer's status answers back

    def open(self) -> None:
        raise NotImplementedError

    @property
    def is_open(self) -> bool:
        raise NotImplementedError

    def write(self, data: bytes) -> None:
        raise NotImplementedError

    def read(self, n: int, timeout: float) -> bytes:
        """Up to ``n`` bytes, waiting at most ``timeout`` seconds for the first; b"" when none came."""
        raise NotImplementedError

    def discard_input(self) -> None:
        """Drop answers nobody asked for (automatic status back, a late reply) before asking."""

    def close(self) -> None:
        raise NotImplementedError


# --------------------------------------------------------------------------------------------------
# Serial (RS-232 or USB-serial) through pyserial
# --------------------------------------------------------------------------------------------------


class SerialTransport(Transport):
    def __init__(self, port: str, *, baudrate: int = 115200, bytesize: int = 8, parity: str = "N",
                 stopbits: float = 1, rtscts: bool = False, xonxoff: bool = False, dsrdtr: bool = False):
        self.port = port
        self.settings = dict(baudrate=baudrate, bytesize=bytesize, parity=parity, stopbits=stopbits,
                             rtscts=rtscts, xonxoff=xonxoff, dsrdtr=dsrdtr)
        self.description = f"serial {port} at {baudrate} baud"
        self._serial = None

    def open(self) -> None:
        import serial

        try:
            # exclusive: a second program (a CLI status check) gets "busy" instead of sharing the line.
            self._serial = serial.Serial(self.port, timeout=0, write_timeout=None, exclusive=True,
                                         **self.settings)
        except (OSError, ValueError, serial.SerialException) as exc:
            busy = getattr(exc, "errno", None) in (errno.EAGAIN, errno.EBUSY, errno.EWOULDBLOCK) or (
                "lock" in str(exc).lower())
            raise TransportError(f"cannot open {self.port}: {exc}", busy=busy) from exc

    @property
    def is_open(self) -> bool:
        return self._serial is not None and self._serial.is_open

    def write(self, data: bytes) -> None:
        import serial

        assert self._serial is not None
        # Time enough to send the job at the line rate (10 bits a byte) three times over: a printer
        # holding the line with flow control for longer than that has stopped.
        self._serial.write_timeout = 5 + 3 * len(data) * 10 / self.settings["baudrate"]
        try:
            self._serial.write(data)
            self._serial.flush()  # returns once the bytes have left the port
        except (OSError, serial.SerialException) as exc:
            raise TransportError(f"writing to {self.port}: {exc}") from exc

    def read(self, n: int, timeout: float) -> bytes:
        import serial

        assert self._serial is not None
        try:
            self._serial.timeout = timeout
            return self._serial.read(n)
        except (OSError, serial.SerialException) as exc:
            raise TransportError(f"reading from {self.port}: {exc}") from exc

    def discard_input(self) -> None:
        import serial

        if self._serial is not None:
            try:
                self._serial.reset_input_buffer()
            except (OSError, serial.SerialException) as exc:
                raise TransportError(f"{self.port}: {exc}") from exc

    def close(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            except OSError:
                pass  # an unplugged adapter fails even to close; it is gone either way
            self._serial = None


# --------------------------------------------------------------------------------------------------
# Network printers (raw port 9100)
# --------------------------------------------------------------------------------------------------


class TcpTransport(Transport):
    keep_open = False  # most network printers serve one connection at a time: do not hog it

    def __init__(self, host: str, port: int = 9100, *, timeout: float = 5.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.description = f"network printer {host}:{port}"
        self._sock: socket.socket | None = None

    def open(self) -> None:
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:
            raise TransportError(f"cannot connect to {self.host}:{self.port}: {exc}") from exc

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def write(self, data: bytes) -> None:
        assert self._sock is not None
        try:
            self._sock.settimeout(self.timeout + len(data) / 10_000)
            self._sock.sendall(data)
        except OSError as exc:
            raise TransportError(f"sending to {self.host}:{self.port}: {exc}") from exc

    def read(self, n: int, timeout: float) -> bytes:
        assert self._sock is not None
        try:
            self._sock.settimeout(timeout)
            data = self._sock.recv(n)
        except TimeoutError:
            return b""
        except OSError as exc:
            raise TransportError(f"reading from {self.host}:{self.port}: {exc}") from exc
        if not data:
            raise TransportError(f"{self.host}:{self.port} closed the connection")
        return data

    def discard_input(self) -> None:
        assert self._sock is not None
        while True:
            ready, _, _ = select.select([self._sock], [], [], 0)
            if not ready:
                return
            try:
                if not self._sock.recv(4096):
                    raise TransportError(f"{self.host}:{self.port} closed the connection")
            except OSError as exc:
                raise TransportError(f"{self.host}:{self.port}: {exc}") from exc

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None


# --------------------------------------------------------------------------------------------------
# Files and character devices (/dev/usb/lp0)
# --------------------------------------------------------------------------------------------------


class FileTransport(Transport):
    """A regular file collects the byte stream (no status); a character device is a printer that may answer."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.description = f"file {self.path}"
        self._fd: int | None = None
        self._device = False

    @property
    def keep_open(self) -> bool:  # type: ignore[override]
        return self._device

    @property
    def can_answer(self) -> bool:  # type: ignore[override]
        return self._device

    def open(self) -> None:
        try:
            self._device = self.path.exists() and stat.S_ISCHR(self.path.stat().st_mode)
            if self._device:
                fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError as exc:
                    os.close(fd)
                    raise TransportError(f"{self.path} is in use by another program", busy=True) from exc
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        except TransportError:
            raise
        except OSError as exc:
            raise TransportError(f"cannot open {self.path}: {exc}") from exc
        self._fd = fd

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    def write(self, data: bytes) -> None:
        assert self._fd is not None
        view = memoryview(data)
        deadline = time.monotonic() + 10 + len(data) / 5_000
        try:
            while view:
                if self._device:
                    _, ready, _ = select.select([], [self._fd], [], max(0.0, deadline - time.monotonic()))
                    if not ready:
                        raise TransportError(f"{self.path} stopped accepting data")
                written = os.write(self._fd, view)
                view = view[written:]
            if not self._device:
                os.fsync(self._fd)
        except TransportError:
            raise
        except OSError as exc:
            raise TransportError(f"writing to {self.path}: {exc}") from exc

    def read(self, n: int, timeout: float) -> bytes:
        if not self._device or self._fd is None:
            return b""
        try:
            ready, _, _ = select.select([self._fd], [], [], timeout)
            return os.read(self._fd, n) if ready else b""
        except BlockingIOError:
            return b""
        except OSError as exc:
            raise TransportError(f"reading from {self.path}: {exc}") from exc

    def discard_input(self) -> None:
        while self._device and self.read(4096, 0):
            pass

    def close(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            finally:
                self._fd = None


class UsbTransport(FileTransport):
    """A USB printer (``usb://VID:PID``) through the kernel's usblp driver: /dev/usb/lpN, found in sysfs.

    The device node is looked up again on every open, so a printer replugged into another port (and
    given another lpN) is found.
    """

    def __init__(self, vendor: int, product: int, *, sysfs: str | Path = "/sys", dev: str | Path = "/dev"):
        super().__init__(Path(dev) / "usb" / "lp?")
        self.vendor, self.product = vendor, product
        self.sysfs, self.dev = Path(sysfs), Path(dev)
        self.description = f"USB printer {vendor:04x}:{product:04x}"

    def find(self) -> Path | None:
        for device in sorted((self.sysfs / "bus" / "usb" / "devices").glob("*")):
            try:
                vid = int((device / "idVendor").read_text().strip(), 16)
                pid = int((device / "idProduct").read_text().strip(), 16)
            except (OSError, ValueError):
                continue
            if (vid, pid) != (self.vendor, self.product):
                continue
            # The printer interface (e.g. 1-2:1.0) holds usbmisc/lpN (or usb/lpN on older kernels).
            for node in sorted(device.glob("*:*/usbmisc/lp*")) + sorted(device.glob("*:*/usb/lp*")):
                return self.dev / "usb" / node.name
        return None

    def open(self) -> None:
        node = self.find()
        if node is None:
            raise TransportError(f"no USB printer {self.vendor:04x}:{self.product:04x} is connected "
                                 "(or the usblp driver is not loaded)")
        self.path = node
        super().open()
        if not self._device:
            self.close()
            raise TransportError(f"{node} is not a device")


# --------------------------------------------------------------------------------------------------
# URLs
# --------------------------------------------------------------------------------------------------

# Query keys of each wire (the printer's own keys are read by edge.devices.printer).
SERIAL_OPTIONS = (*SERIAL_LINE_OPTIONS, "rtscts", "xonxoff", "dsrdtr")
TCP_OPTIONS = ("timeout",)


def serial_settings(url: DeviceUrl) -> dict:
    """``serial:///dev/ttyUSB0?baudrate=115200&parity=N&rtscts=1``"""
    return dict(
        port=url.need_path("serial:///dev/ttyUSB0"), **serial_line(url, 115200),
        rtscts=url.flag("rtscts"), xonxoff=url.flag("xonxoff"), dsrdtr=url.flag("dsrdtr"),
    )


def tcp_settings(url: DeviceUrl) -> dict:
    """``tcp://10.0.0.5:9100?timeout=5``"""
    return dict(host=url.need_host("tcp://10.0.0.5:9100"), port=url.port or 9100,
                timeout=url.number("timeout", 5.0, low=0.1, high=120))


def file_settings(url: DeviceUrl) -> dict:
    """``file:///var/lib/edge/printer.bin``"""
    return dict(path=url.need_path("file:///var/lib/edge/printer.bin"))


def usb_settings(url: DeviceUrl) -> dict:
    """``usb://04b8:0202`` (vendor and product id in hex, as lsusb shows them)."""
    ids = url.name.split(":")
    try:
        vendor, product = (int(x, 16) for x in ids)
    except ValueError:
        raise url.error("write the USB ids in hex as usb://VID:PID, e.g. usb://04b8:0202",
                        "اكتب معرّفي USB بالنظام الست عشري بالشكل usb://VID:PID، مثل usb://04b8:0202") from None
    return dict(vendor=vendor, product=product)

"""gpsd (``gpsd://127.0.0.1:2947``) relays the receiver's raw NMEA when asked to; the same decoder then reads it."""

from __future__ import annotations

import socket

from edge.devices.urls import DeviceUrl


def gpsd_settings(url: DeviceUrl) -> dict:
    url.refuse_unknown(())
    return dict(host=url.host or "127.0.0.1", port=url.port or 2947)


class GpsdLine:
    def __init__(self, host: str = "127.0.0.1", port: int = 2947):
        self.sock = socket.create_connection((host, port), timeout=5)
        self.sock.sendall(b'?WATCH={"enable":true,"nmea":true};\n')
        self.sock.settimeout(1.0)
        self.file = self.sock.makefile("rb")

    def readline(self) -> bytes:
        try:
            line = self.file.readline()
        except TimeoutError:
            return b""
        if not line:
            raise OSError("gpsd closed the connection")
        return b"" if line.startswith(b"{") else line  # gpsd's own JSON reports

    def close(self) -> None:
        self.sock.close()

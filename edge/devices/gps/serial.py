"""A GPS receiver on a serial port (``serial:///dev/ttyACM0?baudrate=9600``): NMEA lines as the port gives them."""

from __future__ import annotations

from edge.devices.urls import SERIAL_LINE_OPTIONS, DeviceUrl, serial_line


def serial_settings(url: DeviceUrl) -> dict:
    url.refuse_unknown(SERIAL_LINE_OPTIONS)
    return dict(port=url.need_path("serial:///dev/ttyACM0"), **serial_line(url, 9600))


class SerialLine:
    def __init__(self, port: str, baudrate: int = 9600, bytesize: int = 8, parity: str = "N", stopbits: float = 1):
        import serial  # imported here: the sim and gpsd do not need pyserial

        self.port = serial.Serial(port, baudrate=baudrate, bytesize=bytesize, parity=parity, stopbits=stopbits,
                                  timeout=1.0)

    def readline(self) -> bytes:
        return self.port.readline()

    def close(self) -> None:
        self.port.close()

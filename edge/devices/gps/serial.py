"""A GPS receiver on a serial port (``serial:///dev/ttyACM0?baudrate=9600``): NMEA lines as the port gives them."""

from __future__ import annotations

from edge.devices.urls import DeviceUrl


def serial_settings(url: DeviceUrl) -> dict:
    url.refuse_unknown(("baudrate",))
    return dict(port=url.need_path("serial:///dev/ttyACM0"),
                baudrate=url.number("baudrate", 9600, kind=int, low=300, high=921_600))


class SerialLine:
    def __init__(self, port: str, baudrate: int = 9600):
        import serial  # imported here: the sim and gpsd do not need pyserial

        self.port = serial.Serial(port, baudrate=baudrate, timeout=1.0)

    def readline(self) -> bytes:
        return self.port.readline()

    def close(self) -> None:
        self.port.close()

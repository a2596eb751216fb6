"""The simulated GPS receiver (``sim://``): NMEA sentences of a van driving through Cairo, with switchable faults.

It speaks real NMEA (RMC, GGA, GSV with checksums) so the same decoder reads it as reads a real
receiver. Faults: ``no_fix`` (searching: RMC status V, GGA quality 0), ``corrupt`` (every checksum
wrong), ``silent`` (connected, sends nothing) and ``unplugged`` (the port is gone).
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

from edge.devices.gps.base import nmea_sentence
from edge.devices.twins import Twins
from edge.devices.urls import DeviceUrl, parse

FAULTS = ("no_fix", "corrupt", "silent", "unplugged")
# Tahrir Square; the van circles it slowly.
HOME = (30.0444, 31.2357)



def _coord(value: float, width: int) -> str:
    """Degrees as NMEA writes them: ddmm.mmmm (latitude) or dddmm.mmmm (longitude)."""
    degrees = int(abs(value))
    minutes = (abs(value) - degrees) * 60
    return f"{degrees:0{width}d}{minutes:07.4f}"


class SimGps:
    def __init__(self, name: str = ""):
        self.name = name
        self.fault: str | None = None
        self.satellites = 9
        self.interval_s = 1.0

    def reset(self) -> None:
        """Back as it was made (:func:`edge.devices.twins.reset_all`)."""
        self.__init__(self.name)


    def set_fault(self, fault: str | None) -> None:
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown GPS fault {fault!r}; one of {', '.join(FAULTS)}")
        self.fault = fault

    def sentences(self, t: float, when: datetime | None = None) -> list[str]:
        """One second's burst of sentences at time ``t`` (seconds)."""
        when = when or datetime.now(UTC)
        hhmmss = when.strftime("%H%M%S") + ".00"
        ddmmyy = when.strftime("%d%m%y")
        lat = HOME[0] + 0.002 * math.sin(t / 60)
        lon = HOME[1] + 0.002 * math.cos(t / 60)
        lat_s = _coord(lat, 2)
        lon_s = _coord(lon, 3)
        if self.fault == "no_fix":
            bodies = [f"GPRMC,{hhmmss},V,,,,,,,{ddmmyy},,,N", f"GPGGA,{hhmmss},,,,,0,00,99.9,,M,,M,,"]
        else:
            bodies = [
                f"GPRMC,{hhmmss},A,{lat_s},N,{lon_s},E,12.5,45.0,{ddmmyy},,,A",
                f"GPGGA,{hhmmss},{lat_s},N,{lon_s},E,1,{self.satellites:02d},0.9,23.0,M,15.6,M,,",
            ]
        bodies.append("GPGSV,1,1,03,05,45,120,38,12,30,200,35,25,60,310,40")
        lines = [nmea_sentence(b) for b in bodies]
        if self.fault == "corrupt":
            lines = [line[:-2] + ("00" if line[-2:] != "00" else "11") for line in lines]
        return lines


class SimGpsLine:
    """The twin as a line to read, like a serial port: a burst of sentences every second."""

    def __init__(self, url: str | DeviceUrl, settings: dict | None = None):
        url = parse("gps", url)
        settings = sim_settings(url) if settings is None else settings
        self.gps = device(url.name)
        if settings.get("fault"):  # sim://?fault=no_fix from the settings
            self.gps.set_fault(settings["fault"])
        if self.gps.fault == "unplugged":
            raise OSError("simulated GPS receiver is unplugged")
        self._pending: list[bytes] = []
        self._next = time.monotonic()

    def readline(self) -> bytes:
        if self.gps.fault == "unplugged":
            raise OSError("simulated GPS receiver is unplugged")
        if not self._pending:
            wait = self._next - time.monotonic()
            if wait > 0:
                time.sleep(min(wait, 1.0))
                return b""
            self._next = time.monotonic() + self.gps.interval_s
            if self.gps.fault == "silent":
                return b""
            self._pending = [(s + "\r\n").encode() for s in self.gps.sentences(time.monotonic())]
        return self._pending.pop(0)

    def close(self) -> None:
        pass


TWINS: Twins[SimGps] = Twins("gps", SimGps)


def device(name: str = "") -> SimGps:
    """The simulated receiver called ``name`` (made on first use)."""
    return TWINS.get(name)


def sim_settings(url: DeviceUrl) -> dict:
    """``sim://NAME?fault=no_fix|corrupt|silent|unplugged``"""
    url.refuse_unknown(("fault",))
    return dict(fault=url.choice("fault", FAULTS, None))

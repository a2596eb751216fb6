"""What a GPS receiver reports and how NMEA 0183 is read: pure (lines in, state out), tested without a port.

:class:`NmeaDecoder` requires and checks checksums and ignores (and counts) corrupt sentences.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import pynmea2

from edge.devices.urls import DeviceUrlError, kind_error

log = logging.getLogger("edge.gps")

KNOTS_TO_KMH = 1.852


@kind_error("gps")
class GpsUrlError(DeviceUrlError):
    code = "gps-url"


@dataclass(frozen=True)
class GpsFix:
    latitude: float
    longitude: float
    satellites: int | None
    speed_kmh: float | None
    altitude_m: float | None
    hdop: float | None
    utc: str | None  # the receiver's own time of the fix, ISO 8601
    at: float  # time.monotonic() when it was received


@dataclass(frozen=True)
class GpsStatus:
    receiving: bool  # sentences arrived recently
    fix: bool  # a current position fix
    last_fix: GpsFix | None  # the last good fix, however old
    fix_age_s: float | None
    satellites: int | None
    sentences: int  # good sentences decoded
    corrupt: int  # sentences dropped: bad checksum, missing checksum, garbled
    last_error: str = ""


def nmea_sentence(body: str) -> str:
    """``body`` (without ``$`` and ``*``) as a full sentence with its checksum: for the twin and tests."""
    checksum = 0
    for ch in body.encode("ascii"):
        checksum ^= ch
    return f"${body}*{checksum:02X}"


class NmeaDecoder:
    """Turns NMEA lines into the receiver's state. Not thread-safe: one reader feeds it."""

    def __init__(self, fix_timeout_s: float = 5.0):
        self.fix_timeout_s = fix_timeout_s
        self.sentences = 0
        self.corrupt = 0
        self.ignored = 0  # valid sentences of kinds we do not use (GSV, VTG, proprietary …)
        self.last_fix: GpsFix | None = None
        self.last_sentence_at: float | None = None
        self._no_fix_at: float | None = None  # the receiver said "no fix" (after the last fix)
        self._satellites: int | None = None
        self._altitude: float | None = None
        self._hdop: float | None = None

    def feed(self, line: str | bytes, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if isinstance(line, bytes):
            line = line.decode("ascii", errors="replace")
        line = line.strip()
        if not line:
            return
        try:
            # check=True: a sentence without a checksum is refused too; a serial line with noise
            # would otherwise put the van in the wrong place.
            msg = pynmea2.parse(line, check=True)
        except pynmea2.SentenceTypeError:
            self.ignored += 1
            self.last_sentence_at = now
            return
        except (pynmea2.ParseError, ValueError, UnicodeError):
            self.corrupt += 1
            return
        try:
            self._apply(msg, now)
        except (ValueError, TypeError, AttributeError):
            self.corrupt += 1  # checksum right but fields malformed (a buggy receiver)
            return
        self.sentences += 1
        self.last_sentence_at = now

    def _apply(self, msg, now: float) -> None:
        kind = msg.sentence_type
        if kind == "GGA":
            quality = int(msg.gps_qual or 0)
            self._satellites = int(msg.num_sats) if msg.num_sats else None
            self._altitude = float(msg.altitude) if msg.altitude not in (None, "") else None
            self._hdop = float(msg.horizontal_dil) if msg.horizontal_dil else None
            if quality == 0:
                self._no_fix_at = now
                return
            self._set_fix(msg.latitude, msg.longitude, None, None, now)
        elif kind == "RMC":
            if msg.status != "A":
                self._no_fix_at = now
                return
            speed = float(msg.spd_over_grnd) * KNOTS_TO_KMH if msg.spd_over_grnd not in (None, "") else None
            utc = msg.datetime.isoformat() if msg.datestamp and msg.timestamp else None
            self._set_fix(msg.latitude, msg.longitude, speed, utc, now)
        else:
            self.ignored += 1

    def _set_fix(self, lat, lon, speed, utc, now: float) -> None:
        lat, lon = float(lat), float(lon)
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError("position out of range")
        old = self.last_fix
        if old is not None and now - old.at < 1.5:
            # RMC and GGA of the same second each carry half of the picture; merge them.
            speed = old.speed_kmh if speed is None else speed
            utc = old.utc if utc is None else utc
        self._no_fix_at = None
        self.last_fix = GpsFix(lat, lon, self._satellites, speed, self._altitude, self._hdop, utc, now)

    def status(self, now: float | None = None, *, receiving_within_s: float = 5.0, last_error: str = "") -> GpsStatus:
        now = time.monotonic() if now is None else now
        fix = self.last_fix
        age = None if fix is None else max(0.0, now - fix.at)
        current = fix is not None and self._no_fix_at is None and age is not None and age <= self.fix_timeout_s
        receiving = self.last_sentence_at is not None and now - self.last_sentence_at <= receiving_within_s
        return GpsStatus(receiving, current, fix, age, self._satellites, self.sentences, self.corrupt, last_error)

"""The van's GPS receiver: NMEA 0183 sentences from a serial port (or gpsd, or the sim twin) → fix, position, speed.

:class:`NmeaDecoder` is pure (lines in, state out; checksums required and checked, corrupt sentences
ignored and counted) so it is tested without a port. :class:`GpsReceiver` owns the line: one thread
reads it, reconnects when the receiver is unplugged, and answers :meth:`GpsReceiver.status` at once.
"""

from __future__ import annotations

import logging
import threading

from edge.devices.gps.base import KNOTS_TO_KMH, GpsFix, GpsStatus, GpsUrlError, NmeaDecoder, nmea_sentence
from edge.devices.gps.gpsd import GpsdLine, gpsd_settings
from edge.devices.gps.serial import SerialLine, serial_settings
from edge.devices.gps.sim import SimGpsLine, sim_settings
from edge.devices.openers import Connection, Openers

__all__ = ["KNOTS_TO_KMH", "OPENERS", "GpsFix", "GpsReceiver", "GpsStatus", "GpsUrlError", "NmeaDecoder",
           "nmea_sentence"]

log = logging.getLogger("edge.gps")

# The receiver's thread opens a line through this table each time it (re)connects.
OPENERS = Openers("gps", [
    Connection("serial", lambda url, s: SerialLine(**s), serial_settings, "serial:///dev/ttyACM0?baudrate=9600"),
    Connection("gpsd", lambda url, s: GpsdLine(**s), gpsd_settings, "gpsd://127.0.0.1:2947"),
    Connection("sim", lambda url, s: SimGpsLine(url, s), sim_settings, "sim://"),
])


class GpsReceiver:
    """One GPS receiver by URL, read by its own thread; ``status()`` never blocks."""

    def __init__(self, url: str, *, fix_timeout_s: float = 5.0, receiving_within_s: float = 5.0):
        OPENERS.check(url)  # a wrong URL is refused here, not retried for ever by the thread
        self.url = url
        self.receiving_within_s = receiving_within_s
        self.decoder = NmeaDecoder(fix_timeout_s)
        self.last_error = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"gps {url}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        delay = 1.0
        while not self._stop.is_set():
            line = None
            try:
                line = OPENERS.open(self.url)
                while not self._stop.is_set():
                    data = line.readline()
                    if data:
                        with self._lock:
                            self.decoder.feed(data)
                        self.last_error = ""
                        delay = 1.0
            except Exception as exc:  # unplugged, port gone, gpsd down: say so, then try again
                if self.last_error != str(exc):
                    log.info("gps %s: %s", self.url, exc)
                self.last_error = str(exc) or type(exc).__name__
            finally:
                if line is not None:
                    try:
                        line.close()
                    except Exception:
                        pass
            self._stop.wait(delay)
            delay = min(delay * 2, 10.0)

    def status(self, now: float | None = None) -> GpsStatus:
        with self._lock:
            return self.decoder.status(now, receiving_within_s=self.receiving_within_s, last_error=self.last_error)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=3)

"""GPS: NMEA sentences through a real pty pair (socat) into the receiver, and the decoder on its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from edge.devices.gps import GpsReceiver, GpsUrlError, NmeaDecoder, nmea_sentence
from edge.devices.gps.sim import SimGps

RMC = nmea_sentence("GPRMC,101500.00,A,3002.6640,N,03114.1420,E,10.8,90.0,211126,,,A")
GGA = nmea_sentence("GPGGA,101500.00,3002.6640,N,03114.1420,E,1,08,1.1,23.0,M,15.6,M,,")


def _until(predicate, limit_s: float = 5.0) -> bool:
    # A bounded wait, not a timed assertion: it returns as soon as the condition holds.
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.fixture
def pty_pair(tmp_path):
    if shutil.which("socat") is None:
        pytest.skip("socat is not installed")
    a, b = tmp_path / "gps-writer", tmp_path / "gps-reader"
    proc = subprocess.Popen(["socat", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert _until(lambda: a.exists() and b.exists()), "socat did not create the pty pair"
    yield a, b, proc
    proc.terminate()
    proc.wait(timeout=5)


def test_the_van_knows_where_it_is_from_nmea_on_a_serial_port_and_ignores_corrupt_sentences(pty_pair):
    writer_path, reader_path, _ = pty_pair
    receiver = GpsReceiver(f"serial://{reader_path}?baudrate=9600")
    fd = os.open(writer_path, os.O_WRONLY | os.O_NOCTTY)
    try:
        time.sleep(0.3)  # let the receiver open its end before the first burst
        corrupt = [
            RMC[:-2] + "00",  # wrong checksum
            GGA.split("*")[0],  # checksum missing
            "$GPRMC,garbled\x00\x17",  # line noise
        ]
        lines = [*corrupt, RMC, GGA]
        os.write(fd, "".join(line + "\r\n" for line in lines).encode("latin-1"))
        assert _until(lambda: receiver.status().fix)
        assert _until(lambda: receiver.status().corrupt == 3)
    finally:
        os.close(fd)
        receiver.close()
    status = receiver.status()
    assert status.fix and status.receiving
    assert status.last_fix.latitude == pytest.approx(30.0444, abs=1e-4)
    assert status.last_fix.longitude == pytest.approx(31.2357, abs=1e-4)
    assert status.satellites == 8
    assert status.last_fix.speed_kmh == pytest.approx(10.8 * 1.852)
    assert status.corrupt == 3 and status.sentences == 2


def test_an_unplugged_receiver_keeps_the_last_good_fix_and_its_age(pty_pair):
    writer_path, reader_path, proc = pty_pair
    receiver = GpsReceiver(f"serial://{reader_path}")
    fd = os.open(writer_path, os.O_WRONLY | os.O_NOCTTY)
    try:
        time.sleep(0.3)
        os.write(fd, (RMC + "\r\n" + GGA + "\r\n").encode())
        assert _until(lambda: receiver.status().fix)
    finally:
        os.close(fd)
    proc.terminate()  # the cable is pulled: the pty disappears
    proc.wait(timeout=5)
    assert _until(lambda: receiver.last_error != "")
    later = receiver.status(time.monotonic() + 30)
    receiver.close()
    assert not later.fix and not later.receiving
    assert later.last_fix is not None and later.fix_age_s >= 30


def test_searching_receiver_has_no_fix_but_keeps_the_previous_position():
    gps, decoder = SimGps(), NmeaDecoder()
    for line in gps.sentences(0.0):
        decoder.feed(line, now=1.0)
    gps.set_fault("no_fix")
    for line in gps.sentences(1.0):
        decoder.feed(line, now=2.0)
    status = decoder.status(2.0)
    assert not status.fix and status.receiving
    assert status.last_fix.latitude == pytest.approx(30.0444, abs=0.01)
    assert status.fix_age_s == pytest.approx(1.0)


def test_the_simulated_receiver_reports_a_fix_through_the_same_decoder():
    receiver = GpsReceiver("sim://gps-test")
    try:
        assert _until(lambda: receiver.status().fix)
    finally:
        receiver.close()
    assert receiver.status().satellites == 9


def test_an_unknown_gps_address_is_refused_in_both_languages():
    with pytest.raises(GpsUrlError) as err:
        GpsReceiver("bluetooth://gps")
    assert "GPS" in err.value.message_en and "الموقع" in err.value.message_ar

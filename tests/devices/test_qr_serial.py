"""The serial QR scanner, for real: a socat pty pair stands in for the scanner's USB-serial line.

The reader opens one end as its "/dev/ttyACM0"; the test types codes into the other end, as the
scanner would, and unplugs the scanner by killing socat (the reader's end vanishes and its reads fail).
Waits are bounded; nothing asserts how fast anything was.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

import pytest

from edge.devices.qr import QrConfigError, open_reader
from edge.devices.qr.serial import TERMINATORS, LineSplitter

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")

EG1 = ("EG1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEXWK G2EP4J0BGJLFX3R3VHXK.PJ:2DPF6R:5SVBHABVCNN95"
       "SWMPHQUHQN%A0SOE+QQAB-HQ/HQ7IR.SQEEOK9SO:0")


class ScannerLine:
    """A socat pty pair: ``port`` is what the reader opens, ``scan()`` types into the other end."""

    def __init__(self, folder):
        self.port = str(folder / "ttyACM0")
        self.scanner_end = str(folder / "scanner")
        self.proc: subprocess.Popen | None = None
        self.fd: int | None = None

    def plug(self) -> None:
        self.proc = subprocess.Popen(
            ["socat", "-d", "-d", f"pty,raw,echo=0,link={self.port}", f"pty,raw,echo=0,link={self.scanner_end}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while not (os.path.exists(self.port) and os.path.exists(self.scanner_end)):
            assert time.monotonic() < deadline, "socat did not create the pty pair"
            time.sleep(0.02)
        self.fd = os.open(self.scanner_end, os.O_RDWR | os.O_NOCTTY)

    def unplug(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
            self.proc = None
        deadline = time.monotonic() + 5
        while os.path.lexists(self.port) and time.monotonic() < deadline:
            time.sleep(0.02)

    def scan(self, data: bytes) -> None:
        os.write(self.fd, data)


@pytest.fixture
def line(tmp_path):
    pair = ScannerLine(tmp_path)
    pair.plug()
    yield pair
    pair.unplug()


@pytest.fixture
def make_reader():
    readers = []

    def make(url):
        reader = open_reader(url).start()
        readers.append(reader)
        return reader

    yield make
    for reader in readers:
        reader.stop()


def wait_state(reader, state, within=5.0):
    deadline = time.monotonic() + within
    while reader.status().state != state:
        assert time.monotonic() < deadline, f"reader stayed {reader.status()}"
        time.sleep(0.02)


def collect(reader, after, count, within=5.0) -> list[str]:
    """The texts of the next ``count`` events (or fewer, if they do not come within ``within`` s)."""
    texts, deadline = [], time.monotonic() + within
    while len(texts) < count and (left := deadline - time.monotonic()) > 0:
        events = reader.events.wait_next(after, timeout=left)
        if events:
            after = events[-1].seq
            texts += [e.text for e in events]
    return texts


def test_codes_typed_by_the_scanner_arrive_as_events(line, make_reader):
    reader = make_reader(f"serial://{line.port}?baudrate=9600&terminator=CR")
    wait_state(reader, "ok")
    line.scan(b"V001-2026-000123\r")
    line.scan(EG1.encode()[:50])  # a long code may arrive in pieces
    line.scan(EG1.encode()[50:] + b"\rhttps://mtc.gov.eg/t/1\r")
    assert collect(reader, 0, 3) == ["V001-2026-000123", EG1, "https://mtc.gov.eg/t/1"]


def test_reader_comes_back_after_the_scanner_is_unplugged_and_replugged(line, make_reader):
    reader = make_reader(f"serial://{line.port}?terminator=CR")
    wait_state(reader, "ok")
    line.scan(b"BEFORE\r")
    assert collect(reader, 0, 1) == ["BEFORE"]

    line.unplug()
    wait_state(reader, "error")
    assert "ttyACM0" in reader.status().detail
    line.plug()

    # The reader flushes its input when it reopens the port, so keep scanning until it listens again;
    # the debounce turns the repeats into one event. It must be back within 5 s of the replug.
    after = reader.events.latest_seq()
    deadline = time.monotonic() + 5.0
    got = []
    while not got and time.monotonic() < deadline:
        line.scan(b"AFTER\r")
        got = reader.events.wait_next(after, timeout=0.25)
    assert [e.text for e in got] == ["AFTER"]
    assert reader.status().state == "ok"


def test_a_code_read_twice_within_the_window_is_one_event(line, make_reader):
    reader = make_reader(f"serial://{line.port}?terminator=CR&debounce=0.5")
    wait_state(reader, "ok")
    line.scan(b"SAME\rSAME\r")
    line.scan(b"SAME\rOTHER\r")
    assert collect(reader, 0, 2) == ["SAME", "OTHER"]
    assert collect(reader, 2, 1, within=0.3) == []  # no third event for the repeats
    time.sleep(0.7)  # the citizen scans the same receipt again a moment later: that is a new read
    line.scan(b"SAME\r")
    assert collect(reader, 2, 1) == ["SAME"]


def test_bytes_that_are_not_utf8_do_not_stop_the_reader(line, make_reader):
    reader = make_reader(f"serial://{line.port}?terminator=CRLF")
    wait_state(reader, "ok")
    line.scan(b"\xff\xfe\x00\x01ABC\r\n")            # garbage from a wrong baud rate
    line.scan("طلب 123".encode("cp1256") + b"\r\n")   # an Arabic keyboard code page
    line.scan(b"\x02STX-ETX\x03\r\n")                 # a scanner set to frame codes with STX/ETX
    line.scan("طلب 456".encode() + b"\r\n")
    texts = collect(reader, 0, 4)
    assert texts[1:] == ["طلب 123", "STX-ETX", "طلب 456"]
    assert texts[0].endswith("ABC") and all(ch.isprintable() for ch in texts[0])
    assert reader.status().state == "ok"


def test_a_scanner_without_terminator_is_cut_by_the_pause(line, make_reader):
    reader = make_reader(f"serial://{line.port}?terminator=NONE&idle=0.15")
    wait_state(reader, "ok")
    line.scan(b"FIRST")
    assert collect(reader, 0, 1) == ["FIRST"]
    line.scan(b"SECOND")
    assert collect(reader, 1, 1) == ["SECOND"]


@pytest.mark.parametrize("name", sorted(TERMINATORS))
def test_each_terminator_splits_codes(name):
    splitter = LineSplitter(TERMINATORS[name], idle=0.3)
    sep = TERMINATORS[name]
    if not sep:
        assert splitter.feed(b"ONE", 0.0) == []
        assert splitter.feed(b"", 0.31) == ["ONE"]
        return
    assert splitter.feed(b"ONE" + sep + b"TW", 0.0) == ["ONE"]
    assert splitter.feed(b"O" + sep, 0.01) == ["TWO"]
    # a scanner configured with another suffix still gets its code through, after the pause
    assert splitter.feed(b"THREE", 1.0) == []
    assert splitter.feed(b"", 1.5) == ["THREE"]


@pytest.mark.parametrize("url", ["serial://?terminator=CR", "serial:///dev/ttyACM0?terminator=NUL",
                                 "serial:///dev/ttyACM0?baudrate=fast", "hid:///dev/input/event3",
                                 "ftp://scanner", "serial:///dev/ttyACM0?debounce=soon"])
def test_a_wrong_setting_is_refused_with_a_message(url):
    with pytest.raises(QrConfigError) as exc:
        open_reader(url)
    assert exc.value.message_ar and "devices.qr" in exc.value.message_en


def test_a_missing_port_is_an_error_state_not_a_crash(tmp_path, make_reader):
    reader = make_reader(f"serial://{tmp_path}/nothing-here")
    wait_state(reader, "error")
    assert reader.running

"""The receipt printer with real parts: a socat pty pair plays the serial printer, the byte stream is decoded back.

The test on the far end of the pty is the printer: it reads what the driver sends, answers DLE EOT
status requests from its own state (paper, cover, silence), and keeps everything else as decoded
commands, so a test can compare the raster lines with the rendered images and the QR payload with
the expected text. The simulated twin (``sim://``) covers the faults a pty cannot (a cutter jam).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import serial

from edge.config import DeviceSettings, Settings, VanSettings
from edge.devices import printer as printer_mod
from edge.devices.printer import escpos_read as esc
from edge.devices.printer import raster as printer_raster
from edge.devices.printer import sim as printer_sim
from edge.devices.printer import status as escpos_status
from edge.devices.printer.encode import PrinterProfile
from edge.devices.printer.layout import Qr, Raster, Receipt, TicketSlip, layout
from edge.devices.printer.layout import TestPage as PrinterTestPage
from edge.services.print_worker import PrintWorker
from edge.store import device_status, print_jobs
from edge.store.db import open_db
from edge.store.migrations import migrate
from edge.web import printing
from tests.support.paths import ROOT

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")

RECEIPT = Receipt(
    number="007-261121-0001-5", service_code="CIV-BIRTH", service_ar="استخراج شهادة ميلاد مميكنة",
    service_en="Computerised birth certificate", citizen_name="محمد أ. ع.", fee_piastres=2500,
    payment_method="cash", payment_reference=None, submitted_at="2026-11-21T08:00:00+00:00",
    expected_ready_on="2026-11-24", duration_days=3, van_id="V007", van_name="Nile 1", governorate="01",
    qr="EG1:NCFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N IOP-IPG*03AGOJ8",
)
TICKET = TicketSlip(number="A007", category_ar="الأحوال المدنية", category_en="Civil registry", priority="elderly",
                    issued_at="2026-11-21T08:05:00+00:00", people_ahead=3, wait_minutes=15, van_id="V007",
                    van_name="Nile 1", governorate="01")


def wait_for(predicate, timeout: float = 10.0, what: str = "condition"):
    """Poll ``predicate`` until it is true; fail after ``timeout`` seconds (a bound, never a measurement)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


# --------------------------------------------------------------------------------------------------
# The printer at the far end of the pty
# --------------------------------------------------------------------------------------------------


class PlayedPrinter(threading.Thread):
    """An Epson-like printer on the far end of the pty, played by the test.

    Like a real TM it holds what it receives while it cannot print, prints it when it can again
    (unless told to clear its buffers), and may run out of paper after a number of print commands.
    """

    def __init__(self, path: Path):
        super().__init__(daemon=True)
        self.port = serial.Serial(str(path), 115200, timeout=0.02)
        self.decoder = esc.Decoder()
        self.printed: list[esc.Command] = []  # on paper, in order
        self.held: list[esc.Command] = []
        self.queries: list[int] = []
        self.paper = "ok"
        self.cover_open = False
        self.mute = False
        self.out_after: int | None = None  # paper ends after this many more print commands
        self.lock = threading.Lock()
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                data = self.port.read(4096)
            except (OSError, serial.SerialException):
                return  # the pty went away (unplugged)
            if data:
                with self.lock:
                    for command in self.decoder.feed(data):
                        self._handle(command)

    def _can_print(self) -> bool:
        return self.paper != "out" and not self.cover_open

    def _handle(self, command: esc.Command) -> None:
        if isinstance(command, esc.StatusQuery):
            self.queries.append(command.n)
            if not self.mute:
                self.port.write(bytes([self.status_byte(command.n)]))
        elif isinstance(command, esc.ClearBuffers):
            self.held.clear()
            self.port.write(b"\x37\x25\x00")  # the TM's answer to a buffer clear: not a status byte
        elif not self._can_print():
            self.held.append(command)
        else:
            self.printed.append(command)
            if self.out_after is not None:
                self.out_after -= 1
                if self.out_after <= 0:
                    self.paper, self.out_after = "out", None

    def status_byte(self, n: int) -> int:
        offline = not self._can_print()
        if n == 1:
            return 0x16 | (0x08 if offline else 0)
        if n == 2:
            return 0x12 | (0x04 if self.cover_open else 0) | (0x20 if self.paper == "out" else 0)
        if n == 3:
            return 0x12
        if n == 4:
            return 0x12 | {"ok": 0, "near-end": 0x0C, "out": 0x6C}[self.paper]
        return 0x12

    def set(self, **state) -> None:
        with self.lock:
            for key, value in state.items():
                setattr(self, key, value)
            if self._can_print() and self.held:  # back online: what it held comes out
                self.printed.extend(self.held)
                self.held.clear()

    def jobs(self) -> list[list[esc.Command]]:
        """What came out, one list per job: a job starts with ESC @ and a whole one ends with the cut."""
        with self.lock:
            papers, current = [], []
            for command in self.printed:
                if isinstance(command, esc.Init) and current:
                    papers.append(current)
                    current = []
                current.append(command)
                if isinstance(command, esc.Cut):
                    papers.append(current)
                    current = []
            if current:
                papers.append(current)
            return papers

    def close(self) -> None:
        self._halt.set()
        self.join(2)
        self.port.close()


class PtyPair:
    """``socat`` joining two ptys: the driver opens ``device``, the played printer ``wire``."""

    def __init__(self, folder: Path):
        self.device, self.wire = folder / "ttyPRINTER", folder / "ttyWIRE"
        self.proc = None

    def plug(self) -> PtyPair:
        self.proc = subprocess.Popen(
            ["socat", "-d", "-d", f"pty,raw,echo=0,link={self.device}", f"pty,raw,echo=0,link={self.wire}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.device.exists() and self.wire.exists(), what="socat's ptys")
        return self

    def unplug(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None
        for link in (self.device, self.wire):
            link.unlink(missing_ok=True)


@pytest.fixture
def pty(tmp_path):
    pair = PtyPair(tmp_path).plug()
    yield pair
    pair.unplug()


@pytest.fixture
def played(pty):
    printer = PlayedPrinter(pty.wire)
    printer.start()
    yield printer
    printer.close()


@pytest.fixture
def serial_printer(pty):
    printer = printer_mod.open_printer(f"serial://{pty.device}?baudrate=115200&status_timeout=1.5")
    yield printer
    printer.close()


@pytest.fixture
def queue(db_path):
    database = open_db(db_path)
    migrate(database)
    yield database
    database.close()


def queue_receipt(db, receipt: Receipt = RECEIPT) -> int:
    return print_jobs.add(db, "receipt", receipt.to_payload(), ref=receipt.number)


def printer_row(db):
    return next(s for s in device_status.current(db) if s.device == "printer")


def assert_matches_layout(paper: list[esc.Command], doc, printer: printer_mod.Printer, *, reprint=False):
    """The paper shows exactly what the layout says: same raster lines dot for dot, same QR, same text."""
    blocks = layout(doc, printer.profile.paper, reprint=reprint)
    expected = [b.image for b in blocks if isinstance(b, Raster)]
    rasters = esc.of_type(paper, esc.Raster)
    assert len(rasters) == len(expected)
    for want, got in zip(expected, rasters, strict=True):
        # GS v 0 rows are whole bytes: the decoded image is padded to a multiple of 8 dots, in white.
        assert got.image.size == ((want.width + 7) // 8 * 8, want.height)
        assert got.image.crop((0, 0, want.width, want.height)).tobytes() == want.convert("1").tobytes()
        if got.image.width > want.width:
            assert got.image.crop((want.width, 0, got.image.width, want.height)).getextrema() == (255, 255)
    assert [q.data for q in esc.of_type(paper, esc.Qr)] == [b.data for b in blocks if isinstance(b, Qr)]
    assert isinstance(paper[-1], esc.Cut)


# --------------------------------------------------------------------------------------------------
# Serial printer over the pty
# --------------------------------------------------------------------------------------------------


def test_receipt_prints_over_serial_and_reads_back_as_rendered(played, serial_printer, queue):
    job = queue_receipt(queue)
    worker = PrintWorker("unused", serial_printer)  # driven by hand with run_once: no thread, no path
    assert worker.run_once(queue) == 1
    assert print_jobs.get(queue, job).state == "printed"
    papers = played.jobs()
    assert len(papers) == 1
    assert_matches_layout(papers[0], RECEIPT, serial_printer)
    lines = esc.texts(papers[0])
    assert RECEIPT.number in lines
    assert any(line.startswith("Service: Computerised birth certificate") for line in lines)
    assert not any("REPRINT" in line for line in lines)
    # Asked before the job and after it; the answers were believed.
    assert played.queries[:4] == [1, 2, 3, 4]
    assert printer_row(queue).state == "ok"


def test_status_reads_paper_near_end_and_cover_open_from_the_printer(played, serial_printer):
    assert serial_printer.status().ok
    played.set(paper="near-end")
    status = serial_printer.status()
    assert (status.state, status.paper, status.problem) == ("warning", "near-end", "paper-near-end")
    assert status.can_print
    played.set(paper="ok", cover_open=True)
    status = serial_printer.status()
    assert (status.state, status.cover_open, status.problem) == ("error", True, "printer-cover-open")
    assert "cover" in status.message_en and "غطاء الطابعة" in status.message_ar


def test_printer_that_does_not_answer_is_unknown_never_ok(played, serial_printer, queue):
    played.set(mute=True)
    status = serial_printer.status()
    assert status.state == "unknown" and not status.ok
    assert played.queries == [1]  # one unanswered question is enough: no three more timeouts
    # Unknown is tried (a one-way cable still prints), and the console is told it cannot be checked.
    queue_receipt(queue)
    worker = PrintWorker("unused", serial_printer)
    assert worker.run_once(queue) == 1
    assert len(played.jobs()) == 1
    row = printer_row(queue)
    assert row.state == "unknown" and "status" in row.message_en


def test_receipt_survives_printer_out_of_paper(played, serial_printer, queue):
    played.set(paper="out")
    job = queue_receipt(queue)
    worker = PrintWorker("unused", serial_printer)
    assert worker.run_once(queue) == 0
    kept = print_jobs.get(queue, job)
    assert (kept.state, kept.reason, kept.reprint) == ("queued", "printer-paper-out", False)
    assert played.jobs() == [] and played.held == []  # nothing was sent to a printer without paper
    alert = printer_row(queue)
    assert alert.state == "error"
    assert "out of paper" in alert.message_en and "نفد ورق الطابعة" in alert.message_ar
    assert alert.detail["waiting"] == 1

    assert worker.run_once(queue) == 0  # still out: still kept, nothing printed
    played.set(paper="ok")
    assert worker.run_once(queue) == 1
    assert print_jobs.get(queue, job).state == "printed"
    assert worker.run_once(queue) == 0  # and never a second copy
    papers = played.jobs()
    assert len(papers) == 1
    assert_matches_layout(papers[0], RECEIPT, serial_printer)
    assert printer_row(queue).state == "ok"


def test_paper_ending_mid_receipt_gives_one_whole_receipt_marked_reprint(played, serial_printer, queue):
    played.set(out_after=5)  # the roll ends a few lines into the receipt
    job = queue_receipt(queue)
    worker = PrintWorker("unused", serial_printer)
    assert worker.run_once(queue) == 0
    kept = print_jobs.get(queue, job)
    assert (kept.state, kept.reason, kept.reprint) == ("queued", "printer-paper-out", True)
    # The rest of the receipt, held in the printer, was thrown away so it cannot print on top of the reprint.
    assert played.held == []
    played.set(paper="ok")
    assert worker.run_once(queue) == 1
    papers = played.jobs()
    assert len(papers) == 2  # the torn start, then one whole receipt
    assert not any(isinstance(c, esc.Cut) for c in papers[0])
    assert "*** REPRINT ***" in esc.texts(papers[1])
    assert_matches_layout(papers[1], RECEIPT, serial_printer, reprint=True)


def test_unplugged_serial_printer_keeps_the_receipt_and_prints_after_replug(pty, queue):
    printer = printer_mod.open_printer(f"serial://{pty.device}?status_timeout=1.0")
    pty.unplug()
    job = queue_receipt(queue)
    worker = PrintWorker("unused", printer)
    assert worker.run_once(queue) == 0
    kept = print_jobs.get(queue, job)
    assert (kept.state, kept.reason) == ("queued", "printer-offline")
    assert printer_row(queue).state == "error"
    assert "switched on" in printer_row(queue).message_en

    pty.plug()
    played = PlayedPrinter(pty.wire)
    played.start()
    try:
        assert worker.run_once(queue) == 1
        assert len(played.jobs()) == 1
        assert print_jobs.get(queue, job).state == "printed"
    finally:
        played.close()
        printer.close()


def test_status_poll_never_touches_the_printer_while_a_job_prints():
    device = printer_sim.SimPrinter("busy-test")
    gate, entered = threading.Event(), threading.Event()

    class SlowWire(printer_sim.SimTransport):
        def write(self, data):
            if len(data) > 3:  # the job, not a status request
                entered.set()
                gate.wait(10)
            super().write(data)

    printer = printer_mod.Printer(SlowWire(device))
    printing_thread = threading.Thread(target=printer.print_document, args=(PrinterTestPage(),))
    printing_thread.start()
    wait_for(entered.is_set, what="the job to start")
    asked = device.status_queries
    status = printer.status()
    assert status.busy and status.ok  # the last known state, marked busy
    assert device.status_queries == asked
    gate.set()
    printing_thread.join(10)
    assert len(device.jobs) == 1


# --------------------------------------------------------------------------------------------------
# Arabic
# --------------------------------------------------------------------------------------------------


def _ink_columns(image):
    """Which columns of a 1-bit image have ink."""
    width, height = image.size
    pixels = image.load()
    return [any(pixels[x, y] == 0 for y in range(height)) for x in range(width)]


def test_arabic_letters_are_joined_not_isolated():
    for word in ("الطلب", "سلام", "مستشفى", "بيت"):
        shaped = printer_raster.render_line(word, 26).width
        isolated = sum(printer_raster.render_line(letter, 26).width for letter in word)
        assert shaped < isolated, word
    # lam + alef is one ligature glyph, narrower than the two letters side by side
    assert printer_raster.text_width("لا", 26) < printer_raster.text_width("ل", 26) + printer_raster.text_width("ا", 26)


def test_arabic_line_reads_right_to_left():
    first, second = "لا", "محمد"  # logical order: "لا" is typed first
    line = printer_raster.render_line(f"{first} {second}", 26)
    ink = _ink_columns(line)
    # The widest blank run between the two words splits the line.
    best, run_start = (0, 0), None
    for x, has_ink in enumerate([*ink, True]):
        if not has_ink and run_start is None:
            run_start = x
        elif has_ink and run_start is not None:
            best = max(best, (x - run_start, run_start))
            run_start = None
    gap_len, gap_at = best
    left_width, right_width = gap_at, line.width - gap_at - gap_len
    # Right to left: the first word is on the right, the second on the left.
    assert abs(right_width - printer_raster.render_line(first, 26).width) <= 2
    assert abs(left_width - printer_raster.render_line(second, 26).width) <= 2


def test_arabic_raster_on_paper_is_the_rendered_image(played, serial_printer, queue):
    # The test page carries the lam-alef ligature line; what the printer received is that image.
    assert serial_printer.print_document(PrinterTestPage(van_id="V007")).bytes_sent > 0
    assert_matches_layout(played.jobs()[0], PrinterTestPage(van_id="V007"), serial_printer)


def test_printer_refuses_to_start_without_raqm(monkeypatch):
    monkeypatch.setattr(printer_raster.features, "check", lambda name: False)
    with pytest.raises(printer_raster.RaqmMissing) as refused:
        printer_mod.open_printer("sim://no-raqm")
    assert "libraqm0" in refused.value.message_en and "libraqm0" in refused.value.message_ar


# --------------------------------------------------------------------------------------------------
# The simulated twin's faults
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def sim(request):
    name = "t-" + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())
    device = printer_sim.device(name)
    device.reset()
    return name, device


@pytest.mark.parametrize(("fault", "problem"), [
    ({"cover_open": True}, "printer-cover-open"),
    ({"paper": "out"}, "printer-paper-out"),
    ({"cutter_jam": True}, "printer-cutter"),
    ({"unplugged": True}, "printer-offline"),
])
def test_simulated_printer_fault_keeps_the_ticket_until_it_is_fixed(sim, queue, fault, problem):
    name, device = sim
    device.set(**fault)
    worker = PrintWorker("unused", printer_mod.open_printer(f"sim://{name}"))
    job = print_jobs.add(queue, "ticket", TICKET.to_payload(), ref=TICKET.number)
    assert worker.run_once(queue) == 0
    assert print_jobs.get(queue, job).reason == problem
    assert printer_row(queue).state == "error"
    assert device.jobs == []
    device.set(cover_open=False, paper="ok", cutter_jam=False, unplugged=False)
    assert worker.run_once(queue) == 1
    assert len(device.jobs) == 1 and device.held == bytearray()
    assert "YOUR NUMBER" in esc.texts(esc.decode(device.jobs[0]))


def test_simulated_printer_out_of_paper_mid_job_then_reprint(sim, queue):
    name, device = sim
    device.run_out_after(2000)
    worker = PrintWorker("unused", printer_mod.open_printer(f"sim://{name}"))
    job = queue_receipt(queue)
    assert worker.run_once(queue) == 0
    assert print_jobs.get(queue, job).reprint
    assert device.held == bytearray()  # the rest of the torn receipt was cleared, not kept for later
    device.load_paper()
    assert worker.run_once(queue) == 1
    assert len(device.jobs) == 1
    assert "*** REPRINT ***" in esc.texts(esc.decode(device.jobs[0]))


def test_mute_simulated_printer_is_unknown_and_still_prints(sim, queue):
    name, device = sim
    device.set(mute=True)
    printer = printer_mod.open_printer(f"sim://{name}?status_timeout=0.05")
    assert printer.status().state == "unknown"
    worker = PrintWorker("unused", printer)
    queue_receipt(queue)
    assert worker.run_once(queue) == 1
    assert len(device.jobs) == 1


def test_file_printer_writes_the_byte_stream_and_has_unknown_status(tmp_path):
    out = tmp_path / "printer.bin"
    printer = printer_mod.open_printer(f"file://{out}")
    assert printer.status().state == "unknown"
    printer.print_document(RECEIPT)
    commands = esc.decode(out.read_bytes())
    assert_matches_layout(commands[1:], RECEIPT, printer)  # after ESC @
    assert isinstance(commands[0], esc.Init)


def test_printer_urls_pick_their_wire_and_profile():
    from edge.devices.printer import transport as wire

    assert isinstance(printer_mod.open_printer("serial:///dev/ttyUSB0?baudrate=9600").transport, wire.SerialTransport)
    assert isinstance(printer_mod.open_printer("usb://04b8:0202").transport, wire.UsbTransport)
    tcp = printer_mod.open_printer("tcp://10.0.0.5:9100?profile=TM-T88V&qr=raster")
    assert isinstance(tcp.transport, wire.TcpTransport) and tcp.profile.name == "TM-T88V"
    assert not tcp.profile.native_qr
    narrow = printer_mod.open_printer("sim://narrow?width=384&columns=32")
    assert (narrow.profile.width, narrow.profile.columns) == (384, 32)
    with pytest.raises(ValueError):
        printer_mod.open_printer("lpt://1")


def test_receipt_fits_a_58_mm_printer_without_native_qr(sim):
    name, device = sim
    printer = printer_mod.open_printer(f"sim://{name}?profile=ZJ-5870")
    assert (printer.profile.width, printer.profile.native_qr) == (384, False)
    printer.print_document(RECEIPT)
    commands = esc.decode(device.jobs[0])
    assert esc.of_type(commands, esc.Qr) == []
    assert all(r.image.width <= 384 for r in esc.of_type(commands, esc.Raster))
    assert all(len(t) <= printer.profile.columns for t in esc.texts(commands))


def test_qr_falls_back_to_raster_on_a_printer_without_native_qr(sim):
    name, device = sim
    printer = printer_mod.open_printer(f"sim://{name}?qr=raster")
    printer.print_document(RECEIPT)
    commands = esc.decode(device.jobs[0])
    assert esc.of_type(commands, esc.Qr) == []
    widest = max(esc.of_type(commands, esc.Raster), key=lambda r: r.image.height)
    assert widest.image.height == printer_raster.qr_image(RECEIPT.qr, 6).height


# --------------------------------------------------------------------------------------------------
# The queue across restarts, and the web seam
# --------------------------------------------------------------------------------------------------


def test_print_queue_survives_a_restart_and_marks_an_interrupted_job_reprint(db_path, sim):
    name, device = sim
    # Another process queues two receipts, starts printing the first, and dies before it finishes.
    second = {**RECEIPT.to_payload(), "number": "007-261121-0002-3"}
    script = f"""
import json, os
from edge.store.db import open_db
from edge.store.migrations import migrate
from edge.store import print_jobs
db = open_db({str(db_path)!r}); migrate(db)
print_jobs.add(db, "receipt", json.loads({json.dumps(RECEIPT.to_payload())!r}), ref={RECEIPT.number!r})
print_jobs.add(db, "receipt", json.loads({json.dumps(second)!r}), ref="007-261121-0002-3")
print_jobs.claim_next(db)
os._exit(9)
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, timeout=60)
    assert done.returncode == 9
    db = open_db(db_path)
    try:
        assert [j.state for j in print_jobs.pending(db)] == ["printing", "queued"]
        worker = PrintWorker(db_path, printer_mod.open_printer(f"sim://{name}"), idle_poll=0.05, held_poll=0.05)
        worker.start()
        wait_for(lambda: not print_jobs.pending(db), what="the queue to drain")
        worker.stop()
        assert len(device.jobs) == 2
        first, second = (esc.texts(esc.decode(j)) for j in device.jobs)
        assert "*** REPRINT ***" in first  # it may already be on paper: the second copy says so
        assert "*** REPRINT ***" not in second
        assert RECEIPT.number in first and "007-261121-0002-3" in second
    finally:
        db.close()


@pytest.fixture
def app(tmp_path, sim):
    from edge.web.app import create_app

    name, device = sim
    settings = Settings(data_dir=tmp_path, van=VanSettings(id="V007", governorate="01", name="Nile 1"),
                        devices=DeviceSettings(printer=f"sim://{name}"))
    app = create_app(settings, PRINT_WAIT_S=10.0)
    worker = printing.worker(app)
    worker.held_poll = 0.05
    yield app, device
    worker.stop()


def _receipt_job(**changes) -> printing.PrintJob:
    fields = {"number": RECEIPT.number, "service_ar": RECEIPT.service_ar, "service_en": RECEIPT.service_en,
              "citizen_name": "محمد أحمد علي", "national_id_masked": "2900********67", "fee_piastres": 2500,
              "payment_method": "cash", "payment_reference": None, "expected_ready_on": "2026-11-24",
              "submitted_at": "2026-11-21T08:00:00+00:00", "operator": "2", "van": "V007"}
    return printing.PrintJob("receipt", "ar", fields, qr=RECEIPT.qr, **changes)


def test_operator_is_told_what_to_do_when_the_receipt_cannot_print_and_it_prints_later(app):
    app, device = app
    with app.test_request_context():
        outcome = printing.submit(_receipt_job())
        assert outcome.printed and "Take the paper" in outcome.message_en
        paper = esc.texts(esc.decode(device.jobs[0]))
        assert "Applicant" not in " ".join(paper)  # an Arabic name is printed as raster, and masked

        device.set(paper="out")
        outcome = printing.submit(_receipt_job())
        assert not outcome.printed and outcome.queued
        assert "new paper roll" in outcome.message_en and "بكرة ورق جديدة" in outcome.message_ar
        with open_db(app.config["EDGE_SETTINGS"].db_path) as db:
            assert printer_row(db).state == "error"
    device.load_paper()
    wait_for(lambda: len(device.jobs) == 2, what="the kept receipt to print")
    with open_db(app.config["EDGE_SETTINGS"].db_path) as db:
        wait_for(lambda: printer_row(db).state == "ok", what="the alert to clear")
        assert print_jobs.pending(db) == []
    assert len(device.jobs) == 2


def test_reprint_while_the_receipt_waits_does_not_print_it_twice(app):
    app, device = app
    device.set(cover_open=True)
    with app.test_request_context():
        first = printing.submit(_receipt_job())
        again = printing.submit(_receipt_job(reprint=True))
    assert not first.printed and not again.printed and first.job_id == again.job_id
    device.set(cover_open=False)
    wait_for(lambda: len(device.jobs) == 1, what="the receipt to print")
    with open_db(app.config["EDGE_SETTINGS"].db_path) as db:
        wait_for(lambda: print_jobs.pending(db) == [], what="the queue to drain")
    assert len(device.jobs) == 1


def test_kiosk_ticket_not_printed_is_shown_on_screen_and_not_printed_later(app):
    app, device = app
    device.set(paper="out")
    ticket = printing.PrintJob("ticket", "ar", {
        "number": "A007", "category": "CIV", "category_ar": "الأحوال المدنية", "category_en": "Civil registry",
        "people_ahead": 3, "wait_ar": "حوالي ١٥ دقيقة", "wait_en": "about 15 minutes", "priority": "none",
        "issued_at": "2026-11-21T08:05:00+00:00"})
    with app.test_request_context():
        outcome = printing.submit(ticket)
    assert not outcome.printed and "remember it" in outcome.message_en
    with open_db(app.config["EDGE_SETTINGS"].db_path) as db:
        assert print_jobs.get(db, outcome.job_id).state == "cancelled"
    device.load_paper()
    with app.test_request_context():
        assert printing.submit(ticket).printed  # the next ticket prints; the old one never does
    assert len(device.jobs) == 1
    assert "about 15 minutes" in " ".join(esc.texts(esc.decode(device.jobs[0])))


def test_training_paper_says_training(sim):
    name, device = sim
    printer = printer_mod.open_printer(f"sim://{name}")
    printer.print_document(RECEIPT, training=True)
    lines = esc.texts(esc.decode(device.jobs[0]))
    assert lines.count("*** TRAINING - NOT VALID ***") == 2


def test_status_decoding_never_believes_noise():
    assert escpos_status.decode({1: None, 2: None}).state == "unknown"
    assert escpos_status.decode({1: 0x00, 2: 0xFF}).state == "unknown"  # not status bytes
    assert escpos_status.decode({1: 0x16, 2: 0x12, 3: 0x12, 4: 0x12}).ok


def test_a_paper_that_cannot_be_queued_never_turns_into_an_error_page(app):
    app, device = app
    with app.test_request_context():
        outcome = printing.submit(printing.PrintJob("receipt", "ar", {"number": "007-261121-0001-5"}))
    assert not outcome.printed and "request itself is saved" in outcome.message_en
    assert device.jobs == []


def test_a_broken_job_does_not_block_the_receipts_behind_it(sim, queue):
    name, device = sim
    broken = print_jobs.add(queue, "receipt", {"number": "no other fields"}, ref="broken")
    good = queue_receipt(queue)
    worker = PrintWorker("unused", printer_mod.open_printer(f"sim://{name}"))
    assert worker.run_once(queue) == 1
    assert print_jobs.get(queue, broken).state == "cancelled"
    assert print_jobs.get(queue, good).state == "printed"
    assert len(device.jobs) == 1


def test_an_unreadable_database_is_reported_once_and_retried_with_back_off_not_a_log_flood(tmp_path, sim, caplog,
                                                                                          monkeypatch):
    # Issue 16, finding 8: a full traceback every 2 s for as long as the database could not be read.
    # (A file corrupted under an open connection goes unnoticed while SQLite's cache serves it, so the
    # store's read is made to fail as a corrupt file makes it fail.)
    import logging
    import sqlite3

    name, _device = sim
    db = open_db(tmp_path / "van.db")
    migrate(db)
    db.close()
    worker = PrintWorker(tmp_path / "van.db", printer_mod.open_printer(f"sim://{name}"), idle_poll=0.02,
                         held_poll=0.02)

    def unreadable(_db):
        raise sqlite3.DatabaseError("file is not a database")

    with caplog.at_level(logging.INFO, logger="edge.services.print_worker"):
        worker.start()
        ident = worker._thread.ident
        time.sleep(0.2)
        monkeypatch.setattr(print_jobs, "pending", unreadable)
        time.sleep(2.5)
        monkeypatch.undo()  # the database is readable again
        wait_for(lambda: any("works again" in r.getMessage() for r in caplog.records if r.thread == ident),
                 what="the recovery")
        worker.stop()
    # This worker's lines only: print workers of other tests' apps may still be running in this process.
    records = [r for r in caplog.records if r.thread == ident]
    tracebacks = [r for r in records if r.exc_info]
    failed_cycles = sum("cycle failed" in r.getMessage() or "still failing" in r.getMessage() for r in records)
    assert len(tracebacks) == 1 and "not a database" in str(tracebacks[0].exc_info[1])
    # 2.5 s at a 20 ms poll was ~120 tracebacks before; with the back-off (doubling, up to a minute) a few lines.
    assert 2 <= failed_cycles <= 8, [r.getMessage() for r in records]


def test_a_ticket_slip_carries_its_number_in_arabic_letters_and_digits_above_the_latin_one():
    # Issue 18, finding 5: "A001" is hard to find on the screen for a citizen who does not read Latin script.
    blocks = layout(TICKET)
    [arabic] = [i for i, b in enumerate(blocks) if isinstance(b, Raster) and b.text == "أ\u00a0٠٠٧"]
    [latin] = [i for i, b in enumerate(blocks) if getattr(b, "text", None) == "A007" and not isinstance(b, Raster)]
    assert arabic < latin and blocks[latin].scale == 2
    assert blocks[arabic].image.height >= 48, "as large as the Latin number beside it"


@pytest.mark.parametrize("profile", [PrinterProfile.named(), PrinterProfile.named("ZJ-5870")],
                         ids=["80mm-native-qr", "58mm-raster-qr"])
@pytest.mark.parametrize("doc", [RECEIPT, TICKET], ids=["receipt", "ticket"])
def test_the_picture_of_the_sent_bytes_is_the_paper_the_layout_means(doc, profile):
    # Issue 18, finding 6: the console shows the last papers, drawn from the very ESC/POS bytes sent.
    from edge.devices.printer import paper, preview
    from edge.devices.printer.encode import encode

    blocks = layout(doc, profile.paper)
    drawn = paper.picture(encode(blocks, profile), profile.paper)
    meant = preview.render(blocks, profile.paper)
    assert drawn.size == meant.size and drawn.width == profile.width
    # Row by row the same ink: a raster goes out padded to whole bytes, so a right-aligned line may sit a few
    # dots further left on the paper than in the layout, but every row holds the same dots.
    ink_drawn = np.asarray(drawn.convert("L")) < 128
    ink_meant = np.asarray(meant.convert("L")) < 128
    assert ink_meant.sum() > 10_000
    assert np.array_equal(ink_drawn.sum(axis=1), ink_meant.sum(axis=1))


def test_bytes_that_are_not_escpos_make_no_picture():
    from edge.devices.printer import paper

    with pytest.raises(ValueError):
        paper.picture(b"\x1b\x99 not a printer's language")

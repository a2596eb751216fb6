"""Close of shift end to end in a real browser (issue 19): an operator opens a shift in the van's console, registers
paid requests, cancels one with a refund, closes with a cash difference a supervisor confirms; the Z-report comes
out of the printer (decoded back from the ESC/POS bytes, its QR code verifies), travels over a real Mosquitto to
the hub, and a staff member sees the shift and its difference on the van's page."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect, sync_playwright

from common import keys
from edge.config import DeviceSettings
from edge.core import codes
from edge.devices.printer import escpos_read
from edge.devices.printer import sim as printer_sim
from edge.store import operators, shifts
from edge.store.db import open_db
from edge.store.migrations import migrate
from edge.web import signing
from edge.web.app import create_app as create_van_app
from governorate.web import create_app
from tests.support.browser_support import serve
from tests.support.gov_browser import Served, launch, sign_in
from tests.support.gov_support import PASSWORD, USERS, add_staff
from tests.support.sync_harness import VAN, pending, start_hub, start_van, van_settings, wait_until
from tests.support.web_support import FAST_HASHER, OPERATOR, SUPERVISOR, VALID_NID

pytestmark = pytest.mark.slow


def _van(tmp_path, broker_url: str):
    name = f"zreport-{uuid.uuid4().hex[:8]}"
    settings = van_settings(tmp_path / "van", broker_url)
    settings = replace(settings, devices=DeviceSettings(printer=f"sim://{name}", qr=f"sim://qr-{name}",
                                                        scanner="sim://"))
    db = open_db(settings.db_path)
    migrate(db)
    for number, who, pin in (SUPERVISOR, OPERATOR):
        operators.add(db, number, who, pin, role="supervisor" if (number, who, pin) == SUPERVISOR else "operator",
                      hasher=FAST_HASHER)
    db.close()
    keys.make_dev_keys(signing.keys_dir(settings.data_dir), governorate=settings.van.governorate,
                       van=settings.van.id, now=datetime.now(UTC) - timedelta(days=1))
    app = create_van_app(settings, PIN_HASHER=FAST_HASHER, PRINT_WAIT_S=5)
    return settings, app, printer_sim.device(name)


def _register(page, url: str) -> str:
    page.goto(f"{url}/operator/requests/new")
    page.select_option("#service", "BLD-NEW")
    page.click("#next")
    page.fill("#national_id", VALID_NID)
    page.fill("#name", "أحمد علي حسن")
    page.click("#next")
    page.wait_for_url(re.compile(r"/documents$"))
    for box in page.locator("input[name=seen]").all():
        box.check()
    page.click("#next")
    page.wait_for_url(re.compile(r"/payment$"))
    page.click("#submit-request")
    page.wait_for_url(re.compile(r"/receipt$"))
    return page.inner_text("#receipt-number").strip()


def test_an_operator_closes_a_shift_with_a_confirmed_difference_and_the_hub_sees_it(tmp_path, broker):
    hub, hub_runner = start_hub(tmp_path / "hub.db", broker.port)
    add_staff(hub.store)
    hub_app = create_app({"DB_PATH": str(tmp_path / "hub.db"), "SECRET_KEY": b"s" * 32, "BROKER_URL": broker.url})
    hub_web = Served(hub_app)
    settings, van_app, printer = _van(tmp_path, broker.url)
    _agent, sync = start_van(settings)
    try:
        with serve(van_app) as url, sync_playwright() as pw:
            b = launch(pw)
            console = b.new_context(viewport={"width": 1366, "height": 900}, locale="ar-EG").new_page()
            dialogs: list[str] = []

            def accept(dialog):  # the "cannot be undone" confirmations: read, then accepted as an operator would
                dialogs.append(dialog.message)
                dialog.accept()

            console.on("dialog", accept)
            console.goto(f"{url}/operator/login")
            console.fill("#number", str(OPERATOR[0]))
            console.fill("#pin", OPERATOR[2])
            console.click("#login-submit")
            console.wait_for_url(re.compile(r"/operator/$"))

            # The shift opens with the cash counted in the drawer, typed in Eastern digits.
            console.click("#nav-shift")
            console.fill("#float", "٥٠٠")
            console.click("#shift-open")
            expect(console.locator("#opening-float")).to_contain_text("٥٠٠")

            numbers = [_register(console, url), _register(console, url)]
            # The first is cancelled: it was paid, so a supervisor confirms the refund.
            console.goto(f"{url}/operator/requests/{numbers[0]}")
            console.fill("#reason", "طلب المواطن")
            console.fill("#supervisor", str(SUPERVISOR[0]))
            console.fill("#supervisor_pin", SUPERVISOR[2])
            console.click("#cancel")
            expect(console.locator("#refund")).to_be_visible()

            console.click("#nav-shift")
            expect(console.locator("#live-totals")).to_contain_text("٢")  # two requests
            with open_db(settings.db_path) as db:
                mine = shifts.current(db, f"operator:{OPERATOR[0]}")
                expected = mine.opening_float_piastres + shifts.live_totals(db, mine).fees["cash"] - \
                    shifts.live_totals(db, mine).refunds["cash"]
            # The drawer is 30 EGP short: the reason, then the supervisor's PIN, are asked for.
            console.fill("#counted", f"{(expected - 3_000) / 100:.2f}")
            console.click("#shift-close")
            expect(console.locator("#shift-error")).to_contain_text("سبب الفرق")
            console.fill("#counted", f"{(expected - 3_000) / 100:.2f}")
            console.fill("#reason", "ورقة نقدية ممزقة")
            console.fill("#supervisor", str(SUPERVISOR[0]))
            console.fill("#supervisor_pin", SUPERVISOR[2])
            console.click("#shift-close")
            console.wait_for_url(re.compile(r"/operator/shift/\d+$"))
            expect(console.locator("#difference")).to_contain_text("عجز ٣٠٫٠٠")
            assert any("لا يمكن" in d for d in dialogs), dialogs
            shift_id = int(console.url.rsplit("/", 1)[1])

            # The paper: decoded from the bytes the printer received; its code is a valid shift report.
            commands = escpos_read.decode(printer.jobs[-1])
            assert any(f"Z{shift_id}" in t for t in escpos_read.texts(commands))
            [qr] = escpos_read.of_type(commands, escpos_read.Qr)
            verdict = codes.verify(qr.data, signing.load_trust_list(settings.data_dir), now=datetime.now(UTC))
            assert verdict.ok and verdict.claims.doc_type is codes.DocumentType.SHIFT
            assert verdict.claims.number == f"Z{shift_id}"

            # At the governorate: the shift and its difference on the van's page.
            wait_until(lambda: pending(settings) == 0, 30, "the van's outbox to drain")
            wait_until(lambda: hub.store._read("SELECT difference_piastres FROM shifts WHERE van = ?", [VAN]), 15,
                       "the Z-report to reach the hub")
            staff = b.new_page()
            sign_in(staff, hub_web.url, USERS["viewer"], PASSWORD)
            staff.goto(f"{hub_web.url}/vans/{VAN}")
            table = staff.locator("#shift-table")
            expect(table).to_contain_text(f"Z{shift_id}")
            expect(table).to_contain_text("عجز")
            expect(table).to_contain_text("٣٠٫٠٠")  # Arabic first: Eastern digits and separator
            expect(table).to_contain_text("ورقة نقدية ممزقة")
            b.close()
    finally:
        sync.stop()
        hub_web.stop()
        downlinker = hub_app.extensions["downlinker"]
        downlinker.client.disconnect()
        downlinker.client.loop_stop()
        hub_runner.stop()

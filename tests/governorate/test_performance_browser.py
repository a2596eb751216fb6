"""The performance screens in real headless Chromium: a viewer opens them from the menu, picks a period and a
grouping, downloads the XLSX and CSV (opened back with openpyxl and csv), and prints a van's monthly report."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect, sync_playwright

from edge.core.digits import to_eastern
from governorate import exports
from governorate import performance as perf
from governorate.store import HubStore
from governorate.web import create_app
from tests.support import perf_data
from tests.support.gov_browser import Served, launch, sign_in
from tests.support.gov_support import PASSWORD, USERS, add_staff, offline_hub
from tests.support.perf_data import VANS


@pytest.fixture
def served(tmp_path):
    store = HubStore(tmp_path / "hub.db")
    add_staff(store)
    perf_data.insert(store, perf_data.sample())
    with store.transaction() as conn:
        for van in VANS:
            conn.execute("INSERT INTO vans (van, online, session) VALUES (?, 1, 1)", [van])
    app = create_app({"DB_PATH": store.path, "STORE": store, "SECRET_KEY": b"s" * 32, "SENDER": offline_hub(store)})
    web = Served(app)
    yield web.url, store
    web.stop()
    store.close()


@pytest.fixture
def browser():
    with sync_playwright() as pw:
        b = launch(pw)
        yield b
        b.close()


def test_a_viewer_reads_the_figures_downloads_them_and_prints_a_van_report(served, browser, tmp_path):
    base, store = served
    page = browser.new_page(accept_downloads=True)
    sign_in(page, base, USERS["viewer"], PASSWORD)
    page.click("#nav-performance")
    page.wait_for_url(f"{base}/performance")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    page.fill("input[name=from]", "2026-03-01")
    page.fill("input[name=to]", "2026-04-15")
    page.select_option("select[name=by]", "service")
    page.click("#period button.primary")
    page.wait_for_url("**/performance?from=2026-03-01&to=2026-04-15&by=service&van=")
    period = perf.Period(perf_data.T0.date(), perf.parse_period("2026-03-01", "2026-04-15").last)
    (total,) = perf.table(store, period)
    expect(page.locator("[data-total=received]")).to_have_text(to_eastern(str(total["received"])))
    for row in perf.table(store, period, "service"):
        cell = page.locator(f'tr[data-key="{row["key"]}"] td[data-figure=received]')
        expect(cell).to_have_text(to_eastern(str(row["received"])))
    assert page.locator("#chart-received rect.bar").count() == len(perf.weekly(store, period))
    expect(page.locator("#shift-differences")).to_be_visible()

    with page.expect_download() as info:
        page.click("#export-figures-xlsx")
    path = tmp_path / "figures.xlsx"
    info.value.save_as(path)
    sheet = load_workbook(path)["by-service"]
    table = exports.figures_table(perf.table(store, period, "service"), "service")
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [exports.headings(table), *exports.cells(table)]

    with page.expect_download() as info:
        page.click("#export-weekly-csv")
    info.value.save_as(tmp_path / "weekly.csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "weekly.csv").read_text(encoding="utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [w["week"] for w in perf.weekly(store, period)]

    page.select_option("select[name=by]", "van")
    page.click("#period button.primary")
    page.wait_for_url("**by=van**")
    page.click(f'tr[data-key="{VANS[0]}"] a.report-link')
    page.wait_for_url(f"**/performance/vans/{VANS[0]}/report?month=2026-03")
    expect(page.locator("#report-van")).to_have_text(VANS[0])
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('.no-print')).display") == "none"
    pdf = page.pdf(format="A4")  # what "save as PDF" gives the ministry
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000


@pytest.mark.parametrize("path", ["/", "/software", "/performance", "/requests", "/alerts"])
def test_the_staff_screens_fit_a_phone_without_scrolling_sideways(served, browser, path):
    # A usability review at 390 px: the menu did not wrap, so the page was 657 px wide — the items past the green
    # header were white on grey, unreadable — and the fleet table was cut off.
    base, _store = served
    page = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(page, base, USERS["admin"], PASSWORD)
    page.goto(base + path)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, (path, width)
    # Every menu entry lies on the green header (readable) and is a touch target of a decent height.
    header = page.locator("header.top").bounding_box()
    for link in page.locator("header.top nav a").all():
        box = link.bounding_box()
        assert header["x"] <= box["x"] and box["x"] + box["width"] <= header["x"] + header["width"] + 0.5, path
        assert box["height"] >= 32, (path, link.inner_text(), box)

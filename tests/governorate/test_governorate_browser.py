"""Staff screens in a real browser against a real broker, hub and van: offline detection, a decision's round trip."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect, sync_playwright

from edge.store import requests as store_requests
from edge.store.db import open_db
from governorate.web import create_app
from tests.support.gov_browser import Served, launch, sign_in
from tests.support.gov_support import PASSWORD, USERS, add_staff
from tests.support.sync_harness import (
    VAN,
    fill_outbox,
    kill9,
    pending,
    spawn,
    start_hub,
    start_van,
    van_settings,
    wait_until,
)

REFRESH_S = 1


@pytest.fixture
def hub(tmp_path, broker):
    hub, runner = start_hub(tmp_path / "hub.db", broker.port)
    add_staff(hub.store)
    yield hub
    runner.stop()


@pytest.fixture
def web(tmp_path, broker, hub):
    app = create_app({"DB_PATH": str(tmp_path / "hub.db"), "SECRET_KEY": b"s" * 32, "BROKER_URL": broker.url,
                      "REFRESH_S": REFRESH_S})
    served = Served(app)
    yield served.url
    served.stop()
    downlinker = app.extensions["downlinker"]
    downlinker.client.disconnect()
    downlinker.client.loop_stop()


@pytest.fixture
def browser():
    with sync_playwright() as pw:
        b = launch(pw)
        yield b
        b.close()


def test_overview_marks_a_van_offline_when_its_connection_dies(tmp_path, broker, hub, web, browser):
    van_settings(tmp_path / "van", broker.url)
    proc = spawn(["edge.cli", "--config", str(tmp_path / "van" / "van.toml"), "sync"], tmp_path / "sync.log")
    try:
        page = browser.new_page()
        sign_in(page, web, USERS["viewer"], PASSWORD)
        row = page.locator(f'tr[data-van="{VAN}"]')
        expect(row).to_have_attribute("data-status", "online", timeout=20_000)
        killed = time.monotonic()
        kill9(proc)  # the van's broker connection dies with it: the broker publishes its last will
        expect(row).to_have_attribute("data-status", "offline", timeout=10_000)
        took = time.monotonic() - killed
    finally:
        if proc.poll() is None:
            kill9(proc)
    # The will arrives at once; the page shows it at its next refresh.
    assert took < 3 * REFRESH_S + 3, took


def test_clerk_marks_a_request_ready_and_the_van_shows_it(tmp_path, broker, hub, web, browser):
    settings = van_settings(tmp_path / "van", broker.url)
    [number] = fill_outbox(settings, 1)
    _agent, van = start_van(settings)
    try:
        wait_until(lambda: pending(settings) == 0 and hub.store.request(number) is not None, 30, "the request")
        page = browser.new_page()
        sign_in(page, web, USERS["clerk"], PASSWORD)
        page.goto(f"{web}/requests?q={number}")
        page.click(f'a:has-text("{number}")')
        page.click('button[data-decide="ready"]')
        expect(page.locator("#state")).to_have_attribute("data-state", "ready")
        db = open_db(settings.db_path)
        wait_until(lambda: store_requests.get(db, number).state.value == "ready", 15, "the van to apply it")
        # The van's report comes back and the request page says the decision was applied.
        wait_until(lambda: hub.store._read("SELECT count(*) FROM downlinks WHERE outcome = 'applied'")[0][0] == 1,
                   15, "the van's report")
        page.reload()
        expect(page.locator("text=applied")).to_be_visible()
    finally:
        van.stop()


def test_viewer_cannot_change_anything(tmp_path, broker, hub, web, browser):
    settings = van_settings(tmp_path / "van", broker.url)
    [number] = fill_outbox(settings, 1)
    _agent, van = start_van(settings)
    try:
        wait_until(lambda: hub.store.request(number) is not None, 30, "the request")
    finally:
        van.stop()
    page = browser.new_page()
    sign_in(page, web, USERS["viewer"], PASSWORD)
    page.goto(f"{web}/requests/{number}")
    expect(page.locator("#read-only")).to_be_visible()
    assert page.locator("button[data-decide]").count() == 0
    # Even a hand-made request with this session's own CSRF token is refused.
    status = page.evaluate("""async (number) => {
        const token = document.querySelector('input[name=csrf_token]').value;
        const body = new URLSearchParams({state: 'ready', csrf_token: token});
        const r = await fetch(`/requests/${number}/decide`, {method: 'POST', body});
        return r.status; }""", number)
    assert status == 403
    assert hub.store.request(number)["state"] == "received"
    assert hub.store._read("SELECT count(*) FROM downlinks WHERE kind = 'request-status'")[0][0] == 0
    page.goto(f"{web}/publish")
    expect(page.locator("text=You are not allowed")).to_be_visible()


def test_admin_asks_a_running_van_if_it_is_there_and_sees_it_answer(tmp_path, broker, hub, web, browser):
    van_settings(tmp_path / "van", broker.url)
    proc = spawn(["edge.cli", "--config", str(tmp_path / "van" / "van.toml"), "sync"], tmp_path / "sync.log")
    try:
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        sign_in(page, web, USERS["admin"], PASSWORD)
        expect(page.locator(f'tr[data-van="{VAN}"]')).to_have_attribute("data-status", "online", timeout=20_000)
        page.goto(f"{web}/vans/{VAN}")
        page.get_by_label("Is the van there?").check()
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_role("status")).to_contain_text("Is the van there?")
        row = page.locator("#downlinks tr").nth(1)
        for _ in range(40):
            if "done by the van" in row.inner_text():
                break
            time.sleep(0.5)
            page.reload()
        expect(row).to_contain_text("done by the van")
        expect(row).to_contain_text("هل الوحدة متصلة؟")
        page.screenshot(path=str(tmp_path / "van-command.png"), full_page=True)
    finally:
        kill9(proc)

"""A real browser for the web tests: the van's app served by waitress on a free loopback port, and Debian's
headless Chromium driven by Playwright (no browser download)."""

from __future__ import annotations

import shutil
import socket
import threading
from contextlib import contextmanager

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--autoplay-policy=no-user-gesture-required"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(app, **options):
    """``app`` on http://127.0.0.1:PORT in a background thread for the duration of the block; ``options``: waitress's
    (governorate.web.server_options)."""
    from waitress import wasyncore
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=free_port(), threads=8, **options)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # The task threads end first. server.close() alone left them running: one finishing a response then
        # wrote to the closed trigger pipe's descriptor — and once the number had been reused by the next
        # test's van.db, into that file ("file is not a database", seen twice in full runs).
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        wasyncore.close_all(server._map)  # the listener, the trigger and any kept-alive connection: the loop ends
        thread.join(timeout=5)


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def operator_page(b, url: str, *, viewport: dict | None = None, locale: str = "ar-EG"):
    """A new browser page signed in to the console as the test operator (tests.support.web_support.OPERATOR)."""
    import re

    from tests.support.web_support import OPERATOR

    context = b.new_context(viewport=viewport or {"width": 1280, "height": 900}, locale=locale)
    page = context.new_page()
    page.goto(f"{url}/operator/login")
    page.fill("#number", str(OPERATOR[0]))
    page.fill("#pin", OPERATOR[2])
    page.click("#login-submit")
    page.wait_for_url(re.compile(r"/operator/$"))
    return page

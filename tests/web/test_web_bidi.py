"""Numbers read in the paper's order on every Arabic screen, measured in a real browser (issue 18, finding 1).

The bidi algorithm reorders hyphen-joined groups of Eastern Arabic digits inside right-to-left text (and
even inside a dir="ltr" element): "٠٠١-٢٦١٢٠٤-٠٠٠١-٠" was drawn with its groups reversed. Here every page a
citizen or an operator sees a number on is opened in Debian's Chromium, every run of digits joined by
hyphens, stars, colons or spaces is found in its text, and the x position of each of its glyphs is
measured: read left to right, the digits must come in the order they are written (the paper's order).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge.core.digits import to_ascii
from tests.support.browser_support import CHROMIUM, browser, serve
from tests.support.web_support import OPERATOR, login, make_app, post, register_request

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")

# Every run of digits with separators in the page's text, and where each of its glyphs is drawn.
MEASURE = r"""
() => {
  const digit = /[0-9\u0660-\u0669]/;
  const run = /[0-9\u0660-\u0669][0-9\u0660-\u0669*\-: \u200e]*[-*:][0-9\u0660-\u0669*\-: \u200e]*[0-9\u0660-\u0669]/g;
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const el = node.parentElement;
    if (!el || el.closest('script, style, [hidden]') || !el.getClientRects().length) continue;
    for (const m of node.data.matchAll(run)) {
      const glyphs = [];
      for (let i = m.index; i < m.index + m[0].length; i++) {
        if (!digit.test(node.data[i])) continue;
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const r = range.getBoundingClientRect();
        glyphs.push([node.data[i], r.left, r.top]);
      }
      found.push({text: m[0], glyphs});
    }
  }
  return found;
}
"""


def _misordered(page) -> list[str]:
    """Each digit run whose glyphs, read left to right (line by line), are not in the written order."""
    wrong = []
    for item in page.evaluate(MEASURE):
        written = to_ascii("".join(ch for ch, _x, _y in item["glyphs"]))
        drawn = to_ascii("".join(ch for ch, _x, _y in sorted(item["glyphs"], key=lambda g: (round(g[2]), g[1]))))
        if drawn != written:
            wrong.append(f"{item['text']!r} drawn as {drawn}")
    return wrong


@pytest.fixture(scope="module")
def van(tmp_path_factory):
    from common import keys
    from edge.config import Settings

    folder = tmp_path_factory.mktemp("bidi-van")
    defaults = Settings().van
    keys.make_dev_keys(folder / "keys", governorate=defaults.governorate, van=defaults.id, now=datetime.now(UTC))
    app = make_app(folder)
    desk = app.test_client()
    login(desk)
    number = register_request(desk)
    from edge.store import clock
    from edge.store import requests as store_requests
    from edge.store.db import open_db
    from edge.web import signing

    settings = app.config["EDGE_SETTINGS"]
    found = store_requests.get(open_db(settings.db_path), number)
    code = signing.receipt_code(settings.data_dir, found.number, found.service_code, found.citizen_national_id,
                                clock.parse(found.created_at))
    kiosk = app.test_client()
    post(kiosk, "/ticket/BLD", "/ticket/BLD", {})
    with browser() as b, serve(app) as url:
        yield b, url, number, code


def test_every_number_on_the_operators_arabic_screens_reads_in_the_papers_order(van):
    b, url, number, _code = van
    page = b.new_context(locale="ar-EG", viewport={"width": 1366, "height": 900}).new_page()
    page.goto(f"{url}/operator/login")
    page.fill("#number", str(OPERATOR[0]))
    page.fill("#pin", OPERATOR[2])
    page.click("#login-submit")
    page.wait_for_url(re.compile(r"/operator/$"))
    measured = 0
    for path in ("/operator/", "/operator/requests", f"/operator/requests/{number}",
                 f"/operator/requests/{number}/receipt", "/operator/status", "/operator/queue"):
        page.goto(url + path)
        runs = page.evaluate(MEASURE)
        measured += len(runs)
        assert _misordered(page) == [], path
    assert measured >= 5  # the request number, the masked national ID, dates and times were found and measured


def test_every_number_on_the_kiosks_arabic_screens_reads_in_the_papers_order(van):
    b, url, number, code = van
    page = b.new_context(locale="ar-EG", viewport={"width": 1080, "height": 1400}).new_page()
    page.goto(f"{url}/track")
    page.fill("#number", number)
    page.click("#track-submit")
    page.wait_for_selector("#state-name")
    shown = page.evaluate(MEASURE)
    assert any(to_ascii(r["text"]).replace("\u200e", "") == number for r in shown), shown
    assert _misordered(page) == []
    # The errors that quote a number (the example of a request number; a number not in this van) too.
    for typed in ("12", "001-261206-0099-2"):
        page.goto(f"{url}/track")
        page.fill("#number", typed)
        page.click("#track-submit")
        page.wait_for_selector("#number-error")
        quoted = [r["text"] for r in page.evaluate(MEASURE)]
        assert len(quoted) >= 2, quoted  # the hint's example, and the number the error quotes
        assert _misordered(page) == [], typed
    page.goto(f"{url}/verify")
    page.evaluate("(code) => { const f = document.querySelector('#code'); f.value = code; f.form.submit(); }", code)
    page.wait_for_selector("#verdict")
    assert page.evaluate(MEASURE), "the verify page shows the document's number and date"
    assert _misordered(page) == []

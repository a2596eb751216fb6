"""Web security: CSRF on every state-changing route, the kiosk fence, headers, no personal data in URLs or logs,
and the now-serving display's data and live stream."""

from __future__ import annotations

import json
import logging
import re

import pytest

from tests.support.web_support import VALID_NID, login, make_app, post, register_request, text


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path, DISPLAY_STREAM_S=1, DISPLAY_POLL_S=0.05)


def _post_routes(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and not rule.rule.startswith("/static"):
            yield rule


def test_every_state_changing_route_refuses_a_request_without_the_csrf_token(app):
    client = app.test_client()
    login(client)
    checked = 0
    for rule in _post_routes(app):
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "1" if m.group(1) == "doc_id" else "x", rule.rule)
        r = client.post(url, data={"number": "1"})
        assert r.status_code == 400, (rule.rule, r.status_code)
        checked += 1
    assert checked >= 12


def test_a_token_from_another_session_is_refused(app):
    a, b = app.test_client(), app.test_client()
    token_a = re.search(r'name="csrf_token" value="([^"]+)"', a.get("/operator/login").get_data(as_text=True))
    b.get("/operator/login")
    r = b.post("/operator/login", data={"csrf_token": token_a.group(1), "number": "2", "pin": "135790"})
    assert r.status_code == 400


def test_kiosk_browser_cannot_reach_the_console_or_the_api(app):
    kiosk = app.test_client()
    kiosk.get("/?kiosk=1")
    for url in ("/operator/login", "/operator/", "/api/health"):
        assert kiosk.get(url).status_code == 403, url
    assert kiosk.get("/ticket").status_code == 200


def test_every_page_sends_a_strict_content_security_policy_and_no_external_source(app):
    client = app.test_client()
    for url in ("/", "/ticket", "/track", "/verify", "/display/", "/operator/login"):
        r = client.get(url)
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "http" not in csp, url
        assert r.headers["X-Frame-Options"] == "DENY"
        assert not re.search(r'(src|href)="(https?:)?//', r.get_data(as_text=True)), url
        assert "<script>" not in r.get_data(as_text=True), url  # no inline script: the CSP would block it anyway


def test_console_pages_are_never_cached(app):
    client = app.test_client()
    login(client)
    assert client.get("/operator/").headers["Cache-Control"] == "no-store"


def test_national_id_appears_in_no_url_and_no_log_line(app, caplog):
    client = app.test_client()
    login(client)
    seen_urls = []
    original = client.open

    def recording_open(*args, **kwargs):
        seen_urls.append(str(args[0] if args else kwargs.get("path")))
        return original(*args, **kwargs)

    client.open = recording_open
    with caplog.at_level(logging.DEBUG):
        number = register_request(client)
        post(client, "/operator/requests", "/operator/requests", {"q": VALID_NID})
        client.get(f"/operator/requests/{number}")
    assert not any(VALID_NID in u for u in seen_urls)
    assert VALID_NID not in caplog.text


def test_session_cookie_is_http_only_and_same_site_strict(app):
    client = app.test_client()
    r = client.get("/operator/login")
    cookie = r.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_errors_are_pages_in_both_languages_not_tracebacks(app):
    client = app.test_client()
    r = client.get("/no/such/page")
    assert r.status_code == 404
    shown = text(r)
    assert "الصفحة غير موجودة" in shown and "Page not found" in shown
    assert "Traceback" not in r.get_data(as_text=True)


def test_api_health_answers_json(app):
    r = app.test_client().get("/api/health")
    assert r.status_code == 200 and r.is_json


# --- now-serving display --------------------------------------------------------------------------


def _call_one(app):
    kiosk = app.test_client()
    post(kiosk, "/ticket/BLD", "/ticket", {"category": "BLD", "priority": "none"})
    console = app.test_client()
    login(console)
    post(console, "/operator/", "/operator/counter", {"counter": "4"})
    post(console, "/operator/", "/operator/queue/call")


def test_display_shows_the_called_ticket_at_its_counter(app):
    _call_one(app)
    client = app.test_client()
    state = client.get("/display/state.json").get_json()
    assert state["counters"][0]["counter"] == 4 and state["counters"][0]["number"].startswith("A")
    page = text(client.get("/display/"))
    assert "٤" in page


def test_display_stream_pushes_the_state_as_server_sent_events(app):
    _call_one(app)
    r = app.test_client().get("/display/events")
    assert r.mimetype == "text/event-stream"
    body = r.get_data(as_text=True)  # the stream ends after DISPLAY_STREAM_S
    events = [json.loads(line[len("data: "):]) for line in body.splitlines() if line.startswith("data: ")]
    assert events and events[0]["counters"][0]["counter"] == 4
    assert "retry:" in body


def test_display_page_shows_no_personal_data(app):
    console = app.test_client()
    login(console)
    register_request(console, name="Ahmed Ali Hassan")
    _call_one(app)
    page = app.test_client().get("/display/").get_data(as_text=True)
    assert "Hassan" not in page and VALID_NID not in page


def test_the_kiosk_stays_fenced_after_its_session_has_expired(app):
    # Issue 16, finding 4: the fence was a flag in the session, which expires after a long idle (and the
    # kiosk unit did not even open /?kiosk=1): the public screen could then open the console's sign-in.
    kiosk = app.test_client()
    kiosk.get("/?kiosk=1")
    kiosk.delete_cookie("edge_session")  # the session ran out while the kiosk idled
    for url in ("/operator/login", "/api/health"):
        assert kiosk.get(url).status_code == 403, url
    assert kiosk.get("/ticket").status_code == 200


"""The van's JSON API as a monitoring system or a script sees it: errors in JSON, an honest health answer."""

from __future__ import annotations

import pytest
from web_support import make_app, text, token


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


# --- errors under /api/ are JSON, pages keep their HTML ------------------------------------------------


def test_an_unknown_api_address_answers_json_not_found(app):
    r = app.test_client().get("/api/no-such-thing")
    assert r.status_code == 404 and r.mimetype == "application/json"
    body = r.get_json()
    assert body["error"] == "not-found"
    assert body["message"] and body["message_ar"] and body["message"] != body["message_ar"]


def test_a_wrong_method_on_the_api_answers_json_and_says_what_is_allowed(app):
    client = app.test_client()
    refused = client.post("/api/health")  # no CSRF token: refused before the method is even looked at
    assert refused.status_code == 400 and refused.get_json()["error"] == "csrf-refused"
    csrf = token(client.get("/operator/login").get_data(as_text=True))
    r = client.post("/api/health", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 405 and r.mimetype == "application/json"
    assert r.get_json()["error"] == "method-not-allowed" and r.get_json()["message_ar"]
    assert "GET" in r.headers["Allow"]


def test_a_missing_page_stays_an_html_page_in_both_languages(app):
    r = app.test_client().get("/no/such/page")
    assert r.status_code == 404 and r.mimetype == "text/html"
    assert "الصفحة غير موجودة" in text(r) and "Page not found" in text(r)
    assert app.test_client().post("/ticket/no-such").mimetype == "text/html"

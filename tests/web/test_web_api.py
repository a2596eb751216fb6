"""The van's JSON API as a monitoring system or a script sees it: errors in JSON, an honest health answer."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from edge import config
from edge.devices.printer import sim as printer_sim
from edge.store import clock, device_status, outbox
from edge.store.db import open_db
from edge.web import printing
from edge.web.app import create_app
from tests.support.web_support import make_app, text, token


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


# --- /api/health: 200 when the van can work, 503 and the reasons when it cannot ------------------------


@pytest.fixture
def van(tmp_path):
    """A van whose printer starts out of paper; its print worker is driven by the test (run_once)."""
    name = f"health-{uuid.uuid4().hex[:8]}"
    app = make_app(tmp_path, printer=f"sim://{name}?paper=out", PRINT_WORKER=False)
    app.extensions["test_printer"] = printer_sim.device(name)
    return app, open_db(app.config["EDGE_SETTINGS"].db_path)


def health(app) -> tuple[int, dict]:
    r = app.test_client().get("/api/health")
    assert r.mimetype == "application/json"
    return r.status_code, r.get_json()


def test_a_fresh_van_is_healthy(van):
    app, _ = van
    status, body = health(app)
    assert status == 200 and body["healthy"] is True and body["reasons"] == []
    assert body["van"] == "V001" and body["outbox"]["by_stream"].keys() <= {"audit"}
    assert body["devices"].get("qr") in (None, "ok")


def test_a_printer_out_of_paper_makes_the_van_unhealthy_until_paper_is_back(van):
    app, db = van
    worker = printing.worker(app)
    worker.run_once(db)  # the worker finds the printer out of paper and reports it, as it does every cycle
    status, body = health(app)
    assert status == 503 and body["healthy"] is False
    (why,) = body["reasons"]
    assert why["check"] == "printer" and why["device"] == "printer"
    assert "paper" in why["message"].lower() and why["message_ar"]
    assert body["devices"]["printer"] == "error"
    app.extensions["test_printer"].set(paper="ok")
    worker.run_once(db)
    assert health(app)[0] == 200


def test_a_scanner_in_fault_makes_the_van_unhealthy(van):
    app, db = van
    # What the console records when a scan fails (edge/web/operator: _scanner_status).
    device_status.report(db, "scanner", "scanner", "error", message_ar="الماسح لا يستجيب.",
                         message_en="The scanner does not answer.")
    device_status.report(db, "camera:front", "camera", "error", message_en="The front camera is covered")
    status, body = health(app)
    assert status == 503
    assert [(r["check"], r["message"]) for r in body["reasons"]] == [("scanner", "The scanner does not answer.")]


def test_an_outbox_stuck_longer_than_the_setting_makes_the_van_unhealthy(van):
    app, db = van
    outbox.enqueue(db, "tx", "request.submitted", {"n": 1}, now=clock.now() - timedelta(minutes=100))
    assert health(app)[0] == 200  # the default limit is 120 minutes
    outbox.enqueue(db, "tx", "request.submitted", {"n": 0}, now=clock.now() - timedelta(minutes=150))
    status, body = health(app)
    assert status == 503
    (why,) = body["reasons"]
    assert why["check"] == "outbox" and why["pending"] == body["outbox"]["pending"] and why["limit_s"] == 7200
    assert body["outbox"]["oldest_age_s"] >= 150 * 60


def test_the_outbox_limit_comes_from_the_settings(tmp_path):
    settings = config.loads(f'data_dir = "{tmp_path}"\n[health]\noutbox_stuck_after_min = 30\n')
    app = create_app(settings, PRINT_WORKER=False)
    outbox.enqueue(open_db(settings.db_path), "tx", "request.submitted", {},
                   now=clock.now() - timedelta(minutes=45))
    assert health(app)[0] == 503
    with pytest.raises(config.ConfigError, match="health.outbox_stuck_after_min"):
        config.loads("[health]\noutbox_stuck_after_min = 0\n")


def test_a_database_that_cannot_be_read_makes_the_van_unhealthy(van):
    app, db = van
    path = app.config["EDGE_SETTINGS"].db_path
    db.close()
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    path.write_bytes(b"this is not a database any more " * 200)
    status, body = health(app)
    assert status == 503 and body["outbox"] is None and body["devices"] is None
    assert [r["check"] for r in body["reasons"]] == ["database"]
    path.unlink()
    status, body = health(app)
    assert status == 503 and body["reasons"][0]["check"] == "database"
    assert not path.exists()  # the health check never creates an empty database in its place

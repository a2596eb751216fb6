"""A van database that is gone (a card pulled, a data folder not mounted) is said, never quietly replaced.

The app creates and migrates its database at start. After that no heartbeat and no request may create an empty
one in its place: an empty file would pass the health check's "is it there" and every page would then fail on a
missing table instead of saying what is wrong."""

from __future__ import annotations

import time

from edge.services import qr_reader as qr_service
from edge.web import qr_reader
from tests.support.web_support import make_app


def _remove(path) -> None:
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def test_the_qr_readers_heartbeat_never_creates_an_empty_database(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(qr_service, "STATUS_EVERY_S", 0.02)
    app = make_app(tmp_path, PRINT_WORKER=False)
    service = app.extensions[qr_reader.EXTENSION]
    path = app.config["EDGE_SETTINGS"].db_path
    try:
        assert service.reader.running
        _remove(path)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and not path.exists():
            time.sleep(0.02)  # some 50 heartbeats
        assert not path.exists()
        said = [r for r in caplog.records if "QR reader's status is not recorded" in r.getMessage()]
        assert len(said) == 1 and str(path) in said[0].getMessage()  # once per outage, not every heartbeat
    finally:
        service.reader.stop()


def test_a_page_asked_for_while_the_database_is_gone_says_so_in_both_languages(tmp_path):
    app = make_app(tmp_path, PRINT_WORKER=False, QR_READER=False, DISPLAY_STREAM_S=0.1)
    path = app.config["EDGE_SETTINGS"].db_path
    _remove(path)
    for url in ("/ticket", "/operator/login", "/display/"):
        r = app.test_client().get(url)
        page = r.get_data(as_text=True)
        assert r.status_code == 503, url
        assert "The van database" in page and "قاعدة بيانات العربة" in page and "Restart the van computer" in page
    # the now-serving screen's stream: an answer the browser retries, not a stream broken after its headers
    assert app.test_client().get("/display/events").status_code == 503
    r = app.test_client().get("/api/health", headers={"Accept": "application/json"})
    assert r.status_code == 503
    assert not path.exists()

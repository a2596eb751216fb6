"""The web security van and hub share (common/web.py): one session secret per folder however many processes
race to make it, redirects that stay on the site, CSRF that refuses any wrong token, the same headers."""

from __future__ import annotations

import multiprocessing
import stat

import pytest
from flask import Flask

from common import web
from governorate.store import HubStore
from governorate.web import create_app as create_hub_app
from tests.support.gov_support import offline_hub
from tests.support.web_support import make_app

RACERS = 6


def _make_secret(folder, barrier, results):
    barrier.wait()  # every process calls at once: the race the first-writer-wins rule is for
    results.put(web.session_secret(folder).hex())


def _race(folder) -> set[str]:
    ctx = multiprocessing.get_context("fork")  # real, separate processes (not threads of this one)
    barrier, results = ctx.Barrier(RACERS), ctx.Queue()
    procs = [ctx.Process(target=_make_secret, args=(folder, barrier, results)) for _ in range(RACERS)]
    for proc in procs:
        proc.start()
    keys = {results.get(timeout=60) for _ in procs}
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    return keys


def test_processes_starting_together_all_sign_with_the_first_written_key(tmp_path):
    for attempt in range(20):  # the old hub writer disagreed in about one round in three
        folder = tmp_path / f"hub-{attempt}"
        keys = _race(folder)
        assert len(keys) == 1, keys
        path = folder / web.SECRET_FILE
        assert path.read_bytes().hex() in keys and len(path.read_bytes()) == web.SECRET_BYTES
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert sorted(p.name for p in folder.iterdir()) == [web.SECRET_FILE]  # no temporary or lock file left


def test_a_kept_key_is_reused_and_a_too_short_one_replaced(tmp_path):
    first = web.session_secret(tmp_path)
    assert web.session_secret(tmp_path) == first
    (tmp_path / web.SECRET_FILE).write_bytes(b"short")
    replaced = web.session_secret(tmp_path)
    assert len(replaced) == web.SECRET_BYTES and replaced != first and _race(tmp_path) == {replaced.hex()}


def test_the_hub_and_the_van_keep_their_key_with_the_shared_writer(tmp_path):
    store = HubStore(tmp_path / "hub" / "hub.db")
    try:
        hub = create_hub_app({"DB_PATH": store.path, "STORE": store, "SENDER": offline_hub(store)})
        assert hub.config["SECRET_KEY"] == web.session_secret(tmp_path / "hub")
    finally:
        store.close()
    van = make_app(tmp_path / "van")
    assert van.config["SECRET_KEY"] == web.session_secret(tmp_path / "van")


@pytest.mark.parametrize("target", ["/", "/requests?q=12&state=received", "/track/0072611210001-5"])
def test_a_path_of_this_site_is_where_to_go_back(target):
    assert web.local_path(target) == target


@pytest.mark.parametrize("target", ["//evil.example", "/\\evil.example", "/\t/evil.example", "/\n/evil.example",
                                    "https://evil.example/", "javascript:alert(1)", "evil.example", "",
                                    "/\u200e/evil.example", "/ /evil.example", "//["])
def test_anything_else_is_refused(target):
    assert web.local_path(target) is None


def test_the_kiosk_language_switch_refuses_what_the_hub_refuses(tmp_path):
    kiosk = make_app(tmp_path).test_client()
    for target in ("/\\evil.example", "/%09/evil.example"):  # "/\\" passed the van's old check
        response = kiosk.get(f"/lang/en?next={target}")
        assert response.status_code == 302 and response.headers["Location"] == "/", target


@pytest.fixture
def tiny():
    app = Flask(__name__)
    app.secret_key = b"k" * 32
    web.protect(app)
    app.errorhandler(web.CsrfRefused)(lambda _e: ("refused", 400))
    app.get("/token")(web.csrf_token)
    app.post("/change")(lambda: "done")
    return app.test_client()


def test_every_token_sent_must_be_the_sessions(tiny):
    token = tiny.get("/token").get_data(as_text=True)
    assert tiny.post("/change", data={"csrf_token": token}).status_code == 200
    assert tiny.post("/change", headers={"X-CSRF-Token": token}).status_code == 200
    assert tiny.post("/change").status_code == 400
    # A right header beside a wrong form field (or the other way round) is a forged form: refused.
    assert tiny.post("/change", headers={"X-CSRF-Token": token}, data={"csrf_token": "x"}).status_code == 400
    assert tiny.post("/change", headers={"X-CSRF-Token": "x"}, data={"csrf_token": token}).status_code == 400


def test_both_apps_send_every_shared_header(tmp_path, tiny):
    response = tiny.get("/token")
    for name, value in web.HEADERS.items():
        assert response.headers[name] == value
    van = make_app(tmp_path).test_client().get("/")
    for name, value in web.HEADERS.items():
        assert van.headers[name] == value

"""Staff sign-in hardened (issue 15, finding 9): same-site redirects only, a lock-out kept in the staff table
(atomic, reset on success, surviving a restart), and sessions revoked on the server at sign-out and password reset."""

from __future__ import annotations

import re
import threading
import unicodedata
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from governorate import staff
from governorate.web import create_app
from tests.support.gov_browser import Served
from tests.support.gov_support import (
    BACKENDS,
    PASSWORD,
    USERS,
    add_staff,
    csrf,
    hub_copy,
    hub_template,
    login,
    offline_hub,
)
from tests.support.http_client import HttpClient

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture(scope="module", params=BACKENDS)
def template(request, tmp_path_factory):
    """The three staff members (argon2 is slow on purpose), made once per backend and copied for each test."""
    with hub_template(request.param, tmp_path_factory.mktemp("signin-template"), add_staff) as made:
        yield made


@pytest.fixture
def store(tmp_path, template):
    with hub_copy(template, tmp_path) as s:
        yield s


def _app(store):
    return create_app({"DB_PATH": store.path, "SECRET_KEY": b"k" * 32, "SENDER": offline_hub(store),
                       "GOVERNORATE": "01"})


@pytest.fixture
def app(store):
    return _app(store)


@pytest.fixture
def client(app):
    return app.test_client()


def _guess(client, username: str, password: str, token: str):
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


# --- 1. redirects after sign-in stay on this site ---------------------------------------------------------


def _same_site(location: str) -> bool:
    """What a browser does with the Location: it drops tabs and newlines, and takes "\\" for "/"."""
    cleaned = re.sub(r"[\t\n\r]", "", location).replace("\\", "/")
    parts = urlsplit(cleaned)
    return (cleaned.startswith("/") and not cleaned.startswith("//") and not parts.scheme and not parts.netloc
            and not any(unicodedata.category(c)[0] in "CZ" for c in location))


OFF_SITE = ["/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "//evil.example", "/\\evil.example",
            "https://evil.example/", "javascript:alert(1)", "/ /evil.example", "\x00//evil.example",
            "/\x0b/evil.example", "/\u200e/evil.example", "evil.example", ""]


def test_sign_in_never_redirects_off_the_site(client):
    for target in OFF_SITE:
        token = csrf(client)
        response = client.post("/login?next=" + quote(target, safe=""),
                               data={"username": "vera", "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302
        assert response.headers["Location"] == "/", (target, response.headers["Location"])
    # A page of this site is where sign-in goes back to.
    token = csrf(client)
    response = client.post("/login?next=" + quote("/requests?q=12&state=received", safe=""),
                           data={"username": "vera", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/requests?q=12&state=received"


NASTY = st.sampled_from(["/", "//", "/\\", "\\", "\t", "\n", "\r", " ", "\x00", "\x0b", "\x1f", "\x7f", "\u200e",
                         "\u2028", "\u3000", "http:", "https://", "evil.example", "@", "%09", "%2F", ":", ".", "?",
                         "#", "a"])
TARGETS = st.one_of(st.text(max_size=40), st.lists(NASTY, max_size=8).map("".join),
                    st.tuples(st.lists(NASTY, max_size=4).map("".join), st.text(max_size=10)).map("".join))


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=TARGETS)
@example(target="/\t/evil.example")  # the audit's finding, always tried first
@example(target="/\n\\evil.example")
def test_property_sign_in_location_is_always_a_same_site_path(client, target):
    token = csrf(client)
    response = client.post("/login?next=" + quote(target, safe=""),
                           data={"username": "vera", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert _same_site(response.headers["Location"]), (target, response.headers["Location"])


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=TARGETS)
@example(target="/\t/evil.example")
@example(target="/\r/evil.example")
def test_property_language_switch_location_is_always_a_same_site_path(client, target):
    # The same rule for the language switch, which costs no password check: many more examples.
    token = csrf(client)
    response = client.post("/lang/en", data={"next": target, "csrf_token": token})
    assert response.status_code == 302
    assert _same_site(response.headers["Location"]), (target, response.headers["Location"])


# --- 2. the lock-out lives in the staff table --------------------------------------------------------------


def test_lock_out_survives_a_restart_of_the_web_app(store, client):
    token = csrf(client)
    assert [_guess(client, "vera", f"guess {i}", token).status_code for i in range(5)] == [401] * 5
    restarted = _app(store).test_client()
    response = _guess(restarted, "vera", PASSWORD, csrf(restarted))
    assert response.status_code == 429
    # Kept in the database, not in the process.
    assert store._read("SELECT locked_until FROM staff WHERE username = 'vera'")[0][0]


def test_lock_out_says_when_to_try_again_in_arabic_and_english(client):
    token = csrf(client)
    for i in range(5):
        _guess(client, "vera", f"guess {i}", token)
    response = _guess(client, "vera", PASSWORD, token)
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert 840 <= int(response.headers["Retry-After"]) <= 900
    assert "محاولات خاطئة كثيرة" in html and "Too many wrong attempts" in html
    # When: the local time it opens again, in both languages.
    # (Eastern digits in the Arabic half, held in their written order; Western in the English half.)
    plain = re.sub("[\u200e\u2066\u2069]", "", html)
    assert re.search(r"حاول مرة أخرى بعد [^<]*[٠-٩]{2}:[٠-٩]{2} \(نحو [٠-٩]+ دقيقة", plain), html
    assert re.search(r"Try again after [^<]*[0-9]{2}:[0-9]{2} \(in about [0-9]+ min", html), html
    # An unknown username is answered the same way (no way to find out which usernames exist).
    codes = [_guess(client, "nobody", f"guess {i}", token).status_code for i in range(6)]
    assert codes == [401] * 5 + [429]
    assert "Try again after" in _guess(client, "nobody", "x", token).get_data(as_text=True)


def test_a_successful_sign_in_resets_the_count(store, client):
    token = csrf(client)
    assert [_guess(client, "vera", f"guess {i}", token).status_code for i in range(4)] == [401] * 4
    assert _guess(client, "vera", PASSWORD, token).status_code == 302
    assert store._read("SELECT failed_logins FROM staff WHERE username = 'vera'")[0][0] == 0
    token = csrf(client)
    assert [_guess(client, "vera", f"again {i}", token).status_code for i in range(4)] == [401] * 4
    assert _guess(client, "vera", PASSWORD, token).status_code == 302


def test_lock_out_ends_after_its_time(store, client):
    token = csrf(client)
    for i in range(5):
        _guess(client, "vera", f"guess {i}", token)
    assert _guess(client, "vera", PASSWORD, token).status_code == 429
    with store.transaction() as conn:  # as if the 15 minutes had passed
        conn.execute("UPDATE staff SET locked_until = '2000-01-01T00:00:00+00:00' WHERE username = 'vera'")
    assert _guess(client, "vera", PASSWORD, token).status_code == 302


def test_parallel_guesses_against_a_real_server_are_checked_at_most_five_times(store):
    served = Served(_app(store))
    try:
        clients = [HttpClient(served.url) for _ in range(16)]
        tokens = [csrf(c) for c in clients]
        start, codes = threading.Barrier(16), [None] * 16

        def guess(i):
            start.wait()
            codes[i] = _guess(clients[i], "karim", f"parallel guess {i}", tokens[i]).status_code

        threads = [threading.Thread(target=guess, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        served.stop()
    assert sorted(codes) == [401] * 5 + [429] * 11, codes
    assert store._read("SELECT locked_until FROM staff WHERE username = 'karim'")[0][0]


# --- 3. sessions are revoked on the server ------------------------------------------------------------------


def _copy_session(app, client):
    thief = app.test_client()
    cookie = client.get_cookie("session")
    thief.set_cookie(cookie.key, cookie.value)
    return thief


def test_a_copied_cookie_stops_working_after_sign_out(app, client):
    token = login(client, "clerk")
    thief = _copy_session(app, client)
    assert thief.get("/").status_code == 200  # the copy works while the session is open
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    response = thief.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_copied_cookie_stops_working_after_a_password_reset(store, app, client):
    login(client, "clerk")
    thief = _copy_session(app, client)
    assert thief.get("/").status_code == 200
    staff.add(store, USERS["clerk"], "Clerk Person", "clerk", "01", NEW_PASSWORD)
    for c in (thief, client):
        response = c.get("/")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    # The new password opens a new session.
    token = csrf(client)
    assert _guess(client, USERS["clerk"], NEW_PASSWORD, token).status_code == 302
    assert client.get("/").status_code == 200


def test_a_password_reset_unlocks_the_account(store, client):
    token = csrf(client)
    for i in range(5):
        _guess(client, "vera", f"guess {i}", token)
    staff.add(store, "vera", "Viewer Person", "viewer", "01", NEW_PASSWORD)
    assert _guess(client, "vera", NEW_PASSWORD, token).status_code == 302

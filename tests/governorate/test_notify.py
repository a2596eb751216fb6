"""Citizen notifications (issue 18, finding 8): a decision queues its SMS at once and never waits for a gateway;
the dispatcher sends it, backs off and gives up against a real unreachable port, signs it to a real webhook
server; delivery reports are checked and applied (and never answered with a 500); staff see every state."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from governorate import backoffice, notify, sms
from governorate import settings as hub_settings
from governorate.web import create_app
from tests.support.gov_support import BACKENDS, add_staff, hub_copy, hub_template, login, offline_hub, seed

ROOT = Path(__file__).resolve().parents[2]
SECRET = "dlr-secret-0123456789abcdef-0123456789"


@pytest.fixture(scope="module", params=BACKENDS)
def template(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("notify-template")

    def fill(s):
        add_staff(s)
        return seed(s, folder, requests=3)

    with hub_template(request.param, folder, fill) as made:
        yield made


@pytest.fixture
def store(tmp_path, template):
    with hub_copy(template, tmp_path) as s:
        yield s


@pytest.fixture
def numbers(template):
    return template[3]


def decide(store, number, state="ready", reason=None):
    backoffice.decide(store, offline_hub(store), number, state, reason, "karim")
    return store._read("SELECT max(id) FROM notifications WHERE request_number = ?", [number])[0][0]


def row(store, row_id):
    keys = ("state", "attempts", "next_attempt_at", "gateway_id", "last_error", "sent_by", "msisdn", "parts")
    return dict(zip(keys, store._read(f"SELECT {', '.join(keys)} FROM notifications WHERE id = ?", [row_id])[0],
                    strict=True))


class Recording:
    """A sender of one's own (module:factory), recording what it was given."""

    name = "recording"
    sent: list = []

    def __init__(self, store):
        self.store = store

    def send(self, notification):
        Recording.sent.append(notification)
        return f"rec-{len(Recording.sent)}"


def recording(store):
    return Recording(store)


class Clock:
    def __init__(self):
        self.now = datetime.now(UTC) + timedelta(seconds=1)  # the rows queued just now are due

    def __call__(self):
        return self.now


def closed_port() -> int:
    """A loopback port where nothing listens: connecting is refused at once, as a gateway that is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- queueing -------------------------------------------------------------------------------------------------


def test_a_decision_only_queues_its_sms_and_the_dispatcher_sends_it_through_the_configured_sender(store, numbers):
    Recording.sent.clear()
    row_id = decide(store, numbers[0])
    assert Recording.sent == []  # the decision did not wait for any gateway
    queued = row(store, row_id)
    assert (queued["state"], queued["attempts"], queued["msisdn"]) == ("queued", 0, "201012345678")
    assert queued["next_attempt_at"] is not None

    sender = sms.make_sender("tests.governorate.test_notify:recording", store)
    assert sms.Dispatcher(store, sender).run_once() == 1
    [note] = Recording.sent
    assert note.mobile == "201012345678" and numbers[0] in note.message and "جاهز" in note.message
    assert note.id == row_id
    sent = row(store, row_id)
    assert (sent["state"], sent["attempts"], sent["gateway_id"], sent["sent_by"]) == ("sent", 1, "rec-1", "recording")
    assert sent["next_attempt_at"] is None
    assert sms.Dispatcher(store, sender).run_once() == 0  # sent once, never again


def test_a_request_without_a_usable_mobile_is_never_tried(store, numbers):
    for mobile, error in ((None, "no mobile number"), ("0101", "not an Egyptian mobile number")):
        row_id = notify.notify(store, numbers[0], mobile, "under_review", None)
        got = row(store, row_id)
        assert got["state"] == "no_mobile" and got["next_attempt_at"] is None and error in got["last_error"]
    assert sms.Dispatcher(store, sms.make_sender("tests.governorate.test_notify:recording", store)).run_once() == 0


@pytest.mark.parametrize(("typed", "sent"), [("01012345678", "201012345678"), ("+20 115 555 1234", "201155551234"),
                                            ("٠١٢٠٠٠٠٠٠٠١", "201200000001"), ("0020 1500000002", "201500000002"),
                                            ("01312345678", None), ("", None), (None, None)])
def test_mobile_numbers_are_sent_in_international_form(typed, sent):
    assert notify.msisdn(typed) == sent


@pytest.mark.parametrize(("length", "parts"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (670, 10)])
def test_an_arabic_text_counts_its_ucs2_parts(length, parts):
    assert notify.ucs2_parts("ب" * length) == parts


@settings(max_examples=200, deadline=None)
@given(reason=st.text(min_size=0, max_size=1500), number=st.sampled_from(["V001-261205-0001", "V999-991231-9999"]))
def test_a_rejection_sms_is_never_longer_than_its_cap_and_keeps_what_fits(reason, number):
    text = notify.message_for(number, "rejected", reason)
    assert notify.ucs2_parts(text) <= notify.MAX_PARTS and number in text
    whole = notify.MESSAGES_AR["rejected"].format(number=number, reason=reason or "—")
    if notify.ucs2_parts(whole) <= notify.MAX_PARTS:
        assert text == whole
    else:
        assert text.endswith(notify.CUT_AR)
        kept = text[len(notify.MESSAGES_AR["rejected"].format(number=number, reason="")):-len(notify.CUT_AR)]
        assert reason.startswith(kept)  # the reason's beginning, as written, nothing else
        # As much of it as fits: one more character of it would pass the cap (or it was cut at trailing spaces).
        longer = notify.MESSAGES_AR["rejected"].format(number=number, reason=reason[:len(kept) + 1] + notify.CUT_AR)
        assert notify.ucs2_parts(longer) > notify.MAX_PARTS or reason[len(kept)].isspace()


def test_the_longest_reason_the_link_carries_is_sent_whole(store, numbers):
    decide(store, numbers[1], "under_review")
    reason = ("المستندات المقدمة غير مكتملة: " + "ينقص عقد الإيجار الموثق وصورة البطاقة الضريبية. " * 30)[:500]
    row_id = decide(store, numbers[1], "rejected", reason)
    message, parts = store._read("SELECT message, parts FROM notifications WHERE id = ?", [row_id])[0]
    assert reason.strip() in message and parts == notify.ucs2_parts(message) <= notify.MAX_PARTS


def test_a_long_rejection_reason_is_stored_with_its_parts(store, numbers):
    decide(store, numbers[1], "under_review")
    row_id = decide(store, numbers[1], "rejected", "المستندات المقدمة غير مكتملة: " + "ينقص عقد الإيجار الموثق. " * 4)
    message, parts = store._read("SELECT message, parts FROM notifications WHERE id = ?", [row_id])[0]
    assert parts == notify.ucs2_parts(message) and parts >= 3


# --- failures, back-off, giving up ----------------------------------------------------------------------------


def test_a_gateway_that_is_down_fails_backs_off_and_is_given_up_after_max_attempts(store, numbers):
    row_id = decide(store, numbers[0])
    clock = Clock()
    down = sms.KannelSender(f"http://127.0.0.1:{closed_port()}/cgi-bin/sendsms", "hub", "pw", timeout_s=5)
    dispatcher = sms.Dispatcher(store, down, max_attempts=3, retry_s=60, clock=clock)

    assert dispatcher.run_once() == 1
    first = row(store, row_id)
    assert (first["state"], first["attempts"]) == ("failed", 1) and "cannot be reached" in first["last_error"]
    assert first["next_attempt_at"] == notify.stamp(clock.now + timedelta(seconds=60))

    clock.now += timedelta(seconds=59)
    assert dispatcher.run_once() == 0  # not due yet
    clock.now += timedelta(seconds=2)
    assert dispatcher.run_once() == 1
    second = row(store, row_id)
    assert (second["state"], second["attempts"]) == ("failed", 2)
    assert second["next_attempt_at"] == notify.stamp(clock.now + timedelta(seconds=120))  # doubled

    clock.now += timedelta(seconds=121)
    assert dispatcher.run_once() == 1
    last = row(store, row_id)
    assert (last["state"], last["attempts"], last["next_attempt_at"]) == ("given_up", 3, None)
    clock.now += timedelta(days=1)
    assert dispatcher.run_once() == 0


def test_a_gateway_back_up_sends_the_failed_notification_on_its_next_attempt(store, numbers):
    row_id = decide(store, numbers[0])
    clock = Clock()
    sms.Dispatcher(store, sms.KannelSender(f"http://127.0.0.1:{closed_port()}/x", "u", "p"), clock=clock).run_once()
    assert row(store, row_id)["state"] == "failed"
    clock.now += timedelta(minutes=2)
    Recording.sent.clear()
    sms.Dispatcher(store, Recording(store), clock=clock).run_once()
    got = row(store, row_id)
    assert (got["state"], got["attempts"], got["last_error"]) == ("sent", 2, None)


def test_a_row_claimed_by_a_dispatcher_that_died_is_sent_when_its_lease_ends(store, numbers):
    row_id = decide(store, numbers[0])
    clock = Clock()
    dead = sms.Dispatcher(store, Recording(store), lease_s=300, clock=clock)
    assert dead._claim(row_id) is not None  # claimed, then the process died before sending
    assert row(store, row_id)["state"] == "sending"
    alive = sms.Dispatcher(store, Recording(store), lease_s=300, clock=clock)
    assert alive.run_once() == 0
    clock.now += timedelta(seconds=301)
    Recording.sent.clear()
    assert alive.run_once() == 1 and row(store, row_id)["state"] == "sent" and len(Recording.sent) == 1


def test_a_sender_that_crashes_fails_its_row_and_the_dispatcher_goes_on(store, numbers):
    first, second = decide(store, numbers[0]), decide(store, numbers[1])

    class Broken:
        name = "broken"

        def send(self, notification):
            if notification.id == first:
                raise KeyError("bug")
            return None

    assert sms.Dispatcher(store, Broken()).run_once() == 2
    assert row(store, first)["state"] == "failed" and "KeyError" in row(store, first)["last_error"]
    assert row(store, second)["state"] == "sent"


def test_without_a_gateway_the_worker_refuses_to_start_and_says_which_setting(store):
    with pytest.raises(sms.NotifyConfigError, match="notify.sender"):
        sms.make_sender(None, store)
    with pytest.raises(sms.NotifyConfigError, match="notify.kannel_password"):
        sms.make_sender("kannel", store, kannel_url="http://127.0.0.1:13013/cgi-bin/sendsms", kannel_username="u")
    with pytest.raises(sms.NotifyConfigError, match="dlr_secret"):
        sms.make_sender("kannel", store, kannel_url="http://k/", kannel_username="u", kannel_password="p",
                        dlr_url="http://hub/notify/dlr")
    with pytest.raises(sms.NotifyConfigError, match="webhook_secret"):
        sms.make_sender("webhook", store, webhook_url="http://127.0.0.1:1/")


# --- the webhook, against a real HTTP server ------------------------------------------------------------------


@pytest.fixture
def webhook_server():
    received, answers = [], []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers, body))
            status, payload = answers.pop(0) if answers else (200, b'{"id": "wh-1"}')
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sms", received, answers
    server.shutdown()
    server.server_close()


def test_the_webhook_gets_the_arabic_text_signed_and_its_id_is_kept(store, numbers, webhook_server):
    url, received, _ = webhook_server
    row_id = decide(store, numbers[0])
    sender = sms.make_sender("webhook", store, webhook_url=url, webhook_secret=SECRET)
    assert sms.Dispatcher(store, sender).run_once() == 1
    [(headers, body)] = received
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-MTC-Signature"] == expected
    assert headers["Idempotency-Key"] == f"mtc-notification-{row_id}"
    sent = json.loads(body)
    assert (sent["id"], sent["to"], sent["parts"], sent["request_number"]) == (row_id, "201012345678", 2, numbers[0])
    assert "جاهز" in sent["text"]
    got = row(store, row_id)
    assert (got["state"], got["gateway_id"], got["sent_by"]) == ("sent", "wh-1", "webhook")


def test_a_webhook_that_answers_an_error_is_retried(store, numbers, webhook_server):
    url, received, answers = webhook_server
    answers.append((503, b"busy"))
    row_id = decide(store, numbers[0])
    clock = Clock()
    dispatcher = sms.Dispatcher(store, sms.WebhookSender(url, SECRET), clock=clock)
    dispatcher.run_once()
    got = row(store, row_id)
    assert got["state"] == "failed" and "HTTP 503" in got["last_error"]
    clock.now += timedelta(minutes=5)
    dispatcher.run_once()
    assert row(store, row_id)["state"] == "sent" and len(received) == 2


# --- delivery reports -----------------------------------------------------------------------------------------


@pytest.fixture
def app(store):
    return create_app({"DB_PATH": store.path, "STORE": store, "SECRET_KEY": b"k" * 32, "SENDER": offline_hub(store),
                       "GOVERNORATE": "01", "DLR_SECRET": SECRET})


def _sent(store, number) -> int:
    row_id = decide(store, number)
    sms.Dispatcher(store, Recording(store)).run_once()
    return row_id


def dlr(client, row_id, status, secret=SECRET):
    link = sms.dlr_link("/notify/dlr", secret, row_id).replace("%d", str(status))
    return client.get(link)


def test_a_delivery_report_moves_a_sent_notification_to_delivered(app, store, numbers):
    row_id = _sent(store, numbers[0])
    client = app.test_client()
    answer = dlr(client, row_id, 8)  # taken by the operator's SMSC: still on its way
    assert answer.status_code == 200 and row(store, row_id)["state"] == "sent"
    assert dlr(client, row_id, 1).status_code == 200 and row(store, row_id)["state"] == "delivered"
    assert dlr(client, row_id, 2).status_code == 200 and row(store, row_id)["state"] == "delivered"  # final


def test_an_undelivered_report_is_recorded_for_staff(app, store, numbers):
    row_id = _sent(store, numbers[0])
    assert dlr(app.test_client(), row_id, 16).status_code == 200
    got = row(store, row_id)
    assert got["state"] == "undelivered" and "16" in got["last_error"]


def test_a_delivery_report_is_refused_unless_signed_for_its_own_row(app, store, numbers):
    first, second = _sent(store, numbers[0]), _sent(store, numbers[1])
    client = app.test_client()
    assert dlr(client, first, 1, secret="another-secret-0123456789abcdef0123").status_code == 403
    stolen = sms.dlr_link("/notify/dlr", SECRET, first).replace("%d", "1").replace(f"id={first}", f"id={second}")
    assert client.get(stolen).status_code == 403
    assert client.get(f"/notify/dlr?id={first}&status=1").status_code == 403
    assert row(store, first)["state"] == row(store, second)["state"] == "sent"


def test_a_delivery_report_for_an_unknown_row_or_status_is_a_400(app, store, numbers):
    row_id = _sent(store, numbers[0])
    client = app.test_client()
    assert dlr(client, 987654, 1).status_code == 400  # signed, but no such notification
    assert dlr(client, row_id, 3).status_code == 400
    assert client.get("/notify/dlr?id=x&sig=y&status=1").status_code == 400
    assert row(store, row_id)["state"] == "sent"


def test_a_delivery_report_for_a_notification_never_sent_is_refused(app, store, numbers):
    row_id = decide(store, numbers[0])  # queued
    assert dlr(app.test_client(), row_id, 1).status_code == 409
    assert row(store, row_id)["state"] == "queued"


def test_delivery_reports_are_refused_when_no_secret_is_configured(store, numbers):
    row_id = _sent(store, numbers[0])
    plain = create_app({"DB_PATH": store.path, "STORE": store, "SECRET_KEY": b"k" * 32,
                        "SENDER": offline_hub(store)})
    assert dlr(plain.test_client(), row_id, 1).status_code == 403


_TEXT = st.one_of(st.text(max_size=40), st.integers(-2**70, 2**70).map(str), st.sampled_from(["1", "8", "16", ""]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.sampled_from(["id", "sig", "status", "other"]), _TEXT, max_size=4),
       sign=st.booleans())
@example(params={"id": "²", "status": "1"}, sign=True)  # a digit to str.isdigit, not to int(): found by a fresh run
@example(params={"id": "١٢", "status": "1"}, sign=True)  # Eastern Arabic digits
def test_the_delivery_report_endpoint_never_answers_a_server_error(app, store, params, sign):
    if sign and "id" in params:  # also reach the checks behind the signature
        number = params["id"]
        params["sig"] = sms.dlr_signature(SECRET, int(number)) if number.isascii() and number.isdigit() else number
    answer = app.test_client().get("/notify/dlr", query_string=params)
    assert answer.status_code in (200, 400, 403, 409), answer.get_data(as_text=True)


# --- what staff see -------------------------------------------------------------------------------------------


def test_the_request_page_shows_each_notification_with_state_attempts_parts_and_last_error(app, store, numbers):
    clock = Clock()
    decide(store, numbers[0], "under_review")
    sms.Dispatcher(store, sms.KannelSender(f"http://127.0.0.1:{closed_port()}/x", "u", "p"), clock=clock).run_once()
    decide(store, numbers[0], "ready")
    client = app.test_client()
    token = login(client, "clerk")
    page = client.get(f"/requests/{numbers[0]}").get_data(as_text=True)
    section = page[page.index('id="notifications"'):]
    assert 'data-state="failed" data-attempts="1" data-parts="1"' in section
    assert 'data-state="queued" data-attempts="0" data-parts="2"' in section
    assert "فشل الإرسال، ستُعاد المحاولة" in section and "cannot be reached" in section
    assert "قيد المراجعة" in section and 'lang="en">attempts</span> ١ ·' in section  # Eastern digits in Arabic
    client.post("/lang/en", data={"csrf_token": token, "next": "/"})
    english = client.get(f"/requests/{numbers[0]}").get_data(as_text=True)
    assert '<span lang="en">failed, will retry</span>' in english and '<span lang="en">attempts</span>' in english


# --- running it -----------------------------------------------------------------------------------------------


def test_the_notify_unit_is_watched_restarted_hardened_like_the_other_hub_units():
    import configparser

    def unit(name):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str
        parser.read(ROOT / "governorate" / "systemd" / name)
        return parser

    ours, ingest = unit("governorate-notify.service"), unit("governorate-ingest.service")
    assert ours["Service"]["ExecStart"] == "/opt/governorate/current/venv/bin/governorate notify"
    for key, value in ingest["Service"].items():
        if key not in ("ExecStart", "SyslogIdentifier"):
            assert ours["Service"][key] == value, key
    assert "kannel.service" in ours["Unit"]["After"]


def test_the_settings_file_gives_the_notification_worker_its_gateway(tmp_path):
    values = hub_settings.loads('[notify]\nsender = "kannel"\nkannel_url = "http://127.0.0.1:13013/cgi-bin/sendsms"\n'
                                f'kannel_username = "hub"\nkannel_password = "pw"\ndlr_secret = "{SECRET}"\n'
                                "max_attempts = 4\n")
    assert values["notifier"] == "kannel" and values["max_attempts"] == 4 and values["dlr_secret"] == SECRET
    with pytest.raises(hub_settings.HubConfigError, match="keep only one"):
        hub_settings.loads('[web]\nnotifier = "a.b:c"\n[notify]\nsender = "kannel"\n')
    with pytest.raises(hub_settings.HubConfigError, match="http:// or https://"):
        hub_settings.loads('[notify]\nkannel_url = "127.0.0.1:13013"\n')
    with pytest.raises(hub_settings.HubConfigError, match="kannel, webhook or module:factory"):
        hub_settings.loads('[notify]\nsender = "smpp"\n')


def test_the_notify_command_sends_with_the_settings_files_webhook_and_the_web_reads_its_dlr_secret(
        store, numbers, webhook_server, tmp_path):
    import os
    import subprocess
    import sys

    if store.dialect != "sqlite":
        pytest.skip("the command's wiring is the same on both databases")
    url, received, _ = webhook_server
    decide(store, numbers[0])
    config = tmp_path / "hub.toml"
    config.write_text(f'db = "{store.path}"\n[notify]\nsender = "webhook"\nwebhook_url = "{url}"\n'
                      f'webhook_secret = "{SECRET}"\ndlr_secret = "{SECRET}"\nmax_attempts = 2\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVERNORATE_")}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "governorate.cli", "--config", str(config), *args], env=env,
                              capture_output=True, text=True, timeout=60, cwd=ROOT)

    out = run("notify", "--once")
    assert out.returncode == 0, out.stderr
    assert "1 notification(s) tried" in out.stdout and len(received) == 1
    assert store._read("SELECT state, sent_by FROM notifications")[0] == ("sent", "webhook")
    shown = run("web", "--print-settings")
    assert json.loads(shown.stdout)["DLR_SECRET"] == "set" and SECRET not in shown.stdout
    config.write_text(f'db = "{store.path}"\n[notify]\nsender = "webhook"\n')
    refused = run("notify", "--once")
    assert refused.returncode == 1 and "notify.webhook_url" in refused.stderr and "Traceback" not in refused.stderr

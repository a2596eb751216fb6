"""The acceptance of issue 18, finding 8: a notification for a decided request reaches the operator's SMSC through
the real gateway. Debian's Kannel runs here for real — bearerbox, smsbox and kannel-extras' fakesmsc as the
operator's SMSC, on loopback ports — the hub's dispatcher sends to smsbox, the Arabic text read back from fakesmsc
is the one decided (in concatenated UCS-2 parts when long), and Kannel's delivery report, sent to the hub's real
web server, moves the notification to delivered."""

from __future__ import annotations

import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest
from werkzeug.serving import make_server

from governorate import backoffice, notify, sms
from governorate.web import create_app
from tests.support.gov_support import BACKENDS, hub_copy, hub_template, offline_hub, seed
from tests.support.mqtt_broker import free_port

BEARERBOX, SMSBOX = Path("/usr/sbin/bearerbox"), Path("/usr/sbin/smsbox")
FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")
pytestmark = pytest.mark.skipif(
    not (BEARERBOX.exists() and SMSBOX.exists() and FAKESMSC.exists()),
    reason="Kannel is not installed: scripts/install-system-packages dev (kannel, kannel-extras)")

SECRET = "dlr-secret-0123456789abcdef-0123456789"
USER, PASSWORD, FROM = "hub", "kannel-pw-123", "MTC"

KANNEL_CONF = """\
group = core
admin-port = {admin}
admin-interface = 127.0.0.1
admin-password = {admin_password}
smsbox-port = {smsbox}
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
log-file = "{folder}/bearerbox.log"
log-level = 1
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = operator
port = {smsc}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {smsbox}
sendsms-port = {sendsms}
sendsms-interface = 127.0.0.1
log-file = "{folder}/smsbox.log"
log-level = 1

group = sendsms-user
username = {user}
password = {password}
max-messages = 10
concatenation = true
"""


class Kannel:
    """bearerbox + fakesmsc (receiving only: it is the operator's SMSC) + smsbox, started in that order."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.ports = {k: free_port() for k in ("admin", "smsbox", "smsc", "sendsms")}
        self.conf = folder / "kannel.conf"
        self.conf.write_text(KANNEL_CONF.format(folder=folder, admin_password="admin-pw", user=USER,
                                                password=PASSWORD, **self.ports))
        self.procs: list[subprocess.Popen] = []
        self.lines: list[str] = []

    @property
    def sendsms_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['sendsms']}/cgi-bin/sendsms"

    def start(self) -> Kannel:
        self._spawn([str(BEARERBOX), str(self.conf)], "bearerbox.out")
        self._wait(lambda: "online" in self._status() or "connecting" in self._status(), "bearerbox's admin port")
        fake = subprocess.Popen([str(FAKESMSC), "-H", "127.0.0.1", "-r", str(self.ports["smsc"])],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                errors="replace")  # stdin left open: fakesmsc quits at its end
        self.procs.append(fake)
        threading.Thread(target=lambda: self.lines.extend(iter(fake.stdout.readline, "")), daemon=True).start()
        self._spawn([str(SMSBOX), str(self.conf)], "smsbox.out")
        self._wait(lambda: "(online" in self._status() and "smsbox:" in self._status().split("Box connections")[-1],
                   "the fake SMSC and smsbox connected to bearerbox")
        self._wait(self._sendsms_listens, "smsbox's sendsms port")
        return self

    def _spawn(self, argv: list[str], log: str) -> None:
        self.procs.append(subprocess.Popen(argv, stdout=(self.folder / log).open("w"), stderr=subprocess.STDOUT))

    def _status(self) -> str:
        try:
            url = f"http://127.0.0.1:{self.ports['admin']}/status.txt?password=admin-pw"
            with urllib.request.urlopen(url, timeout=2) as answer:
                return answer.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _sendsms_listens(self) -> bool:
        try:
            urllib.request.urlopen(self.sendsms_url, timeout=2)
        except urllib.error.HTTPError:
            return True  # it answers (refusing a request without a user)
        except OSError:
            return False
        return True

    def _wait(self, ready, what: str, timeout_s: float = 20) -> None:
        deadline = time.monotonic() + timeout_s
        while not ready():
            for proc in self.procs:
                assert proc.poll() is None, f"{proc.args[0]} exited:\n{self.logs()}"
            assert time.monotonic() < deadline, f"Kannel: {what} not ready in {timeout_s} s:\n{self.logs()}"
            time.sleep(0.1)

    def received(self, count: int, timeout_s: float = 15) -> list[str]:
        """fakesmsc's 'Got message N: <from to type data>' lines: the SMS the operator's SMSC was given."""
        self._wait(lambda: len(self._messages()) >= count, f"{count} SMS at fakesmsc", timeout_s)
        return self._messages()

    def _messages(self) -> list[str]:
        out = []
        for line in list(self.lines):
            if "Got message" in line:
                out.append(line.split(": <", 1)[1].rstrip().removesuffix(">"))
        return out

    def logs(self) -> str:
        parts = []
        for name in ("bearerbox.log", "smsbox.log", "bearerbox.out", "smsbox.out"):
            path = self.folder / name
            if path.exists():
                parts.append(f"--- {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-30:]))
        parts.append("--- fakesmsc\n" + "".join(self.lines[-30:]))
        return "\n".join(parts)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _bytes(text: str) -> bytes:
    return unquote_to_bytes(text.replace("+", " "))  # fakesmsc URL-encodes, a space as "+"


def decode(line: str) -> tuple[str, str, tuple[int, int, int] | None, str]:
    """(from, to, (reference, total, index) of a concatenated part or None, text) of one fakesmsc line."""
    sender, to, kind, rest = line.split(" ", 3)
    if kind == "ucs-2":
        return sender, to, None, _bytes(rest).decode("utf-16-be")
    assert kind == "udh", line
    udh_text, data_kind, data = rest.split(" ", 2)
    assert data_kind == "data", line
    udh = _bytes(udh_text)
    # UDH: its length, then IE 00 (concatenation, 8-bit reference) of 3 bytes: reference, parts, this part
    assert udh[0] == 5 and udh[1:3] == b"\x00\x03", udh
    return sender, to, (udh[3], udh[4], udh[5]), _bytes(data).decode("utf-16-be")


def reassemble(lines: list[str]) -> list[tuple[str, int]]:
    """The texts the citizen's phone shows, each with the number of SMS it came in."""
    texts, parts = [], {}
    for line in lines:
        _, _, concat, text = decode(line)
        if concat is None:
            texts.append((text, 1))
        else:
            parts.setdefault(concat[0], {})[concat[2]] = (concat[1], text)
    for pieces in parts.values():
        total = next(iter(pieces.values()))[0]
        assert sorted(pieces) == list(range(1, total + 1)), pieces
        texts.append(("".join(pieces[i][1] for i in sorted(pieces)), total))
    return texts


@pytest.fixture(scope="module")
def kannel(tmp_path_factory):
    gateway = Kannel(tmp_path_factory.mktemp("kannel"))
    try:
        yield gateway.start()
    finally:
        gateway.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def template(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("kannel-hub")
    with hub_template(request.param, folder, lambda s: seed(s, folder, requests=2)) as made:
        yield made


@pytest.fixture
def hub(tmp_path, template):
    """The hub's store and its real web server (Kannel's delivery reports come to it over HTTP)."""
    with hub_copy(template, tmp_path) as store:
        app = create_app({"DB_PATH": store.path, "STORE": store, "SECRET_KEY": b"k" * 32,
                          "SENDER": offline_hub(store), "DLR_SECRET": SECRET})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield store, f"http://127.0.0.1:{server.server_port}/notify/dlr", template[3]
        finally:
            server.shutdown()


def wait_for_state(store, row_id: int, state: str, kannel: Kannel, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while (got := store._read("SELECT state FROM notifications WHERE id = ?", [row_id])[0][0]) != state:
        assert time.monotonic() < deadline, f"notification {row_id} is {got}, not {state}:\n{kannel.logs()}"
        time.sleep(0.1)


def test_a_decided_requests_notification_reaches_the_operators_smsc_in_arabic_and_is_delivered(kannel, hub):
    store, dlr_url, numbers = hub
    before = len(kannel._messages())
    backoffice.decide(store, offline_hub(store), numbers[0], "under_review", None, "karim")
    backoffice.decide(store, offline_hub(store), numbers[0], "ready", None, "karim")
    review_id, ready_id = (r[0] for r in store._read("SELECT id FROM notifications WHERE request_number = ? "
                                                     "ORDER BY id", [numbers[0]]))
    sender = sms.KannelSender(kannel.sendsms_url, USER, PASSWORD, FROM, dlr_url, SECRET)
    assert sms.Dispatcher(store, sender).run_once() == 2

    (review_parts,), (ready_parts,) = store._read("SELECT parts FROM notifications WHERE id IN (?, ?) ORDER BY id",
                                                  [review_id, ready_id])
    assert (review_parts, ready_parts) == (1, 2)  # the ready message is longer than one UCS-2 SMS
    lines = kannel.received(before + 3)[before:]
    assert {decode(line)[:2] for line in lines} == {(FROM, "201012345678")}
    assert sorted(reassemble(lines)) == sorted([
        (notify.message_for(numbers[0], "under_review", None), 1), (notify.message_for(numbers[0], "ready", None), 2)])
    # Kannel's delivery reports (the fake SMSC reports success) come to the hub's web server.
    wait_for_state(store, review_id, "delivered", kannel)
    wait_for_state(store, ready_id, "delivered", kannel)
    sent_by, attempts, delivery_at = store._read("SELECT sent_by, attempts, delivery_at FROM notifications "
                                                 "WHERE id = ?", [ready_id])[0]
    assert (sent_by, attempts) == ("kannel", 1) and delivery_at


def test_a_long_rejection_reaches_the_smsc_in_as_many_parts_as_the_hub_counted(kannel, hub):
    store, dlr_url, numbers = hub
    before = len(kannel._messages())
    reason = "المستندات المقدمة غير مكتملة: ينقص عقد الإيجار الموثق وصورة البطاقة الضريبية وشهادة الصلاحية. " * 2
    backoffice.decide(store, offline_hub(store), numbers[1], "under_review", None, "karim")
    with store.transaction() as conn:
        conn.execute("DELETE FROM notifications")  # only the rejection goes out in this test
    backoffice.decide(store, offline_hub(store), numbers[1], "rejected", reason, "karim")
    [(row_id, parts, text)] = store._read("SELECT id, parts, message FROM notifications")
    assert parts >= 4
    sms.Dispatcher(store, sms.KannelSender(kannel.sendsms_url, USER, PASSWORD, FROM, dlr_url, SECRET)).run_once()
    lines = kannel.received(before + parts)[before:]
    assert len(lines) == parts and reassemble(lines) == [(text, parts)]
    assert all(len(decode(line)[3]) <= notify.UCS2_PART for line in lines)
    wait_for_state(store, row_id, "delivered", kannel)


def test_a_wrong_kannel_password_is_a_failure_with_kannels_answer_and_is_retried(kannel, hub):
    store, dlr_url, numbers = hub
    backoffice.decide(store, offline_hub(store), numbers[0], "under_review", None, "karim")
    [(row_id,)] = store._read("SELECT id FROM notifications")
    sms.Dispatcher(store, sms.KannelSender(kannel.sendsms_url, USER, "wrong", FROM, dlr_url, SECRET)).run_once()
    state, attempts, error, due = store._read("SELECT state, attempts, last_error, next_attempt_at FROM notifications "
                                              "WHERE id = ?", [row_id])[0]
    assert (state, attempts) == ("failed", 1) and due is not None
    assert "HTTP 403" in error and "Authorization failed" in error

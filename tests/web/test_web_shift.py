"""The operator's shift at the console (issue 19): no fee without an open shift; a close with a cash difference
needs a reason and, above the threshold, a supervisor; the Z-report prints (decoded back from the ESC/POS bytes,
its QR code verifies) and goes up the tx stream; a hand-over opens the next operator's shift; a supervisor closes
a shift left open."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime, timedelta

from common import keys
from edge.core import codes
from edge.core.digits import to_eastern
from edge.core.localtime import VAN_TZ
from edge.devices.printer import escpos_read
from edge.devices.printer import sim as printer_sim
from edge.store import outbox, shifts
from edge.store.db import open_db
from edge.web import signing
from tests.support.web_support import (
    BIDI_CONTROLS,
    OPERATOR,
    SUPERVISOR,
    login,
    make_app,
    open_shift,
    post,
    register_request,
    text,
    to_payment,
)

ACTOR = f"operator:{OPERATOR[0]}"


def _app(tmp_path):
    name = f"shift-{uuid.uuid4().hex[:8]}"
    app = make_app(tmp_path, printer=f"sim://{name}", PRINT_WAIT_S=5)
    return app, printer_sim.device(name)


def _shift_error(client) -> str:
    """The words of the shift page's error box (empty when there is none)."""
    body = client.get("/operator/shift").get_data(as_text=True)
    found = re.search(r'<div class="error" role="alert" id="shift-error">(.*?)</div>', body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split()) if found else ""


def _db(app):
    return open_db(app.config["EDGE_SETTINGS"].db_path)


def test_no_fee_is_taken_without_an_open_shift_and_the_draft_waits(tmp_path):
    app, _ = _app(tmp_path)
    client = app.test_client()
    login(client)
    start = to_payment(client)
    r = post(client, f"{start}/payment", f"{start}/payment", {"method": "cash", "reference": ""})
    assert r.status_code == 422
    assert "افتح ورديتك" in text(r) and "Open your shift" in text(r) and 'id="go-shift"' in r.get_data(as_text=True)
    with _db(app) as db:
        assert db.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == 0
    open_shift(client, "100")
    r = post(client, f"{start}/payment", f"{start}/payment", {"method": "cash", "reference": ""})
    assert r.status_code == 302  # the same draft, submitted once the shift is open


def test_the_first_step_of_a_new_request_says_when_no_fee_can_be_taken_yet(tmp_path):
    # A usability review: the operator went through the whole request with the citizen at the counter, and only the
    # last step (the fee) said the shift was not open.
    app, _ = _app(tmp_path)
    client = app.test_client()
    login(client)
    first = client.get("/operator/requests/new", follow_redirects=True)
    body = first.get_data(as_text=True)
    assert first.status_code == 200 and 'id="shift-problem"' in body
    assert "افتح ورديتك" in text(first) and "Open your shift" in text(first) and 'href="/operator/shift"' in body
    open_shift(client, "100")
    assert 'id="shift-problem"' not in client.get("/operator/requests/new", follow_redirects=True).get_data(
        as_text=True)


def test_a_shift_closes_with_a_confirmed_difference_and_prints_a_signed_z_report(tmp_path):
    app, printer = _app(tmp_path)
    settings = app.config["EDGE_SETTINGS"]
    now = datetime.now(UTC)
    keys.make_dev_keys(signing.keys_dir(settings.data_dir), governorate=settings.van.governorate,
                       van=settings.van.id, now=now - timedelta(days=1))
    client = app.test_client()
    login(client)
    open_shift(client, "٥٠٠")  # Eastern digits, as an Arabic keyboard types them
    numbers = [register_request(client), register_request(client, method="card", reference="a1b2c3")]
    # One is cancelled and refunded, with a supervisor.
    r = post(client, f"/operator/requests/{numbers[0]}", f"/operator/requests/{numbers[0]}/cancel",
             {"reason": "طلب المواطن", "supervisor": str(SUPERVISOR[0]), "supervisor_pin": SUPERVISOR[2]})
    assert r.status_code == 302
    page = text(client.get("/operator/shift"))
    assert "٥٠٠٫٠٠" in page  # the float, and the live totals

    # 30 EGP short: a reason is needed, then a supervisor (threshold 20 EGP).
    with _db(app) as db:
        expected = shifts.current(db, ACTOR).opening_float_piastres  # cash in = cash refunded here
    counted = f"{(expected - 3_000) / 100:.2f}"
    r = post(client, "/operator/shift", "/operator/shift/close", {"counted": counted})
    assert r.status_code == 302
    error = _shift_error(client)
    assert "اكتب سبب الفرق" in error and "عجز ٣٠٫٠٠" in error and "short 30.00" in error
    r = post(client, "/operator/shift", "/operator/shift/close", {"counted": counted, "reason": "ورقة ممزقة"})
    error = _shift_error(client)
    assert "يجب أن يعتمده مشرف" in error and "a supervisor must confirm it" in error
    with _db(app) as db:
        assert shifts.current(db, ACTOR) is not None  # refused closes changed nothing
    r = post(client, "/operator/shift", "/operator/shift/close",
             {"counted": counted, "reason": "ورقة ممزقة", "supervisor": str(SUPERVISOR[0]),
              "supervisor_pin": SUPERVISOR[2]})
    assert r.status_code == 302 and "/operator/shift/" in r.headers["Location"]
    report = text(client.get(r.headers["Location"]))
    assert "عجز ٣٠٫٠٠" in report  # "short", never a bare minus sign beside Arabic digits

    # The Z-report came out of the printer: decoded from the bytes, its code verifies as a shift report.
    sent = printer.jobs[-1]
    assert any("SHIFT CLOSE (Z) REPORT" in t for t in escpos_read.texts(escpos_read.decode(sent)))
    qr = escpos_read.of_type(escpos_read.decode(sent), escpos_read.Qr)
    assert qr, "the Z-report carries a QR code"
    code = qr[0].data.decode("ascii") if isinstance(qr[0].data, bytes) else qr[0].data
    verdict = codes.verify(code, signing.load_trust_list(settings.data_dir), now=datetime.now(UTC))
    assert verdict.ok and verdict.claims.doc_type is codes.DocumentType.SHIFT
    with _db(app) as db:
        closed = shifts.get(db, int(verdict.claims.number[1:]))
        assert (closed.difference_piastres, closed.confirmed_by) == (-3_000, f"operator:{SUPERVISOR[0]}")
        body = [m for m in outbox.pending(db, "tx") if m.kind == "shift.closed"][0].body
        assert body["difference_piastres"] == -3_000 and body["totals"]["requests"] == 2
        assert body["totals"]["fees"]["card"] > 0 and body["totals"]["refund_count"] == 1
    # Closed is closed: a second close finds no open shift.
    r = post(client, "/operator/shift", "/operator/shift/close", {"counted": counted})
    assert "لا توجد وردية مفتوحة" in text(client.get("/operator/shift"))


def test_a_hand_over_and_a_supervisor_closing_a_forgotten_shift(tmp_path):
    app, _ = _app(tmp_path)
    first = app.test_client()
    login(first)
    open_shift(first, "200")
    r = post(first, "/operator/shift", "/operator/shift/close",
             {"counted": "200", "next_operator": str(SUPERVISOR[0]), "next_pin": SUPERVISOR[2]})
    assert r.status_code == 302
    with _db(app) as db:
        nxt = shifts.current(db, f"operator:{SUPERVISOR[0]}")
        assert nxt.opening_float_piastres == 20_000 and nxt.received_from is not None
    # The operator opens again and forgets; the supervisor closes it from the shift page.
    open_shift(first, "50")
    boss = app.test_client()
    login(boss, SUPERVISOR)
    page = boss.get("/operator/shift").get_data(as_text=True)
    assert 'id="open-shifts"' in page and f"الموظف {to_eastern(OPERATOR[0])}" in page  # named, not "operator:2"
    with _db(app) as db:
        forgotten = shifts.current(db, ACTOR)
    r = post(boss, "/operator/shift", f"/operator/shift/{forgotten.id}/close", {"counted": "50"})
    assert r.status_code == 302
    with _db(app) as db:
        assert shifts.get(db, forgotten.id).closed_by == f"operator:{SUPERVISOR[0]}"
    # An operator who is not a supervisor cannot close someone else's shift.
    assert post(first, "/operator/shift", f"/operator/shift/{nxt.id}/close", {"counted": "0"}).status_code == 403


def test_a_training_shift_stays_in_training_and_its_report_is_marked(tmp_path):
    app, printer = _app(tmp_path)
    client = app.test_client()
    login(client, SUPERVISOR)
    post(client, "/operator/", "/operator/training", {"on": "1"})
    open_shift(client, "10")
    r = post(client, "/operator/shift", "/operator/shift/close", {"counted": "10"})
    assert r.status_code == 302
    texts = escpos_read.texts(escpos_read.decode(printer.jobs[-1]))
    assert any("TRAINING" in t for t in texts)
    [qr] = escpos_read.of_type(escpos_read.decode(printer.jobs[-1]), escpos_read.Qr)
    assert qr.data.startswith("TRAINING-Z")  # never signed: it cannot pass for a real report
    with _db(app) as db:  # the van's real database knows nothing of it, and nothing goes to the governorate
        assert db.execute("SELECT COUNT(*) FROM shifts").fetchone()[0] == 0
        assert not [m for m in outbox.pending(db, "tx") if m.kind == "shift.closed"]


def test_a_supervisor_never_confirms_their_own_difference(tmp_path):
    app, _ = _app(tmp_path)
    boss = app.test_client()
    login(boss, SUPERVISOR)
    open_shift(boss, "100")
    r = post(boss, "/operator/shift", "/operator/shift/close",
             {"counted": "50", "reason": "عملة مزيفة", "supervisor": str(SUPERVISOR[0]),
              "supervisor_pin": SUPERVISOR[2]})
    assert r.status_code == 302
    error = _shift_error(boss)
    assert "لا يعتمد أحد فرق ورديته بنفسه" in error and "another supervisor" in error
    # Nor through the form for other operators' shifts.
    with _db(app) as db:
        mine = shifts.current(db, f"operator:{SUPERVISOR[0]}")
    r = post(boss, "/operator/shift", f"/operator/shift/{mine.id}/close", {"counted": "50", "reason": "عملة مزيفة"})
    assert r.status_code == 302 and "close it with your shift's closing form" in _shift_error(boss)
    with _db(app) as db:
        assert shifts.current(db, f"operator:{SUPERVISOR[0]}").id == mine.id  # still open


def test_a_shift_from_an_earlier_day_needs_a_supervisor_to_close(tmp_path):
    app, _ = _app(tmp_path)
    client = app.test_client()
    login(client)
    with _db(app) as db:
        shifts.open_shift(db, operator=ACTOR, opening_float=5_000, now=datetime.now(UTC) - timedelta(days=1))
    assert 'id="shift-stale"' in client.get("/operator/shift").get_data(as_text=True)
    post(client, "/operator/shift", "/operator/shift/close", {"counted": "50"})
    error = _shift_error(client)
    assert "يغلقها مشرف" in error and "A supervisor closes it" in error
    yesterday = (datetime.now(UTC) - timedelta(days=1)).astimezone(VAN_TZ).date()
    assert to_eastern(yesterday.isoformat()) in error.translate(BIDI_CONTROLS)  # Eastern digits in Arabic
    r = post(client, "/operator/shift", "/operator/shift/close",
             {"counted": "50", "supervisor": str(SUPERVISOR[0]), "supervisor_pin": SUPERVISOR[2]})
    assert r.status_code == 302 and "/operator/shift/" in r.headers["Location"]
    with _db(app) as db:
        assert shifts.current(db, ACTOR) is None


def test_hand_over_errors_name_the_next_operator_not_the_closer(tmp_path):
    app, _ = _app(tmp_path)
    client, boss = app.test_client(), app.test_client()
    login(client)
    login(boss, SUPERVISOR)
    open_shift(client, "10")
    post(client, "/operator/shift", "/operator/shift/close",
         {"counted": "10", "next_operator": str(OPERATOR[0]), "next_pin": OPERATOR[2]})
    assert "not your own" in _shift_error(client)
    open_shift(boss, "0")
    post(client, "/operator/shift", "/operator/shift/close",
         {"counted": "10", "next_operator": str(SUPERVISOR[0]), "next_pin": SUPERVISOR[2]})
    error = _shift_error(client)
    assert f"Operator {SUPERVISOR[0]} already has an open shift" in error and "You already" not in error
    with _db(app) as db:
        assert shifts.current(db, ACTOR) is not None


def test_a_z_report_is_for_its_operator_and_supervisors_and_a_reprint_is_audited(tmp_path):
    app, _ = _app(tmp_path)
    boss, client = app.test_client(), app.test_client()
    login(boss, SUPERVISOR)
    open_shift(boss, "10")
    r = post(boss, "/operator/shift", "/operator/shift/close", {"counted": "10"})
    report_url = r.headers["Location"]
    login(client)
    assert client.get(report_url).status_code == 403
    assert post(client, "/operator/shift", f"{report_url}/print").status_code == 403
    assert report_url not in client.get("/operator/shift").get_data(as_text=True)  # not listed for them either
    assert boss.get(report_url).status_code == 200
    assert post(boss, report_url, f"{report_url}/print").status_code == 302
    with _db(app) as db:
        rows = db.execute("SELECT actor, subject FROM audit_log WHERE action = 'shift.reprint'").fetchall()
    assert rows == [(f"operator:{SUPERVISOR[0]}", f"shift:{report_url.rsplit('/', 1)[1]}")]


def test_the_counted_cash_is_checked_as_it_is_typed_with_the_difference_before_the_close(tmp_path):
    # The usability review of 2026-12-06: the close button asked "Close the shift?" before the amount was even
    # read, and said nothing of the difference the close would record for good.
    from tests.support.web_support import token

    app, _printer = _app(tmp_path)
    client = app.test_client()
    login(client)
    page = client.get("/operator/shift").get_data(as_text=True)
    csrf = token(page)

    def ask(typed):
        r = client.post("/operator/shift/counted", json={"text": typed}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200
        return r.get_json()

    answer = ask("100")
    assert not answer["ok"] and "وردية" in answer["message"]  # no open shift yet: said, nothing to confirm
    open_shift(client, "٥٠٠")
    short = ask("٤٥٠")  # Eastern digits, as an Arabic keyboard types them
    assert short["ok"] and short["difference"] == -5000
    assert "عجز ٥٠٫٠٠ ج.م" in short["message"] and "short 50.00 EGP" in short["message_other"]
    assert "سبب الفرق" in short["message"]
    assert short["confirm"].startswith(short["message"]) and "إغلاق الوردية؟" in short["confirm"]
    even = ask("500.00 EGP")
    assert even["ok"] and even["difference"] == 0 and "لا يوجد فرق" in even["message"] and "سبب" not in even["message"]
    far = ask("5,000")
    assert far["ok"] and "المشرف" in far["message"] and "over 4,500.00 EGP" in far["message_other"]
    for bad in ("", "abc", "12,5", "-3", "9" * 30):
        said = ask(bad)
        assert not said["ok"] and "confirm" not in said and said["message"] and said["message_other"], (bad, said)
    for body in ([1, 2], "x", 3, None):  # JSON that is not an object: an error in words, not a 500
        r = client.post("/operator/shift/counted", json=body, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200 and not r.get_json()["ok"], (body, r.status_code)
        r = client.post("/operator/check/national-id", json=body, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200 and not r.get_json()["ok"], (body, r.status_code)
    # Checking closes nothing.
    assert 'id="shift-close"' in client.get("/operator/shift").get_data(as_text=True)
    # Not signed in: no figure leaks.
    assert app.test_client().post("/operator/shift/counted", json={"text": "1"}).status_code in (302, 400, 401, 403)

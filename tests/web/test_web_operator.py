"""The operator's console through Flask's test client: login and lock-out, the queue, the request wizard,
requests, cancellation, van status, training mode, and the audit trail behind every action."""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image

from edge.core.errors import EdgeError
from edge.store import audit_log, outbox
from edge.store import requests as store_requests
from edge.store import tickets as store_tickets
from edge.store.db import open_db
from tests.support.web_support import (
    OPERATOR,
    SERVICE,
    SUPERVISOR,
    VALID_NID,
    login,
    make_app,
    open_shift,
    post,
    register_request,
    text,
    to_payment,
)


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


@pytest.fixture
def db(app):
    database = open_db(app.config["EDGE_SETTINGS"].db_path)
    yield database
    database.close()


@pytest.fixture
def console(app):
    client = app.test_client()
    login(client)
    open_shift(client)  # no fee is taken without an open shift (issue 19)
    return client


def _actions(db) -> list[str]:
    return [e.action for e in audit_log.entries(db)]


def test_console_pages_need_a_login(app):
    client = app.test_client()
    for url in ("/operator/", "/operator/requests", "/operator/status", "/operator/requests/new"):
        r = client.get(url)
        assert r.status_code == 302 and "/operator/login" in r.headers["Location"], url


def test_operator_logs_in_with_number_and_pin_and_the_login_is_audited(app, db):
    client = app.test_client()
    r = login(client)
    assert r.headers["Location"].endswith("/operator/")
    assert OPERATOR[1] in text(client.get("/operator/"))
    assert "operator.login" in _actions(db)


def test_five_wrong_pins_lock_the_account_even_for_the_right_pin(app, db):
    client = app.test_client()
    for _ in range(5):
        r = post(client, "/operator/login", "/operator/login", {"number": str(OPERATOR[0]), "pin": "000000"})
        assert r.status_code == 422
    client.get("/lang/en")
    r = post(client, "/operator/login", "/operator/login", {"number": str(OPERATOR[0]), "pin": OPERATOR[2]})
    assert r.status_code == 422
    assert "locked" in text(r).lower()


def test_wrong_pin_message_is_clear_and_does_not_say_which_part_was_wrong(app):
    client = app.test_client()
    client.get("/lang/en")
    r = post(client, "/operator/login", "/operator/login", {"number": "77", "pin": "123456"})
    shown = text(r)
    assert r.status_code == 422
    assert re.search(r"number or PIN|PIN", shown), shown


def test_logout_ends_the_session(console):
    post(console, "/operator/", "/operator/logout")
    assert console.get("/operator/").status_code == 302


def test_idle_console_asks_for_the_login_again(tmp_path):
    app = make_app(tmp_path, OPERATOR_IDLE_S=0)
    client = app.test_client()
    login(client)
    import time

    time.sleep(0.01)
    assert client.get("/operator/").status_code == 302


def test_operator_calls_recalls_and_marks_no_show(app, console, db):
    kiosk = app.test_client()
    post(kiosk, "/ticket/BLD", "/ticket", {"category": "BLD", "priority": "none"})
    post(kiosk, "/ticket/BLD", "/ticket", {"category": "BLD", "priority": "none"})
    r = post(console, "/operator/", "/operator/queue/call")
    shown = text(console.get("/operator/"))
    assert "choose your counter" in shown.lower() or "اختر رقم الشباك" in shown, shown
    post(console, "/operator/", "/operator/counter", {"counter": "2"})
    post(console, "/operator/", "/operator/queue/call")
    [first] = [t for t in store_tickets.waiting(db)]  # one left waiting
    page = console.get("/operator/").get_data(as_text=True)
    called = re.search(r'name="ticket" value="([^"]+)"', page).group(1)
    post(console, "/operator/", "/operator/queue/recall", {"ticket": called})
    post(console, "/operator/", "/operator/queue/no-show", {"ticket": called})
    actions = _actions(db)
    assert {"ticket.call", "ticket.recall", "ticket.no_show"} <= set(actions), actions
    assert first.number != called
    assert r.status_code == 302


def test_a_transfer_keeps_the_citizens_number_and_says_so(app, console, db):
    # Issue 18, finding 5: "transfer" silently renumbered the ticket (A002 became B001, no message).
    from edge.core.tickets import number_ar

    kiosk = app.test_client()
    post(kiosk, "/ticket/BLD", "/ticket", {"category": "BLD", "priority": "none"})
    post(console, "/operator/", "/operator/counter", {"counter": "2"})
    post(console, "/operator/", "/operator/queue/call")
    called = re.search(r'name="ticket" value="([^"]+)"', console.get("/operator/").get_data(as_text=True)).group(1)
    page = console.get("/operator/").get_data(as_text=True)
    other = re.search(r'<select id="transfer-to" name="category"><option value="([^"]+)"', page).group(1)
    post(console, "/operator/", "/operator/queue/transfer", {"ticket": called, "category": other})
    shown = text(console.get("/operator/"))
    shown_ar = " ".join(number_ar(called).split())  # text() folds the no-break space like any space
    assert f"التذكرة {shown_ar} تنتظر الآن" in shown and "Ticket " + called in shown, shown
    [waiting] = store_tickets.waiting(db)
    assert (waiting.number, waiting.category) == (called, other)
    # The next counter serving that service calls the very number on the citizen's paper.
    post(console, "/operator/", "/operator/counter", {"counter": "3"})
    post(console, "/operator/", "/operator/queue/call")
    assert re.search(r'name="ticket" value="([^"]+)"', console.get("/operator/").get_data(as_text=True)).group(1) \
        == called


def test_bad_counter_number_is_refused_with_a_message(console):
    post(console, "/operator/", "/operator/counter", {"counter": "99"})
    assert "٢٠" in text(console.get("/operator/")) or "20" in text(console.get("/operator/"))


def test_wizard_refuses_a_bad_national_id_with_a_clear_message(console):
    start = console.get("/operator/requests/new").headers["Location"].rsplit("/", 1)[0]
    post(console, f"{start}/service", f"{start}/service", {"service": SERVICE})
    console.get("/lang/en")
    r = post(console, f"{start}/citizen", f"{start}/citizen",
             {"national_id": "29013451234567", "name": "Ahmed Ali", "mobile": ""})
    assert r.status_code == 422
    assert re.search(r"birth date|date", text(r), re.I), text(r)
    r = post(console, f"{start}/citizen", f"{start}/citizen",
             {"national_id": "2900101123", "name": "Ahmed Ali", "mobile": ""})
    assert r.status_code == 422 and "14" in text(r)
    # What was typed stays in the form: a correction never means typing everything again.
    assert 'value="2900101123"' in r.get_data(as_text=True)


def test_live_national_id_check_shows_birth_date_gender_and_governorate(console):
    page = console.get("/operator/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    r = console.post("/operator/check/national-id", json={"text": VALID_NID}, headers={"X-CSRF-Token": token})
    body = r.get_json()
    # 2 900101 12 3456 7: born 1990-01-01 in Dakahlia (12); digit 13 even: female.
    assert body["ok"] and "١٩٩٠" in body["birth_date"] and body["gender"] == "أنثى", body
    assert body["governorate"] == "الدقهلية"
    r = console.post("/operator/check/national-id", json={"text": "123"}, headers={"X-CSRF-Token": token})
    assert r.get_json()["ok"] is False and r.get_json()["message"]


def test_submitted_request_and_its_outbox_row_are_committed_together_and_audited(console, db):
    before = outbox.backlog(db).pending
    number = register_request(console)
    found = store_requests.get(db, number)
    assert found.state.value == "submitted" and found.citizen_national_id == VALID_NID
    assert outbox.backlog(db).pending > before
    assert any(a.startswith("request.") for a in _actions(db))
    receipt = text(console.get(f"/operator/requests/{number}/receipt"))
    assert "١٬٥٠٠" in receipt or "1,500" in receipt or "١٥٠٠" in receipt, receipt
    assert VALID_NID not in receipt  # masked on paper and on screen


def test_e_payment_needs_its_reference(console):
    start = console.get("/operator/requests/new").headers["Location"].rsplit("/", 1)[0]
    post(console, f"{start}/service", f"{start}/service", {"service": SERVICE})
    post(console, f"{start}/citizen", f"{start}/citizen", {"national_id": VALID_NID, "name": "Ahmed Ali"})
    page = console.get(f"{start}/documents").get_data(as_text=True)
    seen = re.findall(r'name="seen" value="([^"]+)"', page)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    console.post(f"{start}/documents", data={"csrf_token": token, "seen": seen})
    r = post(console, f"{start}/payment", f"{start}/payment", {"method": "reference", "reference": ""})
    assert r.status_code == 422
    r = post(console, f"{start}/payment", f"{start}/payment", {"method": "cash", "amount": "10"})
    assert r.status_code == 422  # not the fee: a van takes no partial payments


def _payment_step(console, service: str) -> str:
    return to_payment(console, service=service, name="Ahmed Ali", mobile="")


def test_a_card_payment_needs_the_approval_code(console, db):
    # Issue 18, finding 4: a card payment was accepted with no approval code.
    start = _payment_step(console, SERVICE)
    r = post(console, f"{start}/payment", f"{start}/payment", {"method": "card", "reference": ""})
    assert r.status_code == 422 and ("approval code" in text(r) or "رمز الموافقة" in text(r))
    r = post(console, f"{start}/payment", f"{start}/payment", {"method": "card", "reference": "a1b2c3"})
    assert r.status_code == 302
    number = r.headers["Location"].split("/requests/")[1].split("/")[0]
    assert store_requests.get(db, number).payment_reference == "A1B2C3"


def test_an_assessed_amount_is_typed_confirmed_by_a_supervisor_and_printed(app, console, db):
    # Issue 18, finding 4: a reconciliation amount showed a 0.00 fee and could not be recorded at all.
    start = _payment_step(console, "REC-187-FULL")
    page = text(console.get(f"{start}/payment"))
    assert "A supervisor confirms the amount" in page or "يعتمد المشرف" in page, page
    cash = {"method": "cash", "reference": ""}
    boss = {"supervisor": str(SUPERVISOR[0]), "supervisor_pin": SUPERVISOR[2]}
    # No amount, an amount past the catalogue's bound, no supervisor, an operator who is not one, a wrong PIN.
    for form, why in [({**cash, "amount": ""}, "المبلغ المقدَّر"),
                      ({**cash, "amount": "20000000", **boss}, "حتى"),
                      ({**cash, "amount": "12500"}, "رقم"),
                      ({**cash, "amount": "12500", "supervisor": str(OPERATOR[0]), "supervisor_pin": OPERATOR[2]},
                       "ليس لمشرف"),
                      ({**cash, "amount": "12500", "supervisor": str(SUPERVISOR[0]), "supervisor_pin": "000000"},
                       "")]:
        r = post(console, f"{start}/payment", f"{start}/payment", form)
        assert r.status_code == 422 and why in text(r), (form, text(r)[:600])
    assert db.execute("SELECT count(*) FROM requests").fetchone()[0] == 0
    r = post(console, f"{start}/payment", f"{start}/payment", {**cash, "amount": "12500", **boss})
    assert r.status_code == 302, text(r)[:600]
    number = r.headers["Location"].split("/requests/")[1].split("/")[0]
    found = store_requests.get(db, number)
    assert (found.fee_piastres, found.payment_method) == (1_250_000, "cash")
    [confirmed] = [e for e in audit_log.entries(db) if e.action == "payment.assessed_confirmed"]
    assert confirmed.actor.endswith(str(SUPERVISOR[0])) and confirmed.subject == number
    [sent] = [m for m in outbox.pending(db) if m.kind == "request.submitted"]
    assert sent.body["fee_piastres"] == sent.body["payment"]["amount_piastres"] == 1_250_000
    assert "12,500.00" in text(console.get(f"/operator/requests/{number}/receipt")) or "١٢٬٥٠٠" in text(
        console.get(f"/operator/requests/{number}/receipt"))
    assert "supervisor_pin" not in json.dumps(db.execute("SELECT data FROM request_drafts").fetchall())


def test_missing_mandatory_documents_stop_the_wizard(console):
    start = console.get("/operator/requests/new").headers["Location"].rsplit("/", 1)[0]
    post(console, f"{start}/service", f"{start}/service", {"service": SERVICE})
    post(console, f"{start}/citizen", f"{start}/citizen", {"national_id": VALID_NID, "name": "Ahmed Ali"})
    r = post(console, f"{start}/documents", f"{start}/documents", {"seen": "NID"})
    assert r.status_code == 422
    # Jumping ahead by URL goes back to what is missing.
    assert console.get(f"{start}/payment").headers["Location"].endswith("/documents")


def test_scanned_page_attached_in_the_wizard_is_stored_with_the_request(console, db):
    start = console.get("/operator/requests/new").headers["Location"].rsplit("/", 1)[0]
    post(console, f"{start}/service", f"{start}/service", {"service": SERVICE})
    post(console, f"{start}/citizen", f"{start}/citizen", {"national_id": VALID_NID, "name": "Ahmed Ali"})
    image = io.BytesIO()
    Image.new("L", (400, 560), 230).save(image, "JPEG")
    page = console.get(f"{start}/documents").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = console.post(f"{start}/documents", data={"csrf_token": token, "doc_code": "OWNERSHIP", "stay": "1",
                                                  "page": (io.BytesIO(image.getvalue()), "deed.jpg")},
                     content_type="multipart/form-data")
    assert r.status_code in (200, 302)
    page = console.get(f"{start}/documents").get_data(as_text=True)
    assert "/page/" in page
    seen = re.findall(r'name="seen" value="([^"]+)"', page)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    console.post(f"{start}/documents", data={"csrf_token": token, "seen": seen})
    r = post(console, f"{start}/payment", f"{start}/payment", {"method": "cash"})
    number = r.headers["Location"].split("/requests/")[1].split("/")[0]
    detail = console.get(f"/operator/requests/{number}").get_data(as_text=True)
    doc_link = re.search(r'href="(/operator/documents/\d+)"', detail)
    assert doc_link, "the request page links its scanned page"
    assert console.get(doc_link.group(1)).data[:2] == b"\xff\xd8"
    assert db.execute("SELECT count(*) FROM outbox WHERE stream = 'doc'").fetchone()[0] >= 1


def test_a_file_that_is_not_an_image_is_refused_in_words(console):
    start = console.get("/operator/requests/new").headers["Location"].rsplit("/", 1)[0]
    post(console, f"{start}/service", f"{start}/service", {"service": SERVICE})
    post(console, f"{start}/citizen", f"{start}/citizen", {"national_id": VALID_NID, "name": "Ahmed Ali"})
    page = console.get(f"{start}/documents").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = console.post(f"{start}/documents", data={"csrf_token": token, "doc_code": "NID", "stay": "1",
                                                  "page": (io.BytesIO(b"MZ\x90\x00 not an image"), "virus.exe")},
                     content_type="multipart/form-data")
    assert r.status_code in (200, 422)
    assert "page-error" in r.get_data(as_text=True)


def test_requests_are_searched_by_number_or_national_id_without_putting_it_in_the_url(console):
    number = register_request(console)
    r = post(console, "/operator/requests", "/operator/requests", {"q": VALID_NID})
    assert number in text(r) or number.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")) in text(r)
    r = post(console, "/operator/requests", "/operator/requests", {"q": number})
    assert r.status_code == 200
    page = console.get("/operator/requests").get_data(as_text=True)
    assert 'method="post"' in page.lower()
    r = post(console, "/operator/requests", "/operator/requests", {"q": "not a number"})
    assert r.status_code == 422


def test_cancel_needs_a_reason_and_a_supervisor_for_the_refund_and_closes_the_request_as_cancelled(app, console, db):
    # Issue 18, finding 3: cancelled showed as "Rejected", any operator could cancel a paid request, no refund.
    number = register_request(console)
    page = f"/operator/requests/{number}"
    post(console, page, f"{page}/cancel", {"reason": "  "})
    assert store_requests.get(db, number).state.value == "submitted"
    post(console, page, f"{page}/cancel", {"reason": "citizen asked"})
    assert store_requests.get(db, number).state.value == "submitted"
    refused = console.get(page).get_data(as_text=True)  # says why, and keeps the reason typed
    assert "اعتماد المشرف" in refused and 'value="citizen asked"' in refused, text(console.get(page))[:500]
    post(console, page, f"{page}/cancel", {"reason": "citizen asked", "supervisor": str(OPERATOR[0]),
                                           "supervisor_pin": OPERATOR[2]})
    assert store_requests.get(db, number).state.value == "submitted", "an operator is not a supervisor"
    post(console, page, f"{page}/cancel", {"reason": "citizen asked", "supervisor": str(SUPERVISOR[0]),
                                           "supervisor_pin": SUPERVISOR[2]})
    assert store_requests.get(db, number).state.value == "cancelled"
    assert {"request.cancel", "request.refund"} <= set(_actions(db))
    assert store_requests.refund_of(db, number)["confirmed_by"].endswith(str(SUPERVISOR[0]))
    # The citizen at the kiosk reads "cancelled", in their language, with the reason — not "rejected".
    kiosk = app.test_client()
    r = post(kiosk, "/track", "/track", {"number": number})
    shown = text(r)
    assert "أُلغي" in shown and "citizen asked" in shown and "مرفوض" not in shown and "cancelled at the van" not in shown


def test_reprint_is_audited(console, db):
    number = register_request(console)
    post(console, f"/operator/requests/{number}/receipt", f"/operator/requests/{number}/reprint")
    assert "receipt.reprint" in _actions(db)


def test_van_status_panel_lists_every_device_and_the_backlog(console, db):
    from edge.store import device_status

    device_status.report(db, "printer", "printer", "error", message_ar="نفد الورق", message_en="Paper out")
    console.get("/lang/en")
    shown = text(console.get("/operator/status"))
    for word in ("Paper out", "governorate", "camera"):
        assert word.lower() in shown.lower(), (word, shown)


def test_a_device_fault_the_operator_must_fix_is_shown_on_every_console_page(console, db):
    # The kiosk tells a citizen whose ticket did not print that "the staff have been told": the console must tell
    # them, on whatever page they are (a usability review found it only on the status page).
    from edge.store import device_status

    assert 'id="device-faults"' not in console.get("/operator/").get_data(as_text=True)
    device_status.report(db, "printer", "printer", "error", message_ar="نفد الورق", message_en="Paper out")
    device_status.report(db, "gps", "gps", "error", message_ar="لا يوجد موقع", message_en="No GPS fix")
    for path in ("/operator/", "/operator/requests", "/operator/shift", "/operator/status"):
        body = console.get(path).get_data(as_text=True)
        banner = re.search(r'<div class="notice warn device-faults" role="alert" id="device-faults">(.*?)</div>', body,
                           re.S)
        assert banner and "نفد الورق" in banner.group(1), path
        assert "لا يوجد موقع" not in banner.group(1)  # nothing the operator can fix at the counter
    device_status.report(db, "printer", "printer", "ok", message_ar="تعمل", message_en="Working")
    assert 'id="device-faults"' not in console.get("/operator/").get_data(as_text=True)


def test_the_status_page_says_whether_the_van_reaches_the_governorate(console, db):
    from edge.store import sync_state

    console.get("/lang/en")
    row = lambda: text(console.get("/operator/status")).split("Connection to the governorate")[1][:160]  # noqa: E731
    assert "No report yet" in row()
    sync_state.set_link(db, False)
    assert "Not connected" in row() and "nothing is lost" in row()
    sync_state.set_link(db, True)
    assert row().strip().startswith("Connected")


def test_devices_and_operators_are_named_in_words_not_internal_ids(console, db):
    # A usability review: "camera:front" on the status page, "operator:1" beside a request.
    from edge.store import device_status

    device_status.report(db, "camera:front", "camera", "ok", message_ar="تعمل", message_en="Working")
    number = register_request(console)
    arabic = text(console.get("/operator/status"))
    assert "camera:front" not in arabic and "الكاميرا الأمامية" in arabic
    detail = text(console.get(f"/operator/requests/{number}"))
    assert f"operator:{OPERATOR[0]}" not in detail and "الموظف" in detail
    console.get("/lang/en")
    assert "Camera front" in text(console.get("/operator/status"))
    assert f"operator {OPERATOR[0]}" in text(console.get(f"/operator/requests/{number}"))


def test_only_a_supervisor_switches_training_mode(app):
    client = app.test_client()
    login(client, OPERATOR)
    r = post(client, "/operator/", "/operator/training", {"on": "1"})
    assert r.status_code == 403


def test_training_mode_works_but_nothing_reaches_the_real_outbox(app, db):
    client = app.test_client()
    login(client, SUPERVISOR)
    def business_rows():
        return db.execute("SELECT count(*) FROM outbox WHERE stream IN ('tx', 'doc')").fetchone()[0]

    before = business_rows()
    post(client, "/operator/", "/operator/training", {"on": "1"})
    page = client.get("/operator/")
    assert "TRAINING" in text(page) and "تدريب" in text(page)
    number = register_request(client)
    assert "TRAINING" in text(client.get(f"/operator/requests/{number}/receipt"))
    assert business_rows() == before
    with pytest.raises(EdgeError):
        store_requests.get(db, number)  # not in the real database
    training_db = open_db(app.config["EDGE_SETTINGS"].data_dir / "training" / "van.db")
    assert store_requests.get(training_db, number).number == number
    # Turning training off returns to the real database; the switch itself is audited there.
    post(client, "/operator/", "/operator/training", {"on": "0"})
    assert "TRAINING" not in text(client.get("/operator/"))
    assert {"training.on", "training.off"} <= set(_actions(db))


def test_audit_chain_stays_intact_after_a_working_session(console, db):
    register_request(console)
    post(console, "/operator/", "/operator/counter", {"counter": "1"})
    post(console, "/operator/", "/operator/queue/call")
    assert audit_log.verify(db) is None


def test_receipt_kept_when_the_printer_is_out_of_paper_then_printed_on_retry(tmp_path):
    import uuid

    from edge.devices.printer import sim as printer_sim

    name = f"paperless-{uuid.uuid4().hex[:8]}"
    app = make_app(tmp_path, printer=f"sim://{name}?paper=out", PRINT_WAIT_S=2)
    sim = printer_sim.device(name)
    client = app.test_client()
    login(client)
    client.get("/lang/en")
    number = register_request(client)
    shown = text(client.get(f"/operator/requests/{number}/receipt"))
    assert "paper" in shown.lower(), shown  # says what is wrong and what to do
    assert sim.jobs == []
    status = client.get("/operator/status").get_data(as_text=True)
    assert 'id="printer-retry"' in status
    sim.set(paper="ok")
    post(client, "/operator/status", "/operator/printer/retry")
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not sim.jobs:
        time.sleep(0.1)
    assert len(sim.jobs) == 1  # printed once, not lost and not twice
    db = open_db(app.config["EDGE_SETTINGS"].db_path)
    assert "printer.retry" in _actions(db)


def _documents_step(console):
    start = console.get("/operator/requests/new").headers["Location"].rsplit("/", 1)[0]
    post(console, f"{start}/service", f"{start}/service", {"service": SERVICE})
    post(console, f"{start}/citizen", f"{start}/citizen", {"national_id": VALID_NID, "name": "Ahmed Ali"})
    return start


def test_operator_scans_a_document_with_the_vans_scanner(console):
    start = _documents_step(console)
    r = post(console, f"{start}/documents", f"{start}/documents", {"doc_code": "OWNERSHIP", "scan": "1"})
    assert r.status_code == 302
    page = console.get(f"{start}/documents").get_data(as_text=True)
    link = re.search(r'href="([^"]+/page/[^"]+)"', page)
    assert link, "the scanned page is listed"
    assert console.get(link.group(1)).data[:5] == b"%PDF-"


def test_a_jammed_scanner_is_explained_and_nothing_is_attached(tmp_path):
    import uuid

    app = make_app(tmp_path, scanner=f"sim://jam-{uuid.uuid4().hex[:6]}?fault=jammed")
    console = app.test_client()
    login(console)
    console.get("/lang/en")
    start = _documents_step(console)
    r = post(console, f"{start}/documents", f"{start}/documents", {"doc_code": "OWNERSHIP", "scan": "1"})
    shown = text(r)
    assert "jam" in shown.lower(), shown
    assert "/page/" not in console.get(f"{start}/documents").get_data(as_text=True)
    from edge.store import device_status

    db = open_db(app.config["EDGE_SETTINGS"].db_path)
    [row] = [d for d in device_status.current(db) if d.device == "scanner"]
    assert row.state == "error" and "jam" in row.message_en.lower()


def test_a_photo_of_the_paper_is_straightened_into_a_page(console):
    import cv2

    from tests.support.imagegen import document_photo

    photo = document_photo(7, "plain")
    ok, jpeg = cv2.imencode(".jpg", photo.image)
    start = _documents_step(console)
    page = console.get(f"{start}/documents").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = console.post(f"{start}/documents", data={"csrf_token": token, "doc_code": "SURVEY", "stay": "1", "photo": "1",
                                                  "page": (io.BytesIO(jpeg.tobytes()), "phone.jpg")},
                     content_type="multipart/form-data")
    assert r.status_code in (200, 302), text(r)[:300]
    page = console.get(f"{start}/documents").get_data(as_text=True)
    link = re.search(r'href="([^"]+/page/[^"]+)"', page)
    assert link and console.get(link.group(1)).data[:5] == b"%PDF-"


def test_a_session_cookie_copied_before_sign_out_no_longer_opens_the_console(app, db):
    # Issue 16, finding 7: signing out cleared only the browser's cookie; a copy kept working until it expired.
    client = app.test_client()
    login(client)
    copied = client.get_cookie("edge_session").value
    assert client.get("/operator/").status_code == 200
    post(client, "/operator/", "/operator/logout")
    thief = app.test_client()
    thief.set_cookie("edge_session", copied)
    r = thief.get("/operator/")
    assert r.status_code == 302 and "/operator/login" in r.headers["Location"]
    again = app.test_client()  # signing in again works, with a fresh session
    login(again)
    assert again.get("/operator/").status_code == 200


def test_a_new_pin_ends_the_operators_open_sessions(app, db):
    from edge.store import operators

    client = app.test_client()
    login(client)
    operators.set_pin(db, OPERATOR[0], "135790", actor="operator:1")
    r = client.get("/operator/")
    assert r.status_code == 302 and "/operator/login" in r.headers["Location"]


def test_the_receipt_title_reads_as_one_arabic_line_and_one_english_line(console):
    # Issue 18, finding 9: "/ Request receipt" sat inside the English run, so the slash led the English text.
    number = register_request(console)
    page = console.get(f"/operator/requests/{number}/receipt").get_data(as_text=True)
    title = re.search(r'<h1 id="receipt-title">(.*?)</h1>', page, re.S).group(1)
    assert "/" not in re.sub(r"<[^>]+>", "", title)
    assert re.fullmatch(r'إيصال تقديم طلب<br><span lang="en" dir="ltr"[^>]*>Request receipt</span>', title), title


def test_the_status_page_shows_the_last_papers_drawn_from_the_bytes_sent(tmp_path):
    # Issue 18, finding 6: nothing showed what the (simulated) printer printed.
    import uuid

    import numpy as np
    from PIL import Image

    from edge.devices.printer import paper
    from edge.devices.printer import sim as printer_sim

    name = f"papers-{uuid.uuid4().hex[:8]}"
    app = make_app(tmp_path, printer=f"sim://{name}", PRINT_WAIT_S=5)
    device = printer_sim.device(name)
    client = app.test_client()
    login(client)
    assert "Nothing printed yet" in text(client.get("/operator/status")) or "لم يُطبع" in text(
        client.get("/operator/status"))
    number = register_request(client)
    post(client, "/ticket/BLD", "/ticket", {"category": "BLD", "priority": "none"})
    assert len(device.jobs) == 2
    page = client.get("/operator/status").get_data(as_text=True)
    links = re.findall(r'<img src="(/operator/status/printed/[^"]+\.png)"', page)
    assert len(links) == 2 and "ticket" in links[0] and "receipt" in links[1], links  # newest first
    receipt = client.get(links[1])
    assert receipt.status_code == 200 and receipt.mimetype == "image/png"
    shown = np.asarray(Image.open(io.BytesIO(receipt.data)).convert("L")) < 128
    sent = np.asarray(paper.picture(device.jobs[0]).convert("L")) < 128
    assert shown.shape == sent.shape and np.array_equal(shown, sent), "the very bytes the printer received"
    assert shown.sum() > 10_000 and number.encode() in device.jobs[0]  # the QR code carries the number
    # Only pictures it keeps, by their own names; nothing else under the data folder.
    for bad in ("../van.db", "x.png", "20261204T000000000000Z-receipt.png", "%2e%2e%2fvan.db"):
        assert client.get(f"/operator/status/printed/{bad}").status_code == 404
    # Signed out: nothing.
    assert app.test_client().get(links[0]).status_code == 302


def test_only_the_newest_papers_are_kept(tmp_path):
    from datetime import UTC, datetime, timedelta

    from edge.devices.printer.encode import PrinterProfile, encode
    from edge.devices.printer.layout import TestPage, layout
    from edge.services import papers

    profile = PrinterProfile.named()
    data = encode(layout(TestPage(van_id="V001", printed_at="2026-12-04T10:00:00+02:00"), profile.paper), profile)
    start = datetime(2026, 12, 4, 8, tzinfo=UTC)
    for i in range(papers.KEEP + 3):
        papers.keep(tmp_path, "test", data, profile.paper, now=start + timedelta(seconds=i))
    kept = papers.recent(tmp_path)
    assert len(kept) == papers.KEEP and kept[0].at == start + timedelta(seconds=papers.KEEP + 2)
    assert papers.keep(tmp_path, "test", b"\x1b\x99", profile.paper) is None  # not ESC/POS: no picture, no error


def test_the_receipt_preview_writes_its_dates_in_eastern_digits(console):
    # A usability review: "Expected ready 2027-01-18" stayed in Latin digits beside "٢٠٢٦-١٢-٠٦".
    number = register_request(console)
    shown = text(console.get(f"/operator/requests/{number}/receipt"))
    assert not re.search(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", shown.replace(number, "")), shown
    assert re.search(r"[٠-٩]{4}-[٠-٩]{2}-[٠-٩]{2}", shown.replace("\u200e", "").replace("\u2066", "").replace(
        "\u2069", "")), shown

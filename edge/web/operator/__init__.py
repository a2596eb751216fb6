"""The operator's console: login, the queue at a counter, the new-request wizard, requests, van status, training."""

from __future__ import annotations

import time
from datetime import date
from functools import wraps

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)

from edge.core import drafts as draft_rules
from edge.core import national_id as nid_mod
from edge.core import phone
from edge.core import requests as rq
from edge.core.catalogue import UnknownCategory, UnknownService
from edge.core.citizens import clean_name
from edge.core.digits import to_ascii, to_eastern
from edge.core.errors import EdgeError
from edge.core.money import InvalidAmount
from edge.store import audit_log, clock, device_status, documents, drafts, lookups, operators, outbox
from edge.store import requests as store_requests
from edge.store import tickets as store_tickets
from edge.web import i18n, printing, signing
from edge.web.context import catalogue, documents_dir, get_db, settings
from edge.web.security import operator_session_alive

bp = Blueprint("operator", __name__, url_prefix="/operator")

QUEUE_ACTIONS = {"recall": store_tickets.recall, "start": store_tickets.start, "finish": store_tickets.finish,
                 "no-show": store_tickets.no_show}
MAX_COUNTER = 20


def _hasher():
    return current_app.config["PIN_HASHER"] or operators.DEFAULT_HASHER


@bp.before_request
def _session():
    cfg = current_app.config
    g.operator = None
    if operator_session_alive(cfg["OPERATOR_IDLE_S"], cfg["OPERATOR_MAX_S"]):
        g.operator = {"number": session["op"], "name": session.get("op_name", ""),
                      "role": session.get("op_role", "operator"), "actor": f"operator:{session['op']}",
                      "counter": session.get("counter")}
    g.training = bool(g.operator and session.get("training"))


@bp.context_processor
def _operator_globals():
    return {"op": g.get("operator")}


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("operator") is None:
            if request.method == "GET":
                session["after_login"] = request.path
            return redirect(url_for("operator.login"))
        return view(*args, **kwargs)

    return wrapped


def _audit(action: str, subject: str = "", details: dict | None = None, *, real: bool = False) -> None:
    audit_log.record(get_db(real=real), actor=g.operator["actor"], action=action, subject=subject,
                     details=details or {})


# --- login ------------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login():
    db = get_db(real=True)
    error = None
    number = request.form.get("number", "")
    if request.method == "POST":
        try:
            op = operators.authenticate(db, number, request.form.get("pin", ""), hasher=_hasher())
        except EdgeError as exc:
            error = exc
        else:
            after = session.pop("after_login", None)
            lang = session.get("lang")
            session.clear()  # a fresh session (and CSRF token) for the operator: no fixation
            if lang:
                session["lang"] = lang
            now = time.time()
            session.update(op=op.number, op_name=op.name, op_role=op.role, op_since=now, op_seen=now)
            session.permanent = True
            target = after if after and after.startswith("/operator/") and not after.startswith("//") else None
            return redirect(target or url_for("operator.home"))
    return render_template("operator/login.html", error=error, number=number,
                           no_operators=operators.count(db) == 0), (422 if error else 200)


@bp.post("/logout")
def logout():
    if g.get("operator"):
        _audit("operator.logout", g.operator["actor"], real=True)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("operator.login"))


@bp.post("/training")
@login_required
def training():
    if g.operator["role"] != "supervisor":
        abort(403)
    on = request.form.get("on") == "1"
    _audit("training.on" if on else "training.off", g.operator["actor"], real=True)
    session["training"] = on
    session.pop("draft", None)
    return redirect(url_for("operator.home"))


# --- queue ------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def home():
    db = get_db()
    counter = g.operator["counter"]
    current = lookups.at_counter(db, counter) if counter else None
    return render_template("operator/queue.html", counter=counter, current=current,
                           waiting=store_tickets.waiting(db), counts=lookups.waiting_counts(db),
                           max_counter=MAX_COUNTER, notice=session.pop("notice", None),
                           error=session.pop("queue_error", None))


@bp.post("/counter")
@login_required
def set_counter():
    try:
        counter = int(to_ascii(request.form.get("counter", "")))
    except ValueError:
        counter = 0
    if 1 <= counter <= MAX_COUNTER:
        session["counter"] = counter
        _audit("operator.counter", g.operator["actor"], {"counter": counter})
    else:
        session["queue_error"] = {
            "ar": f"اختر رقم شباك من ١ إلى {to_eastern(MAX_COUNTER)}.",
            "en": f"Choose a counter number from 1 to {MAX_COUNTER}.",
        }
    return redirect(url_for("operator.home"))


@bp.post("/queue/<action>")
@login_required
def queue_action(action: str):
    db = get_db()
    counter = g.operator["counter"]
    actor = g.operator["actor"]
    number = request.form.get("ticket", "")
    try:
        if not counter:
            raise EdgeError("اختر رقم الشباك أولًا.", "Choose your counter number first.", code="counter-missing")
        if action == "call":
            called = store_tickets.call_next(db, counter, actor)
            if called is None:
                session["notice"] = {"ar": "لا يوجد أحد في الانتظار.", "en": "Nobody is waiting."}
        elif action == "transfer":
            store_tickets.transfer(db, catalogue(), number, request.form.get("category", ""), actor)
        elif action in QUEUE_ACTIONS:
            QUEUE_ACTIONS[action](db, number, actor)
        else:
            abort(404)
    except (EdgeError, ValueError) as exc:
        if not isinstance(exc, EdgeError):
            exc = EdgeError("تعذّر تنفيذ الإجراء على التذكرة.", "That cannot be done to this ticket.", detail=str(exc))
        session["queue_error"] = {"ar": exc.message_ar, "en": exc.message_en}
    return redirect(url_for("operator.home"))


# --- new request wizard -----------------------------------------------------------------------

STEPS = ("service", "citizen", "documents", "payment")


@bp.get("/requests/new")
@login_required
def new_request():
    draft_id = session.get("draft")
    if draft_id:
        try:
            drafts.get(get_db(), draft_id, g.operator["actor"])
            return redirect(url_for("operator.wizard", draft_id=draft_id, step="service"))
        except EdgeError:
            pass
    drafts.purge(get_db(), documents_dir(), current_app.config["DRAFT_MAX_AGE"])
    draft_id = drafts.create(get_db(), g.operator["actor"])
    session["draft"] = draft_id
    return redirect(url_for("operator.wizard", draft_id=draft_id, step="service"))


@bp.post("/requests/new/discard")
@login_required
def discard_request():
    draft_id = session.pop("draft", None)
    if draft_id:
        drafts.discard(get_db(), documents_dir(), draft_id, g.operator["actor"])
    return redirect(url_for("operator.home"))


@bp.route("/requests/new/<draft_id>/<step>", methods=["GET", "POST"])
@login_required
def wizard(draft_id: str, step: str):
    if step not in STEPS:
        abort(404)
    db = get_db()
    actor = g.operator["actor"]
    data = drafts.get(db, draft_id, actor)
    errors: dict[str, EdgeError] = {}
    if request.method == "POST":
        form = request.form
        if step == "service":
            code = form.get("service", "")
            try:
                catalogue().service(code)
            except UnknownService as exc:
                errors["service"] = exc
            else:
                if code != data.get("service"):
                    data["amount"] = ""
                data["service"] = code
        elif step == "citizen":
            # Saved as typed, valid or not: a correction never means typing everything again.
            for key in ("national_id", "name", "mobile"):
                data[key] = form.get(key, "")[:200]
            errors = draft_rules.citizen_errors(data)
        elif step == "documents":
            if form.get("remove"):
                drafts.remove_page(db, documents_dir(), draft_id, actor, form["remove"])
                return redirect(url_for("operator.wizard", draft_id=draft_id, step="documents"))
            data["seen"] = form.getlist("seen")
            upload = request.files.get("page")
            scan = bool(form.get("scan"))
            if scan or (upload is not None and upload.filename):
                doc_code = form.get("doc_code", "")
                try:
                    drafts.save(db, draft_id, actor, data)
                    content, how = _page_content(upload, scan=scan, photo=bool(form.get("photo")))
                    drafts.add_page(db, documents_dir(), draft_id, actor, doc_code, content)
                    _audit("document.attach_page", draft_id, {"document": doc_code, "from": how})
                except EdgeError as exc:
                    errors["page"] = exc
                data = drafts.get(db, draft_id, actor)
                if errors or form.get("stay"):
                    return _render_step(step, draft_id, data, errors)
                return redirect(url_for("operator.wizard", draft_id=draft_id, step="documents"))
            service = catalogue().service(data["service"])
            missing = draft_rules.missing_documents(data, service)
            if missing:
                errors["documents"] = draft_rules.DocumentsMissing(missing)
        elif step == "payment":
            return _submit(draft_id, data)
        drafts.save(db, draft_id, actor, data)
        if not errors:
            return redirect(url_for("operator.wizard", draft_id=draft_id, step=STEPS[STEPS.index(step) + 1]))
        return _render_step(step, draft_id, data, errors), 422
    if step != "service":
        incomplete = draft_rules.first_incomplete(data, catalogue())
        if incomplete and STEPS.index(incomplete) < STEPS.index(step):
            return redirect(url_for("operator.wizard", draft_id=draft_id, step=incomplete))
    return _render_step(step, draft_id, data, errors)


def _page_content(upload, *, scan: bool, photo: bool) -> tuple[bytes, str]:
    """The bytes to attach: a scan from the van's scanner (one PDF of its pages, JPEGs inside unchanged),
    a photo of the paper straightened into a page, or an uploaded file as it is."""
    from edge.devices import scanner

    if scan:
        try:
            content = scanner.scan_document(settings().devices.scanner).pdf
        except scanner.ScannerError as exc:
            _scanner_status(scanner.ScannerStatus.from_error(exc))
            raise
        _scanner_status(scanner.ScannerStatus(True))
        return content, "scanner"
    data = upload.read()
    if photo:
        return scanner.document_from_photos([data]).pdf, "photo"
    return data, "upload"


def _scanner_status(st) -> None:
    """The scanner's state as the last scan found it, for the van status page and the governorate."""
    device_status.report(get_db(real=True), "scanner", "scanner", "ok" if st.online else "error",
                         message_ar=st.message_ar, message_en=st.message_en,
                         detail={"code": st.code} if not st.online else {})


def _render_step(step: str, draft_id: str, data: dict, errors: dict):
    service = None
    if data.get("service"):
        try:
            service = catalogue().service(data["service"])
        except UnknownService:
            service = None
    parsed = None
    if step in ("citizen", "payment") and data.get("national_id") and "national_id" not in errors:
        try:
            parsed = nid_mod.parse(data["national_id"])
        except EdgeError:
            parsed = None
    return render_template(f"operator/wizard_{step}.html", step=step, steps=STEPS, draft_id=draft_id, data=data,
                           errors=errors, service=service, parsed=parsed)


def _submit(draft_id: str, data: dict):
    db = get_db()
    actor = g.operator["actor"]
    form = request.form
    data.update(method=form.get("method", ""), reference=form.get("reference", "")[:40],
                amount=form.get("amount", "")[:40])
    drafts.save(db, draft_id, actor, data)
    incomplete = draft_rules.first_incomplete(data, catalogue())
    if incomplete:
        return redirect(url_for("operator.wizard", draft_id=draft_id, step=incomplete))
    service = catalogue().service(data["service"])
    errors: dict[str, EdgeError] = {}
    try:
        payment = draft_rules.payment(data, service)
        citizen = draft_rules.citizen(data)
        number = drafts.submit(db, documents_dir(), draft_id, van_id=settings().van.id, catalogue=catalogue(),
                               service_code=service.code, citizen=citizen, payment=payment, operator=actor)
    except (InvalidAmount, rq.InvalidPayment) as exc:
        errors["payment"] = exc
    except EdgeError as exc:
        errors["submit"] = exc
    if errors:
        return _render_step("payment", draft_id, data, errors), 422
    session.pop("draft", None)
    outcome = _print_receipt(str(number))
    session["printed"] = _printed(str(number), outcome)
    return redirect(url_for("operator.receipt", number=str(number)))


def _receipt_data(number: str) -> dict:
    found = store_requests.get(get_db(), number)
    service = catalogue().service(found.service_code)
    qr_text = signing.receipt_code(settings().data_dir, found.number, found.service_code,
                                   found.citizen_national_id, clock.parse(found.created_at))
    return {"r": found, "service": service, "qr_text": qr_text,
            "masked_id": nid_mod.mask(found.citizen_national_id)}


def _print_receipt(number: str, *, reprint: bool = False) -> printing.PrintOutcome:
    d = _receipt_data(number)
    found, service = d["r"], d["service"]
    job = printing.PrintJob("receipt", i18n.current(), {
        "number": found.number, "service_code": service.code, "service_ar": service.name_ar,
        "service_en": service.name_en,
        "citizen_name": found.citizen_name, "national_id_masked": d["masked_id"],
        "fee_piastres": found.fee_piastres, "payment_method": found.payment_method,
        "payment_reference": found.payment_reference, "expected_ready_on": found.expected_ready_on,
        "submitted_at": found.created_at, "operator": found.operator, "van": settings().van.id,
    }, qr=d["qr_text"], training=bool(g.get("training")), reprint=reprint)
    return printing.submit(job)


def _printed(number: str, outcome: printing.PrintOutcome) -> dict:
    """What the receipt page says about the paper, carried across the redirect."""
    return {"number": number, "printed": outcome.printed, "queued": outcome.queued,
            "ar": outcome.message_ar, "en": outcome.message_en}


@bp.post("/printer/retry")
@login_required
def printer_retry():
    """"Print the waiting papers": the operator fixed the printer (paper, cover) and asks to go on now."""
    printing.retry()
    _audit("printer.retry", "printer", real=True)
    session["notice"] = {"ar": "طُلب من الطابعة أن تطبع الأوراق المنتظرة.",
                         "en": "The printer was asked to print the waiting papers."}
    return redirect(url_for("operator.status"))


# --- requests ---------------------------------------------------------------------------------


@bp.route("/requests", methods=["GET", "POST"])
@login_required
def requests_list():
    # Searches are POSTed: a national ID must never appear in a URL, a log line or the browser history.
    form = request.form if request.method == "POST" else {}
    query = {k: form.get(k, "").strip() for k in ("q", "day", "state")}
    error = None
    filters: dict = {}
    if request.method == "GET":
        filters["day"] = clock.local_day(clock.now())
    try:
        q = to_ascii(query["q"])
        digits = "".join(c for c in q if c.isdigit())
        if q and len(digits) == 14 and not q.count("-"):
            # 14 digits: a national ID (starts with 2 or 3) or a request number typed without hyphens.
            if digits[0] in "23":
                filters["national_id"] = nid_mod.parse(q).number
            else:
                filters["number"] = str(rq.parse_request_number(q))
        elif q:
            filters["number"] = str(rq.parse_request_number(q))
        if query["day"]:
            filters["day"] = date.fromisoformat(to_ascii(query["day"]))
        if query["state"]:
            filters["state"] = rq.RequestState(query["state"]).value
    except EdgeError as exc:
        error = exc
    except ValueError:
        error = EdgeError("التاريخ يُكتب هكذا: ٢٠٢٦-١١-٢١.", "Write the date like this: 2026-11-21.", code="bad-date")
    rows = [] if error else lookups.search_requests(get_db(), **filters)
    return render_template("operator/requests.html", rows=rows, query=query, error=error,
                           states=[s for s in rq.RequestState if s is not rq.RequestState.DRAFT],
                           labels=rq.STATE_LABELS, searched=request.method == "POST"), (422 if error else 200)


@bp.get("/requests/<number>")
@login_required
def request_detail(number: str):
    found = store_requests.get(get_db(), number)
    return render_template("operator/request.html", r=found, service=catalogue().service(found.service_code),
                           labels=rq.STATE_LABELS, docs=documents.for_request(get_db(), number),
                           cancellable=rq.cancellable(found.state), masked_id=nid_mod.mask(found.citizen_national_id),
                           error=session.pop("request_error", None), notice=session.pop("notice", None))


@bp.get("/requests/<number>/receipt")
@login_required
def receipt(number: str):
    d = _receipt_data(number)
    printed = session.pop("printed", None)
    from edge.web.qr import svg

    return render_template("operator/receipt.html", **d, labels=rq.STATE_LABELS,
                           qr=svg(d["qr_text"], label=number), printed=printed)


@bp.post("/requests/<number>/reprint")
@login_required
def reprint(number: str):
    outcome = _print_receipt(number, reprint=True)
    _audit("receipt.reprint", number, {"printed": outcome.printed})
    session["printed"] = _printed(number, outcome)
    return redirect(url_for("operator.receipt", number=number))


@bp.post("/requests/<number>/cancel")
@login_required
def cancel(number: str):
    typed = request.form.get("reason", "")
    try:
        store_requests.cancel(get_db(), number, typed, actor=g.operator["actor"])
    except rq.CancelReasonMissing as exc:
        session["request_error"] = {"ar": exc.message_ar, "en": exc.message_en, "keep": typed}
    except rq.NotCancellable as exc:
        session["request_error"] = {"ar": exc.message_ar, "en": exc.message_en}
    else:
        session["notice"] = {"ar": "أُلغي الطلب.", "en": "The request was cancelled."}
    return redirect(url_for("operator.request_detail", number=number))


@bp.post("/requests/<number>/deliver")
@login_required
def deliver(number: str):
    try:
        store_requests.change_state(get_db(), number, rq.RequestState.DELIVERED, source="van",
                                    actor=g.operator["actor"])
        session["notice"] = {"ar": "سُجّل تسليم المستند.", "en": "Hand-over recorded."}
    except EdgeError as exc:
        session["request_error"] = {"ar": exc.message_ar, "en": exc.message_en}
    return redirect(url_for("operator.request_detail", number=number))


@bp.get("/documents/<int:doc_id>")
@login_required
def document_file(doc_id: int):
    doc = documents.get(get_db(), doc_id)
    if doc is None:
        abort(404)
    return send_file(documents_dir() / doc.path, mimetype=doc.content_type, max_age=0)


@bp.get("/requests/new/<draft_id>/page/<name>")
@login_required
def draft_page(draft_id: str, name: str):
    data = drafts.get(get_db(), draft_id, g.operator["actor"])
    entry = next((p for p in data["pages"] if p["file"] == name), None)
    if entry is None:
        abort(404)
    return send_file(drafts.staging_dir(documents_dir(), draft_id) / entry["file"], mimetype=entry["content_type"],
                     max_age=0)


# --- live checks (JSON, for the wizard's fields) ----------------------------------------------


@bp.post("/check/<kind>")
@login_required
def check(kind: str):
    text = (request.get_json(silent=True) or {}).get("text", "")
    try:
        if kind == "national-id":
            parsed = nid_mod.parse(str(text))
            lang = i18n.current()
            return jsonify(ok=True, birth_date=i18n.local_date(parsed.birth_date),
                           gender={"male": ("ذكر", "Male"), "female": ("أنثى", "Female")}[parsed.gender.value][
                               0 if lang == "ar" else 1],
                           governorate=parsed.governorate.name_ar if lang == "ar" else parsed.governorate.name_en,
                           age=i18n.num(parsed.age(date.today())))
        if kind == "mobile":
            return jsonify(ok=True, mobile=i18n.num(phone.parse(str(text))))
        if kind == "name":
            return jsonify(ok=True, name=clean_name(str(text)))
    except EdgeError as exc:
        first, second = i18n.message(exc)
        return jsonify(ok=False, message=first, message_other=second)
    abort(404)


# --- van status -------------------------------------------------------------------------------


@bp.get("/status")
@login_required
def status():
    db = get_db(real=True)
    s = settings()
    rows = {d.device: d for d in device_status.current(db)}
    expected = ["printer", "scanner", "qr", "gps", "modem"] + [f"camera:{n}" for n in s.devices.cameras]
    devices = [(name, rows.pop(name, None)) for name in expected] + sorted(rows.items())
    backlog = outbox.backlog(db)
    age = backlog.oldest_age(clock.now())
    from edge.store import print_jobs

    return render_template("operator/status.html", devices=devices, backlog=backlog,
                           age_minutes=None if age is None else int(age.total_seconds() // 60),
                           waiting_papers=len(print_jobs.pending(db)), notice=session.pop("notice", None))


@bp.errorhandler(UnknownCategory)
def _unknown_category(exc):
    session["queue_error"] = {"ar": exc.message_ar, "en": exc.message_en}
    return redirect(url_for("operator.home"))

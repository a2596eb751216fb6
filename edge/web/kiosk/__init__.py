"""The citizens' touch kiosk: take a ticket, track a request, verify a document. Public, no login."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for

from common.web import local_path
from edge.core import codes, lookup
from edge.core import requests as rq
from edge.core import tickets as tk
from edge.core.catalogue import UnknownCategory
from edge.core.errors import EdgeError
from edge.store import clock
from edge.store import requests as store_requests
from edge.store import tickets as store_tickets
from edge.web import i18n, printing, qr_reader, security, signing
from edge.web.context import catalogue, get_db, settings

bp = Blueprint("kiosk", __name__)

PRIORITIES = [p.value for p in tk.Priority]
# What the last citizen left in the session; cleared on the idle timeout and on "start again".
CITIZEN_KEYS = ("lang", "ticket")


@bp.before_request
def _mark_kiosk():
    # The van's kiosk browser opens "/?kiosk=1" (edge-kiosk unit); from then on this browser's session
    # is fenced off from the console and the API (edge.web.security.kiosk_fence).
    if request.args.get("kiosk") == "1":
        session["kiosk"] = True
        session.permanent = True
        g.mark_kiosk = True


@bp.after_request
def _kiosk_cookie(response):
    # The mark that outlives the session: the fence holds however long the kiosk has idled.
    return security.mark_kiosk(response) if g.get("mark_kiosk") else response


@bp.context_processor
def _kiosk_globals():
    cfg = current_app.config
    return {"idle_warn_s": cfg["KIOSK_IDLE_WARN_S"], "idle_reset_s": cfg["KIOSK_IDLE_RESET_S"],
            "done_reset_s": cfg["KIOSK_DONE_RESET_S"]}


@bp.get("/")
def start():
    return render_template("kiosk/start.html")


@bp.get("/reset")
def reset():
    """Forget everything the last citizen entered or chose (idle timeout, or "start again")."""
    for key in CITIZEN_KEYS:
        session.pop(key, None)
    return redirect(url_for("kiosk.start"))


@bp.get("/lang/<code>")
def set_language(code: str):
    if code in i18n.LANGUAGES:
        session["lang"] = code
    # Only a path of this site: an open redirect would let a link send the kiosk anywhere.
    return redirect(local_path(request.args.get("next", "")) or url_for("kiosk.start"))


# --- take a ticket ----------------------------------------------------------------------------


@bp.get("/ticket")
def ticket_category():
    return render_template("kiosk/ticket_category.html", categories=catalogue().categories)


@bp.get("/ticket/<category>")
def ticket_priority(category: str):
    try:
        cat = catalogue().category(category)
    except UnknownCategory:
        return redirect(url_for("kiosk.ticket_category"))
    return render_template("kiosk/ticket_priority.html", category=cat, priorities=PRIORITIES)


@bp.post("/ticket")
def ticket_issue():
    category = request.form.get("category", "")
    priority = request.form.get("priority", "none")
    try:
        cat = catalogue().category(category)
    except UnknownCategory:
        return redirect(url_for("kiosk.ticket_category"))
    if priority not in PRIORITIES:
        priority = "none"
    issued = store_tickets.issue(get_db(), catalogue(), cat.code, priority)
    ticket = {"number": issued.ticket.number, "category": cat.code, "ahead": issued.people_ahead,
              "wait_min": int(issued.wait.total_seconds() // 60), "priority": issued.ticket.priority.value,
              "issued_at": clock.iso(issued.ticket.issued_at), "prints": 0}
    session["ticket"] = _print_ticket(ticket, cat)
    return redirect(url_for("kiosk.ticket_done"))


# A citizen may ask for their ticket again (the first did not come out, or was lost) this many times; the
# button is not a way to empty the paper roll.
MAX_TICKET_PRINTS = 3


def _print_ticket(ticket: dict, cat) -> dict:
    """Send the ticket to the receipt printer; the ticket (as kept in the kiosk's session) with the outcome."""
    wait = timedelta(minutes=ticket["wait_min"])
    job = printing.PrintJob("ticket", i18n.current(), {
        "number": ticket["number"], "category": cat.code, "category_ar": cat.name_ar, "category_en": cat.name_en,
        "people_ahead": ticket["ahead"], "wait_ar": tk.wait_label(wait, "ar"), "wait_en": tk.wait_label(wait, "en"),
        "priority": ticket["priority"], "issued_at": ticket["issued_at"],
    }, reprint=ticket["prints"] > 0)
    outcome = printing.submit(job)
    return {**ticket, "prints": ticket["prints"] + 1, "printed": outcome.printed,
            "print_msg": {"ar": outcome.message_ar, "en": outcome.message_en}}


@bp.post("/ticket/print")
def ticket_print():
    """The ticket page's Print button: the ticket again, on the receipt printer (not the browser's dialog)."""
    ticket = session.get("ticket")
    if not ticket:
        return redirect(url_for("kiosk.start"))
    if ticket.get("prints", 1) >= MAX_TICKET_PRINTS:
        ticket = {**ticket, "printed": False, "print_msg": {
            "ar": "طُبعت هذه التذكرة أكثر من مرة. رقمك معروض على الشاشة؛ إن احتجت ورقة فاطلبها من الموظف.",
            "en": "This ticket has already been printed more than once. Your number is on the screen; if you "
                  "need a paper, ask the staff."}}
    else:
        try:
            cat = catalogue().category(ticket["category"])
        except UnknownCategory:
            return redirect(url_for("kiosk.start"))
        ticket = _print_ticket({**ticket, "prints": ticket.get("prints", 1)}, cat)
    session["ticket"] = ticket
    return redirect(url_for("kiosk.ticket_done"))


@bp.get("/ticket/done")
def ticket_done():
    ticket = session.get("ticket")
    if not ticket:
        return redirect(url_for("kiosk.start"))
    wait = tk.wait_label(timedelta(minutes=ticket["wait_min"]), i18n.current())
    return render_template("kiosk/ticket_done.html", ticket=ticket, wait=wait,
                           category=catalogue().category(ticket["category"]),
                           can_print=ticket.get("prints", 1) < MAX_TICKET_PRINTS)


# --- track my request -------------------------------------------------------------------------


def request_number_from(text: str) -> str:
    """A typed request number, or the number inside a scanned receipt code (EG1:…): see edge.core.lookup."""
    return lookup.request_number_from(text, signing.load_trust_list(settings().data_dir), clock.now())


@bp.route("/track", methods=["GET", "POST"])
def track():
    typed = request.form.get("number", "") if request.method == "POST" else ""
    error = found = None
    if request.method == "POST":
        try:
            found = store_requests.get(get_db(), request_number_from(typed))
        except EdgeError as exc:
            error = exc
    label = rq.STATE_LABELS[found.state] if found else None
    service = catalogue().service(found.service_code) if found else None
    return render_template("kiosk/track.html", typed=typed, error=error, found=found, label=label,
                           service=service)


# --- codes from the QR reader ---------------------------------------------------------------


@bp.get("/qr/events")
def qr_events():
    """Long poll for the track and verify pages: the next code held under the van's QR reader."""
    return qr_reader.wait_for_codes(request.args.get("after", type=int), request.args.get("epoch"))


# --- verify a document ------------------------------------------------------------------------


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    trust_list = signing.load_trust_list(settings().data_dir)
    typed = request.form.get("code", "").strip() if request.method == "POST" else ""
    result = None
    # A training receipt is said to be one before anything else, in red (issue 18): its code is never signed.
    training = request.method == "POST" and lookup.training_paper(typed)
    if request.method == "POST" and typed and trust_list is not None and not training:
        result = codes.verify(typed, trust_list, now=clock.now())
        if result.claims is not None and lookup.training_paper(result.claims.number):
            training, result = True, None
    service = None
    if result is not None and result.claims is not None:
        try:
            service = catalogue().service(result.claims.service)
        except EdgeError:
            try:
                service = catalogue().category(result.claims.service)
            except EdgeError:
                service = None
    return render_template("kiosk/verify.html", typed=typed, result=result, can_verify=trust_list is not None,
                           service=service, training=lookup.TrainingDocument() if training else None)

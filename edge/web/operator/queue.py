"""The queue at the operator's counter: choose the counter, call the next ticket (priority first), recall,
start, finish, no-show, transfer to another category. Each action is one store call (edge.store.tickets),
audited there; a refusal comes back to the queue page in words, never as an error page."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, session, url_for

from edge.core import tickets as tk
from edge.core.catalogue import UnknownCategory
from edge.core.digits import to_ascii, to_eastern
from edge.core.errors import EdgeError
from edge.store import lookups
from edge.store import tickets as store_tickets
from edge.web.context import catalogue, get_db
from edge.web.operator.blueprint import audit, bp, login_required

QUEUE_ACTIONS = {"recall": store_tickets.recall, "start": store_tickets.start, "finish": store_tickets.finish,
                 "no-show": store_tickets.no_show}
MAX_COUNTER = 20


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


@bp.get("/queue/waiting")
@login_required
def queue_waiting():
    """The waiting list alone: the queue page fetches it every few seconds, so a ticket taken at the kiosk
    appears without the operator reloading."""
    return render_template("operator/queue_waiting.html", waiting=store_tickets.waiting(get_db()))


@bp.post("/counter")
@login_required
def set_counter():
    try:
        counter = int(to_ascii(request.form.get("counter", "")))
    except ValueError:
        counter = 0
    if 1 <= counter <= MAX_COUNTER:
        session["counter"] = counter
        audit("operator.counter", g.operator["actor"], {"counter": counter})
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
            moved = store_tickets.transfer(db, catalogue(), number, request.form.get("category", ""), actor)
            category = catalogue().category(moved.category)
            session["notice"] = {
                "ar": f"التذكرة {tk.number_ar(moved.number)} تنتظر الآن دورها في «{category.name_ar}» بمكانها في "
                      "الدور. يحتفظ المواطن بالرقم نفسه، وستناديه الشاشة عليه.",
                "en": f"Ticket {moved.number} now waits for “{category.name_en}”, keeping its place in the queue. "
                      "The citizen keeps the same number; the screen will call it.",
            }
        elif action in QUEUE_ACTIONS:
            QUEUE_ACTIONS[action](db, number, actor)
        else:
            abort(404)
    except (EdgeError, ValueError) as exc:
        if not isinstance(exc, EdgeError):
            exc = EdgeError("تعذّر تنفيذ الإجراء على التذكرة.", "That cannot be done to this ticket.", detail=str(exc))
        session["queue_error"] = {"ar": exc.message_ar, "en": exc.message_en}
    return redirect(url_for("operator.home"))


@bp.errorhandler(UnknownCategory)
def _unknown_category(exc):
    session["queue_error"] = {"ar": exc.message_ar, "en": exc.message_en}
    return redirect(url_for("operator.home"))

"""Who is at the console and in which world: login (number + PIN, a fresh session), logout, and the
supervisor's switch into and out of training mode (audited in the real database)."""

from __future__ import annotations

import time

from flask import abort, current_app, g, redirect, render_template, request, session, url_for

from edge.core.errors import EdgeError
from edge.store import operators
from edge.web.context import get_db
from edge.web.operator.blueprint import audit, bp, login_required


def _hasher():
    return current_app.config["PIN_HASHER"] or operators.DEFAULT_HASHER


class NotASupervisor(EdgeError):
    code = "operator-not-supervisor"

    def __init__(self):
        super().__init__("هذا الرقم ليس لمشرف. يجب أن يعتمد المبلغ مشرف بكتابة رقمه ورمزه السري.",
                         "This number is not a supervisor's. A supervisor must confirm the amount with their number "
                         "and PIN.")


def supervisor_confirms(number: str, pin: str) -> str:
    """The actor of the supervisor whose number and PIN these are (checked against the real database, with the
    same lock-out as signing in, every attempt audited); LoginRefused, OperatorLocked or NotASupervisor."""
    op = operators.authenticate(get_db(real=True), number, pin, hasher=_hasher())
    if not op.is_supervisor:
        raise NotASupervisor()
    return op.actor


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
            session.update(op=op.number, op_name=op.name, op_role=op.role, op_since=now, op_seen=now,
                           op_epoch=operators.session_epoch(db, op.number))
            session.permanent = True
            target = after if after and after.startswith("/operator/") and not after.startswith("//") else None
            return redirect(target or url_for("operator.home"))
    return render_template("operator/login.html", error=error, number=number,
                           no_operators=operators.count(db) == 0), (422 if error else 200)


@bp.post("/logout")
def logout():
    if g.get("operator"):
        audit("operator.logout", g.operator["actor"], real=True)
        operators.end_sessions(get_db(real=True), g.operator["number"])  # a copied cookie is worthless now
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
    audit("training.on" if on else "training.off", g.operator["actor"], real=True)
    session["training"] = on
    session.pop("draft", None)
    return redirect(url_for("operator.home"))

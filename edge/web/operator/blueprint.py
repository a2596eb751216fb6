"""The console's one blueprint and what every console page shares: who is logged in (and whether in
training), the login guard, and the audit entry of an operator's action.

The route modules (auth, queue, wizard, requests, receipts, documents, checks, status) import ``bp`` from
here, and the package's ``__init__`` imports them; none imports the package itself, so there is no cycle.
"""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, g, redirect, request, session, url_for

from edge.store import audit_log, device_status, operators
from edge.web.context import get_db
from edge.web.security import operator_session_alive

bp = Blueprint("operator", __name__, url_prefix="/operator")


@bp.before_request
def _session():
    cfg = current_app.config
    g.operator = None
    if operator_session_alive(cfg["OPERATOR_IDLE_S"], cfg["OPERATOR_MAX_S"]) and (
            session.get("op_epoch") == operators.session_epoch(get_db(real=True), session["op"])):
        # The epoch is the server's say: signed out, re-PINned or deactivated since, the session is over.
        g.operator = {"number": session["op"], "name": session.get("op_name", ""),
                      "role": session.get("op_role", "operator"), "actor": f"operator:{session['op']}",
                      "counter": session.get("counter")}
    g.training = bool(g.operator and session.get("training"))


# Devices whose fault the operator must act on (paper, a jam, a cable), shown above every console page: the kiosk
# tells a citizen whose ticket did not print that "the staff have been told".
ACTIONABLE = ("printer", "scanner", "qr")


@bp.context_processor
def _operator_globals():
    op = g.get("operator")
    faults = []
    if op is not None:  # the session check above already read this database: it answers
        faults = [d for d in device_status.current(get_db(real=True))
                  if d.state == "error" and d.device.split(":")[0] in ACTIONABLE]
    return {"op": op, "device_faults": faults}


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("operator") is None:
            if request.method == "GET":
                session["after_login"] = request.path
            return redirect(url_for("operator.login"))
        return view(*args, **kwargs)

    return wrapped


def audit(action: str, subject: str = "", details: dict | None = None, *, real: bool = False) -> None:
    """Record the logged-in operator's action in this request's database (``real``: always the van's)."""
    audit_log.record(get_db(real=real), actor=g.operator["actor"], action=action, subject=subject,
                     details=details or {})

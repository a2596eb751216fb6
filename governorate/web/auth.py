"""Staff sign-in and sign-out, and the language switch."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for

from common.web import csrf_token, local_path
from governorate import staff
from governorate.web.security import SESSION_VERSION

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        store = current_app.extensions["hub_store"]
        username = request.form.get("username", "").strip()[:64]
        user, locked_until = staff.sign_in(store, username, request.form.get("password", ""),
                                           current_app.config["GOVERNORATE"])
        if locked_until is not None:
            wait_s = max(1, int((locked_until - datetime.now(UTC)).total_seconds()) + 1)
            response = current_app.make_response(
                (render_template("login.html", error="locked", until=locked_until.isoformat(),
                                 minutes=(wait_s + 59) // 60), 429))
            response.headers["Retry-After"] = str(wait_s)
            return response
        if user:
            lang = session.get("lang")
            session.clear()  # a fresh session (and CSRF token) at every sign-in
            session.permanent = True
            session["user"] = user["username"]
            session[SESSION_VERSION] = user["session_version"]
            if lang:
                session["lang"] = lang
            csrf_token()
            with store.transaction() as conn:
                staff.audit(conn, user["username"], "login", None)
            return redirect(local_path(request.args.get("next", "")) or url_for("monitor.overview"))
        error = True
    return render_template("login.html", error=error), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
def logout():
    # Server-side: every cookie of this staff member's sessions (a copied one too) stops working.
    if g.get("user"):
        staff.sign_out(current_app.extensions["hub_store"], g.user["username"])
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>", methods=["POST"])
def language(code: str):
    session["lang"] = "en" if code == "en" else "ar"
    return redirect(local_path(request.form.get("next", "")) or url_for("monitor.overview"))


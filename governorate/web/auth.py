"""Staff sign-in and sign-out, and the language switch."""

from __future__ import annotations

import threading
import time

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from governorate import staff
from governorate.web.security import csrf_token

bp = Blueprint("auth", __name__)

# Password guessing: after MAX_FAILURES wrong passwords for one username within LOCK_S, that username
# is refused for LOCK_S (kept in memory: one web process per governorate; a restart forgets it).
MAX_FAILURES = 5
LOCK_S = 15 * 60
_failures_lock = threading.Lock()


def _failures() -> dict[str, list[float]]:
    return current_app.extensions.setdefault("login_failures", {})


def _locked(username: str, now: float) -> bool:
    with _failures_lock:
        recent = [t for t in _failures().get(username, []) if now - t < LOCK_S]
        _failures()[username] = recent
        return len(recent) >= MAX_FAILURES


def _failed(username: str, now: float) -> None:
    with _failures_lock:
        _failures().setdefault(username, []).append(now)


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        store = current_app.extensions["hub_store"]
        username, now = request.form.get("username", "").strip()[:64], time.monotonic()
        if _locked(username, now):
            return render_template("login.html", error="locked"), 429
        user = staff.authenticate(store, username, request.form.get("password", ""),
                                  current_app.config["GOVERNORATE"])
        if user is None:
            _failed(username, now)
        if user:
            lang = session.get("lang")
            session.clear()  # a fresh session (and CSRF token) at every sign-in
            session.permanent = True
            session["user"] = user["username"]
            if lang:
                session["lang"] = lang
            csrf_token()
            with store.transaction() as conn:
                staff.audit(conn, user["username"], "login", None)
            return redirect(_local(request.args.get("next", "")))
        error = True
    return render_template("login.html", error=error), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
def logout():
    session.pop("user", None)
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>", methods=["POST"])
def language(code: str):
    session["lang"] = "en" if code == "en" else "ar"
    return redirect(_local(request.form.get("next", "")))


def _local(target: str) -> str:
    """Where to go back to, but only on this site: "//x" and "/\\x" would leave it."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("monitor.overview")


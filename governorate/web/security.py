"""Staff web security: CSRF on every form, security headers, login and role checks, bilingual refusals."""

from __future__ import annotations

import functools
import hmac
import secrets

from flask import Flask, abort, current_app, g, redirect, render_template, request, session, url_for

from governorate import staff

CSRF_FIELD = "csrf_token"
# The staff member's session version when the session began: sign-out and a password reset raise the one in
# the staff table, and a cookie whose version differs (a copied one too) no longer signs anyone in.
SESSION_VERSION = "sv"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Nothing from outside: staff browsers at the governorate load only what this app serves.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "geolocation=(), microphone=(), camera=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def install(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def _load_user_and_check_csrf():
        g.user = None
        username = session.get("user")
        if username:
            user = staff.get(current_app.extensions["hub_store"], username)
            # A staff member moved to another governorate (or disabled) loses access at once; so does a
            # session ended on the server (sign-out, password reset).
            if (user and user["governorate"] == current_app.config["GOVERNORATE"]
                    and session.get(SESSION_VERSION) == user["session_version"]):
                g.user = user
            else:
                session.pop("user", None)
                session.pop(SESSION_VERSION, None)
        if request.method not in SAFE_METHODS:
            sent = request.form.get(CSRF_FIELD) or request.headers.get("X-CSRF-Token", "")
            expected = session.get("csrf", "")
            if not expected or not sent or not hmac.compare_digest(str(sent), str(expected)):
                return render_template("error.html", code=400,
                                       ar="انتهت صلاحية الصفحة أو الطلب غير موثوق. أعد تحميل الصفحة وحاول مرة أخرى.",
                                       en="This page expired or the request is not trusted. "
                                          "Reload the page and try again."), 400
        return None

    @app.after_request
    def _headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.errorhandler(403)
    def _forbidden(_e):
        return render_template("error.html", code=403, ar="ليست لديك صلاحية لهذا الإجراء.",
                               en="You are not allowed to do this."), 403

    @app.errorhandler(404)
    def _missing(_e):
        return render_template("error.html", code=404, ar="الصفحة أو العنصر غير موجود.",
                               en="This page or item does not exist."), 404

    @app.errorhandler(413)
    def _too_large(_e):
        return render_template("error.html", code=413, ar="الملف كبير جدًا.", en="The file is too large."), 413


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            return redirect(url_for("auth.login", next=request.path))
        return view(*args, **kwargs)
    return wrapped


def allowed(action: str):
    """Only staff whose role may ``action``; a viewer may look at everything and change nothing."""
    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not staff.may(g.user["role"], action):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator

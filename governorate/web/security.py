"""Staff web security: login and role checks, bilingual refusals; CSRF and headers from ``common.web``."""

from __future__ import annotations

import functools

from flask import Flask, abort, current_app, g, redirect, render_template, request, session, url_for

from common import web
from governorate import staff

# The staff member's session version when the session began: sign-out and a password reset raise the one in
# the staff table, and a cookie whose version differs (a copied one too) no longer signs anyone in.
SESSION_VERSION = "sv"


def install(app: Flask) -> None:
    @app.before_request
    def _load_user():
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

    web.protect(app)  # after _load_user: the refusal page knows who is signed in (common/web.py)

    @app.after_request
    def _no_store(response):
        # Every staff page holds personal data or decisions: never kept in the browser's cache.
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(web.CsrfRefused)
    def _csrf_refused(_e):
        return render_template("error.html", code=400,
                               ar="انتهت صلاحية الصفحة أو الطلب غير موثوق. أعد تحميل الصفحة وحاول مرة أخرى.",
                               en="This page expired or the request is not trusted. "
                                  "Reload the page and try again."), 400

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

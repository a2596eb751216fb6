"""The van's own web security: the kiosk fence, operator session expiry, no-store for personal pages.

What the van shares with the hub (CSRF, security headers, the session secret, safe redirects) is in
``common.web``; ``init_app`` wires both in.
"""

from __future__ import annotations

import time

from flask import Flask, abort, g, request, session

from common import web


def no_store(response):
    if request.blueprint in ("operator", "api") or g.get("no_store"):
        # Pages with personal data: never kept in the browser's cache for the next person.
        response.headers["Cache-Control"] = "no-store"
    return response


# The kiosk's own mark: a cookie of its own that outlives the session (which expires after a long idle
# and is cleared between citizens), so the fence does not fall when the kiosk has idled (issue 16).
KIOSK_COOKIE = "edge_kiosk"
KIOSK_COOKIE_MAX_AGE = 10 * 365 * 24 * 3600


def is_kiosk() -> bool:
    return request.cookies.get(KIOSK_COOKIE) == "1" or bool(session.get("kiosk"))


def mark_kiosk(response):
    """Give this browser the kiosk's mark (the kiosk unit opens ``/?kiosk=1``)."""
    response.set_cookie(KIOSK_COOKIE, "1", max_age=KIOSK_COOKIE_MAX_AGE, httponly=True, samesite="Strict")
    return response


def kiosk_fence() -> None:
    """A browser marked as the public kiosk never reaches the console or the API."""
    if is_kiosk() and request.blueprint in ("operator", "api"):
        abort(403)


def operator_session_alive(idle_s: int, max_s: int) -> bool:
    """False (and the operator part of the session cleared) once the console sat idle or ran too long."""
    if "op" not in session:
        return False
    now = time.time()
    if now - session.get("op_seen", 0) > idle_s or now - session.get("op_since", 0) > max_s:
        for key in [k for k in session if k.startswith("op") or k in ("training", "counter", "draft")]:
            session.pop(key, None)
        return False
    session["op_seen"] = now
    return True


def init_app(app: Flask) -> None:
    app.config.update(web.COOKIE, SESSION_COOKIE_NAME="edge_session")
    web.protect(app)  # CSRF, headers, the token in templates (common/web.py, shared with the hub)
    app.before_request(kiosk_fence)
    app.after_request(no_store)

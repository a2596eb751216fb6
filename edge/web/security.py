"""Web security in one place: the session secret, CSRF tokens, security headers, session expiry, the kiosk fence."""

from __future__ import annotations

import hmac
import os
import secrets
import time
from pathlib import Path

from flask import Flask, abort, g, request, session

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

# No external source of any kind: the van is offline, and a kiosk must never load a stranger's script.
# No inline script or style either, so an injected <script> or style attribute does nothing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; media-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "geolocation=(), microphone=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def secret_key(data_dir: Path) -> bytes:
    """The key that signs session cookies: made once per van, kept in the data folder (owner-only)."""
    path = Path(data_dir) / "web-secret.key"
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    try:
        os.link(tmp, path)  # first writer wins when two processes start together
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_bytes()


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


class CsrfRefused(Exception):
    """A state-changing request without the token of this session (a forged form, or a stale page)."""


def check_csrf() -> None:
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    expected = session.get("csrf", "")
    if not expected or not sent or not hmac.compare_digest(str(sent), str(expected)):
        raise CsrfRefused()


def add_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.blueprint in ("operator", "api") or g.get("no_store"):
        # Pages with personal data: never kept in the browser's cache for the next person.
        response.headers["Cache-Control"] = "no-store"
    return response


def kiosk_fence() -> None:
    """A browser marked as the public kiosk never reaches the console or the API."""
    if session.get("kiosk") and request.blueprint in ("operator", "api"):
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
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="edge_session",
    )
    app.before_request(check_csrf)
    app.before_request(kiosk_fence)
    app.after_request(add_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token

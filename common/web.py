"""Web security both Flask apps use, van and hub: CSRF, security headers, the session secret, safe redirects.

Written once because the two copies drifted: the hub's secret writer lost the van's first-writer-wins,
and the van's redirect check let ``/\\host`` through, which browsers read as another site. Each app
keeps only what is its own (the van's kiosk fence and operator expiry, the hub's sign-in and roles) and
wires these in with ``protect``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hmac
import os
import secrets
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, request, session
from jinja2 import pass_context

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SECRET_FILE = "web-secret.key"
SECRET_BYTES = 32

# Nothing from outside: a kiosk must never load a stranger's script, and staff browsers load only what the
# hub serves. No inline script or style either, so an injected <script> or style attribute does nothing.
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
    # Neither app's pages use the browser's camera (the van's cameras are read by the server).
    "Permissions-Policy": "geolocation=(), microphone=(), camera=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# The session cookie: never readable by a script, never sent with a request another site started.
COOKIE = {"SESSION_COOKIE_HTTPONLY": True, "SESSION_COOKIE_SAMESITE": "Strict"}


class CsrfRefused(Exception):
    """A state-changing request without the token of this session (a forged form, or a stale page)."""


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse a state-changing request unless every token it sends (header, form field) is this session's."""
    if request.method in SAFE_METHODS:
        return
    sent = [t for t in (request.headers.get(CSRF_HEADER), request.form.get(CSRF_FIELD)) if t]
    expected = session.get("csrf", "")
    if not expected or not sent or not all(hmac.compare_digest(str(t), str(expected)) for t in sent):
        raise CsrfRefused()


def add_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def protect(app: Flask) -> None:
    """CSRF on every state-changing request, the security headers on every response, the token in templates.

    Call it after registering any ``before_request`` that must run before the CSRF check (the hub loads the
    signed-in staff member first, so its refusal page knows who is looking)."""
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.before_request(check_csrf)
    app.after_request(add_headers)


def local_path(target: str) -> str | None:
    r"""``target`` if it is a path of this site, else None: the only safe place to redirect to after a form.

    "//x" and "/\x" leave the site, and browsers drop tabs and newlines anywhere in a URL ("/\t/x" is "//x"
    to them): so no control, format or separator character at all (Unicode categories C* and Z*)."""
    try:
        parts = urlsplit(target)
    except ValueError:  # "/x//[" and the like: not a URL urllib can read, so not one to send anyone to
        return None
    if (target.startswith("/") and not target.startswith(("//", "/\\")) and not parts.scheme
            and not parts.netloc and not any(unicodedata.category(c)[0] in "CZ" for c in target)):
        return target
    return None


def session_secret(folder: Path) -> bytes:
    """The key that signs session cookies: made once, kept in ``folder`` (owner-only), the same for every process.

    Several processes may start at once (waitress workers, ``edge run``, a hub web and its command): the
    first to write wins and every other one reads that key, so no process signs cookies the others refuse.
    A key file too short to be a key is replaced, under the same lock."""
    path = Path(folder) / SECRET_FILE
    key = _read(path)
    if key is not None and len(key) >= SECRET_BYTES:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.parent):
        key = _read(path)
        if key is not None and len(key) >= SECRET_BYTES:
            return key  # another process wrote it while this one waited
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(SECRET_BYTES))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # readers see no key or the whole key, never half of one
    return path.read_bytes()


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


@contextlib.contextmanager
def _locked(folder: Path):
    """An exclusive lock on ``folder`` itself (flock on the directory): no lock file is left behind."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def per_request(f):
    """``f`` as a template filter Jinja never works out when it compiles a template, for a filter that reads the
    request's language. Jinja turns a filter over a literal into a constant at compile time
    ({{ "007-261121-0001-5"|num }}), which then kept the digits of whoever opened the page first after a start, for
    everyone after; a filter that takes the context is not turned into one. Both apps register theirs through it."""
    @pass_context
    def in_context(_context, *args, **kwargs):
        return f(*args, **kwargs)

    in_context.__name__ = in_context.__qualname__ = f.__name__
    in_context.__doc__ = f.__doc__
    return in_context

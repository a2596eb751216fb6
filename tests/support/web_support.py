"""Helpers for the web tests: an app on a fresh van database with two operators, forms with their CSRF token."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from pathlib import Path

from argon2 import PasswordHasher

from edge.config import Settings
from edge.store import operators
from edge.store.db import open_db
from edge.store.migrations import migrate
from edge.web.app import create_app

# Cheap hashing for tests only: the real default (edge.store.operators.DEFAULT_HASHER) is deliberately slow.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
SUPERVISOR = (1, "Mona Adel", "246810")
OPERATOR = (2, "Karim Samy", "135790")
VALID_NID = "29001011234567"  # born 1990-01-01, governorate 01 (Cairo), male
SERVICE = "BLD-NEW"


def make_app(data_dir: Path, printer: str = "sim://", qr: str | None = None, scanner: str = "sim://",
             storage=None, **overrides):
    """An app on a fresh van database; its QR reader is a simulated one of its own (``qr_reader_of``)."""
    import uuid

    from edge.config import DeviceSettings

    qr = qr or f"sim://web-{uuid.uuid4().hex[:10]}"
    settings = Settings(data_dir=Path(data_dir), devices=DeviceSettings(printer=printer, qr=qr, scanner=scanner))
    if storage is not None:
        settings = replace(settings, storage=storage)
    app = create_app(settings, PIN_HASHER=FAST_HASHER, **overrides)
    db = open_db(settings.db_path)
    migrate(db)
    if operators.count(db) == 0:
        operators.add(db, SUPERVISOR[0], SUPERVISOR[1], SUPERVISOR[2], role="supervisor", hasher=FAST_HASHER)
        operators.add(db, OPERATOR[0], OPERATOR[1], OPERATOR[2], role="operator", hasher=FAST_HASHER)
    db.close()
    return app


def token(page_html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page_html)
    assert found, "page has no CSRF field"
    return found.group(1)


def post(client, page_url: str, url: str, data: dict | None = None, **kw):
    """POST ``data`` to ``url`` the way a browser would after showing ``page_url`` (its CSRF token)."""
    page = client.get(page_url)
    body = page.get_data(as_text=True)
    assert 'name="csrf_token"' in body, f"{page_url} answered {page.status_code}: {text(page)[:400]}"
    form = {"csrf_token": token(body), **(data or {})}
    return client.post(url, data=form, **kw)


def login(client, who=OPERATOR):
    response = post(client, "/operator/login", "/operator/login", {"number": str(who[0]), "pin": who[2]})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


# Invisible bidi controls (isolates, marks): they order what is drawn, they are not what a person reads.
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u2066\u2067\u2068\u2069\u200e\u200f\u061c"))


def text(response) -> str:
    """The visible text of a page, tags and bidi controls dropped and spaces folded."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).translate(BIDI_CONTROLS).split())


def open_shift(client, float_egp: str = "0") -> None:
    """Open the signed-in operator's shift (issue 19: no fee is taken without one), unless one is open."""
    page = client.get("/operator/shift").get_data(as_text=True)
    if 'id="shift-open"' in page:
        r = client.post("/operator/shift/open", data={"csrf_token": token(page), "float": float_egp})
        assert r.status_code == 302


def to_payment(client, *, service=SERVICE, nid=VALID_NID, name="Ahmed Ali Hassan", mobile="01012345678") -> str:
    """Walk the operator's wizard up to its payment step (every original ticked as seen); returns the wizard's
    address, ``…/requests/new/<draft>``, whose ``/payment`` the caller posts."""
    start = client.get("/operator/requests/new")
    wizard = start.headers["Location"].rsplit("/", 1)[0]
    post(client, f"{wizard}/service", f"{wizard}/service", {"service": service})
    r = post(client, f"{wizard}/citizen", f"{wizard}/citizen", {"national_id": nid, "name": name, "mobile": mobile})
    assert r.status_code == 302, text(r)[:500]
    page = client.get(f"{wizard}/documents").get_data(as_text=True)
    seen = re.findall(r'name="seen" value="([^"]+)"', page)
    r = client.post(f"{wizard}/documents", data={"csrf_token": token(page), "seen": seen})
    assert r.status_code == 302, text(r)[:500]
    return wizard


def register_request(client, *, service=SERVICE, nid=VALID_NID, name="Ahmed Ali Hassan", mobile="01012345678",
                     method="cash", reference="", catalogue=None) -> str:
    """Walk the operator's wizard to the end (opening the operator's shift first if needed); returns the new
    request number."""
    open_shift(client)
    wizard = to_payment(client, service=service, nid=nid, name=name, mobile=mobile)
    r = post(client, f"{wizard}/payment", f"{wizard}/payment", {"method": method, "reference": reference})
    assert r.status_code == 302, text(r)[:800]
    return r.headers["Location"].split("/requests/")[1].split("/")[0]


def qr_reader_of(app):
    """The simulated QR reader an app made with ``make_app`` reads from (``.feed(code)`` scans one)."""
    from edge.devices.qr import sim
    from edge.devices.urls import parse

    return sim.device(parse("qr", app.config["EDGE_SETTINGS"].devices.qr).name)

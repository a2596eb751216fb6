"""The governorate's web app for staff: fleet monitoring, alerts and the back office (create_app factory)."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, g, session
from markupsafe import Markup, escape

from common import web
from edge.core.digits import eastern_run, to_eastern
from edge.core.localtime import VAN_TZ
from governorate import fleet, quarantine, staff
from governorate.backoffice import STATE_LABELS
from governorate.ingest import Hub
from governorate.store import HubStore
from governorate.web import auth, health, monitor, office, performance, refused, security, software, telemetry

DEFAULTS = {
    "DB_PATH": "var/hub/hub.db",
    "STORE": None,                # an open HubStore of DB_PATH (the command opens it first to report a bad --db)
    "GOVERNORATE": "01",
    "BROKER_URL": None,           # where downlinks are published; None: stored only, sent by the hub on birth
    "SENDER": None,               # an object with send(van, message) -> msg_id (tests, or a shared Hub)
    "NOTIFIER": None,             # the citizen notification sender, read by `governorate notify` (governorate/sms.py)
    "DLR_SECRET": None,           # signs the SMS gateway's delivery-report links (/notify/dlr); None: reports refused
    "REFRESH_S": 3,               # how often the overview refreshes itself
    "PUBLIC_URL": None,           # https:// address of the TLS proxy in front (web.public_url); None: served directly
    "OFFLINE_ALERT_MIN": 10.0,
    "SILENT_AFTER_S": 180.0,
    "BACKLOG_ALERT_H": 2.0,
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    **web.COOKIE,
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
}


def server_options(config: dict, host: str) -> dict:
    """waitress's settings for the app listening on ``host``. Behind the TLS proxy (``PUBLIC_URL``) the client's
    address and scheme are what the proxy says in X-Forwarded-For and -Proto — believed from the proxy's address only
    (waitress removes them from any other client). The proxy sets them itself, never passing on a client's
    (provisioning/web_proxy.py)."""
    if not config.get("PUBLIC_URL"):
        return {}
    return {"trusted_proxy": "::1" if host == "::1" else "127.0.0.1", "trusted_proxy_count": 1,
            "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"}, "clear_untrusted_proxy_headers": True}


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(DEFAULTS)
    app.config.update(config or {})
    if app.config["PUBLIC_URL"]:  # served over HTTPS only: the session cookie never travels in the clear
        app.config.update(SESSION_COOKIE_SECURE=True, PREFERRED_URL_SCHEME="https")
    if not app.config.get("SECRET_KEY"):
        db = str(app.config["DB_PATH"])
        folder = Path("var/hub") if db.startswith(("postgresql://", "postgres://")) else Path(db).parent
        app.config["SECRET_KEY"] = web.session_secret(folder)
    store = app.config["STORE"] or HubStore(app.config["DB_PATH"])
    app.extensions["hub_store"] = store
    app.extensions["downlinker"] = app.config["SENDER"] or _sender(store, app.config)
    app.extensions["thresholds"] = fleet.Thresholds(
        float(app.config["OFFLINE_ALERT_MIN"]), float(app.config["SILENT_AFTER_S"]),
        float(app.config["BACKLOG_ALERT_H"]))

    security.install(app)
    app.jinja_env.filters["local"] = web.per_request(_local_shown)
    app.jinja_env.filters["eastern"] = to_eastern  # inside the Arabic half of t(ar, en), whatever the language
    # … and a time inside each half of t(ar, en): Eastern digits in written order in the Arabic one, as stored in the
    # English one, whichever language the page is in.
    app.jinja_env.filters["local_ar"] = lambda value: eastern_run(local_time(value))
    app.jinja_env.filters["local_en"] = local_time
    app.register_blueprint(auth.bp)
    app.register_blueprint(monitor.bp)
    app.register_blueprint(office.bp)
    app.register_blueprint(refused.bp)
    app.register_blueprint(performance.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(software.bp)

    @app.context_processor
    def _helpers():
        return {"t": t, "lang": lambda: session.get("lang", "ar"), "user": g.get("user"),
                "may": lambda action: staff.may((g.get("user") or {}).get("role"), action),
                "state_label": state_label, "gov": app.config["GOVERNORATE"],
                "reason_label": quarantine.reason_label, "t_text": t_text, "device_label": device_label}

    return app


def t(ar: str, en: str) -> Markup:
    """Both languages: the chosen one first, the other smaller (staff share screens and reports)."""
    english = session.get("lang") == "en"
    first, second, first_lang, second_lang = (en, ar, "en", "ar") if english else (ar, en, "ar", "en")
    return Markup(f'<span lang="{first_lang}">{escape(first)}</span> '
                  f'<span class="other-lang" lang="{second_lang}">{escape(second)}</span>')


def device_label(name: str) -> str:
    """A device's name in the reader's language; a camera the table does not know by its own name after the word."""
    ar, en = telemetry.device_names(name)
    return en if session.get("lang") == "en" else ar


def t_text(ar: str, en: str) -> str:
    """Both languages as plain text, the chosen one first: for attributes (alt, title, aria-label), where
    :func:`t`'s markup would be shown as text."""
    return f"{en} — {ar}" if session.get("lang") == "en" else f"{ar} — {en}"


def state_label(state: str) -> Markup:
    ar, en = STATE_LABELS.get(state, (state, state))
    return t(ar, en)


def local_time(value: str | None) -> str:
    """A stored UTC time as staff read it: Cairo time, to the minute."""
    if not value or value == "—":
        return "—"
    try:
        return datetime.fromisoformat(value).astimezone(VAN_TZ).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return value


def _local_shown(value: str | None) -> str:
    """``local_time`` as the reader reads it: Eastern digits in their written order on Arabic screens."""
    shown = local_time(value)
    return eastern_run(shown) if session.get("lang", "ar") != "en" else shown


def _sender(store: HubStore, config: dict):
    """A Hub that only sends (it takes no share of the uplink); it stores each downlink before publishing it."""
    url = urlsplit(config["BROKER_URL"] or "mqtt://127.0.0.1:1883")
    hub = Hub(store, config["GOVERNORATE"], url.hostname or "127.0.0.1",
              url.port or (8883 if url.scheme == "mqtts" else 1883),
              worker=f"web-{secrets.token_hex(3)}", listen=False, tls=config.get("BROKER_TLS"))
    if config["BROKER_URL"]:
        hub.client.connect_async(hub.host, hub.port, keepalive=30)
        hub.client.loop_start()
    return hub

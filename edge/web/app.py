"""The Flask application factory for the van's local web UI: kiosk, operator console, now-serving display, API.

Only the factory lives here: what blueprints need at request time is in ``edge.web.context``, the error
pages in ``edge.web.errors``. Nothing imports this module but the runner, the CLI and the tests.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from common import web
from edge.config import Settings
from edge.store.db import open_db
from edge.store.migrations import migrate
from edge.web import context, errors, i18n, printing, qr_reader, security
from edge.web.api import bp as api_bp
from edge.web.display import bp as display_bp
from edge.web.kiosk import bp as kiosk_bp
from edge.web.operator import bp as operator_bp

# Behaviour that is not a van setting; tests and the demo may override any of these in create_app().
DEFAULTS = {
    "KIOSK_IDLE_WARN_S": 60,  # no touch for this long: "are you still there?"
    "KIOSK_IDLE_RESET_S": 20,  # then this long to answer before everything is cleared
    "KIOSK_DONE_RESET_S": 30,  # a finished ticket or answer goes back to the start by itself
    "OPERATOR_IDLE_S": 15 * 60,  # console idle this long: log in again
    "OPERATOR_MAX_S": 12 * 60 * 60,  # and in any case after a long shift
    "DISPLAY_STREAM_S": 25,  # one server-sent-events connection lasts this long, then the browser reconnects
    "DISPLAY_POLL_S": 0.5,
    "DRAFT_MAX_AGE": timedelta(days=2),
    "PIN_HASHER": None,  # an argon2 PasswordHasher; None: edge.store.operators.DEFAULT_HASHER
    "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,  # one scanned page (10 MB) and the form around it
}


def create_app(settings: Settings, **overrides) -> Flask:
    app = Flask(__name__)
    app.config.update(DEFAULTS)
    app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = web.session_secret(settings.data_dir)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=app.config["OPERATOR_MAX_S"])
    context.init_app(app, settings)  # settings, catalogue (refused here when broken), per-request databases
    with open_db(settings.db_path) as db:
        migrate(db)

    i18n.init_app(app)
    security.init_app(app)
    printing.init_app(app)  # the printer and its queue worker (docs/printer.md)
    qr_reader.init_app(app)  # the QR reader; codes go to the kiosk page waiting for one (docs/qr.md)
    errors.init_app(app)
    for bp in (kiosk_bp, operator_bp, display_bp, api_bp):
        app.register_blueprint(bp)
    return app

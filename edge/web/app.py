"""The Flask application factory for the van's local web UI: kiosk, operator console, now-serving display, API."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path

from flask import Flask, g, render_template, request, session
from werkzeug.exceptions import HTTPException

from common import web
from edge.config import Settings, load_catalogue
from edge.core.errors import EdgeError
from edge.store.db import open_db
from edge.store.migrations import migrate
from edge.web import i18n, printing, qr_reader, security

log = logging.getLogger(__name__)

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
    app.config["EDGE_SETTINGS"] = settings
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = web.session_secret(settings.data_dir)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=app.config["OPERATOR_MAX_S"])
    # Refuse to start on a broken catalogue rather than fail later in front of a citizen.
    app.extensions["edge_catalogue"] = load_catalogue(settings)
    app.extensions["edge_training_ready"] = threading.Lock()
    with open_db(settings.db_path) as db:
        migrate(db)

    i18n.init_app(app)
    security.init_app(app)
    printing.init_app(app)  # the printer and its queue worker (docs/printer.md)
    qr_reader.init_app(app)  # the QR reader; codes go to the kiosk page waiting for one (docs/qr.md)
    _error_pages(app)

    @app.teardown_appcontext
    def _close_db(_exc):
        for name in ("db", "training_db"):
            db = g.pop(name, None)
            if db is not None:
                db.close()

    @app.context_processor
    def _globals():
        return {"settings": settings, "training": bool(g.get("training")), "catalogue": catalogue()}

    from edge.web.api import bp as api_bp
    from edge.web.display import bp as display_bp
    from edge.web.kiosk import bp as kiosk_bp
    from edge.web.operator import bp as operator_bp

    for bp in (kiosk_bp, operator_bp, display_bp, api_bp):
        app.register_blueprint(bp)
    return app


def settings() -> Settings:
    from flask import current_app

    return current_app.config["EDGE_SETTINGS"]


def catalogue():
    from flask import current_app

    return current_app.extensions["edge_catalogue"]


def training_dir(data_dir: Path) -> Path:
    """Training mode's own world: database and scanned pages apart from the real ones, never synced."""
    return Path(data_dir) / "training"


def get_db(*, real: bool = False):
    """This request's connection: the van database, or the training one while the console is in training.

    ``real=True`` always gives the van database (operator accounts and logins live there).
    """
    from flask import current_app

    if g.get("training") and not real:
        if "training_db" not in g:
            path = training_dir(settings().data_dir) / "van.db"
            g.training_db = open_db(path)
            with current_app.extensions["edge_training_ready"]:
                migrate(g.training_db)
        return g.training_db
    if "db" not in g:
        g.db = open_db(settings().db_path)
    return g.db


def documents_dir() -> Path:
    if g.get("training"):
        return training_dir(settings().data_dir) / "documents"
    return settings().documents_dir


# What a JSON error says in "error": a stable code a program can key on (the message is for people).
JSON_ERRORS = {400: "bad-request", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
               413: "too-large", 422: "refused", 500: "internal-error"}


def wants_json() -> bool:
    """Anything under /api/ (a path that matches no route included) and a caller that asked for JSON."""
    return (request.blueprint == "api" or request.path == "/api" or request.path.startswith("/api/")
            or request.accept_mimetypes.best == "application/json")


def _error_pages(app: Flask) -> None:
    def page(status: int, title_ar: str, title_en: str, text_ar: str, text_en: str, code: str | None = None):
        g.no_store = True
        home = "operator.home" if request.blueprint == "operator" and "op" in session else "kiosk.start"
        if wants_json():
            code = code or JSON_ERRORS.get(status, "error")
            return {"error": code, "message": text_en, "message_ar": text_ar}, status
        return render_template("errors/error.html", status=status, title_ar=title_ar, title_en=title_en,
                               text_ar=text_ar, text_en=text_en, home=home), status

    @app.errorhandler(web.CsrfRefused)
    def _csrf(_exc):
        return page(400, "انتهت صلاحية الصفحة", "This page has expired",
                    "ظلت هذه الصفحة مفتوحة مدة طويلة أو فُتحت من مكان آخر، فلم نُرسل شيئًا. ارجع وأعد المحاولة.",
                    "This page was open for too long or came from elsewhere, so nothing was sent. "
                    "Go back and try again.", "csrf-refused")

    @app.errorhandler(EdgeError)
    def _edge(exc: EdgeError):
        log.info("user-facing error %s: %s", exc.code, exc.detail)
        return page(422, "تعذّر إتمام الطلب", "This could not be done", exc.message_ar, exc.message_en, exc.code)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        texts = {
            403: ("غير مسموح", "Not allowed", "هذه الصفحة ليست متاحة من هنا. ارجع إلى البداية.",
                  "This page is not available from here. Go back to the start."),
            404: ("الصفحة غير موجودة", "Page not found", "لم نجد هذه الصفحة. ارجع إلى البداية.",
                  "We could not find this page. Go back to the start."),
            405: ("تعذّر إتمام الطلب", "This could not be done", "هذا العنوان لا يقبل هذا النوع من الطلبات.",
                  "This address does not take this kind of request."),
            413: ("الملف كبير جدًا", "The file is too large",
                  "الملف أكبر من المسموح (١٠ ميجابايت). امسح الصفحة بدقة أقل ثم أعد المحاولة.",
                  "The file is larger than allowed (10 MB). Scan the page at a lower resolution and try again."),
        }
        title_ar, title_en, text_ar, text_en = texts.get(
            exc.code, ("تعذّر إتمام الطلب", "This could not be done",
                       "حدث خطأ في الطلب. ارجع وأعد المحاولة.", "Something was wrong with the request. "
                       "Go back and try again."))
        answer = page(exc.code or 400, title_ar, title_en, text_ar, text_en)
        allowed = getattr(exc, "valid_methods", None)  # a 405 says which methods the address takes
        return (*answer, {"Allow": ", ".join(allowed)}) if allowed else answer

    @app.errorhandler(Exception)
    def _crash(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return page(500, "عذرًا، حدث خطأ", "Sorry, something went wrong",
                    "حدث خطأ غير متوقع ولم يُحفظ هذا الإجراء. ارجع وأعد المحاولة؛ وإذا تكرر فأبلغ الموظف.",
                    "An unexpected error happened and this action was not saved. Go back and try again; "
                    "if it happens again, tell the staff.")

"""Error pages of the van's web UI: what a person reads (Arabic and English, what to do next, never a
traceback) and what a program reads (JSON with a stable code) when something goes wrong."""

from __future__ import annotations

import logging

from flask import Flask, g, render_template, request, session
from werkzeug.exceptions import HTTPException

from common import web
from edge.core.errors import EdgeError
from edge.store import disk
from edge.store.db import StoreUnavailable

log = logging.getLogger(__name__)

# What a JSON error says in "error": a stable code a program can key on (the message is for people).
JSON_ERRORS = {400: "bad-request", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
               413: "too-large", 422: "refused", 500: "internal-error", 507: "disk-full"}


def wants_json() -> bool:
    """Anything under /api/ (a path that matches no route included) and a caller that asked for JSON."""
    return (request.blueprint == "api" or request.path == "/api" or request.path.startswith("/api/")
            or request.accept_mimetypes.best == "application/json")


def init_app(app: Flask) -> None:
    """Register the error handlers on ``app``."""
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

    def disk_full(exc: disk.DiskFull):
        log.error("the van's disk is full: %s", exc.detail)
        return page(507, "قرص العربة ممتلئ", "The van's disk is full", exc.message_ar, exc.message_en, exc.code)

    app.register_error_handler(disk.DiskFull, disk_full)

    def store_unavailable(exc: StoreUnavailable):
        log.error("the van database cannot be opened: %s", exc.detail)
        return page(503, "قاعدة بيانات العربة غير متاحة", "The van database is not available", exc.message_ar,
                    exc.message_en, exc.code)

    app.register_error_handler(StoreUnavailable, store_unavailable)

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
        if disk.is_full(exc):  # a write met a full disk outside the paths that say so themselves
            return disk_full(disk.DiskFull(f"{request.method} {request.path}: {exc}"))
        log.exception("unexpected error on %s %s", request.method, request.path)
        return page(500, "عذرًا، حدث خطأ", "Sorry, something went wrong",
                    "حدث خطأ غير متوقع ولم يُحفظ هذا الإجراء. ارجع وأعد المحاولة؛ وإذا تكرر فأبلغ الموظف.",
                    "An unexpected error happened and this action was not saved. Go back and try again; "
                    "if it happens again, tell the staff.")

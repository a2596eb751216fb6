"""The back office: search requests, open one with its documents, decide on it, publish to the fleet, the audit."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for

from edge.core.errors import EdgeError
from edge.sync import schema
from governorate import backoffice, notify, sms, staff, thumbnails
from governorate.web.security import allowed, login_required

bp = Blueprint("office", __name__)


def _store():
    return current_app.extensions["hub_store"]


@bp.route("/requests")
@login_required
def requests_list():
    q, state, van, due = (request.args.get(k, "") for k in ("q", "state", "van", "due"))
    due = due if due in backoffice.DUE else ""
    # The services by their names (staff do not read BLD-NEW), from the catalogue the vans run.
    services = {s.code: (s.name_ar, s.name_en) for s in backoffice.catalogue_in_force(_store()).services}
    return render_template("requests.html", rows=backoffice.search(_store(), q, state, van, due=due), q=q,
                           state=state, van=van, due=due, states=backoffice.STATE_LABELS,
                           vans=backoffice.vans(_store(), retired=True), services=services)


@bp.route("/requests/<number>")
@login_required
def request_page(number: str):
    item = backoffice.request(_store(), number)
    if item is None:
        abort(404)
    return render_template("request.html", r=item, notes=notify.for_request(_store(), number),
                           note_states=notify.STATES)


@bp.route("/requests/<number>/decide", methods=["POST"])
@allowed("decide")
def decide(number: str):
    try:
        backoffice.decide(_store(), current_app.extensions["downlinker"], number,
                          request.form.get("state", ""), request.form.get("reason"), g.user["username"])
        flash(("ok", "حُفظ القرار وأُرسل إلى الوحدة.", "Decision saved and sent to the van."))
    except EdgeError as exc:
        flash(("error", exc.message_ar, exc.message_en))
    return redirect(url_for("office.request_page", number=number))


_MAGIC = ((b"%PDF", "application/pdf", "pdf"), (b"\x89PNG", "image/png", "png"), (b"\xff\xd8", "image/jpeg", "jpg"))


@bp.route("/documents/<van>/<doc_id>")
@login_required
def document(van: str, doc_id: str):
    data = _store().document(van, doc_id)
    if data is None:
        abort(404)
    kind, ext = next(((t, e) for m, t, e in _MAGIC if data.startswith(m)), ("application/octet-stream", "bin"))
    with _store().transaction() as conn:
        staff.audit(conn, g.user["username"], "document.view", f"{van}/{doc_id}")
    response = Response(data, mimetype=kind)
    response.headers["Content-Disposition"] = f'inline; filename="{van}-{doc_id}.{ext}"'
    # A scanned file is shown, never run: no scripts even inside a crafted PDF or SVG.
    response.headers["Content-Security-Policy"] = ("sandbox; default-src 'none'; img-src 'self'; "
                                                   "style-src 'unsafe-inline'")
    return response


_NO_PREVIEW = (  # shown in place of a page that is not a picture the hub shows (a PDF, a file that does not decode)
    '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="120" viewBox="0 0 160 120">'
    '<rect width="160" height="120" fill="#eee" stroke="#999"/>'
    '<text x="80" y="55" font-size="14" text-anchor="middle" font-family="sans-serif">لا توجد معاينة</text>'
    '<text x="80" y="78" font-size="12" text-anchor="middle" font-family="sans-serif">No preview</text></svg>')


@bp.route("/documents/<van>/<doc_id>/thumbnail.jpg")
@login_required
def document_thumbnail(van: str, doc_id: str):
    """A small picture of a scanned page for the request page; the page itself (audited) is one click away."""
    data = _store().document(van, doc_id)
    if data is None:
        abort(404)
    small = thumbnails.thumbnail(bytes(data))
    response = (Response(small, mimetype="image/jpeg") if small is not None
                else Response(_NO_PREVIEW, mimetype="image/svg+xml"))
    response.headers["Cache-Control"] = "private, max-age=86400"  # a document never changes once complete
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/publish")
@allowed("publish")
def publish():
    return render_template("publish.html", publications=backoffice.publications(_store()),
                           vans=backoffice.vans(_store()))


@bp.route("/publish/catalogue", methods=["POST"])
@allowed("publish")
def publish_catalogue():
    upload = request.files.get("file")
    try:
        text = upload.read().decode("utf-8") if upload else ""
        version, count = backoffice.publish_catalogue(_store(), current_app.extensions["downlinker"], text,
                                                      g.user["username"])
        flash(("ok", f"أُرسل الدليل الإصدار {version} إلى {count} وحدة.", f"Catalogue v{version} sent to {count} vans."))
    except UnicodeDecodeError:
        flash(("error", "الملف ليس نصًا بترميز UTF-8.", "The file is not UTF-8 text."))
    except EdgeError as exc:
        flash(("error", exc.message_ar, exc.message_en))
    return redirect(url_for("office.publish"))


@bp.route("/publish/holidays", methods=["POST"])
@allowed("publish")
def publish_holidays():
    upload = request.files.get("file")
    try:
        text = upload.read(schema.CALENDAR_MAX_CHARS * 4 + 1).decode("utf-8") if upload else ""
        version, count = backoffice.publish_holidays(_store(), current_app.extensions["downlinker"], text,
                                                     g.user["username"])
        flash(("ok", f"أُرسلت العطلات الرسمية الإصدار {version} إلى {count} وحدة.",
               f"Public holidays v{version} sent to {count} vans."))
    except UnicodeDecodeError:
        flash(("error", "الملف ليس نصًا بترميز UTF-8.", "The file is not UTF-8 text."))
    except EdgeError as exc:
        flash(("error", exc.message_ar, exc.message_en))
    return redirect(url_for("office.publish"))


@bp.route("/publish/trust-list", methods=["POST"])
@allowed("publish")
def publish_trust_list():
    upload = request.files.get("file")
    try:
        count = backoffice.publish_trust_list(_store(), current_app.extensions["downlinker"],
                                              upload.read() if upload else b"", g.user["username"])
        flash(("ok", f"أُرسلت قائمة الثقة إلى {count} وحدة.", f"Trust list sent to {count} vans."))
    except EdgeError as exc:
        flash(("error", exc.message_ar, exc.message_en))
    return redirect(url_for("office.publish"))


@bp.route("/audit")
@login_required
def audit():
    if g.user["role"] == "viewer":
        abort(403)
    return render_template("audit.html", rows=staff.recent_audit(_store(), 200))


@bp.route("/notifications")
@login_required
def notifications():
    if g.user["role"] == "viewer":
        abort(403)  # citizens' mobile numbers: only for staff who act on requests
    rows = _store()._read("SELECT request_number, mobile, message, state, created_at, sent_by FROM notifications "
                          "ORDER BY id DESC LIMIT 100")
    return render_template("notifications.html", rows=rows)


@bp.route("/notify/dlr")
def delivery_report():
    """Kannel's delivery report for one notification (the dlr-url governorate/sms.py gives it). No staff sign-in:
    the link's signature is the proof; anything else is refused with 400, 403 or 409, never a server error."""
    try:
        state = sms.apply_dlr(_store(), current_app.config.get("DLR_SECRET"), request.args.get("id"),
                              request.args.get("sig"), request.args.get("status"))
    except sms.DlrRefused as exc:
        return Response(exc.reason + "\n", status=exc.status, mimetype="text/plain")
    return Response(state + "\n", mimetype="text/plain")

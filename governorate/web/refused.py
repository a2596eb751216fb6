"""What the hub refused from the vans, for staff: the quarantine (admins: the message, its reason, its bytes,
and "try again") and the conflicts (a request number sent again with other content, both versions)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for

from governorate import quarantine, staff
from governorate.web.security import allowed, login_required

bp = Blueprint("refused", __name__)

RELEASE_OUTCOMES = {
    "stored": ("ok", "قُبلت الرسالة وحُفظت، وأُبلغت الوحدة باستلامها.",
               "The message was accepted and stored, and its van was told."),
    "refused": ("error", "رُفضت الرسالة مرة أخرى للسبب نفسه أو لسبب آخر؛ بقيت في الحجز.",
                "The message was refused again; it stays in quarantine with its reason."),
    "not-releasable": ("error", "لا يُعاد إدخال هذا النوع من الرسائل: ترسله الوحدة من جديد بنفسها.",
                       "This kind of message is not put through again: the van sends it again itself."),
    "gone": ("error", "لم تعد هذه الرسالة في الحجز.", "This message is no longer in quarantine."),
}


def _store():
    return current_app.extensions["hub_store"]


@bp.route("/quarantine")
@allowed("quarantine")
def quarantine_list():
    van = request.args.get("van", "")[:8] or None
    return render_template("quarantine.html", rows=quarantine.listing(_store(), van), van=van,
                           releasable=quarantine.RELEASABLE)


@bp.route("/quarantine/<int:entry_id>/payload")
@allowed("quarantine")
def quarantine_payload(entry_id: int):
    found = quarantine.entry(_store(), entry_id)
    if found is None:
        abort(404)
    with _store().transaction() as conn:  # the bytes may hold a citizen's data: who took them is on record
        staff.audit(conn, g.user["username"], "quarantine.download", found["msg_key"], {"van": found["van"]})
    name = f"{found['van']}-{found['msg_key'].replace(':', '-')}.cbor"
    return Response(found["payload"], mimetype="application/cbor",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@bp.route("/quarantine/<int:entry_id>/release", methods=["POST"])
@allowed("quarantine")
def quarantine_release(entry_id: int):
    found = quarantine.entry(_store(), entry_id)
    outcome = quarantine.release(_store(), current_app.extensions["downlinker"], entry_id)
    if found is not None:
        with _store().transaction() as conn:
            staff.audit(conn, g.user["username"], "quarantine.release", found["msg_key"],
                        {"van": found["van"], "kind": found["kind"], "outcome": outcome})
    flash(RELEASE_OUTCOMES[outcome])
    return redirect(url_for("refused.quarantine_list"))


@bp.route("/conflicts")
@login_required
def conflicts():
    if g.user["role"] == "viewer":
        abort(403)  # both versions carry a citizen's name and national ID
    return render_template("conflicts.html", rows=quarantine.conflicts(_store()))

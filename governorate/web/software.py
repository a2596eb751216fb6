"""The fleet's software: the rollout in force, each van's version, target and update state; admins resume a paused
rollout, roll the fleet back, pin or unpin a van (governorate/rollouts.py, docs/updates.md)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from edge.core.errors import EdgeError
from edge.sync.protocol import is_van_id
from governorate import rollouts
from governorate.updates import STATES as OFFER_STATES
from governorate.updates import Updates
from governorate.web.security import allowed, login_required

bp = Blueprint("software", __name__)

ROLLOUT_STATES = {
    "rolling-out": ("جارٍ النشر", "rolling out"),
    "paused": ("متوقف تلقائيًا", "paused"),
    "complete": ("اكتمل", "complete"),
    "rolled-back": ("أُعيد الأسطول إلى الإصدار السابق", "rolled back"),
}


def _store():
    return current_app.extensions["hub_store"]


def _updates() -> Updates:
    return Updates(_store())  # the page only reads offers; the ingest workers send


@bp.route("/software")
@login_required
def screen():
    view = rollouts.screen(_store(), _updates())
    return render_template("software.html", view=view, rollout_states=ROLLOUT_STATES, offer_states=OFFER_STATES)


def _act(action, *args, done: tuple[str, str]):
    try:
        action(_store(), *args, who=g.user["username"])
        flash(("ok", *done))
    except EdgeError as exc:
        flash(("error", exc.message_ar, exc.message_en))
    return redirect(url_for("software.screen"))


@bp.route("/software/resume", methods=["POST"])
@allowed("rollout")
def resume():
    return _act(rollouts.resume, done=("استُؤنف النشر؛ العربات التي فشلت تبقى على إصدارها.",
                                       "The rollout goes on; the vans that failed keep their version."))


@bp.route("/software/back", methods=["POST"])
@allowed("rollout")
def back():
    return _act(rollouts.roll_back,
                done=("يعود الأسطول إلى الإصدار السابق.", "The fleet goes back to the previous release."))


@bp.route("/software/pin", methods=["POST"])
@allowed("rollout")
def pin():
    van = request.form.get("van", "")
    if not is_van_id(van):
        flash(("error", "رقم العربة غير صحيح.", "Not a van id."))
        return redirect(url_for("software.screen"))
    if request.form.get("remove") == "1":
        return _act(rollouts.unpin, van,
                    done=(f"تتبع العربة {van} النشر من جديد.", f"{van} follows the rollout again."))
    return _act(rollouts.pin, van,
                done=(f"تبقى العربة {van} على إصدارها الحالي.", f"{van} keeps the version it runs."))

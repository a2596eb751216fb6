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


# The updater's events (edge/update: install.py, __main__.py), as a van's ``update.last`` starts with them — said in
# the staff's words; the version and reason that follow are shown as the van sent them.
UPDATE_EVENTS = {
    "install": ("يثبّت إصدارًا جديدًا", "installing a new version"),
    "installed": ("ثُبّت الإصدار الجديد بجوار العامل", "new version installed beside the running one"),
    "install-failed": ("فشل التثبيت؛ بقيت على إصدارها", "installing failed; kept its version"),
    "install-interrupted": ("انقطع التثبيت؛ بقيت على إصدارها", "installing was interrupted; kept its version"),
    "switch": ("تنتقل إلى الإصدار الجديد", "switching to the new version"),
    "switch-interrupted": ("انقطع الانتقال؛ بقيت على إصدارها", "the switch was interrupted; kept its version"),
    "check-after-start": ("أُعيد تشغيلها أثناء فحص الإصدار الجديد؛ يُفحص بعد التشغيل",
                          "restarted while the new version was checked; checked once it runs"),
    "healthy": ("يعمل بسلامة", "healthy"),
    "rollback": ("تعود إلى الإصدار السابق", "going back to the previous version"),
    "rolled-back": ("فشل الفحص فعادت إلى الإصدار السابق", "failed its check; went back to the previous version"),
    "rolled-back-unchecked": ("عادت إلى الإصدار السابق عند التشغيل؛ لم يُفحص بعد",
                              "went back at start; not checked yet"),
    "rolled-back-unhealthy": ("تحتاج فنيًا: الإصدار السابق لا يعمل بسلامة أيضًا",
                              "needs a technician: the previous version is not healthy either"),
    "no-previous-version": ("فشل الفحص ولا إصدار سابق للعودة إليه",
                            "failed its check; no previous version to go back to"),
    "pointer-repaired": ("صُحّح الإصدار العامل عند التشغيل", "the running version was repaired at start"),
    "state-unreadable": ("تعذّرت قراءة حالة التحديث", "the update state could not be read"),
    "refused-release": ("رُفض الإصدار قبل تثبيته", "release refused before installing"),
    "refusal-cleared": ("يُعاد تجربة إصدار رُفض من قبل (تثبيت يدوي)",
                        "a release refused before is tried again (by hand)"),
    "deferred": ("أُجّل: انقطع الاتصال أثناء فحصه ولم يتصل السابق أيضًا؛ يُعاد حين يعود الاتصال",
                 "deferred: the link dropped during its check and the previous version could not connect either; "
                 "tried again once the link is back"),
    "deferred-refused": ("رُفض: انقطع الاتصال في كل فحص له", "refused: every check of it lost the link"),
    "deferred-dropped": ("أُلغي إصدار مؤجل (إصدار آخر يعمل الآن)", "a deferred release was dropped (another runs now)"),
    "deferred-cancelled": ("أُلغي إصدار مؤجل بطلب من المحافظة؛ لن تُعاد تجربته",
                           "a deferred release was cancelled by the governorate; it will not be tried again"),
    "link-works": ("رُفض: الإصدار السابق يتصل والجديد لم يتصل", "refused: the previous version connects, the new "
                   "one did not"),
    "units-not-written": ("تعذّرت كتابة ملفات الخدمات", "the service units could not be written"),
    "units-reload-failed": ("لم يُعِد النظام قراءة الخدمات؛ يُعاد عند التشغيل التالي",
                            "systemd did not read the units again; retried at the next start"),
}


# … and those shown as something gone wrong.
UPDATE_FAULTS = frozenset({"install-failed", "rolled-back", "rolled-back-unhealthy", "no-previous-version",
                           "state-unreadable", "refused-release", "units-not-written", "deferred-refused",
                           "link-works"})


def update_event(last: str | None) -> dict:
    """A van's ``update.last`` for the screen: ``label`` (Arabic, English) when its first word is an event this hub
    knows, else None (shown as sent); ``rest``: what follows it (version, reason); ``fault``: something went wrong."""
    word, _, rest = (last or "").partition(" ")
    label = UPDATE_EVENTS.get(word)
    return {"label": label, "rest": rest if label else (last or ""), "fault": word in UPDATE_FAULTS}


def _store():
    return current_app.extensions["hub_store"]


def _updates() -> Updates:
    return Updates(_store())  # the page only reads offers; the ingest workers send


@bp.route("/software")
@login_required
def screen():
    view = rollouts.screen(_store(), _updates())
    return render_template("software.html", view=view, rollout_states=ROLLOUT_STATES, offer_states=OFFER_STATES,
                           update_event=update_event)


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
        flash(("error", "رقم الوحدة غير صحيح.", "Not a van id."))
        return redirect(url_for("software.screen"))
    if request.form.get("remove") == "1":
        return _act(rollouts.unpin, van,
                    done=(f"تتبع الوحدة {van} النشر من جديد.", f"{van} follows the rollout again."))
    return _act(rollouts.pin, van,
                done=(f"تبقى الوحدة {van} على إصدارها الحالي.", f"{van} keeps the version it runs."))

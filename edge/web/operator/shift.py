"""The operator's shift at the console (issue 19, edge.store.shifts): open it with the counted float, see what
the van recorded so far, close it with the counted cash (a difference needs a reason, above the threshold a
supervisor's PIN), hand the drawer to the next operator, and print the Z-report. A supervisor closes a shift an
operator forgot open. Training mode keeps its shifts in the training database and never reports them."""

from __future__ import annotations

from flask import abort, current_app, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext

from edge.core import shifts as sh
from edge.core.errors import EdgeError
from edge.core.money import InvalidAmount, format_egp, parse_egp
from edge.store import clock, operators, shifts
from edge.web import i18n, printing, signing
from edge.web.context import get_db, settings
from edge.web.operator.auth import supervisor_confirms
from edge.web.operator.blueprint import audit, bp, login_required
from edge.web.qr import svg


def _amount(field: str, what_ar: str, what_en: str) -> int:
    return _read_amount(request.form.get(field, "")[:40], what_ar, what_en)


def _read_amount(raw: str, what_ar: str, what_en: str) -> int:
    """An amount as the operator typed it, in piastres; BadCashAmount (both languages) when it cannot be read."""
    if not raw.strip():
        raise sh.BadCashAmount(what_ar, what_en)
    try:
        return parse_egp(raw)
    except InvalidAmount:
        raise sh.BadCashAmount(what_ar, what_en) from None


def _error(exc: EdgeError, **keep) -> None:
    session["shift_error"] = {"ar": exc.message_ar, "en": exc.message_en, **keep}


@bp.get("/shift")
@login_required
def shift():
    db = get_db()
    mine = shifts.current(db, g.operator["actor"])
    live = shifts.live_totals(db, mine) if mine else None
    expected = sh.expected_cash(mine.opening_float_piastres, live) if mine else None
    stale = bool(mine and mine.day != clock.local_day(clock.now()).isoformat())
    supervisor = g.operator["role"] == "supervisor"
    me = g.operator["actor"]
    others = [s for s in shifts.open_shifts(db) if s.operator != me] if supervisor else []
    recent = [s for s in shifts.recent(db, 10) if supervisor or me in (s.operator, s.closed_by, s.handed_to)]
    return render_template("operator/shift.html", shift=mine, live=live, expected=expected, stale=stale,
                           others=others, recent=recent, today=clock.local_day(clock.now()).isoformat(),
                           threshold=settings().shift.threshold_piastres, error=session.pop("shift_error", None),
                           notice=session.pop("notice", None))


@bp.post("/shift/open")
@login_required
def shift_open():
    try:
        amount = _amount("float", "مبلغ بداية الوردية", "opening float")
        shifts.open_shift(get_db(), operator=g.operator["actor"], opening_float=amount,
                          counter=g.operator["counter"])
    except EdgeError as exc:
        _error(exc, keep_float=request.form.get("float", "")[:40])
    else:
        session["notice"] = {"ar": "فُتحت ورديتك. يمكنك الآن تحصيل الرسوم.",
                             "en": "Your shift is open. You can take fees now."}
    return redirect(url_for("operator.shift"))


def _close(shift_id: int, *, closed_by: str, confirmed_by: str | None, hand_over_to: str | None):
    db = get_db()
    counted = _amount("counted", "النقدية المعدودة", "counted cash")
    return shifts.close(db, shift_id, van_id=settings().van.id, counted_cash=counted, closed_by=closed_by,
                        reason=request.form.get("reason", "")[:sh.MAX_REASON], confirmed_by=confirmed_by,
                        threshold=settings().shift.threshold_piastres, hand_over_to=hand_over_to,
                        report=not g.get("training"))


@bp.post("/shift/close")
@login_required
def shift_close():
    db = get_db()
    mine = shifts.current(db, g.operator["actor"])
    keep = {k: request.form.get(k, "")[:sh.MAX_REASON] for k in ("counted", "reason")}
    if mine is None:
        _error(sh.NoOpenShift())
        return redirect(url_for("operator.shift"))
    try:
        confirmed_by = None
        if request.form.get("supervisor"):
            confirmed_by = supervisor_confirms(request.form["supervisor"], request.form.get("supervisor_pin", ""))
        hand_over_to = None
        if request.form.get("next_operator"):  # the next operator takes the drawer: their own PIN says so
            nxt = operators.authenticate(get_db(real=True), request.form["next_operator"],
                                         request.form.get("next_pin", ""),
                                         hasher=current_app.config["PIN_HASHER"] or operators.DEFAULT_HASHER)
            if nxt.actor == g.operator["actor"]:
                raise sh.HandOverToSelf()
            hand_over_to = nxt.actor
        closed = _close(mine.id, closed_by=g.operator["actor"], confirmed_by=confirmed_by,
                        hand_over_to=hand_over_to)
    except EdgeError as exc:
        _error(exc, **keep)
        return redirect(url_for("operator.shift"))
    outcome = print_report(closed)
    session["notice"] = {"ar": f"أُغلقت الوردية. {outcome.message_ar}", "en": f"The shift is closed. "
                         f"{outcome.message_en}"}
    return redirect(url_for("operator.shift_report", shift_id=closed.id))


@bp.post("/shift/counted")
@login_required
def shift_counted():
    """The counted cash checked as it is typed (JSON): the difference against what the drawer should hold, and the
    question the close button asks with it — so the operator sees "50.00 EGP short" before the close, which cannot
    be undone, and an amount that cannot be read is said at once instead of after a confirm."""
    db = get_db()
    mine = shifts.current(db, g.operator["actor"])
    if mine is None:
        first, second = i18n.message(sh.NoOpenShift())
        return jsonify(ok=False, message=first, message_other=second)
    body = request.get_json(silent=True)
    raw = str(body.get("text", "") if isinstance(body, dict) else "")[:40]
    try:
        counted = sh.check_cash(_read_amount(raw, "النقدية المعدودة", "counted cash"), "النقدية المعدودة",
                                "counted cash")
    except EdgeError as exc:
        first, second = i18n.message(exc)
        return jsonify(ok=False, message=first, message_other=second)
    expected = sh.expected_cash(mine.opening_float_piastres, shifts.live_totals(db, mine))
    difference = counted - expected
    words_ar, words_en = sh.difference_words(difference)
    threshold = settings().shift.threshold_piastres
    ar = (f"يجب أن يكون في الدرج {format_egp(expected, 'ar')}، والمعدود {format_egp(counted, 'ar')}: "
          f"{'لا يوجد فرق' if difference == 0 else words_ar}.")
    en = (f"The drawer should hold {format_egp(expected, 'en')}; you counted "
          f"{format_egp(counted, 'en')}: {'no difference' if difference == 0 else words_en}.")
    if difference:
        ar += " اكتب سبب الفرق."
        en += " Write the reason for the difference."
    if abs(difference) > threshold:
        ar += " الفرق أكبر من الحد: يلزم رقم المشرف ورمزه."
        en += " The difference is above the limit: a supervisor's number and PIN are needed."
    first, second = (en, ar) if i18n.current() == "en" else (ar, en)
    return jsonify(ok=True, difference=difference, message=first, message_other=second,
                   confirm=f"{first}\n{gettext('Close the shift? A closed shift cannot be changed or reopened.')}")


@bp.post("/shift/<int:shift_id>/close")
@login_required
def shift_close_other(shift_id: int):
    """A supervisor closes a shift its operator left open (the morning after, or an operator gone home)."""
    if g.operator["role"] != "supervisor":
        abort(403)
    actor = g.operator["actor"]
    try:
        found = shifts.get(get_db(), shift_id)
        if found is not None and found.operator == actor:
            raise sh.OwnShiftHere()
        closed = _close(shift_id, closed_by=actor, confirmed_by=actor, hand_over_to=None)
    except EdgeError as exc:
        _error(exc)
        return redirect(url_for("operator.shift"))
    outcome = print_report(closed)
    session["notice"] = {"ar": f"أُغلقت الوردية. {outcome.message_ar}", "en": f"The shift is closed. "
                         f"{outcome.message_en}"}
    return redirect(url_for("operator.shift_report", shift_id=closed.id))


def _report_fields(closed: shifts.Shift) -> dict:
    fields = shifts.message(closed, settings().van.id)
    number = closed.operator.partition(":")[2]
    found = operators.get(get_db(real=True), int(number)) if number.isascii() and number.isdigit() else None
    fields["operator_label"] = f"{found.name} ({i18n.num(number)})" if found else i18n.actor(closed.operator)
    fields["operator_name"] = found.name if found else ""
    return fields


def _code(closed: shifts.Shift) -> str:
    return signing.shift_code(settings().data_dir, closed.id, clock.parse(closed.closed_at),
                              training=bool(g.get("training")))


def print_report(closed: shifts.Shift, *, reprint: bool = False) -> printing.PrintOutcome:
    job = printing.PrintJob("zreport", i18n.current(), _report_fields(closed), qr=_code(closed),
                            training=bool(g.get("training")), reprint=reprint)
    return printing.submit(job)


def _closed_shift_for_me(shift_id: int) -> shifts.Shift:
    """A closed shift the signed-in operator may see: their own (or one they closed or took over), or any for a
    supervisor; 404 for one that is not closed, 403 for another operator's."""
    found = shifts.get(get_db(), shift_id)
    if found is None or found.is_open:
        abort(404)
    me = g.operator["actor"]
    if g.operator["role"] != "supervisor" and me not in (found.operator, found.closed_by, found.handed_to):
        abort(403)
    return found


@bp.get("/shift/<int:shift_id>")
@login_required
def shift_report(shift_id: int):
    found = _closed_shift_for_me(shift_id)
    code = _code(found)
    return render_template("operator/shift_report.html", s=found, fields=_report_fields(found),
                           difference=sh.difference_words(found.difference_piastres),
                           qr=svg(code, label=f"Z{found.id}"), notice=session.pop("notice", None))


@bp.post("/shift/<int:shift_id>/print")
@login_required
def shift_reprint(shift_id: int):
    found = _closed_shift_for_me(shift_id)
    outcome = print_report(found, reprint=True)
    audit("shift.reprint", f"shift:{shift_id}", {"printed": outcome.printed})
    session["notice"] = {"ar": outcome.message_ar, "en": outcome.message_en}
    return redirect(url_for("operator.shift_report", shift_id=shift_id))

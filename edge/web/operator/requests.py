"""Registered requests at the console: today's list and the search (POSTed, so a national ID never lands in
a URL, a log line or the browser history), one request's page, cancelling it (edge.store.requests.cancel)
and handing the document over to the citizen."""

from __future__ import annotations

from datetime import date

from flask import g, redirect, render_template, request, session, url_for

from edge.core import lookup
from edge.core import national_id as nid_mod
from edge.core import requests as rq
from edge.core.digits import to_ascii
from edge.core.errors import EdgeError
from edge.core.money import format_egp
from edge.store import clock, documents, lookups, shifts
from edge.store import requests as store_requests
from edge.web.context import catalogue, get_db
from edge.web.operator.auth import supervisor_confirms
from edge.web.operator.blueprint import bp, login_required


@bp.route("/requests", methods=["GET", "POST"])
@login_required
def requests_list():
    # Searches are POSTed: a national ID must never appear in a URL, a log line or the browser history.
    form = request.form if request.method == "POST" else {}
    query = {k: form.get(k, "").strip() for k in ("q", "day", "state")}
    error = None
    filters: dict = {}
    if request.method == "GET":
        filters["day"] = clock.local_day(clock.now())
    try:
        filters.update(lookup.search_filter(query["q"]))
        if query["day"]:
            filters["day"] = date.fromisoformat(to_ascii(query["day"]))
        if query["state"]:
            filters["state"] = rq.RequestState(query["state"]).value
    except EdgeError as exc:
        error = exc
    except ValueError:
        error = EdgeError("التاريخ يُكتب هكذا: ٢٠٢٦-١١-٢١.", "Write the date like this: 2026-11-21.", code="bad-date")
    rows = [] if error else lookups.search_requests(get_db(), **filters)
    return render_template("operator/requests.html", rows=rows, query=query, error=error,
                           states=[s for s in rq.RequestState if s is not rq.RequestState.DRAFT],
                           labels=rq.STATE_LABELS, searched=request.method == "POST"), (422 if error else 200)


@bp.get("/requests/<number>")
@login_required
def request_detail(number: str):
    found = store_requests.get(get_db(), number)
    return render_template("operator/request.html", r=found, service=catalogue().service(found.service_code),
                           labels=rq.STATE_LABELS, docs=documents.for_request(get_db(), number),
                           cancellable=rq.cancellable(found.state), masked_id=nid_mod.mask(found.citizen_national_id),
                           refund=store_requests.refund_of(get_db(), number),
                           error=session.pop("request_error", None), notice=session.pop("notice", None))


@bp.post("/requests/<number>/cancel")
@login_required
def cancel(number: str):
    typed = request.form.get("reason", "")
    try:
        confirmed_by = shift_id = None
        if request.form.get("supervisor"):  # a paid request: the refund is confirmed by a supervisor's PIN
            confirmed_by = supervisor_confirms(request.form["supervisor"], request.form.get("supervisor_pin", ""))
            # ... and paid back from the drawer of the operator's open shift (issue 19)
            shift_id = shifts.for_taking_money(get_db(), g.operator["actor"]).id
        store_requests.cancel(get_db(), number, typed, actor=g.operator["actor"], confirmed_by=confirmed_by,
                              shift_id=shift_id)
    except (rq.CancelReasonMissing, rq.RefundNeedsSupervisor) as exc:
        session["request_error"] = {"ar": exc.message_ar, "en": exc.message_en, "keep": typed}
    except EdgeError as exc:  # not cancellable any more, or the supervisor's number or PIN refused
        session["request_error"] = {"ar": exc.message_ar, "en": exc.message_en, "keep": typed}
    else:
        refund = store_requests.refund_of(get_db(), number)
        if refund:
            amount = refund["amount_piastres"]
            session["notice"] = {
                "ar": f"أُلغي الطلب. ردّ إلى المواطن {format_egp(amount, 'ar')} وسُجّل الرد.",
                "en": f"The request was cancelled. Hand the citizen back {format_egp(amount, 'en')}; the refund is "
                      "recorded."}
        else:
            session["notice"] = {"ar": "أُلغي الطلب.", "en": "The request was cancelled."}
    return redirect(url_for("operator.request_detail", number=number))


@bp.post("/requests/<number>/deliver")
@login_required
def deliver(number: str):
    try:
        store_requests.change_state(get_db(), number, rq.RequestState.DELIVERED, source="van",
                                    actor=g.operator["actor"])
        session["notice"] = {"ar": "سُجّل تسليم المستند.", "en": "Hand-over recorded."}
    except EdgeError as exc:
        session["request_error"] = {"ar": exc.message_ar, "en": exc.message_en}
    return redirect(url_for("operator.request_detail", number=number))

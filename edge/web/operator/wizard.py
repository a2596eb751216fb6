"""The new-request wizard as a table of steps: service → citizen → documents → payment.

Each step is data — its name, its template, how it takes its form into the draft (its validation) and the
step after it — so the one route below runs them all the same way: take the form, keep the draft, go on
when nothing is wrong, else show the step again with what was typed. What the operator typed lives in a
server-side draft (edge.store.drafts); which step a draft still lacks is edge.core.drafts' rule, and a
jump ahead by URL goes back to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Response, abort, current_app, g, redirect, render_template, request, session, url_for
from werkzeug.datastructures import FileStorage, MultiDict

import edge.web.operator.receipts as receipts
from edge.core import drafts as draft_rules
from edge.core import national_id as nid_mod
from edge.core import requests as rq
from edge.core.catalogue import UnknownService
from edge.core.errors import EdgeError
from edge.core.money import InvalidAmount
from edge.services import scanning
from edge.store import disk, drafts, shifts
from edge.web.context import catalogue, documents_dir, get_db, service_or_none, settings
from edge.web.operator.auth import supervisor_confirms
from edge.web.operator.blueprint import audit, bp, login_required
from edge.web.operator.documents import page_content, photo_of_page
from edge.web.operator.photo import hold_for_corners, reserve

log = logging.getLogger("edge.web.operator.wizard")

Errors = dict[str, EdgeError]
Page = Response | str | tuple  # what a view may return: a redirect, a page, a page with its status


@dataclass
class Visit:
    """One form sent to a step: the draft it fills (``data`` is changed in place) and what came with it."""

    draft_id: str
    data: dict
    form: MultiDict
    upload: FileStorage | None

    @property
    def actor(self) -> str:
        return g.operator["actor"]


@dataclass(frozen=True)
class Step:
    name: str
    template: str
    # Takes the form into the draft: what is wrong with it (empty: go on), or the page to answer with.
    take: Callable[[Visit], Errors | Page]
    next: str | None  # None: the last step, whose take submits the request


def _take_service(v: Visit) -> Errors:
    code = v.form.get("service", "")
    try:
        catalogue().service(code)
    except UnknownService as exc:
        return {"service": exc}
    if code != v.data.get("service"):
        v.data["amount"] = ""  # another service, another fee
    v.data["service"] = code
    return {}


def _take_citizen(v: Visit) -> Errors:
    # Saved as typed, valid or not: a correction never means typing everything again.
    for key in ("national_id", "name", "mobile"):
        v.data[key] = v.form.get(key, "")[:200]
    return draft_rules.citizen_errors(v.data)


def _take_documents(v: Visit) -> Errors | Page:
    if v.form.get("remove"):
        drafts.remove_page(get_db(), documents_dir(), v.draft_id, v.actor, v.form["remove"])
        return _goto(v.draft_id, "documents")
    v.data["seen"] = v.form.getlist("seen")
    scan = bool(v.form.get("scan"))
    if scan or (v.upload is not None and v.upload.filename):
        return _attach_page(v, scan=scan)
    missing = draft_rules.missing_documents(v.data, catalogue().service(v.data["service"]))
    return {"documents": draft_rules.DocumentsMissing(missing)} if missing else {}


def _attach_page(v: Visit, *, scan: bool) -> Page:
    """A page scanned, photographed or uploaded for one document; the documents step is shown again."""
    db = get_db()
    errors: Errors = {}
    doc_code = v.form.get("doc_code", "")
    try:
        drafts.save(db, v.draft_id, v.actor, v.data)  # the ticks made before the page was added
        photo = photo_of_page(v.upload, scan=scan, photo=bool(v.form.get("photo")))
        if photo is not None:
            finding = scanning.find_page(photo[0])
            if not finding.confident:  # the operator checks the corners first
                hold_for_corners(v.draft_id, v.actor, doc_code, photo[0], finding)
                return redirect(url_for("operator.photo_corners", draft_id=v.draft_id))
            content, how = scanning.photo_pdf(photo[0], finding.corners), photo[1]
        else:
            content, how = page_content(v.upload, scan=scan)
        entry = drafts.add_page(db, documents_dir(), v.draft_id, v.actor, doc_code, content, reserve=reserve())
        audit("document.attach_page", v.draft_id, {"document": doc_code, "from": how})
        if photo is not None:
            _keep_to_check(v, doc_code, photo[0], finding, entry["file"])
    except EdgeError as exc:
        errors["page"] = exc
    if errors or v.form.get("stay"):
        return _render("documents", v.draft_id, drafts.get(db, v.draft_id, v.actor), errors)
    return _goto(v.draft_id, "documents")


def _keep_to_check(v: Visit, doc_code: str, photo: bytes, finding, page_file: str) -> None:
    """The photo of a page attached at once stays with the draft, so that the operator can still check its corners
    (the documents step offers it) until the next photo. Without room for it the page stays as attached; a photo
    still waiting for its corners is never pushed out by it."""
    held = drafts.get(get_db(), v.draft_id, v.actor).get("photo")
    if isinstance(held, dict) and not held.get("replaces"):
        return
    try:
        hold_for_corners(v.draft_id, v.actor, doc_code, photo, finding, replaces=page_file)
    except EdgeError as exc:
        log.info("the photo of page %s is not kept for a check: %s", page_file, exc.detail or exc.message_en)


def _take_payment(v: Visit) -> Page:
    """The last step: the payment as typed, then the request submitted and its receipt printed."""
    db = get_db()
    data = v.data
    data.update(method=v.form.get("method", ""), reference=v.form.get("reference", "")[:40],
                amount=v.form.get("amount", "")[:40])
    drafts.save(db, v.draft_id, v.actor, data)
    incomplete = draft_rules.first_incomplete(data, catalogue())
    if incomplete:
        return _goto(v.draft_id, incomplete)
    service = catalogue().service(data["service"])
    errors: Errors = {}
    try:
        payment = draft_rules.payment(data, service)
        citizen = draft_rules.citizen(data)
        # The fee goes into the operator's open shift (issue 19): none open, or one left open since yesterday,
        # and nothing is taken; the draft waits while the operator opens (or a supervisor closes) the shift.
        shift = shifts.for_taking_money(db, v.actor)
        confirmed_by = None
        if service.fee_assessed:  # the PIN is checked here and never kept in the draft
            try:
                confirmed_by = supervisor_confirms(v.form.get("supervisor", ""), v.form.get("supervisor_pin", ""))
            except EdgeError as exc:
                errors["supervisor"] = exc
                return _render("payment", v.draft_id, data, errors), 422
        number = drafts.submit(db, documents_dir(), v.draft_id, van_id=settings().van.id, catalogue=catalogue(),
                               service_code=service.code, citizen=citizen, payment=payment, operator=v.actor,
                               training=bool(g.get("training")), confirmed_by=confirmed_by, shift_id=shift.id)
    except (InvalidAmount, rq.InvalidPayment) as exc:
        errors["payment"] = exc
    except EdgeError as exc:
        errors["submit"] = exc
    if errors:
        return _render("payment", v.draft_id, data, errors), 422
    session.pop("draft", None)
    outcome = receipts.print_receipt(str(number))
    session["printed"] = receipts.print_notice(str(number), outcome)
    return redirect(url_for("operator.receipt", number=str(number)))


STEPS = (
    Step("service", "operator/wizard_service.html", _take_service, next="citizen"),
    Step("citizen", "operator/wizard_citizen.html", _take_citizen, next="documents"),
    Step("documents", "operator/wizard_documents.html", _take_documents, next="payment"),
    Step("payment", "operator/wizard_payment.html", _take_payment, next=None),
)
BY_NAME = {s.name: s for s in STEPS}


@bp.get("/requests/new")
@login_required
def new_request():
    draft_id = session.get("draft")
    if draft_id:
        try:
            drafts.get(get_db(), draft_id, g.operator["actor"])
            return _goto(draft_id, "service")
        except EdgeError:
            pass
    drafts.purge(get_db(), documents_dir(), current_app.config["DRAFT_MAX_AGE"])
    # No new request on a disk that cannot keep its pages: say so before the citizen's paper is taken in.
    disk.ensure_room(documents_dir(), 0, reserve())
    draft_id = drafts.create(get_db(), g.operator["actor"])
    session["draft"] = draft_id
    return _goto(draft_id, "service")


@bp.post("/requests/new/discard")
@login_required
def discard_request():
    draft_id = session.pop("draft", None)
    if draft_id:
        drafts.discard(get_db(), documents_dir(), draft_id, g.operator["actor"])
    return redirect(url_for("operator.home"))


@bp.route("/requests/new/<draft_id>/<step>", methods=["GET", "POST"])
@login_required
def wizard(draft_id: str, step: str):
    spec = BY_NAME.get(step)
    if spec is None:
        abort(404)
    data = drafts.get(get_db(), draft_id, g.operator["actor"])
    if request.method == "POST":
        visit = Visit(draft_id, data, request.form, request.files.get("page"))
        outcome = spec.take(visit)
        if not isinstance(outcome, dict):
            return outcome  # the step answered itself (a page added, the request submitted)
        drafts.save(get_db(), draft_id, visit.actor, data)
        if not outcome:
            return _goto(draft_id, spec.next)
        return _render(step, draft_id, data, outcome), 422
    if step != STEPS[0].name:
        incomplete = draft_rules.first_incomplete(data, catalogue())
        if incomplete and draft_rules.STEPS.index(incomplete) < draft_rules.STEPS.index(step):
            return _goto(draft_id, incomplete)
    return _render(step, draft_id, data, {})


def _goto(draft_id: str, step: str) -> Response:
    return redirect(url_for("operator.wizard", draft_id=draft_id, step=step))


def _render(step: str, draft_id: str, data: dict, errors: Errors) -> str:
    service = service_or_none(data.get("service"))
    parsed = None
    if step in ("citizen", "payment") and data.get("national_id") and "national_id" not in errors:
        try:
            parsed = nid_mod.parse(data["national_id"])
        except EdgeError:
            parsed = None
    shift_problem = None
    if step == STEPS[0].name:
        # The fee goes into the operator's open shift, checked at the last step: said here at the first, before the
        # citizen at the counter has gone through the whole request for nothing.
        try:
            shifts.for_taking_money(get_db(), g.operator["actor"])
        except EdgeError as exc:
            shift_problem = exc
    return render_template(BY_NAME[step].template, step=step, steps=[s.name for s in STEPS], draft_id=draft_id,
                           data=data, errors=errors, service=service, parsed=parsed, shift_problem=shift_problem)

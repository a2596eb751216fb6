"""What a new-request draft still lacks, and what it becomes once complete.

A draft is what the operator has typed so far, as ``edge.store.drafts`` keeps it: a dict with ``service``
(a catalogue code), ``national_id``, ``name``, ``mobile``, ``seen`` (documents ticked as seen), ``pages``
(attached pages, each with its ``doc_code``) and, at the last step, ``method``, ``reference``, ``amount``.
Which step is complete is a domain rule, not a page's: the same check sends the console's wizard back to
what is missing and decides whether a draft may be submitted, so it lives here and is tested without a
browser or a database.
"""

from __future__ import annotations

from collections.abc import Mapping

from edge.core import national_id, phone
from edge.core import requests as rq
from edge.core.catalogue import Catalogue, Document, Service, UnknownService
from edge.core.citizens import Citizen, clean_name
from edge.core.errors import EdgeError
from edge.core.money import parse_egp

# The wizard's steps in order; a draft is complete when every step before "payment" is.
STEPS = ("service", "citizen", "documents", "payment")


class DocumentsMissing(EdgeError):
    code = "documents-missing"

    def __init__(self, missing: list[Document]):
        self.missing = tuple(missing)
        super().__init__(
            "بعض المستندات الإلزامية لم تُرفق ولم يُؤشَّر عليها: " + "، ".join(d.name_ar for d in missing),
            "Some mandatory documents are neither attached nor ticked as seen: "
            + "; ".join(d.name_en for d in missing),
        )


def citizen_errors(data: Mapping) -> dict[str, EdgeError]:
    """What is wrong with the citizen as typed, per field (``national_id``, ``name``, ``mobile``)."""
    errors: dict[str, EdgeError] = {}
    try:
        national_id.parse(data.get("national_id", ""))
    except EdgeError as exc:
        errors["national_id"] = exc
    try:
        clean_name(data.get("name", ""))
    except EdgeError as exc:
        errors["name"] = exc
    if data.get("mobile", "").strip():  # the mobile is optional
        try:
            phone.parse(data["mobile"])
        except EdgeError as exc:
            errors["mobile"] = exc
    return errors


def missing_documents(data: Mapping, service: Service) -> list[Document]:
    """The service's mandatory documents neither ticked as seen nor attached as a page."""
    have = set(data.get("seen", [])) | {p["doc_code"] for p in data.get("pages", [])}
    return [d for d in service.documents if d.mandatory and d.code not in have]


def first_incomplete(data: Mapping, catalogue: Catalogue) -> str | None:
    """The first step the draft has not completed (a name of ``STEPS``), or None when it may be submitted."""
    try:
        service = catalogue.service(data.get("service", ""))
    except UnknownService:
        return "service"
    if citizen_errors(data):
        return "citizen"
    if missing_documents(data, service):
        return "documents"
    return None


def citizen(data: Mapping) -> Citizen:
    """The citizen of a complete draft."""
    return Citizen(national_id.parse(data["national_id"]), data["name"], data.get("mobile") or None)


def payment(data: Mapping, service: Service) -> rq.Payment:
    """The payment as typed; an empty amount means the service's fee (the van takes the exact fee only), except
    for a service whose amount is assessed case by case: its amount must be typed.

    Raises InvalidAmount or InvalidPayment with words for the operator."""
    if service.fee_assessed and not data["amount"].strip():
        raise rq.InvalidPayment(
            "amount-assessed",
            "اكتب المبلغ المقدَّر المطلوب سداده كما في ملف الطلب.",
            "Type the assessed amount to be paid, as in the application's file.",
            detail="assessed service without an amount",
        )
    amount = parse_egp(data["amount"]) if data["amount"].strip() else service.fee_piastres
    return rq.Payment(data["method"], amount, data["reference"] or None)

"""The citizen's receipt: what it shows and carries (a signed QR code when the van has a signing key, the
national ID masked), printing it after a submission or on request, and the receipt page that says whether
the paper came out."""

from __future__ import annotations

from flask import g, redirect, render_template, session, url_for

from edge.core import national_id as nid_mod
from edge.core import requests as rq
from edge.store import clock
from edge.store import requests as store_requests
from edge.web import i18n, printing, signing
from edge.web.context import catalogue, get_db, settings
from edge.web.operator.blueprint import audit, bp, login_required
from edge.web.qr import svg


def receipt_data(number: str) -> dict:
    """The receipt of request ``number`` as the page and the printer both show it."""
    found = store_requests.get(get_db(), number)
    service = catalogue().service(found.service_code)
    qr_text = signing.receipt_code(settings().data_dir, found.number, found.service_code,
                                   found.citizen_national_id, clock.parse(found.created_at))
    return {"r": found, "service": service, "qr_text": qr_text,
            "masked_id": nid_mod.mask(found.citizen_national_id)}


def print_receipt(number: str, *, reprint: bool = False) -> printing.PrintOutcome:
    """Send the receipt to the printer (marked as training in training mode); a printer problem is the
    outcome's words, never an exception: the request is already saved."""
    d = receipt_data(number)
    found, service = d["r"], d["service"]
    job = printing.PrintJob("receipt", i18n.current(), {
        "number": found.number, "service_code": service.code, "service_ar": service.name_ar,
        "service_en": service.name_en,
        "citizen_name": found.citizen_name, "national_id_masked": d["masked_id"],
        "fee_piastres": found.fee_piastres, "payment_method": found.payment_method,
        "payment_reference": found.payment_reference, "expected_ready_on": found.expected_ready_on,
        "submitted_at": found.created_at, "operator": found.operator, "van": settings().van.id,
    }, qr=d["qr_text"], training=bool(g.get("training")), reprint=reprint)
    return printing.submit(job)


def print_notice(number: str, outcome: printing.PrintOutcome) -> dict:
    """What the receipt page says about the paper, carried across the redirect."""
    return {"number": number, "printed": outcome.printed, "queued": outcome.queued,
            "ar": outcome.message_ar, "en": outcome.message_en}


@bp.get("/requests/<number>/receipt")
@login_required
def receipt(number: str):
    d = receipt_data(number)
    printed = session.pop("printed", None)
    return render_template("operator/receipt.html", **d, labels=rq.STATE_LABELS,
                           qr=svg(d["qr_text"], label=number), printed=printed)


@bp.post("/requests/<number>/reprint")
@login_required
def reprint(number: str):
    outcome = print_receipt(number, reprint=True)
    audit("receipt.reprint", number, {"printed": outcome.printed})
    session["printed"] = print_notice(number, outcome)
    return redirect(url_for("operator.receipt", number=number))


"""A signed code survives the paper: the QR printed on a receipt or a ticket, decoded back from the printed
image with the van's own QR decoder, gives the same string, and that string verifies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from edge.core import codes, issuing, trust
from edge.devices.printer.layout import Qr, Receipt, TicketSlip, layout
from edge.devices.printer.preview import render
from edge.devices.printer.raster import qr_image
from edge.devices.qr import decode_image

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def keys():
    ca = issuing.make_ca("01", now=NOW - timedelta(days=30))
    van = issuing.make_van_signer(ca, "V007", now=NOW - timedelta(days=30))
    trusted = trust.verify_list(issuing.make_trust_list(ca, [van.certificate], now=NOW), ca.certificate)
    return van, trusted


def _gray(image) -> np.ndarray:
    return np.array(image.convert("L"))


def _receipt(code: str) -> Receipt:
    return Receipt(number="007-261121-0001-5", service_code="BLD-NEW", service_ar="ترخيص إنشاء مبنى جديد",
                   service_en="Building permit - new construction", citizen_name="أحمد ع*** ح***",
                   fee_piastres=150000, payment_method="cash", payment_reference=None,
                   submitted_at="2026-11-21T10:00:00+02:00", expected_ready_on="2026-12-21", duration_days=30,
                   van_id="V007", van_name="", governorate="01", qr=code)


def test_receipt_qr_decoded_from_the_printed_page_is_the_signed_code(keys):
    van, trusted = keys
    code = codes.issue(van, "receipt", "007-261121-0001-5", "BLD-NEW", now=NOW, national_id="29001011234567")
    blocks = layout(_receipt(code))
    assert any(isinstance(b, Qr) and b.data == code for b in blocks)
    assert decode_image(_gray(render(blocks))) == [code]
    assert codes.verify(code, trusted, now=NOW).verdict.value == "valid"


def test_ticket_and_permit_codes_survive_the_raster_fallback(keys):
    van, trusted = keys
    permit = codes.issue(van, "permit", "007-261121-0001-5", "BLD-NEW", now=NOW, expires_at=NOW + timedelta(days=365))
    ticket = codes.issue(van, "ticket", "A007", "BLD", now=NOW, expires_at=NOW + timedelta(hours=12))
    for code in (permit, ticket):
        # The raster a printer without native QR gets, at the module size the layout uses.
        image = qr_image(code, module=4)
        assert decode_image(_gray(image)) == [code]
        assert codes.verify(code, trusted, now=NOW).verdict.value == "valid"


def test_ticket_slip_with_a_code_prints_a_readable_qr(keys):
    van, _ = keys
    code = codes.issue(van, "ticket", "A007", "BLD", now=NOW, expires_at=NOW + timedelta(hours=12))
    slip = TicketSlip(number="A007", category_ar="تراخيص البناء", category_en="Building permits", priority="none",
                      issued_at="2026-11-21T10:00:00+02:00", people_ahead=3, wait_minutes=12, van_id="V007",
                      van_name="", governorate="01", qr=code)
    assert decode_image(_gray(render(layout(slip)))) == [code]

"""Benchmark: bytes and render time of a standard receipt and a queue ticket, against the naive full-raster page.

Measured in one run: our encoding (text as text, the QR as the printer's own command, raster only for
tight Arabic lines) and the naive baseline (the whole page as one ``GS v 0`` raster, as drawn by the
preview renderer), with the seconds each takes on a 115200-baud serial line (10 bits a byte). The last
line printed is one JSON object.

    .venv/bin/python -m bench.printer [runs]
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from edge.core import catalogue as catalogue_mod
from edge.devices.printer import encode as escpos_encode
from edge.devices.printer import preview as printer_preview
from edge.devices.printer import raster as printer_raster
from edge.devices.printer.layout import Receipt, TicketSlip, layout, mask_name

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
BAUD = 115200
# A signed EG1 receipt code of typical length (from tests/vectors/codes-v1.json).
EG1 = ("EG1:NCF$80O20FFWTWGSLKC 4999AOHJPPY64FGP*6BERKQIC+86DF3D70/8F100000V%K UC646..6Y50%-DD46TF6%96OF6646746R"
       "V6J2D*S9XW5LY8/T0:6265C27BVWJO:KACTA:V..EF8GR.OS.H3/2W%600PHD1HCD*4N%S81ED25AG4MW58GCU%IKRQPA-552W314* "
       "6609N15MPDC73OM7JOE6JV.J6")


def documents():
    service = catalogue_mod.load_default().services[0]
    receipt = Receipt(
        number="007-261121-0001-5", service_code=service.code, service_ar=service.name_ar,
        service_en=service.name_en, citizen_name=mask_name("محمد أحمد عبد الرحمن"), fee_piastres=service.fee_piastres,
        payment_method="cash", payment_reference=None, submitted_at="2026-11-21T08:00:00+00:00",
        expected_ready_on="2026-11-24", duration_days=service.duration_days, van_id="V007", van_name="Nile 1",
        governorate="01", qr=EG1)
    ticket = TicketSlip(number="A007", category_ar="الأحوال المدنية", category_en="Civil registry",
                        priority="elderly", issued_at="2026-11-21T08:05:00+00:00", people_ahead=3, wait_minutes=15,
                        van_id="V007", van_name="Nile 1", governorate="01")
    return {"receipt": receipt, "ticket": ticket}


def _timed(fn, runs: int) -> tuple[object, float, float]:
    """(result, median ms, first-call ms): layout caches fonts, so the first call is reported apart."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return result, statistics.median(times), times[0]


def main() -> None:
    printer_raster.require_raqm()
    profile = escpos_encode.PrinterProfile.named()
    out: dict = {"benchmark": "printer", "profile": profile.name, "paper_dots": profile.width, "baud": BAUD,
                 "runs": RUNS}
    first_call_done = False
    for kind, doc in documents().items():
        ours, ms, first = _timed(lambda d=doc: escpos_encode.encode(layout(d, profile.paper), profile), RUNS)
        page = printer_preview.render(layout(doc, profile.paper), profile.paper)
        naive, naive_ms, _ = _timed(
            lambda d=doc: escpos_encode.naive_raster(printer_preview.render(layout(d, profile.paper), profile.paper),
                                                     profile), RUNS)
        if not first_call_done:
            out["first_render_ms"] = round(first, 1)
            first_call_done = True
        out[f"{kind}_bytes"] = len(ours)
        out[f"{kind}_render_ms"] = round(ms, 2)
        out[f"{kind}_seconds_at_{BAUD}"] = round(len(ours) * 10 / BAUD, 2)
        out[f"{kind}_page_dots"] = f"{page.width}x{page.height}"
        out[f"{kind}_naive_bytes"] = len(naive)
        out[f"{kind}_naive_render_ms"] = round(naive_ms, 2)
        out[f"{kind}_naive_seconds_at_{BAUD}"] = round(len(naive) * 10 / BAUD, 2)
        out[f"{kind}_bytes_ratio_vs_naive"] = round(len(ours) / len(naive), 3)
        print(f"{kind}: {len(ours):,} bytes ({len(ours) * 10 / BAUD:.2f} s at {BAUD} baud), render {ms:.1f} ms; "
              f"naive full raster {len(naive):,} bytes ({len(naive) * 10 / BAUD:.2f} s), {naive_ms:.1f} ms",
              file=sys.stderr)
    out["render_ms"] = out["receipt_render_ms"]
    out["target_receipt_bytes"] = 20 * 1024
    out["meets_target"] = out["receipt_bytes"] <= 20 * 1024
    print(json.dumps(out))


if __name__ == "__main__":
    main()

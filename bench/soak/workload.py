"""The van's counter during the soak: serves the planned citizens through the store API, as the web app does.

Runs as its own process in the van's namespace (it stands for ``edge web``: it is SIGKILLed and restarted
with the sync agent at every power cut). For citizen ``i`` of the plan, at its planned time:

1. a queue ticket is issued, called, started and finished (``edge.store.tickets``);
2. the console's new-request wizard: a draft (``edge.store.drafts.create``), 1–3 scanned pages kept
   with it (``drafts.add_page``: a durable file each, where it stays), then ``drafts.submit``: the request,
   its citizen, payment, history, outbox and audit rows and every page (``documents.record``) in one
   transaction.

These are the calls the web app's handlers make. What is done is looked up before it is done again, so
a restarted workload resumes instead of serving a citizen twice (a draft left by the power cut is
discarded and the wizard started again, as an operator would): what counts is what the van's database
committed. Between citizens it hands over the requests the
governorate has made ``ready`` (a van-side state change, reported up the ``tx`` stream), and now and
then the printer's paper runs low and is refilled (a device change: telemetry goes at once).
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import time
from pathlib import Path

from edge import config
from edge.core import catalogue as catalogue_mod
from edge.core import requests as rq
from edge.core.citizens import Citizen
from edge.core.national_id import parse
from edge.store import device_status, drafts, tickets
from edge.store import requests as store_requests
from edge.store.db import open_db
from edge.store.migrations import migrate

OPERATOR = "operator:1"
SUPERVISOR = "operator:9"  # confirms an assessed amount


def national_id(i: int) -> str:
    """A distinct valid national ID per citizen of the plan (born 1990-01-01, Cairo)."""
    return f"290010101{i:04d}1"


def page_bytes(seed: int, citizen: int, page: int, size: int) -> bytes:
    """A scanned page's file: JPEG markers around seeded random bytes (incompressible, like a JPEG)."""
    rng = random.Random(f"{seed}/{citizen}/{page}")
    header = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return header + rng.randbytes(size - len(header) - 2) + b"\xff\xd9"


def request_of(db, i: int) -> str | None:
    row = db.execute("SELECT r.number FROM requests r JOIN citizens c ON c.id = r.citizen_id "
                     "WHERE c.national_id = ?", [national_id(i)]).fetchone()
    return row[0] if row else None


def serve(db, settings: config.Settings, cat, seed: int, i: int, citizen: dict) -> None:
    if db.execute("SELECT count(*) FROM tickets").fetchone()[0] <= i:
        tickets.issue(db, cat, citizen["category"])  # the kiosk
        called = tickets.call_next(db, 1, OPERATOR)  # the operator's console
        if called is not None:
            tickets.start(db, called.number, OPERATOR)
            tickets.finish(db, called.number, OPERATOR)
    if request_of(db, i) is not None:
        return
    # The console's new-request wizard: a draft, each scanned page kept with it, then one transaction
    # registering the request with all its pages (edge.store.drafts.submit).
    draft = drafts.create(db, OPERATOR)
    for page, size in enumerate(citizen["pages"], start=1):
        content = page_bytes(seed, i, page, size)
        drafts.add_page(db, settings.documents_dir, draft, OPERATOR, citizen["doc_code"], content)
    service = cat.service(citizen["service"])
    person = Citizen(parse(national_id(i)), citizen["name"], citizen["mobile"])
    # A service whose amount is assessed case by case: the file's amount, confirmed by the supervisor.
    amount = (1 + i % 97) * 10_000 if service.fee_assessed else service.fee_piastres
    drafts.submit(db, settings.documents_dir, draft, van_id=settings.van.id, catalogue=cat, service_code=service.code,
                  citizen=person, payment=rq.Payment("cash", amount), operator=OPERATOR,
                  confirmed_by=SUPERVISOR if service.fee_assessed else None)


def discard_drafts(db, settings: config.Settings) -> int:
    """A power cut in the middle of the wizard leaves a draft: the operator starts that citizen again."""
    ids = [r[0] for r in db.execute("SELECT id FROM request_drafts WHERE operator = ?", [OPERATOR])]
    for draft in ids:
        drafts.discard(db, settings.documents_dir, draft, OPERATOR)
    return len(ids)


def hand_over_ready(db) -> int:
    """Citizens come back for what the governorate made ready: the operator hands it over."""
    numbers = [r[0] for r in db.execute("SELECT number FROM requests WHERE state = 'ready' ORDER BY number")]
    for number in numbers:
        store_requests.change_state(db, number, rq.RequestState.DELIVERED, source="van", actor=OPERATOR)
    return len(numbers)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--plan", required=True, help="plan.json written by the soak")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    settings = config.load(Path(args.config))
    plan = json.loads(Path(args.plan).read_text())
    start, seed = plan["start_epoch"], plan["seed"]
    db = open_db(settings.db_path)
    migrate(db)
    cat = catalogue_mod.load_default()
    discard_drafts(db, settings)
    citizens = plan["citizens"]
    i, done = 0, False
    while True:
        # The first citizen not (fully) served yet: a power cut may have stopped us in the middle of one.
        while i < len(citizens) and _served(db, i, citizens[i]):
            i += 1
        if i < len(citizens) and time.time() >= start + citizens[i]["at_s"]:
            serve(db, settings, cat, seed, i, citizens[i])
            if i % 25 == 12:
                device_status.report(db, "printer", "printer", "warning", message_en="paper low")
            elif i % 25 == 20:
                device_status.report(db, "printer", "printer", "ok")
            continue
        hand_over_ready(db)
        if i >= len(citizens) and not done:
            done = True
            print(json.dumps({"served": i, "at": time.time()}), flush=True)
        time.sleep(0.2)


def _served(db, i: int, citizen: dict) -> bool:
    number = request_of(db, i)
    if number is None:
        return False
    pages = db.execute("SELECT count(*) FROM documents WHERE request_number = ?", [number]).fetchone()[0]
    return pages >= len(citizen["pages"])


if __name__ == "__main__":
    main()

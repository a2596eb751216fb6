"""The van's multi-step writes, as the crash-point test drives them (tests/support/crashpoints.py).

Each scenario prepares a van folder (``van.db``, ``documents/``, ``keys/``…), says how to run the operation
in the child (``load`` returns it, everything it needs read beforehand), what may be seen after a crash
at any step and a restart (``check``), how the operation is tried again (``retry``: the operator presses
the button again, the hub redelivers), and what must hold in the end (``check_done``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from edge.core import catalogue as catalogue_mod
from edge.core import requests as rq
from edge.core.citizens import Citizen
from edge.core.national_id import parse
from edge.store import documents, drafts, print_jobs, retention
from edge.store import requests as store_requests
from edge.store.db import open_db
from edge.store.migrations import migrate

OPERATOR = "operator:3"
CITIZEN = Citizen(parse("29001010112355"), "منى أحمد حسن", "01012345678")
NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def page(i: int) -> bytes:
    """A small JPEG-looking page, different for each ``i``."""
    return b"\xff\xd8\xff\xe0" + bytes([i % 256]) * 2000 + bytes(range(256)) * 4 + b"\xff\xd9"


def _db(root: Path):
    db = open_db(root / "van.db")
    migrate(db)
    return db


def _state(root: Path) -> dict:
    return json.loads((root / "scenario.json").read_text())


def _save_state(root: Path, **values) -> None:
    (root / "scenario.json").write_text(json.dumps(values))


def _submit(db, root: Path, draft: str) -> str:
    cat = catalogue_mod.load_default()
    service = cat.services[0]
    return str(drafts.submit(db, root / "documents", draft, van_id="V007", catalogue=cat,
                             service_code=service.code, citizen=CITIZEN,
                             payment=rq.Payment("cash", service.fee_piastres), operator=OPERATOR))


def _draft_pages(db, draft: str) -> list[dict] | None:
    try:
        return drafts.get(db, draft, OPERATOR)["pages"]
    except drafts.UnknownDraft:
        return None


class Scenario:
    name = ""
    unsynced: tuple[str, ...] = ()  # files the operation writes without needing them durable

    def prepare(self, root: Path) -> None: ...

    def load(self, root: Path, db) -> Callable[[], None]: ...

    def check(self, root: Path, db) -> list[str]:
        return []

    def retry(self, root: Path, db) -> None: ...

    def check_done(self, root: Path, db) -> list[str]:
        return []


class Intake(Scenario):
    """A page scanned into the wizard's draft (edge.store.drafts.add_page): the file, then the draft."""

    name = "intake"

    def __init__(self, pages: int = 1):
        self.pages = pages

    def prepare(self, root):
        db = _db(root)
        _save_state(root, draft=drafts.create(db, OPERATOR))
        db.close()

    def load(self, root, db):
        draft = _state(root)["draft"]
        return lambda: [drafts.add_page(db, root / "documents", draft, OPERATOR, "NID", page(i))
                        for i in range(self.pages)]

    def check(self, root, db):
        pages = _draft_pages(db, _state(root)["draft"])
        if pages is None:
            return ["the draft is gone"]
        return [] if len(pages) <= self.pages else [f"{len(pages)} pages in the draft, {self.pages} scanned"]

    def retry(self, root, db):
        draft = _state(root)["draft"]
        for i in range(len(_draft_pages(db, draft)), self.pages):  # the operator scans what is not shown
            drafts.add_page(db, root / "documents", draft, OPERATOR, "NID", page(i))

    def check_done(self, root, db):
        pages = _draft_pages(db, _state(root)["draft"]) or []
        kept = sorted((root / "documents" / drafts.page_path(_state(root)["draft"], p)).read_bytes() for p in pages)
        return [] if kept == sorted(page(i) for i in range(self.pages)) else ["the draft's pages are not those scanned"]


class Corners(Scenario):
    """The corner step (issue 17): a second photo replaces the one held for its corners
    (edge.store.drafts.hold_photo), then the page straightened from it is attached and the photo forgotten in
    the same commit (``add_page(release_photo=True)``)."""

    name = "corners"
    FINDING = {"width": 1600, "height": 1200, "found": False, "score": 0.0, "corners": [0.1, 0.1, 0.9, 0.1,
                                                                                       0.9, 0.9, 0.1, 0.9]}

    def prepare(self, root):
        db = _db(root)
        draft = drafts.create(db, OPERATOR)
        drafts.hold_photo(db, root / "documents", draft, OPERATOR, "NID", page(1), page(2), self.FINDING)
        _save_state(root, draft=draft)
        db.close()

    def _photo_then_page(self, db, root, draft):
        drafts.hold_photo(db, root / "documents", draft, OPERATOR, "NID", page(3), page(4), self.FINDING)
        drafts.add_page(db, root / "documents", draft, OPERATOR, "NID", page(5), release_photo=True)

    def load(self, root, db):
        draft = _state(root)["draft"]
        return lambda: self._photo_then_page(db, root, draft)

    def check(self, root, db):
        data = drafts.get(db, _state(root)["draft"], OPERATOR)
        held = data.get("photo")
        if data["pages"]:
            return [] if held is None and len(data["pages"]) == 1 else ["a page attached and its photo still held"]
        if held is None:
            return ["the draft lost its photo before a page was attached"]
        photo = (root / "documents" / held["path"]).read_bytes()
        preview = (root / "documents" / held["preview"]).read_bytes()
        return [] if (photo, preview) in ((page(1), page(2)), (page(3), page(4))) else ["a photo and another's preview"]

    def retry(self, root, db):
        draft = _state(root)["draft"]
        if not drafts.get(db, draft, OPERATOR)["pages"]:  # the operator takes the photo again and uses it
            self._photo_then_page(db, root, draft)

    def check_done(self, root, db):
        draft = _state(root)["draft"]
        data = drafts.get(db, draft, OPERATOR)
        left = sorted(p.read_bytes() for p in (root / "documents").rglob("*") if p.is_file())
        problems = [] if "photo" not in data else ["the photo is still held"]
        return problems + ([] if left == [page(5)] else [f"{len(left)} file(s) left, not the one page"])


class Recorners(Scenario):
    """A page attached at once, straightened again from its photo (issue 17): the new page takes the old one's
    number and place, and the photo is forgotten, in one commit (``add_page(release_photo=True, replaces=…)``);
    the old page's and the photo's files go after it."""

    name = "recorners"

    def prepare(self, root):
        db = _db(root)
        draft = drafts.create(db, OPERATOR)
        first = drafts.add_page(db, root / "documents", draft, OPERATOR, "NID", page(1))
        drafts.add_page(db, root / "documents", draft, OPERATOR, "NID", page(2))
        drafts.hold_photo(db, root / "documents", draft, OPERATOR, "NID", page(3), page(4),
                          {**Corners.FINDING, "found": True, "replaces": first["file"]})
        _save_state(root, draft=draft, first=first)
        db.close()

    def _again(self, db, root):
        state = _state(root)
        drafts.add_page(db, root / "documents", state["draft"], OPERATOR, "NID", page(5), release_photo=True,
                        replaces=state["first"]["file"])

    def load(self, root, db):
        return lambda: self._again(db, root)

    def _kept(self, root, data) -> list[bytes]:
        return [(root / "documents" / drafts.page_path(_state(root)["draft"], p)).read_bytes() for p in data["pages"]]

    def check(self, root, db):
        data = drafts.get(db, _state(root)["draft"], OPERATOR)
        numbers = [p["page"] for p in data["pages"]]
        if numbers != [1, 2]:
            return [f"pages numbered {numbers}, not 1 and 2"]
        kept = self._kept(root, data)
        if kept == [page(1), page(2)]:  # before the commit: as it was, the photo still held to try again
            return [] if isinstance(data.get("photo"), dict) else ["the old page kept but its photo forgotten"]
        if kept == [page(5), page(2)]:
            return [] if "photo" not in data else ["the page replaced and its photo still held"]
        return ["the draft's pages are neither the old ones nor the new one in the first's place"]

    def retry(self, root, db):
        if isinstance(drafts.get(db, _state(root)["draft"], OPERATOR).get("photo"), dict):
            self._again(db, root)  # the operator presses "Use this page" again

    def check_done(self, root, db):
        data = drafts.get(db, _state(root)["draft"], OPERATOR)
        left = sorted(p.read_bytes() for p in (root / "documents").rglob("*") if p.is_file())
        problems = [] if self._kept(root, data) == [page(5), page(2)] else ["not the new page in the first's place"]
        return problems + ([] if left == sorted([page(5), page(2)]) else [f"{len(left)} file(s) left, not two pages"])


class Submit(Scenario):
    """The wizard's last step (edge.store.drafts.submit): the request, its pages, their outbox rows, the
    draft deleted — and the photo it still held (kept to check its last page) deleted after the commit."""

    name = "submit"

    def __init__(self, pages: int = 3):
        self.pages = pages

    def prepare(self, root):
        db = _db(root)
        draft = drafts.create(db, OPERATOR)
        for i in range(self.pages):
            last = drafts.add_page(db, root / "documents", draft, OPERATOR, ("NID", "OWNERSHIP")[i % 2], page(i))
        drafts.hold_photo(db, root / "documents", draft, OPERATOR, last["doc_code"], page(90), page(91),
                          {**Corners.FINDING, "found": True, "replaces": last["file"]})
        _save_state(root, draft=draft)
        db.close()

    def load(self, root, db):
        draft = _state(root)["draft"]
        catalogue_mod.load_default()
        return lambda: _submit(db, root, draft)

    def check(self, root, db):
        requests = db.execute("SELECT number FROM requests").fetchall()
        pages = _draft_pages(db, _state(root)["draft"])
        if len(requests) == 1 and pages is None:
            return self.check_done(root, db)
        if not requests and pages is not None:
            return [] if len(pages) == self.pages else [f"the draft has {len(pages)} of its {self.pages} pages"]
        return [f"{len(requests)} request(s) and the draft {'kept' if pages is not None else 'gone'}: half a submit"]

    def retry(self, root, db):
        if _draft_pages(db, _state(root)["draft"]) is not None:
            _submit(db, root, _state(root)["draft"])

    def check_done(self, root, db):
        requests = [r[0] for r in db.execute("SELECT number FROM requests")]
        if len(requests) != 1:
            return [f"{len(requests)} requests, not 1"]
        kept = documents.for_request(db, requests[0])
        contents = sorted((root / "documents" / d.path).read_bytes() for d in kept)
        if contents != sorted(page(i) for i in range(self.pages)):
            return [f"the request has {len(kept)} pages, not the {self.pages} scanned"]
        left = sorted(p.read_bytes() for p in (root / "documents").rglob("*") if p.is_file())
        return [] if left == contents else [f"{len(left) - len(contents)} file(s) left beside the request's pages"]


class UnsafeSubmit(Submit):
    """Submit as it was before issue 16 — each page moved into the request's folder inside the transaction —
    for the crash-point test's test of itself: it must be found unsafe."""

    def load(self, root, db):
        import os

        from edge.store.db import transaction

        draft, cat = _state(root)["draft"], catalogue_mod.load_default()
        docs = root / "documents"

        def old_submit():
            data = drafts.get(db, draft, OPERATOR)
            service = cat.services[0]
            with transaction(db):
                number = str(store_requests.submit(db, van_id="V007", catalogue=cat, service_code=service.code,
                                                   citizen=CITIZEN, payment=rq.Payment("cash", service.fee_piastres),
                                                   operator=OPERATOR))
                for i, entry in enumerate(data["pages"]):
                    relative = f"{number}/{entry['doc_code']}-{i}.jpg"
                    (docs / number).mkdir(exist_ok=True)
                    os.replace(docs / drafts.page_path(draft, entry), docs / relative)
                    documents.record(db, number, entry["doc_code"], i + 1, documents.read_page(docs, relative))
                db.execute("DELETE FROM request_drafts WHERE id = ?", [draft])

        return old_submit


class Discard(Scenario):
    """The operator abandons a request in progress (edge.store.drafts.discard): the draft, then its files."""

    name = "discard"

    def prepare(self, root):
        Submit(pages=2).prepare(root)

    def load(self, root, db):
        draft = _state(root)["draft"]
        return lambda: drafts.discard(db, root / "documents", draft, OPERATOR)

    def check(self, root, db):
        pages = _draft_pages(db, _state(root)["draft"])
        return [] if pages is None or len(pages) == 2 else ["a discarded draft lost some pages but not all"]

    def retry(self, root, db):
        if _draft_pages(db, _state(root)["draft"]) is not None:
            drafts.discard(db, root / "documents", _state(root)["draft"], OPERATOR)

    def check_done(self, root, db):
        left = [p for p in (root / "documents").rglob("*") if p.is_file()]
        return [f"{len(left)} file(s) of a discarded draft left"] if left else []


class Printing(Scenario):
    """The print worker's pass over a queued ticket: claim (committed), bytes to the printer, printed."""

    name = "print"
    unsynced = ("paper.bin",)  # paper is paper: what reached the printer is not undone by a power cut

    def prepare(self, root):
        from edge.devices.printer.layout import TicketSlip

        db = _db(root)
        ticket = TicketSlip(number="A007", category_ar="الأحوال المدنية", category_en="Civil registry",
                            priority="elderly", issued_at="2026-11-21T08:05:00+00:00", people_ahead=3,
                            wait_minutes=15, van_id="V007", van_name="Nile 1", governorate="01")
        print_jobs.add(db, "ticket", ticket.to_payload(), ref=ticket.number)
        db.close()

    def _worker(self, root):
        from edge.devices import printer as printer_mod
        from edge.services.print_worker import PrintWorker

        return PrintWorker(root / "van.db", printer_mod.open_printer(f"file://{root / 'paper.bin'}"))

    def load(self, root, db):
        worker = self._worker(root)
        return lambda: worker.run_once(db)

    def _prints(self, root) -> list[bool]:
        """One entry per print on the paper (they end with a cut): True when it carries the REPRINT mark."""
        from edge.devices.printer import escpos_read as esc

        paper = root / "paper.bin"
        prints, current = [], []
        for command in esc.decode(paper.read_bytes()) if paper.exists() else []:
            if isinstance(command, esc.Cut):
                prints.append(current)
                current = []
            else:
                current.append(command)
        if esc.texts(current):
            prints.append(current)  # a print the crash cut short
        return ["*** REPRINT ***" in esc.texts(p) for p in prints]

    def check(self, root, db):
        job = print_jobs.get(db, 1)
        prints = self._prints(root)
        if job.state == "printed" and not prints:
            return ["the job is 'printed' and nothing reached the printer"]
        if job.state == "queued" and prints and not job.reprint:
            return ["the job may be on paper and will print again without the REPRINT mark"]
        return [] if job.state in ("printed", "queued") else [f"job state {job.state}"]

    def retry(self, root, db):
        if print_jobs.get(db, 1).state == "queued":
            self._worker(root).run_once(db)

    def check_done(self, root, db):
        job, prints = print_jobs.get(db, 1), self._prints(root)
        problems = [] if job.state == "printed" else [f"job state {job.state}, not printed"]
        if not prints:
            problems.append("the ticket never reached the printer")
        if len(prints) > 1 and not all(prints[1:]):
            problems.append("a second copy without the REPRINT mark")
        return problems


class Downlink(Scenario):
    """Three messages from the governorate applied in turn (edge.sync.downlink.apply): a decision on a
    request, a catalogue, a trust list (a file in keys/ and rows)."""

    name = "downlink"

    def prepare(self, root):
        from cryptography.hazmat.primitives import serialization

        from edge.core import issuing, trust
        from edge.sync import protocol as p

        db = _db(root)
        cat = catalogue_mod.load_default()
        service = cat.services[0]
        number = str(store_requests.submit(db, van_id="V007", catalogue=cat, service_code=service.code,
                                           citizen=CITIZEN, payment=rq.Payment("cash", service.fee_piastres),
                                           operator=OPERATOR, now=NOW))
        db.close()
        ca = issuing.make_ca("01", now=NOW - timedelta(days=30))
        van = issuing.make_van_signer(ca, "V007", now=NOW - timedelta(days=30))
        keys = root / "keys"
        keys.mkdir()
        (keys / trust.CA_CERT_FILE).write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
        (keys / trust.TRUST_LIST_FILE).write_bytes(issuing.make_trust_list(ca, [van.certificate], now=NOW))
        v2 = issuing.make_trust_list(ca, [van.certificate], now=NOW, version=2)
        newer = catalogue_mod.to_dict(cat) | {"version": 2}
        messages = [p.RequestStatus(number, "ready", None, "2026-11-21T09:00:00Z"), p.Catalog(2, newer),
                    p.TrustList(v2)]
        wire = []
        for i, m in enumerate(messages):
            wire.append((m.kind, p.encode_down(m, van="V007", msg_id=f"01JD0WN{'0' * 18}{i}", now=NOW)
                         .decode("latin-1")))
        (root / "downlinks.json").write_text(json.dumps(wire))
        (root / "trust-v2.cose").write_bytes(v2)

    def _apply_all(self, root, db, decoded) -> None:
        from edge.sync import downlink

        for down in decoded:
            downlink.apply(db, down, root / "keys", now=NOW)

    def _decoded(self, root):
        from edge.sync import protocol as p

        return [p.decode_down(data.encode("latin-1"), van="V007", kind=kind, now=NOW)
                for kind, data in json.loads((root / "downlinks.json").read_text())]

    def load(self, root, db):
        decoded = self._decoded(root)
        return lambda: self._apply_all(root, db, decoded)

    def _facts(self, root, db) -> list[tuple[str, bool, bool, list]]:
        """(msg_id, inbox says applied, its effect is there, its answers to the hub) for each message."""
        from edge.core import trust

        number = db.execute("SELECT number FROM requests").fetchone()[0]
        effects = [
            store_requests.get(db, number).state.value == "ready",
            db.execute("SELECT 1 FROM catalogues WHERE version = 2").fetchone() is not None,
            (root / "keys" / trust.TRUST_LIST_FILE).read_bytes() == (root / "trust-v2.cose").read_bytes(),
        ]
        facts = []
        for down, effect in zip(self._decoded(root), effects, strict=True):
            row = db.execute("SELECT outcome FROM inbox WHERE msg_id = ?", [down.msg_id]).fetchone()
            answers = [json.loads(r[0])["outcome"] for r in db.execute(
                "SELECT body FROM outbox WHERE kind = 'downlink.applied' AND json_extract(body, '$.msg_id') = ?",
                [down.msg_id])]
            facts.append((down.kind, None if row is None else row[0], effect, answers))
        return facts

    def check(self, root, db):
        problems = []
        for kind, outcome, effect, answers in self._facts(root, db):
            if outcome is not None and outcome != "applied":
                problems.append(f"{kind}: recorded {outcome}")
            if (outcome == "applied") != effect and not (kind == "trust-list" and effect):
                # a trust list is written just before its row commits: in force and not yet recorded is allowed
                problems.append(f"{kind}: inbox {outcome}, effect {'there' if effect else 'missing'}")
            if answers != ([outcome] if outcome else []):
                problems.append(f"{kind}: answers to the hub {answers} for inbox {outcome}")
        return problems

    def retry(self, root, db):
        self._apply_all(root, db, self._decoded(root))  # the hub sends them again (never acked)

    def check_done(self, root, db):
        return [f"{kind}: inbox {outcome}, effect {effect}, answers {answers}"
                for kind, outcome, effect, answers in self._facts(root, db)
                if outcome != "applied" or not effect or answers != ["applied"]]


class Retention(Scenario):
    """Personal data erased after retention (edge.store.retention.purge_personal_data): rows, then files."""

    name = "retention"

    def __init__(self, pages: int = 2):
        self.pages = pages

    def prepare(self, root):
        db = _db(root)
        Submit(self.pages).prepare(root)
        db.close()
        db = open_db(root / "van.db")
        _submit(db, root, _state(root)["draft"])
        old = "2026-08-01T08:00:00Z"
        db.execute("UPDATE requests SET created_at = ?", [old])
        db.execute("UPDATE outbox SET delivered_at = ?", [old])
        db.conn.commit()
        db.close()

    def load(self, root, db):
        return lambda: retention.purge_personal_data(db, root / "documents", NOW, personal_data_days=90)

    def check(self, root, db):
        name = db.execute("SELECT citizen_name FROM requests").fetchone()[0]
        docs = db.execute("SELECT count(*) FROM documents").fetchone()[0]
        if (name == "") != (docs == 0):
            return [f"half erased: name {'blank' if name == '' else 'kept'}, {docs} documents"]
        return []

    def retry(self, root, db):
        retention.purge_personal_data(db, root / "documents", NOW, personal_data_days=90)

    def check_done(self, root, db):
        problems = self.check(root, db)
        if db.execute("SELECT count(*) FROM documents").fetchone()[0]:
            problems.append("documents kept after retention")
        left = [p for p in (root / "documents").rglob("*") if p.is_file()]
        if left:
            problems.append(f"{len(left)} scanned file(s) of an erased request left on the disk")
        if db.execute("SELECT count(*) FROM outbox WHERE body LIKE '%29001010112355%'").fetchone()[0]:
            problems.append("the national ID is still in the outbox")
        return problems


class ShiftClose(Scenario):
    """The close of a shift with a hand-over (edge.store.shifts.close, issue 19): the shift frozen with its totals,
    the audit entries, the next operator's shift opened with the counted cash, the Z-report in the outbox."""

    name = "shift-close"
    NEXT = "operator:4"

    def prepare(self, root):
        from edge.store import shifts

        db = _db(root)
        cat = catalogue_mod.load_default()
        service = cat.services[0]
        shift = shifts.open_shift(db, operator=OPERATOR, opening_float=10_000, now=NOW)
        numbers = [str(store_requests.submit(db, van_id="V007", catalogue=cat, service_code=service.code,
                                             citizen=CITIZEN, payment=rq.Payment("cash", service.fee_piastres),
                                             operator=OPERATOR, now=NOW, shift_id=shift.id)) for _ in range(3)]
        store_requests.cancel(db, numbers[0], "طلب المواطن", actor=OPERATOR, confirmed_by="operator:1",
                              shift_id=shift.id, now=NOW)
        _save_state(root, shift=shift.id, counted=10_000 + 2 * service.fee_piastres)
        db.close()

    def _close(self, root, db):
        from edge.store import shifts

        st = _state(root)
        shifts.close(db, st["shift"], van_id="V007", counted_cash=st["counted"], closed_by=OPERATOR,
                     hand_over_to=self.NEXT, now=NOW + timedelta(hours=8))

    def load(self, root, db):
        from edge.store import shifts  # noqa: F401 - imported before the crash points start

        return lambda: self._close(root, db)

    def check(self, root, db):
        state = db.execute("SELECT state FROM shifts WHERE id = ?", [_state(root)["shift"]]).fetchone()[0]
        reports = db.execute("SELECT COUNT(*) FROM outbox WHERE kind = 'shift.closed'").fetchone()[0]
        following = db.execute("SELECT COUNT(*) FROM shifts WHERE operator = ?", [self.NEXT]).fetchone()[0]
        if state == "open":
            return [] if (reports, following) == (0, 0) else [f"an open shift with {reports} report(s) and "
                                                               f"{following} next shift(s): half a close"]
        return self.check_done(root, db)

    def retry(self, root, db):
        if db.execute("SELECT state FROM shifts WHERE id = ?", [_state(root)["shift"]]).fetchone()[0] == "open":
            self._close(root, db)

    def check_done(self, root, db):
        from edge.store import audit_log, shifts

        st = _state(root)
        closed = shifts.get(db, st["shift"])
        problems = []
        if closed.is_open or closed.difference_piastres != 0 or closed.totals.requests != 3:
            problems.append(f"the shift is {closed.state}, difference {closed.difference_piastres}")
        nxt = shifts.current(db, self.NEXT)
        if nxt is None or nxt.opening_float_piastres != st["counted"] or nxt.received_from != st["shift"]:
            problems.append("the next operator's shift did not open with the counted cash")
        reports = db.execute("SELECT COUNT(*) FROM outbox WHERE kind = 'shift.closed'").fetchone()[0]
        if reports != 1:
            problems.append(f"{reports} Z-reports in the outbox, not 1")
        if audit_log.verify(db) is not None:
            problems.append("the audit chain is broken")
        return problems


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (Intake(), Corners(), Recorners(), Submit(), Discard(), Printing(),
                                                       Downlink(), Retention(), ShiftClose())}
# ``python -m bench.crashpoints``: more pages, so more steps (the child finds them as "large:NAME").
LARGE: dict[str, Scenario] = {**SCENARIOS, "intake": Intake(pages=4), "submit": Submit(pages=10),
                              "retention": Retention(pages=8)}


def find(key: str) -> Scenario:
    table, _, name = key.rpartition(":")
    return {"large": LARGE, "old": {"submit": UnsafeSubmit()}}.get(table, SCENARIOS)[name]

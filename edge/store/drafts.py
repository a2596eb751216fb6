"""New-request wizard drafts: what an operator has entered so far, kept server-side until the request is submitted."""

from __future__ import annotations

import json
import secrets
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import sqlite_utils

from edge.core import requests as rq
from edge.core.catalogue import Catalogue
from edge.core.citizens import Citizen
from edge.core.errors import EdgeError
from edge.store import clock, documents, requests
from edge.store.db import transaction

STAGING = ".staging"  # under the documents folder, so moving a page into place is a rename


class UnknownDraft(EdgeError):
    code = "draft-unknown"

    def __init__(self):
        super().__init__(
            "لم يعد هذا الطلب الجاري موجودًا (ربما قُدِّم أو انتهت مدته). ابدأ طلبًا جديدًا.",
            "This request in progress no longer exists (it was submitted or it expired). Start a new request.",
        )


def create(db: sqlite_utils.Database, operator: str, *, now: datetime | None = None) -> str:
    draft_id = secrets.token_urlsafe(12)
    at = clock.iso(now or clock.now())
    with transaction(db):
        db.execute("INSERT INTO request_drafts (id, operator, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                   [draft_id, operator, json.dumps({"pages": []}), at, at])
    return draft_id


def get(db: sqlite_utils.Database, draft_id: str, operator: str) -> dict:
    """The draft's data; only the operator who started it may see it."""
    row = db.execute("SELECT data FROM request_drafts WHERE id = ? AND operator = ?",
                     [draft_id, operator]).fetchone()
    if row is None:
        raise UnknownDraft()
    return json.loads(row[0])


def save(db: sqlite_utils.Database, draft_id: str, operator: str, data: dict, *, now: datetime | None = None) -> None:
    with transaction(db):
        cur = db.execute("UPDATE request_drafts SET data = ?, updated_at = ? WHERE id = ? AND operator = ?",
                         [json.dumps(data, ensure_ascii=False), clock.iso(now or clock.now()), draft_id, operator])
        if cur.rowcount == 0:
            raise UnknownDraft()


def staging_dir(documents_dir: Path, draft_id: str) -> Path:
    return Path(documents_dir) / STAGING / draft_id


def add_page(db, documents_dir: Path, draft_id: str, operator: str, doc_code: str, content: bytes,
             *, now: datetime | None = None) -> dict:
    """Keep an uploaded or scanned page with the draft until submission; returns the page entry."""
    ctype = documents.sniff(content)
    data = get(db, draft_id, operator)
    page = 1 + max((p["page"] for p in data["pages"] if p["doc_code"] == doc_code), default=0)
    name = f"{secrets.token_hex(8)}.{documents.EXTENSIONS[ctype]}"
    documents.write_file(staging_dir(documents_dir, draft_id), name, content)
    entry = {"doc_code": doc_code, "page": page, "file": name, "content_type": ctype, "size": len(content)}
    data["pages"].append(entry)
    save(db, draft_id, operator, data, now=now)
    return entry


def remove_page(db, documents_dir: Path, draft_id: str, operator: str, file: str) -> None:
    data = get(db, draft_id, operator)
    kept = [p for p in data["pages"] if p["file"] != file]
    if len(kept) != len(data["pages"]):
        (staging_dir(documents_dir, draft_id) / Path(file).name).unlink(missing_ok=True)
        data["pages"] = kept
        save(db, draft_id, operator, data)


def submit(
    db: sqlite_utils.Database,
    documents_dir: Path,
    draft_id: str,
    *,
    van_id: str,
    catalogue: Catalogue,
    service_code: str,
    citizen: Citizen,
    payment: rq.Payment,
    operator: str,
    now: datetime | None = None,
) -> rq.RequestNumber:
    """Register the request (edge.store.requests.submit), attach the draft's pages, delete the draft:
    one transaction, so the governorate never gets a request whose pages were lost, nor pages without one."""
    now = now or clock.now()
    data = get(db, draft_id, operator)
    stage = staging_dir(documents_dir, draft_id)
    with transaction(db):
        number = requests.submit(db, van_id=van_id, catalogue=catalogue, service_code=service_code,
                                 citizen=citizen, payment=payment, operator=operator, now=now)
        # Pages renumbered per document, in the order they were added.
        counters: dict[str, int] = {}
        for entry in data["pages"]:
            counters[entry["doc_code"]] = counters.get(entry["doc_code"], 0) + 1
            documents.attach(db, documents_dir, str(number), entry["doc_code"], counters[entry["doc_code"]],
                             stage / entry["file"], now=now)
        db.execute("DELETE FROM request_drafts WHERE id = ?", [draft_id])
    shutil.rmtree(stage, ignore_errors=True)
    return number


def discard(db: sqlite_utils.Database, documents_dir: Path, draft_id: str, operator: str) -> None:
    with transaction(db):
        db.execute("DELETE FROM request_drafts WHERE id = ? AND operator = ?", [draft_id, operator])
    shutil.rmtree(staging_dir(documents_dir, draft_id), ignore_errors=True)


def purge(db: sqlite_utils.Database, documents_dir: Path, older_than: timedelta, *, now: datetime | None = None) -> int:
    """Forget drafts nobody touched for ``older_than`` (an abandoned wizard), with their staged pages."""
    cutoff = clock.iso((now or clock.now()) - older_than)
    with transaction(db):
        ids = [r[0] for r in db.execute("SELECT id FROM request_drafts WHERE updated_at < ?", [cutoff]).fetchall()]
        db.execute("DELETE FROM request_drafts WHERE updated_at < ?", [cutoff])
    for draft_id in ids:
        shutil.rmtree(staging_dir(documents_dir, draft_id), ignore_errors=True)
    return len(ids)

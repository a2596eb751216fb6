"""New-request wizard drafts: what an operator has entered so far, kept server-side until the request is submitted."""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
from datetime import datetime, timedelta
from pathlib import Path

import sqlite_utils

from edge.core import requests as rq
from edge.core.catalogue import Catalogue
from edge.core.citizens import Citizen
from edge.core.errors import EdgeError
from edge.store import clock, disk, documents, requests
from edge.store.db import transaction

log = logging.getLogger(__name__)
LEGACY_STAGING = ".staging"  # where versions before 2026-12 kept a draft's pages until submission


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


def page_path(draft_id: str, entry: dict) -> str:
    """Where a draft's page is kept, relative to the documents folder (a draft saved by an older version
    kept its pages under ``.staging/<draft>/``)."""
    return entry.get("path") or f"{LEGACY_STAGING}/{draft_id}/{Path(entry['file']).name}"


def photo_paths(data: dict) -> list[str]:
    """The files of the photo held for the operator's corners (the photo and its preview), if any."""
    held = data.get("photo")
    if not isinstance(held, dict):
        return []
    return [p for p in (held.get("path"), held.get("preview")) if isinstance(p, str)]


def referenced(db: sqlite_utils.Database) -> set[str]:
    """Every file path the drafts in progress name (for the sweeper)."""
    paths = set()
    for draft_id, data in db.execute("SELECT id, data FROM request_drafts").fetchall():
        try:
            data = json.loads(data)
            paths.update(page_path(draft_id, e) for e in data.get("pages", []))
            paths.update(photo_paths(data))
        except (ValueError, TypeError, KeyError, AttributeError):
            continue  # a draft edited into nonsense names nothing; its wizard says so when opened
    return paths


def add_page(db, documents_dir: Path, draft_id: str, operator: str, doc_code: str, content: bytes,
             *, reserve: int = 0, release_photo: bool = False, replaces: str | None = None,
             now: datetime | None = None) -> dict:
    """Keep an uploaded or scanned page with the draft until submission; returns the page entry.

    The page is refused (:class:`~edge.store.disk.DiskFull`) unless ``reserve`` bytes stay free after it:
    the operator learns it before the citizen's paper is taken in, and the room left goes to transactions.
    The file is durable before the draft names it; if the draft cannot be saved the file goes again.
    ``release_photo``: the page was straightened from the photo held for its corners; the same commit forgets
    that photo, whose files go after it. ``replaces``: the file of a page this one takes the place of (its number
    and place in the list; the same commit, the old file deleted after it); when that page is gone, this one is
    added as any other.
    """
    ctype = documents.sniff(content)
    data = get(db, draft_id, operator)
    disk.ensure_room(documents_dir, len(content), reserve)
    old = next((i for i, p in enumerate(data["pages"]) if replaces and p["file"] == replaces), None)
    if old is not None:
        doc_code, page = data["pages"][old]["doc_code"], data["pages"][old]["page"]
    else:
        page = 1 + max((p["page"] for p in data["pages"] if p["doc_code"] == doc_code), default=0)
    relative = documents.write_page(documents_dir, draft_id, content)
    entry = {"doc_code": doc_code, "page": page, "file": Path(relative).name, "path": relative,
             "content_type": ctype, "size": len(content)}
    replaced = []
    if old is not None:
        replaced = [page_path(draft_id, data["pages"][old])]
        data["pages"][old] = entry
    else:
        data["pages"].append(entry)
    released = photo_paths(data) if release_photo else []
    if release_photo:
        data.pop("photo", None)
    try:
        with disk.full_is_clear(documents_dir):
            save(db, draft_id, operator, data, now=now)
    except BaseException:
        _unlink(documents_dir, relative)
        raise
    for path in (*released, *replaced):
        _unlink(documents_dir, path)
    return entry


def hold_photo(db, documents_dir: Path, draft_id: str, operator: str, doc_code: str, photo: bytes, preview: bytes,
               finding: dict, *, reserve: int = 0, now: datetime | None = None) -> dict:
    """Keep a photo of a page (and a smaller copy to show) with the draft while the operator checks its corners.

    One photo is held at a time: a new one replaces the last (whose files go after the commit). ``finding``
    is what the finder said (JSON: the corners as fractions, the score, whether it found a page). Files are
    durable before the draft names them, as for pages; the photo never leaves the van."""
    data = get(db, draft_id, operator)
    disk.ensure_room(documents_dir, len(photo) + len(preview), reserve)
    written = [documents.write_page(documents_dir, draft_id, photo)]
    try:
        written.append(documents.write_page(documents_dir, draft_id, preview))
        replaced = photo_paths(data)
        data["photo"] = {**finding, "doc_code": doc_code, "path": written[0], "preview": written[1]}
        with disk.full_is_clear(documents_dir):
            save(db, draft_id, operator, data, now=now)
    except BaseException:
        for path in written:
            _unlink(documents_dir, path)
        raise
    for path in replaced:
        _unlink(documents_dir, path)
    return data["photo"]


def drop_photo(db, documents_dir: Path, draft_id: str, operator: str) -> None:
    """Forget the photo held for its corners (committed), then delete its files."""
    data = get(db, draft_id, operator)
    gone = photo_paths(data)
    if "photo" in data:
        data.pop("photo")
        save(db, draft_id, operator, data)
    for path in gone:
        _unlink(documents_dir, path)


def remove_page(db, documents_dir: Path, draft_id: str, operator: str, file: str) -> None:
    """Take a page off the draft (committed), then delete its file — and the photo kept to check it, if any (the
    same commit)."""
    data = get(db, draft_id, operator)
    gone = [p for p in data["pages"] if p["file"] == file]
    if gone:
        data["pages"] = [p for p in data["pages"] if p["file"] != file]
        held = data.get("photo")
        photo = photo_paths(data) if isinstance(held, dict) and held.get("replaces") == file else []
        if photo:
            data.pop("photo")
        save(db, draft_id, operator, data)
        for entry in gone:
            _unlink(documents_dir, page_path(draft_id, entry))
        for path in photo:
            _unlink(documents_dir, path)


class MissingPage(EdgeError):
    code = "draft-page-missing"

    def __init__(self, entry: dict, detail: str):
        super().__init__(
            "صفحة ممسوحة من هذا الطلب لم تعد محفوظة على العربة. احذفها وامسحها مرة أخرى، ثم قدّم الطلب.",
            "A scanned page of this request is no longer kept on the van. Remove it and scan it again, "
            "then submit.",
            detail=f"{entry.get('doc_code')} page {entry.get('page')}: {detail}",
        )


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
    training: bool = False,
    confirmed_by: str | None = None,
    shift_id: int | None = None,
) -> rq.RequestNumber:
    """Register the request (edge.store.requests.submit), its pages and their outbox rows, and delete the
    draft: one transaction and no file operation, because the pages' files are already where the
    ``documents`` rows will say. A crash or a full disk at any instant leaves either the request with all
    its pages, or the draft as it was, to submit again. A photo still held (for its corners, or kept to check a
    page attached at once) is deleted after the commit: the request never names it (a crash in between leaves
    a file no row names, which the sweeper removes)."""
    now = now or clock.now()
    data = get(db, draft_id, operator)
    kept = []
    for entry in data["pages"]:
        try:
            kept.append((entry, documents.read_page(documents_dir, page_path(draft_id, entry))))
        except OSError as exc:
            raise MissingPage(entry, str(exc)) from exc
    # Pages renumbered per document, in the order they were added.
    counters: dict[str, int] = {}
    numbered = []
    for entry, page in kept:
        counters[entry["doc_code"]] = counters.get(entry["doc_code"], 0) + 1
        numbered.append((entry["doc_code"], counters[entry["doc_code"]], page))
    seen = data.get("seen") if isinstance(data.get("seen"), list) else []
    with disk.full_is_clear(documents_dir), transaction(db):
        number = requests.submit(db, van_id=van_id, catalogue=catalogue, service_code=service_code,
                                 citizen=citizen, payment=payment, operator=operator, now=now, training=training,
                                 confirmed_by=confirmed_by, shift_id=shift_id,
                                 originals_seen=sorted({str(c) for c in seen}),
                                 pages=[{"doc_code": c, "page": n, "sha256": p.sha256} for c, n, p in numbered])
        for doc_code, n, page in numbered:
            documents.record(db, str(number), doc_code, n, page, now=now)
        if db.execute("DELETE FROM request_drafts WHERE id = ?", [draft_id]).rowcount != 1:
            raise UnknownDraft()  # submitted a moment ago from another tab: roll this one back
    for path in photo_paths(data):
        _unlink(documents_dir, path)
    return number


def discard(db: sqlite_utils.Database, documents_dir: Path, draft_id: str, operator: str) -> None:
    """Forget a draft (committed), then delete its pages' files."""
    with transaction(db):
        row = db.execute("SELECT data FROM request_drafts WHERE id = ? AND operator = ?",
                         [draft_id, operator]).fetchone()
        db.execute("DELETE FROM request_drafts WHERE id = ? AND operator = ?", [draft_id, operator])
    if row is not None:
        _remove_files(documents_dir, draft_id, row[0])


def purge(db: sqlite_utils.Database, documents_dir: Path, older_than: timedelta, *, now: datetime | None = None) -> int:
    """Forget drafts nobody touched for ``older_than`` (an abandoned wizard), with their staged pages."""
    cutoff = clock.iso((now or clock.now()) - older_than)
    with transaction(db):
        rows = db.execute("SELECT id, data FROM request_drafts WHERE updated_at < ?", [cutoff]).fetchall()
        db.execute("DELETE FROM request_drafts WHERE updated_at < ?", [cutoff])
    # Files after the commit: a crash in between leaves files no row names, which the sweeper removes.
    for draft_id, data in rows:
        _remove_files(documents_dir, draft_id, data)
    return len(rows)


def _remove_files(documents_dir: Path, draft_id: str, data: str) -> None:
    try:
        parsed = json.loads(data)
        pages, photo = parsed.get("pages", []), photo_paths(parsed)
    except (ValueError, AttributeError):
        pages, photo = [], []
    for entry in pages:
        if isinstance(entry, dict):
            _unlink(documents_dir, page_path(draft_id, entry))
    for path in photo:
        _unlink(documents_dir, path)
    for folder in (Path(documents.PAGES) / draft_id, Path(LEGACY_STAGING) / draft_id):
        with contextlib.suppress(OSError):
            (Path(documents_dir) / folder).rmdir()  # only once empty


def _unlink(documents_dir: Path, relative: str) -> None:
    try:
        (Path(documents_dir) / relative).unlink(missing_ok=True)
    except OSError as exc:  # left for the sweeper
        log.warning("could not delete %s: %s", relative, exc)

"""Scanned pages of a request: files under the documents folder, a ``documents`` row and a ``doc`` outbox row each."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlite_utils

from edge.core.errors import EdgeError
from edge.store import clock, outbox
from edge.store.db import transaction

MAX_BYTES = 10 * 1024 * 1024
# What a scanner or a phone produces. The type is read from the file's first bytes, never trusted
# from the browser: a renamed file must not travel to the governorate as an "image".
_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"%PDF-", "application/pdf", "pdf"),
)
EXTENSIONS = {ctype: ext for _, ctype, ext in _MAGIC}
_SAFE = re.compile(r"[^A-Za-z0-9_-]")


class InvalidDocument(EdgeError):
    code = "document-invalid"


@dataclass(frozen=True)
class StoredDocument:
    id: int
    request_number: str
    doc_code: str
    page: int
    content_type: str
    path: str  # relative to the documents folder
    size: int
    sha256: str
    created_at: str


def sniff(content: bytes) -> str:
    """The content type of a scanned page, or InvalidDocument saying what is accepted."""
    if not content:
        raise InvalidDocument(
            "الملف فارغ. امسح الصفحة مرة أخرى.",
            "The file is empty. Scan the page again.",
        )
    if len(content) > MAX_BYTES:
        raise InvalidDocument(
            "الملف أكبر من ١٠ ميجابايت. امسح الصفحة بدقة أقل (٢٠٠ نقطة في البوصة تكفي).",
            "The file is larger than 10 MB. Scan the page at a lower resolution (200 dpi is enough).",
            detail=f"{len(content)} bytes",
        )
    for magic, ctype, _ext in _MAGIC:
        if content.startswith(magic):
            return ctype
    raise InvalidDocument(
        "نوع الملف غير مقبول. الأنواع المقبولة: صورة JPEG أو PNG أو ملف PDF.",
        "This kind of file is not accepted. Use a JPEG or PNG image or a PDF.",
        detail=f"first bytes {content[:8]!r}",
    )


def write_file(directory: Path, name: str, content: bytes) -> Path:
    """Write ``content`` to ``directory/name`` durably (temporary file, fsync, rename)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    tmp = directory / f".{name}.tmp"
    with open(tmp, "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)
    return target


def attach(
    db: sqlite_utils.Database,
    documents_dir: Path,
    request_number: str,
    doc_code: str,
    page: int,
    source: Path,
    *,
    now: datetime | None = None,
) -> StoredDocument:
    """Move a scanned file (already on disk, e.g. a wizard's staging copy) to the request's folder,
    and record it with its ``doc.upload`` outbox row, in one transaction (nested in the caller's).

    The file is moved inside the transaction: if the move fails nothing is recorded; if the
    transaction fails after the move, a file without a row is left behind, never a row without a file.
    """
    now = now or clock.now()
    content = Path(source).read_bytes()
    ctype = sniff(content)
    digest = hashlib.sha256(content).hexdigest()
    folder = Path(_SAFE.sub("_", request_number))
    relative = folder / f"{_SAFE.sub('_', doc_code)}-{page}.{EXTENSIONS[ctype]}"
    at = clock.iso(now)
    with transaction(db):
        cur = db.execute(
            "INSERT INTO documents (request_number, doc_code, page, content_type, path, size, sha256, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [request_number, doc_code, page, ctype, str(relative), len(content), digest, at],
        )
        outbox.enqueue_document(db, request_number=request_number, path=str(relative), sha256=digest,
                                size=len(content), content_type=ctype, now=now)
        target = Path(documents_dir) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
    return StoredDocument(cur.lastrowid, request_number, doc_code, page, ctype, str(relative), len(content),
                          digest, at)


def for_request(db: sqlite_utils.Database, request_number: str) -> list[StoredDocument]:
    rows = db.execute(
        "SELECT id, request_number, doc_code, page, content_type, path, size, sha256, created_at FROM documents "
        "WHERE request_number = ? ORDER BY doc_code, page",
        [request_number],
    ).fetchall()
    return [StoredDocument(*r) for r in rows]


def get(db: sqlite_utils.Database, doc_id: int) -> StoredDocument | None:
    row = db.execute(
        "SELECT id, request_number, doc_code, page, content_type, path, size, sha256, created_at FROM documents "
        "WHERE id = ?",
        [doc_id],
    ).fetchone()
    return StoredDocument(*row) if row else None

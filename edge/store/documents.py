"""Scanned pages of a request: files under the documents folder, a ``documents`` row and a ``doc`` outbox row each.

A page's file is written once, durably, where it stays (``pages/<draft>/<random>.jpg``), and only then does
a commit name it: first in the wizard's draft, then, at submission, in the ``documents`` row. Nothing is
moved inside a transaction, so at every instant a row names a file that is there; a file nobody names
(the process stopped between the two) is swept later (``edge.store.sweep``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlite_utils

from edge.core.errors import EdgeError
from edge.store import clock, files, outbox
from edge.store.db import transaction

MAX_BYTES = 10 * 1024 * 1024
PAGES = "pages"  # under the documents folder: pages/<intake folder>/<random>.<ext>
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


def write_page(documents_dir: Path, folder: str, content: bytes) -> str:
    """Keep a scanned page in its final place, before any row refers to it; returns its path relative to
    the documents folder. The file is durable before the caller commits the row that names it, and a file
    no row names (a crash in between) is removed by :func:`edge.store.sweep.sweep`."""
    ctype = sniff(content)
    relative = Path(PAGES) / _SAFE.sub("_", folder) / f"{secrets.token_hex(8)}.{EXTENSIONS[ctype]}"
    files.write_file(Path(documents_dir) / relative.parent, relative.name, content)
    return relative.as_posix()


@dataclass(frozen=True)
class Page:
    """A kept page read back for registration: its bytes' facts, checked before the transaction."""

    relative: str
    content_type: str
    size: int
    sha256: str


def read_page(documents_dir: Path, relative: str) -> Page:
    content = (Path(documents_dir) / relative).read_bytes()
    return Page(relative, sniff(content), len(content), hashlib.sha256(content).hexdigest())


def record(
    db: sqlite_utils.Database,
    request_number: str,
    doc_code: str,
    page: int,
    kept: Page,
    *,
    now: datetime | None = None,
) -> StoredDocument:
    """Register a kept page as one of a request's documents, with its ``doc.upload`` outbox row, in one
    transaction (nested in the caller's). No file moves: the file is already where the row says."""
    now = now or clock.now()
    at = clock.iso(now)
    with transaction(db):
        cur = db.execute(
            "INSERT INTO documents (request_number, doc_code, page, content_type, path, size, sha256, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [request_number, doc_code, page, kept.content_type, kept.relative, kept.size, kept.sha256, at],
        )
        outbox.enqueue_document(db, request_number=request_number, path=kept.relative, sha256=kept.sha256,
                                size=kept.size, content_type=kept.content_type, now=now)
    return StoredDocument(cur.lastrowid, request_number, doc_code, page, kept.content_type, kept.relative,
                          kept.size, kept.sha256, at)


def referenced(db: sqlite_utils.Database) -> set[str]:
    """Every file path (relative to the documents folder) a request's document names."""
    return {r[0] for r in db.execute("SELECT path FROM documents").fetchall()}


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

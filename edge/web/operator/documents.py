"""Scanned pages: taking a page from the van's scanner, a photo of the paper or an uploaded file (for the
wizard's documents step), and serving the pages of a draft and of a registered request."""

from __future__ import annotations

from flask import abort, g, send_file

from edge.services import scanning
from edge.store import documents, drafts
from edge.web.context import documents_dir, get_db, settings
from edge.web.operator.blueprint import bp, login_required


def photo_of_page(upload, *, scan: bool, photo: bool) -> tuple[bytes, str] | None:
    """The photo to find the page in: a frame from the overhead document camera (Scan, when the van's scanner is
    a ``camera://``) or an uploaded photo of the paper; None when the page comes whole (:func:`page_content`)."""
    if scan:
        frame = scanning.camera_photo(get_db(real=True), settings().devices.scanner)
        return None if frame is None else (frame, "camera")
    return (upload.read(), "photo") if photo else None


def page_content(upload, *, scan: bool) -> tuple[bytes, str]:
    """The bytes to attach: a scan from the van's scanner (one PDF of its pages, JPEGs inside unchanged), or an
    uploaded file as it is. A failed scan raises :class:`edge.services.scanning.ScannerError` (words for the
    operator); the scanner's status row says so."""
    if scan:
        return scanning.scan_pdf(get_db(real=True), settings().devices.scanner), "scanner"
    return upload.read(), "upload"


@bp.get("/documents/<int:doc_id>")
@login_required
def document_file(doc_id: int):
    doc = documents.get(get_db(), doc_id)
    if doc is None:
        abort(404)
    return send_file(documents_dir() / doc.path, mimetype=doc.content_type, max_age=0)


@bp.get("/requests/new/<draft_id>/page/<name>")
@login_required
def draft_page(draft_id: str, name: str):
    data = drafts.get(get_db(), draft_id, g.operator["actor"])
    entry = next((p for p in data["pages"] if p["file"] == name), None)
    if entry is None:
        abort(404)
    return send_file(documents_dir() / drafts.page_path(draft_id, entry), mimetype=entry["content_type"],
                     max_age=0)

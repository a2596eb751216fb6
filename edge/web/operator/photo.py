"""The corner step: a photo of a page whose edges the finder was not sure of, shown with four handles — or, asked
for, the photo of a page the finder was sure of and attached at once (finders are sometimes sure and wrong: a
banknote's printed frame, a reflection hiding an edge), to straighten again in its place.

The photo (uploaded, or a frame of the overhead document camera) is kept with the draft, with a smaller copy
to show (:func:`edge.store.drafts.hold_photo`). The page shows that copy with the finder's corners (or a
rectangle inside the photo when it found no page) as four handles the operator drags with a finger, the
mouse or the arrow keys (``static/js/corners.js``); beside it, the page as it would come out, drawn again
whenever a handle is let go (:func:`straightened`). "Use this page" straightens the full photo along the
corners chosen and attaches it; "Discard the photo" forgets it. Without JavaScript the form still works:
it sends the finder's corners.
"""

from __future__ import annotations

from pathlib import Path

from flask import abort, g, redirect, render_template, request, send_file, url_for

from edge.core import drafts as draft_rules
from edge.core.errors import EdgeError
from edge.services import scanning
from edge.store import disk, documents, drafts
from edge.web.context import documents_dir, get_db, service_or_none, settings
from edge.web.operator.blueprint import audit, bp, login_required


def reserve() -> int:
    """Bytes that must stay free after a page or a photo is kept: the room left goes to transactions."""
    return settings().storage.reserve_mb * disk.MB


def hold_for_corners(draft_id: str, actor: str, doc_code: str, photo: bytes, finding: scanning.Finding,
                     replaces: str | None = None) -> None:
    """Keep ``photo`` with the draft for the corner step (with its preview copy and what the finder said);
    ``replaces``: the page already straightened from it at once (the finder was sure), which the operator may still
    check and straighten again."""
    if not _is_kept_format(photo):  # a WebP from a phone: kept as the JPEG it decodes to
        photo = scanning.photo_preview(photo, side=None)
    drafts.hold_photo(get_db(), documents_dir(), draft_id, actor, doc_code, photo, scanning.photo_preview(photo),
                      {"width": finding.width, "height": finding.height, "found": finding.found,
                       "score": round(finding.score, 3), "corners": finding.fractions(), "replaces": replaces},
                      reserve=reserve())


def _is_kept_format(content: bytes) -> bool:
    try:
        return documents.sniff(content) in ("image/jpeg", "image/png")
    except EdgeError:
        return False


def _held(draft_id: str) -> tuple[dict, dict]:
    data = drafts.get(get_db(), draft_id, g.operator["actor"])
    held = data.get("photo")
    if not isinstance(held, dict):
        abort(redirect(url_for("operator.wizard", draft_id=draft_id, step="documents")))
    return data, held


@bp.get("/requests/new/<draft_id>/photo")
@login_required
def photo_corners(draft_id: str):
    data, held = _held(draft_id)
    return _render(draft_id, data, held, held["corners"], None)


@bp.get("/requests/new/<draft_id>/photo/preview")
@login_required
def photo_preview(draft_id: str):
    _, held = _held(draft_id)
    return send_file(documents_dir() / held["preview"], mimetype="image/jpeg", max_age=0)


@bp.get("/requests/new/<draft_id>/photo/straightened")
@login_required
def straightened(draft_id: str):
    """The page the corners in ``?corners=`` would give (a small JPEG), or 422 when they outline no page."""
    _, held = _held(draft_id)
    try:
        fractions = scanning.parse_corners(request.args.get("corners", ""))
        image = scanning.straightened_preview((documents_dir() / held["preview"]).read_bytes(), fractions)
    except EdgeError as exc:
        return {"ar": exc.message_ar, "en": exc.message_en}, 422
    return image, 200, {"Content-Type": "image/jpeg", "Cache-Control": "no-store"}


class OtherPhoto(EdgeError):
    code = "photo-replaced"

    def __init__(self):
        super().__init__("هذه الصورة لم تعد الصورة المنتظرة: أُضيفت صورة أخرى بعد فتح هذه الصفحة (ربما من نافذة أخرى). "
                         "راجع الصورة المعروضة الآن ثم اختر من جديد.",
                         "This is no longer the photo waiting: another one was added after this page was opened "
                         "(perhaps in another window). Check the photo shown now, then choose again.")


@bp.post("/requests/new/<draft_id>/photo")
@login_required
def photo_decide(draft_id: str):
    data, held = _held(draft_id)
    db, actor = get_db(), g.operator["actor"]
    if request.form.get("photo") != Path(held["path"]).name:  # the form was shown for another photo (a stale tab)
        return _render(draft_id, data, held, held["corners"], OtherPhoto()), 409
    if request.form.get("discard"):  # or, for a page attached at once, keep that page as it is
        drafts.drop_photo(db, documents_dir(), draft_id, actor)
        if held.get("replaces"):
            audit("document.photo_kept_as_attached", draft_id, {"document": held["doc_code"]})
        return redirect(url_for("operator.wizard", draft_id=draft_id, step="documents"))
    typed = request.form.get("corners", "")
    try:
        fractions = scanning.parse_corners(typed)
        quad = scanning.corners_in_photo(fractions, held["width"], held["height"])
        content = scanning.photo_pdf((documents_dir() / held["path"]).read_bytes(), quad)
        drafts.add_page(db, documents_dir(), draft_id, actor, held["doc_code"], content, reserve=reserve(),
                        release_photo=True, replaces=held.get("replaces"))
        moved = [round(a - b, 4) for a, b in zip(fractions, held["corners"], strict=True)]
        audit("document.attach_page", draft_id, {"document": held["doc_code"], "from": "photo",
                                                  "corners": "moved" if any(moved) else "as-found",
                                                  **({"replaced": True} if held.get("replaces") else {})})
    except EdgeError as exc:
        return _render(draft_id, data, held, typed, exc), 422
    return redirect(url_for("operator.wizard", draft_id=draft_id, step="documents"))


def _render(draft_id: str, data: dict, held: dict, corners, error: EdgeError | None) -> str:
    service = service_or_none(data.get("service"))
    document = next((d for d in (service.documents if service else ()) if d.code == held["doc_code"]), None)
    if isinstance(corners, list):
        corners = ",".join(f"{v:.4f}" for v in corners)
    return render_template("operator/wizard_photo.html", step="documents", steps=list(draft_rules.STEPS),
                           draft_id=draft_id, data=data, service=service, document=document, held=held,
                           photo_name=Path(held["path"]).name,
                           found_corners=",".join(f"{v:.4f}" for v in held["corners"]), corners=corners,
                           view=_view(held, corners), error=error, bad_corners=scanning.BadCorners())


def _view(held: dict, corners: str) -> dict:
    """The preview's size in pixels (what the SVG over it measures in) and the handles' places on it."""
    w, h = held["width"], held["height"]
    scale = min(1.0, scanning.PREVIEW_SIDE / max(w, h))
    vw, vh = max(1, round(w * scale)), max(1, round(h * scale))
    try:
        values = scanning.parse_corners(corners)
    except EdgeError:
        values = held["corners"]
    values = [min(1.0, max(0.0, v)) if v == v else 0.0 for v in values]
    points = [(round(values[i] * (vw - 1), 1), round(values[i + 1] * (vh - 1), 1)) for i in range(0, 8, 2)]
    return {"w": vw, "h": vh, "points": points, "r": round(0.022 * max(vw, vh), 1)}

"""JSON endpoints of the van's web process: health for now; later blueprints add more."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from edge.store import clock, device_status, outbox

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/health")
def health():
    from edge.web.app import get_db

    settings = current_app.config["EDGE_SETTINGS"]
    db = get_db()
    backlog = outbox.backlog(db)
    age = backlog.oldest_age(clock.now())
    devices = device_status.current(db)
    return jsonify(
        van=settings.van.id,
        governorate=settings.van.governorate,
        outbox={"pending": backlog.pending, "by_stream": backlog.by_stream,
                "oldest_age_s": None if age is None else round(age.total_seconds())},
        devices={d.device: d.state for d in devices},
    )

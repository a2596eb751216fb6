"""JSON endpoints of the van's web process: health for now; later blueprints add more."""

from __future__ import annotations

from flask import Blueprint, jsonify

from edge.web.api import health as health_check
from edge.web.context import settings

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/health")
def health():
    """200 when the van can serve citizens and report to the governorate, else 503 with the reasons."""
    answer = health_check.check(settings())
    return jsonify(answer), 200 if answer["healthy"] else 503

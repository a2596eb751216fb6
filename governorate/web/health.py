"""``/healthz``: is this web process able to serve (its database answers, at the schema it knows)? For a load
balancer, a monitor or ``curl`` after an upgrade; no sign-in, and it says nothing about vans or citizens."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app

from governorate import migrations

bp = Blueprint("health", __name__)
log = logging.getLogger("governorate.web.health")


@bp.route("/healthz")
def healthz():
    store = current_app.extensions["hub_store"]
    checks: dict[str, str] = {}
    try:
        version = store._read("SELECT max(version) FROM schema_migrations")[0][0]
        checks["database"] = "ok" if version == migrations.LATEST else f"schema {version}, expected {migrations.LATEST}"
    except Exception as exc:  # noqa: BLE001 - whatever the database does, the answer is a 503, not a 500
        log.warning("health check: the database does not answer: %s", exc)
        checks["database"] = f"unavailable: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return {"ok": ok, "checks": checks}, 200 if ok else 503, {"Cache-Control": "no-store"}

"""Is the van healthy? Read from its database: readable, printer and scanner not in fault, outbox not stuck."""

from __future__ import annotations

import importlib.metadata
import sqlite3
from datetime import datetime

from edge.config import Settings
from edge.core.errors import EdgeError
from edge.store import clock, device_status, outbox, sync_state
from edge.store.db import open_db

# A fault of these stops the van's service to citizens (no receipt, no scanned document); a camera,
# GPS or modem fault is the watch's and the hub's business (docs/monitoring.md).
SERVICE_DEVICES = ("printer", "scanner")


def reason(check: str, message_en: str, message_ar: str, **extra) -> dict:
    return {"check": check, "message": message_en, "message_ar": message_ar, **extra}


def software_version() -> str:
    """The version of the software answering, as ``edge --version`` says it: after an update's switch, the update's
    health check (edge.update.install.Health) tells the new process from an old one still answering."""
    try:
        return importlib.metadata.version("mtc-edge")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def check(settings: Settings, now: datetime | None = None) -> dict:
    """The health answer: ``healthy`` and every ``reason`` it is not, with the backlog and device states."""
    now = now or clock.now()
    answer = {"van": settings.van.id, "governorate": settings.van.governorate, "version": software_version(),
              "healthy": True, "reasons": [], "outbox": None, "devices": None, "sync": None}
    try:
        db = open_db(settings.db_path, must_exist=True)
        try:
            backlog = outbox.backlog(db)
            devices = device_status.current(db)
            link = sync_state.link(db)
        finally:
            db.close()
    except (EdgeError, sqlite3.Error, OSError) as exc:
        answer["reasons"].append(reason(
            "database", "The van database cannot be read.", "تعذّرت قراءة قاعدة بيانات العربة.",
            detail=getattr(exc, "detail", "") or str(exc)))
    else:
        age = backlog.oldest_age(now)
        age_s = None if age is None else round(age.total_seconds())
        answer["outbox"] = {"pending": backlog.pending, "by_stream": backlog.by_stream, "oldest_age_s": age_s}
        answer["devices"] = {d.device: d.state for d in devices}
        # Not a reason to be unhealthy (a van out of signal still serves citizens); an update's health check
        # compares it with what it was before the switch (edge.update.install.Health).
        answer["sync"] = link
        for d in devices:
            if d.kind in SERVICE_DEVICES and d.state == "error":
                answer["reasons"].append(reason(d.kind, d.message_en or f"The {d.kind} is in fault.",
                                                d.message_ar or "الجهاز معطّل.", device=d.device, since=d.since))
        limit_min = settings.health.outbox_stuck_after_min
        if age_s is not None and age_s > limit_min * 60:
            minutes = age_s // 60
            answer["reasons"].append(reason(
                "outbox", f"The oldest record not yet delivered to the governorate is {minutes} minutes old "
                          f"(limit {limit_min}).",
                f"أقدم سجل لم يصل إلى المحافظة عمره {minutes} دقيقة (الحد {limit_min}).",
                pending=backlog.pending, oldest_age_s=age_s, limit_s=limit_min * 60))
    answer["healthy"] = not answer["reasons"]
    return answer

"""The web app's QR reader: one :class:`edge.services.qr_reader.QrService` per app; the kiosk page long-polls it."""

from __future__ import annotations

from flask import Flask, current_app

from edge.services.qr_reader import QrService

EXTENSION = "edge_qr_reader"


def init_app(app: Flask) -> None:
    """Open the reader of ``devices.qr``; start it (and its status reports) unless ``QR_READER`` is False."""
    app.config.setdefault("QR_READER", True)
    app.config.setdefault("QR_POLL_S", 20.0)
    app.extensions[EXTENSION] = QrService(app.config["EDGE_SETTINGS"], autostart=app.config["QR_READER"])


def wait_for_codes(after: int | None, epoch: str | None) -> dict:
    """What ``GET /qr/events`` answers (see :meth:`QrService.wait_for_codes`)."""
    found = current_app.extensions.get(EXTENSION)
    if found is None:
        return {"epoch": "", "last": 0, "events": []}
    return found.wait_for_codes(after, epoch, float(current_app.config["QR_POLL_S"]))

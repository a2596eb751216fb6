"""What a blueprint needs from the app it runs in: the van's settings, the catalogue, this request's database
and documents folder (the training ones while the console is in training).

Blueprints import this module, never ``edge.web.app``: the factory imports the blueprints, so an import the
other way round would be a cycle (it used to be one, held open by imports inside functions).
"""

from __future__ import annotations

import threading
from pathlib import Path

from flask import Flask, current_app, g

from edge.config import Settings, load_catalogue
from edge.core.catalogue import Catalogue
from edge.core.errors import EdgeError
from edge.store import catalogues
from edge.store.db import StoreUnavailable, open_db
from edge.store.migrations import migrate

# Where the app keeps them; edge.web.printing and edge.web.qr_reader read the same keys.
SETTINGS = "EDGE_SETTINGS"  # app.config
CATALOGUE = "edge_catalogue"  # app.extensions: the settings' catalogue, loaded at start
CATALOGUE_FROM_HUB = "edge_catalogue_from_hub"  # the newest downlink catalogue, parsed once per version
TRAINING_READY = "edge_training_ready"  # app.extensions: one migration of the training database at a time


def init_app(app: Flask, settings: Settings) -> None:
    """Attach the settings and the catalogue to ``app``; close each request's databases after it."""
    app.config[SETTINGS] = settings
    # Refuse to start on a broken catalogue rather than fail later in front of a citizen.
    app.extensions[CATALOGUE] = load_catalogue(settings)
    app.extensions[TRAINING_READY] = threading.Lock()
    app.teardown_appcontext(_close_dbs)
    app.context_processor(_template_globals)


def settings() -> Settings:
    return current_app.config[SETTINGS]


def service_or_none(code: str | None):
    """The catalogue's service ``code``, or None (no code yet, or one the catalogue in force no longer has)."""
    if not code:
        return None
    try:
        return catalogue().service(code)
    except EdgeError:
        return None


def catalogue() -> Catalogue:
    """The catalogue in force: the newest the governorate sent over the downlink (``edge.store.catalogues``)
    from the moment the sync process stored it — no restart — else the settings' file (the first-boot
    default, with the van's fee overrides)."""
    app = current_app
    base: Catalogue = app.extensions[CATALOGUE]
    version = catalogues.newest_version(get_db(real=True))
    if version is None or version <= base.version:
        return base
    cached = app.extensions.get(CATALOGUE_FROM_HUB)
    if cached is None or cached.version != version:
        cached = catalogues.newest(get_db(real=True))
        app.extensions[CATALOGUE_FROM_HUB] = cached
    return cached


def training_dir(data_dir: Path) -> Path:
    """Training mode's own world: database and scanned pages apart from the real ones, never synced."""
    return Path(data_dir) / "training"


def get_db(*, real: bool = False):
    """This request's connection: the van database, or the training one while the console is in training.

    ``real=True`` always gives the van database (operator accounts and logins live there).
    """
    if g.get("training") and not real:
        if "training_db" not in g:
            path = training_dir(settings().data_dir) / "van.db"
            g.training_db = open_db(path)
            with current_app.extensions[TRAINING_READY]:
                migrate(g.training_db)
        return g.training_db
    if "db" not in g:
        # The app created (and migrated) it at start: a request never makes an empty one in its place.
        g.db = open_db(settings().db_path, must_exist=True)
    return g.db


def documents_dir() -> Path:
    """Where this request's scanned pages live: the van's documents folder, or training's own."""
    if g.get("training"):
        return training_dir(settings().data_dir) / "documents"
    return settings().documents_dir


def _close_dbs(_exc) -> None:
    for name in ("db", "training_db"):
        db = g.pop(name, None)
        if db is not None:
            db.close()


def _template_globals() -> dict:
    try:
        shown = catalogue()
    except StoreUnavailable:  # the page that says the database is gone: the settings' catalogue will do
        shown = current_app.extensions[CATALOGUE]
    return {"settings": settings(), "training": bool(g.get("training")), "catalogue": shown}

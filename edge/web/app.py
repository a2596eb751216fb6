"""The Flask application factory for the van's local web UI."""

from __future__ import annotations

from flask import Flask, g

from edge.config import Settings
from edge.store.db import open_db


def create_app(settings: Settings) -> Flask:
    app = Flask(__name__)
    app.config["EDGE_SETTINGS"] = settings

    @app.teardown_appcontext
    def _close_db(_exc):
        db = g.pop("db", None)
        if db is not None:
            db.close()

    from edge.web.api import bp as api_bp

    app.register_blueprint(api_bp)
    return app


def get_db():
    """This request's connection to the van database (opened on first use, closed at teardown)."""
    from flask import current_app

    if "db" not in g:
        g.db = open_db(current_app.config["EDGE_SETTINGS"].db_path)
    return g.db

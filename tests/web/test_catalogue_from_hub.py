"""A catalogue the governorate publishes is the one the van's screens use, at once (issue 16, finding 3)."""

from __future__ import annotations

from edge.config import load_catalogue
from edge.core import catalogue as catalogue_mod
from edge.store.db import open_db
from edge.sync import downlink
from edge.sync import protocol as p
from tests.support.web_support import login, make_app, text


def _publish(settings, data: dict) -> str:
    """The catalogue as the hub sends it, applied by the van's real downlink code into the van's database."""
    payload = p.encode_down(p.Catalog(data["version"], data), van=settings.van.id)
    down = p.decode_down(payload, van=settings.van.id, kind="catalog")
    with open_db(settings.db_path) as db:
        outcome, _effects = downlink.apply(db, down, settings.data_dir / "keys")
    return outcome


def test_a_published_catalogue_reaches_the_kiosk_and_the_console_without_a_restart(tmp_path):
    app = make_app(tmp_path)
    settings = app.config["EDGE_SETTINGS"]
    current = load_catalogue(settings)
    category = current.categories[0]
    kiosk, console = app.test_client(), app.test_client()
    kiosk.get("/lang/en")
    assert category.name_en in text(kiosk.get("/ticket"))

    data = catalogue_mod.to_dict(current)
    data["version"] = current.version + 1
    renamed = f"{category.name_en} (renamed by the governorate)"
    data["categories"][0]["name_en"] = renamed
    assert _publish(settings, data) == "applied"

    assert renamed in text(kiosk.get("/ticket"))  # the same running app, no restart
    console.get("/lang/en")
    login(console)
    status = text(console.get("/operator/status"))
    assert f"Service catalogue in force: v{current.version + 1} (sent by the governorate)" in status


def test_an_older_or_invalid_catalogue_changes_nothing(tmp_path):
    app = make_app(tmp_path)
    settings = app.config["EDGE_SETTINGS"]
    current = load_catalogue(settings)
    kiosk = app.test_client()
    kiosk.get("/lang/en")
    before = text(kiosk.get("/ticket"))
    data = catalogue_mod.to_dict(current)
    data["version"] = current.version + 1
    data["services"][0]["fee_egp"] = -5  # refused by the van, reported to the hub
    assert _publish(settings, data) == "rejected"
    assert text(kiosk.get("/ticket")) == before

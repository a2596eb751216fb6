"""Demand by place (issue 19): a van's requests carry its GPS fix at intake (schema 4), the hub keeps each request's
place, and the performance screen draws the period's requests by cell on a tile-free map, with the count of those
without a place."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from edge.store import device_status, outbox
from edge.store.db import open_db
from edge.store.migrations import migrate
from edge.sync import protocol as p
from governorate.store import HubStore
from governorate.web import create_app
from tests.support.gov_support import GOV, add_staff, login, offline_hub
from tests.support.sync_harness import fill_outbox, van_settings


def _van_messages(folder, van: str, count: int, fix: dict | None) -> list[tuple[str, bytes]]:
    settings = van_settings(folder, "mqtt://127.0.0.1:1", van=van)
    db = open_db(settings.db_path)
    migrate(db)
    if fix:
        device_status.report(db, "gps", "gps", "ok", detail={**fix, "fix_age_s": 1.0})
    fill_outbox(settings, count)
    return [(p.up_topic(GOV, van, row.stream), p.encode_outbox_row(row, van)) for row in outbox.pending(db)]


def test_requests_are_counted_where_they_were_taken_and_drawn_on_the_demand_map(tmp_path):
    store = HubStore(tmp_path / "hub.db")
    add_staff(store)
    hub = offline_hub(store)
    hub.ingest_now(_van_messages(tmp_path / "a", "V007", 3, {"latitude": 30.0444196, "longitude": 31.2357116}))
    hub.ingest_now(_van_messages(tmp_path / "b", "V008", 2, {"latitude": 31.2001, "longitude": 29.9187}))
    hub.ingest_now(_van_messages(tmp_path / "c", "V009", 1, None))  # no GPS fix: no place
    rows = dict(((van, n), (lat, lon)) for van, n, lat, lon in store._read(
        "SELECT van, count(*), min(lat_e5), min(lon_e5) FROM requests GROUP BY van"))
    assert rows == {("V007", 3): (3004442, 3123571), ("V008", 2): (3120010, 2991870), ("V009", 1): (None, None)}

    app = create_app({"DB_PATH": store.path, "SECRET_KEY": b"k" * 32, "SENDER": hub, "GOVERNORATE": GOV})
    client = app.test_client()
    login(client, "viewer")
    today = datetime.now(UTC).date()
    page = client.get(f"/performance?from={today - timedelta(days=1)}&to={today + timedelta(days=1)}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    demand = re.search(r'<section class="card" id="demand">.*?</section>', html, re.S).group(0)
    assert sorted(int(n) for n in re.findall(r'class="demand"[^>]*data-requests="(\d+)"', demand)) == [2, 3]
    assert '<span id="demand-unplaced">١</span>' in demand  # Eastern digits on the Arabic screen
    assert "30.045, 31.235" in demand and "31.205, 29.915" in demand  # the cells' centres, in the table

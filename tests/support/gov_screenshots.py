"""Screenshots of the governorate screens for docs/screenshots/gov-*.png, from a demo fleet fed through the real ingest.

Run: .venv/bin/python -m tests.support.gov_screenshots
"""

from __future__ import annotations

import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright  # noqa: E402

from edge.store import outbox  # noqa: E402
from edge.store.db import open_db  # noqa: E402
from edge.sync import protocol as p  # noqa: E402
from governorate import backoffice  # noqa: E402
from governorate.store import HubStore  # noqa: E402
from governorate.web import create_app  # noqa: E402
from tests.support.gov_browser import Served, launch, sign_in  # noqa: E402
from tests.support.gov_support import PASSWORD, USERS, add_staff, birth, death, offline_hub, tel, van_requests  # noqa: E402
from tests.support.paths import DOCS

OUT = DOCS / "screenshots"
# Around Cairo: Nasr City, Helwan, Shubra, Maadi, New Cairo, Zamalek.
VANS = {"V007": (30.0561, 31.3301), "V012": (29.8500, 31.3340), "V015": (30.1110, 31.2450),
        "V021": (29.9600, 31.2570), "V033": (30.0300, 31.4700), "V040": (30.0630, 31.2190)}


def ticket_finishes(folder: Path, van: str, count: int, rng: random.Random) -> list:
    db = open_db(folder / van / "van.db")
    now = datetime.now(UTC)
    rows = []
    for i in range(count):
        issued = now - timedelta(minutes=rng.randint(20, 300))
        called = issued + timedelta(minutes=rng.randint(3, 25))
        finished = called + timedelta(minutes=rng.randint(4, 15))
        body = {"number": f"A{i + 1:03d}", "series": "A", "seq": i + 1, "category": "BLD", "priority": "none",
                "state": "done", "issued_at": issued.isoformat(), "called_at": called.isoformat(), "counter": 1,
                "recalls": 0, "started_at": called.isoformat(), "finished_at": finished.isoformat(),
                "transferred_to": None, "transferred_from": None}
        for kind in ("ticket.issued", "ticket.finish"):
            rows.append(outbox.enqueue(db, "tx", kind, body))
    messages = [(p.up_topic("01", van, "tx"), p.encode_outbox_row(r, van)) for r in rows]
    db.close()
    return messages


def build(folder: Path) -> HubStore:
    store = HubStore(folder / "hub.db")
    add_staff(store)
    hub = offline_hub(store)
    rng = random.Random(8)
    now = datetime.now(UTC)
    for n, (van, (lat, lon)) in enumerate(VANS.items()):
        numbers, messages = van_requests(folder / van, van, rng.randint(4, 14))
        batch = [birth(van, 3), *messages, *ticket_finishes(folder, van, rng.randint(6, 20), rng)]
        backlog = 0
        for step in range(96, -1, -1):  # a day of telemetry, every 15 minutes
            at = now - timedelta(minutes=15 * step)
            backlog = max(0, backlog + rng.randint(-30, 35)) if van != "V021" else 40 + 4 * (96 - step)
            cams = {"device.camera_front": "ok", "device.camera_rear": "ok" if rng.random() > 0.08 else "error"}
            if van == "V012" and step < 10:
                cams["device.camera_rear"] = "error"
            batch.append(tel(van, {
                "outbox_pending": backlog, "outbox_oldest_age_s": 0 if backlog == 0 else (
                    9000 if van == "V021" else rng.randint(5, 400)),
                "gps.lat": lat + rng.uniform(-0.002, 0.002), "gps.lon": lon + rng.uniform(-0.002, 0.002),
                "lte.rsrp_dbm": -85 - n * 5 - rng.randint(0, 6),
                "lte.operator": ["Vodafone EG", "Orange EG", "WE"][n % 3],
                "device.printer": "error" if van == "V015" else "ok", "device.scanner": "ok",
                "device.qr": "warning" if van == "V033" else "ok", **cams}, seq=200 - step, at=at))
        if van == "V040":
            batch.append(death(van, 3))
        hub._process(batch)
        with store.transaction() as conn:  # spread the day's requests over the opening hours
            for number in numbers:
                at = now - timedelta(minutes=rng.randint(10, 9 * 60))
                conn.execute("UPDATE requests SET submitted_at = ? WHERE number = ?", [at.isoformat(), number])
            if van == "V040":
                conn.execute("UPDATE vans SET last_seen = ? WHERE van = ?",
                             [(now - timedelta(minutes=47)).isoformat(), van])
            page = _scanned_page(rng)
            conn.execute("INSERT INTO documents (van, doc_id, request_number, size, sha256, data, completed_at) "
                         "VALUES (?, ?, ?, ?, '-', ?, ?)",
                         [van, f"01M7YP6FKB00000000000000{n:02d}", numbers[0], len(page), page, now.isoformat()])
    return store


def _scanned_page(rng: random.Random) -> bytes:
    """A scanned form as a van sends it (a greyscale JPEG): a header, boxes and lines of writing."""
    import io

    from PIL import Image, ImageDraw

    page = Image.new("L", (1240, 1754), 246)
    draw = ImageDraw.Draw(page)
    draw.rectangle((90, 90, 1150, 250), outline=40, width=4)
    draw.rectangle((880, 120, 1120, 220), fill=200)
    for y in range(330, 1600, 62):
        right = 1150 - rng.randint(0, 420)
        draw.line((90 + rng.randint(0, 60), y, right, y), fill=rng.randint(30, 90), width=10)
    draw.rectangle((90, 1620, 560, 1700), outline=60, width=3)
    out = io.BytesIO()
    page.save(out, "JPEG", quality=70)
    return out.getvalue()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = build(folder)
        app = create_app({"DB_PATH": str(folder / "hub.db"), "SECRET_KEY": b"d" * 32, "SENDER": offline_hub(store),
                          "REFRESH_S": 30})
        number = store._read("SELECT number FROM requests WHERE van = 'V007' ORDER BY number LIMIT 1")[0][0]
        # One decision already taken, so the request page shows its history and the pending downlink.
        backoffice.decide(store, offline_hub(store), number, "under_review", None, "karim")
        served = Served(app)
        try:
            with sync_playwright() as pw:
                browser = launch(pw)
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                sign_in(page, served.url, USERS["admin"], PASSWORD)
                page.screenshot(path=str(OUT / "gov-overview.png"), full_page=True)
                page.goto(f"{served.url}/vans/V012")
                page.screenshot(path=str(OUT / "gov-van.png"), full_page=True)
                page.goto(f"{served.url}/requests/{number}")
                page.screenshot(path=str(OUT / "gov-request.png"), full_page=True)
                page.goto(f"{served.url}/alerts")
                page.screenshot(path=str(OUT / "gov-alerts.png"), full_page=True)
                browser.close()
        finally:
            served.stop()
    print("written:", *sorted(str(x) for x in OUT.glob("gov-*.png")))


if __name__ == "__main__":
    main()

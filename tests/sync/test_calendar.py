"""Public holidays published by the governorate (downlink "calendar", issue 19): the van counts the due dates of new
requests with them; an older, invalid or impossible calendar is refused and reported; the hub's due-soon window
uses them too. Real Mosquitto, hub and van sync."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from edge.core import catalogue as catalogue_mod
from edge.core import requests as rq
from edge.core import workdays
from edge.core.citizens import Citizen
from edge.core.national_id import parse
from edge.store import calendars
from edge.store import requests as store_requests
from edge.store.db import open_db
from edge.store.migrations import migrate
from governorate import backoffice
from tests.support.gov_support import add_staff
from tests.support.sync_harness import VAN, start_hub, start_van, van_settings, wait_until

pytestmark = pytest.mark.slow

# Sunday 2026-11-22 … : a calendar that makes the whole week after it a holiday (an announced national mourning, say).
WEEK_OFF = """version = 2

[[fixed]]
day = "01-07"
name_ar = "عيد الميلاد المجيد"
name_en = "Coptic Christmas"

[[movable]]
days = ["2026-11-22", "2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26"]
name_ar = "حداد وطني"
name_en = "National mourning"
"""


@pytest.fixture
def hub(tmp_path, broker):
    hub, runner = start_hub(tmp_path / "hub.db", broker.port)
    add_staff(hub.store)
    yield hub
    runner.stop()


def _register(settings, day: datetime) -> tuple[str, int]:
    db = open_db(settings.db_path)
    migrate(db)
    cat = catalogue_mod.load_default()
    service = min(cat.services, key=lambda s: s.duration_days)  # the shortest: the week off moves it most
    number = store_requests.submit(db, van_id=VAN, catalogue=cat, service_code=service.code,
                                   citizen=Citizen(parse("29001010112355"), "منى أحمد حسن", None),
                                   payment=rq.Payment("cash", service.fee_piastres), operator="operator:2", now=day)
    found = store_requests.get(db, str(number)).expected_ready_on
    db.close()
    return found, service.duration_days


def test_published_holidays_move_the_due_dates_of_new_requests_and_bad_ones_are_refused(tmp_path, broker, hub):
    settings = van_settings(tmp_path / "van", broker.url)
    thursday = datetime(2026, 11, 19, 8, 0, tzinfo=UTC)  # 10:00 in Cairo
    before, days = _register(settings, thursday)
    assert before == workdays.load_default().due_date(date(2026, 11, 19), days).isoformat()
    _agent, van = start_van(settings)
    try:
        wait_until(lambda: (hub.store.van(VAN) or {}).get("online"), 10, "the van online")
        version, sent = backoffice.publish_holidays(hub.store, hub, WEEK_OFF, "amal")
        assert (version, sent) == (2, 1)
        db = open_db(settings.db_path)
        wait_until(lambda: calendars.newest_version(db) == 2, 15, "the van to apply the holidays")
        # Not newer, not valid, impossible (every day of 41 days a fixed holiday): refused at the hub already...
        for text, why in [(WEEK_OFF, "newer"), ("version = 3\nfixed = 3\n", "not valid"),
                          ("version = 3\n" + "".join(f'[[fixed]]\nday = "03-{d:02d}"\nname_ar = "ع"\nname_en = "x"\n'
                                                       for d in range(1, 32)) +
                           "".join(f'[[fixed]]\nday = "04-{d:02d}"\nname_ar = "ع"\nname_en = "x"\n'
                                   for d in range(1, 11)), "not valid")]:
            with pytest.raises(backoffice.OfficeError) as refused:
                backoffice.publish_holidays(hub.store, hub, text, "amal")
            assert why in refused.value.message_en
        # ... and by the van, when a message comes past the hub's check: the same version again.
        from edge.sync import protocol as p

        msg_id = hub.send(VAN, p.Calendar(2, WEEK_OFF))
        wait_until(lambda: (hub.store.downlink(msg_id) or {}).get("applied_at") is not None, 15, "the report")
        report = hub.store.downlink(msg_id)
        assert report["outcome"] == "rejected" and "not newer" in report["error"], report
    finally:
        van.stop()
    after, _ = _register(settings, thursday)
    expected = workdays.loads(WEEK_OFF).due_date(date(2026, 11, 19), days)
    assert after == expected.isoformat() and after > before  # the week off is skipped
    # The hub's "due soon" window counts with the holidays it published.
    assert backoffice.due_window(date(2026, 11, 19), backoffice.calendar_in_force(hub.store))[1] == \
        workdays.loads(WEEK_OFF).due_date(date(2026, 11, 19), backoffice.SOON_WORKING_DAYS).isoformat()

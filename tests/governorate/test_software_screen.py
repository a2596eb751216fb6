"""The fleet software screen (governorate/web/software.py): the rollout in force with its state and reason, each van's
running and target version, wave and transfer, vans too old for updates over the link; admins resume, roll back,
pin and unpin (audited), others may only look."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from governorate import rollouts
from governorate.store import HubStore
from governorate.updates import Bundle, Updates
from governorate.web import create_app
from tests.support.gov_support import add_staff, login, offline_hub
from tests.update.support import signed_release


@pytest.fixture
def hub(tmp_path, keys):
    store = HubStore(tmp_path / "hub.db")
    add_staff(store)
    signed_release(tmp_path / "n0", "1.0.0", keys)
    signed_release(tmp_path / "n1", "1.1.0", keys)
    n0, n1 = Bundle(tmp_path / "n0"), Bundle(tmp_path / "n1")
    app = create_app({"DB_PATH": store.path, "SECRET_KEY": b"k" * 32, "SENDER": offline_hub(store),
                      "GOVERNORATE": "01"})
    return store, app, n0, n1


@pytest.fixture
def keys(tmp_path):
    from provisioning import tuf_repo

    tuf_repo.make_keys(tmp_path / "keys")
    return tmp_path / "keys"


def _report(store, van, running, refused=(), schema=4, version="1.0.0", deferred=(), last=None):
    values = {"outbox_pending": 0, "software.id": running, "software.version": version,
              "update.refused": ",".join(refused) or None, "update.deferred": ",".join(deferred) or None,
              "update.last": last or "switched " + (running or "")}
    with store.transaction() as conn:
        conn.execute("INSERT INTO vans (van, last_seen, online, telemetry, schema) VALUES (?, ?, 1, ?, ?) "
                     "ON CONFLICT (van) DO UPDATE SET telemetry = excluded.telemetry, schema = excluded.schema",
                     [van, datetime.now(UTC).isoformat(), json.dumps(values), schema])


def _row(page: str, van: str) -> str:
    return re.search(rf'<tr data-van="{van}".*?</tr>', page, re.S).group(0)


def test_the_screen_shows_the_rollout_its_pause_and_every_vans_software(hub):
    store, app, n0, n1 = hub
    client = app.test_client()
    login(client, "viewer")
    assert "No rollout yet" in client.get("/software").get_data(as_text=True)
    _report(store, "V001", n0.name)
    _report(store, "V002", n0.name)
    _report(store, "V003", None, schema=3)
    rollouts.start(store, n1.folder, previous=n0.name, canaries=("V001",), wave_sizes=(1,))
    updates = Updates(store, lambda *a: None)
    rollouts.drive(store, updates)
    with store.transaction() as conn:
        conn.execute("UPDATE update_offers SET held = 3, state = 'receiving' WHERE van = 'V001'")
    page = client.get("/software").get_data(as_text=True)
    assert 'data-state="rolling-out"' in page and "1.1.0" in page
    canary = _row(page, "V001")
    assert "1.0.0" in canary and n1.name in page and "التجربة" in canary
    assert f"٣ / {''.join('٠١٢٣٤٥٦٧٨٩'[int(c)] for c in str(n1.total))}" in canary  # Eastern digits in Arabic
    assert "needs a technician" in _row(page, "V003")
    assert "Resume" not in page and "Roll the fleet back" not in page  # a viewer only looks
    # The canary fails its health check and goes back: paused, with the reason.
    _report(store, "V001", n0.name, refused=(n1.name,))
    page = client.get("/software").get_data(as_text=True)
    assert 'data-state="paused"' in page and "1 of 1 failed" in page
    assert 'data-failed="1"' in _row(page, "V001")


def test_a_van_whose_check_lost_the_link_is_waiting_not_failed(hub):
    # docs/updates.md, deferred: the link dropped during the canary's check and its previous version could not
    # connect either. Before, the van refused the release for good and paused the rollout; now it tries again
    # once its link is back, and the screen says so — neither a failure nor up to date.
    store, app, n0, n1 = hub
    client = app.test_client()
    login(client, "viewer")
    _report(store, "V001", n0.name)
    _report(store, "V002", n0.name)
    rollouts.start(store, n1.folder, previous=n0.name, canaries=("V001",), wave_sizes=(1,))
    _report(store, "V001", n0.name, deferred=(n1.name,), last="deferred 1.1.0: 1.0.0 did not connect within 120 s")
    page = client.get("/software").get_data(as_text=True)
    row = _row(page, "V001")
    assert 'data-state="rolling-out"' in page and 'data-failed="0"' in row and 'data-up-to-date="0"' in row
    assert 'data-deferred="1"' in row and "ينتظر عودة الاتصال" in row and "أُجّل" in row, row
    assert 'data-deferred' not in _row(page, "V002")
    # A van that says both (it never should): refused wins, and the rollout counts the failure.
    _report(store, "V001", n0.name, refused=(n1.name,), deferred=(n1.name,))
    page = client.get("/software").get_data(as_text=True)
    assert 'data-state="paused"' in page and 'data-deferred' not in _row(page, "V001")


def test_only_an_admin_resumes_rolls_back_and_pins_and_each_is_audited(hub):
    store, app, n0, n1 = hub
    _report(store, "V001", n0.name, refused=(n1.name,))
    _report(store, "V002", n0.name)
    rollouts.start(store, n1.folder, previous=n0.name, previous_folder=n0.folder, canaries=("V001",))
    viewer = app.test_client()
    token = login(viewer, "viewer")
    assert viewer.post("/software/resume", data={"csrf_token": token}).status_code == 403
    admin = app.test_client()
    token = login(admin, "admin")
    page = admin.get("/software").get_data(as_text=True)
    assert 'id="resume"' in page and 'id="roll-back"' in page
    page = admin.post("/software/resume", data={"csrf_token": token}, follow_redirects=True).get_data(as_text=True)
    assert "The rollout goes on" in page and rollouts.current(store)["pinned"] == {"V001": n0.name}
    page = admin.post("/software/back", data={"csrf_token": token}, follow_redirects=True).get_data(as_text=True)
    assert "Sign the previous release again" in page and not rollouts.current(store)["rolled_back"]
    page = admin.post("/software/pin", data={"csrf_token": token, "van": "V002"},
                      follow_redirects=True).get_data(as_text=True)
    assert "V002 keeps the version it runs" in page and rollouts.current(store)["pinned"]["V002"] == n0.name
    admin.post("/software/pin", data={"csrf_token": token, "van": "V002", "remove": "1"})
    assert "V002" not in rollouts.current(store)["pinned"]
    page = admin.post("/software/pin", data={"csrf_token": token, "van": "../x"},
                      follow_redirects=True).get_data(as_text=True)
    assert "Not a van id" in page
    actions = [r[0] for r in store._read("SELECT action FROM staff_audit WHERE action LIKE 'rollout.%' ORDER BY id")]
    assert actions == ["rollout.start", "rollout.resume", "rollout.pin", "rollout.unpin"]
    assert store._read("SELECT actor FROM staff_audit WHERE action = 'rollout.pin'")[0][0] == "amal"


def test_each_vans_last_update_event_is_said_in_the_staffs_words(hub):
    store, app, n0, _ = hub
    client = app.test_client()
    login(client, "viewer")
    _report(store, "V001", n0.name)
    with store.transaction() as conn:
        for van, last in [("V001", "rolled-back-unhealthy 1.0.0: http://127.0.0.1:8080/api/health not healthy"),
                          ("V002", "check-after-start 1.1.0"), ("V003", "something-new 2.0 <b>x</b>"),
                          ("V004", None)]:
            values = {"software.id": n0.name, "software.version": "1.0.0", "update.last": last}
            conn.execute("INSERT INTO vans (van, last_seen, online, telemetry, schema) VALUES (?, ?, 1, ?, 4) "
                         "ON CONFLICT (van) DO UPDATE SET telemetry = excluded.telemetry",
                         [van, datetime.now(UTC).isoformat(), json.dumps(values)])
    page = client.get("/software").get_data(as_text=True)
    cell = re.search(r'<td class="small update-last">(.*?)</td>', _row(page, "V001"), re.S).group(1)
    assert "تحتاج فنيًا" in cell and "bad-text" in cell and "1.0.0: http://127.0.0.1:8080/api/health" in cell
    cell = re.search(r'<td class="small update-last">(.*?)</td>', _row(page, "V002"), re.S).group(1)
    assert "يُفحص بعد التشغيل" in cell and "bad-text" not in cell and "1.1.0" in cell
    # An event this hub does not know yet (a newer van) is shown as sent, escaped.
    cell = re.search(r'<td class="small update-last">(.*?)</td>', _row(page, "V003"), re.S).group(1)
    assert "something-new 2.0 &lt;b&gt;x&lt;/b&gt;" in cell
    assert re.search(r'<td class="small update-last">\s*—\s*</td>', _row(page, "V004"))


def test_every_event_the_vans_updater_notes_has_the_staffs_words():
    from governorate.web.software import UPDATE_EVENTS, UPDATE_FAULTS
    from tests.support.paths import ROOT

    source = "\n".join(p.read_text() for p in (ROOT / "edge" / "update").glob("*.py"))
    noted = set(re.findall(r'note\((?:st, )?"([a-z-]+)"', source)) | {"rolled-back-unhealthy", "state-unreadable"}
    assert len(noted) >= 15 and noted <= set(UPDATE_EVENTS), noted - set(UPDATE_EVENTS)
    assert UPDATE_FAULTS <= set(UPDATE_EVENTS)


def test_a_van_added_and_never_heard_from_is_not_said_to_need_a_technician(hub):
    # A van added before it connects (governorate vans add) has no schema yet: it is not "too old for updates over
    # the link", it has not connected; it is left out of the waves as before.
    from governorate import fleet

    store, app, n0, n1 = hub
    client = app.test_client()
    login(client, "viewer")
    _report(store, "V001", n0.name)
    fleet.register(store, ["V050"])
    rollouts.start(store, n1.folder, previous=n0.name, wave_sizes=(5,))
    row = _row(client.get("/software").get_data(as_text=True), "V050")
    assert "never connected" in row and "لم تتصل بعد" in row and "technician" not in row, row
    assert "V050" not in {v for w in rollouts.screen(store, Updates(store))["decision"].waves for v in w}


def test_a_retired_canary_the_rollout_waits_for_is_shown_with_the_way_out(hub):
    # Review H2: retiring the only canary before it ran the release skipped the canary wave. Now the rollout waits
    # for it, and the screen says why and what to do.
    from governorate import fleet

    store, app, n0, n1 = hub
    client = app.test_client()
    login(client, "viewer")
    for van in ("V001", "V002"):
        _report(store, van, n0.name)
    rollouts.start(store, n1.folder, previous=n0.name, canaries=("V001",), wave_sizes=(5,))
    fleet.remove(store, ["V001"])
    rollouts.drive(store, Updates(store, lambda *a: None))
    page = client.get("/software").get_data(as_text=True)
    assert 'id="rollout-waits-retired"' in page and "governorate rollout pin" in page, page
    assert 'data-retired="1"' in _row(page, "V001") and 'data-retired' not in _row(page, "V002")


def test_retiring_a_van_withdraws_its_offer_and_no_release_is_offered_to_it_by_hand(hub):
    # Review M2: pump_all went on sending a retired van's chunks, and `update offer V007 …` took a retired van.
    from governorate import fleet
    from governorate.updates import OfferError

    store, app, n0, n1 = hub
    sent = []
    updates = Updates(store, lambda topic, *a: sent.append(topic))
    _report(store, "V007", "x" * 16, schema=5)
    _report(store, "V008", "x" * 16, schema=5)
    updates.offer("V007", n1.folder)
    fleet.remove(store, ["V007"])
    assert updates.offer_of("V007")["state"] == "withdrawn"
    assert updates.pump_all() == 0 and sent == []
    with pytest.raises(OfferError, match="V007 is retired") as refused:
        updates.offer("V007", n1.folder)
    assert "خارج الخدمة" in refused.value.message_ar
    fleet.register(store, ["V007"])  # back in service: offered again as any van
    assert updates.offer("V007", n1.folder)["state"] == "offered"

"""Alerts are the ingest's work, not the pages': raised and cleared by the ingest on its own (a real
Mosquitto, the real Hub loop), and opening a staff page computes the fleet once and writes nothing."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from governorate import fleet, ingest
from governorate.ingest import Hub
from governorate.store import HubStore
from governorate.web import create_app
from tests.support.gov_support import GOV, add_staff, login, offline_hub, tel


def _open_alerts(store) -> dict[str, str]:
    return {a["kind"]: a["detail"] for a in fleet.alerts(store, "V007")}


def test_opening_staff_pages_raises_no_alert_and_computes_the_fleet_once(tmp_path, monkeypatch):
    # Issue 15, finding 10: alerts were evaluated (and written) on every page view, and the overview
    # computed twice per refresh — every staff browser refreshes every 3 s.
    store = HubStore(tmp_path / "hub.db")
    add_staff(store)
    offline_hub(store)._process([tel("V007", {"device.printer": "error"})])
    calls = []
    real = fleet.overview
    monkeypatch.setattr(fleet, "overview", lambda *a, **k: calls.append(1) or real(*a, **k))
    app = create_app({"DB_PATH": store.path, "SECRET_KEY": b"k" * 32, "SENDER": offline_hub(store),
                      "GOVERNORATE": GOV})
    client = app.test_client()
    login(client, "admin")
    for path in ("/", "/fleet/partial", "/alerts"):
        calls.clear()
        assert client.get(path).status_code == 200
        assert len(calls) <= 1, (path, len(calls))
    assert store._read("SELECT count(*) FROM alerts")[0][0] == 0
    store.close()


def test_the_ingest_raises_and_clears_alerts_with_nobody_looking(tmp_path, broker, monkeypatch):
    # The periodic turn is pushed out of the test's reach: alerts that appear within the test's waits come from
    # the telemetry itself (ALERTS_SOON_S), not from the next turn — shown without timing the machine.
    monkeypatch.setattr(ingest, "ALERTS_EVERY_S", 600.0)
    store = HubStore(tmp_path / "hub.db")
    hub = Hub(store, GOV, "127.0.0.1", broker.port, worker="alerts", thresholds=fleet.Thresholds())
    stop = threading.Event()
    thread = threading.Thread(target=hub.run, args=(stop,), daemon=True)
    thread.start()
    van = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="V007", protocol=mqtt.MQTTv5)
    van.connect("127.0.0.1", broker.port)
    van.loop_start()
    try:
        assert hub.connected.wait(10)

        def send(values, seq):
            topic, payload = tel("V007", values, seq=seq)
            van.publish(topic, payload, qos=1).wait_for_publish(5)

        def wait_for(predicate, what):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if predicate(_open_alerts(store)):
                    return
                time.sleep(0.1)
            raise AssertionError(f"{what}: {_open_alerts(store)}")

        send({"device.printer": "error", "outbox_oldest_age_s": 3 * 3600, "outbox_pending": 9}, 1)
        wait_for(lambda a: "printer" in a and "backlog" in a, "the ingest raised no alert")
        send({"device.printer": "ok", "outbox_oldest_age_s": 0, "outbox_pending": 0}, 2)
        wait_for(lambda a: not a, "the alerts did not clear")
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(10)
        van.loop_stop()
        van.disconnect()
        store.close()


def test_a_failing_alert_evaluation_is_logged_once_and_never_stops_the_ingest(tmp_path, monkeypatch, caplog):
    store = HubStore(tmp_path / "hub.db")
    hub = offline_hub(store)
    hub.thresholds = fleet.Thresholds()
    monkeypatch.setattr(fleet, "evaluate_alerts", lambda *a, **k: 1 / 0)
    for _ in range(3):
        hub.evaluate_alerts()
    assert sum("alerts could not be evaluated" in r.message for r in caplog.records) == 1
    store.close()

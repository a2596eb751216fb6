"""The broker gives each van one identity (issue 15, finding 4): a real TLS Mosquitto on the generated config.

A van may use only its own client id, subscribe only to its own downlink and publish only under its own
up/; it can neither join the hub's shared subscription (which would make the broker hand it, and drop,
other vans' messages) nor take one of the hub's client ids (which would disconnect an ingest worker).
The hub, with several ingest workers sharing ``$share/hub/…`` in persistent MQTT 5 sessions, still
receives everything. docs/provisioning.md says what Mosquitto 2.0.11 enforces and why this mechanism.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from edge import config
from edge.sync import protocol as p
from edge.sync.agent import SyncAgent, Tuning
from provisioning import bundle as bundle_mod
from provisioning.cli import main as provision
from tests.support.mqtt_broker import free_port
from tests.support.sync_harness import fill_outbox, pending
from tests.support.tls_broker import Client, TlsBroker, wait_for

GOV = "21"
SHARE = p.hub_subscription(GOV)  # $share/hub/mtc/v1/21/+/up/#, exactly what governorate/ingest.py subscribes
REFUSED = ["Not authorized"]
GRANTED = ["Granted QoS 1"]


def run(*args):
    result = CliRunner().invoke(provision, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


class Governorate:
    """A CA folder made by `provision governorate init`, its enrolled vans and its broker's two ports."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.ca = folder / "ca"
        self.port = free_port()
        self.hub_port = free_port()
        (folder / "persist").mkdir()
        run("governorate", "init", GOV, "--out", self.ca, "--broker-host", "localhost", "--address", "127.0.0.1",
            "--port", self.port, "--hub-port", self.hub_port, "--bind", "127.0.0.1",
            "--broker-dir", self.ca / "broker", "--persistence-dir", folder / "persist")
        meta = json.loads((self.ca / "governorate.json").read_text())
        assert urlsplit(meta["hub_broker_url"]).port == self.hub_port
        self.unpacked: dict[str, Path] = {}
        self.made: list[Client] = []

    def enrol(self, van: str) -> None:
        run("van", "enrol", GOV, van, "--ca-dir", self.ca, "--out", self.folder / f"{van}.tar.gz", "--simulated")

    def van(self, van: str, client_id: str | None = None, *, port: int | None = None) -> Client:
        if van not in self.unpacked:
            d = self.unpacked[van] = self.folder / van
            for name, data in bundle_mod.read(self.folder / f"{van}.tar.gz").files.items():
                (d / name).parent.mkdir(parents=True, exist_ok=True)
                (d / name).write_bytes(data)
        d = self.unpacked[van]
        return self._keep(Client(port or self.port, d / "tls/ca.pem", client_id or f"van-{GOV}-{van}",
                                 d / "tls/van.pem", d / "tls/van.key"))

    def hub(self, worker: str = "1", *, port: int | None = None) -> Client:
        """An ingest worker as governorate/ingest.py makes it: client id hub-21-N, a 24 h persistent session."""
        h = self.ca / "hub"
        return self._keep(Client(port or self.hub_port, h / "ca.pem", f"hub-{GOV}-{worker}", h / "hub-cert.pem",
                                 h / "hub-key.pem", session_expiry=24 * 3600))

    def _keep(self, c: Client) -> Client:
        self.made.append(c)
        return c

    def close_all(self) -> None:
        for c in self.made:
            try:
                c.close()
            except Exception:  # noqa: BLE001 - a refused client has nothing to close
                pass
        self.made.clear()


@pytest.fixture(scope="module")
def gov(tmp_path_factory):
    g = Governorate(tmp_path_factory.mktemp("gov21-identity"))
    for van in ("V007", "V008"):
        g.enrol(van)
    broker = TlsBroker(g.ca / "broker" / "mosquitto.conf", g.port).start()
    g.broker = broker
    yield g
    broker.stop()


@pytest.fixture
def g(gov):
    """The module's governorate; every client a test opened is closed after it (paho would reconnect it)."""
    yield gov
    gov.close_all()


def hub_workers(g: Governorate, n: int = 2) -> list[Client]:
    workers = [g.hub(str(i)) for i in range(1, n + 1)]
    for w in workers:
        assert w.connect(), f"hub worker refused: {w.connack or w.error}"
        assert w.subscribe(SHARE) == GRANTED
    return workers


def received(clients: list[Client], topic: str) -> list[bytes]:
    return sorted(payload for c in clients for t, payload in list(c.received) if t == topic)


def test_a_van_in_the_hubs_share_group_steals_nothing(g):
    hub = hub_workers(g)
    thieves = [g.van("V007", f"van-{GOV}-V007-{n}") for n in range(3)]
    for t in thieves:
        if t.connect():
            t.subscribe(SHARE)
    sender = g.van("V008")
    assert sender.connect()
    payloads = [f"{i:02d}".encode() for i in range(40)]
    assert [sender.publish(p.up_topic(GOV, "V008", "tx"), m) for m in payloads] == ["Success"] * 40
    topic = p.up_topic(GOV, "V008", "tx")
    assert wait_for(lambda: len(received(hub, topic)) == 40), f"the hub got {len(received(hub, topic))} of 40"
    assert received(hub, topic) == payloads
    assert not [c.received for c in thieves if c.received]


def test_a_van_cannot_subscribe_to_the_hubs_group_another_van_or_everything(g):
    van = g.van("V007")
    assert van.connect()
    for topic in (SHARE, f"$share/x/mtc/v1/{GOV}/+/up/#", "#", f"mtc/v1/{GOV}/#", f"mtc/v1/{GOV}/V008/down/#",
                  f"mtc/v1/{GOV}/+/down/#", f"mtc/v1/{GOV}/+/up/#", f"mtc/v1/{GOV}/V008/up/tx", "$SYS/#",
                  "$CONTROL/dynamic-security/#"):
        assert van.subscribe(topic) == REFUSED, topic
    assert van.subscribe(p.van_subscription(GOV, "V007")) == GRANTED


def test_a_van_cannot_take_the_hubs_client_id(g):
    hub = hub_workers(g, 1)[0]
    # On the vans' port the broker names the client after its certificate; the hub's port refuses a van.
    impostor = g.van("V007", f"hub-{GOV}-1")
    impostor.connect()
    time.sleep(1.5)  # paho would have reconnected a kicked hub within a second: let a second take-over happen
    assert hub.disconnects == [], "a van disconnected the hub's ingest worker"
    assert not g.van("V007", f"hub-{GOV}-1", port=g.hub_port).connect()
    sender = g.van("V008")
    assert sender.connect()
    assert sender.publish(p.up_topic(GOV, "V008", "tx"), b"after") == "Success"
    assert wait_for(lambda: received([hub], p.up_topic(GOV, "V008", "tx")) == [b"after"])
    assert impostor.received == []


def test_a_van_cannot_take_another_vans_client_id(g):
    victim = g.van("V008")
    assert victim.connect()
    assert victim.subscribe(p.van_subscription(GOV, "V008")) == GRANTED
    impostor = g.van("V007", f"van-{GOV}-V008")
    impostor.connect()
    impostor.subscribe(p.van_subscription(GOV, "V008"))
    time.sleep(1.5)
    assert victim.disconnects == [], "a van disconnected another van"
    hub = g.hub("sender")
    assert hub.connect()
    assert hub.publish(p.down_topic(GOV, "V008", "ack"), b"for V008") == "Success"
    assert wait_for(lambda: victim.topics() == [p.down_topic(GOV, "V008", "ack")])
    assert impostor.received == []


def test_a_van_certificate_is_refused_on_the_hubs_port(g):
    assert not g.van("V007", port=g.hub_port).connect()
    assert not g.van("V008", f"hub-{GOV}-2", port=g.hub_port).connect()


def test_a_van_publishes_its_own_up_and_receives_its_own_down_and_nothing_else(g):
    hub = hub_workers(g)
    status = g.hub("status")  # the plain subscription ingest adds for retained birth/will messages
    assert status.connect()
    assert status.subscribe(f"mtc/v1/{GOV}/+/up/status") == GRANTED
    van = g.van("V007")
    assert van.connect()
    assert van.subscribe(p.van_subscription(GOV, "V007")) == GRANTED
    for stream in ("tx", "doc", "audit", "tel", "status"):
        assert van.publish(p.up_topic(GOV, "V007", stream), stream.encode()) == "Success"
    assert wait_for(lambda: all(received(hub, p.up_topic(GOV, "V007", s)) == [s.encode()]
                                for s in ("tx", "doc", "audit", "tel", "status")))
    assert wait_for(lambda: p.up_topic(GOV, "V007", "status") in status.topics())
    assert hub[0].publish(p.down_topic(GOV, "V007", "ack"), b"ack") == "Success"
    assert wait_for(lambda: van.topics() == [p.down_topic(GOV, "V007", "ack")])
    van.close()
    # Outside its own up/: refused (paho then drops the connection, so each on a fresh one).
    for topic in (p.up_topic(GOV, "V008", "tx"), p.down_topic(GOV, "V007", "ack"), "mtc/v1/01/V007/up/tx",
                  "$CONTROL/dynamic-security/v1"):
        other = g.van("V007")
        assert other.connect()
        assert other.publish(topic, b"{}") == "Not authorized", topic
        other.close()
    time.sleep(0.3)
    assert received(hub, p.up_topic(GOV, "V008", "tx")) == []


def test_enrolment_and_revocation_update_the_brokers_identities(g):
    dynsec = g.ca / "broker" / "dynamic-security.json"
    names = lambda: {c["username"] for c in json.loads(dynsec.read_text())["clients"]}  # noqa: E731
    assert names() == {"hub", "V007", "V008"}
    g.enrol("V010")
    assert names() == {"hub", "V007", "V008", "V010"}
    g.broker.restart()  # Mosquitto reads the dynamic-security file only at start
    hub = hub_workers(g, 1)
    van = g.van("V010")
    assert van.connect()
    assert van.subscribe(p.van_subscription(GOV, "V010")) == GRANTED
    assert van.subscribe(p.van_subscription(GOV, "V007")) == REFUSED
    assert van.publish(p.up_topic(GOV, "V010", "tx"), b"new van") == "Success"
    assert wait_for(lambda: received(hub, p.up_topic(GOV, "V010", "tx")) == [b"new van"])
    g.close_all()
    run("van", "revoke", GOV, "V010", "--ca-dir", g.ca)
    assert names() == {"hub", "V007", "V008"}
    g.broker.restart()
    assert not g.van("V010").connect()
    assert g.van("V007").connect()


def test_the_real_van_and_two_hub_workers_deliver_everything_with_a_thief_in_the_hubs_group(g, tmp_path):
    """End to end: `edge sync` with the van's bundle on the vans' port, two `governorate ingest` workers
    on the hub's port; a van trying to join the hub's group takes nothing and every row is acked."""
    from governorate.cli import _hub

    thief = g.van("V008")
    assert thief.connect()
    assert thief.subscribe(SHARE) == REFUSED
    workers, stops, threads = [], [], []
    for n in ("1", "2"):
        hub = _hub(str(tmp_path / "hub.db"), GOV, f"mqtts://localhost:{g.hub_port}", worker=n,
                   tls_dir=str(g.ca / "hub"))
        stop = threading.Event()
        thread = threading.Thread(target=hub.run, args=(stop,), daemon=True)
        thread.start()
        workers.append(hub), stops.append(stop), threads.append(thread)
    g.van("V007")  # unpacks the bundle
    tls = g.unpacked["V007"] / "tls"
    path = tmp_path / "van" / "van.toml"
    path.parent.mkdir()
    path.write_text(f'data_dir = "{path.parent}"\n[van]\nid = "V007"\ngovernorate = "{GOV}"\n'
                    f'[broker]\nurl = "mqtts://localhost:{g.port}"\nkeepalive = 10\nca_file = "{tls / "ca.pem"}"\n'
                    f'cert_file = "{tls / "van.pem"}"\nkey_file = "{tls / "van.key"}"\n')
    settings = config.load(path)
    numbers = fill_outbox(settings, 20)
    agent = SyncAgent(settings, Tuning(resend_after_s=5, telemetry_every_s=3600))
    van_stop = threading.Event()
    van_thread = threading.Thread(target=agent.run, args=(van_stop,), daemon=True)
    try:
        assert all(w.connected.wait(10) for w in workers), "a hub worker did not connect"
        van_thread.start()
        assert wait_for(lambda: pending(settings) == 0, 20), f"{pending(settings)} rows not acked"
        assert all(workers[0].store.request(n) for n in numbers)
        assert thief.received == []
    finally:
        van_stop.set()
        van_thread.join(timeout=10)
        for stop, thread in zip(stops, threads, strict=True):
            stop.set()
            thread.join(timeout=10)
        for n in ("1", "2"):  # end the workers' persistent sessions (closed with the test's clients)
            g.hub(n).connect()

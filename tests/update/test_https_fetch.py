"""A release fetched by the van over HTTPS from the hub's release server (issue 20: "or from the hub over HTTPS when
configured"): real TLS on loopback with certificates from the governorate's CA, the real server
(governorate.release_server), the van's fetcher (edge.update.https) into the same Incoming as MQTT chunks, and the
assembled release verified with python-tuf."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from edge.update.https import HttpsFetch
from edge.update.incoming import READY, Incoming
from governorate.release_server import ReleaseServer, tls_context
from governorate.store import HubStore
from governorate.updates import Updates
from provisioning import pki
from tests.support.sync_harness import VAN
from tests.update.test_mqtt_transfer import _files, _release, _van_row

NOW = datetime.now(UTC)


def _write(folder: Path, name: str, signer) -> tuple[str, str]:
    cert, key = folder / f"{name}-cert.pem", folder / f"{name}-key.pem"
    cert.write_bytes(signer.certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(signer.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    return str(cert), str(key)


@pytest.fixture
def tls(tmp_path):
    folder = tmp_path / "tls"
    folder.mkdir()
    ca = pki.make_ca("01", now=NOW)
    (folder / "ca.pem").write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
    other = pki.make_ca("02", now=NOW)
    files = {"ca": str(folder / "ca.pem"),
             "server": _write(folder, "server", pki.make_tls_cert(ca, "hub.test", now=NOW, days=30, server=True,
                                                                   addresses=("127.0.0.1",))),
             "V001": _write(folder, "V001", pki.make_tls_cert(ca, "V001", now=NOW, days=30)),
             "V002": _write(folder, "V002", pki.make_tls_cert(ca, "V002", now=NOW, days=30)),
             "hub": _write(folder, "hub", pki.make_tls_cert(ca, "hub", now=NOW, days=30)),
             "stranger": _write(folder, "stranger", pki.make_tls_cert(other, "V001", now=NOW, days=30))}
    return files


@pytest.fixture
def served(tmp_path, tls, keys):
    store = HubStore(tmp_path / "hub.db")
    server = ReleaseServer(store, tls_context(Path(tls["server"][0]), Path(tls["server"][1]), Path(tls["ca"])),
                           "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield store, f"https://127.0.0.1:{server.port}/"
    server.shutdown()


def _fetcher(tls, url, staging, who="V001", **kw) -> HttpsFetch:
    cert, key = tls[who]
    return HttpsFetch(Incoming(staging), url, ca_file=tls["ca"], cert_file=cert, key_file=key, **kw)


def test_the_van_fetches_its_release_over_https_resumes_and_it_verifies(tmp_path, tls, served, keys, van):
    store, url = served
    folder = _release(tmp_path / "rel", keys, padding=900_000)
    offer = Updates(store).offer("V001", folder)
    staging = tmp_path / "V001" / "update" / "staging"
    reports: list = []
    fetch = _fetcher(tls, url, staging, report=reports.append)
    assert fetch.incoming.status()["update.transport"] == "https"  # the hub pushes nothing over MQTT to it

    # The van has its own messages waiting: it fetches nothing until they are gone (lowest priority).
    stop, busy = threading.Event(), threading.Event()
    busy.set()
    fetch.busy = busy.is_set
    t = threading.Thread(target=fetch.once, args=(stop,), daemon=True)
    t.start()
    t.join(2.5)
    assert t.is_alive() and fetch.incoming.held(offer["bundle"]) == set()
    stop.set()
    t.join(5)

    # Stopped half-way (the van switched off), then fetched again: only what it lacks goes.
    busy.clear()
    calls = []
    real_get = fetch._get
    fetch._get = lambda path, limit: (calls.append(path), real_get(path, limit))[1]
    stop = threading.Event()
    fetch.busy = lambda: len(calls) > 8 and not stop.set()  # stops after 8 requests
    fetch.once(stop)
    held = fetch.incoming.held(offer["bundle"])
    assert 0 < len(held) < offer["total"]
    calls.clear()
    again = _fetcher(tls, url, staging, report=reports.append)
    again._get = lambda path, limit: (calls.append(path), real_get(path, limit))[1]
    assert again.once(threading.Event()) == offer["total"] - len(held)
    assert not any(path.endswith(f"/{seq}") for path in calls for seq in held)
    assert (staging / READY).read_text().strip() == offer["bundle"]
    assert _files(again.incoming.folder(offer["bundle"])) == _files(folder)
    assert van.verify(again.incoming.folder(offer["bundle"])).version == "1.1.0"
    assert any(r and r["state"] == "complete" for r in reports)
    assert again.once(threading.Event()) == 0  # complete: nothing more to fetch


def test_the_chunks_come_over_a_few_kept_alive_connections_several_in_flight(tmp_path, tls, served, keys,
                                                                              monkeypatch):
    import http.client

    store, url = served
    offer = Updates(store).offer("V001", _release(tmp_path / "rel", keys, padding=1_500_000))
    assert offer["total"] > 20
    opened, in_flight, most = [], [], [0]
    real_connect, real_get = http.client.HTTPSConnection.connect, HttpsFetch._get
    monkeypatch.setattr(http.client.HTTPSConnection, "connect", lambda self: (opened.append(1), real_connect(self))[1])

    def counting_get(self, path, limit):
        in_flight.append(path)
        most[0] = max(most[0], len(in_flight))
        try:
            return real_get(self, path, limit)
        finally:
            in_flight.remove(path)

    monkeypatch.setattr(HttpsFetch, "_get", counting_get)
    fetch = _fetcher(tls, url, tmp_path / "V001" / "update" / "staging", parallel=4)
    assert fetch.once(threading.Event()) == offer["total"]
    # One TLS handshake per connection, not per chunk: the offer's, and one per request in flight at most.
    assert len(opened) <= 1 + 4, len(opened)
    assert 1 < most[0] <= 4


def test_a_van_shutting_down_is_not_kept_waiting_by_a_silent_link(tmp_path, tls, served, keys, monkeypatch):
    import time

    from governorate.release_server import ReleaseServer

    store, url = served
    Updates(store).offer("V001", _release(tmp_path / "rel", keys, padding=300_000))
    real_answer, release = ReleaseServer.answer, threading.Event()

    def silent(self, van, path):  # the offer answers; then the link goes quiet (no answer, no reset)
        if path != "/updates/offer":
            release.wait(60)
        return real_answer(self, van, path)

    import http.client

    monkeypatch.setattr(ReleaseServer, "answer", silent)
    connects, real_connect = [], http.client.HTTPSConnection.connect
    monkeypatch.setattr(http.client.HTTPSConnection, "connect",
                        lambda self: (connects.append(time.monotonic()), real_connect(self))[1])
    fetch = _fetcher(tls, url, tmp_path / "V001" / "update" / "staging", timeout_s=30)
    stop = threading.Event()
    t = threading.Thread(target=fetch.once, args=(stop,), daemon=True)
    t.start()
    time.sleep(1.5)
    asked = time.monotonic()
    stop.set()
    t.join(10)
    waited = time.monotonic() - asked
    time.sleep(1.0)  # the workers woken by the stop ask nothing again, on no new connection
    release.set()
    assert not t.is_alive() and waited < 3, waited  # not the request's 30 s timeout
    assert not [c for c in connects if c > asked], connects


def test_an_answer_longer_than_asked_for_is_cut_and_refused_not_read_as_empty(tmp_path, tls, served, keys,
                                                                              monkeypatch):
    from edge.update import https
    from governorate.release_server import ReleaseServer

    store, url = served
    Updates(store).offer("V001", _release(tmp_path / "rel", keys, padding=100_000))
    monkeypatch.setattr(ReleaseServer, "answer",
                        lambda self, van, path: (200, b"{" * (https.MAX_MANIFEST_BYTES + 10), "application/json"))
    fetch = _fetcher(tls, url, tmp_path / "V001" / "update" / "staging")
    status, data = fetch._get("updates/offer", https.MAX_MANIFEST_BYTES)
    assert (status, len(data)) == (200, https.MAX_MANIFEST_BYTES + 1)
    with pytest.raises(OSError, match="answered 200"):
        fetch.offer()


def test_a_van_sees_only_its_own_offer_and_a_certificate_not_of_the_governorate_is_refused(tmp_path, tls, served,
                                                                                            keys):
    store, url = served
    folder = _release(tmp_path / "rel", keys, padding=100_000)
    bundle = Updates(store).offer("V001", folder)["bundle"]
    other = _fetcher(tls, url, tmp_path / "V002", who="V002")
    assert other.offer() is None  # nothing offered to V002
    status, _ = other._get(f"updates/{bundle}/0", 1 << 16)
    assert status == 404  # and V001's chunks are not V002's to take
    hub = _fetcher(tls, url, tmp_path / "hub", who="hub")
    assert hub._get("updates/offer", 100)[0] == 403  # a certificate of the governorate, but no van
    stranger = _fetcher(tls, url, tmp_path / "s", who="stranger")
    with pytest.raises(OSError):  # URLError, or (TLS 1.3: refused after the handshake) SSLError or a reset
        stranger.offer()  # CN V001, but another governorate's CA: the handshake fails
    anonymous = urllib.request.build_opener(urllib.request.HTTPSHandler(
        context=__import__("ssl").create_default_context(cafile=tls["ca"])))
    with pytest.raises(OSError):  # URLError, or (TLS 1.3: refused after the handshake) SSLError or a reset
        anonymous.open(url + "updates/offer", timeout=5)
    mine = _fetcher(tls, url, tmp_path / "V001")
    assert mine._get(f"updates/{bundle}/999999", 1 << 16)[0] == 404
    assert mine._get("updates/../../etc/passwd", 1 << 16)[0] == 404
    assert mine.offer()["bundle"] == bundle
    Updates(store).withdraw("V001")
    assert mine.offer() is None


def test_a_chunk_damaged_on_the_way_is_found_reported_and_fetched_again(tmp_path, tls, served, keys, van):
    # TLS guards the connection; a proxy or a disk may still damage bytes. The file's SHA-256 (from the offer) finds
    # it when the file is put together: the van says so, drops that file's chunks, and the next round fetches them.
    store, url = served
    folder = _release(tmp_path / "rel", keys, padding=300_000)
    offer = Updates(store).offer("V001", folder)
    reports: list = []
    fetch = _fetcher(tls, url, tmp_path / "V001", report=reports.append)
    real_get = fetch._get
    damaged = {"times": 0}

    def damaging(path, limit):
        status, data = real_get(path, limit)
        if path.endswith("/2") and not damaged["times"]:
            damaged["times"] += 1
            return status, b"x" + data[1:]
        return status, data

    fetch._get = damaging
    fetch.once(threading.Event())
    said = [r for r in reports if r is not None][-1]
    assert said["state"] == "receiving" and "does not match its SHA-256" in said["error"]
    assert not (tmp_path / "V001" / READY).exists()
    fetch.once(threading.Event())
    assert (tmp_path / "V001" / READY).read_text().strip() == offer["bundle"]
    assert van.verify(fetch.incoming.folder(offer["bundle"])).version == "1.1.0"


def test_the_hub_pushes_nothing_over_mqtt_to_a_van_that_fetches_itself(tmp_path, keys):
    store = HubStore(tmp_path / "hub.db")
    sent = []
    updates = Updates(store, lambda *a: sent.append(a), window=4)
    updates.offer(VAN, _release(tmp_path / "rel", keys, padding=100_000))
    _van_row(store, online=True, pending=0)
    with store.transaction() as conn:
        conn.execute("UPDATE vans SET telemetry = ? WHERE van = ?",
                     [json.dumps({"outbox_pending": 0, "update.transport": "https"}), VAN])
    assert updates.pump(VAN) == 0 and sent == []
    with store.transaction() as conn:
        conn.execute("UPDATE vans SET telemetry = ? WHERE van = ?",
                     [json.dumps({"outbox_pending": 0, "update.transport": "mqtt"}), VAN])
    assert updates.pump(VAN) == 4


def test_the_van_runner_wires_the_fetcher_with_its_identity_and_its_outbox_first(tmp_path, tls):
    from edge import config, runner
    from tests.support.sync_harness import fill_outbox

    cert, key = tls["V001"]
    folder = tmp_path / "van"
    folder.mkdir()
    text = (f'data_dir = "{folder}"\n[van]\nid = "V001"\ngovernorate = "01"\n[broker]\nurl = "mqtts://127.0.0.1:8883"\n'
            f'ca_file = "{tls["ca"]}"\ncert_file = "{cert}"\nkey_file = "{key}"\n'
            f'[update]\nstate_dir = "{tmp_path / "state"}"\nhttps_url = "https://127.0.0.1:8443"\n')
    (folder / "van.toml").write_text(text)
    settings = config.load(folder / "van.toml")
    agent = runner.sync_agent(settings)
    fetch = runner.release_fetch(settings, agent)
    assert fetch.incoming is agent.updates and fetch.base == "https://127.0.0.1:8443/"
    assert agent.updates.status()["update.transport"] == "https"
    assert fetch.busy() is False
    fill_outbox(settings, 1)  # a citizen's request waits to go: the release waits for it
    assert fetch.busy() is True
    # Settings that cannot work are refused at start, with the key named.
    for bad, says in [(text.replace("https://127.0.0.1:8443", "http://127.0.0.1:8443"), "https://"),
                      (text.replace(f'cert_file = "{cert}"\n', ""), "cert_file"),
                      (text.replace(f'state_dir = "{tmp_path / "state"}"', f'state_dir = "{folder / "u"}"'),
                       "inside data_dir")]:
        (folder / "bad.toml").write_text(bad)
        with pytest.raises(config.ConfigError, match=says):
            config.load(folder / "bad.toml")


def _offers():
    from hypothesis import strategies as st

    name = st.sampled_from(["B1", "B2", "../x", "", "b" * 65])
    head = st.lists(st.one_of(st.text(max_size=12), st.integers(-2, 40), st.none(), st.booleans()), min_size=5,
                    max_size=5)
    good_head = st.tuples(st.sampled_from(["a.whl", "tuf/x.json", "../../etc/x", "/abs", "a//b"]),
                          st.integers(0, 200_000), st.sampled_from(["0" * 64, "zz", ""]), st.integers(0, 6),
                          st.integers(1, 6)).map(list)
    shaped = st.fixed_dictionaries({"bundle": name, "version": st.text(max_size=5), "total": st.integers(-1, 8),
                                    "chunk_size": st.sampled_from([65536, 65536, 4096]),
                                    "files": st.lists(st.one_of(good_head, head), max_size=4)})
    return st.one_of(shaped, st.recursive(st.none() | st.integers() | st.text(max_size=8),
                                          lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c,
                                                                                             max_size=3), max_leaves=8))


def test_whatever_the_release_server_answers_the_fetcher_refuses_cleanly_and_keeps_nothing_false(tmp_path, tls):
    # The van trusts no upload and no download: any offer and any chunk bytes and statuses from a (compromised or
    # broken) server end a round with a clear error or a refusal report — never another exception, never a READY
    # for files that are not what the offer's hashes say, never a file outside the staging folder.
    import hashlib
    import shutil

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    answers: dict = {}

    class Fake(ReleaseServer):
        def answer(self, van, path):
            if path == "/updates/offer":
                return answers["offer_status"], answers["offer"], "application/json"
            return answers["chunk_status"], answers["chunk"], "application/octet-stream"

    server = Fake(HubStore(tmp_path / "hub.db"), tls_context(Path(tls["server"][0]), Path(tls["server"][1]),
                                                             Path(tls["ca"])), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    root = tmp_path / "fuzz"

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(offer=_offers(), raw=st.binary(max_size=40), offer_status=st.sampled_from([200, 200, 200, 204, 500]),
           chunk=st.binary(max_size=70_000), chunk_status=st.sampled_from([200, 200, 404, 409, 500]),
           as_json=st.booleans())
    def check(offer, raw, offer_status, chunk, chunk_status, as_json):
        shutil.rmtree(root, ignore_errors=True)
        staging = root / "data" / "update" / "staging"
        answers.update(offer=json.dumps(offer).encode() if as_json else raw, offer_status=offer_status,
                       chunk=chunk, chunk_status=chunk_status)
        fetch = _fetcher(tls, f"https://127.0.0.1:{server.port}/", staging, report=lambda r: None)
        try:
            fetch.once(threading.Event())
        except (OSError, ValueError):
            pass  # said in the log; asked again at the next round
        outside = [p for p in root.rglob("*") if not p.is_relative_to(staging) and p not in staging.parents]
        assert outside == []
        if (staging / READY).exists():
            name = (staging / READY).read_text().strip()
            heads = {f[0]: f[2] for f in offer["files"]}
            for p in fetch.incoming.folder(name).rglob("*"):
                if p.is_file():
                    rel = p.relative_to(fetch.incoming.folder(name)).as_posix()
                    assert hashlib.sha256(p.read_bytes()).hexdigest() == heads[rel]

    try:
        check()
    finally:
        server.shutdown()


def test_a_kept_alive_connection_gone_silent_frees_its_server_thread(tmp_path, tls):
    import socket
    import ssl

    server = ReleaseServer(HubStore(tmp_path / "hub.db"), tls_context(Path(tls["server"][0]), Path(tls["server"][1]),
                                                                      Path(tls["ca"])), "127.0.0.1", 0, idle_s=1.0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        ctx = ssl.create_default_context(cafile=tls["ca"])
        ctx.load_cert_chain(*tls["V001"])
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw, \
                ctx.wrap_socket(raw, server_hostname="127.0.0.1") as conn:
            conn.sendall(b"GET /updates/offer HTTP/1.1\r\nHost: hub\r\n\r\n")
            answer = conn.recv(4096)
            assert answer.startswith(b"HTTP/1.1 204")  # kept alive after it
            # then silence from the van (power cut: no FIN): the server closes it after idle_s, not never
            assert conn.recv(4096) == b""
    finally:
        server.shutdown()

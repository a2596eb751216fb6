"""Provisioning: a governorate CA and broker, enrolled vans on a real TLS Mosquitto, install into a folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from common import keys
from edge import config as edge_config
from edge.core import trust
from provisioning import bundle as bundle_mod
from provisioning import install as install_mod
from provisioning import laying
from provisioning.cli import main as provision
from tests.support.mqtt_broker import free_port
from tests.support.paths import ROOT
from tests.support.tls_broker import Client, TlsBroker, wait_for
from tests.support.wheels import tiny_wheel as _tiny_wheel

GOV = "21"


def run(*args: str, ok: bool = True):
    result = CliRunner().invoke(provision, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def governorate(tmp_path_factory):
    """Governorate 21's CA folder, made by the command, with its broker listening on a loopback port."""
    folder = tmp_path_factory.mktemp("gov21")
    port = free_port()
    (folder / "persist").mkdir()
    run("governorate", "init", GOV, "--out", folder / "ca", "--broker-host", "localhost", "--address", "127.0.0.1",
        "--port", port, "--hub-port", free_port(), "--bind", "127.0.0.1", "--broker-dir", folder / "ca" / "broker",
        "--persistence-dir", folder / "persist")
    for van in ("V007", "V008", "V009"):
        run("van", "enrol", GOV, van, "--ca-dir", folder / "ca", "--out", folder / f"{van}.tar.gz", "--simulated")
    return folder, port


def hub_port(folder: Path) -> int:
    """The broker's listener for the hub (the vans have their own), as `governorate init` recorded it."""
    return urlsplit(json.loads((folder / "ca" / "governorate.json").read_text())["hub_broker_url"]).port


def unpack(bundle_path: Path, into: Path) -> Path:
    b = bundle_mod.read(bundle_path)
    for name, data in b.files.items():
        (into / name).parent.mkdir(parents=True, exist_ok=True)
        (into / name).write_bytes(data)
    return into


@pytest.fixture(scope="module")
def broker(governorate):
    folder, port = governorate
    b = TlsBroker(folder / "ca" / "broker" / "mosquitto.conf", port).start()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def unpacked():
    """Each van's bundle unpacked once per module."""
    return {}


@pytest.fixture
def clients(governorate, broker, unpacked, tmp_path_factory):
    """Connect-as-X factory; every client is closed at the end of the test (the broker names a van's
    client after its certificate, so a van's clients left open would take each other's place)."""
    folder, port = governorate
    made = []

    def connect(who: str, client_id: str | None = None, cert: bool = True) -> Client:
        ca = folder / "ca" / "broker" / "ca.pem"
        if who == "hub":
            c = Client(hub_port(folder), ca, client_id or "hub-21-1", folder / "ca/hub/hub-cert.pem",
                       folder / "ca/hub/hub-key.pem")
        elif not cert:
            c = Client(port, ca, client_id or "anonymous")
        else:
            if who not in unpacked:
                unpacked[who] = unpack(folder / f"{who}.tar.gz", tmp_path_factory.mktemp(who))
            d = unpacked[who]
            c = Client(port, d / "tls/ca.pem", client_id or f"van-{GOV}-{who}", d / "tls/van.pem", d / "tls/van.key")
        made.append(c)
        return c

    yield connect
    for c in made:
        try:
            c.close()
        except Exception:  # noqa: BLE001 - a refused client has nothing to close
            pass


# --------------------------------------------------------------------------------------------------
# The governorate's files
# --------------------------------------------------------------------------------------------------


def test_governorate_broker_config_is_tls_only_with_client_certificates(governorate):
    folder, port = governorate
    text = (folder / "ca/broker/mosquitto.conf").read_text()
    conf = text.splitlines()
    listeners = [line for line in conf if line.startswith("listener")]
    # Two listeners, both TLS with client certificates: the vans' and the hub's.
    assert listeners == [f"listener {port} 127.0.0.1", f"listener {hub_port(folder)} 127.0.0.1"]
    vans, hub = text.split(listeners[1])
    b = f"{folder}/ca/broker"
    for line in ("require_certificate true", "use_identity_as_username true", "tls_version tlsv1.2"):
        assert line in vans.split(listeners[0])[1].splitlines() and line in hub.splitlines()
    assert f"cafile {b}/ca.pem" in vans and "use_username_as_clientid true" in vans and f"crlfile {b}/crl.pem" in vans
    assert f"cafile {b}/hub-ca.pem" in hub and "use_username_as_clientid" not in hub
    for line in ("allow_anonymous false", "plugin mosquitto_dynamic_security.so",
                 f"plugin_opt_config_file {b}/dynamic-security.json"):
        assert line in conf
    assert not any(line.startswith(("acl_file", "password_file")) for line in conf)
    dynsec = json.loads((folder / "ca/broker/dynamic-security.json").read_text())
    assert not any(dynsec["defaultACLAccess"][k] for k in ("publishClientSend", "publishClientReceive", "subscribe"))
    roles = {r["rolename"]: {(a["acltype"], a["topic"]) for a in r["acls"]} for r in dynsec["roles"]}
    assert roles["van-V007"] == {("publishClientSend", "mtc/v1/21/V007/up/#"),
                                 ("subscribePattern", "mtc/v1/21/V007/down/#"),
                                 ("publishClientReceive", "mtc/v1/21/V007/down/#")}
    assert roles["hub"] == {("subscribePattern", "$share/hub/mtc/v1/21/+/up/#"),
                            ("subscribePattern", "mtc/v1/21/+/up/#"),
                            ("publishClientReceive", "mtc/v1/21/+/up/#"),
                            ("publishClientSend", "mtc/v1/21/+/down/#")}
    # The hub's certificate comes from the hub CA, which the vans' listener does not trust.
    hub_cert = keys.load_certificate(folder / "ca/hub/hub-cert.pem")
    assert hub_cert.issuer == keys.load_certificate(folder / "ca/broker/hub-ca.pem").subject
    assert hub_cert.issuer != keys.load_certificate(folder / "ca/broker/ca.pem").subject


def test_ca_key_stays_in_the_ca_folder_and_is_private(governorate):
    folder, _ = governorate
    assert (folder / "ca/ca/ca-key.pem").stat().st_mode & 0o777 == 0o600
    assert (folder / "ca/ca").stat().st_mode & 0o777 == 0o700
    with tarfile.open(folder / "V007.tar.gz") as tar:
        names = tar.getnames()
        blob = b"".join(tar.extractfile(m).read() for m in tar.getmembers())
    assert "ca-key.pem" not in " ".join(names)
    ca_key = (folder / "ca/ca/ca-key.pem").read_bytes()
    assert ca_key not in blob


def test_bundle_names_the_van_in_both_certificates_and_a_trust_list_listing_it(governorate):
    folder, _ = governorate
    b = bundle_mod.read(folder / "V007.tar.gz")
    assert (b.governorate, b.van) == (GOV, "V007")
    ca = keys.load_certificate(folder / "ca/ca/ca-cert.pem")
    listed = trust.verify_list(b.files["keys/trust-list.cose"], ca)
    names = {trust.identity(c)[1] for c in listed.certificates}
    assert "V007" in names
    from cryptography import x509

    mqtt_cert = x509.load_pem_x509_certificate(b.files["tls/van.pem"])
    assert trust.identity(mqtt_cert) == (GOV, "V007")  # CN = MQTT username = the ACL's %u


def test_a_van_cannot_be_enrolled_twice_or_in_the_wrong_governorate(governorate):
    folder, _ = governorate
    again = run("van", "enrol", GOV, "V007", "--ca-dir", folder / "ca", "--out", folder / "x.tar.gz", ok=False)
    assert again.exit_code == 1 and "already enrolled" in again.output and "renew" in again.output
    wrong = run("van", "enrol", "01", "V010", "--ca-dir", folder / "ca", "--out", folder / "y.tar.gz", ok=False)
    assert wrong.exit_code == 1 and "CA of governorate 21, not 01" in wrong.output
    bad = run("van", "enrol", GOV, "7", "--ca-dir", folder / "ca", "--out", folder / "z.tar.gz", ok=False)
    assert bad.exit_code == 1 and "not a van id" in bad.output
    unknown = run("van", "renew", GOV, "V099", "--ca-dir", folder / "ca", "--out", folder / "w.tar.gz", ok=False)
    assert unknown.exit_code == 1 and "no valid certificates" in unknown.output
    not_a_ca = run("van", "enrol", GOV, "V010", "--ca-dir", folder, "--out", folder / "v.tar.gz", ok=False)
    assert not_a_ca.exit_code == 1 and "not a governorate CA folder" in not_a_ca.output
    twice = run("governorate", "init", GOV, "--out", folder / "ca", ok=False)
    assert twice.exit_code == 1 and "already holds a CA" in twice.output


def test_a_damaged_bundle_is_refused_before_anything_changes(governorate, tmp_path):
    folder, _ = governorate
    members = {}
    with tarfile.open(folder / "V007.tar.gz") as tar:
        for m in tar.getmembers():
            members[m.name] = tar.extractfile(m).read()
    members["van.toml"] = members["van.toml"].replace(b'id = "V007"', b'id = "V008"')
    damaged = tmp_path / "damaged.tar.gz"
    import io

    with tarfile.open(damaged, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    result = run("van", "install", damaged, "--root", tmp_path / "root", ok=False)
    assert result.exit_code == 1 and "van.toml does not match its checksum" in result.output
    assert not (tmp_path / "root").exists()


# --------------------------------------------------------------------------------------------------
# The real broker
# --------------------------------------------------------------------------------------------------


def test_enrolled_van_connects_with_its_certificate_and_publishes_under_its_own_topics(clients):
    hub = clients("hub")
    assert hub.connect()
    hub.subscribe("$share/hub/mtc/v1/21/+/up/#")  # exactly what governorate/ingest.py subscribes
    van = clients("V007")
    assert van.connect()
    assert van.publish("mtc/v1/21/V007/up/tx", b"record") == "Success"
    assert wait_for(lambda: "mtc/v1/21/V007/up/tx" in hub.topics())


def test_client_without_certificate_is_refused(clients):
    anonymous = clients("anonymous", cert=False)
    assert not anonymous.connect()
    assert anonymous.connack != "Success"


def test_van_cannot_publish_under_another_vans_topics(clients):
    hub = clients("hub", "hub-21-2")
    assert hub.connect()
    hub.subscribe("mtc/v1/21/+/up/#")
    van_a = clients("V007", "van-21-V007-b")
    assert van_a.connect()
    assert van_a.publish("mtc/v1/21/V008/up/tx", b"forged") == "Not authorized"
    assert van_a.publish("mtc/v1/01/V007/up/tx", b"other governorate") == "Not authorized"
    assert van_a.publish("mtc/v1/21/V008/down/ack", b"forged ack") == "Not authorized"
    assert van_a.publish("mtc/v1/21/V007/up/audit", b"own") == "Success"
    assert wait_for(lambda: "mtc/v1/21/V007/up/audit" in hub.topics())
    time.sleep(0.3)
    assert "mtc/v1/21/V008/up/tx" not in hub.topics()


def test_van_cannot_read_another_vans_downlink_but_the_hub_writes_to_both(clients):
    van_a = clients("V007", "van-21-V007-c")
    van_b = clients("V008")
    assert van_a.connect() and van_b.connect()
    assert van_a.subscribe("mtc/v1/21/V008/down/#") == ["Not authorized"]
    assert van_a.subscribe("mtc/v1/21/+/down/#") == ["Not authorized"]
    assert van_a.subscribe("mtc/v1/21/V007/down/#") == ["Granted QoS 1"]
    assert van_b.subscribe("mtc/v1/21/V008/down/#") == ["Granted QoS 1"]
    hub = clients("hub", "hub-21-3")
    assert hub.connect()
    assert hub.publish("mtc/v1/21/V008/down/ack", b"for B") == "Success"
    assert hub.publish("mtc/v1/21/V007/down/ack", b"for A") == "Success"
    assert wait_for(lambda: "mtc/v1/21/V008/down/ack" in van_b.topics())
    assert wait_for(lambda: "mtc/v1/21/V007/down/ack" in van_a.topics())
    time.sleep(0.3)
    assert "mtc/v1/21/V008/down/ack" not in van_a.topics()
    assert "mtc/v1/21/V007/down/ack" not in van_b.topics()


def test_revoked_van_is_refused_after_the_broker_reloads(governorate, broker, clients):
    folder, _ = governorate
    assert clients("V009", "van-21-V009-before").connect()
    result = run("van", "revoke", GOV, "V009", "--ca-dir", folder / "ca")
    assert "revoked 2 certificate(s) of van V009" in result.output
    broker.reload()
    assert not clients("V009", "van-21-V009-after").connect()
    assert clients("V007", "van-21-V007-after-revocation").connect()  # the others are untouched
    # Its QR-signing certificate has left the governorate's trust list too.
    ca = keys.load_certificate(folder / "ca/ca/ca-cert.pem")
    listed = trust.verify_list((folder / "ca/trust-list.cose").read_bytes(), ca)
    assert {trust.identity(c)[1] for c in listed.certificates} == {"V007", "V008"}


# --------------------------------------------------------------------------------------------------
# Install on the mini-PC (into a folder standing for /)
# --------------------------------------------------------------------------------------------------

EXPECTED = {  # path: (mode, owner, group)
    "/etc/edge": ("0755", "root", "root"),
    "/etc/edge/tls": ("0750", "root", "edge"),
    "/var/lib/edge": ("0750", "edge", "edge"),
    "/var/lib/edge/keys": ("0700", "edge", "edge"),
    "/var/lib/edge-update": ("0755", "root", "root"),
    "/var/lib/edge/update": ("0750", "edge", "edge"),
    "/var/lib/edge/update/staging": ("0750", "edge", "edge"),
    "/etc/edge/van.toml": ("0640", "root", "edge"),
    "/etc/edge/tls/ca.pem": ("0644", "root", "root"),
    "/etc/edge/tls/van.pem": ("0644", "root", "root"),
    "/etc/edge/tls/van.key": ("0600", "edge", "edge"),
    "/var/lib/edge/keys/signer-key.pem": ("0600", "edge", "edge"),
    "/var/lib/edge/keys/signer-cert.pem": ("0644", "edge", "edge"),
    "/var/lib/edge/keys/ca-cert.pem": ("0644", "edge", "edge"),
    "/var/lib/edge/keys/trust-list.cose": ("0644", "edge", "edge"),
    "/etc/udev/rules.d/70-mtc-edge.rules": ("0644", "root", "root"),
    "/etc/systemd/system/edge.target": ("0644", "root", "root"),
    "/etc/systemd/system/edge-web.service": ("0644", "root", "root"),
    "/etc/systemd/system/edge-sync.service": ("0644", "root", "root"),
    "/etc/systemd/system/edge-watch.service": ("0644", "root", "root"),
    "/etc/systemd/system/edge-kiosk.service": ("0644", "root", "root"),
    "/etc/systemd/system/edge-update-recover.service": ("0644", "root", "root"),
    "/etc/systemd/system/edge-update-check.service": ("0644", "root", "root"),
    "/etc/systemd/system/edge-update.path": ("0644", "root", "root"),
    "/etc/systemd/system/edge-update.service": ("0644", "root", "root"),
    "/etc/systemd/system/edge-update-retry.timer": ("0644", "root", "root"),
    "/etc/systemd/system/edge-update-retry.service": ("0644", "root", "root"),
}


def test_install_into_a_root_writes_files_modes_and_an_owner_manifest(governorate, tmp_path):
    folder, _ = governorate
    root = tmp_path / "root"
    result = run("van", "install", folder / "V007.tar.gz", "--root", root)
    assert "van V007 of governorate 21" in result.output
    for path, (mode, _, _) in EXPECTED.items():
        assert (root / path.lstrip("/")).exists(), path
        assert f"{(root / path.lstrip('/')).stat().st_mode & 0o7777:04o}" == mode, path
    manifest = json.loads((root / "etc/edge/install-manifest.json").read_text())
    assert (manifest["governorate"], manifest["van"]) == (GOV, "V007")
    recorded = {e["path"]: (e["mode"], e["owner"], e["group"]) for e in manifest["entries"] if e["type"] != "user"}
    assert recorded == EXPECTED
    assert {e["path"] for e in manifest["entries"] if e["type"] == "user"} == {"edge", "edge-kiosk"}
    units = ROOT / "systemd"
    assert (root / "etc/systemd/system/edge-web.service").read_bytes() == (units / "edge-web.service").read_bytes()
    rules = (root / "etc/udev/rules.d/70-mtc-edge.rules").read_text()
    for name in ("edge-printer", "edge-scanner", "edge-qr", "edge-gps"):
        assert f'SYMLINK+="{name}"' in rules


def test_installing_twice_changes_nothing(governorate, tmp_path):
    folder, _ = governorate
    root = tmp_path / "root"
    run("van", "install", folder / "V007.tar.gz", "--root", root)
    before = {p: (p.stat().st_mode, p.stat().st_mtime_ns, p.read_bytes()) for p in root.rglob("*") if p.is_file()}
    again = run("van", "install", folder / "V007.tar.gz", "--root", root)
    assert "unchanged (nothing to do)" in again.output
    after = {p: (p.stat().st_mode, p.stat().st_mtime_ns, p.read_bytes()) for p in root.rglob("*") if p.is_file()}
    assert after == before


def test_installed_van_toml_passes_edge_config_check(governorate, tmp_path):
    folder, _ = governorate
    root = tmp_path / "root"
    run("van", "install", folder / "V008.tar.gz", "--root", root)
    # The file names absolute paths on the van; point them into the test root and check it there.
    text = (root / "etc/edge/van.toml").read_text()
    text = text.replace('"/etc/edge/', f'"{root}/etc/edge/').replace('"/var/lib/edge', f'"{root}/var/lib/edge')
    checked = tmp_path / "van.toml"
    checked.write_text(text)
    out = subprocess.run([str(ROOT / ".venv/bin/edge"), "config", "check", str(checked)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    settings = json.loads(out.stdout)
    assert settings["van"]["id"] == "V008" and settings["van"]["governorate"] == GOV
    assert settings["broker"]["url"].startswith("mqtts://localhost:")
    # The real-device van (not --simulated) names the udev links.
    real = bundle_mod.van_toml(GOV, "V010", name="x", broker_url="mqtts://h:8883", simulated=False, cameras={})
    devices = edge_config.loads(real.replace('ca_file = "/etc/edge/tls/ca.pem"', 'ca_file = ""')
                                .replace('url = "mqtts://h:8883"', 'url = "mqtt://h:1883"')
                                .replace('cert_file = "/etc/edge/tls/van.pem"', 'cert_file = ""')
                                .replace('key_file = "/etc/edge/tls/van.key"', 'key_file = ""')).devices
    assert devices.printer == "serial:///dev/edge-printer?baudrate=115200" and devices.qr == "serial:///dev/edge-qr"


def test_install_refuses_a_bundle_of_another_van(governorate, tmp_path):
    folder, _ = governorate
    root = tmp_path / "root"
    run("van", "install", folder / "V007.tar.gz", "--root", root)
    result = run("van", "install", folder / "V008.tar.gz", "--root", root, ok=False)
    assert result.exit_code == 1 and "This machine is van V007" in result.output


def test_renewal_replaces_the_keys_and_keeps_old_receipts_verifiable(governorate, tmp_path):
    folder, _ = governorate
    root = tmp_path / "root"
    run("van", "install", folder / "V008.tar.gz", "--root", root)
    old_signer = (root / "var/lib/edge/keys/signer-cert.pem").read_bytes()
    run("van", "renew", GOV, "V008", "--ca-dir", folder / "ca", "--out", tmp_path / "renewed.tar.gz", "--simulated")
    result = run("van", "install", tmp_path / "renewed.tar.gz", "--root", root)
    assert "updated   /etc/edge/tls/van.key" in result.output
    assert (root / "var/lib/edge/keys/signer-cert.pem").read_bytes() != old_signer
    ca = keys.load_certificate(folder / "ca/ca/ca-cert.pem")
    listed = trust.verify_list((root / "var/lib/edge/keys/trust-list.cose").read_bytes(), ca)
    from cryptography import x509

    assert x509.load_pem_x509_certificate(old_signer) in listed.certificates  # codes it signed still check


def test_expiry_check_says_when_to_renew(governorate, tmp_path):
    folder, _ = governorate
    root = tmp_path / "root"
    run("van", "install", folder / "V007.tar.gz", "--root", root)
    fine = run("van", "expiry", "--root", root, "--days", 30)
    assert "MQTT certificate: expires" in fine.output
    due = run("van", "expiry", "--root", root, "--days", 3 * 365, ok=False)
    assert due.exit_code == 1 and "provision van renew" in due.output


def test_install_without_root_privileges_is_explained(governorate, monkeypatch):
    folder, _ = governorate
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    result = run("van", "install", folder / "V007.tar.gz", ok=False)
    assert result.exit_code == 1 and "needs root" in result.output


def test_real_install_runs_useradd_udev_and_systemd_in_order(governorate, tmp_path, monkeypatch):
    """Without --root the same code creates users and starts the target; commands are recorded, not run."""
    folder, _ = governorate
    calls = []
    installer = install_mod.Installer(None, run=calls.append)
    root = tmp_path / "real"
    monkeypatch.setattr(installer, "at", lambda p: root / p.lstrip("/"))
    monkeypatch.setattr(installer, "_chown", lambda *a: False)
    monkeypatch.setattr(laying.pwd, "getpwnam", _no_user)
    installer.install(bundle_mod.read(folder / "V007.tar.gz"))
    commands = [c[0] if c[0] != "systemctl" else " ".join(c) for c in calls]
    assert commands == ["useradd", "useradd", "udevadm", "udevadm", "systemctl daemon-reload",
                        "systemctl enable edge.target", "systemctl restart edge.target"]


def _no_user(name):
    raise KeyError(name)


# --------------------------------------------------------------------------------------------------
# Moving a van to another governorate
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def giza_to_cairo(governorate, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gov01")
    run("governorate", "init", "01", "--out", folder / "ca", "--broker-host", "localhost")
    run("van", "enrol", "01", "V007", "--ca-dir", folder / "ca", "--out", folder / "V007.tar.gz", "--simulated")
    return governorate[0] / "V007.tar.gz", folder / "V007.tar.gz"


def test_install_refuses_to_switch_governorate_silently(giza_to_cairo, tmp_path):
    giza, cairo = giza_to_cairo
    root = tmp_path / "root"
    run("van", "install", giza, "--root", root)
    result = run("van", "install", cairo, "--root", root, ok=False)
    assert result.exit_code == 1 and "provision van reassign" in result.output


def test_reassign_waits_for_the_outbox_to_drain_to_the_old_governorate(giza_to_cairo, tmp_path):
    giza, cairo = giza_to_cairo
    root = tmp_path / "root"
    run("van", "install", giza, "--root", root)
    (root / "var/lib/edge/van.db").write_bytes(b"the van's database")  # stands for the outbox and history
    installer = install_mod.Installer(root)
    backlog = iter([5, 2, 0])
    with pytest.raises(install_mod.InstallError) as refused:
        install_mod.reassign(installer, bundle_mod.read(cairo), pending=lambda: 5)
    assert "5 message(s) have not yet reached governorate 21" in refused.value.message_en
    assert json.loads((root / "etc/edge/install-manifest.json").read_text())["governorate"] == GOV
    install_mod.reassign(installer, bundle_mod.read(cairo), wait_s=5, poll_s=0.01, pending=lambda: next(backlog))
    manifest = json.loads((root / "etc/edge/install-manifest.json").read_text())
    assert manifest["governorate"] == "01"
    assert 'governorate = "01"' in (root / "etc/edge/van.toml").read_text()
    assert (root / "var/lib/edge/van.db").read_bytes() == b"the van's database"
    archive = root / "var/lib/edge/keys-governorate-21"
    assert (archive / "signer-cert.pem").exists() and not (archive / "signer-key.pem").exists()


def test_provision_script_is_installed():
    assert shutil.which("provision", path=str(Path(sys.executable).parent))


def _tiny_release(folder: Path, version: str, dependency: str) -> Path:
    """A release as ``provision release build`` lays it out: a project wheel ``mtc-edge`` with an ``edge``
    script, one locked dependency (with its hash), the van's units, a sealed manifest."""
    import hashlib

    from provisioning import release as release_mod

    (folder / "wheels").mkdir(parents=True)
    dep = _tiny_wheel(folder / "wheels", dependency, "1.0")
    project = _tiny_wheel(folder / "wheels", "mtc-edge", version, script="edge")
    digest = hashlib.sha256(dep.read_bytes()).hexdigest()
    (folder / "requirements.txt").write_text(f"{dependency}==1.0 \\\n    --hash=sha256:{digest}\n")
    shutil.copytree(ROOT / "systemd", folder / "systemd")
    release_mod.seal(folder, project_wheel=project, lock_sha256="0" * 64)
    return folder


def _venv_run(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(root / "opt/mtc-edge/current/venv/bin" / args[0]), *args[1:]], capture_output=True,
                          text=True)


def test_install_puts_the_release_in_its_version_folder_once_and_again_only_when_it_changes(governorate, tmp_path):
    # The first install lays the software out as an update over the air does (docs/updates.md): the version in
    # /opt/mtc-edge/versions/<id>, `current` naming it, the updater's state saying so; the next one goes beside it.
    from edge.update import state as update_state
    from provisioning import release as release_mod

    folder, _ = governorate
    root = tmp_path / "root"
    software = root / "opt/mtc-edge"
    first = _tiny_release(tmp_path / "r1", "1.0", "mtc-probe-one")
    run("van", "install", folder / "V007.tar.gz", "--root", root, "--release", first)
    assert _venv_run(root, "edge").stdout.strip() == "1.0"
    vid = release_mod.read(first).digest[:16]
    assert os.readlink(software / "current") == f"versions/{vid}"
    installed = json.loads((software / "versions" / vid / "installed.json").read_text())
    assert installed["version"] == "1.0" and installed["identity"] == release_mod.read(first).digest
    state = update_state.read(root / "var/lib/edge-update/state.json")
    assert (state["phase"], state["current"]) == ("idle", vid)
    again = run("van", "install", folder / "V007.tar.gz", "--root", root, "--release", first)
    assert "unchanged (nothing to do)" in again.output
    # Same project version, another lock: still a new release (the identity covers the lock, not only the project).
    second = _tiny_release(tmp_path / "r2", "1.0", "mtc-probe-two")
    result = run("van", "install", folder / "V007.tar.gz", "--root", root, "--release", second)
    assert "unchanged (nothing to do)" not in result.output
    listed = {d["name"] for d in json.loads(_venv_run(root, "python", "-m", "pip", "list", "--format=json").stdout)}
    assert "mtc-probe-two" in listed and "mtc-probe-one" not in listed, listed
    newer = _tiny_release(tmp_path / "r3", "1.1", "mtc-probe-two")
    run("van", "install", folder / "V007.tar.gz", "--root", root, "--release", newer)
    assert _venv_run(root, "edge").stdout.strip() == "1.1"
    # Two versions are kept: the one the van runs and the one it would go back to.
    state = update_state.read(root / "var/lib/edge-update/state.json")
    kept = sorted(p.name for p in (software / "versions").iterdir())
    assert kept == sorted([state["current"], state["previous"]]) and len(kept) == 2


def test_install_refuses_a_release_whose_program_does_not_start_and_keeps_the_running_one(governorate, tmp_path):
    folder, _ = governorate
    root = tmp_path / "root"
    good = _tiny_release(tmp_path / "r1", "1.0", "mtc-probe-one")
    run("van", "install", folder / "V007.tar.gz", "--root", root, "--release", good)
    broken = tmp_path / "r2"
    (broken / "wheels").mkdir(parents=True)
    dep = _tiny_wheel(broken / "wheels", "mtc-probe-one", "1.0")
    project = _tiny_wheel(broken / "wheels", "mtc-edge", "2.0", script="edge", exit_code=3)
    import hashlib

    from provisioning import release as release_mod

    (broken / "requirements.txt").write_text(f"mtc-probe-one==1.0 \\\n    --hash=sha256:"
                                              f"{hashlib.sha256(dep.read_bytes()).hexdigest()}\n")
    shutil.copytree(ROOT / "systemd", broken / "systemd")
    release_mod.seal(broken, project_wheel=project, lock_sha256="0" * 64)
    result = run("van", "install", folder / "V007.tar.gz", "--root", root, "--release", broken, ok=False)
    assert result.exit_code == 1 and "does not start" in result.output and "Traceback" not in result.output
    assert _venv_run(root, "edge").stdout.strip() == "1.0"  # the van still runs what it ran


def test_install_refuses_a_damaged_release_and_installs_nothing(governorate, tmp_path):
    folder, _ = governorate
    root = tmp_path / "root"
    release = _tiny_release(tmp_path / "r1", "1.0", "mtc-probe-one")
    wheel = next((release / "wheels").glob("mtc_probe_one-*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"tampered")
    result = run("van", "install", folder / "V007.tar.gz", "--root", root, "--release", release, ok=False)
    assert result.exit_code == 1
    assert "damaged" in result.output and "wheels/mtc_probe_one-1.0-py3-none-any.whl" in result.output
    assert "تالف" in result.output and "Traceback" not in result.output
    assert not (root / "opt/mtc-edge").exists() and not (root / "etc/edge").exists()


def test_install_refuses_a_folder_that_is_not_a_release(governorate, tmp_path):
    folder, _ = governorate
    result = run("van", "install", folder / "V007.tar.gz", "--root", tmp_path / "root", "--release", tmp_path,
                 ok=False)
    assert result.exit_code == 1 and "not a van software release" in result.output


def test_the_hub_command_connects_over_tls_with_its_identity_and_sees_a_van(governorate, broker, clients, tmp_path):
    import threading

    from edge.sync import protocol as p
    from governorate.cli import _hub

    folder, port = governorate
    hub = _hub(str(tmp_path / "hub.db"), GOV, f"mqtts://localhost:{hub_port(folder)}", worker="tls-test",
               tls_dir=str(folder / "ca" / "hub"))
    stop = threading.Event()
    thread = threading.Thread(target=hub.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert hub.connected.wait(10), "the hub did not connect over TLS"
        van = clients("V008", "van-21-V008-tls-hub")  # V009 is revoked by another test of this module
        assert van.connect()
        assert van.publish(p.up_topic(GOV, "V008", "status"), p.encode(p.birth("V008", 1))) == "Success"
        assert wait_for(lambda: (hub.store.van("V008") or {}).get("online"), 10)
    finally:
        stop.set()
        thread.join(timeout=10)


def test_the_hub_command_refuses_a_tls_broker_without_its_identity():
    from click.testing import CliRunner

    from governorate.cli import main as governorate_main

    r = CliRunner().invoke(governorate_main, ["ingest", "--broker", "mqtts://localhost:8883", "--db", "/nonexistent"])
    assert r.exit_code != 0 and "--tls-dir" in r.output


def test_the_bundle_carries_the_update_anchor_and_the_install_puts_it_where_the_updater_reads_it(tmp_path):
    # docs/updates.md: a van trusts a software update only through the governorate's TUF root; the enrolment
    # bundle brings it (provision van enrol --update-keys), the install puts it in /etc/edge/update-root.json.
    import io
    import tarfile

    from edge.update import __main__ as update_cli
    from provisioning import bundle as bundle_mod

    ca = tmp_path / "ca"
    run("governorate", "init", "04", "--out", ca, "--broker-host", "localhost")
    keys = tmp_path / "keys"
    keys.mkdir()
    run("release", "keys", keys)
    out = tmp_path / "V011.tar.gz"
    result = run("van", "enrol", "04", "V011", "--ca-dir", ca, "--out", out, "--simulated", "--update-keys", keys)
    assert "no update anchor" not in result.output
    root = tmp_path / "root"
    run("van", "install", out, "--root", root)
    anchor = root / update_cli.ANCHOR.lstrip("/")
    assert anchor.read_bytes() == (keys / "metadata" / "root.json").read_bytes()
    manifest = json.loads((root / "etc/edge/install-manifest.json").read_text())
    assert {(e["path"], e["mode"], e["owner"]) for e in manifest["entries"] if e["path"] == update_cli.ANCHOR} == \
        {(update_cli.ANCHOR, "0644", "root")}
    # Without it the technician is told what it means.
    bare = run("van", "enrol", "04", "V012", "--ca-dir", ca, "--out", tmp_path / "V012.tar.gz", "--simulated")
    assert "will refuse software updates over the air" in bare.output
    # A root that does not verify is refused at enrolment, and a bundle whose anchor was swapped at install.
    forged = json.loads((keys / "metadata" / "root.json").read_text())
    forged["signed"]["version"] += 1
    bad_keys = tmp_path / "bad-keys"
    (bad_keys / "metadata").mkdir(parents=True)
    (bad_keys / "metadata" / "root.json").write_text(json.dumps(forged))
    refused = run("van", "enrol", "04", "V013", "--ca-dir", ca, "--out", tmp_path / "V013.tar.gz", "--update-keys",
                  bad_keys, ok=False)
    assert refused.exit_code == 1 and "not the governorate's signed TUF root" in refused.output
    swapped = tmp_path / "swapped.tar.gz"
    with tarfile.open(out) as src, tarfile.open(swapped, "w:gz") as dst:
        for info in src.getmembers():
            data = src.extractfile(info).read()
            if info.name == bundle_mod.UPDATE_ROOT:
                data = json.dumps(forged).encode()
                info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    result = run("van", "install", swapped, "--root", tmp_path / "root2", ok=False)
    assert result.exit_code == 1 and "update-root.json does not match its checksum" in result.output

"""`provision broker install`: the CA folder's broker/ laid where its mosquitto.conf names it, checked first, and
Mosquitto told the least disruptive way (reload for a new CRL, restart for anything else) — then real Mosquitto,
dropping to its own user as on a broker host, serves the hub with the installed files."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from provisioning import broker_install as broker_mod
from provisioning import pki
from provisioning.cli import main as provision
from tests.support.mqtt_broker import free_port, start_mosquitto, stop_process
from tests.support.tls_broker import Client

GOV = "21"
# Debian's /etc/mosquitto/mosquitto.conf as the package installs it (mosquitto 2.0.11, bookworm).
DEBIAN_MAIN = """pid_file /run/mosquitto/mosquitto.pid

persistence true
persistence_location /var/lib/mosquitto/

log_dest file /var/log/mosquitto/mosquitto.log

include_dir /etc/mosquitto/conf.d
"""


def run(*args, ok: bool = True):
    result = CliRunner().invoke(provision, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output
    return result


def governorate(folder: Path, broker_dir: str = "/etc/mosquitto/mtc", persistence: str = "/var/lib/mosquitto",
                port: int = 8883, hub_port: int = 8884) -> Path:
    """A CA folder made by `provision governorate init`; returns its broker/."""
    run("governorate", "init", GOV, "--out", folder, "--broker-host", "localhost", "--address", "127.0.0.1",
        "--port", port, "--hub-port", hub_port, "--bind", "127.0.0.1", "--broker-dir", broker_dir,
        "--persistence-dir", persistence)
    return folder / "broker"


def installer(source: Path, root: Path, calls: list, monkeypatch) -> broker_mod.BrokerInstaller:
    """An installer as on a real broker host (no --root: systemctl run), laying its files under ``root`` and
    recording the commands instead of running them."""
    made = broker_mod.BrokerInstaller(source, None, run=calls.append)
    monkeypatch.setattr(made, "at", lambda p: root / p.lstrip("/"))
    monkeypatch.setattr(made, "_chown", lambda *a: False)
    monkeypatch.setattr(broker_mod.pwd, "getpwnam", lambda name: None)
    return made


def test_the_broker_folder_is_laid_where_its_config_names_it_and_again_changes_nothing(tmp_path):
    source = governorate(tmp_path / "ca")
    root = tmp_path / "root"
    out = run("broker", "install", "--from", source, "--root", root).output
    assert "created   /etc/mosquitto/conf.d/mtc.conf" in out
    for name in broker_mod.FILES:
        assert (root / "etc/mosquitto/mtc" / name).read_bytes() == (source / name).read_bytes()
    assert (root / "etc/mosquitto/conf.d/mtc.conf").read_bytes() == (source / "mosquitto.conf").read_bytes()
    manifest = json.loads((root / "etc/mosquitto/mtc/install-manifest.json").read_text())
    entries = {e["path"]: e for e in manifest["entries"]}
    key = entries["/etc/mosquitto/mtc/server-key.pem"]
    assert (key["mode"], key["owner"]) == ("0600", "mosquitto")  # mosquitto drops to its user before reading it
    assert (root / "etc/mosquitto/mtc/server-key.pem").stat().st_mode & 0o077 == 0
    assert entries["/etc/mosquitto/mtc"]["group"] == "mosquitto"
    assert "unchanged (nothing to do)" in run("broker", "install", "--from", source, "--root", root).output


def test_a_new_crl_is_reloaded_anything_else_restarts_and_a_run_without_start_is_caught_up(tmp_path, monkeypatch):
    source = governorate(tmp_path / "ca")
    root, calls = tmp_path / "real", []
    installer(source, root, calls, monkeypatch).install()
    assert calls == [["systemctl", "enable", "mosquitto.service"], ["systemctl", "restart", "mosquitto.service"]]
    calls.clear()
    installer(source, root, calls, monkeypatch).install()
    assert calls[-1] == ["systemctl", "start", "mosquitto.service"]  # nothing changed: only made sure it runs
    # The monthly CRL (provision governorate crl): re-read on reload, the vans stay connected.
    run("governorate", "crl", "--ca-dir", tmp_path / "ca")
    calls.clear()
    installer(source, root, calls, monkeypatch).install()
    assert calls[-1] == ["systemctl", "reload-or-restart", "mosquitto.service"]
    # A van enrolled: the access list changed, which Mosquitto reads only at start.
    run("van", "enrol", GOV, "V007", "--ca-dir", tmp_path / "ca", "--out", tmp_path / "V007.tar.gz", "--simulated")
    calls.clear()
    installer(source, root, calls, monkeypatch).install(start=False)
    assert calls == []
    installer(source, root, calls, monkeypatch).install()  # changes nothing itself, still restarts onto it
    assert calls[-1] == ["systemctl", "restart", "mosquitto.service"]
    calls.clear()
    installer(source, root, calls, monkeypatch).install()
    assert calls[-1] == ["systemctl", "start", "mosquitto.service"]


def _expired_crl(source: Path, ca_folder: Path) -> None:
    auth = pki.Authority(ca_folder)
    (source / "crl.pem").write_bytes(auth.write_crl(now=datetime.now(UTC) - timedelta(days=pki.CRL_DAYS + 1)))


@pytest.mark.parametrize("spoil, says", [
    (lambda s, ca, other: (s / "crl.pem").unlink(), "crl.pem missing"),
    (lambda s, ca, other: _expired_crl(s, ca), "crl.pem expired"),
    (lambda s, ca, other: shutil.copy(other / "crl.pem", s / "crl.pem"), "not signed by this folder's CA"),
    (lambda s, ca, other: shutil.copy(other / "server-key.pem", s / "server-key.pem"), "not the key of its"),
    (lambda s, ca, other: shutil.copy(other / "server-cert.pem", s / "server-cert.pem"), "not the key of its"),
    (lambda s, ca, other: [shutil.copy(other / n, s / n) for n in ("server-cert.pem", "server-key.pem")],
     "not signed by this folder's ca.pem"),
    (lambda s, ca, other: (s / "dynamic-security.json").write_text("{"), "not the broker's access list"),
    (lambda s, ca, other: (s / "mosquitto.conf").write_text(
        (s / "mosquitto.conf").read_text().replace("cafile /etc/mosquitto/mtc/hub-ca.pem", "cafile /srv/hub-ca.pem")),
     "not the one `provision governorate init` writes"),
])
def test_a_broker_folder_mosquitto_could_not_serve_is_refused_before_anything_is_written(tmp_path, spoil, says):
    source = governorate(tmp_path / "ca")
    other = governorate(tmp_path / "other")
    spoil(source, tmp_path / "ca", other)
    root = tmp_path / "root"
    result = run("broker", "install", "--from", source, "--root", root, ok=False)
    assert result.exit_code == 1 and says in result.output and "Traceback" not in result.output, result.output
    assert not root.exists()


def test_debians_own_mosquitto_conf_is_respected(tmp_path):
    source = governorate(tmp_path / "ca")
    root = tmp_path / "root"
    (root / "etc/mosquitto").mkdir(parents=True)
    (root / "etc/mosquitto/mosquitto.conf").write_text(DEBIAN_MAIN)
    run("broker", "install", "--from", source, "--root", root)
    conf_d = (root / "etc/mosquitto/conf.d/mtc.conf").read_text()
    assert "\npersistence_location" not in conf_d and "# persistence_location: set to the same by" in conf_d
    # The main file keeping persistence elsewhere: refused (Mosquitto reads the option once), nothing changed.
    (root / "etc/mosquitto/mosquitto.conf").write_text(DEBIAN_MAIN.replace("/var/lib/mosquitto/", "/srv/mqtt/"))
    run("governorate", "crl", "--ca-dir", tmp_path / "ca")
    refused = run("broker", "install", "--from", source, "--root", root, ok=False)
    assert "sets persistence_location /srv/mqtt/" in refused.output and "Traceback" not in refused.output
    assert (root / "etc/mosquitto/mtc/crl.pem").read_bytes() != (source / "crl.pem").read_bytes()


@pytest.mark.parametrize("broker_dir, persistence", [("/etc", "/var/lib/mosquitto"),
                                                     ("/etc/mosquitto/mtc", "/var/lib"),
                                                     ("/etc/mosquitto/../mtc", "/var/lib/mosquitto")])
def test_a_folder_the_install_would_give_to_mosquitto_must_be_its_own(tmp_path, broker_dir, persistence):
    source = governorate(tmp_path / "ca", broker_dir, persistence)
    refused = run("broker", "install", "--from", source, "--root", tmp_path / "root", ok=False)
    assert "which the install would give to mosquitto" in refused.output and not (tmp_path / "root").exists()


def test_a_run_cut_short_owes_a_restart(tmp_path, monkeypatch):
    source = governorate(tmp_path / "ca")
    root, calls = tmp_path / "real", []
    installer(source, root, calls, monkeypatch).install()
    run("van", "enrol", GOV, "V007", "--ca-dir", tmp_path / "ca", "--out", tmp_path / "V007.tar.gz", "--simulated")
    cut = installer(source, root, calls, monkeypatch)

    def file_then_cut(path, *args):
        entry = broker_mod.Laying._file(cut, path, *args)
        if path.endswith("dynamic-security.json"):
            raise KeyboardInterrupt  # right after the new access list is in place
        return entry

    monkeypatch.setattr(cut, "_file", file_then_cut)
    with pytest.raises(KeyboardInterrupt):
        cut.install()
    calls.clear()
    installer(source, root, calls, monkeypatch).install()
    assert calls[-1] == ["systemctl", "restart", "mosquitto.service"]


def test_a_crl_running_out_soon_is_installed_with_a_warning(tmp_path):
    source = governorate(tmp_path / "ca")
    auth = pki.Authority(tmp_path / "ca")
    (source / "crl.pem").write_bytes(auth.write_crl(now=datetime.now(UTC) - timedelta(days=pki.CRL_DAYS - 5)))
    result = CliRunner().invoke(provision, ["broker", "install", "--from", str(source), "--root",
                                            str(tmp_path / "root")])
    assert result.exit_code == 0 and "warning: crl.pem runs out on" in result.output


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("mosquitto") is None,
                    reason="needs root and mosquitto: the files are given to the mosquitto user")
def test_real_mosquitto_dropping_to_its_user_serves_the_hub_from_the_installed_files(tmp_path, monkeypatch):
    # A folder the mosquitto user can reach (pytest's own is root's only), standing for /etc/mosquitto/mtc.
    base = Path(tempfile.mkdtemp(prefix="mtc-broker-", dir="/tmp"))
    os.chmod(base, 0o755)
    try:
        port, hub_port = free_port(), free_port()
        source = governorate(tmp_path / "ca", str(base / "mtc"), str(base / "persist"), port, hub_port)
        # Debian's main file, as the package installs it, standing for /etc/mosquitto/mosquitto.conf.
        main = base / "mosquitto.conf"
        run_dir = base / "run"  # /run/mosquitto: systemd makes it the mosquitto user's (the pid file is written after
        run_dir.mkdir()          # Mosquitto drops to that user)
        shutil.chown(run_dir, "mosquitto", "mosquitto")
        main.write_text(DEBIAN_MAIN.replace("/run/mosquitto/mosquitto.pid", str(run_dir / "mosquitto.pid"))
                        .replace("/var/lib/mosquitto/", f"{base}/persist/")
                        .replace("file /var/log/mosquitto/mosquitto.log", "stderr")
                        .replace("/etc/mosquitto/conf.d", str(base / "conf.d")))
        monkeypatch.setattr(broker_mod, "CONF", str(base / "conf.d" / "mtc.conf"))
        monkeypatch.setattr(broker_mod, "MAIN", str(main))
        calls: list = []
        broker_mod.BrokerInstaller(source, None, run=calls.append).install()  # real chown to mosquitto
        assert (base / "mtc/server-key.pem").stat().st_mode & 0o777 == 0o600
        assert calls[-1] == ["systemctl", "restart", "mosquitto.service"]
        # Debian's way; no "user root": it drops to mosquitto before the key. Both listeners: the hub's opens last.
        proc = start_mosquitto(main, port, hub_port)
        try:
            hub = tmp_path / "ca" / "hub"
            client = Client(hub_port, hub / "ca.pem", f"hub-{GOV}-1", hub / "hub-cert.pem", hub / "hub-key.pem")
            try:
                assert client.connect(timeout=10), (client.connack, client.error)
            finally:
                client.close()
        finally:
            stop_process(proc)
    finally:
        shutil.rmtree(base, ignore_errors=True)

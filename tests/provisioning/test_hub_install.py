"""`provision hub install`: the governorate hub's server laid out from its release, settings and identity, into a
folder standing for / (tiny real wheels: pip installs them offline in seconds; the real hub release is installed in
tests/provisioning/test_install_roles.py)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from provisioning import hub_install as hub_mod
from provisioning import release as release_mod
from provisioning.cli import main as provision
from tests.support.paths import ROOT
from tests.support.wheels import tiny_wheel

SETTINGS = """\
db = "/var/lib/governorate/hub.db"
governorate = "21"
broker = "mqtts://broker.gov21.example:8884"
tls_dir = "/etc/governorate/hub"
"""


def run(*args, ok: bool = True):
    result = CliRunner().invoke(provision, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output
    return result


def hub_release(folder: Path, version: str, dependency: str = "mtc-probe-one", exit_code: int = 0,
                role: str = "hub") -> Path:
    """A release laid out as ``provision release build --role hub`` makes it: one locked dependency with its hash,
    the project's wheel with a ``governorate`` command, the hub's units, a sealed manifest."""
    (folder / "wheels").mkdir(parents=True)
    dep = tiny_wheel(folder / "wheels", dependency, "1.0")
    project = tiny_wheel(folder / "wheels", "mtc-edge", version, script="governorate" if role == "hub" else "edge",
                         exit_code=exit_code)
    (folder / "requirements.txt").write_text(f"{dependency}==1.0 \\\n    --hash=sha256:"
                                             f"{hashlib.sha256(dep.read_bytes()).hexdigest()}\n")
    shutil.copytree(ROOT / ("governorate/systemd" if role == "hub" else "systemd"), folder / "systemd")
    release_mod.seal(folder, project_wheel=project, lock_sha256="0" * 64, role=role)
    return folder


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    """Governorate 21's CA folder (its hub/ is the hub's identity), and another governorate's for a wrong key."""
    folder = tmp_path_factory.mktemp("ca")
    for gov in ("21", "01"):
        run("governorate", "init", gov, "--out", folder / gov, "--broker-host", "localhost")
    return folder


@pytest.fixture
def settings(tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text(SETTINGS)
    return path


def governorate_version(root: Path) -> str:
    done = subprocess.run([str(root / "opt/governorate/current/venv/bin/governorate")], capture_output=True,
                          text=True)
    return done.stdout.strip()


def test_a_hub_is_installed_from_its_release_settings_and_identity_and_again_changes_nothing(ca, settings, tmp_path):
    root = tmp_path / "root"
    release = hub_release(tmp_path / "r1", "1.0")
    out = run("hub", "install", "--release", release, "--settings", settings, "--tls", ca / "21" / "hub",
              "--root", root).output
    assert "governorate hub 1.0:" in out and "next: add the first administrator" in out
    vid = release_mod.read(release, "hub").digest[:16]
    assert os.readlink(root / "opt/governorate/current") == f"versions/{vid}"
    assert governorate_version(root) == "1.0"
    assert (root / "etc/governorate/hub.toml").read_text() == SETTINGS
    for name in ("ca.pem", "hub-cert.pem", "hub-key.pem"):
        assert (root / "etc/governorate/hub" / name).read_bytes() == (ca / "21" / "hub" / name).read_bytes()
    manifest = json.loads((root / "etc/governorate/install-manifest.json").read_text())
    entries = {e["path"]: e for e in manifest["entries"]}
    # What a real install applies (recorded under --root): the key and the settings readable by the hub's user only.
    assert (entries["/etc/governorate/hub/hub-key.pem"]["mode"], entries["/etc/governorate/hub/hub-key.pem"]["group"]
            ) == ("0640", "governorate")
    assert (entries["/etc/governorate/hub.toml"]["mode"], entries["/etc/governorate/hub.toml"]["group"]) == \
        ("0640", "governorate")
    assert (root / "etc/governorate/hub/hub-key.pem").stat().st_mode & 0o077 == 0o040
    data = entries["/var/lib/governorate"]
    assert (data["owner"], data["mode"]) == ("governorate", "0750")
    assert manifest["governorate"] == "21" and manifest["services"] == list(hub_mod.ALWAYS)
    for unit in (ROOT / "governorate/systemd").iterdir():
        assert (root / "etc/systemd/system" / unit.name).read_bytes() == unit.read_bytes()
    again = run("hub", "install", "--release", release, "--tls", ca / "21" / "hub", "--root", root).output
    assert "unchanged (nothing to do)" in again and "next:" not in again  # the installed settings are kept


def test_every_command_the_units_start_is_where_the_install_puts_it(ca, settings, tmp_path):
    root = tmp_path / "root"
    run("hub", "install", "--release", hub_release(tmp_path / "r1", "1.0"), "--settings", settings, "--tls",
        ca / "21" / "hub", "--root", root)
    starts = []
    for unit in (root / "etc/systemd/system").glob("governorate*.service"):
        for line in unit.read_text().splitlines():
            if line.startswith(("ExecStart=", "ExecStartPre=")):
                starts.append(line.split("=", 1)[1].split()[0])
            if line.startswith("Environment=GOVERNORATE_CONFIG="):
                assert (root / line.split("=", 2)[2].lstrip("/")).is_file(), line
    assert starts and all((root / s.lstrip("/")).is_file() for s in starts), starts


def test_a_new_release_is_switched_to_and_two_versions_are_kept(ca, settings, tmp_path):
    root = tmp_path / "root"
    tls = ca / "21" / "hub"
    run("hub", "install", "--release", hub_release(tmp_path / "r1", "1.0"), "--settings", settings, "--tls", tls,
        "--root", root)
    # The same project version with another lock is still another release (its identity covers the lock).
    second = run("hub", "install", "--release", hub_release(tmp_path / "r2", "1.0", "mtc-probe-two"), "--root",
                 root).output
    assert "updated   /opt/governorate/current" in second and "next:" not in second
    run("hub", "install", "--release", hub_release(tmp_path / "r3", "1.1", "mtc-probe-two"), "--root", root)
    assert governorate_version(root) == "1.1"
    kept = sorted(p.name for p in (root / "opt/governorate/versions").iterdir())
    assert len(kept) == 2 and os.readlink(root / "opt/governorate/current").split("/")[1] in kept


def test_a_release_that_does_not_start_is_refused_and_the_hub_keeps_what_it_ran(ca, settings, tmp_path):
    root = tmp_path / "root"
    run("hub", "install", "--release", hub_release(tmp_path / "r1", "1.0"), "--settings", settings, "--tls",
        ca / "21" / "hub", "--root", root)
    broken = run("hub", "install", "--release", hub_release(tmp_path / "r2", "2.0", exit_code=3), "--root", root,
                 ok=False)
    assert broken.exit_code == 1 and "does not start" in broken.output and "Traceback" not in broken.output
    assert governorate_version(root) == "1.0"
    assert len(list((root / "opt/governorate/versions").iterdir())) == 1


@pytest.mark.parametrize("text, says", [
    (SETTINGS + "colour = 3\n", "key 'colour': is not a known setting"),
    (SETTINGS.replace('"/var/lib/governorate/hub.db"', '"/srv/hub.db"'), "must be inside /var/lib/governorate"),
    (SETTINGS.replace('"/var/lib/governorate/hub.db"', '"postgresql://hub@db/hub"'), "web.secret_key"),
    (SETTINGS.replace('"/etc/governorate/hub"', '"/var/lib/governorate"'), 'Set tls_dir = "/etc/governorate/hub"'),
    (SETTINGS.replace('"21"', '"99"'), "is not a governorate code"),
    (SETTINGS.replace('"/var/lib/governorate/hub.db"', '"postgresql+psycopg://hub:S3cret@db/hub"'),
     "a URL the hub does not open"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_settings_the_hub_would_refuse_are_refused_before_anything_is_written(ca, tmp_path, monkeypatch, text, says):
    monkeypatch.setenv("GOVERNORATE_SECRET_KEY", "k" * 40)  # the installer's own: the units do not set it
    path = tmp_path / "hub.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    root = tmp_path / "root"
    result = run("hub", "install", "--release", hub_release(tmp_path / "r1", "1.0"), "--settings", path, "--tls",
                 ca / "21" / "hub", "--root", root, ok=False)
    assert result.exit_code == 1 and says in result.output and "Traceback" not in result.output, result.output
    assert "S3cret" not in result.output
    assert not root.exists()


def test_a_postgresql_hub_with_its_secret_key_installs(ca, tmp_path, monkeypatch):
    monkeypatch.delenv("GOVERNORATE_SECRET_KEY", raising=False)
    path = tmp_path / "hub.toml"
    path.write_text(SETTINGS.replace('"/var/lib/governorate/hub.db"', '"postgresql://hub@db/hub"')
                    + '[web]\nsecret_key = "' + "k" * 40 + '"\n')
    run("hub", "install", "--release", hub_release(tmp_path / "r1", "1.0"), "--settings", path, "--tls",
        ca / "21" / "hub", "--root", tmp_path / "root")


def test_a_wrong_identity_or_release_is_refused_before_anything_is_written(ca, settings, tmp_path):
    root = tmp_path / "root"
    release = hub_release(tmp_path / "r1", "1.0")
    mixed = tmp_path / "mixed"
    shutil.copytree(ca / "21" / "hub", mixed)
    shutil.copy(ca / "01" / "hub" / "hub-key.pem", mixed / "hub-key.pem")  # another governorate's key
    refused = run("hub", "install", "--release", release, "--settings", settings, "--tls", mixed, "--root", root,
                  ok=False)
    assert "key is not the key of its certificate" in refused.output
    (mixed / "hub-key.pem").unlink()
    assert "hub-key.pem missing" in run("hub", "install", "--release", release, "--settings", settings, "--tls",
                                        mixed, "--root", root, ok=False).output
    van = hub_release(tmp_path / "van", "1.0", role="van")
    wrong = run("hub", "install", "--release", van, "--settings", settings, "--root", root, ok=False)
    assert "it is the van's release" in wrong.output and "--role hub" in wrong.output
    first = run("hub", "install", "--release", release, "--tls", ca / "21" / "hub", "--root", root, ok=False)
    assert "give --settings FILE" in first.output
    no_identity = run("hub", "install", "--release", release, "--settings", settings, "--root", root, ok=False)
    assert "give --tls with the CA folder's hub/" in no_identity.output
    assert not root.exists()
    # and the other way round: a hub's release is not a van's
    assert "it is the hub's release" in run("release", "check", release, ok=False).output
    assert "intact" in run("release", "check", release, "--role", "hub").output


def real_installer(release: Path, root: Path, calls: list, monkeypatch, users: set | None = None
                   ) -> hub_mod.HubInstaller:
    """An installer as on a real server (no --root: the user made, systemctl run), laying its files under ``root``
    and recording the commands instead of running them; ``users``: the users useradd has made so far."""
    from provisioning import laying

    users = set() if users is None else users

    def getpwnam(name):
        if name not in users:
            raise KeyError(name)

    def run_(command):
        calls.append(command)
        if command[0] == "useradd":
            users.add(command[-1])

    installer = hub_mod.HubInstaller(release_mod.read(release, "hub"), None, run=run_)
    installer.served = lambda public, cert: calls.append(["served?", public]) and None  # nginx is not running here
    monkeypatch.setattr(installer, "at", lambda p: root / p.lstrip("/"))
    monkeypatch.setattr(installer, "_chown", lambda *a: False)
    monkeypatch.setattr(laying.pwd, "getpwnam", getpwnam)
    return installer


def test_a_real_install_makes_the_user_then_reloads_enables_and_starts_the_units(ca, settings, tmp_path, monkeypatch):
    calls = []
    root = tmp_path / "real"
    real_installer(hub_release(tmp_path / "r1", "1.0"), root, calls, monkeypatch).install(
        settings=settings.read_bytes(), tls=ca / "21" / "hub")
    assert [c[:2] for c in calls] == [["useradd", "--system"], ["systemctl", "daemon-reload"],
                                      ["systemctl", "disable"], ["systemctl", "enable"], ["systemctl", "restart"]]
    assert calls[0][-1] == "governorate" and calls[-1][2:] == list(hub_mod.ALWAYS)


def test_systemctl_runs_the_services_asked_for_and_restarts_after_any_change_not_yet_started(ca, settings, tmp_path,
                                                                                           monkeypatch):
    root = tmp_path / "real"
    r1 = hub_release(tmp_path / "r1", "1.0")
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(ca / "21" / "hub" / "hub-cert.pem", served / "cert.pem")  # any pair made together will do here
    shutil.copy(ca / "21" / "hub" / "hub-key.pem", served / "key.pem")
    calls, users = [], set()

    def systemctl():
        return [c for c in calls if c[0] == "systemctl"]

    real_installer(r1, root, calls, monkeypatch, users).install(
        settings=settings.read_bytes() + b'[notify]\nsender = "kannel"\n', tls=ca / "21" / "hub",
        releases_tls=served)
    services = [*hub_mod.ALWAYS, hub_mod.NOTIFY, hub_mod.RELEASES]
    assert json.loads((root / "etc/governorate/install-manifest.json").read_text())["services"] == services
    assert systemctl() == [["systemctl", "daemon-reload"], ["systemctl", "enable", *services],
                     ["systemctl", "restart", *services]]
    calls.clear()  # again, nothing changed (the identities already installed are kept without --tls)
    real_installer(r1, root, calls, monkeypatch, users).install()
    assert systemctl() == [["systemctl", "enable", *services], ["systemctl", "start", *services]]
    # A new release laid out with --no-start: the next run changes nothing itself, and still restarts onto it.
    real_installer(hub_release(tmp_path / "r2", "1.1"), root, calls, monkeypatch, users).install(start=False)
    calls.clear()
    later = real_installer(tmp_path / "r2", root, calls, monkeypatch, users)
    later.install()
    assert not later.changed()
    assert systemctl() == [["systemctl", "daemon-reload"], ["systemctl", "enable", *services],
                     ["systemctl", "restart", *services]]
    # The sender gone from the settings and the release server's certificate taken away: both stopped.
    shutil.rmtree(root / "etc/governorate/releases")
    calls.clear()
    real_installer(tmp_path / "r2", root, calls, monkeypatch, users).install(settings=settings.read_bytes())
    assert systemctl()[:2] == [["systemctl", "daemon-reload"],
                               ["systemctl", "disable", "--now", hub_mod.NOTIFY, hub_mod.RELEASES]]
    assert systemctl()[-1] == ["systemctl", "restart", *hub_mod.ALWAYS]


def test_a_refused_release_leaves_the_settings_and_identity_as_they_were(ca, settings, tmp_path):
    root = tmp_path / "root"
    run("hub", "install", "--release", hub_release(tmp_path / "r1", "1.0"), "--settings", settings, "--tls",
        ca / "21" / "hub", "--root", root)
    before = {p: p.read_bytes() for p in (root / "etc/governorate").rglob("*") if p.is_file()}
    other = tmp_path / "cairo.toml"
    other.write_text(SETTINGS.replace('"21"', '"01"'))
    broken = run("hub", "install", "--release", hub_release(tmp_path / "r2", "2.0", exit_code=3), "--settings", other,
                 "--tls", ca / "01" / "hub", "--root", root, ok=False)
    assert "does not start" in broken.output
    assert {p: p.read_bytes() for p in (root / "etc/governorate").rglob("*") if p.is_file()} == before
    assert governorate_version(root) == "1.0"


def test_a_version_gone_back_to_by_hand_is_never_pruned(ca, settings, tmp_path):
    root = tmp_path / "root"
    software = root / "opt/governorate"
    r1 = hub_release(tmp_path / "r1", "1.0")
    run("hub", "install", "--release", r1, "--settings", settings, "--tls", ca / "21" / "hub", "--root", root)
    run("hub", "install", "--release", hub_release(tmp_path / "r2", "1.1"), "--root", root)
    first = release_mod.read(r1, "hub").digest[:16]
    (software / "current.new").symlink_to(software / "versions" / first)  # the rollback of the docs, absolute
    os.replace(software / "current.new", software / "current")
    assert governorate_version(root) == "1.0"
    run("hub", "install", "--release", hub_release(tmp_path / "r3", "1.2"), "--root", root)
    assert governorate_version(root) == "1.2"
    assert (software / "versions" / first / "installed.json").is_file()  # what ran until the switch, kept


def test_a_relative_root_and_planted_links_are_handled(ca, settings, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "root"
    victim = tmp_path / "victim"
    victim.write_text("not the hub's")
    (root / "etc/governorate").mkdir(parents=True)
    (root / "etc/governorate/.hub.toml.new").symlink_to(victim)  # a link where the temporary file goes
    (root / "etc/governorate/install-manifest.json").symlink_to(victim)  # and one where a file goes
    run("hub", "install", "--release", hub_release(tmp_path / "r1", "1.0"), "--settings", settings, "--tls",
        ca / "21" / "hub", "--root", "root")
    assert victim.read_text() == "not the hub's" and victim.stat().st_mode & 0o777 != 0o640
    for name in ("hub.toml", "install-manifest.json"):
        assert not (root / "etc/governorate" / name).is_symlink()
    assert (root / "etc/governorate/hub.toml").read_text() == SETTINGS


def test_a_release_server_needs_the_hubs_identity(ca, tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text(SETTINGS.replace("mqtts://broker.gov21.example:8884", "mqtt://127.0.0.1:1883")
                    .replace('tls_dir = "/etc/governorate/hub"\n', ""))
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(ca / "21" / "hub" / "hub-cert.pem", served / "cert.pem")
    shutil.copy(ca / "21" / "hub" / "hub-key.pem", served / "key.pem")
    refused = run("hub", "install", "--release", hub_release(tmp_path / "r1", "1.0"), "--settings", path,
                  "--releases-tls", served, "--root", tmp_path / "root", ok=False)
    assert "give --tls too" in refused.output and not (tmp_path / "root").exists()


@pytest.mark.parametrize("url, name", [
    ("postgresql:///hub", "hub"), ("postgresql://governorate@/hub", "hub"), ("postgres:///", "governorate"),
    # only the plain form: whatever libpq would make of more is not second-guessed (the administrator's to make)
    ("postgresql:///hub?host=/var/run/postgresql", None), ("postgresql:///hub?dbname=other", None),
    ("postgresql://governorate@/hub?user=postgres", None), ("postgresql://:5433/hub", None),
    ("postgresql:///hub?service=prod", None), ("postgresql://%2Fvar%2Frun%2Fpostgresql/hub", None),
    ("postgresql://gov%65rnorate@/hub", None), ("postgresql://governorate:pw@/hub", None),
    ("postgresql://hub@db.giza.example/hub", None), ("postgresql://governorate@127.0.0.1/hub", None),
    ("postgresql://other@/hub", None), ("/var/lib/governorate/hub.db", None),
])
def test_only_a_local_database_reached_as_the_hubs_user_is_the_installs_to_make(url, name):
    assert hub_mod.local_database(url) == name


def test_a_local_postgresql_gets_the_hubs_role_and_database_once_and_the_hub_migrates_it(ca, tmp_path, monkeypatch):
    from tests.support import gov_postgres

    if not gov_postgres.available() or os.geteuid() != 0:
        pytest.skip("needs PostgreSQL's server binaries and root (runuser -u postgres), as on a hub server")
    cluster = gov_postgres.Cluster().start()
    try:
        # The installer's psql reaches this throw-away cluster as it reaches a hub's own server: the postgres
        # user, over the local socket (here in the cluster's folder).
        monkeypatch.setenv("PGHOST", str(cluster.folder))
        monkeypatch.setenv("PGPORT", str(cluster.port))
        path = tmp_path / "hub.toml"
        path.write_text(SETTINGS.replace('"/var/lib/governorate/hub.db"', '"postgresql:///hub"')
                        + '[web]\nsecret_key = "' + "k" * 40 + '"\n')
        release, root = hub_release(tmp_path / "r1", "1.0"), tmp_path / "real"
        calls = []
        first = real_installer(release, root, calls, monkeypatch)
        first.install(settings=path.read_bytes(), tls=ca / "21" / "hub", start=False)
        assert ("postgresql role governorate", "created") in first.report
        assert ("postgresql database hub", "created") in first.report
        # The hub's own migrations run as its role, in its database (it owns what it creates).
        from governorate.store import HubStore

        store = HubStore(f"postgresql://governorate@127.0.0.1:{cluster.port}/hub")
        store.close()
        again = real_installer(release, root, calls, monkeypatch, users={"governorate"})
        again.install(start=False)
        assert not again.changed(), [r for r in again.report if r[1] != "unchanged"]
    finally:
        cluster.stop()


@pytest.mark.parametrize("answers, says", [
    ({"rolcanlogin": "f"}, "may not log in"),
    ({"rolcanlogin": "t", "datdba": "postgres"}, "belongs to postgres"),
])
def test_a_role_or_database_the_hub_could_not_use_is_refused_not_passed_as_unchanged(tmp_path, answers, says):
    asked = []

    def query(sql):
        asked.append(sql)
        return next((v for k, v in answers.items() if k in sql), "")

    installer = hub_mod.HubInstaller(release_mod.read(hub_release(tmp_path / "r1", "1.0"), "hub"), None,
                                     query=query)
    with pytest.raises(hub_mod.InstallError, match=says):
        installer._database("postgresql:///hub")
    assert not any(sql.startswith("CREATE") for sql in asked)


@pytest.mark.parametrize("name", ["postgres", "template1", "Hub", "hub-x"])
def test_reserved_or_odd_database_names_are_refused_in_the_settings(ca, tmp_path, name):
    path = tmp_path / "hub.toml"
    path.write_text(SETTINGS.replace('"/var/lib/governorate/hub.db"', f'"postgresql:///{name}"')
                    + '[web]\nsecret_key = "' + "k" * 40 + '"\n')
    result = run("hub", "install", "--release", hub_release(tmp_path / "r1", "1.0"), "--settings", path, "--tls",
                 ca / "21" / "hub", "--root", tmp_path / "root", ok=False)
    assert "is not one the install makes" in result.output and not (tmp_path / "root").exists()


PUBLIC = '\n[web]\npublic_url = "https://hub.gov21.test"\n'


@pytest.fixture(scope="module")
def web_tls(tmp_path_factory):
    """Web certificates: one for the hub's public name, one for another name (cert.pem, key.pem each)."""
    from tests.provisioning.test_web_proxy import tls_pair

    folder = tmp_path_factory.mktemp("web-tls")
    tls_pair(folder / "hub", "hub.gov21.test")
    tls_pair(folder / "other", "www.gov21.test")
    return folder


def test_a_public_url_installs_the_https_site_in_front_of_the_web_app(ca, web_tls, tmp_path):
    root = tmp_path / "root"
    settings = tmp_path / "hub.toml"
    settings.write_text(SETTINGS + PUBLIC)
    release = hub_release(tmp_path / "r1", "1.0")
    out = run("hub", "install", "--release", release, "--settings", settings, "--tls", ca / "21" / "hub",
              "--web-tls", web_tls / "hub", "--root", root).output
    assert "/etc/nginx/conf.d/governorate.conf" in out
    site = (root / "etc/nginx/conf.d/governorate.conf").read_text()
    assert "server_name hub.gov21.test;" in site and "proxy_pass http://127.0.0.1:8090;" in site
    assert "return 301 https://hub.gov21.test$request_uri;" in site
    for name in ("cert.pem", "key.pem"):
        assert (root / "etc/governorate/web" / name).read_bytes() == (web_tls / "hub" / name).read_bytes()
    manifest = json.loads((root / "etc/governorate/install-manifest.json").read_text())
    entries = {e["path"]: e for e in manifest["entries"]}
    assert (entries["/etc/governorate/web/key.pem"]["mode"], entries["/etc/governorate/web/key.pem"]["group"]) == \
        ("0600", "root")
    # Again without --web-tls: the installed certificate is kept, and nothing changes.
    again = run("hub", "install", "--release", release, "--root", root).output
    assert "unchanged (nothing to do)" in again


@pytest.mark.parametrize("extra, web, says", [
    (PUBLIC, None, "give --web-tls"),
    ("", "hub", "no web.public_url"),
    (PUBLIC, "other", "not for hub.gov21.test"),
    (PUBLIC + 'host = "0.0.0.0"\n', "hub", "127.0.0.1 only"),
    (PUBLIC.replace("https://hub.gov21.test", "http://hub.gov21.test"), "hub", "must be the https:// address"),
])
def test_a_web_site_that_cannot_work_is_refused_before_anything_is_written(ca, web_tls, tmp_path, extra, web, says):
    settings = tmp_path / "hub.toml"
    settings.write_text(SETTINGS + extra)
    root = tmp_path / "root"
    args = ["--web-tls", web_tls / web] if web else []
    result = run("hub", "install", "--release", hub_release(tmp_path / "r1", "1.0"), "--settings", settings, "--tls",
                 ca / "21" / "hub", *args, "--root", root, ok=False)
    assert result.exit_code == 1 and says in result.output and "Traceback" not in result.output, result.output
    assert not root.exists()


NEEDS_NGINX = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx (the hub's system packages) missing")


def _proxied_hub(ca, web_tls, tmp_path, monkeypatch):
    """A hub installed as on a real server with web.public_url: (the commands run, the users, its root, the release)."""
    calls, users = [], set()
    root = tmp_path / "real"
    release = hub_release(tmp_path / "r1", "1.0")
    real_installer(release, root, calls, monkeypatch, users).install(
        settings=(SETTINGS + PUBLIC).encode(), tls=ca / "21" / "hub", web_tls=web_tls / "hub")
    return calls, users, root, release


@NEEDS_NGINX
def test_a_real_install_checks_the_site_with_nginx_reloads_it_and_takes_it_away(ca, web_tls, tmp_path, monkeypatch):
    calls, users, root, r1 = _proxied_hub(ca, web_tls, tmp_path, monkeypatch)
    systemd = [c for c in calls if c[0] != "useradd"]
    # The machine's own nginx -t before anything restarts; nginx reloaded after the web app moved; then asked.
    assert systemd[0] == ["nginx", "-t", "-q"]
    assert systemd[-3:] == [["systemctl", "enable", "nginx.service"], ["systemctl", "reload-or-restart",
                                                                      "nginx.service"],
                            ["served?", "https://hub.gov21.test"]]
    # The public URL taken out of the settings with --no-start: the site goes; the next run reloads nginx without it.
    calls.clear()
    real_installer(r1, root, calls, monkeypatch, users).install(settings=SETTINGS.encode(), start=False)
    assert not (root / "etc/nginx/conf.d/governorate.conf").exists() and calls == []
    real_installer(r1, root, calls, monkeypatch, users).install()
    assert calls[-1] == ["systemctl", "try-reload-or-restart", "nginx.service"]
    assert not any(c[0] in ("nginx", "served?") for c in calls)
    calls.clear()
    real_installer(r1, root, calls, monkeypatch, users).install()
    assert not any("nginx.service" in c for c in calls)  # told once: not again


@NEEDS_NGINX
def test_nginx_refusing_the_site_stops_the_install_before_anything_is_written(ca, web_tls, tmp_path, monkeypatch):
    from provisioning import web_proxy

    monkeypatch.setattr(web_proxy, "CIPHERS", "NOT-A-CIPHER")  # what an nginx built without a cipher would say
    root = tmp_path / "real"
    with pytest.raises(hub_mod.InstallError) as refused:
        real_installer(hub_release(tmp_path / "r1", "1.0"), root, [], monkeypatch).install(
            settings=(SETTINGS + PUBLIC).encode(), tls=ca / "21" / "hub", web_tls=web_tls / "hub")
    assert "nginx refuses the web app's site" in str(refused.value)
    assert not (root / "etc").exists()


@NEEDS_NGINX
def test_a_site_the_machines_nginx_refuses_is_put_back_and_one_not_served_is_said(ca, web_tls, tmp_path,
                                                                                   monkeypatch):
    calls, users, root, r1 = _proxied_hub(ca, web_tls, tmp_path, monkeypatch)
    site = root / "etc/nginx/conf.d/governorate.conf"
    before = site.read_bytes()
    # Another site on the machine clashes with the new one (web.port changed): nginx -t fails, nothing restarts.
    installer = real_installer(r1, root, calls, monkeypatch, users)

    def refuse_nginx(command):
        calls.append(command)
        if command[0] == "nginx":
            raise hub_mod.InstallError("nginx: [emerg] duplicate listen", "…")

    installer.run = refuse_nginx
    calls.clear()
    with pytest.raises(hub_mod.InstallError):
        installer.install(settings=(SETTINGS + PUBLIC + 'port = 8091\n').encode())
    assert site.read_bytes() == before and calls == [["nginx", "-t", "-q"]]
    # nginx takes the site but does not serve it (a port another program holds): said, and tried again next run.
    installer = real_installer(r1, root, calls, monkeypatch, users)
    installer.served = lambda public, cert: "port 443 serves another certificate"
    with pytest.raises(hub_mod.InstallError) as refused:
        installer.install(settings=(SETTINGS + PUBLIC + 'port = 8091\n').encode())
    assert "nginx does not serve https://hub.gov21.test (port 443 serves another certificate)" in str(refused.value)
    calls.clear()
    real_installer(r1, root, calls, monkeypatch, users).install()
    assert ["systemctl", "reload-or-restart", "nginx.service"] in calls


@pytest.mark.parametrize("extra, says", [
    (PUBLIC.replace("hub.gov21.test", "hub.gov21.test:8090"), "is the web app's own"),
    (PUBLIC + 'host = "127.0.0.2"\n', "127.0.0.1 only"),
])
def test_a_public_port_or_host_that_clashes_is_refused(ca, web_tls, tmp_path, extra, says):
    settings = tmp_path / "hub.toml"
    settings.write_text(SETTINGS + extra)
    result = run("hub", "install", "--release", hub_release(tmp_path / "r1", "1.0"), "--settings", settings, "--tls",
                 ca / "21" / "hub", "--web-tls", web_tls / "hub", "--root", tmp_path / "root", ok=False)
    assert says in result.output and not (tmp_path / "root").exists(), result.output


def test_the_release_servers_port_is_not_the_public_one(ca, web_tls, tmp_path):
    settings = tmp_path / "hub.toml"
    settings.write_text(SETTINGS + PUBLIC.replace("hub.gov21.test", "hub.gov21.test:8443"))
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(ca / "21" / "hub" / "hub-cert.pem", served / "cert.pem")
    shutil.copy(ca / "21" / "hub" / "hub-key.pem", served / "key.pem")
    result = run("hub", "install", "--release", hub_release(tmp_path / "r1", "1.0"), "--settings", settings, "--tls",
                 ca / "21" / "hub", "--web-tls", web_tls / "hub", "--releases-tls", served, "--root",
                 tmp_path / "root", ok=False)
    assert "is the release server's" in result.output

"""The ``governorate`` command as the hub's administrator uses it: versions, errors, settings."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from importlib.metadata import version

import pytest


def governorate(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run the real command in its own process, as an administrator or a systemd unit would."""
    return subprocess.run([sys.executable, "-m", "governorate.cli", *args], capture_output=True, text=True,
                          env=env, timeout=60, **kwargs)


def edge(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edge.cli", *args], capture_output=True, text=True, timeout=60)


def test_both_commands_say_which_version_is_installed():
    installed = version("mtc-edge")
    for run in (governorate, edge):
        out = run("--version")
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip().endswith(f"version {installed}"), out.stdout


# --- a database it cannot use: one line in both languages, no traceback ------------------------------

ARABIC = re.compile(r"[\u0600-\u06FF]")


def assert_one_clean_line(out: subprocess.CompletedProcess, *words: str) -> None:
    assert out.returncode != 0, out
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert ARABIC.search(lines[0]), lines[0]
    for word in words:
        assert word in lines[0], lines[0]


def test_a_db_path_under_a_file_is_one_clean_line(tmp_path):
    (tmp_path / "hub.db").write_text("a file where a folder was meant")
    assert_one_clean_line(governorate("vans", "--db", str(tmp_path / "hub.db" / "hub.db")), "is a file, not a folder")


def test_a_db_path_that_is_a_folder_is_one_clean_line(tmp_path):
    assert_one_clean_line(governorate("vans", "--db", str(tmp_path)), "it is a folder")


def test_a_file_that_is_not_a_database_is_one_clean_line(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("these are meeting notes, not a database\n" * 40)
    assert_one_clean_line(governorate("vans", "--db", str(notes)), "is not a hub database")
    assert_one_clean_line(governorate("staff", "add", "--db", str(notes), "amal", "--name", "Amal",
                                      "--password", "a-long-password"), "is not a hub database")


def _without_root_override() -> list[str]:
    """A prefix that runs the command without root's licence to write anywhere (as a service user runs)."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: every folder is writable")
    caps = "-dac_override,-dac_read_search"
    return ["setpriv", "--bounding-set", caps, "--inh-caps", caps, "--"]


def test_a_folder_this_user_may_not_write_is_one_clean_line(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        out = subprocess.run([*_without_root_override(), sys.executable, "-m", "governorate.cli", "vans",
                              "--db", str(locked / "hub.db")], capture_output=True, text=True, timeout=60)
    finally:
        locked.chmod(0o755)
    assert_one_clean_line(out, "may not write")


def test_an_unreachable_postgresql_server_is_one_clean_line_without_the_password():
    pytest.importorskip("psycopg")
    with socket.socket() as s:  # a port nobody listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        url = f"postgresql://hub:s3cret-pw@127.0.0.1:{port}/hub"
        for args in (["vans"], ["web", "--port", "1"], ["ingest"]):
            out = governorate(*args, "--db", url)
            assert_one_clean_line(out, "Cannot reach the hub's PostgreSQL database", f"127.0.0.1:{port}")
            assert "s3cret-pw" not in out.stderr


# --- settings: command line > environment > settings file > defaults ------------------------------------


def _hub_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVERNORATE_")}
    return {**env, **extra}


HUB_TOML = """\
db = "{db}"
governorate = "21"

[web]
port = 8091
refresh_s = 5
notifier = "mygov.sms:factory"
secret_key = "{secret}"

[alerts]
silent_after_s = 200
backlog_alert_h = 4
"""
SECRET = "file-secret-0123456789abcdef-0123456789"


def test_web_settings_come_from_the_command_line_then_the_environment_then_the_file(tmp_path):
    config = tmp_path / "hub.toml"
    config.write_text(HUB_TOML.format(db=tmp_path / "from-file.db", secret=SECRET))
    env = _hub_env(GOVERNORATE_CONFIG=str(config), GOVERNORATE_WEB_PORT="9000", GOVERNORATE_REFRESH_S="7",
                   GOVERNORATE_DB_URL="postgresql://hub:env-password@db.example:5432/hub")
    out = governorate("web", "--refresh-s", "9", "--print-settings", env=env)
    assert out.returncode == 0, out.stderr
    shown = json.loads(out.stdout)
    assert shown["REFRESH_S"] == 9.0            # command line over environment over file
    assert shown["PORT"] == 9000                # environment over file
    assert shown["GOVERNORATE"] == "21" and shown["BACKLOG_ALERT_H"] == 4.0 and shown["SILENT_AFTER_S"] == 200.0
    assert shown["NOTIFIER"] == "mygov.sms:factory"  # file over default
    assert shown["OFFLINE_ALERT_MIN"] == 10.0 and shown["THREADS"] == 8  # defaults
    assert shown["DB_PATH"] == "postgresql://hub:***@db.example:5432/hub"  # from the environment, password hidden
    assert shown["SECRET_KEY"] == f"set in {config}" and SECRET not in out.stdout
    assert "env-password" not in out.stdout


def test_a_hub_web_started_from_the_settings_file_serves_with_its_database_and_secret_key(tmp_path):
    from flask import Flask

    db = tmp_path / "hub" / "hub.db"
    config = tmp_path / "hub.toml"
    config.write_text(HUB_TOML.format(db=db, secret=SECRET).replace('notifier = "mygov.sms:factory"\n', ""))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "governorate.cli", "--config", str(config), "web"],
                            env=_hub_env(GOVERNORATE_WEB_PORT=str(port)), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as page:
                    cookie = page.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "governorate web did not start serving"
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    signer = Flask(__name__)
    signer.secret_key = SECRET
    assert "csrf" in signer.session_interface.get_signing_serializer(signer).loads(cookie)  # signed with the file's key
    assert db.exists() and not (db.parent / "web-secret.key").exists()
    assert "governorate 21 web on" in proc.stdout.read()


@pytest.mark.parametrize(("text", "key", "words"), [
    ('governorate = "99"\n', "governorate", "not a governorate code"),
    ('[web]\nport = "8090"\n', "web.port", "whole number"),
    ("[web]\nrefesh_s = 3\n", "web.refesh_s", "did you mean 'web.refresh_s'"),
    ("[alerts]\nbacklog_alert_h = 0\n", "alerts.backlog_alert_h", "more than 0"),
    ('[web]\nsecret_key = "short"\n', "web.secret_key", "32 characters"),
    ('broker = "http://mqtt.example"\n', "broker", "mqtt://"),
    ("db = \n", "(syntax)", "line 1"),
])
def test_a_bad_settings_file_is_one_clean_line_naming_the_key(tmp_path, text, key, words):
    config = tmp_path / "hub.toml"
    config.write_text(text)
    out = governorate("--config", str(config), "vans", "--db", str(tmp_path / "hub.db"), env=_hub_env())
    assert_one_clean_line(out, str(config), f"'{key}'", words)


def test_a_named_settings_file_that_does_not_exist_stops_the_command(tmp_path):
    out = governorate("vans", env=_hub_env(GOVERNORATE_CONFIG=str(tmp_path / "absent.toml")))
    assert_one_clean_line(out, "absent.toml", "does not exist")


def test_a_short_secret_key_in_the_environment_is_refused(tmp_path):
    out = governorate("web", "--print-settings", env=_hub_env(GOVERNORATE_SECRET_KEY="too-short"))
    assert_one_clean_line(out, "GOVERNORATE_SECRET_KEY", "32 characters")


# --- the fleet before it connects ---------------------------------------------------------------------------

def test_vans_are_added_before_they_connect_by_id_or_from_the_brokers_access_list(tmp_path):
    from provisioning.broker import dynamic_security

    db = str(tmp_path / "hub.db")
    config = tmp_path / "hub.toml"
    config.write_text(f'db = "{db}"\ngovernorate = "21"\n')
    out = governorate("--config", str(config), "vans", "add", "V001", "V002", env=_hub_env())
    assert out.returncode == 0 and "2 van(s) added: V001 V002; 0 already known" in out.stdout, out
    # Arabic first, its numbers in Eastern digits, each after its noun ("the number of …: ٢"): no plural rules.
    assert out.stdout.startswith("عدد الوحدات المضافة: ٢ (V001 V002)؛ عدد الوحدات المعروفة من قبل: ٠؛ "
                                 "عدد النسخ من آخر ما نُشر التي تنتظر الإرسال: ٠ / "), out.stdout
    assert "0 copies of the latest" in out.stdout
    access = tmp_path / "dynamic-security.json"
    access.write_text(json.dumps(dynamic_security("21", ["V002", "V003", "V004"])))
    out = governorate("vans", "add", "--db", db, "--from-broker", str(access), env=_hub_env())
    assert out.returncode == 0 and "2 van(s) added: V003 V004; 1 already known" in out.stdout, out
    assert "عدد الوحدات المضافة: ٢ (V003 V004)؛ عدد الوحدات المعروفة من قبل: ١؛" in out.stdout
    out = governorate("vans", "add", "--db", db, "V001", env=_hub_env())
    assert out.stdout.startswith("عدد الوحدات المضافة: ٠؛ عدد الوحدات المعروفة من قبل: ١؛"), out.stdout
    assert not any(c in out.stdout.split(" / ")[0].replace("V001", "") for c in "0123456789"), out.stdout
    listed = [json.loads(line) for line in
              governorate("--config", str(config), "vans", env=_hub_env()).stdout.splitlines()]
    assert [(v["van"], v["last_seen"], v["online"]) for v in listed] == [
        ("V001", None, False), ("V002", None, False), ("V003", None, False), ("V004", None, False)]
    assert_one_clean_line(governorate("vans", "add", "--db", db, "V005", "bus-7", env=_hub_env()), "'bus-7'", "V007")
    notes = tmp_path / "notes.json"
    notes.write_text('{"vans": ["V009"]}')
    assert_one_clean_line(governorate("vans", "add", "--db", db, "--from-broker", str(notes), env=_hub_env()),
                          "access list")
    out = governorate("vans", "add", "--db", db, env=_hub_env())
    assert out.returncode != 0 and "--from-broker" in out.stderr
    assert len(governorate("vans", "--db", db, env=_hub_env()).stdout.splitlines()) == 4  # nothing half-added
    # The database named before the subcommand is the one it writes to (it went to the default one, created anew).
    out = governorate("vans", "--db", db, "add", "V006", env=_hub_env(), cwd=tmp_path)
    assert out.returncode == 0 and "V006" in out.stdout and not (tmp_path / "var").exists(), out
    assert len(governorate("vans", "--db", db, env=_hub_env()).stdout.splitlines()) == 5


def test_a_van_is_removed_or_retired_listed_with_its_status_and_each_change_is_audited(tmp_path):
    # Review: there was no way to take a van out (a mistyped id stayed "never connected" for ever), and neither
    # adding nor removing left an audit record.
    from governorate import backoffice
    from governorate.store import HubStore
    from tests.support.gov_support import offline_hub, tel

    db = str(tmp_path / "hub.db")
    out = governorate("vans", "add", "--db", db, "V001", "V002", "V007", env=_hub_env(USER="hana"))
    assert out.returncode == 0, out
    store = HubStore(db)
    hub = offline_hub(store)
    hub._process([tel("V007", {"device.printer": "ok"})])  # V007 has been heard from: it has a history
    backoffice.command(store, hub, "V001", "rebirth", {}, "amal")  # a word queued for a van that never connected
    store.close()

    def listed() -> dict:
        out = governorate("vans", "list", "--db", db, "--json", env=_hub_env())
        assert out.returncode == 0, out
        return {v["van"]: v["status"] for v in map(json.loads, out.stdout.splitlines())}

    assert listed() == {"V001": "never", "V002": "never", "V007": "offline"}
    # A bad id, or a van not in the fleet: one line, and nothing changed (not even the good ids beside it).
    assert_one_clean_line(governorate("vans", "remove", "--db", db, "V001", "bus-7", env=_hub_env()), "'bus-7'")
    assert_one_clean_line(governorate("vans", "remove", "--db", db, "V001", "V009", env=_hub_env()),
                          "V009", "not a van of the fleet", "nothing was removed")
    assert listed() == {"V001": "never", "V002": "never", "V007": "offline"}
    # Review L3: under sudo the OS user is the account sudo runs as; the audit names who ran sudo.
    out = governorate("vans", "--db", db, "remove", "V001", "V007",
                      env=_hub_env(USER="governorate", LOGNAME="governorate", SUDO_USER="hana"))
    assert out.returncode == 0, out
    # Review L7: "retired" is in the fixed wording; say which van went which way.
    assert "removed (never connected): V001 (1 queued downlink(s) dropped);" in out.stdout, out
    assert re.search(r"retired \(.*\): V007$", out.stdout, re.M), out
    assert listed() == {"V002": "never", "V007": "retired"}
    # Review L4: the plain listing says when a van was retired, and no session for one never connected.
    rows = {v["van"]: v for v in map(json.loads, governorate("vans", "--db", db, env=_hub_env()).stdout.splitlines())}
    assert rows["V002"]["session"] is None and rows["V002"]["retired_at"] is None, rows
    assert rows["V007"]["retired_at"], rows
    store = HubStore(db)
    try:
        assert store._read("SELECT count(*) FROM downlinks WHERE van = 'V001'")[0][0] == 0  # its queue went too
        assert store.van("V007")["telemetry"] == {"device.printer": "ok"}  # what it sent is kept
    finally:
        store.close()
    out = governorate("vans", "remove", "--db", db, "V007", env=_hub_env())
    assert out.returncode == 0 and "already retired: V007" in out.stdout, out
    text = governorate("vans", "list", "--db", db, env=_hub_env()).stdout
    assert re.search(r"^V002 +never connected +last seen —$", text, re.M), text
    assert re.search(r"^V007 +retired +since \d{4}-\d\d-\d\d \d\d:\d\d Cairo$", text, re.M), text
    assert text.splitlines()[-1] == "2 van(s), 1 never connected, 1 retired", text
    # Review M3: the broker's access list still holds a retired van: it is not brought back unless named.
    from provisioning.broker import dynamic_security

    access = tmp_path / "dynamic-security.json"
    access.write_text(json.dumps(dynamic_security("21", ["V002", "V007", "V008"])))
    out = governorate("vans", "add", "--db", db, "--from-broker", str(access), env=_hub_env(USER="hana"))
    assert out.returncode == 0 and "V007 is retired: name it to bring it back" in out.stdout, out
    assert "خارج الخدمة" in out.stdout and "1 van(s) added: V008;" in out.stdout, out
    assert listed() == {"V002": "never", "V007": "retired", "V008": "never"}
    out = governorate("vans", "add", "--db", db, "V007", env=_hub_env(USER="hana"))
    # Review L5: a van brought back is said so, not "added".
    assert out.returncode == 0 and "0 van(s) added: —; back in service: V007;" in out.stdout, out
    assert listed() == {"V002": "never", "V007": "offline", "V008": "never"}
    store = HubStore(db)
    try:
        audit = [(actor, action, subject, json.loads(details).get("os_user")) for actor, action, subject, details in
                 store._read("SELECT actor, action, subject, details FROM staff_audit WHERE action LIKE 'van.%' "
                             "AND action != 'van.command' ORDER BY id")]
    finally:
        store.close()
    assert audit == [("cli", "van.add", "V001", "hana"), ("cli", "van.add", "V002", "hana"),
                     ("cli", "van.add", "V007", "hana"), ("cli", "van.remove", "V001", "hana"),
                     ("cli", "van.retire", "V007", "hana"), ("cli", "van.add", "V008", "hana"),
                     ("cli", "van.add", "V007", "hana")]

"""The ``governorate`` command as the hub's administrator uses it: versions, errors, settings."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
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

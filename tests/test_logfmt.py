"""Under systemd the van's and the hub's log lines carry journal priorities (<3> …) and no time stamp of their own."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

TIME_STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
PREFIX = re.compile(r"^<[0-7]>")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _journal_stream(path: Path) -> str:
    """What systemd puts in JOURNAL_STREAM for a service whose stderr is this file: device:inode."""
    st = path.stat()
    return f"{st.st_dev}:{st.st_ino}"


def _run_until(args: list[str], log: Path, env: dict, *needles: str, timeout: float = 45) -> list[str]:
    """Start a real command with stderr into ``log``, wait for every needle to be logged, stop it with SIGTERM."""
    with log.open("ab") as err:
        proc = subprocess.Popen([sys.executable, "-m", *args], env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + timeout
        while not all(n in log.read_text() for n in needles):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"never logged {needles}: {log.read_text()}"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return log.read_text().splitlines()


def _van(tmp_path: Path) -> tuple[list[str], dict]:
    config = tmp_path / "van.toml"
    config.write_text(f'[van]\nid = "V004"\n[web]\nport = {_free_port()}\n'
                      '[broker]\nurl = "mqtt://127.0.0.1:1"\n')  # nobody listens: the sync agent warns
    env = {k: v for k, v in os.environ.items() if k not in ("EDGE_CONFIG", "JOURNAL_STREAM")}
    env["EDGE_DATA_DIR"] = str(tmp_path / "data")
    return ["edge.cli", "-v", "--config", str(config), "run"], env


def test_the_van_under_systemd_logs_priorities_and_leaves_the_time_to_the_journal(tmp_path):
    args, env = _van(tmp_path)
    log = tmp_path / "journal"
    log.touch()
    lines = _run_until(args, log, {**env, "JOURNAL_STREAM": _journal_stream(log)},
                       "cannot reach broker", "web UI on")
    assert all(PREFIX.match(line) for line in lines), lines
    assert not any(TIME_STAMP.search(line[3:]) for line in lines), lines
    assert any(line.startswith("<4>edge.sync: cannot reach broker") for line in lines), lines
    assert any(line.startswith("<6>edge.run: web UI on http://") for line in lines), lines
    assert any(line.startswith("<7>") for line in lines), lines  # -v: debug lines


def test_the_van_on_a_terminal_keeps_its_time_stamps(tmp_path):
    args, env = _van(tmp_path)
    log = tmp_path / "terminal"
    log.touch()
    # A child of a service whose stderr was redirected still inherits JOURNAL_STREAM: it names another stream.
    other = tmp_path / "the-service-journal"
    other.touch()
    for extra in ({}, {"JOURNAL_STREAM": _journal_stream(other)}):
        log.write_text("")
        lines = _run_until(args, log, {**env, **extra}, "web UI on")
        assert all(TIME_STAMP.match(line) for line in lines if " edge." in line), lines
        assert not any(PREFIX.match(line) for line in lines), lines


def test_the_hub_under_systemd_logs_priorities(tmp_path):
    log = tmp_path / "journal"
    log.touch()
    env = {**os.environ, "JOURNAL_STREAM": _journal_stream(log)}
    lines = _run_until(["governorate.cli", "web", "--db", str(tmp_path / "hub.db"), "--port", str(_free_port())],
                       log, env, "Serving on")
    assert any(line.startswith("<6>waitress: Serving on http://") for line in lines), lines
    assert all(PREFIX.match(line) for line in lines), lines


def test_every_level_and_every_line_of_a_traceback_carry_their_priority(tmp_path):
    script = textwrap.dedent("""
        import logging
        from edge.core import logfmt

        logfmt.configure(logging.DEBUG)
        log = logging.getLogger("van.story")
        log.debug("looked"); log.info("printed"); log.warning("paper low"); log.error("paper out")
        log.critical("disk gone")
        try:
            {}["printer"]
        except KeyError:
            log.exception("print job failed")
    """)
    log = tmp_path / "journal"
    log.touch()
    with log.open("ab") as err:
        subprocess.run([sys.executable, "-c", script], stderr=err, check=True, timeout=30,
                       env={**os.environ, "JOURNAL_STREAM": _journal_stream(log)})
    lines = log.read_text().splitlines()
    assert lines[:5] == ["<7>van.story: looked", "<6>van.story: printed", "<4>van.story: paper low",
                         "<3>van.story: paper out", "<2>van.story: disk gone"]
    assert lines[5] == "<3>van.story: print job failed"
    assert lines[6] == "<3>Traceback (most recent call last):" and lines[-1] == "<3>KeyError: 'printer'"
    assert all(line.startswith("<3>") for line in lines[5:])


@pytest.mark.parametrize("value", ["²:1", "1:²", "٣:٤", "", "1", "a:b"])
def test_a_journal_stream_that_is_no_device_and_inode_is_not_the_journal(tmp_path, monkeypatch, value):
    from edge.core import logfmt

    monkeypatch.setenv("JOURNAL_STREAM", value)
    with (tmp_path / "err").open("w") as stream:
        assert logfmt.writes_to_journal(stream) is False

"""The ``governorate`` command as the hub's administrator uses it: versions, errors, settings."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version


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

"""`systemd-analyze verify` on a folder of unit files, with the installed program's path pointed at this
checkout's (verify checks that each ExecStart= program exists; nothing else in the units changes)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def verify_units(units: Path, installed: str, program: Path, work: Path) -> dict[str, str]:
    """{unit name: what systemd-analyze said} for every unit it did not accept silently."""
    assert program.exists(), program
    for path in units.iterdir():
        (work / path.name).write_text(path.read_text().replace(installed, str(program)))
    refused = {}
    for path in sorted(work.iterdir()):
        out = subprocess.run(["systemd-analyze", "verify", "--man=no", path.name], cwd=work,
                             capture_output=True, text=True, timeout=120)
        if out.returncode != 0 or out.stderr.strip():
            refused[path.name] = out.stderr
    return refused

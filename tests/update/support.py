"""Small but real van releases for the update tests: a real wheel (named mtc-edge, with an ``edge`` command),
a hashed requirements file, sealed by provisioning.release and signed by provisioning.tuf_repo.

The full release (var/release/van, 48 packages, ~120 MB) is the same format; these take a second to build
and install, so the tests can install, switch and crash at every step many times over.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from datetime import datetime
from pathlib import Path

from provisioning import release as release_mod
from provisioning import tuf_repo

# What the release's ``edge`` command does: ``edge --version`` answers like the real one (click's
# "edge, version X"), or, for a broken release, fails the way a version that cannot start does.
HEALTHY = '''
import sys
def main():
    if "--version" in sys.argv:
        print("edge, version {version}")
        return 0
    print("edge {version}: " + " ".join(sys.argv[1:]))
    return 0
'''
BROKEN = '''
import sys
def main():
    print("Traceback (most recent call last):\\nImportError: cannot import name 'x'", file=sys.stderr)
    return 1
'''


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def make_wheel(folder: Path, version: str, *, healthy: bool = True) -> Path:
    """A real wheel ``mtc_edge-VERSION-py3-none-any.whl`` whose ``edge`` console script runs the module above."""
    dist = f"mtc_edge-{version}.dist-info"
    files = {
        "mtc_update_probe.py": (HEALTHY if healthy else BROKEN).format(version=version).encode(),
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: mtc-edge\nVersion: {version}\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{dist}/entry_points.txt": b"[console_scripts]\nedge = mtc_update_probe:main\n",
    }
    record = [_record_line(n, d) for n, d in files.items()] + [f"{dist}/RECORD,,"]
    files[f"{dist}/RECORD"] = ("\n".join(record) + "\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"mtc_edge-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, data)
    return path


def make_release(out: Path, version: str, *, healthy: bool = True, now: datetime | None = None
                 ) -> release_mod.Release:  # fmt: skip
    """An unsigned release folder of the real format (release.json sealed by provisioning.release)."""
    wheel = make_wheel(out / release_mod.WHEELS, version, healthy=healthy)
    (out / release_mod.REQUIREMENTS).write_text("# no dependencies beyond the project's wheel\n")
    (out / "systemd").mkdir(exist_ok=True)
    (out / "systemd" / "edge.target").write_text(f"[Unit]\nDescription=van {version}\n")
    return release_mod.seal(out, project_wheel=wheel, lock_sha256="0" * 64, now=now)


def signed_release(out: Path, version: str, keys: Path, *, healthy: bool = True, now: datetime | None = None,
                   expiry_days: dict[str, int] | None = None) -> release_mod.Release:
    rel = make_release(out, version, healthy=healthy, now=now)
    tuf_repo.sign_release(out, keys, now=now, expiry_days=expiry_days)
    return rel

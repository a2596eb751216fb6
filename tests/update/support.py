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

# What the release's ``edge`` command does, like the real one where the update looks: ``edge --version``
# answers "edge, version X" (click's words); ``edge web`` serves /api/health on $EDGE_TEST_PORT, as
# edge.web.api.health does: 200 when healthy, else 503 with its reasons — a printer in fault or a stuck outbox (the
# van's surroundings, in $EDGE_TEST_SURROUNDINGS: {"printer": "error", "outbox_stuck": true, "link": false}, whatever
# the version; "link": false, the modem not attached: sync not connected, and no reason to be unhealthy; "since",
# "boot", "since_boot_s": since when the link is back, as the sync agent records it),
# or a database it cannot read.
# ``dead``: the version cannot even start (refused before any switch); ``unhealthy``: it starts, but its web
# process fails at once, as with a broken migration (rolled back after the switch); ``no-sync``: it answers, but its
# sync never connects; ``printer-fault``: it answers, but drives the printer into fault (both rolled back: the
# health answer is held to the old version's, "sync connected, devices as before"); ``no-database``: it answers 503,
# its database unreadable.
PROBE = '''
import http.server, json, os, sys
VERSION = "{version}"
MODE = "{mode}"
def health():
    try:
        with open(os.environ.get("EDGE_TEST_SURROUNDINGS", "")) as f:
            around = json.load(f)
    except (OSError, ValueError):
        around = {{}}
    printer = "error" if MODE == "printer-fault" else around.get("printer", "ok")
    reasons = []
    if printer == "error":
        reasons.append({{"check": "printer", "message": "The printer is out of paper."}})
    if around.get("outbox_stuck"):
        reasons.append({{"check": "outbox", "message": "The oldest record not yet delivered is 700 minutes old."}})
    if MODE == "no-database":
        reasons.append({{"check": "database", "message": "The van database cannot be read."}})
    return {{"healthy": not reasons, "reasons": reasons, "version": VERSION,
            "sync": {{"connected": MODE != "no-sync" and around.get("link", True), "since": around.get("since"),
                     **{{k: around[k] for k in ("boot", "since_boot_s") if k in around}}}},
            "devices": {{"printer": printer, "camera:front": "error"}}}}
def main():
    if MODE == "dead":
        print("Traceback (most recent call last):\\nImportError: cannot import name 'x'", file=sys.stderr)
        return 1
    if "--version" in sys.argv:
        print("edge, version " + VERSION)
        return 0
    if sys.argv[1:2] == ["web"]:
        if MODE == "unhealthy":
            print("edge web: database migration 12 failed", file=sys.stderr)
            return 1
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                answer = health()
                body = json.dumps(answer).encode()
                self.send_response((200 if answer["healthy"] else 503) if self.path == "/api/health" else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *a):
                pass
        http.server.HTTPServer(("127.0.0.1", int(os.environ["EDGE_TEST_PORT"])), H).serve_forever()
    return 2
'''


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def make_wheel(folder: Path, version: str, *, mode: str = "healthy") -> Path:
    """A real wheel ``mtc_edge-VERSION-py3-none-any.whl`` whose ``edge`` console script runs the module above."""
    dist = f"mtc_edge-{version}.dist-info"
    files = {
        "mtc_update_probe.py": PROBE.format(version=version, mode=mode).encode(),
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


def make_release(out: Path, version: str, *, mode: str = "healthy", now: datetime | None = None
                 ) -> release_mod.Release:  # fmt: skip
    """An unsigned release folder of the real format (release.json sealed by provisioning.release)."""
    wheel = make_wheel(out / release_mod.WHEELS, version, mode=mode)
    (out / release_mod.REQUIREMENTS).write_text("# no dependencies beyond the project's wheel\n")
    (out / "systemd").mkdir(exist_ok=True)
    (out / "systemd" / "edge.target").write_text(f"[Unit]\nDescription=van {version}\n")
    return release_mod.seal(out, project_wheel=wheel, lock_sha256="0" * 64, now=now)


def signed_release(out: Path, version: str, keys: Path, *, mode: str = "healthy", now: datetime | None = None,
                   expiry_days: dict[str, int] | None = None) -> release_mod.Release:
    rel = make_release(out, version, mode=mode, now=now)
    tuf_repo.sign_release(out, keys, now=now, expiry_days=expiry_days)
    return rel


ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The health check's deadline (``--deadline``). A healthy version passes at its first answer (the units return once
# its web process is ready: tests.update.vanproc), so a wide deadline costs it nothing and keeps a loaded machine
# from failing it; only a version that is not healthy (or whose link is down) waits the deadline out in full — and
# the version a rollback goes back to is checked within the same deadline, so SHORT_S still leaves it a margin.
WIDE_S = 60.0
SHORT_S = 4.0


class Rig:
    """One van's software and data folders, updated by the real ``python -m edge.update`` in a process of its
    own; its "units" are tests.update.vanproc (the web process the health check asks). ``deadline``: wide unless the
    test waits a check out (pass SHORT_S, to the rig or to the one ``apply`` that expects a failure)."""

    def __init__(self, base: Path, keys: Path, *, deadline: float = WIDE_S):
        self.base, self.keys = base, keys
        # The van's data dir (the sync agent's) and the updater's own folder (root's on a van), apart as on a van.
        self.software, self.data, self.state = base / "opt", base / "data", base / "state"
        self.units = base / "units"  # the van's /etc/systemd/system
        self.software.mkdir(parents=True, exist_ok=True)
        self.data.mkdir(parents=True, exist_ok=True)
        self.anchor = base / "update-root.json"
        self.anchor.write_bytes((keys / "metadata" / "1.root.json").read_bytes())
        self.port = free_port()
        self.deadline = deadline

    def options(self, restart: str | None = None, deadline: float | None = None) -> list[str]:
        import sys

        if restart is None:
            restart = f"{sys.executable} -m tests.update.vanproc {self.software} {self.port}"
        return ["--software", str(self.software), "--data", str(self.data), "--state", str(self.state),
                "--units", str(self.units), "--reload-command", f"touch {self.base / 'reloaded'}",
                "--deadline", str(self.deadline if deadline is None else deadline),
                "--health-url", f"http://127.0.0.1:{self.port}/api/health", "--restart-command", restart]

    def run(self, *args: str, timeout: float = 120):
        import subprocess
        import sys

        return subprocess.run([sys.executable, "-m", "edge.update", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout)

    def apply(self, source: Path, restart: str | None = None, deadline: float | None = None):
        return self.run("apply", str(source), "--anchor", str(self.anchor), "--no-pip",
                        *self.options(restart, deadline))

    def recover(self):
        return self.run("recover", *self.options())

    def status(self) -> dict:
        import json

        done = self.run("status", "--software", str(self.software), "--state", str(self.state))
        return json.loads(done.stdout)

    def serving(self) -> str | None:
        """The version the running web process reports, or None."""
        import json
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/health", timeout=2) as r:
                return json.loads(r.read())["version"]
        except urllib.error.HTTPError as exc:  # 503: it answers, unhealthy (a printer out of paper, say)
            with exc:
                return json.loads(exc.read())["version"]
        except OSError:
            return None

    def current_answers(self) -> str | None:
        """What ``current/venv/bin/edge --version`` prints (None when it does not run): the van boots this."""
        import subprocess

        try:
            done = subprocess.run([str(self.software / "current" / "venv" / "bin" / "edge"), "--version"],
                                  capture_output=True, text=True, timeout=30)
        except OSError:
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    def stop(self) -> None:
        from tests.update import vanproc

        vanproc.stop(self.software)

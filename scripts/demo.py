"""The demo van: a local Mosquitto, the governorate hub (ingest + dashboard) and one van with simulated devices.

Run by ``make demo``. Everything lives under ``var/demo/`` (or $EDGE_DEMO_DIR) and survives a restart, so
the demo can be stopped and started like the real thing. Ctrl-C stops every part.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from edge.core.trust import SIGNER_KEY_FILE

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEMO_OPERATORS = [  # (number, name, PIN, supervisor) — demo accounts only; a real van gets its own
    (1, "مشرف العربة (تجريبي)", "1234", True),
    (2, "موظف الشباك (تجريبي)", "5678", False),
]
DEMO_STAFF = [("admin", "Governorate admin (demo)", "admin", "demo-admin-1234"),
              ("clerk", "Back-office clerk (demo)", "clerk", "demo-clerk-1234")]


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def pick_port(preferred: int) -> int:
    if port_free(preferred):
        return preferred
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"demo: {what} exited at start (code {proc.returncode}); see the lines above")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    sys.exit(f"demo: {what} did not open port {port} within {timeout:.0f} s")


USAGE = """usage: python scripts/demo.py   (make demo)

Starts a local Mosquitto, the governorate hub and one van with simulated devices; Ctrl-C stops them all.
Settings, from the environment:
  EDGE_DEMO_DIR        where everything is kept (default var/demo)
  EDGE_DEMO_PORT       the van's web port (default 8080)
  EDGE_DEMO_HUB_PORT   the hub's web port (default 8090)
  EDGE_DEMO_MQTT_PORT  the broker's port (default 1883, or the next free one)
"""


def main() -> None:
    if any(a in ("-h", "--help") for a in sys.argv[1:]):
        print(USAGE, end="")
        return
    if sys.argv[1:]:
        sys.exit(f"demo.py takes no arguments (it was given {' '.join(sys.argv[1:])!r}).\n\n{USAGE}")
    base = Path(os.environ.get("EDGE_DEMO_DIR", ROOT / "var" / "demo")).resolve()
    van_dir, hub_dir, broker_dir = base / "van", base / "hub", base / "broker"
    for d in (van_dir, hub_dir, broker_dir):
        d.mkdir(parents=True, exist_ok=True)
    web_port = int(os.environ.get("EDGE_DEMO_PORT", "8080"))
    hub_port = int(os.environ.get("EDGE_DEMO_HUB_PORT", "8090"))
    mqtt_port = pick_port(int(os.environ.get("EDGE_DEMO_MQTT_PORT", "1883")))

    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    (broker_dir / "mosquitto.conf").write_text(
        f"listener {mqtt_port} 127.0.0.1\nallow_anonymous true\n"
        f"persistence true\npersistence_location {broker_dir}/\nautosave_interval 1\n"
        "max_queued_messages 0\nmax_inflight_messages 0\nlog_dest stderr\nlog_type error\nlog_type warning\n"
        # Started as root, mosquitto would switch to its own user and could not write its persistence here.
        f"user {getpass.getuser()}\n"
    )
    van_toml = van_dir / "van.toml"
    van_toml.write_text(
        "# The demo van: simulated devices, the local demo broker. Written by scripts/demo.py.\n"
        f'data_dir = "{van_dir}"\n\n[van]\nid = "V001"\ngovernorate = "01"\nname = "عربة العرض"\n\n'
        f'[broker]\nurl = "mqtt://127.0.0.1:{mqtt_port}"\n\n[web]\nhost = "127.0.0.1"\nport = {web_port}\n'
    )
    env = {**os.environ, "EDGE_CONFIG": str(van_toml)}
    edge = [str(BIN / "edge")]
    governorate = [str(BIN / "governorate")]
    hub_db = str(hub_dir / "hub.db")
    broker_url = f"mqtt://127.0.0.1:{mqtt_port}"

    # One-time set-up: signing keys for the receipts' QR codes, demo operator accounts, demo staff.
    subprocess.run(edge + ["db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    if not (van_dir / "keys" / SIGNER_KEY_FILE).exists():
        subprocess.run(edge + ["codes", "dev-keys"], env=env, check=True)
    listed = subprocess.run(edge + ["operator", "list"], env=env, check=True, capture_output=True, text=True).stdout
    if not listed.strip():
        for number, name, pin, supervisor in DEMO_OPERATORS:
            subprocess.run(edge + ["operator", "add", str(number), "--name", name, "--pin-stdin"]
                           + (["--supervisor"] if supervisor else []), env=env, input=pin + "\n", text=True,
                           check=True)
    hub_web = _has_command(governorate, "web")
    if hub_web and not (hub_dir / ".staff-added").exists():
        for username, name, role, password in DEMO_STAFF:
            subprocess.run(governorate + ["staff", "add", "--db", hub_db, "--governorate", "01", username,
                                          "--name", name, "--role", role, "--password", password],
                           check=False)
        (hub_dir / ".staff-added").touch()

    procs: list[tuple[str, subprocess.Popen]] = []

    def stop(*_):
        for _name, p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for _name, p in reversed(procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    broker = subprocess.Popen([mosquitto, "-c", str(broker_dir / "mosquitto.conf")])
    procs.append(("broker", broker))
    wait_for_port(mqtt_port, broker, "the MQTT broker (mosquitto)")
    if hub_web:
        hub = subprocess.Popen(governorate + ["web", "--with-ingest", "--db", hub_db, "--governorate", "01",
                                              "--broker", broker_url, "--port", str(hub_port)])
    else:
        hub = subprocess.Popen(governorate + ["ingest", "--db", hub_db, "--governorate", "01", "--broker", broker_url])
    procs.append(("hub", hub))
    van = subprocess.Popen(edge + ["run"], env=env)
    procs.append(("van", van))
    wait_for_port(web_port, van, "the van (edge run)", timeout=30)

    print(f"""
=== The demo van is running ===
  Citizens' kiosk      http://127.0.0.1:{web_port}/
  Operator's console   http://127.0.0.1:{web_port}/operator/   operator 1 (supervisor) PIN 1234, operator 2 PIN 5678
  Now-serving screen   http://127.0.0.1:{web_port}/display/""")
    if hub_web:
        print(f"  Governorate hub      http://127.0.0.1:{hub_port}/   "
              "staff admin / demo-admin-1234, clerk / demo-clerk-1234")
    print(f"  MQTT broker          {broker_url}      data in {base}\n  Ctrl-C stops everything.\n", flush=True)

    while True:
        for name, p in procs:
            if p.poll() is not None:
                print(f"demo: the {name} stopped (code {p.returncode}); stopping the rest", file=sys.stderr)
                stop()
        time.sleep(1)


def _has_command(cli: list[str], name: str) -> bool:
    out = subprocess.run(cli + ["--help"], capture_output=True, text=True).stdout
    return any(line.split()[:1] == [name] for line in out.splitlines())


if __name__ == "__main__":
    main()

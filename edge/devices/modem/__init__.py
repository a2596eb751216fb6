"""The van's LTE modem: signal, access technology, operator and state, from ModemManager (``mmcli -K``) or the sim twin.

ModemManager already owns the modem's ports; asking it (``mmcli -m any -K``, the machine-readable
key/value form) is safer than opening the AT port alongside it. Where it is not installed the
modem's state is "unknown", never a guess.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from edge.core.errors import EdgeError

# Below this ModemManager signal quality (percent) the uplink is too poor to trust for sync.
WEAK_SIGNAL_PERCENT = 20
REGISTERED = {"home", "roaming", "home-sms-only", "roaming-sms-only", "home-csfb-not-preferred",
              "roaming-csfb-not-preferred"}
# Egyptian networks by MCC-MNC, for when the modem reports a code but no name.
OPERATORS = {"60201": "Orange EG", "60202": "Vodafone EG", "60203": "Etisalat by e&", "60204": "WE"}


class ModemUrlError(EdgeError):
    code = "modem-url"

    def __init__(self, url: str):
        super().__init__(
            f"عنوان المودم غير مدعوم: {url}. استخدم mmcli:// أو sim://",
            f"Unsupported modem address: {url}. Use mmcli:// or sim://",
            detail=url,
        )


@dataclass(frozen=True)
class ModemStatus:
    present: bool | None  # None: cannot tell (no ModemManager)
    state: str = ""  # ModemManager's state: connected, registered, searching, disabled, failed …
    signal_percent: int | None = None
    access_tech: tuple[str, ...] = ()
    operator_name: str = ""
    operator_code: str = ""
    registration: str = ""  # home, roaming, searching, idle, denied …
    packet_service: str = ""  # attached / detached
    model: str = ""
    problem: str = ""  # why the status is unknown or absent, for the log
    raw: dict = field(default_factory=dict, compare=False, repr=False)


_KV = re.compile(r"^\s*([a-z0-9.\-]+(?:\[\d+\])?)\s*:\s?(.*)$")
_INDEXED = re.compile(r"^(.*)\.value\[(\d+)\]$")


def parse_mmcli(text: str) -> dict[str, str | list[str]]:
    """``mmcli -K`` output as a dict; ``x.value[1..n]`` lists become ``x`` → list; ``--`` becomes ""."""
    out: dict[str, str | list[str]] = {}
    lists: dict[str, dict[int, str]] = {}
    for line in text.splitlines():
        m = _KV.match(line)
        if not m:
            continue
        key, value = m.group(1), m.group(2).strip()
        value = "" if value == "--" else value
        if idx := _INDEXED.match(key):
            lists.setdefault(idx.group(1), {})[int(idx.group(2))] = value
        elif key.endswith(".length"):
            lists.setdefault(key[: -len(".length")], {})
        else:
            out[key] = value
    for key, items in lists.items():
        out[key] = [items[i] for i in sorted(items)]
    return out


def status_from_mmcli(text: str) -> ModemStatus:
    kv = parse_mmcli(text)

    def get(key: str) -> str:
        value = kv.get(key, "")
        return value if isinstance(value, str) else ", ".join(value)

    signal = get("modem.generic.signal-quality.value")
    tech = kv.get("modem.generic.access-technologies", [])
    if isinstance(tech, str):
        tech = [tech] if tech else []
    code = get("modem.3gpp.operator-code")
    return ModemStatus(
        present=True,
        state=get("modem.generic.state"),
        signal_percent=int(signal) if signal.isdigit() else None,
        access_tech=tuple(t for item in tech for t in (s.strip() for s in item.split(",")) if t),
        operator_name=get("modem.3gpp.operator-name") or OPERATORS.get(code, ""),
        operator_code=code,
        registration=get("modem.3gpp.registration-state"),
        packet_service=get("modem.3gpp.packet-service-state"),
        model=" ".join(x for x in (get("modem.generic.manufacturer"), get("modem.generic.model")) if x),
        raw=kv,
    )


@dataclass(frozen=True)
class ModemVerdict:
    state: str  # ok / warning / error / unknown (device_status states)
    reason: str  # ok, unknown, absent, failed, no_signal, detached, weak_signal, not_connected


def judge(s: ModemStatus) -> ModemVerdict:
    """What the operator and the governorate should make of the modem's status."""
    if s.present is None:
        return ModemVerdict("unknown", "unknown")
    if not s.present:
        return ModemVerdict("error", "absent")
    if s.state in ("failed", "disabled", "disabling", "locked", "unknown"):
        return ModemVerdict("error", "failed")
    if s.signal_percent == 0 and s.state != "connected":
        return ModemVerdict("error", "no_signal")
    if (s.registration and s.registration not in REGISTERED) or s.packet_service == "detached":
        return ModemVerdict("error", "detached")
    if s.signal_percent is not None and s.signal_percent < WEAK_SIGNAL_PERCENT:
        return ModemVerdict("warning", "weak_signal")
    if s.state != "connected":
        return ModemVerdict("warning", "not_connected")
    return ModemVerdict("ok", "ok")


class MmcliModem:
    """Asks ModemManager for the modem's status: ``mmcli://`` (the first modem) or ``mmcli://2``."""

    def __init__(self, url: str, *, mmcli: str = "mmcli", timeout_s: float = 10.0):
        index = urlsplit(url).netloc or urlsplit(url).path.strip("/")
        self.modem = index or "any"
        self.mmcli = mmcli
        self.timeout_s = timeout_s

    def status(self) -> ModemStatus:
        exe = shutil.which(self.mmcli)
        if exe is None:
            return ModemStatus(present=None, problem="ModemManager (mmcli) is not installed")
        try:
            done = subprocess.run([exe, "-m", self.modem, "-K"], capture_output=True, text=True,
                                  timeout=self.timeout_s)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return ModemStatus(present=None, problem=f"mmcli did not answer: {exc}")
        if done.returncode != 0:
            err = (done.stderr or done.stdout).strip()
            if "couldn't find modem" in err or "no modems were found" in err.lower():
                return ModemStatus(present=False, problem=err)
            # ModemManager not running (no D-Bus name) and the like: we cannot tell.
            return ModemStatus(present=None, problem=err or f"mmcli exit status {done.returncode}")
        return status_from_mmcli(done.stdout)


class SimModem:
    """The twin: an LTE modem on Vodafone EG; faults ``no_signal``, ``detached``, ``weak``, ``absent``."""

    FAULTS = ("no_signal", "detached", "weak", "absent")

    def __init__(self, name: str = ""):
        self.name = name
        self.fault: str | None = None

    def set_fault(self, fault: str | None) -> None:
        if fault is not None and fault not in self.FAULTS:
            raise ValueError(f"unknown modem fault {fault!r}; one of {', '.join(self.FAULTS)}")
        self.fault = fault

    def status(self) -> ModemStatus:
        base = dict(present=True, state="connected", signal_percent=71, access_tech=("lte",),
                    operator_name="Vodafone EG", operator_code="60202", registration="home",
                    packet_service="attached", model="Simulated LTE modem")
        if self.fault == "absent":
            return ModemStatus(present=False, problem="simulated modem is unplugged")
        if self.fault == "no_signal":
            base.update(state="searching", signal_percent=0, access_tech=(), operator_name="", operator_code="",
                        registration="searching", packet_service="detached")
        elif self.fault == "detached":
            base.update(state="registered", signal_percent=55, registration="idle", packet_service="detached")
        elif self.fault == "weak":
            base.update(signal_percent=9, access_tech=("umts",))
        return ModemStatus(**base)


_SIMS: dict[str, SimModem] = {}
_SIMS_LOCK = threading.Lock()


def sim_modem(name: str = "") -> SimModem:
    with _SIMS_LOCK:
        modem = _SIMS.get(name)
        if modem is None:
            modem = _SIMS[name] = SimModem(name)
        return modem


class _Unsupported:
    def __init__(self, url: str):
        self.url = url

    def status(self) -> ModemStatus:
        return ModemStatus(present=None, problem=f"{self.url}: AT commands over serial are not supported yet")


def open_modem(url: str, **kwargs):
    """The modem named by the settings URL; every kind answers ``status() -> ModemStatus``."""
    scheme = urlsplit(url).scheme
    if scheme == "mmcli":
        return MmcliModem(url, **kwargs)
    if scheme == "sim":
        parts = urlsplit(url)
        modem = sim_modem(parts.netloc or parts.path.strip("/"))
        if fault := parse_qs(parts.query).get("fault", [""])[0]:  # sim://?fault=weak from the settings
            modem.set_fault(fault)
        return modem
    if scheme == "serial":
        return _Unsupported(url)
    raise ModemUrlError(url)

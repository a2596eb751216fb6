"""What a modem reports (:class:`ModemStatus`), how ``mmcli -K`` output reads, and the verdict on it."""


from __future__ import annotations

import re
from dataclasses import dataclass, field

from edge.devices.urls import DeviceUrlError, kind_error

# Below this ModemManager signal quality (percent) the uplink is too poor to trust for sync.
WEAK_SIGNAL_PERCENT = 20
REGISTERED = {"home", "roaming", "home-sms-only", "roaming-sms-only", "home-csfb-not-preferred",
              "roaming-csfb-not-preferred"}
# Egyptian networks by MCC-MNC, for when the modem reports a code but no name.
OPERATORS = {"60201": "Orange EG", "60202": "Vodafone EG", "60203": "Etisalat by e&", "60204": "WE"}


@kind_error("modem")
class ModemUrlError(DeviceUrlError):
    code = "modem-url"


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


def _percent(text: str) -> int | None:
    """A percentage the modem reports ("71"), or None for anything else: "²" is a digit to str.isdigit but
    not to int(), and a signal of 250 % is no reading."""
    value = int(text) if text.isascii() and text.isdigit() else None
    return value if value is not None and value <= 100 else None


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
        signal_percent=_percent(signal),
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

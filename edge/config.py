"""The van's settings: one TOML file read into a typed, validated object, with defaults for a demo van."""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from edge.core import catalogue as catalogue_mod
from edge.core import governorates, money
from edge.core.errors import EdgeError
from edge.core.vans import VAN_ID
from edge.devices import kinds as device_kinds
from edge.devices.urls import DeviceUrlError

DEFAULT_PATH = Path("/etc/edge/van.toml")
ENV_VAR = "EDGE_CONFIG"

BROKER_SCHEMES = {"mqtt", "mqtts"}


class ConfigError(EdgeError):
    code = "config-invalid"

    def __init__(self, source: str, key: str, problem: str, problem_ar: str | None = None):
        self.source = source
        self.key = key
        self.problem = problem
        super().__init__(
            f"خطأ في ملف الإعدادات {source}: المفتاح «{key}» — {problem_ar or problem}. صحّح الملف ثم أعد التشغيل.",
            f"Configuration error in {source}: key '{key}': {problem}. Fix the file and start again.",
            detail=f"{source}:{key}: {problem}",
        )


@dataclass(frozen=True)
class VanSettings:
    id: str = "V001"
    governorate: str = "01"
    name: str = ""


@dataclass(frozen=True)
class DeviceSettings:
    printer: str = "sim://"
    scanner: str = "sim://"
    qr: str = "sim://"
    gps: str = "sim://"
    modem: str = "sim://"
    # name -> URL; the demo van has two simulated cameras.
    cameras: dict[str, str] = field(default_factory=lambda: {"front": "sim://front", "rear": "sim://rear"})


@dataclass(frozen=True)
class BrokerSettings:
    url: str = "mqtt://127.0.0.1:1883"
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    keepalive: int = 60

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (8883 if parts.scheme == "mqtts" else 1883)

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts"


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True)
class RetentionSettings:
    # Delivered outbox rows are only kept for diagnosis; undelivered ones are never purged.
    delivered_outbox_days: int = 30
    # Citizens' personal data (national ID, name, mobile, scans) once the governorate has acknowledged it.
    personal_data_days: int = 90
    device_events_days: int = 14


@dataclass(frozen=True)
class HealthSettings:
    # /api/health answers 503 once the oldest undelivered outbox row is older than this (the hub's
    # backlog alert is 2 h too): days without signal are survivable, but someone should know.
    outbox_stuck_after_min: int = 120


@dataclass(frozen=True)
class StorageSettings:
    # Below this many MB free, a new scanned page is refused before the citizen's paper is taken: what is
    # left goes to registering requests, tickets, prints and the outbox (edge.store.disk).
    reserve_mb: int = 200
    # Below this, what can be rebuilt is shed first: camera thumbnails and device-event history.
    low_mb: int = 500


@dataclass(frozen=True)
class DisplaySettings:
    # The languages the now-serving screen speaks each call in, in order ("ar", "en"); empty: a chime only.
    announce: tuple[str, ...] = ("ar",)


@dataclass(frozen=True)
class ShiftSettings:
    # A difference between the counted cash and the van's record above this needs a supervisor's PIN (issue 19).
    threshold_egp: float = 20.0

    @property
    def threshold_piastres(self) -> int:
        return round(self.threshold_egp * 100)


@dataclass(frozen=True)
class CatalogueSettings:
    path: str = ""  # empty: the catalogue shipped with the software
    fee_overrides_egp: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class UpdateSettings:
    # The software updater's own folder (root's; edge.update, docs/updates.md): the sync agent reads the update's
    # state there to report it to the governorate. Never under data_dir, which the van's user owns.
    state_dir: str = "/var/lib/edge-update"
    # The hub's release server (governorate.release_server), e.g. "https://hub.example:8443/": the van fetches the
    # release offered to it from there (TLS with the broker's ca_file, cert_file, key_file) instead of having the hub
    # push it over MQTT. Empty: over MQTT.
    https_url: str = ""


@dataclass(frozen=True)
class Settings:
    van: VanSettings = field(default_factory=VanSettings)
    data_dir: Path = field(default_factory=lambda: default_data_dir())
    devices: DeviceSettings = field(default_factory=DeviceSettings)
    broker: BrokerSettings = field(default_factory=BrokerSettings)
    web: WebSettings = field(default_factory=WebSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    catalogue: CatalogueSettings = field(default_factory=CatalogueSettings)
    display: DisplaySettings = field(default_factory=DisplaySettings)
    shift: ShiftSettings = field(default_factory=ShiftSettings)
    update: UpdateSettings = field(default_factory=UpdateSettings)
    source: str = "<defaults>"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "van.db"

    @property
    def documents_dir(self) -> Path:
        return self.data_dir / "documents"


def default_data_dir() -> Path:
    if env := os.environ.get("EDGE_DATA_DIR"):
        return Path(env)
    # Set by systemd for a unit with StateDirectory= (the only writable place under ProtectSystem=strict).
    if env := os.environ.get("STATE_DIRECTORY"):
        return Path(env.split(":")[0])
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "mtc-edge"


_SECTIONS: dict[str, type] = {
    "van": VanSettings,
    "devices": DeviceSettings,
    "broker": BrokerSettings,
    "web": WebSettings,
    "retention": RetentionSettings,
    "health": HealthSettings,
    "storage": StorageSettings,
    "catalogue": CatalogueSettings,
    "display": DisplaySettings,
    "shift": ShiftSettings,
    "update": UpdateSettings,
}
_TOP_LEVEL = set(_SECTIONS) | {"data_dir"}


def load(path: str | os.PathLike | None = None) -> Settings:
    """Settings from ``path``, else ``$EDGE_CONFIG``, else /etc/edge/van.toml, else the demo defaults.

    A file that was asked for by name (argument or $EDGE_CONFIG) must exist; the default path may be
    absent, in which case the defaults run a demo van.
    """
    if path is None and os.environ.get(ENV_VAR):
        path = os.environ[ENV_VAR]
    if path is None:
        if not DEFAULT_PATH.exists():
            return Settings()
        path = DEFAULT_PATH
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(source, "(file)", "the file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(source, "(file)", f"cannot be read: {exc}") from None
    return loads(text, source=source)


def loads(text: str, source: str = "<string>") -> Settings:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "(syntax)", f"not valid TOML: {exc}") from None
    _refuse_unknown(raw, _TOP_LEVEL, "", source)
    sections: dict[str, Any] = {}
    for name, cls in _SECTIONS.items():
        value = raw.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(source, name, "must be a table, e.g. [" + name + "]")
        sections[name] = _build(cls, value, name, source)
    data_dir = raw.get("data_dir")
    if data_dir is not None and (not isinstance(data_dir, str) or not data_dir.strip()):
        raise ConfigError(source, "data_dir", "must be a non-empty path string")
    data_path = default_data_dir()
    if data_dir:
        data_path = Path(data_dir)
        if not data_path.is_absolute() and source.endswith(".toml"):
            # Relative to the settings file, not to wherever the command happened to be started.
            data_path = Path(source).parent / data_path
    settings = Settings(data_dir=data_path, source=source, **sections)
    _validate(settings, source)
    return settings


def _refuse_unknown(raw: dict, allowed: set[str], prefix: str, source: str) -> None:
    for key in raw:
        if key not in allowed:
            hint = difflib.get_close_matches(key, sorted(allowed), n=1)
            problem = "is not a known setting" + (f" (did you mean '{hint[0]}'?)" if hint else "")
            raise ConfigError(source, prefix + key, problem)


def _build(cls: type, raw: dict, section: str, source: str) -> Any:
    defaults = cls()
    known = {f.name: f for f in fields(cls)}
    _refuse_unknown(raw, set(known), section + ".", source)
    values = {}
    for name, value in raw.items():
        expected = type(getattr(defaults, name))
        key = f"{section}.{name}"
        if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(source, key, f"must be a whole number, not {value!r}")
        if expected is str and not isinstance(value, str):
            raise ConfigError(source, key, f"must be a text string in quotes, not {value!r}")
        if expected is dict:
            if not isinstance(value, dict):
                raise ConfigError(source, key, "must be a table of name = value pairs")
            value = dict(value)
        if expected is tuple:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(source, key, f"must be a list of text strings, e.g. [\"ar\"], not {value!r}")
            value = tuple(value)
        values[name] = value
    return cls(**{**{f: getattr(defaults, f) for f in known}, **values})


def _validate(s: Settings, source: str) -> None:
    if not VAN_ID.fullmatch(s.van.id):
        raise ConfigError(source, "van.id", f"'{s.van.id}' is not a van id: use V followed by 3 digits, e.g. V007")
    if s.van.governorate not in governorates.ASSIGNABLE:
        raise ConfigError(
            source, "van.governorate",
            f"'{s.van.governorate}' is not a governorate code (two digits such as 01 Cairo, 21 Giza)",
        )
    for key, kind, url in device_urls(s):
        if not isinstance(url, str):
            raise ConfigError(source, key, "must be a URL string")
        try:
            device_kinds.check_scheme(kind, url)
        except DeviceUrlError as exc:
            raise ConfigError(source, key, exc.problem, exc.problem_ar) from None
    _check_url(s.broker.url, BROKER_SCHEMES, "broker.url", source)
    if s.broker.tls and not s.broker.ca_file:
        raise ConfigError(source, "broker.ca_file", "is required when broker.url uses mqtts://")
    if bool(s.broker.cert_file) != bool(s.broker.key_file):
        raise ConfigError(source, "broker.key_file", "cert_file and key_file must be given together")
    for key in ("ca_file", "cert_file", "key_file"):
        value = getattr(s.broker, key)
        if value and not Path(value).is_file():
            raise ConfigError(source, f"broker.{key}", f"file '{value}' does not exist")
    if not 10 <= s.broker.keepalive <= 1200:
        raise ConfigError(source, "broker.keepalive", "must be between 10 and 1200 seconds")
    if not 1 <= s.web.port <= 65535:
        raise ConfigError(source, "web.port", "must be a TCP port between 1 and 65535")
    for f in fields(RetentionSettings):
        if getattr(s.retention, f.name) < 1:
            raise ConfigError(source, f"retention.{f.name}", "must be at least 1 day")
    if s.health.outbox_stuck_after_min < 1:
        raise ConfigError(source, "health.outbox_stuck_after_min", "must be at least 1 minute")
    if not 0 <= s.storage.reserve_mb <= s.storage.low_mb:
        raise ConfigError(source, "storage.low_mb", "must be at least storage.reserve_mb (and neither below 0)")
    for code, fee in s.catalogue.fee_overrides_egp.items():
        key = f"catalogue.fee_overrides_egp.{code}"
        if isinstance(fee, bool) or not isinstance(fee, (int, float)) or fee < 0:
            raise ConfigError(source, key, "must be a fee in EGP, 0 or more")
        try:
            money.parse_egp(str(fee))
        except money.InvalidAmount as exc:
            raise ConfigError(source, key, exc.message_en.rstrip(".")) from None
    announce = s.display.announce
    if isinstance(announce, str) or not all(lang in ("ar", "en") for lang in announce) or \
            len(set(announce)) != len(announce):
        raise ConfigError(source, "display.announce", 'must be a list of "ar" and/or "en", e.g. ["ar", "en"] (or [])')
    threshold = s.shift.threshold_egp
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 100_000:
        raise ConfigError(source, "shift.threshold_egp", "must be an amount in EGP from 0 to 100000")
    state_dir = s.update.state_dir
    if not isinstance(state_dir, str) or not state_dir.startswith("/"):
        raise ConfigError(source, "update.state_dir", "must be an absolute path (the updater's own folder)")
    if s.data_dir.is_absolute() and Path(state_dir).is_relative_to(s.data_dir):
        raise ConfigError(source, "update.state_dir", "must not be inside data_dir: the van's user owns that folder")
    if s.update.https_url:
        _check_url(s.update.https_url, {"https"}, "update.https_url", source)
        if not (s.broker.ca_file and s.broker.cert_file and s.broker.key_file):
            raise ConfigError(source, "update.https_url", "needs broker.ca_file, cert_file and key_file (the van's "
                              "identity at the hub)")
    if s.catalogue.path and not Path(s.catalogue.path).is_file():
        raise ConfigError(source, "catalogue.path", f"file '{s.catalogue.path}' does not exist")


def _check_url(url: str, schemes: set[str], key: str, source: str) -> None:
    scheme = urlsplit(url).scheme
    if scheme not in schemes:
        raise ConfigError(
            source, key, f"'{url}' must start with one of {', '.join(s + '://' for s in sorted(schemes))}"
        )


def device_urls(s: Settings) -> list[tuple[str, str, str]]:
    """(settings key, device kind, URL) of every device the van drives."""
    kinds = ("printer", "scanner", "qr", "gps", "modem")
    found = [(f"devices.{kind}", kind, getattr(s.devices, kind)) for kind in kinds]
    return found + [(f"devices.cameras.{name}", "camera", url) for name, url in s.devices.cameras.items()]


def check_devices(s: Settings, kinds: tuple[str, ...] | None = None) -> None:
    """Every device URL (of ``kinds``) read as its device reads it at start, without touching the device;
    :class:`ConfigError` naming the key, in the device's own words (``edge config check`` and start-up)."""
    for key, kind, url in device_urls(s):
        if kinds is not None and kind not in kinds:
            continue
        try:
            device_kinds.check_url(kind, url)  # imports the kind's package only now
        except DeviceUrlError as exc:
            raise ConfigError(s.source, key, exc.problem, exc.problem_ar) from None


def load_catalogue(settings: Settings) -> catalogue_mod.Catalogue:
    """The van's service catalogue: the configured (or shipped) file with local fee overrides applied."""
    path = settings.catalogue.path or catalogue_mod.default_path()
    cat = catalogue_mod.load(path)
    known = {s.code for s in cat.services}
    for code in settings.catalogue.fee_overrides_egp:
        if code not in known:
            raise ConfigError(settings.source, f"catalogue.fee_overrides_egp.{code}",
                              f"there is no service {code} in the catalogue {path}")
    overrides = {code: money.parse_egp(str(fee)) for code, fee in settings.catalogue.fee_overrides_egp.items()}
    return cat.with_fees(overrides) if overrides else cat

"""The hub's settings file (TOML): read, checked key by key, and turned into the commands' defaults.

Precedence is click's: the command line, then the option's environment variable, then this file
(click's ``default_map``), then the built-in default. docs/governorate.md lists every key.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from edge.core import governorates
from edge.core.errors import EdgeError

DEFAULT_PATH = Path("/etc/governorate/hub.toml")
ENV_VAR = "GOVERNORATE_CONFIG"

# The notification senders named by a word rather than module:factory (governorate/sms.py).
NAMED_SENDERS = ("kannel", "webhook")

# file key -> (the commands' parameter name, type, check); sections are part of the key.
KEYS: dict[str, tuple[str, type, str]] = {
    "db": ("db_path", str, "text"),
    "governorate": ("gov", str, "governorate"),
    "broker": ("broker", str, "broker"),
    "tls_dir": ("tls_dir", str, "folder"),
    "ingest.worker": ("worker", str, "text"),
    "ingest.metrics": ("metrics_address", str, "text"),
    "web.host": ("host", str, "text"),
    "web.port": ("port", int, "port"),
    "web.threads": ("threads", int, "positive"),
    "web.secret_key": ("secret_key", str, "secret"),
    "web.notifier": ("notifier", str, "notifier"),
    "web.refresh_s": ("refresh_s", float, "positive"),
    # The address staff use, served by the TLS reverse proxy `provision hub install` sets up (docs/governorate.md):
    # the web app then trusts that proxy's X-Forwarded-For/-Proto and marks its cookie Secure.
    "web.public_url": ("public_url", str, "public_url"),
    # Citizen notifications (`governorate notify`, governorate/sms.py; docs/governorate.md "Citizen notifications").
    # web.notifier is the older place of notify.sender; a file gives one of them.
    "notify.sender": ("notifier", str, "notifier"),
    "notify.kannel_url": ("kannel_url", str, "http_url"),
    "notify.kannel_username": ("kannel_username", str, "text"),
    "notify.kannel_password": ("kannel_password", str, "text"),
    "notify.kannel_from": ("kannel_from", str, "text"),
    "notify.dlr_url": ("dlr_url", str, "http_url"),
    "notify.dlr_secret": ("dlr_secret", str, "secret"),
    "notify.webhook_url": ("webhook_url", str, "http_url"),
    "notify.webhook_secret": ("webhook_secret", str, "secret"),
    "notify.max_attempts": ("max_attempts", int, "positive"),
    "notify.retry_s": ("retry_s", float, "positive"),
    "notify.poll_s": ("poll_s", float, "positive"),
    "alerts.silent_after_s": ("silent_after_s", float, "positive"),
    "alerts.offline_alert_min": ("offline_alert_min", float, "positive"),
    "alerts.backlog_alert_h": ("backlog_alert_h", float, "positive"),
}


class HubConfigError(EdgeError):
    """A settings file the hub refuses, naming the file and the key at fault."""

    code = "hub-config-invalid"

    def __init__(self, source: str, key: str, problem: str):
        self.source, self.key, self.problem = source, key, problem
        super().__init__(
            f"خطأ في ملف إعدادات المركز {source}: المفتاح «{key}» — {problem}. صحّح الملف ثم أعد التشغيل.",
            f"Hub settings error in {source}: key '{key}': {problem}. Fix the file and start again.",
            detail=f"{source}:{key}: {problem}",
        )


def load(path: str | os.PathLike | None) -> tuple[dict, str]:
    """The file's values by parameter name, and where they came from.

    ``path`` (from --config or $GOVERNORATE_CONFIG) must exist; without one, /etc/governorate/hub.toml
    is read when it exists, else there are no file values.
    """
    if path is None or str(path) == "":
        if not DEFAULT_PATH.exists():
            return {}, "<defaults>"
        path = DEFAULT_PATH
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HubConfigError(source, "(file)", "the file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HubConfigError(source, "(file)", f"cannot be read: {exc}") from None
    return loads(text, source), source


def loads(text: str, source: str = "<string>", folder_exists: Callable[[str], bool] | None = None) -> dict:
    """The values of a settings file's text; ``folder_exists`` decides whether a folder a key names exists (default:
    on this machine; an installer checking the file before it lays the folders out gives its own)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HubConfigError(source, "(syntax)", f"not valid TOML: {exc}") from None
    values = {}
    for key, value in _flatten(raw, source).items():
        if key not in KEYS:
            hint = difflib.get_close_matches(key, sorted(KEYS), n=1)
            problem = "is not a known setting" + (f" (did you mean '{hint[0]}'?)" if hint else "")
            raise HubConfigError(source, key, problem)
        name, kind, rule = KEYS[key]
        if name in values:
            other = next(k for k, v in KEYS.items() if v[0] == name and k != key)
            raise HubConfigError(source, key, f"gives the same setting as '{other}': keep only one of them")
        values[name] = _checked(source, key, value, kind, rule, folder_exists or (lambda p: Path(p).is_dir()))
    if values.get("public_url") and "host" in values and not is_loopback(values["host"]):
        raise HubConfigError(source, "web.host", proxied_host_problem(values["host"]))
    return values


LOOPBACK = ("127.0.0.1", "::1", "localhost")  # where the web app may listen behind the proxy


def is_loopback(host: str) -> bool:
    return host in LOOPBACK


def proxied_host_problem(host: str) -> str:
    """Why the web app may not listen on ``host`` behind the proxy: its plain HTTP port would bypass TLS, and anyone
    reaching it could claim any address in X-Forwarded-For."""
    return (f"is '{host}' but web.public_url is set: behind the TLS proxy the web app listens on 127.0.0.1 only "
            "(its plain HTTP port must not be reachable from the network)")


def public_url_problem(value: str) -> str | None:
    """What is wrong with a ``web.public_url`` (None when it is one): https, a host name, nothing after it."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        return f"'{value}' is not a URL ({exc})"
    if parts.scheme != "https" or not parts.hostname:
        return f"'{value}' must be the https:// address staff open, e.g. https://hub.giza.example"
    try:
        parts.hostname.encode("idna")  # a name in Arabic (.مصر) is served, and certified, as its xn-- form
    except UnicodeError:
        return f"'{parts.hostname}' is not a host name"
    if parts.username or parts.password or parts.path not in ("", "/") or parts.query or parts.fragment:
        return f"'{value}' must be only https:// and the server's name (and a port): no path, query or user"
    if port == 80:
        return "port 80 is the plain HTTP one that redirects to HTTPS: leave the port out (443)"
    return None


def _flatten(raw: dict, source: str, prefix: str = "") -> dict:
    flat = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            if prefix:  # no tables inside tables
                raise HubConfigError(source, prefix + key, "is not a known setting")
            flat.update(_flatten(value, source, f"{key}."))
        else:
            flat[prefix + key] = value
    return flat


def _checked(source: str, key: str, value, kind: type, rule: str, folder_exists: Callable[[str], bool]):
    if kind is str and not isinstance(value, str):
        raise HubConfigError(source, key, f"must be a text string in quotes, not {value!r}")
    if kind in (int, float):
        if isinstance(value, bool) or not isinstance(value, int if kind is int else (int, float)):
            what = "a whole number" if kind is int else "a number"
            raise HubConfigError(source, key, f"must be {what}, not {value!r}")
        value = kind(value)
    if rule == "governorate" and value not in governorates.ASSIGNABLE:
        raise HubConfigError(source, key, f"'{value}' is not a governorate code (two digits such as 01 Cairo, 21 Giza)")
    if rule == "broker" and not value.startswith(("mqtt://", "mqtts://")):
        raise HubConfigError(source, key, f"'{value}' must be an mqtt:// or mqtts:// URL")
    if rule == "folder" and not folder_exists(value):
        raise HubConfigError(source, key, f"the folder '{value}' does not exist")
    if rule == "port" and not 1 <= value <= 65535:
        raise HubConfigError(source, key, "must be a TCP port between 1 and 65535")
    if rule == "positive" and value <= 0:
        raise HubConfigError(source, key, "must be more than 0")
    if rule == "secret" and len(value) < 32:
        raise HubConfigError(source, key, "must be at least 32 characters (e.g. from `openssl rand -hex 32`)")
    if rule == "notifier" and value not in NAMED_SENDERS and value.count(":") != 1:
        raise HubConfigError(source, key,
                             f"'{value}' must be kannel, webhook or module:factory, e.g. mygov.sms:factory")
    if rule == "http_url" and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc):
        raise HubConfigError(source, key, f"'{value}' must be an http:// or https:// URL")
    if rule == "public_url" and (problem := public_url_problem(value)):
        raise HubConfigError(source, key, problem)
    if rule in ("text", "notifier") and not value.strip():
        raise HubConfigError(source, key, "must not be empty")
    return value


def default_map(values: dict, group) -> dict:
    """click's default_map for ``group``: each (sub)command gets the file values of the parameters it has."""
    out = {}
    for name, command in getattr(group, "commands", {}).items():
        if hasattr(command, "commands"):  # a group: its own parameters, and each subcommand's
            out[name] = {**{k: v for k, v in values.items() if k in {p.name for p in command.params}},
                         **default_map(values, command)}
        else:
            params = {p.name for p in command.params}
            out[name] = {k: v for k, v in values.items() if k in params}
    return out


SECRET_ENV = "GOVERNORATE_SECRET_KEY"


def secret_key(values: dict, source: str) -> tuple[str | None, str]:
    """The web app's cookie-signing key and where it came from: $GOVERNORATE_SECRET_KEY, else the file."""
    if os.environ.get(SECRET_ENV):
        if len(os.environ[SECRET_ENV]) < 32:
            raise EdgeError(f"المتغير {SECRET_ENV} أقصر من ٣٢ حرفًا. استخدم مفتاحًا أطول (مثل openssl rand -hex 32).",
                            f"{SECRET_ENV} is shorter than 32 characters. Use a longer key "
                            "(e.g. from `openssl rand -hex 32`).", code="hub-secret-too-short")
        return os.environ[SECRET_ENV], f"set in ${SECRET_ENV}"
    if values.get("secret_key"):
        return values["secret_key"], f"set in {source}"
    return None, "made once into web-secret.key beside the database"

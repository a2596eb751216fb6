"""Install (or bring up to date) the governorate's MQTT broker from the CA folder's ``broker/``.

``provision broker install --from CA/broker`` replaces the copy-and-chown steps docs/provisioning.md used to list,
and is what to run again on the broker host after every ``van enrol``, ``van revoke``, ``van renew`` and monthly
``governorate crl``: it lays the files where ``mosquitto.conf`` names them, then tells Mosquitto in the least
disruptive way that takes effect — a new CRL is re-read on ``reload`` (the vans stay connected), a new list of who
may do what (``dynamic-security.json``), certificate or configuration only on ``restart`` (the vans and the hub
reconnect within seconds and keep their sessions: persistence).

Everything is checked before anything is written — a folder that is not ``broker/``, a key that is not the server
certificate's, an expired server certificate, a CRL that is not the CA's or has expired (Mosquitto would then refuse
*every* van), an access list that is not JSON — one message in English and Arabic, nothing installed.
"""

from __future__ import annotations

import json
import os
import pwd
import re
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from provisioning import broker
from provisioning.laying import Entry, InstallError, Laying, check_pair, read_folder

USER = "mosquitto"  # Debian's mosquitto drops to this user before it reads the key
CONF = "/etc/mosquitto/conf.d/mtc.conf"  # Debian's mosquitto.conf includes conf.d/*.conf
MAIN = "/etc/mosquitto/mosquitto.conf"  # Debian's own, which sets some options already
# Options Mosquitto refuses to read twice ("Duplicate … value in configuration": it would not start). Debian's main
# file sets persistence_location and pid_file; what it sets, the file in conf.d leaves out when the value is the same.
ONCE = ("persistence_location", "persistence_file", "pid_file")
MANIFEST_NAME = "install-manifest.json"
# broker/ as `provision governorate init` writes it: name -> (mode, owner, group) on the broker host.
FILES = {
    "ca.pem": (0o644, "root", "root"),
    "hub-ca.pem": (0o644, "root", "root"),
    "server-cert.pem": (0o644, "root", "root"),
    "server-key.pem": (0o600, USER, USER),
    "crl.pem": (0o644, "root", "root"),
    broker.DYNSEC_FILE: (0o640, "root", USER),
}
# Re-read by Mosquitto on SIGHUP (systemctl reload): the CRL. Anything else needs a restart (the plugin's list is
# read only when Mosquitto starts).
RELOADED = ("crl.pem",)
WARN_DAYS = 14  # a CRL or server certificate running out this soon is installed, with a warning


def _refuse(en: str, ar: str) -> InstallError:
    return InstallError(en, ar, code="provisioning-broker")


def _folder_of(conf: str) -> tuple[str, str]:
    """The folder ``mosquitto.conf`` reads its files from, and its persistence folder (both absolute, plain, and at
    least two levels below / — the install gives them to mosquitto: never /etc or /var/lib themselves)."""
    named = {os.path.dirname(v) for v in re.findall(r"^(?:cafile|certfile|keyfile|crlfile|plugin_opt_config_file)\s+"
                                                     r"(\S+)\s*$", conf, re.M)}
    persistence = [p.rstrip("/") for p in _values(conf, "persistence_location")]
    if len(named) != 1 or len(persistence) != 1:
        raise _refuse("mosquitto.conf is not the one `provision governorate init` writes (its certificate files must "
                      "all be in one folder, with one persistence_location).",
                      "ملف mosquitto.conf ليس الملف الذي ينشئه الأمر provision governorate init.")
    for path in (*named, *persistence):
        if not path.startswith("/") or os.path.normpath(path) != path or len(Path(path).parts) < 4:
            raise _refuse(f"mosquitto.conf names the folder {path!r}, which the install would give to mosquitto: use "
                          "a plain absolute folder of its own (the defaults: --broker-dir /etc/mosquitto/mtc, "
                          "--persistence-dir /var/lib/mosquitto).",
                          f"المجلد {path} في mosquitto.conf غير مقبول: استخدم مجلدًا خاصًا بالوسيط.")
    return named.pop(), persistence[0]


def _values(conf: str, key: str) -> list[str]:
    return re.findall(rf"^{key}\s+(\S+)\s*$", conf, re.M)


def for_conf_d(conf: str, main: str | None) -> str:
    """``mosquitto.conf`` as the file in conf.d: without the options Debian's main file already sets to the same
    value; one it sets to another value is refused (Mosquitto would not start, or would use the other)."""
    if main is None:
        return conf
    for key in ONCE:
        ours, theirs = _values(conf, key), _values(main, key)
        if not ours or not theirs:
            continue
        if {v.rstrip("/") for v in ours} != {theirs[-1].rstrip("/")}:
            raise _refuse(f"{MAIN} sets {key} {theirs[-1]}, the broker's mosquitto.conf {ours[-1]}: Mosquitto reads "
                          f"it once. Make them the same (governorate init --persistence-dir, or the line in {MAIN}).",
                          f"الملف {MAIN} يحدد {key} بقيمة مختلفة عن ملف الوسيط: اجعل القيمتين متطابقتين.")
        conf = re.sub(rf"^{key}\s+\S+\s*$", f"# {key}: set to the same by {MAIN} (Mosquitto reads it once)",
                      conf, flags=re.M)
    return conf


def check(files: dict[str, bytes], now: datetime) -> list[str]:
    """Refuse a broker folder Mosquitto could not serve the vans with; the warnings of one it can (expiring soon)."""
    warnings = []
    try:
        ca = x509.load_pem_x509_certificate(files["ca.pem"])
        x509.load_pem_x509_certificate(files["hub-ca.pem"])
        cert = x509.load_pem_x509_certificate(files["server-cert.pem"])
        crl = x509.load_pem_x509_crl(files["crl.pem"])
    except ValueError as exc:
        raise _refuse(f"A certificate or the CRL in the broker folder cannot be read ({exc}).",
                      "تعذّرت قراءة شهادة أو قائمة الإلغاء في مجلد الوسيط.") from None
    check_pair(files["server-cert.pem"], files["server-key.pem"], "broker's server")
    try:
        cert.verify_directly_issued_by(ca)  # the signature, not only the name (every governorate 21 CA has one name)
    except (ValueError, TypeError, InvalidSignature):
        raise _refuse("The server certificate is not signed by this folder's ca.pem: copy broker/ from one CA folder.",
                      "شهادة الخادم ليست صادرة من سلطة الشهادات في المجلد نفسه.") from None
    if crl.issuer != ca.subject or not crl.is_signature_valid(ca.public_key()):
        raise _refuse("crl.pem is not signed by this folder's CA: Mosquitto would refuse every van. Copy broker/ "
                      "from the CA folder again.",
                      "قائمة الإلغاء crl.pem ليست موقعة من سلطة الشهادات نفسها: سيرفض الوسيط كل العربات.")
    next_update = crl.next_update_utc
    if next_update is None or next_update <= now:
        when = f"expired on {next_update:%Y-%m-%d}" if next_update else "has no expiry date"
        raise _refuse(f"crl.pem {when}: Mosquitto would refuse every van. Re-sign it on "
                      "the CA machine (provision governorate crl), then install again.",
                      "انتهت صلاحية قائمة الإلغاء crl.pem وسيرفض الوسيط كل العربات: أعد توقيعها بالأمر "
                      "provision governorate crl ثم أعد التثبيت.")
    for what, until in (("crl.pem", next_update), ("the server certificate", cert.not_valid_after_utc)):
        if (until - now).days < WARN_DAYS:
            warnings.append(f"{what} runs out on {until:%Y-%m-%d} ({(until - now).days} days): renew it soon.")
    try:
        dynsec = json.loads(files[broker.DYNSEC_FILE])
        if not isinstance(dynsec, dict) or not isinstance(dynsec.get("roles"), list):
            raise ValueError("no roles")
    except ValueError:
        raise _refuse(f"{broker.DYNSEC_FILE} is not the broker's access list (JSON with its roles): copy it from "
                      "the CA folder again.", f"الملف {broker.DYNSEC_FILE} ليس قائمة صلاحيات الوسيط.") from None
    return warnings


class BrokerInstaller(Laying):
    def __init__(self, source: Path, root: Path | None = None, run=None):
        super().__init__(root, run)
        self.source = Path(source)
        self.warnings: list[str] = []
        self.action: str | None = None  # what systemctl does to mosquitto: start, reload or restart

    def read(self) -> tuple[dict[str, bytes], str]:
        files = read_folder(self.source, [*FILES, "mosquitto.conf"], "a CA folder's broker/")
        try:
            conf = files.pop("mosquitto.conf").decode("utf-8")
        except UnicodeDecodeError:
            raise _refuse("mosquitto.conf is not UTF-8 text.", "الملف mosquitto.conf ليس نصًا بترميز UTF-8.") from None
        return files, conf

    def install(self, *, start: bool = True, now: datetime | None = None) -> list[tuple[str, str]]:
        files, conf = self.read()
        folder, persistence = _folder_of(conf)
        self.MANIFEST_PATH = f"{folder}/{MANIFEST_NAME}"
        self.warnings = check(files, now or datetime.now(UTC))
        if self.root is None:
            try:
                pwd.getpwnam(USER)
            except KeyError:
                raise _refuse("Mosquitto is not installed on this machine (no user mosquitto): install the hub's "
                              "system packages first (scripts/install-system-packages hub).",
                              "برنامج Mosquitto غير مثبت على هذا الجهاز: ثبّت حزم النظام أولًا.") from None
        main = self.at(MAIN)
        conf_d = for_conf_d(conf, main.read_text(encoding="utf-8", errors="replace") if main.is_file() else None)
        previous = self.installed_manifest() or {}
        self.report = []
        entries: list[Entry] = [self._directory(folder, 0o750, "root", USER)]
        # Before any file changes: a run cut short (Ctrl-C, a power cut) leaves a restart owed, never a broker on an
        # old access list that the next run would take as told.
        record = {"format": "mtc-broker-install", "folder": folder, "entries": previous.get("entries", [])}
        self._record(record, sorted({*previous.get("pending", []), "*"}))
        for name, data in files.items():
            mode, owner, group = FILES[name]
            entries.append(self._file(f"{folder}/{name}", data, mode, owner, group))
        entries.append(self._file(CONF, conf_d.encode(), 0o644, "root", "root"))
        entries.append(self._directory(persistence, 0o750, USER, USER))
        changed = {path for path, state in self.report if state != "unchanged"}
        if previous.get("pending"):  # what an earlier run laid out but Mosquitto was not told (--no-start, a cut)
            changed |= set(previous["pending"])
        if not changed:
            self.action = "start"
        elif changed <= {f"{folder}/{n}" for n in RELOADED}:
            self.action = "reload"
        else:
            self.action = "restart"
        record["entries"] = [asdict(e) for e in entries]
        self._record(record, sorted(changed))  # until Mosquitto has been told, the next run tells it
        if start and self.root is None:
            for command in self.commands():
                self.run(command)
            self._record(record, [])
        return self.report

    def _record(self, record: dict, pending: list[str]) -> None:
        self._file_unreported(self.MANIFEST_PATH, json.dumps({**record, "pending": pending}, indent=1).encode(), 0o644,
                              "root", "root")

    def commands(self) -> list[list[str]]:
        """systemctl for mosquitto: enabled, then started, reloaded (a new CRL only; started if it was not running) or
        restarted."""
        action = {"reload": "reload-or-restart"}.get(self.action or "start", self.action or "start")
        return [["systemctl", "enable", "mosquitto.service"], ["systemctl", action, "mosquitto.service"]]

"""Install an enrolment bundle on the van's mini-PC: users, folders, config, keys, udev rules, systemd units.

Every step compares what is there with what should be there and reports ``created``, ``updated`` or
``unchanged``, so running the same install twice changes nothing. With ``root`` (a folder standing
for ``/``, for tests and for preparing an image) nothing is chowned and no service is touched: the
owners are written to the install manifest (``/etc/edge/install-manifest.json``), which is what a
real install would have applied.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from cryptography import x509

from edge.core import trust
from provisioning import bundle as bundle_mod
from provisioning import release as release_mod
from provisioning.bundle import DATA_DIR, ETC, KEYS_DIR, TLS_DIR
from provisioning.laying import Entry, InstallError, Laying

USER = "edge"
KIOSK_USER = "edge-kiosk"
MANIFEST_PATH = f"{ETC}/install-manifest.json"
UDEV_RULES = "/etc/udev/rules.d/70-mtc-edge.rules"
UNIT_DIR = "/etc/systemd/system"
TARGET = "edge.target"
SOFTWARE = "/opt/mtc-edge"
UPDATE_STATE = "/var/lib/edge-update"  # edge.update.install.STATE
# The van runs the version ``current`` names (edge.update.install.Layout): /opt/mtc-edge/current/venv/bin/edge; the
# first install lays it out exactly as an update over the air does, so the next version installs beside it.
CURRENT = f"{SOFTWARE}/current"
EDGE = f"{CURRENT}/venv/bin/edge"

# bundle member -> (path on the van, owner, group). Modes come from bundle.MEMBERS.
# The MQTT key is the sync process's (user edge); /etc is read-only to it under ProtectSystem=strict.
PLACES = {
    "van.toml": (f"{ETC}/van.toml", "root", USER),
    "tls/ca.pem": (f"{TLS_DIR}/ca.pem", "root", "root"),
    "tls/van.pem": (f"{TLS_DIR}/van.pem", "root", "root"),
    "tls/van.key": (f"{TLS_DIR}/van.key", USER, USER),
    bundle_mod.CA_CERT: (f"{KEYS_DIR}/{trust.CA_CERT_FILE}", USER, USER),
    bundle_mod.SIGNER_CERT: (f"{KEYS_DIR}/{trust.SIGNER_CERT_FILE}", USER, USER),
    bundle_mod.SIGNER_KEY: (f"{KEYS_DIR}/{trust.SIGNER_KEY_FILE}", USER, USER),
    bundle_mod.TRUST_LIST: (f"{KEYS_DIR}/{trust.TRUST_LIST_FILE}", USER, USER),
    # The anchor of software updates (edge.update's --anchor default): root's, read by the updater (root).
    bundle_mod.UPDATE_ROOT: (f"{ETC}/update-root.json", "root", "root"),
}
DIRECTORIES = [
    (ETC, 0o755, "root", "root"),
    (TLS_DIR, 0o750, "root", USER),
    (DATA_DIR, 0o750, USER, USER),
    (KEYS_DIR, 0o700, USER, USER),
    # The updater's own folder (root's: its state, the metadata TUF trusts, the release being verified): outside
    # the data dir, which user edge owns and could rename or replace under root's feet (docs/updates.md).
    (UPDATE_STATE, 0o755, "root", "root"),
    # Where the sync agent (edge) receives a release over the link (edge.update.incoming); root copies it out
    # before it checks it. Without it the agent could not receive any update.
    (f"{DATA_DIR}/update", 0o750, USER, USER),
    (f"{DATA_DIR}/update/staging", 0o750, USER, USER),
]

# Stable names for the van's devices. Matched by kind, not by one model's USB ids, so a replaced
# printer of another make still appears as /dev/edge-printer; a site with two serial devices of one
# kind adds ID_VENDOR_ID matches (docs/provisioning.md). Group edge + 0660: the services run as edge.
UDEV_TEXT = """\
# Stable names and permissions for the van's devices; written by `provision van install`.
# Receipt printer: USB printer class (usblp) or a USB-serial adapter from a receipt-printer vendor
# (Epson 04b8, Star 0519, Bixolon 1504, Xprinter/Winbond 0416).
SUBSYSTEM=="usbmisc", KERNEL=="lp[0-9]*", SYMLINK+="edge-printer", GROUP="edge", MODE="0660"
SUBSYSTEM=="tty", ENV{ID_VENDOR_ID}=="04b8|0519|1504|0416", SYMLINK+="edge-printer", GROUP="edge", MODE="0660"
# Document scanner: whatever libsane's own rules recognise (they set libsane_matched).
SUBSYSTEM=="usb", ENV{libsane_matched}=="yes", SYMLINK+="edge-scanner", GROUP="edge", MODE="0660"
# QR reader in USB-CDC serial mode (Zebra/Symbol 05e0, Honeywell 0c2e, Newland 1eab).
SUBSYSTEM=="tty", ENV{ID_VENDOR_ID}=="05e0|0c2e|1eab", SYMLINK+="edge-qr", GROUP="edge", MODE="0660"
# GPS receiver (u-blox 1546, Prolific-based pucks 067b).
SUBSYSTEM=="tty", ENV{ID_VENDOR_ID}=="1546|067b", SYMLINK+="edge-gps", GROUP="edge", MODE="0660"
"""


def default_units_dir() -> Path:
    """The unit files shipped with the software: ``systemd/`` next to the ``provisioning`` package."""
    here = Path(__file__).resolve().parent.parent / "systemd"
    return here if here.is_dir() else Path("/opt/mtc-edge/src/systemd")


def unit_files(units_dir: Path) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in sorted(Path(units_dir).glob("edge*"))
             if p.suffix in (".service", ".target", ".path", ".timer")}
    if TARGET not in files:
        raise InstallError(
            f"No systemd units in {units_dir} (edge.target is missing). Give the folder with --units.",
            f"لا توجد ملفات systemd في {units_dir}. حدد المجلد بالخيار --units.",
            code="provisioning-units",
        )
    return files


class Installer(Laying):
    MANIFEST_PATH = MANIFEST_PATH

    def __init__(self, root: Path | None = None, units_dir: Path | None = None,
                 run: Callable[[list[str]], None] | None = None, release: release_mod.Release | None = None,
                 python: str = "/usr/bin/python3"):
        super().__init__(root, run)
        # The software itself (provisioning/release.py): installed as versions/<id> + current, no network; skipped
        # when None (an image prepared with --root, or a van whose software is looked after apart).
        self.release = release
        if units_dir:
            self.units_dir = Path(units_dir)
        elif release is not None:
            self.units_dir = release.folder / "systemd"
        else:
            self.units_dir = default_units_dir()
        self.python = python

    def install(self, bundle: bundle_mod.Bundle, *, start: bool = True, allow_new_governorate: bool = False
                ) -> list[tuple[str, str]]:
        """Bring the van to the state ``bundle`` describes; returns [(path, created|updated|unchanged)]."""
        previous = self.installed_manifest()
        if previous and previous["van"] != bundle.van:
            raise InstallError(
                f"This machine is van {previous['van']}; the bundle is for van {bundle.van}. "
                "Use the bundle made for this van.",
                f"هذا الجهاز هو العربة {previous['van']} والملف خاص بالعربة {bundle.van}. استخدم ملف هذه العربة.",
                code="provisioning-other-van",
            )
        if previous and previous["governorate"] != bundle.governorate and not allow_new_governorate:
            raise InstallError(
                f"This van belongs to governorate {previous['governorate']}; the bundle is for "
                f"{bundle.governorate}. Moving a van is “provision van reassign”, which first sends the "
                "outbox to the old governorate.",
                f"هذه العربة تابعة للمحافظة {previous['governorate']} والملف للمحافظة {bundle.governorate}. "
                "لنقل العربة استخدم «provision van reassign».",
                code="provisioning-other-governorate",
            )
        self.report = []
        entries: list[Entry] = []
        entries.append(self._user(USER, DATA_DIR))
        # cage (the kiosk compositor) needs the seat's display, input and GPU devices.
        entries.append(self._user(KIOSK_USER, f"/var/lib/{KIOSK_USER}", groups="video,input,render"))
        for path, mode, owner, group in DIRECTORIES:
            entries.append(self._directory(path, mode, owner, group))
        for member, (path, owner, group) in PLACES.items():
            if member not in bundle.files:  # an optional member this bundle does not carry
                continue
            data = bundle.files[member]
            if member == bundle_mod.TRUST_LIST and self._newer_trust_list_installed(path, bundle):
                # The sync process refreshes the list over the downlink; never roll it back.
                entries.append(Entry(path, "file", f"{bundle_mod.MODES[member]:04o}", owner, group,
                                     hashlib.sha256(data).hexdigest()))
                self.report.append((path, "unchanged"))
                continue
            entries.append(self._file(path, data, bundle_mod.MODES[member], owner, group))
        if self.release is not None:
            entries.append(self._software(self.release))
        entries.append(self._file(UDEV_RULES, UDEV_TEXT.encode(), 0o644, "root", "root"))
        for name, data in unit_files(self.units_dir).items():
            entries.append(self._file(f"{UNIT_DIR}/{name}", data, 0o644, "root", "root"))
        manifest = {
            "format": "mtc-van-install",
            "governorate": bundle.governorate,
            "van": bundle.van,
            "bundle_created_at": bundle.manifest["created_at"],
            "certificates": bundle.manifest["certificates"],
            "entries": [asdict(e) for e in entries],
        }
        text = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
        self._file(MANIFEST_PATH, text, 0o644, "root", "root")
        if start and self.root is None:
            self._activate()
        return self.report

    # steps ---------------------------------------------------------------------------------------

    def _software(self, release: release_mod.Release) -> Entry:
        """The van's software as version ``versions/<id>`` with ``current`` naming it (docs/updates.md), made from
        the release alone (no index, every hash checked) by the same updater that installs updates over the air:
        its ``edge --version`` must answer before ``current`` is switched to it, and the switch is one rename.

        Unchanged when ``current`` already names this release (its identity covers the lock and every wheel).
        """
        from edge.update.errors import UpdateError
        from edge.update.install import Health, Layout, Updater
        from edge.update.verify import Verified

        layout = Layout(self.at(SOFTWARE), self.at(UPDATE_STATE))
        vid = release.digest[:16]
        entry = Entry(CURRENT, "version", None, "root", "root", release.digest)
        if layout.pointed() == vid and layout.installed(vid) is not None:
            self.report.append((CURRENT, "unchanged"))
            return entry
        python = release_mod.python_tag(self.python)
        if python != release.python:
            raise InstallError(
                f"This release is for Python {release.python}; {self.python} is Python {python}. "
                "Build the release on a machine with the van's Python version.",
                f"هذا الإصدار مخصص لـ Python {release.python} والجهاز عليه Python {python}.",
                code="provisioning-release-python",
            )
        before = layout.pointed()
        verified = Verified(release.folder, release.manifest["version"], release.digest, release.manifest, 0)
        try:
            with Updater(layout, python=self.python, health=Health()) as updater:
                updater.recover()  # whatever an earlier install or update left half-done
                updater.install(verified, again=True)  # by hand, on the van: tried even if it was refused
                healthy = updater.switch(vid)
        except UpdateError as exc:
            raise InstallError(exc.message_en, exc.message_ar, detail=exc.detail, code=exc.code) from None
        if not healthy:
            raise InstallError(
                f"Version {release.manifest['version']} does not start on this van; the van keeps what it ran.",
                f"الإصدار {release.manifest['version']} لا يعمل على هذه العربة؛ تبقى العربة على ما كانت عليه.",
                code="update-unhealthy")
        self.report.append((CURRENT, "created" if before is None else "updated"))
        return entry

    def _newer_trust_list_installed(self, path: str, bundle: bundle_mod.Bundle) -> bool:
        try:
            ca = x509.load_pem_x509_certificate(bundle.files[bundle_mod.CA_CERT])
            installed = trust.verify_list(self.at(path).read_bytes(), ca)
            offered = trust.verify_list(bundle.files[bundle_mod.TRUST_LIST], ca)
        except (OSError, ValueError, trust.TrustListError):
            return False  # absent, damaged or another CA's: the bundle's list is the one to use
        return installed.version > offered.version

    def _activate(self) -> None:
        changed = {p for p, s in self.report if s != "unchanged"}
        if UDEV_RULES in changed:
            self.run(["udevadm", "control", "--reload"])
            self.run(["udevadm", "trigger", "--action=add"])
        if any(p.startswith(UNIT_DIR) for p in changed):
            self.run(["systemctl", "daemon-reload"])
        self.run(["systemctl", "enable", TARGET])
        # New keys or config only take effect in a fresh process.
        self.run(["systemctl", "restart" if changed else "start", TARGET])

    def stop(self) -> None:
        if self.root is None:
            self.run(["systemctl", "stop", TARGET])


# --------------------------------------------------------------------------------------------------
# Reassignment to another governorate
# --------------------------------------------------------------------------------------------------


def outbox_pending(edge_command: str = EDGE) -> int:
    """Messages the van has not yet delivered, from ``edge status`` (the store's public face)."""
    command = [edge_command, "--config", f"{ETC}/van.toml", "status"]
    if os.geteuid() == 0:
        # As the services' user: SQLite files it creates (-wal, -shm) must not end up owned by root.
        command = ["runuser", "-u", USER, "--", *command]
    try:
        out = subprocess.run(command, check=True, capture_output=True, text=True, timeout=60).stdout
        return int(json.loads(out)["outbox"]["pending"])
    except (OSError, subprocess.SubprocessError, ValueError, KeyError) as exc:
        raise InstallError(
            f"Cannot read the van's outbox ({exc}). Is the software installed in {CURRENT}?",
            "تعذّرت قراءة صندوق الرسائل الصادرة للعربة. هل البرنامج مثبت؟",
            code="provisioning-outbox",
        ) from None


def reassign(installer: Installer, bundle: bundle_mod.Bundle, *, wait_s: float = 0,
             pending: Callable[[], int] = outbox_pending, poll_s: float = 10.0,
             start: bool = True) -> list[tuple[str, str]]:
    """Move the van to ``bundle``'s governorate once everything it owes the old governorate is delivered.

    The outbox drains to the *old* governorate first (docs/provisioning.md, "Moving a van"): its
    rows are that governorate's business, sequenced and acknowledged under its broker and hub.
    """
    previous = installer.installed_manifest()
    if previous is None:
        raise InstallError(
            "Nothing is installed here yet: use “provision van install” for a first installation.",
            "لا يوجد تثبيت سابق هنا: استخدم «provision van install».",
            code="provisioning-not-installed",
        )
    old = previous["governorate"]
    if old == bundle.governorate:
        raise InstallError(
            f"The van already belongs to governorate {old}; to install a renewed bundle use “provision van install”.",
            f"العربة تابعة بالفعل للمحافظة {old}؛ لتثبيت ملف مجدّد استخدم «provision van install».",
            code="provisioning-same-governorate",
        )
    deadline = time.monotonic() + wait_s
    left = pending()
    while left and time.monotonic() < deadline:
        time.sleep(poll_s)
        left = pending()
    if left:
        raise InstallError(
            f"{left} message(s) have not yet reached governorate {old}. Connect the van to the network, let it "
            "send them (watch “edge status”), then run reassign again, or pass --wait SECONDS.",
            f"هناك {left} رسالة لم تصل بعد إلى المحافظة {old}. صِل العربة بالشبكة حتى تُرسَل ثم أعد الأمر.",
            code="provisioning-outbox-not-empty",
        )
    installer.stop()
    _archive_old_keys(installer, old)
    return installer.install(bundle, start=start, allow_new_governorate=True)


def _archive_old_keys(installer: Installer, old_gov: str) -> None:
    """Keep the old governorate's certificates and trust list for the record; destroy its signing key."""
    keys = installer.at(KEYS_DIR)
    archive = installer.at(f"{DATA_DIR}/keys-governorate-{old_gov}")
    if not keys.is_dir():
        return
    archive.mkdir(mode=0o700, exist_ok=True)
    for name in (trust.CA_CERT_FILE, trust.SIGNER_CERT_FILE, trust.TRUST_LIST_FILE):
        if (keys / name).exists():
            shutil.copy2(keys / name, archive / name)
    if (keys / trust.SIGNER_KEY_FILE).exists():
        (keys / trust.SIGNER_KEY_FILE).unlink()

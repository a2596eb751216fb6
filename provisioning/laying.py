"""The steps both installs are made of (the van's, provisioning/install.py; the hub's, provisioning/hub_install.py):
a system user, a folder, a file — each compared with what is there and reported ``created``, ``updated`` or
``unchanged``, so running an install twice changes nothing.

With ``root`` (a folder standing for ``/``, for tests and for preparing an image) nothing is chowned, no user is
made and no service is touched: the owners are written to the install's manifest, which is what a real install
would have applied.
"""

from __future__ import annotations

import grp
import hashlib
import json
import os
import pwd
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from provisioning import release as release_mod
from provisioning.checks import ProvisioningError

CERTIFICATE = "provisioning-certificate"


class InstallError(ProvisioningError):
    pass


@dataclass
class Entry:
    """One thing an install manages, as its manifest records it."""

    path: str
    type: str  # "dir", "file", "user" or "version"
    mode: str | None
    owner: str
    group: str
    sha256: str | None = None


def run_command(cmd: list[str]) -> None:
    # No pip settings of the machine (a find-links, an index) take part in an install.
    release_mod.run_tool(cmd, f"“{' '.join(cmd)}”", env=release_mod.pip_env(), error=InstallError,
                         code="provisioning-command")


def check_pair(cert_pem: bytes, key_pem: bytes, what: str) -> None:
    """The key must be the certificate's, and the certificate in date: else the service would fail only when it
    starts (or, for an expired one, when its peers refuse it)."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise InstallError(f"The {what} certificate or key cannot be read ({exc}).", "تعذّرت قراءة الشهادة أو المفتاح.",
                           code=CERTIFICATE) from None
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, spki) != \
            cert.public_key().public_bytes(serialization.Encoding.DER, spki):
        raise InstallError(f"The {what} key is not the key of its certificate: copy the pair made together.",
                           "المفتاح لا يطابق الشهادة: انسخ الشهادة ومفتاحها معًا.", code=CERTIFICATE)
    if cert.not_valid_after_utc < datetime.now(UTC):
        raise InstallError(f"The {what} certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}.",
                           f"انتهت صلاحية الشهادة في {cert.not_valid_after_utc:%Y-%m-%d}.", code=CERTIFICATE)


def read_folder(folder: Path | None, names, what: str) -> dict[str, bytes]:
    """The files ``names`` of ``folder`` (all of them), or a refusal naming the missing ones; {} without a folder."""
    if folder is None:
        return {}
    missing = [n for n in names if not (Path(folder) / n).is_file()]
    if missing:
        raise InstallError(f"{folder} is not {what}: {', '.join(missing)} missing.",
                           f"المجلد {folder} لا يحتوي على {', '.join(missing)}.", code="provisioning-files")
    return {n: (Path(folder) / n).read_bytes() for n in names}


class Laying:
    """What an installer does to the machine, step by step; ``report`` lists [(path, created|updated|unchanged)]."""

    MANIFEST_PATH = ""  # the install's own record, set by each installer

    def __init__(self, root: Path | None = None, run: Callable[[list[str]], None] | None = None):
        # Absolute: the commands an install runs (a version's own --version) run from /, not from here.
        self.root = Path(root).resolve() if root else None
        self.run = run or run_command
        self.report: list[tuple[str, str]] = []

    def at(self, path: str) -> Path:
        return self.root / path.lstrip("/") if self.root else Path(path)

    def installed_manifest(self) -> dict | None:
        try:
            return json.loads(self.at(self.MANIFEST_PATH).read_text())
        except (OSError, ValueError):
            return None

    def changed(self) -> bool:
        return any(state != "unchanged" for _, state in self.report)

    def _user(self, name: str, home: str, groups: str | None = None) -> Entry:
        entry = Entry(name, "user", None, name, name)
        if self.root is not None:
            # A prepared image: the user is created at first real install; only recorded here.
            self.report.append((f"user {name}", "unchanged" if self._user_recorded(name) else "created"))
            return entry
        try:
            pwd.getpwnam(name)
            self.report.append((f"user {name}", "unchanged"))
        except KeyError:
            cmd = ["useradd", "--system", "--user-group", "--home-dir", home, "--no-create-home",
                   "--shell", "/usr/sbin/nologin", name]
            if groups:
                cmd[1:1] = ["--groups", groups]
            self.run(cmd)
            self.report.append((f"user {name}", "created"))
        return entry

    def _user_recorded(self, name: str) -> bool:
        previous = self.installed_manifest() or {}
        return any(e["type"] == "user" and e["path"] == name for e in previous.get("entries", []))

    def _directory(self, path: str, mode: int, owner: str, group: str) -> Entry:
        target = self.at(path)
        state = "unchanged"
        if not target.is_dir():
            target.mkdir(parents=True)
            state = "created"
        if (target.stat().st_mode & 0o7777) != mode:
            os.chmod(target, mode)
            state = "updated" if state == "unchanged" else state
        if self._chown(target, owner, group) and state == "unchanged":
            state = "updated"
        self.report.append((path, state))
        return Entry(path, "dir", f"{mode:04o}", owner, group)

    def _file(self, path: str, data: bytes, mode: int, owner: str, group: str) -> Entry:
        target = self.at(path)
        digest = hashlib.sha256(data).hexdigest()
        state = "unchanged"
        try:
            # A link where the file should be is replaced, never followed (nor chmodded, nor chowned through).
            current = b"" if target.is_symlink() else target.read_bytes()
        except FileNotFoundError:
            current = None
        if current != data:
            target.parent.mkdir(parents=True, exist_ok=True)
            # Write beside, set mode and owner on the open file, then rename: a key is never readable by others,
            # not even briefly, and a link planted as the temporary name is removed, not written through.
            tmp = target.with_name(f".{target.name}.new")
            tmp.unlink(missing_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fchmod(f.fileno(), mode)
                self._chown(f.fileno(), owner, group)
                os.fsync(f.fileno())
            os.replace(tmp, target)
            state = "created" if current is None else "updated"
        else:
            if (target.stat().st_mode & 0o7777) != mode:
                os.chmod(target, mode)
                state = "updated"
            if self._chown(target, owner, group):
                state = "updated"
        self.report.append((path, state))
        return Entry(path, "file", f"{mode:04o}", owner, group, digest)

    def _file_unreported(self, path: str, data: bytes, mode: int, owner: str, group: str) -> None:
        """:meth:`_file` for an install's own record, which is not a change to report."""
        mark = len(self.report)
        self._file(path, data, mode, owner, group)
        del self.report[mark:]

    def _chown(self, target: Path | int, owner: str, group: str) -> bool:
        """Give ``target`` (a path, or an open file's descriptor) its owner; False when already so, or with --root
        (recorded, not applied)."""
        if self.root is not None:
            return False
        uid, gid = pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid
        st = os.fstat(target) if isinstance(target, int) else target.stat()
        if (st.st_uid, st.st_gid) == (uid, gid):
            return False
        if isinstance(target, int):
            os.fchown(target, uid, gid)
        else:
            os.chown(target, uid, gid)
        return True

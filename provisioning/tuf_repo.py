"""The governorate's signing of van releases with The Update Framework (python-tuf): keys, roles, metadata.

A van trusts a release only through TUF metadata (docs/updates.md). Four roles, one ed25519 key each
(threshold 1), in a keys folder made once by ``provision release keys``::

    KEYDIR/
      offline/root-key.pem        the root key: signs root.json only (new keys, rotation). Move it to
                                  offline media after ``keys``; only ``rotate`` needs it back.
      online/targets-key.pem      signs targets.json: the release's files, their lengths and SHA-256
      online/snapshot-key.pem     signs snapshot.json: which targets.json version is current
      online/timestamp-key.pem    signs timestamp.json: which snapshot.json is current (short expiry)
      metadata/N.root.json        every root version ever signed (a van walks the chain from the one it trusts)
      metadata/root.json          the newest root
      metadata/{targets,snapshot,timestamp}.json   the last ones signed: each new build takes version + 1

Signing a release writes ``tuf/`` into the release folder, which is then a TUF repository by itself:
``tuf/N.root.json`` (all of them) and ``tuf/{timestamp,snapshot,targets}.json`` as metadata, the release's
own files (``release.json``, ``requirements.txt``, ``wheels/…``) as targets, by their path in the folder.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from securesystemslib.signer import CryptoSigner, SSlibKey
from tuf.api.metadata import (
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

from provisioning import release as release_mod
from provisioning.checks import ProvisioningError

ROLES = ("root", "targets", "snapshot", "timestamp")
ONLINE = ("targets", "snapshot", "timestamp")
# How long each role's signature holds. The timestamp is short (a van refuses metadata frozen longer than
# this: re-sign it with ``provision release timestamp``); root long (its key is offline).
EXPIRY_DAYS = {"root": 365, "targets": 90, "snapshot": 30, "timestamp": 7}
TUF_DIR = release_mod.TUF_DIR
_SERIALIZER = JSONSerializer(compact=False)


class SigningError(ProvisioningError):
    pass


def _key_path(keydir: Path, role: str) -> Path:
    return keydir / ("offline" if role == "root" else "online") / f"{role}-key.pem"


def _write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _save(md: Metadata, path: Path) -> None:
    _write_atomic(path, md.to_bytes(_SERIALIZER))


def _expiry(now: datetime, role: str, days: dict[str, int] | None) -> datetime:
    return (now + timedelta(days=(days or {}).get(role, EXPIRY_DAYS[role]))).replace(microsecond=0)


def _new_key(keydir: Path, role: str) -> CryptoSigner:
    signer = CryptoSigner.generate_ed25519()
    path = _key_path(keydir, role)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_atomic(path, signer.private_bytes, mode=0o600)
    return signer


def _load_signer(keydir: Path, role: str, root: Root, path: Path | None = None) -> CryptoSigner:
    """The private key of ``role``, checked to be one root names for that role."""
    path = path or _key_path(keydir, role)
    try:
        private = load_pem_private_key(path.read_bytes(), None)
    except (OSError, ValueError) as exc:
        raise SigningError(
            f"The {role} key cannot be read from {path} ({exc}). "
            + ("The root key is kept offline: give its path with --root-key." if role == "root" else
               "Give the keys folder made by “provision release keys”."),
            f"تعذرت قراءة مفتاح الدور {role} من {path}.",
            code="provisioning-tuf-key",
        ) from None
    public = SSlibKey.from_crypto(private.public_key())
    if public.keyid not in root.roles[role].keyids:
        raise SigningError(
            f"The {role} key in {path} is not one the governorate's root.json trusts for {role}: "
            "this keys folder does not match its metadata.",
            f"مفتاح الدور {role} في {path} لا يثق به ملف root.json الخاص بالمحافظة.",
            code="provisioning-tuf-key",
        )
    return CryptoSigner(private, public)


def read_root(keydir: Path) -> Metadata[Root]:
    try:
        return Metadata[Root].from_file(str(keydir / "metadata" / "root.json"))
    except Exception as exc:  # noqa: BLE001 - any unreadable root is the same mistake to a person
        raise SigningError(
            f"{keydir} is not a keys folder made by “provision release keys” ({exc}).",
            f"المجلد {keydir} ليس مجلد مفاتيح ناتجًا عن «provision release keys».",
            code="provisioning-tuf-keys",
        ) from None


def make_keys(keydir: Path, *, now: datetime | None = None, expiry_days: dict[str, int] | None = None
              ) -> Metadata[Root]:  # fmt: skip
    """A new keys folder: one key per role and root.json version 1 signed by the root key."""
    keydir = Path(keydir)
    if (keydir / "metadata" / "root.json").exists():
        raise SigningError(
            f"{keydir} already holds signing keys: a new set would make every van refuse the next release. "
            "To replace a key use “provision release rotate”.",
            f"المجلد {keydir} يحتوي مفاتيح بالفعل. لاستبدال مفتاح استخدم «provision release rotate».",
            code="provisioning-tuf-keys-exist",
        )
    now = now or datetime.now(UTC)
    root = Root(version=1, expires=_expiry(now, "root", expiry_days), consistent_snapshot=False)
    signers = {}
    for role in ROLES:
        signers[role] = _new_key(keydir, role)
        root.add_key(signers[role].public_key, role)
    md = Metadata(root)
    md.sign(signers["root"])
    _save(md, keydir / "metadata" / "1.root.json")
    _save(md, keydir / "metadata" / "root.json")
    return md


def rotate(keydir: Path, role: str, *, root_key: Path | None = None, now: datetime | None = None,
           expiry_days: dict[str, int] | None = None) -> Metadata[Root]:
    """Replace ``role``'s key: a new root version naming the new key, signed by the (offline) root key —
    and, when the root key itself is replaced, by the new root key too, so vans can follow the chain."""
    if role not in ROLES:
        raise SigningError(f"{role!r} is not a role: one of {', '.join(ROLES)}.",
                           f"«{role}» ليس دورًا من الأدوار: {', '.join(ROLES)}.", code="provisioning-tuf-role")
    keydir = Path(keydir)
    now = now or datetime.now(UTC)
    md = read_root(keydir)
    old_root_signer = _load_signer(keydir, "root", md.signed, root_key)
    root = md.signed
    for keyid in list(root.roles[role].keyids):
        root.revoke_key(keyid, role)
    if role == "root" and root_key is not None:
        # The new root key goes where the old one was given (the offline media), not into the keys folder.
        signer = CryptoSigner.generate_ed25519()
        _write_atomic(root_key, signer.private_bytes, mode=0o600)
    else:
        signer = _new_key(keydir, role)
    root.add_key(signer.public_key, role)
    root.version += 1
    root.expires = _expiry(now, "root", expiry_days)
    md.signatures.clear()
    md.sign(old_root_signer, append=True)
    if role == "root":
        md.sign(signer, append=True)
    _save(md, keydir / "metadata" / f"{root.version}.root.json")
    _save(md, keydir / "metadata" / "root.json")
    return md


def _previous_version(keydir: Path, role: str) -> int:
    try:
        return json.loads((keydir / "metadata" / f"{role}.json").read_text())["signed"]["version"]
    except (OSError, ValueError, KeyError, TypeError):
        return 0


@dataclass(frozen=True)
class Signed:
    targets_version: int
    snapshot_version: int
    timestamp_version: int
    root_version: int
    targets: int  # how many files targets.json lists


def sign_release(folder: Path, keydir: Path, *, now: datetime | None = None,
                 expiry_days: dict[str, int] | None = None) -> Signed:
    """Sign the release in ``folder`` (checked against its manifest first): writes ``folder/tuf/``.

    targets, snapshot and timestamp each take the version after the last one signed with this keys
    folder, so a van that saw release N refuses N's or an older release's metadata offered again."""
    folder, keydir = Path(folder), Path(keydir)
    rel = release_mod.read(folder)  # every file matches release.json, or nothing is signed
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    root_md = read_root(keydir)
    root = root_md.signed
    signers = {role: _load_signer(keydir, role, root) for role in ONLINE}

    targets = Targets(version=_previous_version(keydir, "targets") + 1, expires=_expiry(now, "targets", expiry_days))
    for rel_path in [release_mod.MANIFEST, *sorted(rel.manifest["files"])]:
        info = TargetFile.from_file(rel_path, str(folder / rel_path), ["sha256"])
        if rel_path == release_mod.MANIFEST:
            info.unrecognized_fields["custom"] = {"version": rel.manifest["version"], "identity": rel.digest}
        targets.targets[rel_path] = info
    targets_md = Metadata(targets)
    targets_md.sign(signers["targets"])

    snapshot = Snapshot(version=_previous_version(keydir, "snapshot") + 1,
                        expires=_expiry(now, "snapshot", expiry_days),
                        meta={"targets.json": MetaFile(version=targets.version)})
    snapshot_md = Metadata(snapshot)
    snapshot_md.sign(signers["snapshot"])

    timestamp = Timestamp(version=_previous_version(keydir, "timestamp") + 1,
                          expires=_expiry(now, "timestamp", expiry_days),
                          snapshot_meta=MetaFile(version=snapshot.version))
    timestamp_md = Metadata(timestamp)
    timestamp_md.sign(signers["timestamp"])

    out = folder / TUF_DIR
    out.mkdir(exist_ok=True)
    for old in out.glob("*.json"):
        old.unlink()
    for path in sorted((keydir / "metadata").glob("*.root.json")):
        _write_atomic(out / path.name, path.read_bytes())
    _write_atomic(out / "root.json", (keydir / "metadata" / "root.json").read_bytes())
    for name, md in (("targets", targets_md), ("snapshot", snapshot_md), ("timestamp", timestamp_md)):
        _save(md, out / f"{name}.json")
    # Recorded last: a build that fails above signs nothing and the next one takes the same versions.
    for name, md in (("targets", targets_md), ("snapshot", snapshot_md), ("timestamp", timestamp_md)):
        _save(md, keydir / "metadata" / f"{name}.json")
    return Signed(targets.version, snapshot.version, timestamp.version, root.version, len(targets.targets))


def refresh_timestamp(folder: Path, keydir: Path, *, now: datetime | None = None,
                      expiry_days: dict[str, int] | None = None) -> int:
    """Re-sign the published release's timestamp with a new version and expiry (the release unchanged):
    run it before the timestamp expires while a release is being rolled out. Returns the new version."""
    folder, keydir = Path(folder), Path(keydir)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    root = read_root(keydir).signed
    try:
        current = Metadata[Timestamp].from_file(str(folder / TUF_DIR / "timestamp.json"))
    except Exception as exc:  # noqa: BLE001
        raise SigningError(f"{folder} holds no signed release ({exc}).", f"المجلد {folder} لا يحتوي إصدارًا موقعًا.",
                           code="provisioning-tuf-unsigned") from None
    ts = current.signed
    ts.version = max(ts.version, _previous_version(keydir, "timestamp")) + 1
    ts.expires = _expiry(now, "timestamp", expiry_days)
    md = Metadata(ts)
    md.sign(_load_signer(keydir, "timestamp", root))
    _save(md, folder / TUF_DIR / "timestamp.json")
    _save(md, keydir / "metadata" / "timestamp.json")
    return ts.version



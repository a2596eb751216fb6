"""A van's enrolment bundle: one .tar.gz with its keys, certificates, van.toml, trust list and a manifest.

Made on the governorate's CA machine (``provision van enrol``), carried to the mini-PC, installed
with ``provision van install``. The manifest names the governorate, the van and the SHA-256 of every
file, so a damaged or hand-edited bundle is refused before anything on the van changes. The bundle
holds private keys: it is copied on a USB stick the technician keeps, and deleted after install.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from edge.core import trust
from provisioning import pki
from provisioning.checks import ProvisioningError, check_van

FORMAT = "mtc-van-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
# The largest member is a trust list (≈ 33 KB with 50 vans and 200 revocations, docs/codes.md).
MAX_MEMBER_BYTES = 4 * 1024 * 1024

# Where things go on the van. The sync process reads the TLS files; ProtectSystem=strict leaves
# /etc read-only for it, which is right: only provisioning (as root) replaces them.
ETC = "/etc/edge"
DATA_DIR = "/var/lib/edge"
TLS_DIR = f"{ETC}/tls"
KEYS_DIR = f"{DATA_DIR}/keys"

# The keys folder's members: the van's own file names (edge.core.trust), under keys/.
CA_CERT = f"keys/{trust.CA_CERT_FILE}"
SIGNER_CERT = f"keys/{trust.SIGNER_CERT_FILE}"
SIGNER_KEY = f"keys/{trust.SIGNER_KEY_FILE}"
TRUST_LIST = f"keys/{trust.TRUST_LIST_FILE}"

# Bundle member -> mode it is installed with (the owner is decided by install.py).
MEMBERS = {
    "van.toml": 0o640,
    "tls/ca.pem": 0o644,
    "tls/van.pem": 0o644,
    "tls/van.key": 0o600,
    CA_CERT: 0o644,
    SIGNER_CERT: 0o644,
    SIGNER_KEY: 0o600,
    TRUST_LIST: 0o644,
}
# Members a bundle may carry. The update anchor: the governorate's TUF root metadata (provision release keys), from
# which the van verifies every software update (edge.update.verify; /etc/edge/update-root.json).
UPDATE_ROOT = "update-root.json"
OPTIONAL = {UPDATE_ROOT: 0o644}
MODES = {**MEMBERS, **OPTIONAL}
MAX_ROOT_BYTES = 256 * 1024

# Real device names come from udev rules (install.py); "sim://" is kept for a van without that device.
REAL_DEVICES = {
    "printer": "serial:///dev/edge-printer?baudrate=115200",
    "scanner": "sane://",
    "qr": "serial:///dev/edge-qr",
    "gps": "serial:///dev/edge-gps",
    "modem": "mmcli://",
}


class BundleError(ProvisioningError):
    def __init__(self, path: Path, problem: str):
        super().__init__(
            f"The enrolment bundle {path} cannot be used: {problem}. Ask the governorate for a new bundle.",
            f"ملف تسجيل العربة {path} غير صالح للاستخدام: {problem}. اطلب ملفًا جديدًا من المحافظة.",
            detail=f"{path}: {problem}", code="provisioning-bundle",
        )


@dataclass(frozen=True)
class Bundle:
    path: Path
    manifest: dict
    files: dict[str, bytes]

    @property
    def governorate(self) -> str:
        return self.manifest["governorate"]

    @property
    def van(self) -> str:
        return self.manifest["van"]


def van_toml(gov: str, van: str, *, name: str, broker_url: str, simulated: bool,
             cameras: dict[str, str]) -> str:
    devices = {k: "sim://" for k in REAL_DEVICES} if simulated else dict(REAL_DEVICES)
    lines = [
        f"# Van {van} of governorate {gov}, written by `provision van enrol`. Installed by",
        "# `provision van install`, which replaces this file: change it through a new bundle.",
        f'data_dir = "{DATA_DIR}"',
        "",
        "[van]",
        f'id = "{van}"',
        f'governorate = "{gov}"',
        f"name = {json.dumps(name, ensure_ascii=False)}",
        "",
        "[devices]",
        *(f'{k} = "{v}"' for k, v in devices.items()),
    ]
    if cameras:
        lines += ["", "[devices.cameras]", *(f'{k} = "{v}"' for k, v in sorted(cameras.items()))]
    lines += [
        "",
        "[broker]",
        f'url = "{broker_url}"',
        f'ca_file = "{TLS_DIR}/ca.pem"',
        f'cert_file = "{TLS_DIR}/van.pem"',
        f'key_file = "{TLS_DIR}/van.key"',
        "keepalive = 60",
        "",
    ]
    return "\n".join(lines)


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _pem_cert(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def enrol(auth: pki.Authority, van: str, out: Path, *, now: datetime, name: str = "",
          simulated: bool = False, cameras: dict[str, str] | None = None, kind: str = "enrol",
          days: int = pki.CLIENT_DAYS, update_root: bytes | None = None) -> Bundle:
    """Issue ``van``'s certificates from ``auth``, re-sign the trust list, write the bundle to ``out``.
    ``update_root``: the governorate's TUF root metadata, the van's anchor for software updates."""
    check_van(van)
    if update_root is not None:
        check_update_root(update_root, Path("update root"))
    if kind == "enrol" and auth.active(van):
        raise ProvisioningError(
            f"Van {van} is already enrolled in governorate {auth.gov}. To give it new certificates use "
            "“provision van renew”; to retire it use “provision van revoke”.",
            f"العربة {van} مسجلة بالفعل في المحافظة {auth.gov}. للتجديد استخدم «provision van renew».",
            code="provisioning-already-enrolled",
        )
    if kind == "renew" and not auth.active(van):
        raise ProvisioningError(
            f"Van {van} has no valid certificates from governorate {auth.gov} to renew: enrol it with "
            "“provision van enrol”.",
            f"لا توجد للعربة {van} شهادات سارية في المحافظة {auth.gov} لتجديدها: سجّلها بالأمر «provision van enrol».",
            code="provisioning-not-enrolled",
        )
    mqtt, signer = auth.issue_van(van, now=now, days=days)
    trust_list = auth.write_trust_list(now=now)
    auth.save()
    ca_pem = _pem_cert(auth.ca.certificate)
    files = {
        "van.toml": van_toml(auth.gov, van, name=name or f"MTC {auth.gov}-{van}",
                             broker_url=auth.meta["broker_url"], simulated=simulated,
                             cameras=cameras or {}).encode(),
        "tls/ca.pem": ca_pem,
        "tls/van.pem": _pem_cert(mqtt.certificate),
        "tls/van.key": _pem_key(mqtt.key),
        CA_CERT: ca_pem,
        SIGNER_CERT: _pem_cert(signer.certificate),
        SIGNER_KEY: _pem_key(signer.key),
        TRUST_LIST: trust_list,
    }
    if update_root is not None:
        files[UPDATE_ROOT] = update_root
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "governorate": auth.gov,
        "van": van,
        "created_at": now.isoformat(),
        "broker_url": auth.meta["broker_url"],
        "certificates": {
            "mqtt": {"serial": f"{mqtt.certificate.serial_number:x}",
                     "not_after": mqtt.certificate.not_valid_after_utc.isoformat()},
            "signer": {"serial": f"{signer.certificate.serial_number:x}",
                       "not_after": signer.certificate.not_valid_after_utc.isoformat()},
        },
        "files": {n: {"sha256": hashlib.sha256(b).hexdigest(), "mode": f"{MODES[n]:04o}"}
                  for n, b in files.items()},
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tarfile.open(tmp, "w:gz") as tar:
        for member, data in [(MANIFEST, json.dumps(manifest, indent=1).encode()), *files.items()]:
            info = tarfile.TarInfo(member)
            info.size, info.mode, info.mtime = len(data), 0o600, int(now.timestamp())
            tar.addfile(info, io.BytesIO(data))
    tmp.chmod(0o600)
    tmp.replace(out)
    return Bundle(out, manifest, files)


def read(path: Path) -> Bundle:
    """Open and check a bundle: known members only, regular files, hashes and identities as the manifest says."""
    path = Path(path)
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for info in tar.getmembers():
                # Read members by name into memory: nothing from the archive is ever extracted to a
                # path it chooses, so "../" or links cannot escape.
                if not info.isfile() or (info.name not in MODES and info.name != MANIFEST):
                    raise BundleError(path, f"unexpected member {info.name!r}")
                if info.size > MAX_MEMBER_BYTES:
                    raise BundleError(path, f"{info.name} is {info.size} bytes, far more than a key or config")
                files[info.name] = tar.extractfile(info).read()
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise BundleError(path, f"not a readable .tar.gz ({exc})") from None
    try:
        manifest = json.loads(files.pop(MANIFEST))
    except (KeyError, ValueError):
        raise BundleError(path, "the manifest is missing or damaged") from None
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError(path, f"format {manifest.get('format')!r} v{manifest.get('format_version')!r}")
    listed = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    for name in [*MEMBERS, *(n for n in OPTIONAL if n in files or n in listed)]:
        if name not in files:
            raise BundleError(path, f"{name} is missing")
        if name not in listed or hashlib.sha256(files[name]).hexdigest() != listed[name].get("sha256"):
            raise BundleError(path, f"{name} does not match its checksum in the manifest")
    if UPDATE_ROOT in files:
        check_update_root(files[UPDATE_ROOT], path)
    bundle = Bundle(path, manifest, files)
    _check_identity(bundle)
    return bundle


def _check_identity(bundle: Bundle) -> None:
    """The certificates must be the manifest's van and governorate, and the trust list must verify."""
    from cryptography import x509

    ca = x509.load_pem_x509_certificate(bundle.files["tls/ca.pem"])
    for member in ("tls/van.pem", SIGNER_CERT):
        cert = x509.load_pem_x509_certificate(bundle.files[member])
        if trust.identity(cert) != (bundle.governorate, bundle.van):
            raise BundleError(bundle.path, f"{member} names {trust.identity(cert)}, not the manifest's van")
        try:
            cert.verify_directly_issued_by(ca)
        except Exception as exc:  # noqa: BLE001 - any failure means the same to the technician
            raise BundleError(bundle.path, f"{member} is not issued by the bundle's CA ({exc})") from None
    try:
        trust.verify_list(bundle.files[TRUST_LIST], ca)
    except trust.TrustListError as exc:
        raise BundleError(bundle.path, f"the trust list does not verify ({exc.detail})") from None


def check_update_root(data: bytes, path: Path) -> None:
    """The update anchor must be a TUF root, signed by its own keys (as a van will check it), and not expired."""
    from tuf.api.metadata import Metadata, Root

    if len(data) > MAX_ROOT_BYTES:
        raise BundleError(path, f"{UPDATE_ROOT} is {len(data)} bytes, far more than a TUF root")
    try:
        md = Metadata[Root].from_bytes(data)
        md.signed.verify_delegate(Root.type, md.signed_bytes, md.signatures)
    except Exception as exc:  # noqa: BLE001 - python-tuf raises many kinds; each means the same here
        raise BundleError(path, f"{UPDATE_ROOT} is not the governorate's signed TUF root ({exc})") from None
    if md.signed.is_expired():
        raise BundleError(path, f"{UPDATE_ROOT} (root version {md.signed.version}) has expired; sign a new root "
                                "with “provision release rotate”")

"""Key, certificate and trust-list files: read and written the same way by the van and by provisioning.

The van's ``edge codes`` and the governorate's ``provision`` read the same PEM files, and the van may not
import the provisioning tool: so the file helpers live here (file names: ``edge.core.trust``; what the
certificates hold: ``edge.core.issuing``). ``make_dev_keys`` is the development folder of ``edge codes
dev-keys`` and the tests; real keys come from ``provision`` (docs/provisioning.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from edge.core import issuing, trust
from edge.core.errors import EdgeError
from edge.core.trust import Signer


class KeyFileError(EdgeError):
    """A key, certificate or trust-list file that cannot be read."""

    code = "key-file"

    def __init__(self, path: Path, problem: str):
        super().__init__(
            f"تعذّرت قراءة ملف المفاتيح {path}: {problem}. تأكد من المسار، أو أنشئ مفاتيح تجريبية بالأمر "
            "«edge codes dev-keys».",
            f"Cannot read key file {path}: {problem}. Check the path, or make development keys with "
            "“edge codes dev-keys”.",
            detail=f"{path}: {problem}",
        )


def write_private_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    """PEM (PKCS#8, unencrypted: the folder's permissions protect it), readable by the owner only."""
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def write_certificate(path: Path, certificate: x509.Certificate) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def _read(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise KeyFileError(Path(path), exc.strerror or str(exc)) from None


def load_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(_read(path), password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(Path(path), f"not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise KeyFileError(Path(path), "not an elliptic-curve key")
    return key


def load_certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(_read(path))
    except ValueError as exc:
        raise KeyFileError(Path(path), f"not a PEM certificate ({exc})") from None


def load_signer(key_path: Path, cert_path: Path) -> Signer:
    return Signer(load_private_key(key_path), load_certificate(cert_path))


def load_trust_list(path: Path, ca_path: Path) -> trust.TrustList:
    """Read and check a cached trust list; raises KeyFileError or TrustListError."""
    return trust.verify_list(_read(path), load_certificate(ca_path))


@dataclass(frozen=True)
class DevKeys:
    ca: Signer
    signer: Signer
    trust_list: bytes


def make_dev_keys(directory: Path, *, governorate: str, van: str, now: datetime) -> DevKeys:
    """A CA, one van signer and a trust list listing it, written to ``directory`` under the standard names."""
    directory = Path(directory)
    # Certificates start a day early so a van whose clock runs a little slow can still sign.
    start = now - timedelta(days=1)
    ca = issuing.make_ca(governorate, now=start)
    signer = issuing.make_van_signer(ca, van, now=start)
    trust_list = issuing.make_trust_list(ca, [signer.certificate], now=now)
    write_private_key(directory / trust.CA_KEY_FILE, ca.key)
    write_certificate(directory / trust.CA_CERT_FILE, ca.certificate)
    write_private_key(directory / trust.SIGNER_KEY_FILE, signer.key)
    write_certificate(directory / trust.SIGNER_CERT_FILE, signer.certificate)
    (directory / trust.TRUST_LIST_FILE).write_bytes(trust_list)
    return DevKeys(ca, signer, trust_list)

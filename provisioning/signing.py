"""Development and test signing keys: a governorate CA, van signing certificates and trust lists.

Real provisioning (keys made on the van, a CSR sent to the governorate, the CA key offline) comes
later; these helpers make the same kind of files so tests and the demo van can sign and verify codes.
The certificate profile they follow is the one docs/codes.md specifies and edge.core.trust checks.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from edge.core import trust
from edge.core.errors import EdgeError
from edge.core.trust import Signer

ORGANISATION = "Mobile Technological Centres"
CA_DAYS = 10 * 365
SIGNER_DAYS = 2 * 365
TRUST_LIST_DAYS = 7

# File names in a keys folder (``<data_dir>/keys`` by default).
CA_KEY = "ca-key.pem"
CA_CERT = trust.CA_CERT_FILE
SIGNER_KEY = "signer-key.pem"
SIGNER_CERT = "signer-cert.pem"
TRUST_LIST = trust.TRUST_LIST_FILE


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


def _name(governorate: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "EG"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, governorate),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_ca(governorate: str, *, now: datetime, days: int = CA_DAYS) -> Signer:
    """A self-signed P-256 CA for one governorate (OU = governorate code)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(governorate, f"MTC document signing CA {governorate}")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Signer(key, cert)


def make_van_signer(ca: Signer, van: str, *, now: datetime, days: int = SIGNER_DAYS) -> Signer:
    """A P-256 key for one van and its certificate from ``ca`` (CN = van id, OU = the CA's governorate)."""
    governorate, _ = trust.identity(ca.certificate)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(governorate, van))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.certificate.public_key()), critical=False
        )
        .sign(ca.key, hashes.SHA256())
    )
    return Signer(key, cert)


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def make_trust_list(
    ca: Signer,
    certificates: Iterable[x509.Certificate],
    *,
    now: datetime,
    version: int = 1,
    revoked: Iterable[bytes] = (),
    days: int = TRUST_LIST_DAYS,
) -> bytes:
    """A signed trust list of ``ca``'s governorate, due for renewal ``days`` after ``now``."""
    governorate, _ = trust.identity(ca.certificate)
    return trust.sign_list(
        ca,
        version=version,
        governorate=governorate,
        issued_at=now,
        next_update=now + timedelta(days=days),
        certificates=certificates,
        revoked=revoked,
    )


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------


def write_private_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    """PEM (PKCS#8, unencrypted: these are development keys), readable by the owner only."""
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
    ca = make_ca(governorate, now=start)
    signer = make_van_signer(ca, van, now=start)
    trust_list = make_trust_list(ca, [signer.certificate], now=now)
    write_private_key(directory / CA_KEY, ca.key)
    write_certificate(directory / CA_CERT, ca.certificate)
    write_private_key(directory / SIGNER_KEY, signer.key)
    write_certificate(directory / SIGNER_CERT, signer.certificate)
    (directory / TRUST_LIST).write_bytes(trust_list)
    return DevKeys(ca, signer, trust_list)

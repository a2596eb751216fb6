"""What a governorate CA issues, and how: the X.509 profile of docs/codes.md §7 and the signed trust list.

One profile for the real CA folder (``provisioning.pki``) and for development keys (``edge codes
dev-keys``, ``common.keys``), so a development certificate is exactly what a real one is and
``edge.core.trust`` checks the very profile made here. Pure: keys and certificates in memory, no files.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from edge.core import trust
from edge.core.trust import Signer

ORGANISATION = "Mobile Technological Centres"
CA_DAYS = 10 * 365
SIGNER_DAYS = 2 * 365
TRUST_LIST_DAYS = 7


def name(governorate: str, common_name: str) -> x509.Name:
    """Every subject of the fleet: EG, our organisation, OU = the governorate, CN = who (a van id, "hub", a host)."""
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "EG"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, governorate),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    """A CA signs certificates and CRLs only; every other certificate signs (codes, TLS handshakes) only."""
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


def make_ca(governorate: str, *, now: datetime, days: int = CA_DAYS, common_name: str | None = None,
            backdate: timedelta = timedelta(0)) -> Signer:
    """A self-signed P-256 CA for one governorate (pathLen 0, keyCertSign + cRLSign), valid ``days`` from ``now``.

    ``common_name``: the subject's CN; by default the one docs/codes.md §7 names (the CA folder of
    ``provision governorate init`` names its two CAs itself). ``backdate``: valid that much before ``now``
    too, for a van whose clock runs a little slow."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = name(governorate, common_name or f"MTC document signing CA {governorate}")
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - backdate).not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(key_usage(cert_sign=True), critical=True)
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
        .subject_name(name(governorate, van)).issuer_name(ca.certificate.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(cert_sign=False), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.certificate.public_key()),
                       critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return Signer(key, cert)


def make_trust_list(ca: Signer, certificates: Iterable[x509.Certificate], *, now: datetime, version: int = 1,
                    revoked: Iterable[bytes] = (), days: int = TRUST_LIST_DAYS) -> bytes:
    """A signed trust list of ``ca``'s governorate, due for renewal ``days`` after ``now``."""
    governorate, _ = trust.identity(ca.certificate)
    return trust.sign_list(ca, version=version, governorate=governorate, issued_at=now,
                           next_update=now + timedelta(days=days), certificates=certificates, revoked=revoked)

"""Who may sign codes: ES256 COSE_Sign1 signing, signer certificates, and the governorate's signed trust list.

A van signs with its own P-256 key; the governorate's CA certifies that key in an X.509 certificate whose
subject names the van (CN, e.g. "V007") and the governorate (OU, e.g. "01"). Verifiers hold a trust
list: the certificates currently allowed to sign plus the digests of revoked documents, itself a
COSE_Sign1 signed by the CA. Removing a van's certificate from the list is how its key is revoked.

COSE_Sign1 (RFC 9052) is written by hand here rather than through pycose: we use one algorithm (ES256),
one header shape and no other COSE feature, so the whole format is the forty lines below, with no
dependency beyond ``cryptography`` and ``cbor2``. No I/O: callers read and write the files.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.x509.oid import NameOID

from edge.core.errors import EdgeError
from edge.core.vans import VAN_ID

COSE_SIGN1_TAG = 18
ALG_ES256 = -7
HEADER_ALG = 1
HEADER_KID = 4
KID_LENGTH = 8
SIGNATURE_LENGTH = 64
# The order of the P-256 group. Signatures are normalised to s <= N/2 ("low S") and verifiers refuse
# the other half, so (r, N - s), which ECDSA would also accept, cannot turn one code into two.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

TRUST_LIST_FORMAT = "EG1-trust"
_GOVERNORATE = re.compile(r"\d{2}", re.ASCII)


class CoseError(ValueError):
    """A byte string that is not a COSE_Sign1 of our shape (internal: callers turn it into a verdict)."""


class SignerError(EdgeError):
    """A signing key or certificate that cannot be used to sign codes."""

    code = "code-signer"


# Names in a van's keys folder (<data_dir>/keys), written by provisioning (or ``edge codes dev-keys``) and
# read by the web app, the sync process and ``edge codes``: named here once, for all of them.
CA_CERT_FILE = "ca-cert.pem"
TRUST_LIST_FILE = "trust-list.cose"
SIGNER_KEY_FILE = "signer-key.pem"
SIGNER_CERT_FILE = "signer-cert.pem"
CA_KEY_FILE = "ca-key.pem"  # the CA's own key: in a governorate's CA folder, or a development keys folder only


class TrustListError(EdgeError):
    """A trust list that must not be used: not signed by our CA, damaged, or holding a bad certificate."""

    def __init__(self, reason: str, detail: str):
        self.reason = reason
        super().__init__(
            "قائمة الثقة الخاصة بالتحقق من الرموز غير صالحة، لذلك لم تُستخدم. "
            "صِل العربة بالشبكة لتحميل قائمة جديدة، أو اتصل بالدعم الفني في المحافظة.",
            "The trust list used to check codes is not valid, so it was not used. "
            "Connect the van to download a new one, or call the governorate's technical support.",
            detail=detail,
            code=f"trust-list-{reason}",
        )


# --------------------------------------------------------------------------------------------------
# Keys and certificates
# --------------------------------------------------------------------------------------------------


def kid(certificate: x509.Certificate) -> bytes:
    """The key identifier in a COSE header: the first 8 bytes of SHA-256 over the certificate's DER."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest()[:KID_LENGTH]


def identity(certificate: x509.Certificate) -> tuple[str, str]:
    """``(governorate, name)`` from a certificate subject: OU and CN. Raises ValueError if either is absent."""
    try:
        ou = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
        cn = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    except ValueError as exc:  # a subject that cannot be parsed
        raise ValueError(f"unreadable subject: {exc}") from None
    if len(ou) != 1 or len(cn) != 1:
        raise ValueError(f"subject {certificate.subject.rfc4514_string()} needs exactly one OU and one CN")
    return str(ou[0].value), str(cn[0].value)


def _is_p256(public_key: object) -> bool:
    return isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(public_key.curve, ec.SECP256R1)


def _not_before(certificate: x509.Certificate) -> datetime:
    return certificate.not_valid_before_utc


def _not_after(certificate: x509.Certificate) -> datetime:
    return certificate.not_valid_after_utc


def valid_at(certificate: x509.Certificate, moment: datetime) -> bool:
    """True if ``moment`` lies within the certificate's validity period (both ends included)."""
    return _not_before(certificate) <= moment <= _not_after(certificate)


@dataclass(frozen=True)
class Signer:
    """A P-256 private key and the certificate for its public key."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    def __post_init__(self) -> None:
        if not isinstance(self.key, ec.EllipticCurvePrivateKey) or not isinstance(self.key.curve, ec.SECP256R1):
            raise _signer_error("the signing key is not an ECDSA P-256 key")
        spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        if self.key.public_key().public_bytes(*spki) != self.certificate.public_key().public_bytes(*spki):
            raise _signer_error("the signing key does not belong to the certificate")

    @property
    def kid(self) -> bytes:
        return kid(self.certificate)


def _signer_error(detail: str) -> SignerError:
    return SignerError(
        "مفتاح التوقيع أو شهادته في هذه العربة غير صالح، فلا يمكن إصدار رموز موقّعة. اتصل بالدعم الفني في المحافظة.",
        "This van's signing key or its certificate is not usable, so signed codes cannot be issued. "
        "Call the governorate's technical support.",
        detail=detail,
    )


# --------------------------------------------------------------------------------------------------
# COSE_Sign1 with ES256
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sign1:
    """A parsed COSE_Sign1. ``protected`` is kept as the exact bytes that were signed."""

    protected: bytes
    kid: bytes
    alg: object
    payload: bytes
    signature: bytes


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", payload])


def sign1(payload: bytes, signer: Signer) -> bytes:
    """A tagged COSE_Sign1: protected header {1: -7, 4: kid}, empty unprotected header, raw r||s signature."""
    protected = cbor2.dumps({HEADER_ALG: ALG_ES256, HEADER_KID: signer.kid}, canonical=True)
    der = signer.key.sign(_sig_structure(protected, payload), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    s = min(s, P256_ORDER - s)
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))


def loads_exact(data: bytes) -> object:
    """Decode one CBOR item that must fill ``data`` exactly; raises CoseError otherwise."""
    stream = io.BytesIO(data)
    try:
        item = cbor2.CBORDecoder(stream).decode()
    except Exception as exc:  # cbor2 raises several types on hostile input; all mean "not CBOR"
        raise CoseError(f"not CBOR: {type(exc).__name__}: {exc}") from None
    if stream.tell() != len(data):
        raise CoseError(f"{len(data) - stream.tell()} bytes after the CBOR item")
    return item


def parse_sign1(data: bytes) -> Sign1:
    """Read a tagged COSE_Sign1 of our shape, or raise CoseError. The signature is not checked here."""
    item = loads_exact(data)
    if not isinstance(item, cbor2.CBORTag) or item.tag != COSE_SIGN1_TAG:
        raise CoseError("not a COSE_Sign1 (CBOR tag 18)")
    parts = item.value
    # cbor2 gives a tag's array as a tuple and its maps as frozendicts (tag values must be hashable).
    if not isinstance(parts, list | tuple) or len(parts) != 4:
        raise CoseError("COSE_Sign1 must be an array of 4")
    protected, unprotected, payload, signature = parts
    if not all(isinstance(p, bytes) for p in (protected, payload, signature)):
        raise CoseError("protected header, payload and signature must be byte strings")
    # The unprotected header is not signed: anything in it could be changed without breaking the
    # signature, so it must be empty.
    if not isinstance(unprotected, Mapping) or len(unprotected) != 0:
        raise CoseError("the unprotected header must be an empty map")
    header = loads_exact(protected)
    if not isinstance(header, Mapping):
        raise CoseError("the protected header is not a map")
    key_id = header.get(HEADER_KID)
    if not isinstance(key_id, bytes):
        raise CoseError("no kid (byte string) in the protected header")
    return Sign1(protected, key_id, header.get(HEADER_ALG), payload, signature)


def verify_signature(message: Sign1, certificate: x509.Certificate) -> bool:
    """True if ``message`` carries a low-S ES256 signature by the key in ``certificate``."""
    public_key = certificate.public_key()
    if not _is_p256(public_key) or len(message.signature) != SIGNATURE_LENGTH:
        return False
    r = int.from_bytes(message.signature[:32], "big")
    s = int.from_bytes(message.signature[32:], "big")
    if not (0 < r < P256_ORDER and 0 < s <= P256_ORDER // 2):
        return False
    try:
        public_key.verify(
            encode_dss_signature(r, s), _sig_structure(message.protected, message.payload), ec.ECDSA(hashes.SHA256())
        )
    except (InvalidSignature, ValueError):
        return False
    return True


# --------------------------------------------------------------------------------------------------
# The trust list
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustList:
    """The signer certificates a verifier accepts and the documents the governorate has revoked."""

    version: int
    governorate: str
    issued_at: datetime
    next_update: datetime
    certificates: tuple[x509.Certificate, ...]
    revoked: frozenset[bytes]  # SHA-256 of document ids (see edge.core.codes.Claims.document_id)
    _by_kid: dict[bytes, tuple[x509.Certificate, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_kid: dict[bytes, list[x509.Certificate]] = {}
        for cert in self.certificates:
            by_kid.setdefault(kid(cert), []).append(cert)
        object.__setattr__(self, "_by_kid", {k: tuple(v) for k, v in by_kid.items()})

    def signers(self, key_id: bytes) -> tuple[x509.Certificate, ...]:
        """Every listed certificate with this kid: kids are 8 bytes, so several may share one."""
        return self._by_kid.get(key_id, ())

    def is_revoked(self, digest: bytes) -> bool:
        return digest in self.revoked

    def is_stale(self, now: datetime) -> bool:
        """True once ``next_update`` has passed: the list still works, but a newer one should be fetched."""
        return now > self.next_update


def _seconds(moment: datetime) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"times must be timezone-aware, got naive {moment!r}")
    return int(moment.timestamp())


def sign_list(
    ca: Signer,
    *,
    version: int,
    governorate: str,
    issued_at: datetime,
    next_update: datetime,
    certificates: Iterable[x509.Certificate],
    revoked: Iterable[bytes] = (),
) -> bytes:
    """The trust list as the governorate publishes it: a COSE_Sign1 by the CA over a CBOR map."""
    payload = {
        "format": TRUST_LIST_FORMAT,
        "version": version,
        "governorate": governorate,
        "issued_at": _seconds(issued_at),
        "next_update": _seconds(next_update),
        "certificates": [c.public_bytes(serialization.Encoding.DER) for c in certificates],
        "revoked": sorted(set(revoked)),
    }
    return sign1(cbor2.dumps(payload, canonical=True), ca)


def verify_list(blob: bytes, ca_certificate: x509.Certificate) -> TrustList:
    """Check a trust list against the governorate's CA and return it; raise TrustListError if unusable.

    Every certificate in it must be issued by that CA (signature and issuer name), hold a P-256 key,
    not be a CA itself, and name a van (CN "V" + 3 digits) of the list's governorate (OU). Validity
    periods are not judged here: a code is checked against its signer's period at its issue time.
    """
    try:
        ca_governorate, _ = identity(ca_certificate)
    except ValueError as exc:
        raise TrustListError("ca", f"CA certificate: {exc}") from None
    if not _is_p256(ca_certificate.public_key()):
        raise TrustListError("ca", "the CA certificate does not hold a P-256 key")
    try:
        message = parse_sign1(bytes(blob))
    except (CoseError, TypeError) as exc:
        raise TrustListError("malformed", f"not a signed trust list: {exc}") from None
    if message.kid != kid(ca_certificate):
        detail = f"signed by kid {message.kid.hex()}, not by this CA ({kid(ca_certificate).hex()})"
        raise TrustListError("wrong-ca", detail)
    if not verify_signature(message, ca_certificate) or message.alg != ALG_ES256:
        raise TrustListError("bad-signature", "the CA signature over the trust list does not verify")
    try:
        data = loads_exact(message.payload)
        trust_list = _trust_list_from(data)
    except (CoseError, ValueError, TypeError, KeyError) as exc:
        raise TrustListError("malformed", f"trust list content: {exc}") from None
    if trust_list.governorate != ca_governorate:
        raise TrustListError(
            "governorate", f"list for governorate {trust_list.governorate}, CA of governorate {ca_governorate}"
        )
    for cert in trust_list.certificates:
        problem = _certificate_problem(cert, ca_certificate, trust_list.governorate)
        if problem:
            raise TrustListError("certificate", f"{cert.subject.rfc4514_string()}: {problem}")
    return trust_list


def _trust_list_from(data: object) -> TrustList:
    keys = {"format", "version", "governorate", "issued_at", "next_update", "certificates", "revoked"}
    if not isinstance(data, Mapping) or set(data) != keys:
        raise ValueError(f"expected a map with keys {sorted(keys)}")
    if data["format"] != TRUST_LIST_FORMAT:
        raise ValueError(f"format {data['format']!r}")
    version, governorate = data["version"], data["governorate"]
    if type(version) is not int or version < 1:
        raise ValueError(f"version {version!r}")
    if not isinstance(governorate, str) or not _GOVERNORATE.fullmatch(governorate):
        raise ValueError(f"governorate {governorate!r}")
    times = []
    for key in ("issued_at", "next_update"):
        if type(data[key]) is not int or not 0 <= data[key] < 2**32:
            raise ValueError(f"{key} {data[key]!r}")
        times.append(datetime.fromtimestamp(data[key], UTC))
    certs, revoked = data["certificates"], data["revoked"]
    if not isinstance(certs, list | tuple) or not all(isinstance(c, bytes) for c in certs):
        raise ValueError("certificates must be a list of DER byte strings")
    if not isinstance(revoked, list | tuple) or not all(isinstance(r, bytes) and len(r) == 32 for r in revoked):
        raise ValueError("revoked must be a list of 32-byte SHA-256 digests")
    return TrustList(
        version=version,
        governorate=governorate,
        issued_at=times[0],
        next_update=times[1],
        certificates=tuple(x509.load_der_x509_certificate(c) for c in certs),
        revoked=frozenset(revoked),
    )


def _certificate_problem(cert: x509.Certificate, ca: x509.Certificate, governorate: str) -> str:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature) as exc:
        return f"not issued by the CA ({type(exc).__name__}: {exc})"
    if not _is_p256(cert.public_key()):
        return "not a P-256 key"
    try:
        if cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return "a CA certificate cannot sign codes"
    except x509.ExtensionNotFound:
        pass
    try:
        cert_governorate, van = identity(cert)
    except ValueError as exc:
        return str(exc)
    if cert_governorate != governorate:
        return f"governorate {cert_governorate}, list is for {governorate}"
    if not VAN_ID.fullmatch(van):
        return f"CN {van!r} is not a van id"
    return ""

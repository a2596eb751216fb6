"""Signed codes on receipts, permits and tickets ("EG1:…"), checked offline against the governorate's trust list.

The shape follows the EU Digital COVID Certificate (hcert 1.0.x): a CBOR map of claims, signed as an
ES256 COSE_Sign1, compressed with zlib, written in Base45 behind a versioned prefix, printed as a QR
code. docs/codes.md is the specification; tests/vectors/ holds codes another implementation can check
itself against. Pure: the caller passes the clock, the keys and the trust list.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import cbor2

from edge.core import base45, governorates, tickets, trust
from edge.core.digits import eastern_run
from edge.core.errors import EdgeError
from edge.core.localtime import VAN_TZ
from edge.core.national_id import parse as parse_national_id
from edge.core.requests import InvalidRequestNumber, InvalidVanId, parse_request_number, van_number
from edge.core.trust import CoseError, Signer, SignerError, TrustList

PREFIX = "EG1:"
# The most a QR code can hold in alphanumeric mode (version 40, level L); anything longer is not a code.
MAX_CODE_LENGTH = 4296
MAX_COSE_LENGTH = 4096  # decompressed; a zlib bomb stops here
ZLIB_LEVEL = 9
# Van clocks drift when a van has had no network for days. A code dated up to this far ahead of the
# verifier's clock is still accepted; beyond it the code is refused as "not yet valid".
CLOCK_SKEW = timedelta(minutes=15)

# The citizen's national ID is carried as a 4-byte scrypt digest salted with the document (see
# docs/codes.md, "National ID digest"): enough to confirm a typed ID, too short and too slow to be a
# lookup key or to be reversed over all plausible IDs.
NID_DIGEST_LENGTH = 4
NID_SCRYPT = {"n": 2**14, "r": 8, "p": 1}

# CBOR keys. 1 (iss), 4 (exp) and 6 (iat) are the CWT claims of RFC 8392; our document fields sit in one
# nested map under the first key of CWT's private-use range, as hcert nests its certificate under -260.
CLAIM_ISS, CLAIM_EXP, CLAIM_IAT, CLAIM_DOC = 1, 4, 6, -65537
DOC_VAN, DOC_TYPE, DOC_NUMBER, DOC_SERVICE, DOC_NID = 1, 2, 3, 4, 5

_SERVICE = re.compile(r"[A-Z][A-Z0-9]*(?:[-_][A-Z0-9]+)*", re.ASCII)
_MAX_SERVICE = 32
_MAX_SECONDS = 2**32 - 1
# Dates shown to people are local to the vans.
_LOCAL_TZ = VAN_TZ


class DocumentType(StrEnum):
    RECEIPT = "receipt"
    PERMIT = "permit"
    TICKET = "ticket"
    SHIFT = "shift"  # an operator's Z-report at the close of a shift (issue 19); its number is "Z" + the shift id


_TYPE_CODE = {DocumentType.RECEIPT: 1, DocumentType.PERMIT: 2, DocumentType.TICKET: 3, DocumentType.SHIFT: 4}
_TYPE_FROM_CODE = {v: k for k, v in _TYPE_CODE.items()}
# (Arabic with the article, English) as a sentence names the document.
_TYPE_NAMES = {
    DocumentType.RECEIPT: ("الإيصال", "receipt"),
    DocumentType.PERMIT: ("التصريح", "permit"),
    DocumentType.TICKET: ("التذكرة", "ticket"),
    DocumentType.SHIFT: ("تقرير الوردية", "shift report"),
}
_SHIFT_NUMBER = re.compile(r"Z[1-9][0-9]{0,8}", re.ASCII)


class Verdict(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"  # outside its validity period: past its expiry, or dated in the future
    REVOKED = "revoked"
    UNKNOWN_SIGNER = "unknown-signer"
    BAD_SIGNATURE = "bad-signature"
    MALFORMED = "malformed"  # not ours, damaged, or not a code at all


class InvalidClaims(EdgeError):
    """Document fields that cannot go into a code; ``code`` is ``f"code-claims-{reason}"``."""

    def __init__(self, reason: str, message_ar: str, message_en: str, *, detail: str = ""):
        self.reason = reason
        super().__init__(message_ar, message_en, detail=detail, code=f"code-claims-{reason}")


class CodeRejected(EdgeError):
    """A code that did not verify, for callers that want to raise; built by :meth:`Verification.error`."""


# --------------------------------------------------------------------------------------------------
# Claims
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claims:
    """What a code says. ``number`` is canonical: 14 digits for receipts and permits, "A007" for tickets."""

    doc_type: DocumentType
    number: str
    service: str
    governorate: str
    van: str
    issued_at: datetime  # UTC, whole seconds
    expires_at: datetime | None = None
    nid_digest: bytes | None = None

    @property
    def display_number(self) -> str:
        """The number as printed: "007-261121-0001-5" for a request, "A007" for a ticket."""
        if self.doc_type in (DocumentType.TICKET, DocumentType.SHIFT):
            return self.number
        return str(parse_request_number(self.number))

    @property
    def document_id(self) -> str:
        """What the governorate revokes; see :func:`document_id`."""
        return document_id(self.doc_type, self.number, van=self.van, issued_at=self.issued_at)

    @property
    def revocation_digest(self) -> bytes:
        """SHA-256 of :attr:`document_id`: the entry the trust list's ``revoked`` holds."""
        return revocation_digest(self.document_id)

    def as_dict(self) -> dict:
        """The decoded fields as JSON-ready values (times in ISO-8601 UTC)."""
        return {
            "type": self.doc_type.value,
            "number": self.display_number,
            "service": self.service,
            "governorate": self.governorate,
            "van": self.van,
            "issued_at": _iso(self.issued_at),
            "expires_at": _iso(self.expires_at) if self.expires_at else None,
            "national_id_digest": self.nid_digest.hex() if self.nid_digest is not None else None,
            "document_id": self.document_id,
        }


def document_id(
    doc_type: DocumentType | str, number: str, *, van: str | None = None, issued_at: datetime | None = None
) -> str:
    """A document's name for revocation: "receipt:00726112100015", "permit:…", "ticket:V007:A007:<iat>".

    Request numbers are unique across the fleet, so a receipt or permit is named by its number alone
    (typed any way :func:`edge.core.requests.parse_request_number` reads), and revoking it covers every
    reprint. Ticket numbers restart daily at each van, so a ticket also needs its van and issue time.
    """
    doc_type = DocumentType(doc_type)
    canonical = _canonical_number(doc_type, number)
    if doc_type is DocumentType.TICKET:
        if van is None or issued_at is None:
            raise ValueError("a ticket's document id needs its van and issue time")
        return f"ticket:{van}:{canonical}:{int(issued_at.timestamp())}"
    if doc_type is DocumentType.SHIFT:  # shift ids are the van's own
        if van is None:
            raise ValueError("a shift report's document id needs its van")
        return f"shift:{van}:{canonical}"
    return f"{doc_type.value}:{canonical}"


def revocation_digest(doc_id: str) -> bytes:
    """SHA-256 of a document id: what the trust list's ``revoked`` holds."""
    return hashlib.sha256(doc_id.encode("utf-8")).digest()


def make_claims(
    doc_type: DocumentType | str,
    number: str,
    service: str,
    *,
    governorate: str,
    van: str,
    issued_at: datetime,
    expires_at: datetime | None = None,
    national_id: str | None = None,
) -> Claims:
    """Validated, canonical claims; raises InvalidClaims (or InvalidNationalId) saying what to fix.

    ``number`` may be typed the way people type it (hyphens, Eastern Arabic digits). Times must be
    timezone-aware; they are kept to the whole second. Permits must expire; receipts and tickets may.
    """
    try:
        doc_type = DocumentType(doc_type)
    except ValueError:
        raise _claims_error("type", f"unknown document type {doc_type!r}") from None
    issued_at = _whole_seconds(issued_at, "issued_at")
    if expires_at is not None:
        # Rounded down: a document never lives longer than asked.
        expires_at = _whole_seconds(expires_at, "expires_at")
    canonical = _canonical_number(doc_type, number)
    nid_digest = None
    if national_id is not None:
        parsed = _parse_national_id(national_id, issued_at)
        nid_digest = national_id_digest(parsed, doc_type, canonical, van, issued_at)
    claims = Claims(doc_type, canonical, service, governorate, van, issued_at, expires_at, nid_digest)
    _check(claims)
    return claims


def national_id_digest(nid: str, doc_type: DocumentType, number: str, van: str, issued_at: datetime) -> bytes:
    """4 bytes of scrypt(ID) salted with this document, so the same citizen looks different on each code."""
    salt = f"EG1/nid/{DocumentType(doc_type).value}/{van}/{number}/{int(issued_at.timestamp())}".encode()
    digest = hashlib.scrypt(nid.encode("ascii"), salt=salt, dklen=32, maxmem=64 * 2**20, **NID_SCRYPT)
    return digest[:NID_DIGEST_LENGTH]


def national_id_matches(claims: Claims, typed: str) -> bool | None:
    """Does the ID a staff member typed or scanned match the code? None if the code carries no ID.

    Raises InvalidNationalId if ``typed`` cannot be a national ID, so the typist is told what to fix.
    """
    if claims.nid_digest is None:
        return None
    parsed = _parse_national_id(typed, claims.issued_at)
    digest = national_id_digest(parsed, claims.doc_type, claims.number, claims.van, claims.issued_at)
    return digest == claims.nid_digest


def _parse_national_id(text: str, issued_at: datetime) -> str:
    # The birth date check runs against the issue date: the ID was a real one when the code was made.
    return parse_national_id(text, today=issued_at.date()).number


def _whole_seconds(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise _claims_error("time", f"{name} must be a timezone-aware datetime, got {moment!r}")
    moment = moment.astimezone(UTC).replace(microsecond=0)
    if not 0 <= moment.timestamp() <= _MAX_SECONDS:
        raise _claims_error("time", f"{name} {moment.isoformat()} is outside 1970–2106")
    return moment


def _canonical_number(doc_type: DocumentType, number: str) -> str:
    if not isinstance(number, str):
        raise _claims_error("number", f"number {number!r} is not text")
    if doc_type is DocumentType.TICKET:
        try:
            series, seq = tickets.parse_number(number.strip().upper())
            return tickets.format_number(series, seq)
        except ValueError as exc:
            raise _claims_error("number", f"ticket number {number!r}: {exc}") from None
    if doc_type is DocumentType.SHIFT:
        canonical = number.strip().upper()
        if not _SHIFT_NUMBER.fullmatch(canonical):
            raise _claims_error("number", f"shift report number {number!r}")
        return canonical
    try:
        return parse_request_number(number).digits
    except InvalidRequestNumber:
        raise  # already says, in both languages, what is wrong with the number
    except (ValueError, TypeError) as exc:
        raise _claims_error("number", f"request number {number!r}: {exc}") from None


def _check(c: Claims) -> None:
    """Every rule a claims object must meet, whether built here or decoded from a code."""
    if not isinstance(c.service, str) or len(c.service) > _MAX_SERVICE or not _SERVICE.fullmatch(c.service):
        raise _claims_error("service", f"service code {c.service!r}")
    if c.governorate not in governorates.ASSIGNABLE:
        raise _claims_error("governorate", f"governorate {c.governorate!r}")
    try:
        van_number(c.van)
    except InvalidVanId:
        raise _claims_error("van", f"van id {c.van!r}") from None
    if c.doc_type is DocumentType.PERMIT and c.expires_at is None:
        raise _claims_error("expiry", "a permit must have an expiry")
    if c.expires_at is not None and c.expires_at <= c.issued_at:
        detail = f"expires {c.expires_at.isoformat()}, not after issue {c.issued_at.isoformat()}"
        raise _claims_error("expiry", detail)
    if c.nid_digest is not None and (not isinstance(c.nid_digest, bytes) or len(c.nid_digest) != NID_DIGEST_LENGTH):
        raise _claims_error("national-id", f"national ID digest {c.nid_digest!r}")


def _claims_error(reason: str, detail: str) -> InvalidClaims:
    return InvalidClaims(
        reason,
        "لا يمكن إصدار رمز لهذا المستند لأن بياناته غير مكتملة أو غير صحيحة. راجع البيانات أو اتصل بالدعم الفني.",
        "A code cannot be issued for this document: its details are missing or wrong. "
        "Check them, or call technical support.",
        detail=detail,
    )


# --------------------------------------------------------------------------------------------------
# Claims <-> CBOR
# --------------------------------------------------------------------------------------------------


def claims_to_cbor(c: Claims) -> bytes:
    doc: dict[int, object] = {
        DOC_VAN: c.van,
        DOC_TYPE: _TYPE_CODE[c.doc_type],
        DOC_NUMBER: c.number,
        DOC_SERVICE: c.service,
    }
    if c.nid_digest is not None:
        doc[DOC_NID] = c.nid_digest
    top: dict[int, object] = {CLAIM_ISS: c.governorate, CLAIM_IAT: int(c.issued_at.timestamp()), CLAIM_DOC: doc}
    if c.expires_at is not None:
        top[CLAIM_EXP] = int(c.expires_at.timestamp())
    return cbor2.dumps(top, canonical=True)


def claims_from_cbor(payload: bytes) -> Claims:
    """Strict inverse of :func:`claims_to_cbor`; raises ValueError (or InvalidClaims) on anything else."""
    top = trust.loads_exact(payload)
    if not isinstance(top, Mapping) or not {CLAIM_ISS, CLAIM_IAT, CLAIM_DOC} <= set(top) <= {
        CLAIM_ISS,
        CLAIM_IAT,
        CLAIM_DOC,
        CLAIM_EXP,
    }:
        raise ValueError("claims: expected a map with keys 1, 6, -65537 and optionally 4")
    doc = top[CLAIM_DOC]
    if not isinstance(doc, Mapping) or not {DOC_VAN, DOC_TYPE, DOC_NUMBER, DOC_SERVICE} <= set(doc) <= {
        DOC_VAN,
        DOC_TYPE,
        DOC_NUMBER,
        DOC_SERVICE,
        DOC_NID,
    }:
        raise ValueError("document claims: expected a map with keys 1-4 and optionally 5")
    type_code = doc[DOC_TYPE]
    if type(type_code) is not int or type_code not in _TYPE_FROM_CODE:
        raise ValueError(f"document type {type_code!r}")
    doc_type = _TYPE_FROM_CODE[type_code]
    for name, value in (("iss", top[CLAIM_ISS]), ("van", doc[DOC_VAN]), ("number", doc[DOC_NUMBER])):
        if not isinstance(value, str):
            raise ValueError(f"{name} {value!r} is not text")
    number = doc[DOC_NUMBER]
    if _canonical_number(doc_type, number) != number:
        raise ValueError(f"number {number!r} is not in canonical form")
    claims = Claims(
        doc_type=doc_type,
        number=number,
        service=doc[DOC_SERVICE],
        governorate=top[CLAIM_ISS],
        van=doc[DOC_VAN],
        issued_at=_from_seconds(top[CLAIM_IAT], "iat"),
        expires_at=_from_seconds(top[CLAIM_EXP], "exp") if CLAIM_EXP in top else None,
        nid_digest=doc.get(DOC_NID),
    )
    _check(claims)
    return claims


def _from_seconds(value: object, name: str) -> datetime:
    if type(value) is not int or not 0 <= value <= _MAX_SECONDS:
        raise ValueError(f"{name} {value!r} is not a time in seconds")
    return datetime.fromtimestamp(value, UTC)


# --------------------------------------------------------------------------------------------------
# Issue
# --------------------------------------------------------------------------------------------------


def issue(
    signer: Signer,
    doc_type: DocumentType | str,
    number: str,
    service: str,
    *,
    now: datetime,
    expires_at: datetime | None = None,
    national_id: str | None = None,
) -> str:
    """The code to print on a document issued ``now`` by the van that ``signer`` belongs to.

    The van and governorate come from the signer's certificate (CN and OU), so a van cannot sign in
    another's name by mistake. Raises SignerError when the certificate is unusable or outside its
    validity period, InvalidClaims / InvalidRequestNumber / InvalidNationalId for bad fields.
    """
    try:
        governorate, van = trust.identity(signer.certificate)
    except ValueError as exc:
        raise SignerError(
            "شهادة التوقيع في هذه العربة لا تذكر العربة ومحافظتها. اتصل بالدعم الفني في المحافظة.",
            "This van's signing certificate does not name the van and its governorate. "
            "Call the governorate's technical support.",
            detail=str(exc),
        ) from None
    claims = make_claims(
        doc_type, number, service, governorate=governorate, van=van, issued_at=now, expires_at=expires_at,
        national_id=national_id,
    )
    if not trust.valid_at(signer.certificate, claims.issued_at):
        raise SignerError(
            "شهادة التوقيع في هذه العربة منتهية أو لم يبدأ سريانها بعد، فلا يمكن إصدار رموز موقّعة. "
            "راجع تاريخ الجهاز ووقته، ثم اتصل بالدعم الفني في المحافظة لتجديد الشهادة.",
            "This van's signing certificate has expired or is not valid yet, so signed codes cannot be issued. "
            "Check the device's date and time, then call the governorate's technical support to renew it.",
            detail=f"certificate valid {signer.certificate.not_valid_before_utc.isoformat()} to "
            f"{signer.certificate.not_valid_after_utc.isoformat()}, now {claims.issued_at.isoformat()}",
            code="code-signer-expired",
        )
    return seal(claims, signer)


def seal(claims: Claims, signer: Signer) -> str:
    """Sign and encode ``claims`` as they are, with no policy checks: :func:`issue` is the normal way in."""
    return wrap(trust.sign1(claims_to_cbor(claims), signer))


def wrap(cose: bytes) -> str:
    """COSE bytes → code string: zlib, Base45, prefix."""
    return PREFIX + base45.encode(zlib.compress(cose, ZLIB_LEVEL))


def unwrap(code: str) -> bytes:
    """Code string → COSE bytes; raises ValueError if any layer is not what :func:`wrap` makes."""
    if not isinstance(code, str):
        raise ValueError(f"a code is text, not {type(code).__name__}")
    if len(code) > MAX_CODE_LENGTH:
        raise ValueError(f"{len(code)} characters, more than any QR code holds")
    if not code.startswith(PREFIX):
        raise ValueError(f"does not start with {PREFIX!r}")
    compressed = base45.decode(code[len(PREFIX) :])
    inflater = zlib.decompressobj()
    try:
        cose = inflater.decompress(compressed, MAX_COSE_LENGTH)
    except zlib.error as exc:
        raise ValueError(f"zlib: {exc}") from None
    if inflater.unconsumed_tail:
        raise ValueError(f"zlib: more than {MAX_COSE_LENGTH} bytes")
    if not inflater.eof or inflater.unused_data:
        raise ValueError("zlib: truncated stream or data after its end")
    return cose


# --------------------------------------------------------------------------------------------------
# Verify
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """The answer to "may I accept this code?" with the reason in both languages.

    ``claims`` is set only when the signature was checked against a trusted signer (valid, expired,
    revoked): the fields of a code that failed are not shown, because nothing vouches for them.
    ``reason`` is a finer, stable code for logs and tests (see docs/codes.md).
    """

    verdict: Verdict
    reason: str
    message_ar: str
    message_en: str
    detail: str = ""
    claims: Claims | None = None
    kid: bytes | None = None
    trust_list_stale: bool = False

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.VALID

    def message(self, lang: str = "ar") -> str:
        return self.message_en if lang == "en" else self.message_ar

    def error(self) -> CodeRejected | None:
        """None for a valid code, else an EdgeError carrying the same messages."""
        if self.ok:
            return None
        return CodeRejected(self.message_ar, self.message_en, detail=self.detail, code=f"code-{self.verdict.value}")

    def as_dict(self) -> dict:
        return {
            "verdict": self.verdict.value,
            "reason": self.reason,
            "message_ar": self.message_ar,
            "message_en": self.message_en,
            "detail": self.detail,
            "kid": self.kid.hex() if self.kid is not None else None,
            "trust_list_stale": self.trust_list_stale,
            "fields": self.claims.as_dict() if self.claims is not None else None,
        }


def verify(code: str, trust_list: TrustList, *, now: datetime) -> Verification:
    """Check a scanned code offline. Never raises on any ``code``: every failure is a verdict.

    Order: readable (else malformed) → a listed signer with that kid (else unknown-signer) → the
    signature of one of them (else bad-signature) → well-formed claims by that van of that governorate,
    signed while its certificate was valid → not revoked → within its validity period.
    """
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be a timezone-aware datetime, got {now!r}")
    stale = trust_list.is_stale(now)
    try:
        result = _verify(code, trust_list, now)
    except Exception as exc:  # the contract is "never raises"; a bug here must not crash a scanner
        result = _result(Verdict.MALFORMED, "internal", detail=f"{type(exc).__name__}: {exc}")
    if stale:
        result = replace(result, trust_list_stale=True)
    return result


def _verify(code: object, trust_list: TrustList, now: datetime) -> Verification:
    try:
        message = trust.parse_sign1(unwrap(code))  # type: ignore[arg-type]
    except (ValueError, CoseError) as exc:
        return _result(Verdict.MALFORMED, "unreadable", detail=str(exc))
    candidates = trust_list.signers(message.kid)
    if not candidates:
        return _result(Verdict.UNKNOWN_SIGNER, "unknown-kid", detail=f"kid {message.kid.hex()}", kid=message.kid)
    signer = next((c for c in candidates if trust.verify_signature(message, c)), None)
    if signer is None:
        detail = f"no certificate of kid {message.kid.hex()} ({len(candidates)} tried) verifies the signature"
        return _result(Verdict.BAD_SIGNATURE, "signature", detail=detail, kid=message.kid)
    if message.alg != trust.ALG_ES256:
        return _result(Verdict.MALFORMED, "alg", detail=f"alg {message.alg!r}", kid=message.kid)
    try:
        claims = claims_from_cbor(message.payload)
    except (ValueError, CoseError, EdgeError) as exc:
        return _result(Verdict.MALFORMED, "claims", detail=str(getattr(exc, "detail", "") or exc), kid=message.kid)
    cert_governorate, cert_van = trust.identity(signer)
    if (cert_governorate, cert_van) != (claims.governorate, claims.van) or claims.governorate != trust_list.governorate:
        detail = (
            f"signed by {cert_van} of {cert_governorate} for {claims.van} of {claims.governorate}; "
            f"trust list of {trust_list.governorate}"
        )
        return _result(Verdict.UNKNOWN_SIGNER, "signer-mismatch", detail=detail, kid=message.kid)
    if not trust.valid_at(signer, claims.issued_at):
        detail = (
            f"issued {claims.issued_at.isoformat()}, certificate valid {signer.not_valid_before_utc.isoformat()} "
            f"to {signer.not_valid_after_utc.isoformat()}"
        )
        return _result(Verdict.UNKNOWN_SIGNER, "signer-not-valid-at-issue", detail=detail, kid=message.kid)
    if trust_list.is_revoked(claims.revocation_digest):
        return _result(Verdict.REVOKED, "revoked", claims, detail=claims.document_id, kid=message.kid)
    if claims.issued_at > now + CLOCK_SKEW:
        detail = f"issued {claims.issued_at.isoformat()}, now {now.isoformat()}"
        return _result(Verdict.EXPIRED, "not-yet-valid", claims, detail=detail, kid=message.kid)
    if claims.expires_at is not None and now > claims.expires_at:
        detail = f"expired {claims.expires_at.isoformat()}, now {now.isoformat()}"
        return _result(Verdict.EXPIRED, "expired", claims, detail=detail, kid=message.kid)
    return _result(Verdict.VALID, "ok", claims, kid=message.kid)


def _result(
    verdict: Verdict, reason: str, claims: Claims | None = None, *, detail: str = "", kid: bytes | None = None
) -> Verification:
    ar, en = _messages(verdict, reason, claims)
    return Verification(verdict, reason, ar, en, detail=detail, claims=claims, kid=kid)


def _messages(verdict: Verdict, reason: str, c: Claims | None) -> tuple[str, str]:
    if c is not None:
        name_ar, name_en = _TYPE_NAMES[c.doc_type]
        number = c.display_number
        # Request numbers are shown in Eastern Arabic digits; ticket numbers stay as printed on the ticket.
        number_ar = number if c.doc_type in (DocumentType.TICKET, DocumentType.SHIFT) else eastern_run(number)
        issued = _local_date(c.issued_at)
        if verdict is Verdict.VALID:
            until_ar = f" وهو صالح حتى {eastern_run(_local_date(c.expires_at))}." if c.expires_at else ""
            until_en = f" It is valid until {_local_date(c.expires_at)}." if c.expires_at else ""
            return (
                f"رمز {name_ar} صحيح: رقم {number_ar}، أصدرته العربة {c.van} في {eastern_run(issued)}."
                + until_ar,
                f"Valid {name_en} code: number {number}, issued by van {c.van} on {issued}." + until_en,
            )
        if verdict is Verdict.REVOKED:
            return (
                f"ألغت المحافظة {name_ar} رقم {number_ar}، فلا تقبل هذا الرمز. "
                "اطلب من المواطن مراجعة المحافظة.",
                f"The governorate has cancelled {name_en} {number}: do not accept this code. "
                "Ask the citizen to contact the governorate.",
            )
        if reason == "not-yet-valid":
            return (
                f"رمز {name_ar} يذكر أنه صدر في المستقبل ({eastern_run(issued)}): ساعة هذا الجهاز أو ساعة العربة "
                "التي أصدرته غير مضبوطة. راجع التاريخ والوقت في هذا الجهاز ثم امسح الرمز مرة أخرى.",
                f"This {name_en} code says it was issued in the future ({issued}): the clock of this device or of "
                "the van that issued it is wrong. Check this device's date and time, then scan again.",
            )
        if verdict is Verdict.EXPIRED and c.expires_at is not None:
            expired = _local_date(c.expires_at)
            return (
                f"انتهت صلاحية رمز {name_ar} رقم {number_ar} في {eastern_run(expired)}، فلم يعد صالحًا. "
                f"يحتاج المواطن إلى استخراج {name_ar} من جديد.",
                f"{name_en.capitalize()} {number} expired on {expired} and is no longer valid. "
                f"The citizen needs a new {name_en}.",
            )
    if verdict is Verdict.UNKNOWN_SIGNER:
        return (
            "وُقّع هذا الرمز بمفتاح لا تثق به هذه العربة: ربما من عربة أُوقفت عن الخدمة، أو من محافظة أخرى، "
            "أو أن قائمة الثقة في هذا الجهاز قديمة. لا تقبله؛ وإذا كانت القائمة قديمة فصِل العربة بالشبكة لتحديثها.",
            "This code was signed by a key this van does not trust: a van taken out of service, another "
            "governorate, or an out-of-date trust list on this device. Do not accept it; if the list is old, "
            "connect the van to the network to refresh it.",
        )
    if verdict is Verdict.BAD_SIGNATURE:
        return (
            "توقيع هذا الرمز لا يطابق محتواه: الرمز مُعدَّل أو مزوَّر. لا تقبله، وتحقق من المستند يدويًا.",
            "This code's signature does not match its content: the code was altered or forged. "
            "Do not accept it; check the document by hand.",
        )
    return (
        "هذا ليس رمزًا صادرًا عن المراكز التكنولوجية المتنقلة، أو أنه تالف. امسحه مرة أخرى؛ "
        "وإذا تكرر الخطأ فتحقق من رقم المستند يدويًا.",
        "This is not a code from the mobile technological centres, or it is damaged. Scan it again; "
        "if it still fails, check the document number by hand.",
    )


def _local_date(moment: datetime) -> str:
    return moment.astimezone(_LOCAL_TZ).date().isoformat()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --------------------------------------------------------------------------------------------------
# QR size
# --------------------------------------------------------------------------------------------------

# Characters an alphanumeric-mode QR code holds, versions 1-40 (ISO/IEC 18004 table 7).
_ALNUM_CAPACITY = {
    "M": (20, 38, 61, 90, 122, 154, 178, 221, 262, 311, 366, 419, 483, 528, 600, 656, 734, 816, 909, 970,
          1035, 1134, 1248, 1326, 1451, 1542, 1637, 1732, 1839, 1994, 2113, 2238, 2369, 2506, 2632, 2780,
          2894, 3054, 3220, 3391),
    "Q": (16, 29, 47, 67, 87, 108, 125, 157, 189, 221, 259, 296, 352, 376, 426, 470, 531, 574, 644, 702,
          742, 823, 890, 963, 1041, 1094, 1172, 1263, 1322, 1429, 1499, 1618, 1700, 1787, 1867, 1966, 2071,
          2181, 2298, 2420),
}
QR_MAX_VERSION_AT_Q = 15


def qr_error_level(code: str) -> str:
    """"Q" (25 % of the symbol can be lost) while the code fits version 15 at Q, else "M" (15 %)."""
    return "Q" if len(code) <= _ALNUM_CAPACITY["Q"][QR_MAX_VERSION_AT_Q - 1] else "M"


def qr_version(code: str, level: str | None = None) -> int:
    """The smallest QR version holding ``code`` in alphanumeric mode at ``level`` (default: qr_error_level)."""
    level = level or qr_error_level(code)
    for version, capacity in enumerate(_ALNUM_CAPACITY[level], start=1):
        if len(code) <= capacity:
            return version
    raise ValueError(f"{len(code)} characters do not fit a QR code at level {level}")

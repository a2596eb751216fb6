"""Write tests/vectors/codes-v1.json: EG1 codes with the verdict each must get, for any implementation to check.

Run from the repository root: ``python tests/vectors/generate.py``. Keys and ECDSA signatures are random,
so every run writes different bytes with the same expected results; the committed file is the published one.
"""

from __future__ import annotations

import base64
import json
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import cbor2
from cryptography.hazmat.primitives import serialization

from edge.core import base45, codes, issuing, trust
from edge.core.requests import RequestNumber

OUT = Path(__file__).with_name("codes-v1.json")
CA_MADE = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)  # 10:00 in Cairo
ISSUED = datetime(2026, 11, 21, 7, 30, tzinfo=UTC)
END_OF_DAY = datetime(2026, 11, 21, 21, 59, 59, tzinfo=UTC)  # 23:59:59 in Cairo
NATIONAL_ID = "29001011234567"


def _request(day: date, seq: int, van: int = 7) -> str:
    return str(RequestNumber(van, day, seq))


def _rebuild(code: str, **parts) -> str:
    """Re-encode a code's COSE_Sign1 with some parts replaced (protected, unprotected, payload, signature)."""
    m = trust.parse_sign1(codes.unwrap(code))
    fields = {"protected": m.protected, "unprotected": {}, "payload": m.payload, "signature": m.signature}
    fields.update(parts)
    return codes.wrap(cbor2.dumps(cbor2.CBORTag(trust.COSE_SIGN1_TAG, list(fields.values()))))


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def _pem(cert) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def main() -> None:
    ca = issuing.make_ca("01", now=CA_MADE)
    v007 = issuing.make_van_signer(ca, "V007", now=CA_MADE)
    v008_old = issuing.make_van_signer(ca, "V008", now=CA_MADE - timedelta(days=400), days=365)
    v009_unlisted = issuing.make_van_signer(ca, "V009", now=CA_MADE)
    revoked_number = _request(date(2026, 11, 20), 2)
    blob = issuing.make_trust_list(
        ca,
        [v007.certificate, v008_old.certificate],
        now=NOW - timedelta(days=1),
        revoked=[codes.revocation_digest(codes.document_id("receipt", revoked_number))],
    )
    receipt_number = _request(date(2026, 11, 21), 1)
    receipt = codes.issue(v007, "receipt", receipt_number, "BLD-NEW", now=ISSUED, national_id=NATIONAL_ID)
    end_of_year = datetime(2027, 11, 21, 21, 59, 59, tzinfo=UTC)  # 23:59:59 in Cairo
    cases = [
        ("receipt", "A receipt with a national ID digest.", receipt, "valid", "ok"),
        (
            "permit",
            "A permit valid for a year.",
            codes.issue(
                v007, "permit", _request(date(2026, 11, 1), 17), "SHOP-NEW", now=ISSUED, expires_at=end_of_year,
                national_id=NATIONAL_ID,
            ),
            "valid",
            "ok",
        ),
        (
            "ticket",
            "A queue ticket, no national ID, valid until the end of the day.",
            codes.issue(v007, "ticket", "B042", "BLD", now=ISSUED, expires_at=END_OF_DAY),
            "valid",
            "ok",
        ),
        (
            "receipt-no-national-id",
            "A receipt without a national ID digest.",
            codes.issue(v007, "receipt", _request(date(2026, 11, 21), 3), "CERT-BIRTH", now=ISSUED),
            "valid",
            "ok",
        ),
        (
            "issued-within-clock-skew",
            "Issued 10 minutes after the verifier's now: within the 15-minute allowance.",
            codes.issue(v007, "receipt", _request(date(2026, 11, 21), 4), "BLD-NEW", now=NOW + timedelta(minutes=10)),
            "valid",
            "ok",
        ),
        (
            "permit-expired",
            "A permit whose expiry has passed.",
            codes.issue(
                v007, "permit", _request(date(2026, 2, 1), 5), "SHOP-NEW", now=datetime(2026, 2, 1, 9, tzinfo=UTC),
                expires_at=datetime(2026, 8, 1, tzinfo=UTC),
            ),
            "expired",
            "expired",
        ),
        (
            "issued-in-the-future",
            "Issued an hour after the verifier's now: beyond the clock-skew allowance.",
            codes.issue(v007, "receipt", _request(date(2026, 11, 21), 6), "BLD-NEW", now=NOW + timedelta(hours=1)),
            "expired",
            "not-yet-valid",
        ),
        (
            "receipt-revoked",
            f"The trust list revokes SHA-256('receipt:{RequestNumber(7, date(2026, 11, 20), 2).digits}').",
            codes.issue(v007, "receipt", revoked_number, "BLD-NEW", now=datetime(2026, 11, 20, 9, tzinfo=UTC)),
            "revoked",
            "revoked",
        ),
        (
            "signer-not-listed",
            "Signed by van V009, whose certificate is not in the trust list.",
            codes.issue(v009_unlisted, "receipt", _request(date(2026, 11, 21), 1, van=9), "BLD-NEW", now=ISSUED),
            "unknown-signer",
            "unknown-kid",
        ),
        (
            "signer-claims-another-van",
            "Signed by V007's key but claiming van V008.",
            codes.seal(
                codes.make_claims("receipt", _request(date(2026, 11, 21), 8), "BLD-NEW", governorate="01", van="V008",
                                  issued_at=ISSUED),
                v007,
            ),
            "unknown-signer",
            "signer-mismatch",
        ),
        (
            "signer-certificate-expired-at-issue",
            "Signed by V008 after its (listed) certificate expired.",
            codes.seal(
                codes.make_claims("receipt", _request(date(2026, 11, 21), 9, van=8), "BLD-NEW", governorate="01",
                                  van="V008", issued_at=ISSUED),
                v008_old,
            ),
            "unknown-signer",
            "signer-not-valid-at-issue",
        ),
    ]
    cose = codes.unwrap(receipt)
    message = trust.parse_sign1(cose)
    r, s = message.signature[:32], int.from_bytes(message.signature[32:], "big")
    cases += [
        ("payload-byte-changed", "The receipt with one payload bit flipped.",
         _rebuild(receipt, payload=_flip(message.payload, 20)), "bad-signature", "signature"),
        ("signature-byte-changed", "The receipt with one signature bit flipped.",
         _rebuild(receipt, signature=_flip(message.signature, 40)), "bad-signature", "signature"),
        ("high-s-signature", "The receipt's signature as (r, n - s): valid ECDSA, refused because S is high.",
         _rebuild(receipt, signature=r + (trust.P256_ORDER - s).to_bytes(32, "big")), "bad-signature", "signature"),
        ("unprotected-header-not-empty", "The receipt with its kid copied into the unprotected header.",
         _rebuild(receipt, unprotected={4: message.kid}), "malformed", "unreadable"),
        ("untagged-cose", "The receipt's COSE_Sign1 without CBOR tag 18.",
         codes.wrap(cbor2.dumps(trust.loads_exact(cose).value)), "malformed", "unreadable"),
        ("signed-but-not-our-claims", "Correctly signed by V007, but the payload lacks the document claims.",
         codes.wrap(trust.sign1(cbor2.dumps({1: "01", 6: int(ISSUED.timestamp())}), v007)), "malformed", "claims"),
        ("wrong-prefix", "An EU DCC-style prefix.", "HC1:" + receipt[len(codes.PREFIX):], "malformed", "unreadable"),
        ("lower-case", "Lower case is not Base45.", receipt.lower(), "malformed", "unreadable"),
        ("not-zlib", "Base45 of uncompressed COSE.", codes.PREFIX + base45.encode(cose), "malformed", "unreadable"),
        ("trailing-data-after-zlib", "Valid zlib stream followed by one extra byte.",
         codes.PREFIX + base45.encode(zlib.compress(cose, 9) + b"\x00"), "malformed", "unreadable"),
        ("empty", "The empty string.", "", "malformed", "unreadable"),
        ("request-number-only", "A bare request number, as an old receipt's QR held.", receipt_number, "malformed",
         "unreadable"),
    ]
    trust_list = trust.verify_list(blob, ca.certificate)
    out_cases = []
    for name, description, code, verdict, reason in cases:
        result = codes.verify(code, trust_list, now=NOW)
        assert (result.verdict.value, result.reason) == (verdict, reason), (name, result)
        case = {
            "name": name,
            "description": description,
            "code": code,
            "now": NOW.isoformat().replace("+00:00", "Z"),
            "verdict": verdict,
            "reason": reason,
            "fields": result.claims.as_dict() if result.claims else None,
        }
        if name == "receipt":
            case["national_id_checks"] = [
                {"national_id": NATIONAL_ID, "matches": True},
                {"national_id": "29001011234568", "matches": False},
            ]
            case["cose_hex"] = cose.hex()
            case["protected_hex"] = message.protected.hex()
            case["payload_hex"] = message.payload.hex()
            case["kid_hex"] = message.kid.hex()
        out_cases.append(case)
    claims = codes.verify(receipt, trust_list, now=NOW).claims
    vectors = {
        "format": "EG1",
        "spec": "docs/codes.md",
        "generated_at": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "ca_certificate_pem": _pem(ca.certificate),
        "signer_certificates_pem": {"V007": _pem(v007.certificate), "V008": _pem(v008_old.certificate),
                                    "V009 (not listed)": _pem(v009_unlisted.certificate)},
        "trust_list_base64": base64.b64encode(blob).decode(),
        "national_id_digest": {
            "national_id": NATIONAL_ID,
            "type": "receipt",
            "number": claims.number,
            "van": claims.van,
            "issued_at": int(claims.issued_at.timestamp()),
            "salt": f"EG1/nid/receipt/{claims.van}/{claims.number}/{int(claims.issued_at.timestamp())}",
            "digest_hex": claims.nid_digest.hex(),
        },
        "cases": out_cases,
    }
    OUT.write_text(json.dumps(vectors, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT}: {len(out_cases)} cases")


if __name__ == "__main__":
    main()

"""Signed QR codes on receipts, permits and tickets, as staff and citizens meet them: issued in one van,
checked in another with no signal, tampered with, expired, revoked, or signed by a van no longer trusted."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import cbor2
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common import keys
from edge.core import base45, codes, issuing, trust
from edge.core.codes import DocumentType, Verdict
from edge.core.errors import EdgeError
from edge.core.national_id import InvalidNationalId
from edge.core.requests import InvalidRequestNumber
from tests.support import paths

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)  # 10:00 in Cairo
CA_MADE = datetime(2026, 1, 1, tzinfo=UTC)
NATIONAL_ID = "29001011234567"
RECEIPT_NUMBER = "007-261121-0001-5"
VECTORS = paths.VECTORS / "codes-v1.json"

DOCUMENTS = {
    DocumentType.RECEIPT: dict(number=RECEIPT_NUMBER, service="BLD-NEW"),
    DocumentType.PERMIT: dict(number=RECEIPT_NUMBER, service="BLD-NEW", expires_at=NOW + timedelta(days=365)),
    DocumentType.TICKET: dict(number="A007", service="BLD", expires_at=NOW + timedelta(hours=12)),
    DocumentType.SHIFT: dict(number="Z17", service="SHIFT"),  # a Z-report (issue 19)
}


@pytest.fixture(scope="module")
def ca():
    return issuing.make_ca("01", now=CA_MADE)


@pytest.fixture(scope="module")
def van(ca):
    return issuing.make_van_signer(ca, "V007", now=CA_MADE)


@pytest.fixture(scope="module")
def other_van(ca):
    return issuing.make_van_signer(ca, "V009", now=CA_MADE)


def _trust_list(ca, *signers, revoked=()):
    blob = issuing.make_trust_list(ca, [s.certificate for s in signers], now=NOW - timedelta(days=1), revoked=revoked)
    return trust.verify_list(blob, ca.certificate)


@pytest.fixture(scope="module")
def trusted(ca, van, other_van):
    return _trust_list(ca, van, other_van)


@pytest.fixture(scope="module")
def receipt(van):
    return codes.issue(van, "receipt", RECEIPT_NUMBER, "BLD-NEW", now=NOW, national_id=NATIONAL_ID)


def _issue(signer, doc_type, now=NOW, **changes):
    fields = {**DOCUMENTS[DocumentType(doc_type)], **changes}
    return codes.issue(signer, doc_type, fields.pop("number"), fields.pop("service"), now=now, **fields)


def _rebuild(code: str, **parts) -> str:
    message = trust.parse_sign1(codes.unwrap(code))
    fields = {"protected": message.protected, "unprotected": {}, "payload": message.payload,
              "signature": message.signature}
    fields.update(parts)
    return codes.wrap(cbor2.dumps(cbor2.CBORTag(trust.COSE_SIGN1_TAG, list(fields.values()))))


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


# --------------------------------------------------------------------------------------------------
# Base45
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, text",
    [(b"AB", "BB8"), (b"Hello!!", "%69 VD92EX0"), (b"base-45", "UJCLQE7W581"), (b"ietf!", "QED8WEX0"), (b"", "")],
)
def test_base45_matches_the_rfc_9285_examples(data, text):
    assert base45.encode(data) == text
    assert base45.decode(text) == data


@pytest.mark.parametrize("text", ["GGW", ":::", "A", "ABCD", "bb8", "BB8\n", "ZZ"])
def test_base45_refuses_what_no_encoder_produces(text):
    with pytest.raises(ValueError):
        base45.decode(text)


@given(st.binary(max_size=64))
def test_base45_round_trips_any_bytes(data):
    assert base45.decode(base45.encode(data)) == data


# --------------------------------------------------------------------------------------------------
# Issue and verify
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("doc_type", list(DocumentType))
def test_round_trip_for_each_document_type(van, trusted, doc_type):
    code = _issue(van, doc_type)
    assert code.startswith("EG1:")
    result = codes.verify(code, trusted, now=NOW + timedelta(hours=1))
    assert result.verdict is Verdict.VALID and result.ok and result.error() is None
    fields = result.as_dict()["fields"]
    assert fields["type"] == doc_type.value
    assert fields["number"] == DOCUMENTS[doc_type]["number"]
    assert fields["service"] == DOCUMENTS[doc_type]["service"]
    assert (fields["governorate"], fields["van"]) == ("01", "V007")
    assert fields["issued_at"] == "2026-11-21T08:00:00Z"
    assert (fields["expires_at"] is None) == (doc_type in (DocumentType.RECEIPT, DocumentType.SHIFT))


@pytest.mark.parametrize("number", ["Z0", "Z", "17", "Z1234567890", "Z-1", "A007", "Z١٧"])
def test_a_shift_report_number_is_z_and_the_shift_id(van, number):
    with pytest.raises(codes.InvalidClaims):
        _issue(van, DocumentType.SHIFT, number=number)


def test_a_shift_report_is_named_by_its_van_for_revocation(van, trusted):
    result = codes.verify(_issue(van, DocumentType.SHIFT, number=" z17 "), trusted, now=NOW)
    assert result.claims.document_id == "shift:V007:Z17"
    assert "Z17" in result.message("ar") and "shift report" in result.message("en")


def test_valid_receipt_explains_itself_in_arabic_and_english(receipt, trusted):
    result = codes.verify(receipt, trusted, now=NOW)
    assert "007-261121-0001-5" in result.message("en") and "V007" in result.message_en
    # In Arabic the number is an isolated left-to-right run (edge.core.digits.eastern_run: drawn as on the paper).
    assert "\u2066٠٠٧\u200e-\u200e٢٦١١٢١\u200e-\u200e٠٠٠١\u200e-\u200e٥\u2069" in result.message("ar")


def test_receipt_number_typed_with_eastern_digits_is_stored_canonically(van, trusted):
    code = codes.issue(van, "receipt", "٠٠٧ ٢٦١١٢١ ٠٠٠١ ٥", "BLD-NEW", now=NOW)
    assert codes.verify(code, trusted, now=NOW).claims.number == "00726112100015"


def test_tampered_byte_anywhere_is_bad_signature(receipt, trusted):
    message = trust.parse_sign1(codes.unwrap(receipt))
    for i in range(len(message.payload)):
        tampered = _rebuild(receipt, payload=_flip(message.payload, i))
        assert codes.verify(tampered, trusted, now=NOW).verdict is Verdict.BAD_SIGNATURE, f"payload byte {i}"
    for i in range(len(message.signature)):
        tampered = _rebuild(receipt, signature=_flip(message.signature, i))
        assert codes.verify(tampered, trusted, now=NOW).verdict is Verdict.BAD_SIGNATURE, f"signature byte {i}"
    # The protected header's alg is signed too; its kid picks the certificate, so changing it finds none.
    alg_at = message.protected.index(b"\x01\x26") + 1
    assert codes.verify(_rebuild(receipt, protected=_flip(message.protected, alg_at)), trusted, now=NOW).verdict \
        is Verdict.BAD_SIGNATURE
    kid_at = len(message.protected) - 1
    assert codes.verify(_rebuild(receipt, protected=_flip(message.protected, kid_at)), trusted, now=NOW).verdict \
        is Verdict.UNKNOWN_SIGNER


def test_any_changed_byte_of_the_signed_message_is_never_valid(receipt, trusted):
    cose = codes.unwrap(receipt)
    for i in range(len(cose)):
        result = codes.verify(codes.wrap(_flip(cose, i)), trusted, now=NOW)
        assert result.verdict is not Verdict.VALID, f"byte {i}"


def test_high_s_twin_of_a_signature_is_refused(receipt, trusted):
    # ECDSA accepts (r, n - s) as well as (r, s); we accept only the low one, so a code has one form.
    message = trust.parse_sign1(codes.unwrap(receipt))
    r, s = message.signature[:32], int.from_bytes(message.signature[32:], "big")
    assert s <= trust.P256_ORDER // 2
    twin = _rebuild(receipt, signature=r + (trust.P256_ORDER - s).to_bytes(32, "big"))
    assert codes.verify(twin, trusted, now=NOW).verdict is Verdict.BAD_SIGNATURE


def test_unsigned_header_entries_make_the_code_malformed(receipt, trusted):
    message = trust.parse_sign1(codes.unwrap(receipt))
    result = codes.verify(_rebuild(receipt, unprotected={4: message.kid}), trusted, now=NOW)
    assert result.verdict is Verdict.MALFORMED


def test_expired_permit_is_expired_from_the_second_after_its_expiry(van, trusted):
    expires = NOW + timedelta(days=30)
    code = _issue(van, "permit", expires_at=expires)
    assert codes.verify(code, trusted, now=expires).verdict is Verdict.VALID
    result = codes.verify(code, trusted, now=expires + timedelta(seconds=1))
    assert (result.verdict, result.reason) == (Verdict.EXPIRED, "expired")
    assert result.claims is not None and "2026-12-21" in result.message_en
    assert result.error().code == "code-expired"


def test_receipt_without_expiry_never_expires(van, trusted):
    code = _issue(van, "receipt")
    assert codes.verify(code, trusted, now=NOW + timedelta(days=3650)).verdict is Verdict.VALID


def test_code_from_the_future_is_refused_beyond_the_clock_skew(van, trusted):
    code = _issue(van, "receipt", now=NOW + codes.CLOCK_SKEW)
    assert codes.verify(code, trusted, now=NOW).verdict is Verdict.VALID
    code = _issue(van, "receipt", now=NOW + codes.CLOCK_SKEW + timedelta(seconds=1))
    result = codes.verify(code, trusted, now=NOW)
    assert (result.verdict, result.reason) == (Verdict.EXPIRED, "not-yet-valid")
    assert "clock" in result.message_en


def test_revoked_receipt_is_revoked_including_every_reprint(ca, van, receipt):
    digest = codes.revocation_digest(codes.document_id("receipt", RECEIPT_NUMBER))
    with_revocation = _trust_list(ca, van, revoked=[digest])
    reprint = codes.issue(van, "receipt", RECEIPT_NUMBER, "BLD-NEW", now=NOW + timedelta(days=2))
    for code in (receipt, reprint):
        result = codes.verify(code, with_revocation, now=NOW + timedelta(days=3))
        assert result.verdict is Verdict.REVOKED
        assert result.claims.document_id == "receipt:00726112100015"
    # The permit on the same request is a different document.
    permit = _issue(van, "permit")
    assert codes.verify(permit, with_revocation, now=NOW).verdict is Verdict.VALID


def test_ticket_revocation_names_its_van_and_issue_time(van):
    claims = codes.make_claims("ticket", " a007 ", "BLD", governorate="01", van="V007", issued_at=NOW)
    assert claims.number == "A007"
    assert claims.document_id == f"ticket:V007:A007:{int(NOW.timestamp())}"
    with pytest.raises(ValueError):
        codes.document_id("ticket", "A007")


def test_signer_removed_from_trust_list_is_unknown_signer(ca, van, other_van, receipt):
    without_v007 = _trust_list(ca, other_van)
    result = codes.verify(receipt, without_v007, now=NOW)
    assert (result.verdict, result.reason) == (Verdict.UNKNOWN_SIGNER, "unknown-kid")
    assert result.claims is None  # nothing vouches for the fields, so none are shown
    assert result.kid == van.kid


def test_certificates_sharing_a_kid_are_each_tried(ca, van, other_van, receipt, monkeypatch):
    # Kids are 8 bytes: two certificates may collide. Force the collision: every kid the same.
    monkeypatch.setattr(trust, "kid", lambda certificate: b"\x00" * trust.KID_LENGTH)
    code = codes.issue(van, "receipt", RECEIPT_NUMBER, "BLD-NEW", now=NOW)
    both = trust.TrustList(1, "01", NOW, NOW + timedelta(days=7), (other_van.certificate, van.certificate),
                           frozenset())
    assert len(both.signers(b"\x00" * 8)) == 2
    assert codes.verify(code, both, now=NOW).verdict is Verdict.VALID
    only_other = trust.TrustList(1, "01", NOW, NOW + timedelta(days=7), (other_van.certificate,), frozenset())
    assert codes.verify(code, only_other, now=NOW).verdict is Verdict.BAD_SIGNATURE


def test_van_key_cannot_vouch_for_another_van(van, trusted):
    claims = codes.make_claims("receipt", RECEIPT_NUMBER, "BLD-NEW", governorate="01", van="V009", issued_at=NOW)
    result = codes.verify(codes.seal(claims, van), trusted, now=NOW)
    assert (result.verdict, result.reason) == (Verdict.UNKNOWN_SIGNER, "signer-mismatch")


def test_code_signed_after_the_signer_certificate_expired_is_unknown_signer(ca):
    old = issuing.make_van_signer(ca, "V008", now=CA_MADE, days=30)
    listed = _trust_list(ca, old)
    claims = codes.make_claims("receipt", RECEIPT_NUMBER, "BLD-NEW", governorate="01", van="V008", issued_at=NOW)
    result = codes.verify(codes.seal(claims, old), listed, now=NOW)
    assert (result.verdict, result.reason) == (Verdict.UNKNOWN_SIGNER, "signer-not-valid-at-issue")
    with pytest.raises(trust.SignerError):
        codes.issue(old, "receipt", RECEIPT_NUMBER, "BLD-NEW", now=NOW)


def test_receipt_signed_while_the_certificate_was_valid_stays_valid_after_it_expires(ca):
    short = issuing.make_van_signer(ca, "V008", now=CA_MADE, days=400)
    code = codes.issue(short, "receipt", RECEIPT_NUMBER, "BLD-NEW", now=NOW)
    assert codes.verify(code, _trust_list(ca, short), now=CA_MADE + timedelta(days=800)).ok


def test_permit_without_expiry_is_refused(van):
    with pytest.raises(codes.InvalidClaims) as err:
        codes.issue(van, "permit", RECEIPT_NUMBER, "BLD-NEW", now=NOW)
    assert err.value.code == "code-claims-expiry" and err.value.message_ar


@pytest.mark.parametrize(
    "doc_type, number, service, error",
    [
        ("receipt", "007-261121-0001-4", "BLD-NEW", InvalidRequestNumber),
        ("ticket", "7A", "BLD", codes.InvalidClaims),
        ("receipt", RECEIPT_NUMBER, "bld new", codes.InvalidClaims),
        ("certificate", RECEIPT_NUMBER, "BLD-NEW", codes.InvalidClaims),
    ],
)
def test_bad_document_fields_are_refused_with_a_message_for_staff(van, doc_type, number, service, error):
    with pytest.raises(error) as err:
        codes.issue(van, doc_type, number, service, now=NOW)
    assert isinstance(err.value, EdgeError) and err.value.message_ar and err.value.message_en


def test_national_id_is_carried_only_as_a_short_salted_digest(van, trusted, receipt):
    claims = codes.verify(receipt, trusted, now=NOW).claims
    assert len(claims.nid_digest) == codes.NID_DIGEST_LENGTH
    cose = codes.unwrap(receipt)
    assert NATIONAL_ID.encode() not in cose and NATIONAL_ID[:7].encode() not in cose
    assert codes.national_id_matches(claims, NATIONAL_ID) is True
    assert codes.national_id_matches(claims, "2 900101 1234 568".replace(" ", "")) is False
    assert codes.national_id_matches(claims, "٢٩٠٠١٠١١٢٣٤٥٦٧") is True  # typed on an Arabic keypad
    with pytest.raises(InvalidNationalId):
        codes.national_id_matches(claims, "123")


def test_same_citizen_looks_different_on_each_document(van, trusted):
    a = codes.make_claims("receipt", RECEIPT_NUMBER, "BLD-NEW", governorate="01", van="V007", issued_at=NOW,
                          national_id=NATIONAL_ID)
    b = codes.make_claims("permit", RECEIPT_NUMBER, "BLD-NEW", governorate="01", van="V007", issued_at=NOW,
                          expires_at=NOW + timedelta(days=1), national_id=NATIONAL_ID)
    assert a.nid_digest != b.nid_digest


def test_code_without_national_id_answers_none(van, trusted):
    claims = codes.verify(_issue(van, "ticket"), trusted, now=NOW).claims
    assert claims.nid_digest is None and codes.national_id_matches(claims, NATIONAL_ID) is None


@pytest.mark.parametrize(
    "text",
    ["", "EG1:", "HC1:NCF", "007-261121-0001-5", "EG1:" + "A" * 5000, "EG1:0", "EG1:00", "eg1:NCF", "\x00"],
)
def test_junk_is_malformed_with_a_message_in_both_languages(trusted, text):
    result = codes.verify(text, trusted, now=NOW)
    assert result.verdict is Verdict.MALFORMED
    assert result.message_ar and result.message_en and result.claims is None


def test_non_text_input_is_malformed_not_an_exception(trusted):
    for junk in (None, b"EG1:", 42, ["EG1:"]):
        assert codes.verify(junk, trusted, now=NOW).verdict is Verdict.MALFORMED


def test_verify_wants_an_aware_clock(receipt, trusted):
    with pytest.raises(ValueError):
        codes.verify(receipt, trusted, now=datetime(2026, 11, 21, 8, 0))


def test_old_trust_list_still_verifies_but_says_it_is_stale(receipt, trusted):
    result = codes.verify(receipt, trusted, now=trusted.next_update + timedelta(seconds=1))
    assert result.ok and result.trust_list_stale and result.as_dict()["trust_list_stale"] is True
    assert not codes.verify(receipt, trusted, now=NOW).trust_list_stale


# --------------------------------------------------------------------------------------------------
# Fuzzing: never raises, never says valid for a changed code
# --------------------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(), st.text(alphabet=base45.ALPHABET).map(lambda t: codes.PREFIX + t)))
def test_verify_never_raises_on_arbitrary_text(trusted, text):
    result = codes.verify(text, trusted, now=NOW)
    assert result.verdict is not Verdict.VALID
    assert result.message_ar and result.message_en


_EDITS = st.tuples(
    st.sampled_from(["replace", "insert", "delete", "swap"]),
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from(base45.ALPHABET + "abcxyz\n\x00é٣"),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_EDITS, min_size=1, max_size=4))
def test_mutated_code_is_never_valid(receipt, trusted, edits):
    code = list(receipt)
    for op, at, char in edits:
        i = at % len(code) if code else 0
        if op == "replace" and code:
            code[i] = char
        elif op == "insert":
            code.insert(i, char)
        elif op == "delete" and code:
            del code[i]
        elif op == "swap" and len(code) > 1:
            j = (i + 1) % len(code)
            code[i], code[j] = code[j], code[i]
    mutated = "".join(code)
    result = codes.verify(mutated, trusted, now=NOW)
    if mutated != receipt and result.verdict is Verdict.VALID:
        # Deflate ignores the padding bits of its last byte, so a change confined to them decodes to the
        # very same signed message: the same document, not a forgery. Anything else must not verify.
        assert codes.unwrap(mutated) == codes.unwrap(receipt)


# --------------------------------------------------------------------------------------------------
# Trust list
# --------------------------------------------------------------------------------------------------


def test_trust_list_round_trips(ca, van, trusted):
    assert trusted.governorate == "01" and trusted.version == 1
    assert trusted.signers(van.kid) == (van.certificate,)
    assert not trusted.is_stale(NOW)


def test_trust_list_signed_by_another_ca_is_refused(ca, van):
    other_ca = issuing.make_ca("01", now=CA_MADE)
    blob = issuing.make_trust_list(other_ca, [van.certificate], now=NOW)
    with pytest.raises(trust.TrustListError) as err:
        trust.verify_list(blob, ca.certificate)
    assert err.value.code == "trust-list-wrong-ca" and err.value.message_ar


def test_tampered_trust_list_is_refused(ca, van):
    blob = issuing.make_trust_list(ca, [van.certificate], now=NOW)
    message = trust.parse_sign1(blob)
    payload = message.payload.replace(b"EG1-trust", b"EG1-trusT")
    tampered = cbor2.dumps(cbor2.CBORTag(18, [message.protected, {}, payload, message.signature]))
    with pytest.raises(trust.TrustListError) as err:
        trust.verify_list(tampered, ca.certificate)
    assert err.value.code == "trust-list-bad-signature"
    for junk in (b"", b"\x00" * 10, blob[:-1]):
        with pytest.raises(trust.TrustListError):
            trust.verify_list(junk, ca.certificate)


def test_trust_list_refuses_a_certificate_not_from_its_ca(ca, van):
    stranger = issuing.make_van_signer(issuing.make_ca("01", now=CA_MADE), "V010", now=CA_MADE)
    blob = issuing.make_trust_list(ca, [van.certificate, stranger.certificate], now=NOW)
    with pytest.raises(trust.TrustListError) as err:
        trust.verify_list(blob, ca.certificate)
    assert err.value.code == "trust-list-certificate"


def test_trust_list_must_be_for_its_cas_governorate(ca, van):
    blob = trust.sign_list(ca, version=1, governorate="21", issued_at=NOW, next_update=NOW + timedelta(days=7),
                           certificates=[van.certificate])
    with pytest.raises(trust.TrustListError) as err:
        trust.verify_list(blob, ca.certificate)
    assert err.value.code == "trust-list-governorate"


def test_signer_key_must_match_its_certificate(van, other_van):
    with pytest.raises(trust.SignerError):
        trust.Signer(other_van.key, van.certificate)


# --------------------------------------------------------------------------------------------------
# Published vectors
# --------------------------------------------------------------------------------------------------


def _vectors():
    return json.loads(VECTORS.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def vector_trust_list():
    data = _vectors()
    ca_cert = issuing.x509.load_pem_x509_certificate(data["ca_certificate_pem"].encode())
    return trust.verify_list(base64.b64decode(data["trust_list_base64"]), ca_cert)


@pytest.mark.parametrize("case", _vectors()["cases"], ids=lambda c: c["name"])
def test_published_vectors_verify_as_expected(vector_trust_list, case):
    result = codes.verify(case["code"], vector_trust_list, now=datetime.fromisoformat(case["now"]))
    assert (result.verdict.value, result.reason) == (case["verdict"], case["reason"])
    assert (result.claims.as_dict() if result.claims else None) == case["fields"]
    for check in case.get("national_id_checks", []):
        assert codes.national_id_matches(result.claims, check["national_id"]) is check["matches"]


def test_published_vectors_cover_every_verdict():
    assert {c["verdict"] for c in _vectors()["cases"]} == {v.value for v in Verdict}


def test_published_national_id_digest_is_reproducible():
    v = _vectors()["national_id_digest"]
    issued = datetime.fromtimestamp(v["issued_at"], UTC)
    digest = codes.national_id_digest(v["national_id"], DocumentType(v["type"]), v["number"], v["van"], issued)
    assert digest.hex() == v["digest_hex"]


# --------------------------------------------------------------------------------------------------
# Size on paper
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("doc_type", list(DocumentType))
def test_every_document_fits_a_small_qr_code_at_level_q(van, doc_type):
    # With the longest optional parts (national ID digest, expiry): docs/codes.md quotes these sizes.
    code = _issue(van, doc_type, national_id=NATIONAL_ID, expires_at=NOW + timedelta(days=365))
    assert codes.qr_error_level(code) == "Q"
    assert codes.qr_version(code) <= 11


def test_qr_version_table_agrees_with_the_qr_library():
    import qrcode
    import qrcode.constants

    for length in (1, 16, 17, 189, 190, 221, 222, 300, 426, 427, 600, 601, 2000):
        code = "EG1:" + "A" * (length - 4) if length > 4 else "A" * length
        level = codes.qr_error_level(code)
        qr = qrcode.QRCode(error_correction=getattr(qrcode.constants, f"ERROR_CORRECT_{level}"))
        qr.add_data(code, optimize=0)
        qr.make(fit=True)
        assert qr.version == codes.qr_version(code), length
    assert codes.qr_error_level("A" * 426) == "Q" and codes.qr_error_level("A" * 427) == "M"


# --------------------------------------------------------------------------------------------------
# The ``edge codes`` command
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path, monkeypatch):
    from edge.cli import _Context
    from edge.cli_codes import codes as codes_group

    monkeypatch.setenv("EDGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("EDGE_CONFIG", raising=False)
    monkeypatch.setattr("edge.config.DEFAULT_PATH", tmp_path / "absent.toml")
    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(codes_group, [str(a) for a in args], obj=_Context(None), input=input)

    return run


def test_cli_dev_keys_issue_and_verify(cli, tmp_path):
    made = cli("dev-keys")
    assert made.exit_code == 0, made.output
    issued = cli("issue", "--type", "receipt", "--number", RECEIPT_NUMBER, "--service", "BLD-NEW",
                 "--national-id", NATIONAL_ID)
    assert issued.exit_code == 0, issued.output
    code = issued.output.strip()
    checked = cli("verify", code, "--national-id", NATIONAL_ID)
    assert checked.exit_code == 0, checked.output
    line = json.loads(checked.output)
    assert line["verdict"] == "valid" and line["fields"]["number"] == RECEIPT_NUMBER
    assert line["national_id_matches"] is True and line["fields"]["van"] == "V001"
    wrong_person = cli("verify", code, "--national-id", "29001011234568")
    assert wrong_person.exit_code == 1 and json.loads(wrong_person.output)["national_id_matches"] is False
    from_stdin = cli("verify", "-", input=code + "\r\n")
    assert from_stdin.exit_code == 0 and json.loads(from_stdin.output)["verdict"] == "valid"
    again = cli("dev-keys")
    assert again.exit_code != 0 and "--force" in again.output


def test_cli_verify_exits_non_zero_with_the_verdict_for_a_bad_code(cli):
    cli("dev-keys")
    code = cli("issue", "--type", "ticket", "--number", "A001", "--service", "BLD").output.strip()
    cose = codes.unwrap(code)
    message = trust.parse_sign1(cose)
    tampered = _rebuild(code, payload=_flip(message.payload, 5))
    for bad, verdict in ((tampered, "bad-signature"), ("EG1:HELLO", "malformed")):
        result = cli("verify", bad)
        assert result.exit_code == 1
        assert json.loads(result.output.strip().splitlines()[-1])["verdict"] == verdict


def test_cli_permit_is_valid_through_its_last_day_in_cairo(cli):
    cli("dev-keys")  # keys are made on the real clock, so this test issues on it too
    last_day = datetime.now(UTC).date() + timedelta(days=30)
    issued = cli("issue", "--type", "permit", "--number", RECEIPT_NUMBER, "--service", "BLD-NEW",
                 "--expires", last_day.isoformat())
    assert issued.exit_code == 0, issued.output
    code = issued.output.strip()
    on_the_day = cli("verify", code, "--at", f"{last_day}T23:59:59")  # naive: Cairo time
    assert on_the_day.exit_code == 0, on_the_day.output
    next_day = cli("verify", code, "--at", f"{last_day + timedelta(days=1)}T00:00:00+02:00")
    assert next_day.exit_code == 1 and json.loads(next_day.output)["verdict"] == "expired"
    no_expiry = cli("issue", "--type", "permit", "--number", RECEIPT_NUMBER, "--service", "BLD-NEW")
    assert no_expiry.exit_code != 0 and isinstance(no_expiry.exception, codes.InvalidClaims)


def test_cli_make_trust_list_revokes_a_receipt(cli, tmp_path):
    cli("dev-keys")
    code = cli("issue", "--type", "receipt", "--number", RECEIPT_NUMBER, "--service", "BLD-NEW").output.strip()
    made = cli("make-trust-list", "--version", "2", "--revoke", "receipt:00726112100015")
    assert made.exit_code == 0, made.output
    result = cli("verify", code)
    assert result.exit_code == 1 and json.loads(result.output)["verdict"] == "revoked"
    bad = cli("make-trust-list", "--version", "3", "--revoke", "ticket:A001")
    assert bad.exit_code != 0


def test_cli_png_scans_back_to_a_valid_code(cli, tmp_path):
    import zxingcpp
    from PIL import Image

    cli("dev-keys")
    png = tmp_path / "receipt.png"
    issued = cli("issue", "--type", "receipt", "--number", RECEIPT_NUMBER, "--service", "BLD-NEW",
                 "--national-id", NATIONAL_ID, "--png", png)
    assert issued.exit_code == 0, issued.output
    code = issued.output.splitlines()[0]
    found = zxingcpp.read_barcodes(Image.open(png))
    assert [b.text for b in found] == [code]
    assert cli("verify", found[0].text).exit_code == 0


def test_cli_missing_keys_say_how_to_make_them(cli):
    result = cli("verify", "EG1:ABC")
    assert isinstance(result.exception, keys.KeyFileError)
    assert "dev-keys" in result.exception.message_en

"""One certificate profile (edge/core/issuing.py) for the real CA folder and development keys; one van-id
pattern (edge/core/vans.py) for settings, request numbers, certificates and provisioning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from common import keys
from edge.core import issuing, trust
from edge.core.requests import InvalidVanId, van_number
from edge.core.vans import VAN_ID
from provisioning import pki
from provisioning.checks import ProvisioningError, check_van
from provisioning.cli import main as provision

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _extensions(cert) -> dict:
    return {type(e.value).__name__: (e.critical, e.value) for e in cert.extensions
            if type(e.value).__name__ not in ("SubjectKeyIdentifier", "AuthorityKeyIdentifier")}


def test_the_real_ca_and_a_development_ca_follow_one_profile(tmp_path):
    result = CliRunner().invoke(provision, ["governorate", "init", "21", "--out", str(tmp_path / "ca"),
                                            "--broker-host", "localhost"])
    assert result.exit_code == 0, result.output
    real = pki.Authority(tmp_path / "ca")
    dev = keys.make_dev_keys(tmp_path / "dev", governorate="21", van="V007", now=NOW)
    assert _extensions(real.ca.certificate) == _extensions(dev.ca.certificate)
    assert [a.oid for a in real.ca.certificate.subject] == [a.oid for a in dev.ca.certificate.subject]
    _, real_signer = real.issue_van("V007", now=NOW)
    assert _extensions(real_signer.certificate) == _extensions(dev.signer.certificate)
    assert trust.identity(real_signer.certificate) == trust.identity(dev.signer.certificate) == ("21", "V007")


def test_the_ca_folder_keeps_its_validity_a_day_before_to_ten_years_after(tmp_path):
    ca = pki.make_ca("21", now=NOW)
    assert ca.certificate.not_valid_before_utc == NOW - pki.BACKDATE
    assert ca.certificate.not_valid_after_utc == NOW + timedelta(days=issuing.CA_DAYS)
    assert trust.identity(ca.certificate) == ("21", "MTC governorate CA 21")


def test_development_keys_are_written_under_the_van_file_names(tmp_path):
    keys.make_dev_keys(tmp_path, governorate="01", van="V007", now=NOW)
    names = {trust.CA_KEY_FILE, trust.CA_CERT_FILE, trust.SIGNER_KEY_FILE, trust.SIGNER_CERT_FILE,
             trust.TRUST_LIST_FILE}
    assert {p.name for p in tmp_path.iterdir()} == names
    signer = keys.load_signer(tmp_path / trust.SIGNER_KEY_FILE, tmp_path / trust.SIGNER_CERT_FILE)
    listed = keys.load_trust_list(tmp_path / trust.TRUST_LIST_FILE, tmp_path / trust.CA_CERT_FILE)
    assert listed.signers(trust.kid(signer.certificate)) == (signer.certificate,)


@pytest.mark.parametrize("van", ["V001", "V007", "V999"])
def test_a_van_id_is_v_and_three_ascii_digits(van):
    assert VAN_ID.fullmatch(van) and check_van(van) == van and van_number(van) == int(van[1:])


@pytest.mark.parametrize("van", ["V07", "V0007", "v007", "V007\n", "V٠٠٧", " V007", "007"])
def test_anything_else_is_refused_everywhere(van):
    assert not VAN_ID.fullmatch(van)
    with pytest.raises(ProvisioningError):
        check_van(van)
    with pytest.raises(InvalidVanId):
        van_number(van)

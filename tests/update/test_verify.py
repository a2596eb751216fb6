"""The van refuses what TUF exists to refuse (issue 20's acceptance): a release signed by an unknown key,
an older release offered again (rollback), stale metadata (freeze), a tampered wheel — and in each case
nothing is copied for installing and what the van trusts does not move."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tuf.api import exceptions

from edge.update.errors import UpdateError
from edge.update.fetch import FolderFetcher
from provisioning import release as release_mod
from provisioning import tuf_repo
from tests.update.support import make_release, signed_release


def _trusted_versions(van) -> dict:
    out = {}
    for role in ("timestamp", "snapshot", "targets"):
        p = van.trusted / f"{role}.json"
        out[role] = json.loads(p.read_text())["signed"]["version"] if p.exists() else None
    return out


def _refused(van, source, code):
    before = _trusted_versions(van)
    with pytest.raises(UpdateError) as err:
        van.verify(source, "refused")
    assert err.value.code == code, err.value
    assert err.value.message_ar and err.value.message_en and "keeps running" in err.value.message_en
    assert not (van.root / "update/verified/refused").exists()
    assert not list((van.root / "update/verified").glob(".*partial"))
    after = _trusted_versions(van)
    # What ngclient keeps is only metadata that verified: the versions never go down, and refused
    # metadata never becomes the targets the van trusts (a tampered file is a file, not metadata).
    if code in ("update-untrusted", "update-rollback", "update-frozen"):
        assert after["targets"] == before["targets"]
    assert all(after[r] is None and before[r] is None or (after[r] or 0) >= (before[r] or 0) for r in after)
    return err.value


def test_a_signed_release_verifies_and_is_copied_whole(tmp_path, keys, van):
    rel = signed_release(tmp_path / "r", "0.2.0", keys)
    v = van.verify(tmp_path / "r")
    assert v.version == "0.2.0" and v.identity == rel.digest and v.targets_version == 1
    for name, digest in rel.manifest["files"].items():
        assert release_mod._sha256(v.folder / name) == digest
    assert (v.folder / "release.json").read_bytes() == (tmp_path / "r/release.json").read_bytes()
    assert not (v.folder / "tuf").exists()
    assert _trusted_versions(van) == {"timestamp": 1, "snapshot": 1, "targets": 1}


def test_attack_unknown_signing_key(tmp_path, keys, van):
    """An attacker's own keys folder: a complete, well-formed TUF repository the van's root never named."""
    tuf_repo.make_keys(tmp_path / "attacker")
    signed_release(tmp_path / "evil", "9.9.9", tmp_path / "attacker")
    _refused(van, tmp_path / "evil", "update-untrusted")
    # The attacker keeps the governorate's root.json but signs targets with his own key.
    signed_release(tmp_path / "good", "0.2.0", keys)
    shutil.copy(tmp_path / "evil/tuf/targets.json", tmp_path / "good/tuf/targets.json")
    _refused(van, tmp_path / "good", "update-untrusted")


def test_attack_rollback_an_older_release_offered_again(tmp_path, keys, van):
    signed_release(tmp_path / "r1", "0.2.0", keys)  # signed first: lower versions
    signed_release(tmp_path / "r2", "0.3.0", keys)
    assert van.verify(tmp_path / "r2", "r2").version == "0.3.0"
    err = _refused(van, tmp_path / "r1", "update-rollback")
    assert "older" in err.message_en
    # Mix and match, to a van that never saw r2: r1's targets under r2's timestamp and snapshot
    # (snapshot names targets v2) is refused too.
    shutil.copy(tmp_path / "r1/tuf/targets.json", tmp_path / "r2/tuf/targets.json")
    fresh = type(van)(tmp_path / "fresh-van")
    fresh.root.mkdir()
    fresh.anchor.write_bytes(van.anchor.read_bytes())
    _refused(fresh, tmp_path / "r2", "update-rollback")


def test_attack_freeze_stale_timestamp(tmp_path, keys, van):
    signed_release(tmp_path / "r", "0.2.0", keys, now=datetime.now(UTC) - timedelta(days=8))
    _refused(van, tmp_path / "r", "update-frozen")  # the timestamp lives 7 days


def test_attack_tampered_wheel(tmp_path, keys, van):
    rel = signed_release(tmp_path / "r", "0.2.0", keys)
    wheel = rel.project_wheel
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 0x01
    wheel.write_bytes(bytes(data))
    _refused(van, tmp_path / "r", "update-tampered")
    # Same length, and release.json re-sealed over the new wheel: TUF's signed hash still says no.
    release_mod.seal(tmp_path / "r", project_wheel=wheel, lock_sha256="0" * 64)
    shutil.copytree(tmp_path / "r", tmp_path / "r-resealed")
    signed = tmp_path / "r-resealed/tuf"
    signed.mkdir(exist_ok=True)
    for p in (tmp_path / "keys/metadata").glob("*.json"):
        shutil.copy(p, signed / p.name)  # the signed metadata as it was
    _refused(van, tmp_path / "r-resealed", "update-tampered")


def test_a_missing_file_is_refused_and_the_same_release_later_verifies(tmp_path, keys, van):
    rel = signed_release(tmp_path / "r", "0.2.0", keys)
    kept = rel.project_wheel.read_bytes()
    rel.project_wheel.unlink()  # a transfer that stopped half way
    with pytest.raises(UpdateError) as err:
        van.verify(tmp_path / "r", "x")
    assert err.value.code == "update-missing"
    rel.project_wheel.write_bytes(kept)
    assert van.verify(tmp_path / "r", "x").version == "0.2.0"


def test_without_its_anchor_a_van_verifies_nothing(tmp_path, keys, van):
    signed_release(tmp_path / "r", "0.2.0", keys)
    van.anchor.unlink()
    with pytest.raises(UpdateError) as err:
        van.verify(tmp_path / "r")
    assert err.value.code == "update-no-anchor" and "جذر" in err.value.message_ar


def test_an_unsigned_release_is_refused(tmp_path, keys, van):
    make_release(tmp_path / "r", "0.2.0")
    _refused(van, tmp_path / "r", "update-missing")


@settings(max_examples=200, deadline=None)
@given(path=st.lists(st.sampled_from(list("ab./\\%2e~") + ["..", "%2f", "%2e%2e", "tuf"]), max_size=12).map("".join))
def test_the_folder_fetcher_never_serves_a_file_outside_its_folder(tmp_path_factory, path):
    base = tmp_path_factory.mktemp("f")
    (base / "inside").mkdir()
    (base / "secret").write_text("not for the van")
    fetcher = FolderFetcher(base / "inside")
    try:
        served = fetcher.path_of(f"release:/{path}")
    except exceptions.DownloadHTTPError as exc:
        assert exc.status_code == 404
        return
    assert served.resolve().is_relative_to((base / "inside").resolve())

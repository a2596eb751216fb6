"""provision release keys / build --keys / rotate / timestamp: the governorate's side of TUF (docs/updates.md)."""

from __future__ import annotations

import json
import shutil
import stat
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from tuf.api.metadata import Metadata

from edge.update.errors import UpdateError
from provisioning import cli, tuf_repo
from tests.update.support import make_release, signed_release


def _version(path) -> int:
    return json.loads(path.read_text())["signed"]["version"]


def test_keys_make_four_roles_with_the_root_key_apart_and_private(tmp_path):
    result = CliRunner().invoke(cli.main, ["release", "keys", str(tmp_path / "k")])
    assert result.exit_code == 0, result.output
    k = tmp_path / "k"
    for path in (k / "offline/root-key.pem", *(k / f"online/{r}-key.pem" for r in tuf_repo.ONLINE)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    root = Metadata.from_file(str(k / "metadata/root.json")).signed
    assert set(root.roles) == set(tuf_repo.ROLES)
    assert len({root.roles[r].keyids[0] for r in tuf_repo.ROLES}) == 4  # one key per role, none shared
    assert "1.root.json" in {p.name for p in (k / "metadata").iterdir()}
    again = CliRunner().invoke(cli.main, ["release", "keys", str(k)])  # never overwrite a governorate's keys
    assert again.exit_code == 1 and "already holds signing keys" in again.output and "يحتوي مفاتيح" in again.output


def test_each_signing_takes_higher_versions_and_each_role_its_own_expiry(tmp_path, keys):
    now = datetime(2026, 12, 5, tzinfo=UTC)
    signed_release(tmp_path / "r1", "0.2.0", keys, now=now)
    signed_release(tmp_path / "r2", "0.3.0", keys, now=now)
    for role in ("targets", "snapshot", "timestamp"):
        assert _version(tmp_path / "r1/tuf" / f"{role}.json") == 1
        assert _version(tmp_path / "r2/tuf" / f"{role}.json") == 2
    for role, days in tuf_repo.EXPIRY_DAYS.items():
        if role == "root":
            continue  # signed once, by ``keys``
        md = Metadata.from_file(str(tmp_path / "r2/tuf" / f"{role}.json"))
        assert md.signed.expires == now + timedelta(days=days), role
    targets = Metadata.from_file(str(tmp_path / "r2/tuf/targets.json")).signed.targets
    assert set(targets) == {"release.json", "requirements.txt", "systemd/edge.target",
                            "wheels/mtc_edge-0.3.0-py3-none-any.whl"}
    assert targets["release.json"].unrecognized_fields["custom"]["version"] == "0.3.0"


def test_building_with_a_wrong_keys_folder_signs_nothing(tmp_path):
    (tmp_path / "notkeys").mkdir()
    result = CliRunner().invoke(cli.main, ["release", "build", str(tmp_path / "out"), "--keys",
                                           str(tmp_path / "notkeys")])
    assert result.exit_code == 1 and "not a keys folder" in result.output and "ليس مجلد مفاتيح" in result.output
    assert not (tmp_path / "out").exists()  # refused before the long build


def test_a_damaged_release_is_not_signed(tmp_path, keys):
    make_release(tmp_path / "r", "0.2.0")
    (tmp_path / "r/requirements.txt").write_text("evil==1\n")
    with pytest.raises(tuf_repo.release_mod.ReleaseError):
        tuf_repo.sign_release(tmp_path / "r", keys)
    assert not (tmp_path / "r/tuf").exists() and not (keys / "metadata/targets.json").exists()


def test_rotating_the_targets_key_vans_follow_and_the_old_key_is_refused(tmp_path, keys, van):
    signed_release(tmp_path / "r1", "0.2.0", keys)
    van.verify(tmp_path / "r1", "r1")
    stolen = tmp_path / "stolen-keys"  # a thief copies the online keys (and the metadata) before the rotation
    shutil.copytree(keys, stolen)
    result = CliRunner().invoke(cli.main, ["release", "rotate", "targets", "--keys", str(keys)])
    assert result.exit_code == 0, result.output
    assert (keys / "metadata/2.root.json").exists()
    signed_release(tmp_path / "r2", "0.3.0", keys)
    assert van.verify(tmp_path / "r2", "r2").version == "0.3.0"  # walked root 1 → 2
    assert van.trusted.joinpath("root_history/2.root.json").exists()
    # The thief signs a release with the old targets key (and the still valid snapshot/timestamp keys),
    # with versions above the van's: the van, on root 2, refuses the old targets key.
    signed_release(tmp_path / "x1", "6.6.5", stolen)
    signed_release(tmp_path / "x2", "6.6.6", stolen)
    with pytest.raises(UpdateError) as err:
        van.verify(tmp_path / "x2", "x2")
    assert err.value.code == "update-untrusted"
    # … and our own tool refuses to sign with a key root no longer names.
    (keys / "online/targets-key.pem").write_bytes((stolen / "online/targets-key.pem").read_bytes())
    with pytest.raises(tuf_repo.SigningError):
        signed_release(tmp_path / "r3", "0.4.0", keys)


def test_rotating_the_root_key_signs_with_old_and_new(tmp_path, keys, van):
    offline = tmp_path / "usb-root-key.pem"
    offline.write_bytes((keys / "offline/root-key.pem").read_bytes())
    (keys / "offline/root-key.pem").unlink()  # kept offline, as the docs say
    md = tuf_repo.rotate(keys, "root", root_key=offline)
    assert md.signed.version == 2 and len(md.signatures) == 2
    signed_release(tmp_path / "r", "0.2.0", keys)
    assert van.verify(tmp_path / "r").version == "0.2.0"


def test_refreshing_the_timestamp_unfreezes_a_release(tmp_path, keys, van):
    ten_days_ago = datetime.now(UTC) - timedelta(days=10)
    signed_release(tmp_path / "r", "0.2.0", keys, now=ten_days_ago)
    with pytest.raises(UpdateError) as err:
        van.verify(tmp_path / "r")
    assert err.value.code == "update-frozen"
    result = CliRunner().invoke(cli.main, ["release", "timestamp", str(tmp_path / "r"), "--keys", str(keys)])
    assert result.exit_code == 0, result.output
    assert van.verify(tmp_path / "r").version == "0.2.0"

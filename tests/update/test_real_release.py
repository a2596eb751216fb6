"""The real van release (``make release``: 51 locked packages and the project's wheel) signed, verified,
installed beside nothing else, switched to, and its real ``edge`` answering — the same path the small
releases of the other tests take, with the real software."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from edge.update import install as install_mod
from edge.update import verify as verify_mod
from provisioning import release as release_mod
from provisioning import tuf_repo
from tests.support.paths import ROOT

RELEASE = Path(os.environ.get("MTC_RELEASE_DIR", ROOT / "var" / "release" / "van"))


@pytest.mark.slow
def test_the_real_release_is_signed_verified_installed_beside_and_runs(tmp_path, keys):
    assert (RELEASE / release_mod.MANIFEST).is_file(), f"no van release in {RELEASE}: make release"
    folder = tmp_path / "release"
    shutil.copytree(RELEASE, folder, ignore=shutil.ignore_patterns(release_mod.TUF_DIR))
    signed = tuf_repo.sign_release(folder, keys)
    assert signed.targets == len(release_mod.read(folder).manifest["files"]) + 1
    anchor = keys / "metadata" / "1.root.json"
    verified = verify_mod.verify(folder, anchor=anchor, trusted_dir=tmp_path / "data/update/trusted",
                                 dest=tmp_path / "data/update/verified/x")
    up = install_mod.Updater(install_mod.Layout(tmp_path / "opt", tmp_path / "state"),
                             health=install_mod.Health(deadline_s=120), seed_pip=False)
    with up:
        vid = up.install(verified)
        assert up.switch(vid)
    edge = tmp_path / "opt" / "current" / "venv" / "bin" / "edge"
    done = subprocess.run([str(edge), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and verified.version in done.stdout
    # The installed version is the release's lock, exactly: its packages and no others.
    listed = subprocess.run([str(edge.parent / "python"), "-c",
                             "import importlib.metadata as m; print('\\n'.join(sorted("
                             "d.metadata['Name'] + '==' + d.version for d in m.distributions())))"],
                            capture_output=True, text=True, timeout=60).stdout.split()
    installed = {release_mod.normalise(n): v for n, v in (x.split("==") for x in listed)}
    expected = dict(release_mod.read(folder).pins())
    expected[release_mod.normalise(release_mod.PROJECT)] = verified.version
    assert installed == expected
    # The real edge of the new version works on a van's data dir.
    env = {**os.environ, "EDGE_DATA_DIR": str(tmp_path / "vandata")}
    env.pop("EDGE_CONFIG", None)
    migrate = subprocess.run([str(edge), "db", "migrate"], capture_output=True, text=True, env=env, timeout=120)
    assert migrate.returncode == 0, migrate.stderr

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from edge.update import verify as verify_mod
from provisioning import tuf_repo


@dataclass
class Van:
    """What a van keeps for updates: the anchor it was installed with, what it has trusted since."""

    root: Path

    @property
    def anchor(self) -> Path:
        return self.root / "anchor-root.json"

    @property
    def trusted(self) -> Path:
        return self.root / "update" / "trusted"

    def verify(self, source: Path, name: str = "candidate") -> verify_mod.Verified:
        return verify_mod.verify(source, anchor=self.anchor, trusted_dir=self.trusted,
                                 dest=self.root / "update" / "verified" / name)


@pytest.fixture
def keys(tmp_path) -> Path:
    tuf_repo.make_keys(tmp_path / "keys")
    return tmp_path / "keys"


@pytest.fixture
def van(tmp_path, keys) -> Van:
    v = Van(tmp_path / "van")
    v.root.mkdir()
    v.anchor.write_bytes((keys / "metadata" / "1.root.json").read_bytes())
    return v

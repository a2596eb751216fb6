"""The layer arrows of ARCHITECTURE.md point down only: checked on the import statements of every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> project modules it may import (prefixes); its own package is always allowed.
ALLOWED = {
    "edge.core": (),
    "edge.store": ("edge.core",),
    "edge.devices": ("edge.core",),
    "edge.watch": ("edge.core", "edge.store", "edge.devices", "edge.config"),
    "edge.sync": ("edge.core", "edge.store", "edge.config"),
    "edge.web": ("edge.core", "edge.store", "edge.devices", "edge.config"),
    "governorate": ("edge.core", "edge.sync.protocol", "edge.sync.schema", "edge.sync.chunks"),
    "provisioning": ("edge.core",),
}
PROJECT = ("edge", "governorate", "provisioning")


def _modules(package: str):
    folder = ROOT.joinpath(*package.split("."))
    return sorted(folder.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # "from edge.sync import protocol" imports edge.sync.protocol, not the whole package
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return {n for n in names if n.split(".")[0] in PROJECT}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_the_layers_below_it(package):
    allowed = (package, *ALLOWED[package])
    offending = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules(package)
        for name in _imports(path)
        if not any(name == a or name.startswith(a + ".") for a in allowed)
    }
    assert not offending, sorted(offending)


def test_sync_protocol_stays_importable_by_the_hub():
    # governorate/ may import the protocol; the protocol must then not pull in the van's store.
    for name in ("protocol", "schema", "chunks"):
        imports = _imports(ROOT / "edge" / "sync" / f"{name}.py")
        assert not any(i.startswith("edge.store") for i in imports), (name, imports)

"""The layer arrows of ARCHITECTURE.md point down only: checked on the import statements of every module."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> project modules it may import (prefixes); its own package is always allowed.
ALLOWED = {
    "common": ("edge.core",),
    "edge.core": (),
    "edge.store": ("edge.core", "common.transaction"),
    "edge.devices": ("edge.core",),
    "edge.watch": ("edge.core", "edge.store", "edge.devices", "edge.config"),
    "edge.sync": ("edge.core", "edge.store", "edge.config"),
    "edge.web": ("edge.core", "edge.store", "edge.devices", "edge.config", "common"),
    "governorate": ("edge.core", "edge.sync.protocol", "edge.sync.schema", "edge.sync.chunks", "common"),
    "provisioning": ("edge.core", "common"),
}
PROJECT = ("edge", "governorate", "provisioning", "common")


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


def test_no_van_module_imports_the_provisioning_tool():
    # edge/*.py (the commands, config, runner) too: the van never depends on the governorate's tool.
    offending = {f"{path.relative_to(ROOT)} imports {name}" for path in _modules("edge") for name in _imports(path)
                 if name.split(".")[0] == "provisioning"}
    assert not offending, sorted(offending)


def test_sync_protocol_stays_importable_by_the_hub():
    # governorate/ may import the protocol; the protocol must then not pull in the van's store.
    for name in ("protocol", "schema", "chunks"):
        imports = _imports(ROOT / "edge" / "sync" / f"{name}.py")
        assert not any(i.startswith("edge.store") for i in imports), (name, imports)


# --------------------------------------------------------------------------------------------------
# Third-party imports per role: the hub's install (the "hub" extra) must carry all the hub imports.
# --------------------------------------------------------------------------------------------------


def _third_party_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in PROJECT and n != "__future__"}


def _module_file(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _closure(package: str) -> tuple[set[Path], set[str]]:
    """Every project file ``package`` reaches through its imports, and the third-party modules they import."""
    todo = list(_modules(package))
    seen: set[Path] = set()
    third: set[str] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        third |= _third_party_imports(path)
        for name in _imports(path):
            # "from edge.sync import protocol" may name a module or an attribute: take what exists,
            # and the packages it passes through (their __init__ runs too).
            parts = name.split(".")
            for i in range(1, len(parts) + 1):
                found = _module_file(".".join(parts[:i]))
                if found and found not in seen:
                    todo.append(found)
    return seen, third


def test_the_hub_imports_nothing_that_only_the_van_install_brings():
    from importlib.metadata import packages_distributions

    from test_install_roles import _locked

    files, modules = _closure("governorate")
    assert any("edge/core" in str(f) for f in files), "the closure should reach edge.core"
    hub = set(_locked("hub"))
    van_only = set(_locked("van")) - hub
    dists = packages_distributions()
    normal = {m: {d.lower().replace("_", "-") for d in dists.get(m, [])} for m in modules}
    unknown = sorted(m for m, d in normal.items() if not d)
    assert not unknown, f"imports of no installed distribution: {unknown}"
    wrong = sorted(f"{m} ({', '.join(sorted(d))})" for m, d in normal.items() if d & van_only or not d & hub)
    assert not wrong, f"governorate/ needs what only the van's install brings: {wrong}"

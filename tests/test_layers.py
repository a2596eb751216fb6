"""The layer arrows of ARCHITECTURE.md point down only, and no import cycle anywhere: checked on the import
statements of every module of edge/, governorate/ and provisioning/ (also those inside functions)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

VAN = ("common", "edge.core", "edge.store", "edge.devices", "edge.services", "edge.sync", "edge.web", "edge.config",
       "edge.update", "edge.runner", "edge.cli", "edge.cli_codes", "edge.cli_operators")
# package or module -> project modules it may import (prefixes); its own package is always allowed.
# Every module of the project falls under one key (test_every_module_is_under_a_layer).
ALLOWED = {
    "edge": (),  # the package's own __init__
    "common": ("edge.core",),
    "edge.core": (),
    "edge.store": ("edge.core", "common.transaction"),
    "edge.devices": ("edge.core",),
    # The settings read the light scheme table of the devices (not their packages) to refuse lpt://.
    "edge.config": ("edge.core", "edge.devices.kinds", "edge.devices.urls"),
    "edge.services": ("edge.core", "edge.store", "edge.devices", "edge.config"),
    "edge.sync": ("edge.core", "edge.store", "edge.config"),
    "edge.web": ("edge.core", "edge.store", "edge.services", "edge.config", "common"),
    # Software updates (issue 20): verify, install beside, switch, roll back; chunks shaped like documents' chunks.
    "edge.update": ("edge.core", "edge.store", "edge.config", "edge.sync.chunks", "edge.sync.schema"),
    "edge.runner": VAN,
    "edge.cli": VAN,
    "edge.cli_codes": VAN,
    "edge.cli_operators": VAN,
    "governorate": ("edge.core", "edge.sync.protocol", "edge.sync.schema", "edge.sync.chunks", "common"),
    # The first install of a van's software is made by the updater (versions/<id> + current), as an update is; the
    # hub's install checks its settings file as the hub reads it (governorate.settings needs only edge.core).
    "provisioning": ("edge.core", "common", "edge.update", "governorate.settings"),
}
PROJECT = ("edge", "governorate", "provisioning", "common")


def _modules(package: str, root: Path = ROOT):
    base = root.joinpath(*package.split("."))
    if base.with_suffix(".py").is_file():
        return [base.with_suffix(".py")]
    return sorted(base.rglob("*.py"))


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, project=PROJECT) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # "from edge.sync import protocol" imports edge.sync.protocol, not the whole package
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return {n for n in names if n.split(".")[0] in project}


def import_graph(root: Path = ROOT, project=PROJECT) -> dict[str, set[str]]:
    """module -> the project modules it imports (each import resolved to the deepest module that exists:
    ``from edge.devices.scanner import ScannerError`` is an arrow to ``edge.devices.scanner``).

    ``from pkg import sub`` is also an arrow to ``pkg``: it runs ``pkg/__init__`` first, so a submodule
    that imports a sibling that way while the package's ``__init__`` imports the submodule is a cycle
    (write ``import pkg.sub as sub`` instead)."""
    files = {_module_name(p, root): p for top in project for p in sorted((root / top).rglob("*.py"))}
    graph = {}
    for name, path in files.items():
        targets = set()
        for imported in _imports(path, project) | _from_packages(path, project):
            parts = imported.split(".")
            for i in range(len(parts), 0, -1):
                if ".".join(parts[:i]) in files:
                    targets.add(".".join(parts[:i]))
                    break
        graph[name] = targets - {name}
    return graph


def _from_packages(path: Path, project=PROJECT) -> set[str]:
    """The ``pkg`` of every ``from pkg import …`` (its ``__init__`` runs before anything is taken from it)."""
    return {node.module for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
            and node.module.split(".")[0] in project}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles: strongly connected components of more than one module (Tarjan)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(v: str) -> None:
        work = [(v, iter(sorted(graph.get(v, ()))))]
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        while work:
            node, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def _layer(module: str) -> str | None:
    keys = [k for k in ALLOWED if module == k or module.startswith(k + ".")]
    return max(keys, key=len) if keys else None


def test_every_module_is_under_a_layer():
    orphans = sorted(m for m in import_graph() if _layer(m) is None)
    assert not orphans, f"modules no layer rule covers (add them to ALLOWED and the docs' layer table): {orphans}"


def test_no_import_cycle_anywhere():
    found = cycles(import_graph())
    assert not found, "import cycles (each held open only by an import inside a function):\n" + "\n".join(
        " ↔ ".join(c) for c in found)


def test_the_cycle_check_finds_a_cycle_and_an_upward_arrow(tmp_path):
    # The test of the test: a tiny project with a cycle through a function-level import, and a layer
    # that imports upwards, is caught by the same functions the real checks use.
    pkg = tmp_path / "proj"
    (pkg / "low").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "low" / "__init__.py").write_text("")
    (pkg / "low" / "a.py").write_text("from proj.low import b\n")
    (pkg / "low" / "b.py").write_text("def f():\n    from proj.low.a import thing\n")
    (pkg / "high.py").write_text("import proj.low.a\n")
    (pkg / "mid").mkdir()
    (pkg / "mid" / "__init__.py").write_text("from proj.mid import x\n")  # a package importing its submodule
    (pkg / "mid" / "x.py").write_text("from proj.mid import y\n")  # … which takes a sibling from the package
    (pkg / "mid" / "y.py").write_text("")
    (pkg / "low" / "c.py").write_text("from proj import high\n")
    graph = import_graph(tmp_path, ("proj",))
    assert cycles(graph) == [["proj.low.a", "proj.low.b"], ["proj.mid", "proj.mid.x"]]
    assert "proj.high" in graph["proj.low.c"]  # an upward arrow: low imports high
    assert not cycles({"x": {"y"}, "y": set()})


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_the_layers_below_it(package):
    allowed = (package, *ALLOWED[package])
    offending = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules(package)
        if _layer(_module_name(path)) == package  # edge.cli_codes is its own layer, not edge.cli's
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

    from tests.provisioning.test_install_roles import _locked

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

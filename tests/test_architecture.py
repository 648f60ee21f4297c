"""The shape of the code, checked: small modules, and imports that point one
way between catlearn's layers (docs/design.md, "Layout").

The import graph is read from the source with :mod:`ast` (every ``import``,
also inside functions and under ``TYPE_CHECKING``), so it shows what a module
reaches for, not only what it happens to load first. A *unit* is a subpackage
of catlearn (``diagrams``, ``functors``, ...), a top-level module (``io``,
``logic``, ...) or the package root ``catlearn/__init__.py`` (``catlearn``).
"""

from __future__ import annotations

import ast
import importlib.util
import pathlib
from collections import defaultdict
from functools import cache

# the package under test, found without importing it
_SPEC = importlib.util.find_spec("catlearn")
assert _SPEC is not None and _SPEC.submodule_search_locations
ROOT = pathlib.Path(list(_SPEC.submodule_search_locations)[0]).resolve()
MAX_LINES = 400

# Top-level private helpers any unit may import: leaf modules that import no
# catlearn unit but each other (checked below), so importing them makes no
# cycle. Anything else private is private to its own unit.
HELPERS = frozenset({"_errors", "_zipfile", "_atomic", "_codec", "_version"})

# The bottom layer, backends (array kernels), takes only the errors: it knows
# nothing of diagrams, files or versions.
HELPERS_FOR: dict[str, frozenset[str]] = {"backends": frozenset({"_errors"})}

# What each layer may import, besides itself and its helpers. Units not listed
# (io, logic, nn, testing, datasets, the CLI, ...) sit above the layers
# and may import them, but still through their public modules and without
# cycles.
ALLOWED: dict[str, frozenset[str]] = {
    "backends": frozenset(),
    "diagrams": frozenset(),
    "functors": frozenset({"diagrams", "backends"}),
    "learn": frozenset({"functors", "diagrams"}),
    "export": frozenset({"functors", "diagrams", "backends"}),
}

# Private modules (a path part starting with "_", other than __init__) that a
# unit other than their own may import, as (importing unit, module). Otherwise
# each unit's __init__.py re-exports what other units need.
PRIVATE_ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        ("cli", "catlearn._cli"),  # catlearn.cli is the face of the command
    }
)


def _modules() -> dict[str, pathlib.Path]:
    """``{dotted name: path}`` of every module of catlearn."""
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def unit(module: str) -> str:
    """The unit a dotted module name belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "catlearn"


def is_private(module: str) -> bool:
    return any(p.startswith("_") for p in module.split(".")[1:])


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` names (before its names)."""
    if not node.level:
        return node.module or ""
    path = MODULES[importer]
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    base = package.split(".")
    if node.level > 1:
        base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


@cache
def imports() -> dict[str, list[tuple[str, int]]]:
    """``{module: [(imported catlearn module, line), ...]}``. ``from x import
    y`` counts as importing ``x.y`` when that is a module, else ``x``."""
    out: dict[str, list[tuple[str, int]]] = {}
    for name, path in MODULES.items():
        found = []
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, node)
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                    for a in node.names
                ]
            else:
                continue
            for target in targets:
                while target and target not in MODULES and "." in target:
                    target = target.rpartition(".")[0]  # import catlearn.x.attr
                if target in MODULES and (target, node.lineno) not in found:
                    found.append((target, node.lineno))
        out[name] = found
    return out


def _where(module: str, line: int) -> str:
    return f"{MODULES[module].relative_to(ROOT.parent)}:{line}"


def test_no_module_over_400_lines():
    long = {
        str(path.relative_to(ROOT.parent)): n
        for path in MODULES.values()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines (split them): {long}"


def test_helpers_are_leaves():
    """The shared top-level helpers import only each other, so any unit may
    use them without making a cycle."""
    bad = [
        f"{_where(m, line)} imports {target}"
        for m in MODULES
        if unit(m) in HELPERS
        for target, line in imports()[m]
        if unit(target) not in HELPERS
    ]
    assert not bad, "helpers that import a catlearn unit:\n" + "\n".join(bad)


def test_layers_import_only_downwards():
    bad = [
        f"{_where(m, line)}: {unit(m)} imports {target}"
        for m in MODULES
        if unit(m) in ALLOWED
        for target, line in imports()[m]
        if unit(target)
        not in {unit(m), *HELPERS_FOR.get(unit(m), HELPERS), *ALLOWED[unit(m)]}
    ]
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


def test_no_private_module_imported_across_units():
    bad = [
        f"{_where(m, line)}: {unit(m)} imports private {target}"
        for m in MODULES
        for target, line in imports()[m]
        if unit(target) != unit(m)
        and is_private(target)
        and unit(target) not in HELPERS
        and (unit(m), target) not in PRIVATE_ALLOWED
    ]
    assert not bad, (
        "private modules imported from another unit (re-export the name from "
        "that unit's __init__.py):\n" + "\n".join(bad)
    )


def test_nothing_imports_the_package_root():
    """``catlearn/__init__.py`` only re-exports; a module inside catlearn that
    imports from it (``from .. import __version__``) depends on every unit."""
    bad = [
        f"{_where(m, line)} imports the package root"
        for m in MODULES
        if m != "catlearn"
        for target, line in imports()[m]
        if target == "catlearn"
    ]
    assert not bad, "\n".join(bad)


def test_no_cycles_between_units():
    """No unit imports, directly or through others, a unit that imports it
    back; the package root (which re-exports everything) counts as a unit,
    so importing from ``catlearn`` inside catlearn is a cycle too."""
    edges: dict[str, dict[str, str]] = defaultdict(dict)
    for m in MODULES:
        for target, line in imports()[m]:
            if unit(target) != unit(m):
                edges[unit(m)].setdefault(unit(target), f"{_where(m, line)}")
    # strongly connected components (Tarjan), each with more than one unit
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(u: str) -> None:
        index[u] = low[u] = len(index)
        stack.append(u)
        for v in edges[u]:
            if v not in index:
                visit(v)
                low[u] = min(low[u], low[v])
            elif v in stack:
                low[u] = min(low[u], index[v])
        if low[u] == index[u]:
            component = []
            while True:
                v = stack.pop()
                component.append(v)
                if v == u:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for u in sorted({unit(m) for m in MODULES}):
        if u not in index:
            visit(u)
    report = [
        f"{sorted(c)}: "
        + "; ".join(
            f"{a} -> {b} ({edges[a][b]})" for a in c for b in c if b in edges[a]
        )
        for c in cycles
    ]
    assert not cycles, "import cycles between units:\n" + "\n".join(report)

"""The layers import only downward (docs/architecture.md, "Layers").

Read from the source (every ``import`` statement, those inside functions included):

* kernel-layer files (``kernels/*``, every ``kernel.py``, ``dispatch.py``, ``twin.py``, and the
  mechanisms' and agents' ``hooks.py``/``hooks_twin.py``) import
  only the standard library, numpy, numba and other kernel-layer modules or registries;
* a family registry (the ``__init__.py`` of ``protocols``, ``venues``, ``oracles``, ``prices``,
  ``flashloans``, ``agents``, ``mechanisms`` and of their unit folders) imports only the standard library (kernels read it);
* a unit's ``model.py`` imports neither ``scenario`` nor ``engine``;
* ``data/`` imports neither ``engine`` nor ``report``;
* nothing but ``cli.py`` and ``commands/`` imports ``cli`` or ``commands``;
* no import cycle between packages (the kernel layer and the registries count as one node each).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "src" / "liqcascade"
FAMILIES = ("protocols", "venues", "oracles", "prices", "flashloans", "agents", "mechanisms")
KERNEL_NAMES = ("kernel.py", "dispatch.py", "twin.py", "hooks.py", "hooks_twin.py")
STDLIB = set(sys.stdlib_module_names)


def _modname(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> list[str]:
    """Absolute names of every module ``path`` imports (``from a import b`` gives ``a`` and ``a.b``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = _modname(path).split(".")
    if path.name != "__init__.py":
        pkg = pkg[:-1]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[:len(pkg) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append(mod)
            out += [f"{mod}.{a.name}" for a in node.names]
    return out


def _resolve(name: str) -> Path | None:
    """The source file of a ``liqcascade`` module name (None for a name inside a module)."""
    p = PKG.parent.joinpath(*name.split("."))
    if p.with_suffix(".py").is_file():
        return p.with_suffix(".py")
    if (p / "__init__.py").is_file():
        return p / "__init__.py"
    return None


FILES = sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


def is_kernel_layer(p: Path) -> bool:
    return p.parent == PKG / "kernels" or p.name in KERNEL_NAMES


def is_registry(p: Path) -> bool:
    rel = p.relative_to(PKG).parts
    return p.name == "__init__.py" and len(rel) >= 2 and rel[0] in FAMILIES


def _internal(path: Path) -> list[Path]:
    out = []
    for name in _imports(path):
        if name == "liqcascade" or name.startswith("liqcascade."):
            f = _resolve(name)
            if f is not None and f != path:
                out.append(f)
    return out


def _external(path: Path) -> set[str]:
    return {n.split(".")[0] for n in _imports(path) if n and not n.startswith("liqcascade")}


def test_the_source_tree_is_found():
    assert any(is_kernel_layer(p) for p in FILES) and any(is_registry(p) for p in FILES)


@pytest.mark.parametrize("path", [p for p in FILES if is_kernel_layer(p)], ids=lambda p: str(p.relative_to(PKG)))
def test_kernel_layer_imports_only_kernel_layer(path):
    bad = sorted({n for n in _external(path) if n not in STDLIB and n not in ("numpy", "numba")})
    assert not bad, f"{path.relative_to(PKG)} imports {bad}"
    for f in _internal(path):
        assert f == PKG / "__init__.py" or is_kernel_layer(f) or is_registry(f), (
            f"{path.relative_to(PKG)} imports {f.relative_to(PKG)}, which is not kernel layer")


@pytest.mark.parametrize("path", [p for p in FILES if is_registry(p)], ids=lambda p: str(p.relative_to(PKG)))
def test_registries_import_only_the_standard_library(path):
    assert not [n for n in _external(path) if n not in STDLIB], path
    assert not _internal(path) or all(f == PKG / "__init__.py" for f in _internal(path)), path


def test_models_import_neither_scenario_nor_engine():
    for p in FILES:
        if p.name == "model.py":
            for f in _internal(p):
                top = f.relative_to(PKG).parts[0]
                assert top not in ("scenario", "engine"), f"{p.relative_to(PKG)} imports {f.relative_to(PKG)}"


def test_data_is_a_leaf():
    for p in (PKG / "data").rglob("*.py"):
        for f in _internal(p):
            top = f.relative_to(PKG).parts[0]
            assert top not in ("engine", "report"), f"{p.relative_to(PKG)} imports {f.relative_to(PKG)}"


def test_only_the_surface_imports_the_cli():
    for p in FILES:
        rel = p.relative_to(PKG)
        if rel.parts[0] in ("cli.py", "commands"):
            continue
        for f in _internal(p):
            assert f.relative_to(PKG).parts[0] not in ("cli.py", "commands"), f"{rel} imports {f.relative_to(PKG)}"


def node(p: Path) -> str:
    if is_kernel_layer(p):
        return "(kernel layer)"
    if is_registry(p):
        return "(registries)"
    return p.relative_to(PKG).parts[0].removesuffix(".py")


#: imports left out of the package graph, each with its reason
ALLOWED = {
    # ``liqcascade.replay`` is also the API's ``lc.replay(event, ...)``: calling the module runs
    # ``api.studies.replay`` (imported when called; see replay/__init__.py)
    ("replay", "api"),
}


def package_graph() -> dict[str, set[str]]:
    g: dict[str, set[str]] = {}
    for p in FILES:
        a = node(p)
        for f in _internal(p):
            b = node(f)
            if a != b and f != PKG / "__init__.py" and (a, b) not in ALLOWED:
                g.setdefault(a, set()).add(b)
    return g


def test_no_import_cycle_between_packages():
    g = package_graph()
    state: dict[str, int] = {}

    def visit(n, path):
        state[n] = 1
        for m in sorted(g.get(n, ())):
            if state.get(m) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(m):] + [m]))
            if m not in state:
                visit(m, path + [m])
        state[n] = 2

    for n in sorted(g):
        if n not in state:
            visit(n, [n])

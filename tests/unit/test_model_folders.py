"""The stand-alone model folders (venues/stableswap, venues/concentrated, rates/*, funding/*) keep
the layer rules: a ``kernel.py`` imports only numpy, numba, math and kernel-layer modules; a
``model.py`` nothing from the engine; every folder has its README; the kernels compile."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import numpy as np
import pytest

from liqcascade.kernels import _jit

SRC = Path(__file__).resolve().parents[2] / "src" / "liqcascade"
FOLDERS = [SRC / "venues" / "stableswap", SRC / "venues" / "concentrated",
           *sorted(p for p in (SRC / "rates").iterdir() if p.is_dir() and not p.name.startswith("_")),
           *sorted(p for p in (SRC / "funding").iterdir() if p.is_dir() and not p.name.startswith("_"))]
ALLOWED_KERNEL = {"numpy", "numba", "math", "__future__"}


def _imports(path: Path) -> list[tuple[str, int]]:
    """(module, level) of every import in a file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(a.name, 0) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append((node.module or "", node.level))
    return out


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_folder_layout_and_layers(folder):
    for f in ("model.py", "kernel.py", "twin.py", "README.md"):
        assert (folder / f).is_file(), f"{folder.name} lacks {f}"
    for mod, level in _imports(folder / "kernel.py"):
        if level == 0:
            assert mod.split(".")[0] in ALLOWED_KERNEL, f"{folder.name}/kernel.py imports {mod}"
        else:  # relative: only the kernel layer (kernels/*, another folder's kernel.py)
            assert mod.startswith("kernels") or mod.split(".")[-1] == "kernel", f"{folder.name}/kernel.py imports .{mod}"
    for mod, level in _imports(folder / "model.py"):
        assert not mod.startswith(("engine", "liqcascade.engine")), f"{folder.name}/model.py imports {mod}"
    readme = (folder / "README.md").read_text()
    from liqcascade.venues import KINDS

    if folder.parent.name == "venues" and folder.name in KINDS:  # wired: says how it runs in the loop
        assert "In the loop" in readme and ("L" in readme)
        assert (folder / "pack.py").is_file()
    else:
        assert "Wiring" in readme and ("L" in readme)  # says how to wire it, cites lines


@pytest.mark.skipif(_jit.DISABLED, reason="JIT disabled")
def test_kernels_are_compiled():
    from liqcascade.funding.binance import kernel as B
    from liqcascade.rates.aave_v3 import kernel as A
    from liqcascade.venues.concentrated import kernel as C
    from liqcascade.venues.stableswap import kernel as S

    S.ss_spot(np.ones(2), np.ones(2), np.array([100.0, 0.0, 1.0, 0.0]), 0, 1)
    C.cl_spot(np.ones(C.NCS))
    A.linear_interest(0.1, 1.0)
    B.funding_rate(0.0, np.zeros(B.NBP) + 1.0)
    for fn in (S.ss_spot, C.cl_spot, A.linear_interest, B.funding_rate):
        assert fn.signatures, f"{fn.__name__} did not compile"


def test_every_kernel_module_imports():
    for folder in FOLDERS:
        rel = folder.relative_to(SRC.parent)
        importlib.import_module(".".join(rel.parts) + ".kernel")

"""The numba cache folder is keyed on every kernel-layer source, wherever the cache lives.

numba invalidates a cached function only when its own file changes; a caller that inlined a
kernel from another file would keep running the old code. The keying in ``kernels/_jit.py``
prevents that, also when ``NUMBA_CACHE_DIR`` is set.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from liqcascade.kernels import _jit

PACKAGE = Path(_jit.__file__).resolve().parents[1]


def test_kernel_layer_covers_unit_folders_and_registries():
    rel = {p.relative_to(PACKAGE).as_posix() for p in _jit.kernel_layer_files()}
    for must in ("kernels/dynamic.py", "kernels/_jit.py", "protocols/comet/kernel.py", "protocols/comet/twin.py",
                 "protocols/kernel.py", "protocols/aave/incentives/kernel.py", "venues/dispatch.py",
                 "venues/cpmm/kernel.py", "venues/book/kernel.py", "oracles/dispatch.py", "oracles/osm/kernel.py",
                 "oracles/__init__.py", "venues/__init__.py"):
        assert must in rel, must
    assert not any(r.endswith(("model.py", "pack.py")) for r in rel)


def _copy_package(tmp_path: Path) -> Path:
    dst = tmp_path / "src" / "liqcascade"
    shutil.copytree(PACKAGE, dst, ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def test_hash_changes_with_a_unit_kernel_and_a_registry(tmp_path):
    pkg = _copy_package(tmp_path)
    h0 = _jit.kernel_source_hash(pkg)
    assert h0 == _jit.kernel_source_hash(PACKAGE)
    k = pkg / "protocols" / "comet" / "kernel.py"
    k.write_text(k.read_text() + "\n# edited\n")
    h1 = _jit.kernel_source_hash(pkg)
    assert h1 != h0
    r = pkg / "oracles" / "__init__.py"
    r.write_text(r.read_text() + "\n# edited\n")
    assert _jit.kernel_source_hash(pkg) not in (h0, h1)
    m = pkg / "protocols" / "comet" / "model.py"  # not kernel layer: no recompilation for it
    before = _jit.kernel_source_hash(pkg)
    m.write_text(m.read_text() + "\n# edited\n")
    assert _jit.kernel_source_hash(pkg) == before


def _run(src: Path, env: dict, code: str) -> str:
    env = {**env, "PYTHONPATH": str(src)}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.skipif(_jit.DISABLED, reason="JIT disabled")
def test_numba_cache_dir_is_keyed_too(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "LIQCASCADE_DISABLE_JIT"}
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "cache")
    got = _run(PACKAGE.parent, env, """
        import numba
        from liqcascade.kernels import _jit
        print(numba.config.CACHE_DIR, _jit.CACHE_BASE, _jit.kernel_source_hash(), sep="|")
    """)
    cache_dir, base, h = got.splitlines()[-1].split("|")
    assert base == str(tmp_path / "cache")
    assert cache_dir == str(tmp_path / "cache" / h)


@pytest.mark.skipif(_jit.DISABLED, reason="JIT disabled")
def test_an_edited_kernel_reaches_its_cached_caller(tmp_path):
    """``run_oracle`` (oracles/dispatch.py) inlines the spot kernel (oracles/spot/kernel.py):
    after an edit of the spot kernel alone, a cached ``run_oracle`` must not run the old code."""
    pkg = _copy_package(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "LIQCASCADE_DISABLE_JIT"}
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "cache")
    code = """
        import numpy as np
        from liqcascade.oracles.dispatch import run_oracle
        from liqcascade.oracles.kernel import NPARAM, ORACLE_SPOT
        hist = np.array([[100.0, 90.0, 80.0]])
        print(run_oracle(ORACLE_SPOT, np.zeros(NPARAM), np.zeros(1, np.int64), hist, 100.0)[-1])
    """
    assert float(_run(pkg.parent, env, code)) == 80.0
    spot = pkg / "oracles" / "spot" / "kernel.py"
    text = spot.read_text()
    assert "cand = src_mean(src_idx, hist, s)" in text
    spot.write_text(text.replace("cand = src_mean(src_idx, hist, s)", "cand = 0.5 * src_mean(src_idx, hist, s)"))
    assert float(_run(pkg.parent, env, code)) == 40.0


# ---- several processes saving into one cache index ---------------------------------------------


def _save_many(path: str, k: int, n: int) -> None:
    """A worker process: import the kernel layer (which serializes numba's cache saves), then save
    ``n`` signatures of its own into the one shared index."""
    import liqcascade.kernels._jit  # noqa: F401 - applies the lock
    from numba.core.caching import IndexDataCacheFile

    f = IndexDataCacheFile(path, "fn-1.py311", ("stamp", 1))
    for i in range(n):
        f.save(("sig", k, i), ("data", k, i))


@pytest.mark.skipif(_jit.DISABLED, reason="the numba cache is not used with the JIT disabled")
def test_concurrent_cache_saves_keep_every_signature_with_its_own_code(tmp_path):
    """numba names a new entry's data file by the first number free in the index as one process
    read it, so processes saving different signatures of one function at once can point a
    signature at another's machine code (4 processes × 40 saves lost 8–34 entries and mismatched
    3–15 without the lock). With ``serialize_cache_saves`` every saved signature is in the
    index and loads its own data."""
    import multiprocessing as mp

    from numba.core.caching import IndexDataCacheFile

    ctx = mp.get_context("spawn")
    procs, n = 4, 40
    ps = [ctx.Process(target=_save_many, args=(str(tmp_path), k, n)) for k in range(procs)]
    for p in ps:
        p.start()
    for p in ps:
        p.join(timeout=120)
        assert p.exitcode == 0
    f = IndexDataCacheFile(str(tmp_path), "fn-1.py311", ("stamp", 1))
    index = f._load_index()
    assert len(index) == procs * n
    wrong = [key for key in index if f.load(key) != ("data",) + key[1:]]
    assert wrong == []


def test_dispatch_closures_have_names_of_their_own():
    """numba's symbol for a compiled function is module + qualified name + argument types + a
    per-process counter; ``by_kind`` closures with one shared name, compiled in two processes,
    could carry one symbol with two bodies and be linked to each other's code when a process
    loads both callers from the cache. Each closure is named after the functions it dispatches
    to, so different dispatches never share a name."""
    import importlib

    seen: dict[str, tuple] = {}
    for mod in ("liqcascade.venues.dispatch", "liqcascade.flashloans.dispatch"):
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError:
            continue
        for name, v in vars(m).items():
            f = getattr(v, "py_func", v)
            q = getattr(f, "__qualname__", "")
            if not q.startswith("by_kind["):
                continue
            cells = tuple(c.cell_contents for c in f.__closure__)
            assert seen.setdefault(q, cells) == cells, f"{mod}.{name}: {q} names another dispatch"
    assert len(seen) >= 10
    a = _jit.by_kind((test_dispatch_closures_have_names_of_their_own,), test_kernel_layer_covers_unit_folders_and_registries)
    b = _jit.by_kind((test_kernel_layer_covers_unit_folders_and_registries,), test_kernel_layer_covers_unit_folders_and_registries)
    assert getattr(a, "py_func", a).__qualname__ != getattr(b, "py_func", b).__qualname__

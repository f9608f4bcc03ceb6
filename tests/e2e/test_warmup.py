"""``liqcascade warmup`` compiles every kernel the commands use: after it, ``attack``, ``compare``
and every replay compile nothing new.

The check compares the numba dispatchers' ``signatures`` (every kernel-layer module of the
package, and the copies of a kernel family such as the lean loop's ``_core`` stages) before and after the commands, in one process: a command that needs a kernel or a
specialisation the warmup did not produce adds a signature, and the test names it. The replays
need the reference data in ``../shared/data``; without it they are skipped (and the test says
so), the rest still runs.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liqcascade.cli import app

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
DATA = (REPO / ".." / "shared" / "data").resolve()


def _dispatchers() -> dict[str, object]:
    """Every numba dispatcher defined in a kernel-layer module of the package."""
    from numba.core.registry import CPUDispatcher

    from liqcascade.kernels import _jit

    out = {}
    for f in _jit.kernel_layer_files():
        rel = f.relative_to(_jit.PACKAGE).with_suffix("")
        parts = ["liqcascade", *rel.parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mod = importlib.import_module(".".join(parts))
        for name, obj in vars(mod).items():
            if isinstance(obj, CPUDispatcher) and getattr(obj.py_func, "__module__", None) == mod.__name__:
                out[f"{mod.__name__}.{name}"] = obj
            elif isinstance(obj, _jit.Rebound):  # a kernel family's copies (the lean loop's ``_core`` ones)
                for d in obj.copies.values():
                    out[f"{d.py_func.__module__}.{d.py_func.__qualname__}"] = d
    return out


def _signatures() -> dict[str, set]:
    return {k: {str(s) for s in d.signatures} for k, d in _dispatchers().items()}


def _run(*args):
    r = CliRunner().invoke(app, [str(a) for a in args])
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code == 0, r.output
    return r.output


def _new(before, after) -> list[str]:
    return sorted(f"{k}: {s}" for k in after for s in after[k] - before.get(k, set()))


def test_warmup_covers_attack_compare_and_every_replay(tmp_path):
    from liqcascade.engine.warmup import warm
    from liqcascade.replay import events

    warm()
    before = _signatures()
    _run("attack", EXAMPLES / "attack.toml", "--capital", "0,6e6", "--json")
    _run("compare", EXAMPLES / "compare.toml", "--paths", 3, "-m", "none,circuit-breaker,twap-exit+buffer-pool",
         "--json")
    _run("replay", "--list", "--data", DATA)
    skipped = []
    for name, ev in events().items():
        if not DATA.is_dir() or ev.missing(DATA):
            skipped.append(name)
            continue
        _run("replay", name, "--data", DATA, "--quick", "--json")
    new = _new(before, _signatures())
    assert not new, "compiled after warmup:\n" + "\n".join(new)
    if skipped:
        pytest.skip(f"replays {', '.join(skipped)} need ../shared/data (absent); attack and compare compiled "
                    "nothing after warmup")


def test_cold_groups_and_stamps(tmp_path, monkeypatch):
    """A group is cold until its stamp is in the cache folder in use; the stamp carries the
    numba version."""
    from liqcascade.engine import warmup
    from liqcascade.kernels import _jit

    if _jit.DISABLED:
        pytest.skip("JIT disabled")
    monkeypatch.setattr(_jit, "CACHE_DIR", str(tmp_path))
    assert warmup.cold_groups() == list(warmup.ALL)
    warmup._write_stamp("static", 3.0)
    assert "static" not in warmup.cold_groups()
    (tmp_path / "warm-static.json").write_text('{"numba": "0.0"}')
    assert "static" in warmup.cold_groups()


_COMPILED = textwrap.dedent("""
    import json, sys
    from numba.core import event
    compiled = []
    class L(event.Listener):
        def on_start(self, ev):
            pass
        def on_end(self, ev):
            d = ev.data["dispatcher"]
            f = d.py_func
            if (f.__module__ or "").startswith("liqcascade") and type(d._cache).__name__ == "FunctionCache":
                compiled.append(f"{f.__module__}.{f.__qualname__}")
    event.register("numba:compile", L())
    from liqcascade.engine import warmup
    if sys.argv[1] == "helper":
        warmup._run_helper("loop_backwards")
    else:
        warmup._compile_here("loop")
    print(json.dumps(compiled))
""")


def test_the_loop_helper_compiles_kernels_the_loop_then_loads(tmp_path):
    """The warm-up's second worker compiles the lean loop from its last stage backwards
    (``kernels.dynamic.run_path_backwards``); that only helps if it asks for the same callee
    signatures as the loop. On an empty cache, after the helper, the loop compiles none of the
    kernels the helper compiled, in any signature (it loads them), and still its own top level."""
    from liqcascade.kernels import _jit

    if _jit.DISABLED:
        pytest.skip("JIT disabled")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(REPO / "src")}
    runs = {}
    for mode in ("helper", "loop"):
        r = subprocess.run([sys.executable, "-c", _COMPILED, mode], env=env, capture_output=True, text=True,
                           timeout=900)
        assert r.returncode == 0, r.stderr[-3000:]
        runs[mode] = set(json.loads(r.stdout.strip().splitlines()[-1]))
    assert len(runs["helper"]) >= 30, sorted(runs["helper"])
    assert not runs["helper"] & runs["loop"], "compiled twice:\n" + "\n".join(sorted(runs["helper"] & runs["loop"]))
    assert "liqcascade.kernels.dynamic.simulate_path_lean" in runs["loop"]

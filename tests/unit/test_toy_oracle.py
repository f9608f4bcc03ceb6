"""The worked example of docs/architecture.md builds and runs: a new oracle kind is one folder plus
one registry line, under 60 lines.

The test copies the package, writes the example's files exactly as the document shows them,
replaces the registry line, and in a fresh process checks the new kind's kernel against its
twin and runs ``liqcascade run`` on a scenario whose oracle is of the new kind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from liqcascade.kernels import _jit

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "architecture.md"
BLOCK = re.compile(r"\*\*`(?P<path>src/liqcascade/[^`]+)`\*\*\n\n```python\n(?P<code>.*?)```", re.S)
REGISTRY = "src/liqcascade/oracles/__init__.py"


def example_blocks() -> dict[str, str]:
    blocks = {m.group("path"): m.group("code") for m in BLOCK.finditer(DOC.read_text(encoding="utf-8"))}
    assert REGISTRY in blocks, "the registry line is missing from the worked example"
    return blocks


def test_the_example_is_one_folder_and_one_registry_line_under_60_lines():
    blocks = example_blocks()
    files = {p: c for p, c in blocks.items() if p != REGISTRY}
    folders = {str(Path(p).parent) for p in files}
    assert folders == {"src/liqcascade/oracles/lowest"}, folders
    assert len(blocks[REGISTRY].strip().splitlines()) == 1
    assert sum(len(c.splitlines()) for c in files.values()) + 1 < 60


@pytest.mark.skipif(_jit.DISABLED, reason="JIT disabled (the dispatch is what is tested)")
def test_the_example_builds_and_runs_a_scenario(tmp_path):
    blocks = example_blocks()
    src = tmp_path / "src"
    shutil.copytree(REPO / "src" / "liqcascade", src / "liqcascade", ignore=shutil.ignore_patterns("__pycache__"))
    for rel, code in blocks.items():
        target = tmp_path / rel
        if rel == REGISTRY:
            text = target.read_text()
            old = [ln for ln in text.splitlines() if ln.startswith("KINDS")]
            assert len(old) == 1
            target.write_text(text.replace(old[0], code.strip()))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(code)
    scenario = (REPO / "examples" / "minimal.toml").read_text()
    scenario = scenario.replace('kind = "heartbeat"   # Chainlink style: 0.5% deviation or 1 h heartbeat\n'
                                'deviation = 0.005\nheartbeat_seconds = 3600\n',
                                'kind = "lowest"\nwindow_seconds = 600\n')
    assert 'kind = "lowest"' in scenario
    (tmp_path / "lowest.toml").write_text(scenario)
    shutil.copy(REPO / "examples" / "minimal_positions.csv", tmp_path / "minimal_positions.csv")

    env = {k: v for k, v in os.environ.items() if k != "LIQCASCADE_DISABLE_JIT"}
    env.update(PYTHONPATH=str(src), NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    check = textwrap.dedent("""
        import numpy as np
        from liqcascade.oracles import KINDS
        from liqcascade.oracles.dispatch import run_oracle
        from liqcascade.oracles.pack import oracle_params
        from liqcascade.oracles.twin import run_oracle_py
        code = KINDS.index("lowest")
        rng = np.random.default_rng(3)
        hist = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, (2, 60)), axis=1))
        p = oracle_params("lowest", dt_seconds=60.0, window_s=300.0)
        got = run_oracle(code, p, np.array([0, 1], np.int64), hist, 100.0)
        want = run_oracle_py(code, p, hist, 100.0)
        assert np.allclose(got, want, rtol=1e-12), (got, want)
        mean = hist.mean(axis=0)
        assert got[-1] == min(mean[-5:]), (got[-1], mean[-5:])
        print("parity ok")
    """)
    out = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    assert "parity ok" in out.stdout
    run = subprocess.run([sys.executable, "-m", "liqcascade.cli", "run", str(tmp_path / "lowest.toml"), "--json"],
                         env=env, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    totals = json.loads(run.stdout)["totals"]
    assert totals["liquidations"] > 0

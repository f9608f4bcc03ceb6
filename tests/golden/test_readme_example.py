"""The worked example in the README shows real output: its numbers must match a fresh run."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from liqcascade.engine.compile import compile_scenario
from liqcascade.engine.dynamic import run_dynamic
from liqcascade.engine.static import solve_static
from liqcascade.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[2]


def _readme_block(command: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"$ {command}\n")
    return text[start: text.index("```", start)]


def _compiled():
    sc, base = load_scenario(ROOT / "examples" / "minimal.toml")
    return compile_scenario(sc, base)


def test_readme_curve_table_matches_a_fresh_run():
    block = _readme_block("liqcascade curve examples/minimal.toml --shocks 0:0.3:0.05")
    rows = re.findall(r"│\s*([0-9.]+)\s*│\s*([0-9,.]+)\s*│\s*(\d+)\s*│\s*(\d+)\s*│", block)
    assert len(rows) == 7
    res = solve_static(_compiled(), np.round(np.arange(7) * 0.05, 12))
    for (shock, price, rounds, liqs), p in zip(rows, res.points):
        assert float(shock) == round(p.shock, 3)
        assert price == f"{p.final_price:,.2f}"
        assert int(rounds) == p.rounds and int(liqs) == p.liquidations
    assert f"critical shock: {res.critical_shock:.3f}" in block


def test_readme_run_table_matches_a_fresh_run():
    block = _readme_block("liqcascade run examples/minimal.toml")
    tot = run_dynamic(_compiled()).totals()
    assert re.search(rf"│ liquidations\s+│\s+{tot['liquidations']:,.0f} │", block)
    assert f"{tot['bad_debt']:,.2f}" in block
    assert f"{tot['final_price']['WETH']:,.2f}" in block

"""Compile (and cache on disk) every kernel with a tiny scenario, so workers start warm."""

from __future__ import annotations

import numpy as np


def tiny_scenario():
    from ..scenario.models import Scenario

    return Scenario.model_validate({
        "name": "warmup",
        "simulation": {"steps": 3},
        "assets": [{"name": "A", "price": 100.0}, {"name": "Q", "price": 1.0, "stable": True}],
        "price": {"kind": "crash", "shock": 0.2},
        "venues": [
            {"name": "pool", "asset": "A", "kind": "cpmm", "reserve_asset": 1000.0, "fee": 0.003},
            {"name": "book", "asset": "A", "kind": "book", "depth": [[0.01, 1e4], [0.05, 1e5]], "half_life_seconds": 120.0},
        ],
        "oracles": [{"name": "o", "asset": "A", "kind": "spot"}],
        "protocols": [{"name": "p", "positions": "-", "collateral": "A", "debt": "Q",
                       "params": {"A": {"liquidation_threshold": 0.8, "liquidation_bonus": 0.05}}}],
    })


def warm() -> None:
    from pathlib import Path

    from .compile import book_from_arrays, compile_scenario
    from .dynamic import run_dynamic
    from .static import solve_static

    sc = tiny_scenario()
    book = book_from_arrays(np.array([1.0, 2.0, 3.0]), np.array([85.0, 100.0, 200.0]), 0.8)
    c = compile_scenario(sc, Path("."), book=book)
    solve_static(c, np.array([0.0, 0.1]))
    solve_static(c, np.array([0.1]), mode="rational")
    sc.simulation.paths = 3
    run_dynamic(c)
    from ..positions.fastread import warm as warm_loader

    warm_loader()

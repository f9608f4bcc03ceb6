"""Shared helpers for the engine tests: scenarios and books built in code.

Tests get them through the session-scoped ``kit`` fixture (this module), e.g.
``kit.build(kit.scenario(...), coll, debt, proto)``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import Phase, settings

# The tests exercise the checkout they live in, even when the virtual environment's editable
# install points at another one (a second worktree, a copy): its ``src`` goes first on the path,
# for this process and for the ``liqcascade`` subprocesses the tests start.
_SRC = str(Path(__file__).resolve().parents[1] / "src")
if sys.path[:1] != [_SRC]:
    sys.path.insert(0, _SRC)
os.environ["PYTHONPATH"] = _SRC + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")

# Property tests draw the same examples on every run (a red CI must mean a code change, not a
# lucky draw); HYPOTHESIS_PROFILE=explore draws fresh ones when hunting for bugs locally.
settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
# `make mutate`: the repeatable examples, no shrinking (a mutant only needs one failing example)
settings.register_profile("mutate", derandomize=True, database=None,
                          phases=[Phase.explicit, Phase.reuse, Phase.generate])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

# LIQCASCADE_HYPOTHESIS_SCALE=K multiplies every property test's max_examples by K (its own
# @settings included; K may be fractional, at least 1 example each). The nightly-style run in
# docs/testing.md uses it with the explore profile to draw tens of thousands of fresh examples.
HYPOTHESIS_SCALE = float(os.environ.get("LIQCASCADE_HYPOTHESIS_SCALE", "1") or "1")
if not HYPOTHESIS_SCALE > 0:
    raise pytest.UsageError("LIQCASCADE_HYPOTHESIS_SCALE must be a number > 0")


def scaled_examples(n: int, scale: float | None = None) -> int:
    """``n`` examples scaled by LIQCASCADE_HYPOTHESIS_SCALE (at least 1)."""
    return max(1, int(round(n * (HYPOTHESIS_SCALE if scale is None else scale))))


def pytest_collection_modifyitems(config, items):
    """Scale every hypothesis test's max_examples (Hypothesis reads a test's settings when it
    runs, so replacing them here takes effect; parametrized items share one function)."""
    if HYPOTHESIS_SCALE == 1.0:
        return
    done = set()
    for item in items:
        fn = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
        if not getattr(fn, "is_hypothesis_test", False) or id(fn) in done:
            continue
        done.add(id(fn))
        current = getattr(fn, "_hypothesis_internal_use_settings", None) or settings.default
        fn._hypothesis_internal_use_settings = settings(current, max_examples=scaled_examples(current.max_examples))


def pytest_report_header(config):
    return (f"hypothesis: profile {os.environ.get('HYPOTHESIS_PROFILE', 'repeatable')}, "
            f"examples x {HYPOTHESIS_SCALE:g} (LIQCASCADE_HYPOTHESIS_SCALE)")

from liqcascade.engine.compile import Book, book_from_arrays, compile_scenario
from liqcascade.scenario.models import Scenario

P0 = 100.0  # price of the collateral asset "A"; the debt asset "Q" is stable at 1.0
DEPTH = ((0.01, 1.0), (0.05, 4.0), (0.2, 10.0))  # book shape, scaled by `book_quote`


def scenario(*, venue="cpmm", reserve=1000.0, fee=0.0, book_quote=1e5, half_life=0.0,
             protocols=({"lt": 0.8, "bonus": 0.05},), oracle=None, liquidators=None,
             price=None, steps=10, paths=1, seed=0, record_paths=1, max_rounds=10_000,
             arbitrage=False) -> Scenario:
    """Asset A (price P0, one venue) against stable Q; one protocol per dict in ``protocols``
    (keys lt, bonus, pfee=0.1, rule='v3.3', cf=0.5). ``oracle``: None, or a dict of Oracle fields."""
    if venue == "cpmm":
        v = {"name": "v", "asset": "A", "kind": "cpmm", "reserve_asset": reserve, "fee": fee}
    else:
        v = {"name": "v", "asset": "A", "kind": "book", "half_life_seconds": 60.0 * half_life,
             "depth": [[k, q * book_quote] for k, q in DEPTH]}
    prots = []
    for j, p in enumerate(protocols):
        prots.append({
            "name": f"p{j}", "positions": "-", "collateral": "A", "debt": "Q",
            "close_factor_rule": p.get("rule", "v3.3"), "close_factor": p.get("cf", 0.5),
            "params": {"A": {"liquidation_threshold": p["lt"], "liquidation_bonus": p["bonus"],
                             "protocol_fee": p.get("pfee", 0.1)}},
        })
    return Scenario.model_validate({
        "name": "t",
        "simulation": {"steps": steps, "paths": paths, "seed": seed, "record_paths": record_paths,
                       "max_rounds": max_rounds},
        "assets": [{"name": "A", "price": P0}, {"name": "Q", "price": 1.0, "stable": True}],
        "price": price or {"kind": "crash", "shock": 0.0},
        "venues": [v],
        "oracles": [] if oracle is None else [{"name": "o", "asset": "A", **oracle}],
        "protocols": prots,
        "liquidators": liquidators or {},
        "arbitrage": {"enabled": arbitrage, "to_reference": arbitrage},
    })


def join_books(coll, debt, proto, lts) -> Book:
    """A book with one segment per protocol; ``ids`` are the positions' indices in the inputs."""
    coll, debt, proto = np.asarray(coll, float), np.asarray(debt, float), np.asarray(proto, np.int64)
    parts = [book_from_arrays(coll[proto == k], debt[proto == k], lts[k], proto=k,
                              ids=np.flatnonzero(proto == k)) for k in range(len(lts))]
    b = parts[0]
    if len(parts) > 1:
        b = Book(
            coll=np.concatenate([p.coll for p in parts]), debt=np.concatenate([p.debt for p in parts]),
            key=np.concatenate([p.key for p in parts]),
            seg_ptr=np.concatenate([[0], np.cumsum([p.n for p in parts])]).astype(np.int64),
            seg_asset=np.zeros(len(parts), np.int64), seg_proto=np.arange(len(parts), dtype=np.int64),
            seg_debt_asset=np.ones(len(parts), np.int64), ids=np.concatenate([p.ids for p in parts]),
        )
    return b


def build(sc: Scenario, coll, debt, proto=None):
    proto = np.zeros(len(coll), np.int64) if proto is None else proto
    lts = [p.params["A"].liquidation_threshold for p in sc.protocols]
    return compile_scenario(sc, Path("."), book=join_books(coll, debt, proto, lts))


def random_book(rng, n, lts, scale=1.0):
    """``n`` positions: collateral worth US$100–1M (log-uniform), HF in [0.7, 3] (half of them
    clustered in [1, 1.3] so that cascades happen). Returns (coll, debt, proto)."""
    proto = rng.integers(0, len(lts), n)
    value = scale * 10.0 ** rng.uniform(2.0, 6.0, n)
    hf = np.where(rng.random(n) < 0.5, rng.uniform(1.0, 1.3, n), rng.uniform(0.7, 3.0, n))
    return value / P0, value * np.asarray(lts)[proto] / hf, proto


def unsort(c, sorted_values):
    """Map values in the book's sorted order back to input order."""
    out = np.empty(c.book.n)
    out[c.book.ids.astype(np.int64)] = sorted_values
    return out


# bound at import time: another folder's conftest.py may later take the name "conftest" in
# sys.modules (tests/montecarlo has one)
_THIS_MODULE = sys.modules[__name__]


@pytest.fixture(scope="session")
def kit():
    return _THIS_MODULE

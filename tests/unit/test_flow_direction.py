"""Direction tests of the external flow on the same series: a bigger backstop never raises
max_drop, a bigger flow multiplier never lowers it. Generated series (hypothesis) and the
example series; no number is tuned to pass.

For a pool the direction is a theorem of the model (the pool's depth at a price depends only on
the price, since its liquidity is held fixed). For an order book it holds while every step's
sale ``q`` starting at mid ``m`` is worth no more than the book's depth density where it ends,
``q · m <= ρ(k_end)`` (quote per unit of relative price move; docs/external-flow.md derives
it): the book's depth is fixed in quote, so past that point a higher starting price turns the
same asset amount into a bigger quote order and can end lower. The book tests check exactly
that condition on both runs and skip the draws where it does not hold.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from liqcascade.engine.flow import compile_flow, run_flow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "property"))
from test_flow_conservation import flow_scenario, generated, series_of  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TOL = 1e-12  # rounding: two runs that differ only where the change bites


def book_density(vdk, vdq, k):
    """Quote depth per unit fraction of the (single) book in ``vdk``/``vdq`` at fraction ``k``."""
    ks, qs = vdk[0], vdq[0]
    k0 = q0 = 0.0
    rho = qs[0] / ks[0]
    for k1, q1 in zip(ks, qs):
        if k1 <= 0:
            break
        rho = (q1 - q0) / (k1 - k0)
        if k <= k1:
            return rho
        k0, q0 = k1, q1
    return rho  # the tail keeps the last segment's density (non-zero in these books)


def book_condition_holds(fc, r) -> bool:
    """Every step's venue sale satisfies ``q · m <= ρ(k_end)`` (see the module docstring)."""
    s = r.steps
    for q, pre, low in zip(s["sold"], s["spot_pre"], s["spot_low"]):
        if q > 0 and q * pre > book_density(fc.vdk, fc.vdq, 1.0 - low / pre) * (1 + 1e-12):
            return False
    return True


def run(series, **kw):
    fc = compile_flow(flow_scenario(**kw), ".", series=series)
    r = run_flow(fc)
    return r.max_drop, (kw["kind"] != "book" or book_condition_holds(fc, r))


@settings(max_examples=80, deadline=None)
@given(generated(), st.floats(0.0, 5e6), st.floats(0.0, 5e6))
def test_a_bigger_backstop_never_raises_max_drop(g, s1, s2):
    series, kw = g
    lo, hi = sorted((s1, s2))
    kw["max_slippage"] = 1.0
    a, ok_a = run(series, **{**kw, "size": lo})
    b, ok_b = run(series, **{**kw, "size": hi})
    assume(ok_a and ok_b)
    assert b <= a + TOL, (lo, hi, a, b)


@settings(max_examples=80, deadline=None)
@given(generated(), st.floats(0.0, 4.0), st.floats(0.0, 4.0))
def test_a_bigger_multiplier_never_lowers_max_drop(g, m1, m2):
    series, kw = g
    lo, hi = sorted((m1, m2))
    kw["max_slippage"] = 1.0
    a, ok_a = run(series, **{**kw, "multiplier": lo})
    b, ok_b = run(series, **{**kw, "multiplier": hi})
    assume(ok_a and ok_b)
    assert b >= a - TOL, (lo, hi, a, b)


def test_huge_flows_on_a_pool_keep_the_direction():
    """Flows far beyond the pool's depth (drops near 100 %): the pool's direction has no condition."""
    rng = np.random.default_rng(11)
    n = 30
    mid = 1000 * np.exp(np.cumsum(rng.normal(0, 0.03, n)))
    series = series_of(mid, rng.exponential(20000, n), rng.exponential(5000, n))
    drops = [[run(series, kind="cpmm", size=size, multiplier=m)[0] for m in (0.5, 1, 2, 4, 8)]
             for size in (0.0, 1e6, 1e7, 5e7)]
    d = np.array(drops)
    assert d.max() > 0.9  # the regime where a fixed-quote book would not keep the direction
    assert (np.diff(d, axis=1) >= -TOL).all() and (np.diff(d, axis=0) <= TOL).all()


def _example_grid(path, sizes, multipliers):
    from liqcascade.scenario.load import load_scenario

    sc, base = load_scenario(path)
    out = np.zeros((len(sizes), len(multipliers)))
    for i, size in enumerate(sizes):
        for j, m in enumerate(multipliers):
            s = sc.model_copy(deep=True)
            s.flow.multiplier = m
            s.flow.backstop.size = size
            fc = compile_flow(s, base)
            r = run_flow(fc)
            if fc.kind == "book":
                assert book_condition_holds(fc, r)
            out[i, j] = r.max_drop
    return out


def test_direction_on_the_synthetic_example():
    d = _example_grid(EXAMPLES / "flow_synthetic.toml", (0.0, 2.5e5, 5e5, 1e6, 2e6, 4e6), (0.25, 0.5, 1, 2, 4))
    assert (np.diff(d, axis=1) >= -TOL).all(), d  # more flow: never a smaller drop
    assert (np.diff(d, axis=0) <= TOL).all(), d  # a bigger pool: never a bigger drop
    assert d[0, -1] > d[-1, 0]  # and the grid is not flat

"""Properties of external-flow runs on generated series: every forced order is accounted for
(in = absorbed by the backstop + filled on the venue + unfilled), the backstop's deposits are
accounted for, and the same input gives the same output."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcascade.engine.flow import compile_flow, run_flow
from liqcascade.flow.series import FlowSeries
from liqcascade.scenario.load import validate_dict


def flow_scenario(kind: str, *, size: float | None, multiplier: float = 1.0, max_slippage: float = 1.0,
                  half_life: float = 300.0, withdrawal: str = "drawdown", refill: float = 3600.0,
                  retail_share: float = 0.5, discount: float = 0.05, depth_scale: float = 1.0,
                  reserve: float = 2000.0, fee: float = 0.003):
    if kind == "cpmm":
        venue = {"name": "v", "asset": "A", "kind": "cpmm", "reserve_asset": reserve, "fee": fee,
                 "half_life_seconds": half_life}
    else:
        venue = {"name": "v", "asset": "A", "kind": "book", "half_life_seconds": half_life,
                 "depth": [[0.01, 1e6 * depth_scale], [0.05, 4e6 * depth_scale], [0.2, 1e7 * depth_scale]]}
    flow = {"file": "generated.csv", "venue": "v", "sells": "s", "buys": "b", "multiplier": multiplier,
            "max_slippage": max_slippage}
    if size is not None:
        flow["backstop"] = {"size": size, "retail_share": retail_share, "discount": discount,
                            "withdrawal": withdrawal, "withdrawal_half_life_seconds": 1800.0,
                            "drawdown_ref": 0.1, "refill_seconds": refill}
    return validate_dict({"name": "gen", "assets": [{"name": "A", "price": 1000.0},
                                                     {"name": "Q", "price": 1.0, "stable": True}],
                          "venues": [venue], "flow": flow})


def series_of(mid, sells, buys, dt=60.0) -> FlowSeries:
    n = len(mid)
    t = 1.6e9 + dt * np.arange(n)
    return FlowSeries(t, np.asarray(mid, float), np.asarray(sells, float), np.asarray(buys, float), "generated.csv")


@st.composite
def generated(draw):
    n = draw(st.integers(1, 60))
    rets = draw(st.lists(st.floats(-0.05, 0.05), min_size=n, max_size=n))
    mid = 1000.0 * np.exp(np.cumsum(rets))
    vol = st.one_of(st.just(0.0), st.floats(0.0, 5000.0))
    sells = draw(st.lists(vol, min_size=n, max_size=n))
    buys = draw(st.lists(vol, min_size=n, max_size=n))
    kw = dict(
        kind=draw(st.sampled_from(["cpmm", "book"])),
        size=draw(st.one_of(st.none(), st.floats(0.0, 5e6))),
        multiplier=draw(st.floats(0.0, 4.0)),
        max_slippage=draw(st.sampled_from([1.0, 2.0, 0.2, 0.02])),
        half_life=draw(st.sampled_from([0.0, 60.0, 600.0])),
        withdrawal=draw(st.sampled_from(["drawdown", "constant"])),
        refill=draw(st.sampled_from([0.0, 600.0, 86400.0])),
        retail_share=draw(st.sampled_from([0.0, 0.5, 1.0])),
    )
    return series_of(mid, sells, buys), kw


@settings(max_examples=60, deadline=None)
@given(generated())
def test_every_forced_order_is_accounted_for(g):
    series, kw = g
    r = run_flow(compile_flow(flow_scenario(**kw), ".", series=series))
    s = r.steps
    scale = max(1.0, float(s["sell_in"].max()), float(s["buy_in"].max()))
    # per step: sells in = absorbed + filled + unfilled; buys in = filled + unfilled
    assert np.allclose(s["sell_in"], s["absorbed"] + s["sold"] + s["sell_unfilled"], rtol=1e-12, atol=1e-12 * scale)
    assert np.allclose(s["buy_in"], s["bought"] + s["buy_unfilled"], rtol=1e-12, atol=1e-12 * scale)
    for k in ("absorbed", "sold", "sell_unfilled", "bought", "buy_unfilled", "proceeds", "spent"):
        assert (s[k] >= 0).all(), k
    assert np.allclose(s["sell_in"], series.sells * kw["multiplier"])
    c = r.conservation()
    assert abs(c["sells"]["residual"]) <= 1e-9 * max(1.0, c["sells"]["in"])
    assert abs(c["buys"]["residual"]) <= 1e-9 * max(1.0, c["buys"]["in"])
    if kw["max_slippage"] >= 1.0:
        assert c["sells"]["unfilled"] == 0.0  # no floor: every sale fills
    b = r.summary.get("backstop")
    if b is None:
        assert c["sells"]["absorbed"] == 0.0
        return
    # deposits: start + refill = end balance + paid for absorbed sales + retail withdrawn
    lhs = b["size"] + b["refilled"]
    rhs = b["balance_end"] + b["paid"] + b["withdrawn"]
    assert abs(lhs - rhs) <= 1e-9 * max(1.0, lhs)
    assert abs(b["asset_held"] - c["sells"]["absorbed"]) <= 1e-9 * max(1.0, b["asset_held"])
    # what the pool paid is the absorbed asset at the discounted reference, step by step
    price = series.mid * (1 - kw.get("discount", 0.05))
    assert np.allclose(s["backstop_paid"], s["absorbed"] * price, rtol=1e-12, atol=1e-9)
    assert (s["backstop_balance"] >= 0).all()


@settings(max_examples=15, deadline=None)
@given(generated())
def test_same_input_same_output(g):
    series, kw = g
    a = run_flow(compile_flow(flow_scenario(**kw), ".", series=series))
    b = run_flow(compile_flow(flow_scenario(**kw), ".", series=series))
    assert a.summary == b.summary
    for k in a.steps:
        assert np.array_equal(a.steps[k], b.steps[k])


@settings(max_examples=30, deadline=None)
@given(generated())
def test_without_a_flow_nothing_drops(g):
    series, kw = g
    kw["multiplier"] = 0.0
    r = run_flow(compile_flow(flow_scenario(**kw), ".", series=series))
    assert r.max_drop <= 1e-12
    # the no-flow venue follows the reference
    assert np.allclose(r.steps["no_flow_spot"], series.mid, rtol=1e-9)

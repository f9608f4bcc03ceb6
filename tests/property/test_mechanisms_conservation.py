"""Conservation with prevention mechanisms on (random subsets, random parameters): collateral
seized + left = before and debt repaid + bad + left = before, per position; the mechanism
metrics add up (bad debt = fund draw + socialized; borrower loss = bonus + protocol fees;
distinct positions liquidated; paused steps within the run)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_conservation import dynamics, market, realise

from liqcascade.engine.dynamic import run_dynamic
from liqcascade.kernels import dynamic as KD
from liqcascade.mechanisms.model import Mechanisms

RTOL = 1e-9


@st.composite
def mechanisms(draw):
    """A ``[mechanisms]`` dict; amounts are fractions of the book's total debt (scaled later)."""
    pick = draw(st.sets(st.sampled_from([
        "circuit_breaker", "throttle", "twap_exit", "buffer_pool", "insurance_fund", "dutch_auction", "partial",
        "oracle_guard", "dynamic_margin", "random_execution", "batch", "volatility_fee",
        "volatility_bonus"]), min_size=1, max_size=6))
    m = {}
    if "circuit_breaker" in pick:
        m["circuit_breaker"] = {"threshold": draw(st.sampled_from([0.02, 0.1, 0.3])), "window_seconds": 60.0 * draw(st.integers(1, 10)),
                                "pause_seconds": 60.0 * draw(st.integers(1, 20)), "grace_seconds": 60.0 * draw(st.integers(0, 5)),
                                "exempt_hf": draw(st.sampled_from([0.0, 0.9, 0.97]))}
    if "throttle" in pick:
        m["throttle"] = {"max_debt_per_window": draw(st.sampled_from([0.0, 0.01, 0.1])), "window_seconds": 60.0 * draw(st.integers(1, 10)),
                         "depth_slippage": draw(st.sampled_from([0.0, 0.01, 0.05]))}
        if m["throttle"]["max_debt_per_window"] == 0 and m["throttle"]["depth_slippage"] == 0:
            m["throttle"]["depth_slippage"] = 0.02
    if "twap_exit" in pick:
        m["twap_exit"] = {"slices": draw(st.integers(1, 80))}
    if "buffer_pool" in pick:
        m["buffer_pool"] = {"capital": draw(st.sampled_from([0.001, 0.05, 1.0])), "discount": draw(st.sampled_from([0.0, 0.05]))}
    if "insurance_fund" in pick:
        m["insurance_fund"] = {"size": draw(st.sampled_from([0.0, 0.001, 0.1])), "fee_share": draw(st.sampled_from([0.0, 1.0]))}
    if "dutch_auction" in pick:
        m["dutch_auction"] = {"start_bonus": draw(st.sampled_from([0.0, 0.02])), "max_bonus": draw(st.sampled_from([0.05, 0.12])),
                              "rise_seconds": 60.0 * draw(st.integers(1, 20))}
    if "partial" in pick:
        m["partial"] = {"close_factor": draw(st.sampled_from([0.1, 0.5, 1.0])), "cooldown_seconds": 60.0 * draw(st.integers(0, 5))}
    if "oracle_guard" in pick:
        m["oracle_guard"] = {"kind": draw(st.sampled_from(["twap", "ema", "median"])), "window_seconds": 60.0 * draw(st.integers(1, 10)),
                             "max_jump": draw(st.sampled_from([0.0, 0.05]))}
    if "dynamic_margin" in pick:
        m["dynamic_margin"] = {"vol_window_seconds": 60.0 * draw(st.integers(2, 20)), "vol_ref": draw(st.sampled_from([0.1, 1.0])),
                               "lt_per_vol": draw(st.sampled_from([0.01, 0.1])), "haircut_k": draw(st.sampled_from([0.0, 0.5])),
                               "buffer": draw(st.sampled_from([0.0, 0.02])),
                               "size_tiers": draw(st.sampled_from([[], [[1e4, 0.95]], [[1e3, 0.97], [1e5, 0.9]]])),
                               "apply": draw(st.sampled_from(["ramp", "at_once", "new_positions"])),
                               "ramp_seconds": 60.0 * draw(st.integers(1, 60))}
    if "random_execution" in pick:
        m["random_execution"] = {"window_seconds": 60.0 * draw(st.integers(1, 10))}
    if "batch" in pick:
        # the batch auction sells the seized collateral itself: not with the other two sellers
        m.pop("twap_exit", None)
        m.pop("buffer_pool", None)
        m["batch"] = {"window_seconds": 60.0 * draw(st.integers(1, 10)),
                      "depth_slippage": draw(st.sampled_from([0.0, 0.005, 0.05])),
                      "keeper_margin": draw(st.sampled_from([0.0, 0.01]))}
    if "volatility_fee" in pick:
        m["volatility_fee"] = {"k": draw(st.sampled_from([0.1, 1.0])), "vol_ref": draw(st.sampled_from([0.1, 1.0])),
                               "vol_window_seconds": 60.0 * draw(st.integers(2, 20))}
    if "volatility_bonus" in pick:
        m["volatility_bonus"] = {"k": draw(st.sampled_from([0.1, 1.0])), "vol_ref": draw(st.sampled_from([0.1, 1.0])),
                                 "vol_window_seconds": 60.0 * draw(st.integers(2, 20))}
    return m


def _scale(m, debt):
    m = {k: dict(v) for k, v in m.items()}
    if "throttle" in m:
        m["throttle"]["max_debt_per_window"] *= debt
    if "buffer_pool" in m:
        m["buffer_pool"]["capital"] *= debt
    if "insurance_fund" in m:
        m["insurance_fund"]["size"] *= debt
    return m


@settings(deadline=None, max_examples=40)
@given(m=market(), dyn=dynamics(), mech=mechanisms())
def test_dynamic_conservation_with_mechanisms(kit, m, dyn, mech):
    c0, coll, debt, proto = realise(kit, m, **dyn)
    sc = c0.scenario
    sc.mechanisms = Mechanisms.model_validate(_scale(mech, float(c0.book.debt.sum())))
    c = kit.build(sc, coll, debt, proto)
    b = c.book
    r = run_dynamic(c)
    ev = r.events
    s = r.summary[0]
    assert s[KD.SUM_EV_LOST] == 0
    assert len(ev) == s[KD.SUM_NLIQ] == r.steps_scalar[0, :, KD.SS_NLIQ].sum()
    fc, fd = r.final_coll, r.final_debt
    assert np.all(fc >= 0.0) and np.all(fd >= 0.0)
    where = {int(i): k for k, i in enumerate(b.ids)}
    idx = np.array([where[int(p)] for p in ev["position"]], dtype=np.int64)
    seized = np.bincount(idx, weights=ev["collateral_seized"], minlength=b.n)
    paid = np.bincount(idx, weights=ev["debt_repaid"] + ev["bad_debt"], minlength=b.n)
    np.testing.assert_allclose(seized + fc, b.coll, rtol=RTOL, atol=0.0)
    scale = b.debt.sum()
    if "volatility_fee" in mech:
        # the leverage fee creates debt by its rule: events and the final book are debt owed (the
        # scaled amounts × the fee index), so a position repays and keeps at least what it
        # borrowed, and the events' repaid debt is the summary's (the debt asset is at 1 here)
        rep = np.bincount(idx, weights=ev["debt_repaid"], minlength=b.n)
        assert np.all(rep + fd >= b.debt * (1 - RTOL) - np.bincount(idx, weights=ev["bad_debt"], minlength=b.n))
        np.testing.assert_allclose(s[KD.SUM_REPAID], ev["debt_repaid"].sum(), rtol=RTOL, atol=RTOL * scale)
    else:
        np.testing.assert_allclose(paid + fd, b.debt, rtol=RTOL, atol=0.0)
        np.testing.assert_allclose(s[KD.SUM_REPAID] + s[KD.SUM_BAD] + fd.sum(), b.debt.sum(), rtol=RTOL,
                                   atol=RTOL * scale)
    np.testing.assert_allclose(r.steps_asset[0, :, 0, KD.ST_SEIZED].sum(), seized.sum(), rtol=RTOL, atol=RTOL * b.coll.sum())
    assert np.all(ev["collateral_seized"] >= 0.0) and np.all(ev["debt_repaid"] >= 0.0)
    # mechanism metrics
    np.testing.assert_allclose(s[KD.SUM_FUND_DRAW] + s[KD.SUM_SOCIALIZED], s[KD.SUM_BAD], rtol=RTOL, atol=RTOL * scale)
    np.testing.assert_allclose(s[KD.SUM_BORROWER_LOSS], s[KD.SUM_BONUS] + s[KD.SUM_FEES], rtol=RTOL, atol=RTOL * scale)
    assert s[KD.SUM_NPOS_LIQ] == len(np.unique(idx))
    assert 0 <= s[KD.SUM_PAUSED] <= r.steps and 0 <= s[KD.SUM_DISLOCATION] <= r.steps
    assert s[KD.SUM_HELD_VALUE] >= 0.0
    if "insurance_fund" not in mech:
        assert s[KD.SUM_FUND_DRAW] == 0.0
    if "batch" in mech:
        # every batch clears by the last step at one price per window and asset: nothing left unpriced
        assert not np.isnan(ev["execution_price"]).any()
        assert s[KD.SUM_HELD_VALUE] == 0.0
    if "buffer_pool" not in mech and "twap_exit" not in mech and "batch" not in mech:
        assert s[KD.SUM_HELD_VALUE] == 0.0

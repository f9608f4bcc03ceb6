"""The engine's Aave health factor reproduces the recorded ``healthFactor`` of real Aave v2 users.

Data: ../shared/data/aave_v2_borrowers_2021/aave_user_details_v2 (10 users, a row every 5,000
blocks until liquidation; HF rounded to 2 decimals). The files carry no liquidation thresholds:
``calibration.params.aave_v2_lt`` holds the values (measured from these same files for WETH, WBTC,
DAI, USDC, LINK; Aave's published ones for the assets that only appear beside others).
Valuation: the per-asset token amounts at the file's USD prices rescaled to Aave's
``totalCollateral`` (the file's prices are not Aave's oracle), debt = Aave's ``totalDebt``
(``data.aave.oracle_health_factor``).
"""

from __future__ import annotations

import numpy as np
import pytest
from data_helpers import need

from liqcascade.calibration.params import aave_v2_lt
from liqcascade.data.aave import aave_health_factor, load_aave_details_dir, oracle_health_factor
from liqcascade.protocols.aave import kernel as K

ROUNDING = 0.005  # healthFactor is written with 2 decimals


@pytest.fixture(scope="module")
def users():
    return load_aave_details_dir(need("aave_v2_borrowers_2021", "aave_user_details_v2"))


def test_recorded_health_factors_match(users):
    single, multi = [], []
    compared = 0
    for h in users:
        hf = oracle_health_factor(h, aave_v2_lt(int(h.block[0])))
        ok = np.isfinite(hf)
        compared += int(ok.sum())
        err = np.abs(hf - h.health_factor)
        one = (h.collateral > 0).sum(axis=1) == 1
        single.append(err[ok & one])
        multi.append(err[ok & ~one])
    single = np.concatenate(single)
    multi = np.concatenate(multi)
    # every row with collateral and debt is compared but those whose per-asset columns miss
    # part of the collateral (1,278 of the 1,308 rows with collateral and debt)
    assert compared >= 1270
    # one collateral asset: the price ratios do not matter, the match is exact to the rounding
    assert single.size > 600 and single.max() <= ROUNDING + 1e-9
    # several: the file's USD price ratios differ slightly from Aave's oracle's
    assert multi.size > 550 and np.mean(multi <= ROUNDING + 1e-9) > 0.99 and multi.max() < 0.0075


def test_thresholds_are_pinned_by_the_file(users):
    """A wrong LT breaks the match: WETH at 0.80 instead of 0.825 is off by far more than the rounding."""
    h = next(u for u in users if u.assets == ("USDT", "WETH", "MANA", "GUSD"))  # WETH-only collateral
    good = oracle_health_factor(h, aave_v2_lt(int(h.block[0])))
    bad = oracle_health_factor(h, {**aave_v2_lt(int(h.block[0])), "WETH": 0.80})
    ok = np.isfinite(good)
    assert np.abs(good[ok] - h.health_factor[ok]).max() <= ROUNDING + 1e-9
    assert np.abs(bad[ok] - h.health_factor[ok]).max() > 0.02


def test_formula_is_the_kernels(users):
    """``aave_health_factor`` < 1 exactly when the engine's liquidation kernel liquidates the same
    position (same entries, prices and thresholds), and the recorded HF agrees away from 1."""
    rules = np.zeros(K.NRULE)
    rules[K.R_RULE] = K.RULE_FIXED
    rules[K.R_CF] = 0.5
    checked = liquidatable = 0
    for h in users:
        lt = aave_v2_lt(int(h.block[0]))
        A = len(h.assets)
        lt_row = np.append([lt.get(s, 0.0) for s in h.assets], 0.0)
        zeros = np.zeros(A + 1)
        assets = np.arange(A + 1, dtype=np.int64)
        hf_file = oracle_health_factor(h, lt)
        for i in np.flatnonzero(np.isfinite(hf_file)):
            k = h.total_collateral_eth[i] / (h.collateral[i] * np.nan_to_num(h.price_usd[i])).sum()
            prices = np.append(np.nan_to_num(h.price_usd[i]) * k, 1.0)
            cs = np.append(h.collateral[i], 0.0)
            ds = np.append(np.zeros(A), h.total_debt_eth[i])
            hf = float(aave_health_factor(cs, ds, prices, lt_row))
            assert hf == pytest.approx(hf_file[i], rel=1e-12)
            e_coll = K.liquidate_position(cs.copy(), ds.copy(), assets, prices, lt_row, zeros, zeros, rules)[0]
            assert (e_coll >= 0) == (hf < 1.0), (h.user, int(h.block[i]), hf)
            rec = h.health_factor[i]
            if abs(rec - 1.0) > 0.01:
                assert (hf < 1.0) == (rec < 1.0)
            checked += 1
            liquidatable += hf < 1.0
    assert checked >= 1270 and 100 < liquidatable < checked - 100

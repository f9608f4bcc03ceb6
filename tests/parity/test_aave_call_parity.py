"""The Aave kernel's single-call functions (``health_factor``, ``max_liquidatable_debt``,
``liquidation_call_amounts``, used by ``lc.protocols.aave.liquidation_call``) against their
plain-Python twins, on generated positions of every rule version."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqcascade.protocols.aave import kernel as K
from liqcascade.protocols.aave import twin as T

SETTINGS = settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
amount = st.floats(0.0, 1e7)
price = st.floats(1e-3, 1e5)


def rules(rule, cf=0.5):
    r = np.zeros(K.NRULE)
    r[K.R_RULE], r[K.R_CF], r[K.R_HF_CF], r[K.R_MIN_BASE], r[K.R_MIN_LEFTOVER] = rule, cf, 0.95, 2000.0, 1000.0
    return r


@SETTINGS
@given(c=st.lists(amount, min_size=3, max_size=3), d=st.lists(amount, min_size=3, max_size=3),
       p=st.lists(price, min_size=3, max_size=3), lt=st.lists(st.floats(0.0, 0.95), min_size=3, max_size=3))
def test_health_factor(c, d, p, lt):
    got = K.health_factor(np.array(c), np.array(d), np.array(p), np.array(lt))
    want = T.health_factor_py(c, d, p, lt)
    if math.isinf(want):
        assert math.isinf(got)
    else:
        assert got == pytest.approx(want, rel=1e-12)


@SETTINGS
@given(rule=st.sampled_from([K.RULE_FIXED, K.RULE_V32, K.RULE_V33]), cf=st.floats(0.05, 1.0),
       coll=st.floats(1e-6, 1e6), debt=st.floats(1e-6, 1e7), pc=price, pd=price, other=st.floats(0.0, 1e7),
       hf=st.floats(0.01, 0.9999), lb=st.floats(1.0, 1.2), pfee=st.floats(0.0, 0.5),
       cover=st.one_of(st.just(math.inf), st.floats(0.0, 1e7)))
def test_liquidation_call_amounts(rule, cf, coll, debt, pc, pd, other, hf, lb, pfee, cover):
    r = rules(rule, cf)
    total = debt * pd + other
    got = K.liquidation_call_amounts(r, hf, coll, pc, debt, pd, total, lb, pfee, cover)
    want = T.liquidation_call_amounts_py(r, hf, coll, pc, debt, pd, total, lb, pfee, cover)
    assert got[0] == want[0]
    np.testing.assert_allclose(got[1:], want[1:], rtol=1e-12, atol=1e-12)
    code, max_debt, repaid, seized, fee = got
    if code == K.CALL_OK:  # nothing beyond the balances, the cap or the ask
        assert seized <= coll * (1 + 1e-12) and repaid <= min(max_debt, cover) * (1 + 1e-12) + 1e-12
        assert 0.0 <= fee <= seized


def test_the_engine_pair_is_a_call_with_the_largest_ask():
    """``liquidate_pair`` (the engine's mechanical liquidator) repays what a call asking for
    ``type(uint256).max`` repays whenever the call does not revert."""
    rng = np.random.default_rng(3)
    for _ in range(500):
        rule = int(rng.integers(0, 2))  # fixed / v3.2 (no dust: the engine avoids the revert on v3.3)
        r = rules(rule)
        coll, debt = rng.uniform(0.1, 100), rng.uniform(100, 2e5)
        pc = debt / coll / rng.uniform(0.8, 1.25) / 0.86 * rng.uniform(0.5, 0.999)
        hf = coll * pc * 0.86 / debt
        if not hf < 1:
            continue
        seize, repay, bad, fee, _ = K.liquidate_pair(coll, debt, pc, 1.0, 0.86, 0.05, 0.1, r)
        code, _, repaid, seized, fee2 = K.liquidation_call_amounts(r, hf, coll, pc, debt, 1.0, debt, 1.05, 0.1, math.inf)
        assert code == K.CALL_OK
        assert (repaid, seized, fee2) == pytest.approx((repay, seize, fee), rel=1e-12)

"""Conformance: ``lc.protocols.crvusd`` (``create_loan``, ``health``, ``bands``) against
curvefi/curve-stablecoin's own tests at tag ``v1``:

* ``tests/stableborrow/test_create_repay.py`` (``CR:<line>``) with the market of
  ``tests/stableborrow/conftest.py`` (L80-87: ``add_market(token, A = 100, fee = 1 %, admin fee 0,
  oracle, policy, loan_discount = 5 %, liquidation_discount = 2 %, debt_ceiling = 1e6)``) and the
  oracle price of ``tests/conftest.py`` (``PRICE = 3000``).
"""

from __future__ import annotations

import pytest

import liqcascade as lc

Cv = lc.protocols.crvusd
CONF = dict(A=100, fee=0.01, admin_fee=0.0, loan_discount=0.05, liquidation_discount=0.02)
C_AMOUNT = 2 * 1e6 * 1.5 / 3000
L_AMOUNT = 5e5


def market():
    return Cv.Market(CONF, 3000.0, debt_ceiling=1e6)


def test_create_loan_reverts():
    # CR:8 test_create_loan
    m = market()
    with pytest.raises(Cv.LlammaError):  # 2M > the 1M the Controller holds
        Cv.create_loan(m, "user", C_AMOUNT, 2e6, 5)
    with pytest.raises(Cv.NeedMoreTicks):
        Cv.create_loan(m, "user", C_AMOUNT, L_AMOUNT, 3)
    with pytest.raises(Cv.NeedLessTicks):
        Cv.create_loan(m, "user", C_AMOUNT, L_AMOUNT, 400)
    with pytest.raises(Cv.DebtTooHigh) as e:
        Cv.create_loan(m, "user", C_AMOUNT / 100, L_AMOUNT, 5)
    assert e.value.revert == "Debt too high"
    Cv.create_loan(m, "user", C_AMOUNT, L_AMOUNT, 5)  # "Phew, the loan finally was created"
    with pytest.raises(Cv.LoanAlreadyCreated):
        Cv.create_loan(m, "user", C_AMOUNT, 1, 5)
    assert m.debt("user") == L_AMOUNT


def test_create_loan_prices_and_health():
    # CR:41-50: user_prices around l/c/(1 − loan_discount) within 2/A; health in [0.03, 0.04];
    # full health ≈ c·3000/l − 1 − 0.02 within 2 %
    m = market()
    n1, n2 = Cv.create_loan(m, "user", C_AMOUNT, L_AMOUNT, 5)
    assert n2 - n1 == 4
    p_up, p_down = Cv.user_prices(m, "user")
    p_lim = L_AMOUNT / C_AMOUNT / (1 - 0.05)
    assert abs(__import__("math").log(p_lim / (p_up * p_down) ** 0.5)) <= 2 / 100
    h = Cv.health(m, "user") + 0.02
    assert 0.05 <= h <= 0.06
    hf = Cv.health(m, "user", True) + 0.02
    assert abs(__import__("math").log(hf / (C_AMOUNT * 3000 / L_AMOUNT - 1))) <= 0.02


def test_health_is_the_sum_over_bands():
    m = market()
    Cv.create_loan(m, "user", C_AMOUNT, L_AMOUNT, 5)
    bands = Cv.bands(m, "user")
    assert [b.n for b in bands] == list(range(bands[0].n, bands[0].n + 5))
    assert sum(b.collateral for b in bands) == pytest.approx(C_AMOUNT)
    assert all(b.stablecoin == 0.0 for b in bands)  # the price is above every band
    for b in bands:  # a band walked down gives collateral · sqrt(p_up · p_down) of stablecoin
        assert b.x_down == pytest.approx(b.collateral * (b.p_up * b.p_down) ** 0.5, rel=1e-12)
    h = sum(b.x_down for b in bands) * (1 - 0.02) / L_AMOUNT - 1
    assert Cv.health(m, "user") == pytest.approx(h, rel=1e-12)


def test_max_borrowable_is_the_edge_of_debt_too_high():
    # CR:53 test_max_borrowable: max_borrowable · 1.001 reverts "Debt too high", max_borrowable does not
    m = market()
    for coll, n in ((1.0, 5), (37.5, 12), (1e3, 50)):
        mx = Cv.max_borrowable(m, coll, n)
        with pytest.raises(Cv.DebtTooHigh):
            Cv.create_loan(Cv.Market(CONF, 3000.0), "u", coll, mx * 1.001, n)
        Cv.create_loan(Cv.Market(CONF, 3000.0), "u", coll, mx, n)

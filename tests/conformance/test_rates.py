"""Conformance: interest-rate models against the protocols' own formulas.

Two kinds of expected value:

* **exact real values of the formula**, computed with Python ``Fraction`` from the same inputs;
  the float64 kernel must match them to a few units in the last place ("exactly in floating
  point": same formula term by term, only float rounding);
* **the contracts' integer results** (``rates_int``: ray/wad fixed point with the contracts'
  rounding) and the values the protocols' own test suites record, which the float kernel matches
  to ~1e-12 relative (the fixed point rounds at 1e-27 or 1e-18).

Sources: Aave v3 — aave-dao/aave-v3-origin@fd1fbd9 ``DefaultReserveInterestRateStrategyV2.sol``
L124-170, ``MathUtils.sol`` L23-85, ``ReserveLogic.sol`` L85-243, tests
``tests/misc/rates/RateStrategy.calculateRates.t.sol`` L13-123 and
``tests/protocol/libraries/math/MathUtils.t.sol`` L14-85. Comet — compound-finance/comet@d5a30b0
``contracts/Comet.sol`` L166-176, L403-486. Maker — makerdao/dss@fa4f663 ``src/jug.sol`` L62-128;
the per-second rate table of makerdao/spells-mainnet@b8add8a ``scripts/rates.sh``. Liquity —
liquity/dev@39f1f7f ``TroveManager.sol`` L41-57, L1358-1472, ``LiquityMath.sol`` L39-86.
"""

from __future__ import annotations

import math
from fractions import Fraction as F

import numpy as np
import pytest
import rates_int as R
from pydantic import ValidationError

from liqcascade.rates import load
from liqcascade.rates.aave_v3 import kernel as A
from liqcascade.rates.aave_v3.model import AaveV3Rates
from liqcascade.rates.comet import kernel as C
from liqcascade.rates.comet.model import PRESETS, CometRates, per_second
from liqcascade.rates.fixed import kernel as X
from liqcascade.rates.fixed.model import FixedRate
from liqcascade.rates.liquity import kernel as L
from liqcascade.rates.liquity.model import LiquityFee

ULP = 4 * 2.0**-52  # a few units in the last place, relative


def close(x: float, exact: F, ulps: float = 4.0) -> bool:
    return abs(F(x) - exact) <= F(ulps * 2.0**-52) * abs(exact) + F(1, 10**300)


# --- Aave v3 -----------------------------------------------------------------------------------

AAVE_TEST = dict(optimal_usage=0.8, base=0.01, slope1=0.04, slope2=0.6, reserve_factor=0.1)  # calculateRates.t.sol


def exact_aave_rates(debt, avail, unbacked, base, s1, s2, opt, rf):
    debt, avail, unbacked, base, s1, s2, opt, rf = map(F, (debt, avail, unbacked, base, s1, s2, opt, rf))
    if debt == 0:
        return F(0), base
    ub = debt / (avail + debt)
    us = debt / (avail + debt + unbacked)
    var = base + (s1 + s2 * (ub - opt) / (1 - opt) if ub > opt else s1 * ub / opt)
    return var * us * (1 - rf), var


@pytest.mark.parametrize("debt,avail,unbacked", [
    (0.8, 0.2, 0.0),  # calculateRates.t.sol L13-47: 80 % usage
    (1.0, 0.0, 0.0),  # L49-85: 100 % usage
    (0.8, 0.2, 0.6),  # L87-123: 80 % borrow usage, 50 % supply usage (unbacked)
    (0.8, 0.2, 0.8 * 124 - 0.2),  # L125-: 80 bps supply usage
    (0.3, 0.7, 0.0), (0.95, 0.05, 0.0), (0.0, 1.0, 0.0), (123.0, 4.5, 0.0),
])
def test_aave_rates_match_strategy(debt, avail, unbacked):
    m = AaveV3Rates(**AAVE_TEST)
    par = m.pack()
    liq, var = A.aave_interest_rates(debt, avail, unbacked, par)
    e_liq, e_var = exact_aave_rates(debt, avail, unbacked, 0.01, 0.04, 0.6, 0.8, 0.1)
    assert close(var, e_var) and close(liq, e_liq)
    # the contract's ray arithmetic on the same inputs (1e18-scaled amounts)
    w = lambda v: int(round(v * 10**18))  # noqa: E731
    r_liq, r_var = R.aave_rates(w(debt), w(avail), w(unbacked), 1000, 8000, 100, 400, 6000)
    assert var == pytest.approx(r_var / R.RAY, rel=1e-15, abs=1e-26)
    assert liq == pytest.approx(r_liq / R.RAY, rel=1e-12, abs=1e-26)
    # the values the test file asserts
    if (debt, avail, unbacked) == (0.8, 0.2, 0.0):
        assert var == pytest.approx(0.05, rel=1e-15) and liq == pytest.approx(0.05 * 0.8 * 0.9, rel=1e-15)
    if (debt, avail) == (1.0, 0.0):
        assert var == pytest.approx(0.65, rel=1e-15) and liq == pytest.approx(0.65 * 0.9, rel=1e-15)
    if unbacked == 0.6:
        assert liq == pytest.approx(0.05 * 0.5 * 0.9, rel=1e-15)
    if debt == 0.0:
        assert (liq, var) == (0.0, 0.01)


def test_aave_interest_functions_match_mathutils():
    # MathUtils.t.sol L14-18: 8 % linear over 7 years = 1.56
    assert A.linear_interest(0.08, 7 * A.SECONDS_PER_YEAR) == pytest.approx(1.56, rel=1e-15)
    assert R.aave_linear(8 * 10**25, 7 * R.SECONDS_PER_YEAR) == 156 * 10**25
    # L64-85: 100,000 % over 10,000 years: the 3-term series, 1.66666716666676666667e20
    got = A.compounded_interest(1000.0, 10_000 * A.SECONDS_PER_YEAR)
    want = R.aave_compounded(1000 * R.RAY, 10_000 * R.SECONDS_PER_YEAR)
    assert want == 166666716666676666667666666666666600000000000000
    assert got == pytest.approx(want / R.RAY, rel=1e-15)
    # L20-34: 8 % over 7 years within 0.3 % of e^0.56 (the approximation undercharges)
    c = A.compounded_interest(0.08, 7 * A.SECONDS_PER_YEAR)
    assert abs(c / math.exp(0.56) - 1) < 0.003 and c < math.exp(0.56)
    assert A.compounded_interest(0.08, 0.0) == 1.0  # L52-62
    for rate, dt in [(0.05, 12.0), (0.65, 3600.0), (3.0, 86400.0 * 30), (0.0123, 1.0)]:
        x = F(rate) * F(dt) / F(A.SECONDS_PER_YEAR)
        assert close(A.compounded_interest(rate, dt), 1 + x + x * (x / 2 + x * (x / 6)))
        assert close(A.linear_interest(rate, dt), 1 + x)
        want = R.aave_compounded(int(F(rate) * R.RAY), int(dt))
        assert A.compounded_interest(rate, dt) == pytest.approx(want / R.RAY, rel=1e-15)


def test_aave_update_state_follows_reserve_logic():
    """One ``updateState`` by hand from ReserveLogic L183-243, in exact rationals."""
    m = AaveV3Rates(**AAVE_TEST)
    par = m.pack()
    st = m.initial_state(1_000_000.0, 850_000.0)
    li, vi, lr, vr = (F(st[k]) for k in (A.AS_LIQ_INDEX, A.AS_VAR_INDEX, A.AS_LIQ_RATE, A.AS_VAR_RATE))
    dt = 3600.0
    g = A.aave_update_state(st, par, dt)
    x = vr * F(dt) / F(A.SECONDS_PER_YEAR)
    e_vi = vi * (1 + x + x * (x / 2 + x * (x / 6)))
    e_li = li * (1 + lr * F(dt) / F(A.SECONDS_PER_YEAR))
    assert close(st[A.AS_VAR_INDEX], e_vi) and close(st[A.AS_LIQ_INDEX], e_li)
    assert close(g, e_vi / vi)
    e_tr = F(850_000) * (e_vi - vi) * F(0.1) / e_li
    assert close(st[A.AS_TREASURY_SCALED], e_tr, 64)
    # borrowers pay at least what suppliers and the treasury are credited
    assert A.aave_solvency_gap(st) >= -1e-9


def test_aave_utilization_lockout_and_spike():
    """At 100 % utilization nothing can be withdrawn or borrowed and the rate is at its cap."""
    m = AaveV3Rates(**AAVE_TEST)
    par = m.pack()
    st = m.initial_state(1_000.0, 900.0)
    assert A.aave_borrow(st, par, 500.0) == pytest.approx(100.0)
    assert A.aave_utilization(st) == pytest.approx(1.0)
    assert st[A.AS_VAR_RATE] == pytest.approx(0.65)
    assert A.aave_withdraw(st, par, 10.0) == 0.0 and A.aave_borrow(st, par, 1.0) == 0.0
    assert A.aave_repay(st, par, 50.0) == pytest.approx(50.0)
    assert A.aave_withdraw(st, par, 80.0) == pytest.approx(50.0)  # capped by what is there


def test_aave_model_validation():
    for bad in (dict(optimal_usage=1.0), dict(optimal_usage=0.001), dict(slope1=0.7),
                dict(slope2=9.99, base=0.1), dict(reserve_factor=1.5), dict(other=1)):
        with pytest.raises(ValidationError):
            AaveV3Rates(**{**AAVE_TEST, **bad})


# --- Compound v3 -------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("u", [0.0, 0.3, 0.8, 0.85, 0.9, 0.97, 1.0, 1.2])
def test_comet_rates_match_contract(preset, u):
    cfg = PRESETS[preset]
    m = CometRates(**cfg)
    par = m.pack()
    wad = lambda v: int(round(v * 10**18))  # noqa: E731
    for side in ("supply", "borrow"):
        ps = {k: R.comet_per_second(wad(cfg[f"{side}_{k}"])) for k in ("slope_low", "slope_high", "base")}
        want = R.comet_rate(wad(u), wad(cfg[f"{side}_kink"]), ps["slope_low"], ps["slope_high"], ps["base"])
        got = (C.comet_supply_rate if side == "supply" else C.comet_borrow_rate)(u, par)
        # mulFactor truncates at 1e-18 of a per-second rate (~1e-9 relative)
        assert got == pytest.approx(want / 1e18, rel=2e-9, abs=2e-18)
        # and the float formula is exact for the stored constants
        kink = F(par[C.CP_SUPPLY_KINK if side == "supply" else C.CP_BORROW_KINK])
        o = 0 if side == "supply" else 4
        lo, hi, base = (F(par[o + k]) for k in (1, 2, 3))
        e = base + lo * F(u) if F(u) <= kink else base + lo * kink + hi * (F(u) - kink)
        assert close(got, e)


def test_comet_per_second_constants_truncate_like_the_constructor():
    assert per_second(0.0325) * 1e18 == 32_500_000_000_000_000 // 31_536_000  # 1030568239
    assert per_second(0.015) == 475646879 / 1e18
    m = CometRates(**PRESETS["cUSDCv3-launch"])
    # at the kink: borrow APR = 1.5 % + 3.5 % · 0.8 = 4.3 % (per-second truncation makes it a hair less)
    apr = C.comet_borrow_rate(0.8, m.pack()) * C.SECONDS_PER_YEAR
    assert apr == pytest.approx(0.043, rel=1e-8) and apr < 0.043


def test_comet_accrual_matches_accrued_interest_indices():
    m = CometRates(**PRESETS["cUSDCv3-launch"])
    par = m.pack()
    st = m.initial_state(1_000_000.0, 900_000.0)  # U = 0.9 > kink
    u = C.comet_utilization(st)
    sr, br = C.comet_supply_rate(u, par), C.comet_borrow_rate(u, par)
    g = C.comet_accrue(st, par, 86_400.0)
    assert close(st[C.CS_BORROW_INDEX], 1 + F(br) * 86_400)
    assert close(st[C.CS_SUPPLY_INDEX], 1 + F(sr) * 86_400)
    assert g == pytest.approx(1 + br * 86_400, rel=1e-15)
    want_b = R.comet_accrue_index(10**15, int(round(br * 1e18)), 86_400)
    assert st[C.CS_BORROW_INDEX] == pytest.approx(want_b / 1e15, rel=1e-14)
    # reserves grow by exactly the interest spread, and cash caps withdrawals
    assert C.comet_reserves(st) == pytest.approx(900_000 * br * 86_400 - 1_000_000 * sr * 86_400, rel=1e-9)
    assert C.comet_withdraw(st, 200_000.0) == pytest.approx(100_000.0)
    assert C.comet_borrow(st, 1.0) == 0.0


# --- Maker stability fee -----------------------------------------------------------------------

# makerdao/spells-mainnet@b8add8a scripts/rates.sh: bc -l 'scale=27; e( l(1 + f)/(60*60*24*365) )'
SPELL_RATES = {
    0.01: 1000000000315522921573372069, 0.015: 1000000000472114805215157978,
    0.02: 1000000000627937192491029810, 0.03: 1000000000937303470807876289,
    0.04: 1000000001243680656318820312, 0.045: 1000000001395766281313196627,
    0.05: 1000000001547125957863212448, 0.06: 1000000001847694957439350562,
    0.07: 1000000002145441671308778766, 0.08: 1000000002440418608258400030,
    0.12: 1000000003593629043335673582,
}


@pytest.mark.parametrize("annual", sorted(SPELL_RATES))
def test_maker_per_second_rate_matches_the_spell_table(annual):
    r = X.per_second_rate(annual)
    assert r == pytest.approx((SPELL_RATES[annual] - R.RAY) / R.RAY, rel=1e-15)
    model = FixedRate(duty_ray=str(SPELL_RATES[annual]))
    assert model.per_second() == (SPELL_RATES[annual] - R.RAY) / 1e27
    # drip over a year with the on-chain duty compounds back to the annual fee (rpow)
    duty = SPELL_RATES[annual]
    want = R.rpow(duty, 31_536_000)
    st = FixedRate.initial_state()
    g = X.fixed_drip(st, model.pack(), 31_536_000.0)
    assert g == pytest.approx(want / R.RAY, rel=1e-14)
    assert g == pytest.approx(1 + annual, rel=1e-12)
    assert st[X.FS_FEES] == pytest.approx(g - 1, rel=1e-15)


@pytest.mark.parametrize("dt", [1, 12, 3600, 86_400 * 7])
def test_maker_drip_matches_rpow(dt):
    duty = SPELL_RATES[0.05]
    prev = 1_234_567_890_123_456_789_012_345_678  # an ilk rate accumulator, ray
    want = prev * R.rpow(duty, dt) // R.RAY  # drip: _rmul(_rpow(base + duty, now − rho), prev)
    st = np.array([prev / R.RAY, 0.0])
    X.fixed_drip(st, FixedRate(duty_ray=str(duty)).pack(), float(dt))
    assert st[X.FS_RATE] == pytest.approx(want / R.RAY, rel=1e-15)


def test_fixed_model_validation():
    for bad in (dict(), dict(annual=0.02, duty_ray="1000000000627937192491029810"), dict(duty_ray="12"),
                dict(duty_ray="0999999999999999999999999999"), dict(annual=-0.1)):
        with pytest.raises(ValidationError):
            FixedRate(**bad)


# --- Liquity -----------------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [0, 59, 60, 3599, 12 * 3600, 86_400, 86_400 * 30, 86_400 * 365 * 2000])
def test_liquity_decay_matches_decpow(seconds):
    base = 0.037
    want = R.liquity_decayed(int(base * 10**18), seconds) / 1e18
    got = L.decayed_base_rate(base, 0.0, float(seconds))
    assert got == pytest.approx(want, rel=1e-12, abs=1e-18)


def test_liquity_half_life_floor_cap_and_redemption():
    # "Half-life of 12h": d^720 = 1/2 (TroveManager L42-45)
    assert L.decayed_base_rate(1.0, 0.0, 720 * 60.0) == pytest.approx(0.5, rel=1e-12)
    st = LiquityFee(base_rate=0.0).initial_state(now=0.0)
    assert L.liquity_borrow_fee(st, 120.0, 10_000.0) == pytest.approx(50.0)  # 0.5 % floor
    st = LiquityFee(base_rate=0.2).initial_state(now=0.0)
    assert L.liquity_borrow_fee(st, 60.0, 10_000.0) == pytest.approx(500.0)  # 5 % cap
    # redeeming 1 % of the supply raises the base rate by 0.5 % (BETA = 2)
    st = LiquityFee(base_rate=0.0).initial_state(now=0.0)
    rate = L.liquity_redeem(st, 0.0, 10.0, 2_000.0, 2_000_000.0)
    assert st[L.LS_BASE_RATE] == pytest.approx(0.005) and rate == pytest.approx(0.01)
    # the clock moves only after a full minute: 30 s later nothing decays and the clock stays
    st = LiquityFee(base_rate=0.1).initial_state(now=0.0)
    L.liquity_borrow_fee(st, 30.0, 1.0)
    assert st[L.LS_LAST_OP] == 0.0 and st[L.LS_BASE_RATE] == 0.1
    L.liquity_borrow_fee(st, 90.0, 1.0)  # one minute decays, clock jumps to 90 s
    assert st[L.LS_LAST_OP] == 90.0 and st[L.LS_BASE_RATE] == pytest.approx(0.1 * L.MINUTE_DECAY_FACTOR)


def test_registry():
    assert load("aave_v3").AaveV3Rates is AaveV3Rates
    assert load("comet", "kernel").comet_accrue is C.comet_accrue
    with pytest.raises(KeyError):
        load("nope")

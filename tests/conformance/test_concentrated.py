"""Conformance: the concentrated-liquidity kernel against Uniswap v3's math.

Expected values come from two places:

* v3-core's own test suite (Uniswap/v3-core@d8b1c63): ``test/__snapshots__/TickMath.spec.ts.snap``
  (``getSqrtRatioAtTick`` / ``getTickAtSqrtRatio`` results), ``test/TickMath.spec.ts`` L31-52,
  ``test/SwapMath.spec.ts`` L21-115 (``computeSwapStep``) and
  ``test/__snapshots__/UniswapV3Pool.swaps.spec.ts.snap`` (whole swaps across ticks on the pools of
  ``test/UniswapV3Pool.swaps.spec.ts`` L237-343);
* ``uniswap_int`` (this folder), which restates the contracts' integer math (``SqrtPriceMath``,
  ``SwapMath``, the ``swap`` loop) and reproduces those snapshots exactly; it then gives expected
  values for cases the suite does not list.

The kernel works in float64 and human units; with ``decimals = 0`` human units are the raw
integers, so amounts compare to the contract's to ~1e-12 relative (the contract rounds every
amount to 1 wei in the pool's favour).
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
from uniswap_int import Q96, Pool, compute_swap_step, sqrt_ratio_at_tick

from liqcascade.errors import InputError
from liqcascade.venues.concentrated import kernel as K
from liqcascade.venues.concentrated import snapshot as S
from liqcascade.venues.concentrated.model import ConcentratedVenue

E18 = 10**18
MIN60, MAX60 = -887220, 887220  # getMinTick(60), getMaxTick(60)

# TickMath.spec.ts.snap "getSqrtRatioAtTick tick T result" and TickMath.spec.ts L31-52
SQRT_AT_TICK = {
    -887272: 4295128739, -887271: 4295343490, -738203: 7409801140451, -500000: 1101692437043807371,
    -250000: 295440463448801648376846, -150000: 43836292794701720435367485,
    -50000: 6504256538020985011912221507, -5000: 61703726247759831737814779831,
    -4000: 64867181785621769311890333195, -3000: 68192822843687888778582228483,
    -2500: 69919044979842180277688105136, -1000: 75364347830767020784054125655,
    -500: 77272108795590369356373805297, -250: 78244023372248365697264290337,
    -100: 78833030112140176575862854579, -50: 79030349367926598376800521322,
    50: 79426470787362580746886972461, 100: 79625275426524748796330556128,
    250: 80224679980005306637834519095, 500: 81233731461783161732293370115,
    1000: 83290069058676223003182343270, 2500: 89776708723587163891445672585,
    3000: 92049301871182272007977902845, 4000: 96768528593268422080558758223,
    5000: 101729702841318637793976746270, 50000: 965075977353221155028623082916,
    150000: 143194173941309278083010301478497, 250000: 21246587762933397357449903968194344,
    500000: 5697689776495288729098254600827762987878,
    738203: 847134979253254120489401328389043031315994541,
    887271: 1461373636630004318706518188784493106690254656249,
    887272: 1461446703485210103287273052203988822378723970342,
}
# TickMath.spec.ts.snap "getTickAtSqrtRatio ratio R result"
TICK_AT_SQRT = {
    4295128739: -887272, 79228162514264337593543: -276325, 79228162514264337593543950: -138163,
    9903520314283042199192993792: -41591, 28011385487393069959365969113: -20796,
    56022770974786139918731938227: -6932, 79228162514264337593543950336: 0,
    112045541949572279837463876454: 6931, 224091083899144559674927752909: 20795,
    633825300114114700748351602688: 41590, 79228162514264337593543950336000: 138162,
    79228162514264337593543950336000000: 276324,
}


def encode_price_sqrt(reserve1: int, reserve0: int) -> int:
    """v3-core ``test/shared/utilities.ts`` ``encodePriceSqrt``: ``√(r1/r0) · 2^96``."""
    return int((Decimal(reserve1) / Decimal(reserve0)).sqrt() * Q96)


def state(positions, sqrt_x96, fee_pips, asset0=True):
    """Kernel arrays for raw positions at a Q96 price (decimals 0: raw = human)."""
    snap = S.Snapshot(np.array([p[0] for p in positions], np.int64), np.array([p[1] for p in positions], np.int64),
                      np.array([float(p[2]) for p in positions]))
    price = (sqrt_x96 / Q96) ** 2
    cs, tk_sqrt, tk_net, _ = S.build_state(snap, price, fee_pips / 1e6, asset_is_token0=asset0)
    return cs, tk_sqrt, tk_net


# --- TickMath ------------------------------------------------------------------------------


@pytest.mark.parametrize("tick", sorted(SQRT_AT_TICK))
def test_sqrt_at_tick_matches_tickmath(tick):
    want = SQRT_AT_TICK[tick] / Q96
    # Q64.96 has few digits at the low end (4295128739 ≈ 2^32): allow one unit of the contract
    assert K.sqrt_at_tick(tick) == pytest.approx(want, rel=max(1e-13, 1.0 / SQRT_AT_TICK[tick]))
    if abs(tick) <= 150_000:  # the integer helper is exact there (see uniswap_int)
        assert sqrt_ratio_at_tick(tick) == SQRT_AT_TICK[tick]


@pytest.mark.parametrize("ratio", sorted(TICK_AT_SQRT))
def test_tick_at_sqrt_matches_tickmath(ratio):
    assert K.tick_at_sqrt(ratio / Q96) == TICK_AT_SQRT[ratio]


# --- SwapMath.computeSwapStep ----------------------------------------------------------------


@pytest.mark.parametrize("target,amount_in,fee_amount,amount_out,capped", [
    # SwapMath.spec.ts L21-51: exact amount in that gets capped at price target in one for zero
    ((101, 100), 9975124224178055, 5988667735148, 9925619580021728, True),
    # SwapMath.spec.ts L85-115: exact amount in that is fully spent in one for zero
    ((1000, 100), 999400000000000000, 600000000000000, 666399946655997866, False),
])
def test_compute_swap_step_matches_swapmath_spec(target, amount_in, fee_amount, amount_out, capped):
    sp, st = encode_price_sqrt(1, 1), encode_price_sqrt(*target)
    liq, amount, fee = 2 * E18, E18, 600
    assert compute_swap_step(sp, st, liq, amount, fee)[1:] == (amount_in, amount_out, fee_amount)
    nxt, a_in, a_out, a_fee = K.swap_step(sp / Q96, st / Q96, float(liq), float(amount), fee / 1e6, False)
    assert a_in == pytest.approx(amount_in, rel=1e-12)
    assert a_out == pytest.approx(amount_out, rel=1e-12)
    assert a_fee == pytest.approx(fee_amount, rel=1e-9)
    assert (nxt == st / Q96) == capped
    if not capped:
        assert a_in + a_fee == amount


# --- whole swaps: UniswapV3Pool.swaps.spec.ts ------------------------------------------------

FULL = [(MIN60, MAX60, 2 * E18)]
GAP = [(MIN60, -60, 2 * E18), (60, MAX60, 2 * E18)]
ADDITIONAL = FULL + GAP

# (pool description, positions, amount0Before, amount1Before, amount0Delta, amount1Delta, tickAfter)
# from UniswapV3Pool.swaps.spec.ts.snap, "swap exactly 1.0000 token0 for token1", medium fee, 1:1
SNAP_EXACT_IN = [
    ("2e18 max range liquidity", FULL, 2000000000000000000, 2000000000000000000,
     1000000000000000000, -665331998665331998, -8090),
    ("0 liquidity, all liquidity around current price", GAP, 1994009290088178439, 1994009290088178439,
     1000000000000000000, -662011820624678025, -8130),
    ("additional liquidity around current price", ADDITIONAL, 3994009290088178439, 3994009290088178439,
     1000000000000000000, -795933705287758544, -4476),
]


@pytest.mark.parametrize("case", SNAP_EXACT_IN, ids=[c[0] for c in SNAP_EXACT_IN])
def test_swap_exactly_one_token0_matches_pool_snapshot(case):
    _, positions, before0, before1, d0, d1, tick_after = case
    ref = Pool(Q96, positions, 3000)
    assert ref.mint_amounts(positions) == (before0, before1)
    assert ref.swap_exact_in(True, E18, 4295128740)[:2] == (d0, -d1)
    assert ref.tick == tick_after

    cs, tk_sqrt, tk_net = state(positions, Q96, 3000)
    a0, a1 = K.cl_reserves(cs, tk_sqrt, tk_net)
    assert a0 == pytest.approx(before0, rel=1e-12) and a1 == pytest.approx(before1, rel=1e-12)
    out, unsold = K.cl_sell(cs, tk_sqrt, tk_net, float(E18))
    assert unsold == 0.0
    assert out == pytest.approx(-d1, rel=1e-12)
    assert K.tick_at_sqrt(cs[K.CS_SQRT]) == tick_after
    assert cs[K.CS_FEES0] == pytest.approx(3e15, rel=1e-12)  # 0.3 % of the input, whatever the steps


def test_swap_to_price_matches_pool_snapshot():
    """"swap token0 for token1 to price 0.40000" on the pool with additional liquidity:
    amount0Delta 2325523181756544449, amount1Delta -1464187161953474971, tickAfter -9164."""
    limit = encode_price_sqrt(2, 5)
    ref = Pool(Q96, ADDITIONAL, 3000)
    assert ref.swap_exact_in(True, 2**255, limit)[:2] == (2325523181756544449, 1464187161953474971)
    cs, tk_sqrt, tk_net = state(ADDITIONAL, Q96, 3000)
    dq = K.cl_sell_to_price(cs, tk_sqrt, tk_net, 0.4)
    assert dq == pytest.approx(2325523181756544449, rel=1e-12)
    out, unsold = K.cl_sell(cs, tk_sqrt, tk_net, dq)
    assert out == pytest.approx(1464187161953474971, rel=1e-12)
    assert K.cl_spot(cs) == pytest.approx(0.4, rel=1e-12)
    assert K.tick_at_sqrt(cs[K.CS_SQRT]) == -9164


POOLS = {
    "full": FULL,
    "gap": GAP,
    "additional": ADDITIONAL,
    "ladder": [(-6000 + 600 * k, -5400 + 600 * k + 1200, (k + 1) * 10**17) for k in range(20)],
    "narrow": [(-60, 60, 50 * E18), (-600, 600, 3 * E18), (-12000, 0, E18), (0, 12000, E18)],
}


@pytest.mark.parametrize("pool", sorted(POOLS))
@pytest.mark.parametrize("zero_for_one", [True, False])
@pytest.mark.parametrize("amount", [10**9, 10**16, 10**18, 5 * 10**18])
@pytest.mark.parametrize("fee", [500, 3000, 10000])
def test_swaps_across_ticks_match_integer_pool(pool, zero_for_one, amount, fee):
    positions = POOLS[pool]
    start = encode_price_sqrt(101, 100)
    ref = Pool(start, positions, fee)
    lim = 4295128740 if zero_for_one else 1461446703485210103287273052203988822378723970341
    a_in, a_out, fees = ref.swap_exact_in(zero_for_one, amount, lim)
    cs, tk_sqrt, tk_net = state(positions, start, fee)
    k_in, k_out, k_fee, unsold = K.cl_swap(cs, tk_sqrt, tk_net, zero_for_one, float(amount),
                                           0.0 if zero_for_one else math.inf, True)
    assert k_out == pytest.approx(a_out, rel=1e-10, abs=2.0)
    assert k_in == pytest.approx(a_in, rel=1e-12, abs=2.0)
    assert k_fee == pytest.approx(fees, rel=1e-9, abs=2.0)
    assert cs[K.CS_L] == pytest.approx(ref.liq, rel=1e-12, abs=1.0)
    if a_in < amount:  # out of liquidity: the contract walks the price on to the caller's limit
        assert unsold == pytest.approx(amount - a_in, rel=1e-9)
        assert cs[K.CS_L] == 0.0
        assert cs[K.CS_SQRT] == (tk_sqrt[0] if zero_for_one else tk_sqrt[-1])
    else:
        assert unsold == 0.0
        assert cs[K.CS_SQRT] == pytest.approx(ref.sp / Q96, rel=1e-12)


# --- venue view, orientation, depth, running out -------------------------------------------------


def test_asset_as_token1_prices_and_sells_the_other_way():
    cs0, tk_sqrt, tk_net = state(ADDITIONAL, encode_price_sqrt(101, 100), 3000, asset0=True)
    cs1, _, _ = state(ADDITIONAL, encode_price_sqrt(101, 100), 3000, asset0=False)
    assert K.cl_spot(cs1) == pytest.approx(1.0 / K.cl_spot(cs0), rel=1e-15)
    out1, _ = K.cl_sell(cs1, tk_sqrt, tk_net, 1e17)  # selling token1: the pool's price rises
    c = cs0.copy()
    _, out0, _, _ = K.cl_swap(c, tk_sqrt, tk_net, False, 1e17, math.inf, True)
    assert out1 == out0 and cs1[K.CS_SQRT] == c[K.CS_SQRT]
    p0 = K.cl_spot(cs1)
    dy = K.cl_buy_to_price(cs1, tk_sqrt, tk_net, p0 * 1.05)
    K.cl_buy(cs1, tk_sqrt, tk_net, dy)
    assert K.cl_spot(cs1) == pytest.approx(p0 * 1.05, rel=1e-12)


def test_depth_within_two_percent():
    cs, tk_sqrt, tk_net = state(ADDITIONAL, Q96, 3000)
    dq, quote = K.cl_depth(cs, tk_sqrt, tk_net, 0.02)
    c = cs.copy()
    K.cl_sell(c, tk_sqrt, tk_net, dq)
    assert K.cl_spot(c) == pytest.approx(0.98, rel=1e-12)
    assert 0 < quote < dq
    # the gap between ticks -60 and 60 has no extra liquidity: the 2 % depth is that of L = 2e18
    # past -60 plus 4e18 below; check against the integer pool
    ref = Pool(Q96, ADDITIONAL, 3000)
    a_in, a_out, _ = ref.swap_exact_in(True, 2**255, int(math.sqrt(0.98) * Q96))
    assert dq == pytest.approx(a_in, rel=1e-9)


def test_sale_stops_at_the_last_liquidity():
    positions = [(-600, 600, E18), (-1200, -600, E18)]
    cs, tk_sqrt, tk_net = state(positions, Q96, 3000)
    cap = K.cl_sell_to_price(cs, tk_sqrt, tk_net, 0.0)
    assert math.isfinite(cap) and cap > 0
    total1 = K.cl_reserves(cs, tk_sqrt, tk_net)[1]
    out, unsold = K.cl_sell(cs, tk_sqrt, tk_net, cap * 3)
    assert unsold == pytest.approx(cap * 2, rel=1e-12)
    assert out == pytest.approx(total1, rel=1e-12)  # every token1 the ranges held
    assert cs[K.CS_L] == 0.0 and cs[K.CS_BELOW] == 0
    assert cs[K.CS_SQRT] == pytest.approx(K.sqrt_at_tick(-1200), rel=1e-15)
    assert K.cl_bid_liquidity(cs, tk_sqrt, tk_net) == 0.0
    assert K.cl_sell(cs, tk_sqrt, tk_net, 5.0) == (0.0, 5.0)
    assert K.cl_sell_to_price(cs, tk_sqrt, tk_net, 0.0) == 0.0
    # buying back works from the edge, up to the top of the highest range
    got, unspent = K.cl_buy(cs, tk_sqrt, tk_net, 1e16)
    assert got > 0 and unspent == 0.0
    got, unspent = K.cl_buy(cs, tk_sqrt, tk_net, 1e18)
    assert unspent > 0 and cs[K.CS_SQRT] == tk_sqrt[-1] and cs[K.CS_L] == 0.0


def test_gap_without_liquidity_is_crossed_for_free():
    cs, tk_sqrt, tk_net = state(GAP, Q96, 3000)
    assert cs[K.CS_L] == 0.0
    assert K.cl_bid_liquidity(cs, tk_sqrt, tk_net) == pytest.approx(2e18)
    # to the edge of the gap costs nothing; beyond it the range's liquidity applies
    assert K.cl_sell_to_price(cs, tk_sqrt, tk_net, K.sqrt_at_tick(-60) ** 2) == 0.0
    assert K.cl_sell_to_price(cs, tk_sqrt, tk_net, K.sqrt_at_tick(-61) ** 2) > 0.0


# --- snapshot files and the synthetic snapshot -----------------------------------------------------


def test_load_tick_csv_and_build_state(tmp_path):
    f = tmp_path / "ticks.csv"
    f.write_text("tick_lower,tick_upper,liquidity\n-887220,887220,2000000000000000000\n"
                 "-887220,-60,2e18\n\n60,887220,2000000000000000000\n")
    snap = S.load_tick_csv(f, tick_spacing=60)
    assert len(snap) == 3
    cs, tk_sqrt, tk_net, ticks = S.build_state(snap, 1.0, 0.003)
    assert list(ticks) == [-887220, -60, 60, 887220]
    assert list(tk_net) == [4e18, -2e18, 2e18, -4e18]
    assert cs[K.CS_L] == 2e18 and cs[K.CS_BELOW] == 2
    # decimals: USDC (6) / WETH (18) style pool; human price and liquidity
    cs2, tk2, net2, _ = S.build_state(snap, 2000.0 * 1e-12 * 1e12, 0.0005, decimals0=6, decimals1=18)
    assert net2[0] == pytest.approx(4e18 / 1e12)
    assert tk2[1] == pytest.approx(K.sqrt_at_tick(-60) * 10 ** (-6), rel=1e-12)


@pytest.mark.parametrize("text,where,reason", [
    ("", "line 1", "empty file"),
    ("tick,upper,liq\n1,2,3\n", "line 1", "expected header"),
    ("tick_lower,tick_upper,liquidity\n", "line 2", "no data rows"),
    ("tick_lower,tick_upper,liquidity\n1,2\n", "line 2", "expected 3 columns"),
    ("tick_lower,tick_upper,liquidity\nx,60,1\n", "line 2: tick_lower", "not an integer"),
    ("tick_lower,tick_upper,liquidity\n0,1.5,1\n", "line 2: tick_upper", "not an integer"),
    ("tick_lower,tick_upper,liquidity\n0,900000,1\n", "line 2: tick_upper", "outside"),
    ("tick_lower,tick_upper,liquidity\n60,0,1\n", "line 2: tick_upper", "must be > tick_lower"),
    ("tick_lower,tick_upper,liquidity\n0,60,-5\n", "line 2: liquidity", "> 0"),
    ("tick_lower,tick_upper,liquidity\n0,60,nan\n", "line 2: liquidity", "> 0"),
    ("tick_lower,tick_upper,liquidity\n0,60,lots\n", "line 2: liquidity", "not a number"),
    ("tick_lower,tick_upper,liquidity\n0,60,1\n0,50,1\n", "line 3: tick_upper", "multiple of tick_spacing"),
])
def test_tick_csv_errors_name_file_line_and_field(tmp_path, text, where, reason):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(InputError) as e:
        S.load_tick_csv(f, tick_spacing=60)
    assert e.value.file == str(f) and e.value.where == where and reason in e.value.reason
    assert e.value.message().startswith(f"{f}: {where}: ")


def test_missing_tick_file():
    with pytest.raises(InputError, match="file not found"):
        S.load_tick_csv("/nonexistent/ticks.csv")


@pytest.mark.parametrize("asset0", [True, False])
def test_synthetic_snapshot_holds_its_tvl(asset0):
    v = ConcentratedVenue(name="u", asset="ETH", quote="USDC", price=2000.0, fee=0.0005, asset_is_token0=asset0,
                          synthetic={"tvl": 5e7, "sigma": 0.2, "full_range_share": 0.1})
    cs, tk_sqrt, tk_net, ticks = v.pack()
    a0, a1 = K.cl_reserves(cs, tk_sqrt, tk_net)
    p_pool = v.pool_price
    value_token1 = a0 * p_pool + a1
    value_quote = value_token1 if asset0 else value_token1 / p_pool
    assert value_quote == pytest.approx(5e7, rel=1e-9)
    assert K.cl_spot(cs) == pytest.approx(2000.0, rel=1e-12)
    assert np.all(np.diff(ticks) > 0) and np.all(ticks % 10 == 0)
    # liquidity peaks at the price and thins out: depth in the first 10 % exceeds the next 10 %
    d1, _ = K.cl_depth(cs, tk_sqrt, tk_net, 0.1)
    d2, _ = K.cl_depth(cs, tk_sqrt, tk_net, 0.2)
    assert d1 > 0 and d2 - d1 < d1


def test_model_validation():
    from pydantic import ValidationError

    base = dict(name="u", asset="ETH", quote="USDC", price=2000.0, synthetic={"tvl": 1e6})
    ConcentratedVenue(**base)
    for bad in (dict(quote="ETH"), dict(ticks_file="t.csv"), dict(synthetic=None), dict(fee=0.002),
                dict(price=0), dict(decimals0=40), dict(tick_spacing=0)):
        with pytest.raises(ValidationError):
            ConcentratedVenue(**{**base, **bad})
    ConcentratedVenue(**{**base, "fee": 0.002, "tick_spacing": 40})

"""Uniswap v3 swap math restated in Python integers, for conformance tests.

Each function reproduces the arithmetic of Uniswap/v3-core@d8b1c63 (Q64.96 square-root prices,
``uint128`` liquidity, the libraries' rounding directions):

* ``contracts/libraries/FullMath.sol`` ``mulDiv`` / ``mulDivRoundingUp`` and
  ``UnsafeMath.divRoundingUp`` — exact here (Python integers do not overflow);
* ``contracts/libraries/SqrtPriceMath.sol`` ``getNextSqrtPriceFromAmount0RoundingUp`` L28-56,
  ``getNextSqrtPriceFromAmount1RoundingDown`` L68-97, ``getNextSqrtPriceFromInput`` L106-120,
  ``getAmount0Delta`` L153-173, ``getAmount1Delta`` L182-194;
* ``contracts/libraries/SwapMath.sol`` ``computeSwapStep`` L21-97 (exact input);
* ``contracts/UniswapV3Pool.sol`` ``swap`` L596-730: the loop over initialized ticks with the
  liquidity net applied on crossing (``tickBitmap`` word boundaries only split steps and do not
  change amounts, so the loop here steps from initialized tick to initialized tick);
* ``contracts/libraries/TickMath.sol`` ``getSqrtRatioAtTick``: ``⌈√(1.0001^tick) · 2^96⌉``
  computed with 80-digit decimals (the contract multiplies 128-bit constants and rounds up at
  the end; the tests check this against the values v3-core's own test suite records; the two
  end ticks use the contract's ``MIN_SQRT_RATIO``/``MAX_SQRT_RATIO``).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal, getcontext

Q96 = 1 << 96
MIN_TICK = -887272
MAX_TICK = 887272
MIN_SQRT_RATIO = 4295128739  # TickMath.sol L14
MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342  # TickMath.sol L16


def mul_div(a: int, b: int, c: int) -> int:
    return a * b // c


def mul_div_up(a: int, b: int, c: int) -> int:
    return -((-a * b) // c)


def div_up(a: int, b: int) -> int:
    return -((-a) // b)


def sqrt_ratio_at_tick(tick: int) -> int:
    """Exact for |tick| <= 150000 against v3-core's recorded values; at the two ends the
    contract's constants (its 128-bit product drifts from the true value for large positive
    ticks, by 3e-20 relative at MAX_TICK)."""
    if tick == MIN_TICK:
        return MIN_SQRT_RATIO
    if tick == MAX_TICK:
        return MAX_SQRT_RATIO
    getcontext().prec = 80
    v = (Decimal("1.0001") ** tick).sqrt() * Q96
    return int(v.to_integral_value(rounding=ROUND_CEILING))


def amount0_delta(sa: int, sb: int, liq: int, round_up: bool) -> int:
    if sa > sb:
        sa, sb = sb, sa
    num1 = liq << 96
    num2 = sb - sa
    if round_up:
        return div_up(mul_div_up(num1, num2, sb), sa)
    return mul_div(num1, num2, sb) // sa


def amount1_delta(sa: int, sb: int, liq: int, round_up: bool) -> int:
    if sa > sb:
        sa, sb = sb, sa
    if round_up:
        return mul_div_up(liq, sb - sa, Q96)
    return mul_div(liq, sb - sa, Q96)


def next_sqrt_from_amount0_up(sp: int, liq: int, amount: int, add: bool) -> int:
    if amount == 0:
        return sp
    num1 = liq << 96
    if add:
        return mul_div_up(num1, sp, num1 + amount * sp)
    product = amount * sp
    assert num1 > product
    return mul_div_up(num1, sp, num1 - product)


def next_sqrt_from_amount1_down(sp: int, liq: int, amount: int, add: bool) -> int:
    if add:
        return sp + (amount << 96) // liq
    q = div_up(amount << 96, liq)
    assert sp > q
    return sp - q


def next_sqrt_from_input(sp: int, liq: int, amount_in: int, zero_for_one: bool) -> int:
    assert sp > 0 and liq > 0
    if zero_for_one:
        return next_sqrt_from_amount0_up(sp, liq, amount_in, True)
    return next_sqrt_from_amount1_down(sp, liq, amount_in, True)


def compute_swap_step(sp: int, st: int, liq: int, rem: int, fee_pips: int):
    """Exact-input ``computeSwapStep``: ``(sqrt_next, amount_in, amount_out, fee_amount)``."""
    assert rem >= 0
    zero_for_one = sp >= st
    rem_less = mul_div(rem, 10**6 - fee_pips, 10**6)
    if zero_for_one:
        amount_in = amount0_delta(st, sp, liq, True)
    else:
        amount_in = amount1_delta(sp, st, liq, True)
    if rem_less >= amount_in:
        nxt = st
    else:
        nxt = next_sqrt_from_input(sp, liq, rem_less, zero_for_one)
    reached = nxt == st
    if zero_for_one:
        if not reached:
            amount_in = amount0_delta(nxt, sp, liq, True)
        amount_out = amount1_delta(nxt, sp, liq, False)
    else:
        if not reached:
            amount_in = amount1_delta(sp, nxt, liq, True)
        amount_out = amount0_delta(sp, nxt, liq, False)
    if nxt != st:
        fee_amount = rem - amount_in
    else:
        fee_amount = mul_div_up(amount_in, fee_pips, 10**6 - fee_pips)
    return nxt, amount_in, amount_out, fee_amount


class Pool:
    """Initialized ticks (``liquidityNet``) from positions, current ``√P`` (Q96) and ``L``."""

    def __init__(self, sqrt_price_x96: int, positions: list[tuple[int, int, int]], fee_pips: int):
        self.sp = sqrt_price_x96
        self.fee = fee_pips
        net: dict[int, int] = {}
        for lo, hi, liq in positions:
            net[lo] = net.get(lo, 0) + liq
            net[hi] = net.get(hi, 0) - liq
        self.ticks = sorted(t for t, v in net.items() if v != 0)
        self.net = net
        self.tick = self.tick_at(self.sp)
        self.liq = sum(liq for lo, hi, liq in positions if lo <= self.tick < hi)

    @staticmethod
    def tick_at(sp: int) -> int:
        lo, hi = MIN_TICK, MAX_TICK
        while hi - lo > 1:  # greatest tick with sqrt_ratio_at_tick(tick) <= sp
            mid = (lo + hi) // 2
            if sqrt_ratio_at_tick(mid) <= sp:
                lo = mid
            else:
                hi = mid
        return hi if sqrt_ratio_at_tick(hi) <= sp else lo

    def mint_amounts(self, positions):
        """Token amounts the positions deposit at the current price (rounded up, as ``mint``)."""
        a0 = a1 = 0
        for lo, hi, liq in positions:
            sa, sb = sqrt_ratio_at_tick(lo), sqrt_ratio_at_tick(hi)
            if self.tick < lo:
                a0 += amount0_delta(sa, sb, liq, True)
            elif self.tick < hi:
                a0 += amount0_delta(self.sp, sb, liq, True)
                a1 += amount1_delta(sa, self.sp, liq, True)
            else:
                a1 += amount1_delta(sa, sb, liq, True)
        return a0, a1

    def swap_exact_in(self, zero_for_one: bool, amount: int, sqrt_limit: int):
        """``(amount_in incl. fee, amount_out, fee)``; updates the pool."""
        rem = amount
        a_in = a_out = fees = 0
        while rem != 0 and self.sp != sqrt_limit:
            if zero_for_one:
                cand = [t for t in self.ticks if t <= self.tick]
                t_next = cand[-1] if cand else MIN_TICK
                initialized = bool(cand)
            else:
                cand = [t for t in self.ticks if t > self.tick]
                t_next = cand[0] if cand else MAX_TICK
                initialized = bool(cand)
            s_next = sqrt_ratio_at_tick(t_next)
            if zero_for_one:
                st = sqrt_limit if s_next < sqrt_limit else s_next
            else:
                st = sqrt_limit if s_next > sqrt_limit else s_next
            start = self.sp
            self.sp, i, o, f = compute_swap_step(self.sp, st, self.liq, rem, self.fee)
            rem -= i + f
            a_in += i + f
            a_out += o
            fees += f
            if self.sp == s_next:
                if initialized:
                    d = self.net[t_next]
                    self.liq += -d if zero_for_one else d
                self.tick = t_next - 1 if zero_for_one else t_next
            elif self.sp != start:
                self.tick = self.tick_at(self.sp)
        return a_in, a_out, fees

"""Lending-protocol rate math restated in Python integers, for conformance tests.

* Aave v3 (aave-dao/aave-v3-origin@fd1fbd9): ``WadRayMath.rayMul``/``rayDiv`` (round half up,
  ``src/contracts/protocol/libraries/math/WadRayMath.sol`` L64-111), ``PercentageMath.percentMul``
  (``PercentageMath.sol`` L25-39), ``DefaultReserveInterestRateStrategyV2.calculateInterestRates``
  (``src/contracts/misc/DefaultReserveInterestRateStrategyV2.sol`` L124-170),
  ``MathUtils.calculateLinearInterest``/``calculateCompoundedInterest`` (``MathUtils.sol``
  L23-85).
* Compound v3 (compound-finance/comet@d5a30b0 ``contracts/Comet.sol``): per-second constants
  (L166-176), ``getSupplyRate``/``getBorrowRate`` (L449-474) with ``mulFactor`` (L701-703),
  ``accruedInterestIndices`` (L403-414).
* Maker (makerdao/dss@fa4f663 ``src/jug.sol``): ``_rpow`` (L62-84), ``drip`` (L122-128).
* Liquity (liquity/dev@39f1f7f): ``LiquityMath.decMul``/``_decPow``
  (``packages/contracts/contracts/Dependencies/LiquityMath.sol`` L39-86) and
  ``TroveManager._calcDecayedBaseRate`` (L1463-1472).
"""

from __future__ import annotations

RAY = 10**27
WAD = 10**18
HALF_RAY = RAY // 2
PERCENTAGE_FACTOR = 10**4
SECONDS_PER_YEAR = 365 * 86400


def ray_mul(a: int, b: int) -> int:
    return (a * b + HALF_RAY) // RAY


def ray_div(a: int, b: int) -> int:
    return (a * RAY + b // 2) // b


def percent_mul(value: int, pct: int) -> int:
    return (value * pct + PERCENTAGE_FACTOR // 2) // PERCENTAGE_FACTOR


def aave_rates(total_debt, virtual_balance, unbacked, reserve_factor_bps, opt_bps, base_bps, s1_bps, s2_bps,
               added=0, taken=0):
    """``calculateInterestRates``: ``(liquidityRate, variableBorrowRate)`` in ray."""
    opt, base, s1, s2 = (v * 10**23 for v in (opt_bps, base_bps, s1_bps, s2_bps))  # _bpsToRay
    var = base
    if total_debt == 0:
        return 0, var
    available = virtual_balance + added - taken
    plus = available + total_debt
    u_b = ray_div(total_debt, plus)
    u_s = ray_div(total_debt, plus + unbacked)
    if u_b > opt:
        excess = ray_div(u_b - opt, RAY - opt)
        var += s1 + ray_mul(s2, excess)
    else:
        var += ray_div(ray_mul(s1, u_b), opt)
    liq = percent_mul(ray_mul(var, u_s), PERCENTAGE_FACTOR - reserve_factor_bps)
    return liq, var


def aave_linear(rate_ray: int, dt: int) -> int:
    return RAY + rate_ray * dt // SECONDS_PER_YEAR


def aave_compounded(rate_ray: int, dt: int) -> int:
    if dt == 0:
        return RAY
    x = rate_ray * dt // SECONDS_PER_YEAR
    return RAY + x + ray_mul(x, x // 2 + ray_mul(x, x // 6))


def comet_per_second(per_year_wad: int) -> int:
    return per_year_wad // 31_536_000


def comet_rate(u_wad: int, kink_wad: int, low_ps: int, high_ps: int, base_ps: int) -> int:
    def mul_factor(n, f):
        return n * f // WAD

    if u_wad <= kink_wad:
        return base_ps + mul_factor(low_ps, u_wad)
    return base_ps + mul_factor(low_ps, kink_wad) + mul_factor(high_ps, u_wad - kink_wad)


def comet_accrue_index(index_1e15: int, rate_ps_wad: int, dt: int) -> int:
    return index_1e15 + index_1e15 * (rate_ps_wad * dt) // WAD


def rpow(x: int, n: int, b: int = RAY) -> int:
    """dss ``_rpow``: exponentiation by squaring in base ``b``, rounding half up."""
    if x == 0:
        return b if n == 0 else 0
    z = b if n % 2 == 0 else x
    half = b // 2
    n //= 2
    while n:
        x = (x * x + half) // b
        if n % 2:
            z = (z * x + half) // b
        n //= 2
    return z


def dec_mul(x: int, y: int) -> int:
    return (x * y + WAD // 2) // WAD


def dec_pow(base: int, minutes: int) -> int:
    if minutes > 525_600_000:
        minutes = 525_600_000
    if minutes == 0:
        return WAD
    y = WAD
    x = base
    n = minutes
    while n > 1:
        if n % 2 == 0:
            x = dec_mul(x, x)
            n //= 2
        else:
            y = dec_mul(x, y)
            x = dec_mul(x, x)
            n = (n - 1) // 2
    return dec_mul(x, y)


MINUTE_DECAY_FACTOR = 999037758833783000


def liquity_decayed(base_rate_wad: int, seconds: int) -> int:
    return base_rate_wad * dec_pow(MINUTE_DECAY_FACTOR, seconds // 60) // WAD

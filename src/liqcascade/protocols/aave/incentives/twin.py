"""Plain-Python twin of :mod:`liqcascade.protocols.aave.incentives.kernel` (reference §8.4, §8.5).

Written separately in the contracts' own terms (Morpho's ``liquidate`` with a seized amount,
Euler's ``calculateMaxLiquidation`` step by step), Python floats, no numba.
"""

from __future__ import annotations

BONUS_FIXED, BONUS_MORPHO, BONUS_EULER = 0, 1, 2
G_BONUS, G_CURSOR, G_MAX_LIF, G_MAX_DISCOUNT, G_COOL_OFF = range(5)


def morpho_lif(lltv, cursor, max_lif):
    # Morpho.sol: min(MAX_LIQUIDATION_INCENTIVE_FACTOR, WAD / (WAD - cursor·(WAD - lltv)))
    denominator = 1.0 - cursor * (1.0 - lltv)
    if not denominator > 0:
        return max_lif
    return min(max_lif, 1.0 / denominator)


def morpho_is_healthy(collateral, price, borrowed, lltv):
    max_borrow = collateral * price * lltv
    return max_borrow >= borrowed


def morpho_liquidate(collateral, borrowed, price, lltv, cursor, max_lif):
    if borrowed <= 0 or morpho_is_healthy(collateral, price, borrowed, lltv):
        return 0.0, 0.0, 0.0
    lif = morpho_lif(lltv, cursor, max_lif)
    # the liquidator asks for as much collateral as the whole debt buys, capped at the balance
    seized_assets = min(collateral, borrowed * lif / price)
    if seized_assets < collateral:
        return seized_assets, borrowed, 0.0
    repaid_assets = min(borrowed, seized_assets * price / lif)
    bad_debt = borrowed - repaid_assets  # position collateral is 0: the rest is socialized
    return seized_assets, repaid_assets, bad_debt


def euler_is_violator(collateral_adjusted_value, liability_value):
    if liability_value <= 0:
        return False
    if collateral_adjusted_value > liability_value:  # "no violation"
        return False
    return True


def euler_discount_factor(collateral_adjusted_value, liability_value, max_discount):
    if not euler_is_violator(collateral_adjusted_value, liability_value):
        return 1.0
    return max(collateral_adjusted_value / liability_value, 1.0 - max_discount)


def euler_max_liquidation(collateral_adjusted_value, liability_value, collateral_value, max_discount):
    if not euler_is_violator(collateral_adjusted_value, liability_value):
        return 1.0, 0.0, 0.0, 0.0
    discount_factor = euler_discount_factor(collateral_adjusted_value, liability_value, max_discount)
    if collateral_value == 0 or collateral_value < 0:
        return discount_factor, 0.0, 0.0, 1.0
    max_repay_value = liability_value
    max_yield_value = max_repay_value / discount_factor
    if collateral_value < max_yield_value:
        max_repay_value = collateral_value * discount_factor
        max_yield_value = collateral_value
    return discount_factor, max_repay_value, max_yield_value, max_yield_value / collateral_value


def euler_in_cool_off(now, last_status_check, cool_off):
    return now < last_status_check + cool_off


def euler_liquidation_ltv(initial_ltv, target_ltv, now, target_timestamp, ramp_duration):
    ramping_down = target_ltv < initial_ltv and now < target_timestamp and ramp_duration > 0
    if not ramping_down:
        return target_ltv
    remaining = target_timestamp - now
    value = target_ltv + (initial_ltv - target_ltv) * remaining / ramp_duration
    return min(value, initial_ltv)


def euler_socialized(liability_left, collateral_left_value, liability_left_value, min_value, dont_socialize):
    if not dont_socialize and liability_left > 0 and collateral_left_value <= 0 \
            and liability_left_value >= min_value:
        return liability_left
    return 0.0


def liquidation_bonus(kind, g, hs, lltv):
    if kind == BONUS_FIXED:
        return float(g[G_BONUS])
    if kind == BONUS_MORPHO:
        return morpho_lif(lltv, g[G_CURSOR], g[G_MAX_LIF]) - 1.0
    if kind == BONUS_EULER:
        discount = min(max(1.0 - hs, 0.0), g[G_MAX_DISCOUNT])
        return 1.0 / (1.0 - discount) - 1.0
    return float(g[G_BONUS])


def liquidation_allowed(kind, g, now, last_status_check):
    if kind != BONUS_EULER:
        return True
    return not euler_in_cool_off(now, last_status_check, g[G_COOL_OFF])

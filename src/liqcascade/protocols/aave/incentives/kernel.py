"""Generic lending options — liquidation incentives that depend on the position or the market.

Pure rule functions a lending unit can call instead of a fixed liquidation bonus. Follows
``protocol-mechanics.md`` §8.4 (Euler v2, ``euler-xyz/euler-vault-kit``
``src/EVault/modules/Liquidation.sol``, ``shared/types/LTVConfig.sol``) and §8.5 (Morpho Blue,
``morpho-org/morpho-blue`` ``src/Morpho.sol``, ``libraries/ConstantsLib.sol``).

Morpho Blue (§8.5)
    ``LIF = min(MAX_LIQUIDATION_INCENTIVE_FACTOR = 1.15,
    1 / (1 − LIQUIDATION_CURSOR·(1 − LLTV)))`` with ``LIQUIDATION_CURSOR = 0.3`` (1.0438 at
    LLTV 86 %); healthy iff ``borrowed ≤ collateral·price·LLTV``; ``seized = repaid·LIF/price``;
    no close factor; when the collateral reaches 0 the rest of the debt is bad debt, written off
    at once.

Euler v2 (§8.4)
    ``discountFactor = max(collateralAdjustedValue / liabilityValue, 1 − maxLiquidationDiscount)``
    (the health score, so the discount ``1 − HS`` grows as the position sinks, up to the cap);
    ``maxRepayValue = liabilityValue``, ``maxYieldValue = liabilityValue / discountFactor``, and
    if the chosen collateral is worth less than that, ``maxYieldValue = collateralValue``,
    ``maxRepayValue = collateralValue·discountFactor``. A violation is
    ``collateralAdjustedValue <= liabilityValue`` (``Liquidation.sol`` returns early only when
    it is ``>``), with ``liabilityValue > 0``. Cool-off: no liquidation while
    ``now < lastAccountStatusCheck + liquidationCoolOffTime``. LLTV ramp: a lowered liquidation
    LTV falls linearly from the initial to the target value over ``rampDuration``, reaching the
    target at ``targetTimestamp``. Debt socialization: with no collateral left and the
    remaining liability worth at least ``MIN_SOCIALIZATION_LIABILITY_VALUE`` (1e6 units of the
    unit of account), the rest of the debt is written off unless ``CFG_DONT_SOCIALIZE_DEBT``.

A common interface: :func:`liquidation_bonus` (``BONUS_FIXED`` / ``BONUS_MORPHO`` /
``BONUS_EULER`` codes, parameter vector ``g[NG]``) returns the bonus ``b`` such that the
liquidator receives ``(1 + b)`` times the repaid value in collateral, so a unit written for a
fixed bonus (Aave's ``liquidate_pair``) can take it unchanged; :func:`liquidation_allowed` adds
Euler's cool-off.

Simplifications: real numbers, not Morpho's WAD/shares rounding or Euler's 1e18 fixed point;
Euler's mid-point liquidation prices are whatever prices the caller passes; the liquidator
taking on the violator's debt (Euler) is modelled as a repayment; Euler v1's booster is not
modelled.
"""

from __future__ import annotations

from liqcascade.kernels._jit import njit

# --- Morpho Blue constants (ConstantsLib) ------------------------------------------------------
MORPHO_LIQUIDATION_CURSOR = 0.3
MORPHO_MAX_LIF = 1.15
# --- Euler v2 constants -------------------------------------------------------------------------
EULER_MIN_SOCIALIZATION_LIABILITY_VALUE = 1e6  # unit-of-account units (§8.4)

# bonus rule codes
BONUS_FIXED = 0
BONUS_MORPHO = 1
BONUS_EULER = 2

# parameter vector g[NG]
G_BONUS = 0  # fixed bonus (BONUS_FIXED)
G_CURSOR = 1  # Morpho LIQUIDATION_CURSOR (0.3)
G_MAX_LIF = 2  # Morpho MAX_LIQUIDATION_INCENTIVE_FACTOR (1.15)
G_MAX_DISCOUNT = 3  # Euler maxLiquidationDiscount (fraction)
G_COOL_OFF = 4  # Euler liquidationCoolOffTime (seconds)
NG = 5


# ===========================================================================================
# Morpho Blue (§8.5)
# ===========================================================================================


@njit
def morpho_lif(lltv, cursor, max_lif):
    """Liquidation incentive factor ``min(max_lif, 1 / (1 − cursor·(1 − lltv)))`` (``max_lif``
    when the denominator is not positive, i.e. cursor 1 and LLTV 0)."""
    den = 1.0 - cursor * (1.0 - lltv)
    if den <= 0.0:
        return max_lif
    lif = 1.0 / den
    return lif if lif < max_lif else max_lif


@njit
def morpho_is_healthy(collateral, price, borrowed, lltv):
    """``borrowed <= collateral · price · lltv`` (``price``: loan units per collateral unit)."""
    return borrowed <= collateral * price * lltv


@njit
def morpho_liquidate(collateral, borrowed, price, lltv, cursor, max_lif):
    """Mechanical full liquidation of an unhealthy position (no close factor).

    Seizes ``min(collateral, borrowed·LIF/price)``, repays ``seized·price/LIF``; if that takes
    all the collateral, the rest of the debt is bad debt (socialized at once). Returns
    ``(seized, repaid, bad_debt)``; all zero for a healthy position.
    """
    if morpho_is_healthy(collateral, price, borrowed, lltv) or borrowed <= 0.0:
        return 0.0, 0.0, 0.0
    lif = morpho_lif(lltv, cursor, max_lif)
    want = borrowed * lif / price
    if want < collateral:
        return want, borrowed, 0.0
    seized = collateral
    repaid = seized * price / lif
    if repaid > borrowed:
        repaid = borrowed
    return seized, repaid, borrowed - repaid


# ===========================================================================================
# Euler v2 (§8.4)
# ===========================================================================================


@njit
def euler_is_violator(collateral_adjusted_value, liability_value):
    """Violation: liability > 0 and ``collateralAdjustedValue <= liabilityValue``."""
    return liability_value > 0.0 and not (collateral_adjusted_value > liability_value)


@njit
def euler_discount_factor(collateral_adjusted_value, liability_value, max_discount):
    """``max(HS, 1 − max_discount)`` with ``HS = collateralAdjustedValue / liabilityValue``
    (1 for a healthy position: no discount)."""
    if not euler_is_violator(collateral_adjusted_value, liability_value):
        return 1.0
    df = collateral_adjusted_value / liability_value
    floor = 1.0 - max_discount
    return df if df > floor else floor


@njit
def euler_max_liquidation(collateral_adjusted_value, liability_value, collateral_value, max_discount):
    """Euler v2 ``calculateMaxLiquidation`` in value terms.

    Returns ``(discount_factor, max_repay_value, max_yield_value, yield_fraction)``:
    ``yield_fraction`` is the share of the chosen collateral balance the liquidator may take
    (1 when the collateral is worthless: it is claimed with no repay). Healthy: ``(1, 0, 0, 0)``.
    """
    if not euler_is_violator(collateral_adjusted_value, liability_value):
        return 1.0, 0.0, 0.0, 0.0
    df = euler_discount_factor(collateral_adjusted_value, liability_value, max_discount)
    if collateral_value <= 0.0:
        return df, 0.0, 0.0, 1.0
    repay = liability_value
    yld = repay / df
    if collateral_value < yld:
        yld = collateral_value
        repay = collateral_value * df
    return df, repay, yld, yld / collateral_value


@njit
def euler_in_cool_off(now, last_status_check, cool_off):
    """``now < lastAccountStatusCheckTimestamp + liquidationCoolOffTime``."""
    return now < last_status_check + cool_off


@njit
def euler_liquidation_ltv(initial_ltv, target_ltv, now, target_timestamp, ramp_duration):
    """Liquidation LTV during a ramp-down (``LTVConfig.getLTV``): the target once
    ``now >= target_timestamp`` or when the LTV was raised, else
    ``target + (initial − target)·(target_timestamp − now)/ramp_duration``, at most the initial."""
    if now >= target_timestamp or target_ltv >= initial_ltv or ramp_duration <= 0.0:
        return target_ltv
    cur = target_ltv + (initial_ltv - target_ltv) * (target_timestamp - now) / ramp_duration
    return cur if cur < initial_ltv else initial_ltv


@njit
def euler_socialized(liability_left, collateral_left_value, liability_left_value, min_value, dont_socialize):
    """Debt written off after a liquidation: all of ``liability_left`` when no collateral is
    left, its value is ``>= min_value`` and socialization is on; else 0."""
    if dont_socialize or liability_left <= 0.0 or collateral_left_value > 0.0:
        return 0.0
    if liability_left_value < min_value:
        return 0.0
    return liability_left


# ===========================================================================================
# Common interface
# ===========================================================================================


@njit
def liquidation_bonus(kind, g, hs, lltv):
    """Bonus ``b`` (collateral received = repaid value · (1 + b)) under rule ``kind``.

    ``BONUS_FIXED``: ``g[G_BONUS]``. ``BONUS_MORPHO``: ``LIF(lltv) − 1``. ``BONUS_EULER``:
    ``1 / max(min(hs, 1), 1 − g[G_MAX_DISCOUNT]) − 1`` (``hs`` the health score computed with
    liquidation LTVs; 0 when ``hs >= 1``).
    """
    if kind == BONUS_MORPHO:
        return morpho_lif(lltv, g[G_CURSOR], g[G_MAX_LIF]) - 1.0
    if kind == BONUS_EULER:
        if hs >= 1.0:
            return 0.0
        df = hs
        floor = 1.0 - g[G_MAX_DISCOUNT]
        if df < floor:
            df = floor
        return 1.0 / df - 1.0
    return g[G_BONUS]


@njit
def liquidation_allowed(kind, g, now, last_status_check):
    """Euler's cool-off (``BONUS_EULER``); the other rules have no such guard."""
    if kind == BONUS_EULER:
        return not euler_in_cool_off(now, last_status_check, g[G_COOL_OFF])
    return True

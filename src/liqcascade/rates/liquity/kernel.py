"""Liquity v1's one-off borrowing fee and its decaying base rate, float64.

Liquity charges no interest. Opening a trove or drawing more LUSD pays a one-off fee that is
added to the debt; redemptions pay a fee in ETH. Both follow one ``baseRate``
(liquity/dev@39f1f7f ``packages/contracts/contracts/TroveManager.sol``):

* decay: ``baseRate · MINUTE_DECAY_FACTOR^minutes`` with ``minutes = ⌊(now − lastFeeOp) / 60⌋``
  and ``MINUTE_DECAY_FACTOR = 0.999037758833783`` (a 12-hour half-life; L41-46, L1463-1472;
  ``LiquityMath._decPow`` caps the minutes at 525,600,000);
* borrowing rate ``min(0.5 % + baseRate, 5 %)`` (``BORROWING_FEE_FLOOR``,
  ``MAX_BORROWING_FEE``; L48, L1418-1423; ``LiquityBase.sol`` L36); the fee is
  ``rate · LUSD drawn`` (L1433-1435). A borrow first decays the stored base rate
  (``decayBaseRateFromBorrowing`` L1439-1449, called by ``BorrowerOperations._triggerBorrowingFee``)
  and then charges at it;
* a redemption raises the base rate by half the redeemed share of the supply:
  ``baseRate = min(decayed + (ETH drawn · price / total LUSD) / BETA, 1)``, ``BETA = 2``
  (``_updateBaseRateFromRedemption`` L1358-1377); the redemption fee rate is
  ``min(0.5 % + baseRate, 100 %)`` (L1387-1392);
* every fee operation moves ``lastFeeOperationTime`` to ``now``, but only if at least a minute
  has passed (``_updateLastFeeOpTime`` L1454-1461) — the fraction of a minute is lost then.

State ``st`` float64[NLS]: ``LS_BASE_RATE``, ``LS_LAST_OP`` (seconds), ``LS_FEES`` (borrowing
fees charged, LUSD). Times are seconds on the caller's clock.
"""

from __future__ import annotations

import math

from ...kernels._jit import njit

MINUTE_DECAY_FACTOR = 0.999037758833783  # 999037758833783000 / 1e18
BORROWING_FEE_FLOOR = 0.005
MAX_BORROWING_FEE = 0.05
REDEMPTION_FEE_FLOOR = 0.005
BETA = 2.0
MAX_MINUTES = 525_600_000.0  # LiquityMath._decPow cap

LS_BASE_RATE = 0
LS_LAST_OP = 1
LS_FEES = 2
NLS = 3


@njit
def minutes_passed(last_op, now):
    return math.floor((now - last_op) / 60.0)


@njit
def decayed_base_rate(base_rate, last_op, now):
    """``_calcDecayedBaseRate``: ``baseRate · 0.999037758833783^minutes``."""
    m = minutes_passed(last_op, now)
    if m <= 0.0:
        return base_rate
    if m > MAX_MINUTES:
        m = MAX_MINUTES
    return base_rate * math.exp(m * math.log(MINUTE_DECAY_FACTOR))


@njit
def borrowing_rate(base_rate):
    """``_calcBorrowingRate``: ``min(0.5 % + baseRate, 5 %)``."""
    return min(BORROWING_FEE_FLOOR + base_rate, MAX_BORROWING_FEE)


@njit
def redemption_rate(base_rate):
    """``_calcRedemptionRate``: ``min(0.5 % + baseRate, 100 %)``."""
    return min(REDEMPTION_FEE_FLOOR + base_rate, 1.0)


@njit
def _touch(st, now):
    """``_updateLastFeeOpTime``: move the clock only after a full minute."""
    if now - st[LS_LAST_OP] >= 60.0:
        st[LS_LAST_OP] = now


@njit
def liquity_borrow_fee(st, now, lusd):
    """Fee for drawing ``lusd`` at time ``now`` (decay, then charge). Returns the fee (added to
    the trove's debt)."""
    st[LS_BASE_RATE] = decayed_base_rate(st[LS_BASE_RATE], st[LS_LAST_OP], now)
    _touch(st, now)
    fee = borrowing_rate(st[LS_BASE_RATE]) * lusd
    st[LS_FEES] += fee
    return fee


@njit
def liquity_redeem(st, now, eth_drawn, price, total_lusd):
    """A redemption of ``eth_drawn`` ETH at ``price`` against ``total_lusd`` outstanding: the
    base rate jumps (decayed + drawn share / 2, capped at 1). Returns the redemption fee rate that
    applies to this redemption (computed from the new base rate, as the contract does)."""
    decayed = decayed_base_rate(st[LS_BASE_RATE], st[LS_LAST_OP], now)
    frac = eth_drawn * price / total_lusd if total_lusd > 0.0 else 0.0
    st[LS_BASE_RATE] = min(decayed + frac / BETA, 1.0)
    _touch(st, now)
    return redemption_rate(st[LS_BASE_RATE])

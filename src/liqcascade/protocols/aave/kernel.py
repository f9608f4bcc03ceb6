"""Aave v3 liquidation sizing for one (collateral, debt) pair — compiled kernel.

Follows ``protocol-mechanics.md`` §1 (aave-v3-origin ``LiquidationLogic``):

* liquidatable exactly when HF < 1 (§1.1);
* close factor (§1.3): ``RULE_FIXED`` uses a fixed fraction; ``RULE_V32`` is v3.0–v3.2
  (50 % while HF > 0.95, else 100 %); ``RULE_V33`` is v3.3+ (100 % by default, 50 % only when
  collateral value ≥ US$2,000, debt value ≥ US$2,000 and HF > 0.95), with the dust rule: a
  partial liquidation must leave both debt and collateral worth ≥ US$1,000 or it reverts;
* seizure (§1.4): collateral = repaid · P_debt · LB / P_coll, capped at the balance, in which
  case the repaid debt is recomputed from the whole balance;
* protocol fee (§1.4): a share of the bonus part of the seized collateral, to the treasury;
* bad debt (§1.6): when the collateral is exhausted, the remaining debt is written off to the
  reserve deficit and the position closes.

Other lending designs on the same sizing (``incentive`` of a scenario protocol, §8.4–8.5):
Morpho Blue's liquidation incentive factor is a constant per LLTV, so the engine writes
``LIF − 1`` into the bonus (with a 100 % close factor: Morpho has none); Euler v2's discount
grows with how far underwater the position is, ``lb = 1 / max(HF, 1 − maxLiquidationDiscount)``
(:func:`incentive_lb`), also with a 100 % close factor (Euler lets the liquidator take the whole
liability). Euler's cool-off and LLTV ramp are not modelled here.

Simplifications (stated in the docs and the run output): amounts are real numbers, not
fixed-point integers with Aave's floor/ceil rounding; a single debt asset per position in this
kernel (the engine handles multi-asset positions by picking the pair); when the v3.3 dust rule
would revert a 50 % liquidation, the mechanical liquidator repays the largest amount that does
not revert (leaves exactly US$1,000 of collateral, or of debt when that side binds).
"""

from __future__ import annotations

import numpy as np

from liqcascade.kernels._jit import njit

RULE_FIXED = 0
RULE_V32 = 1
RULE_V33 = 2

# index constants of the per-protocol rule vector (float64[NRULE])
R_RULE = 0  # rule code
R_CF = 1  # fixed close factor (RULE_FIXED) / default close factor (v3.2, v3.3: 0.5)
R_HF_CF = 2  # HF threshold under which the close factor is 100 % (0.95)
R_MIN_BASE = 3  # v3.3: MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD in quote units (2000)
R_MIN_LEFTOVER = 4  # v3.3: MIN_LEFTOVER_BASE in quote units (1000)
R_INC = 5  # incentive: INC_FIXED (the asset's bonus) or INC_EULER (discount from the HF, §8.4)
R_INC_MAXD = 6  # Euler: maxLiquidationDiscount
NRULE = 7

INC_FIXED = 0
INC_EULER = 1  # Morpho's LIF is a constant per LLTV: the engine writes it into the bonus


@njit
def incentive_lb(rules, hf, bonus):
    """``1 + bonus`` in force: the asset's fixed bonus, or Euler v2's dynamic discount
    ``1 / max(HF, 1 − maxLiquidationDiscount)`` (discount = 1 − health score, capped; §8.4)."""
    if int(rules[R_INC]) == INC_EULER:
        floor = 1.0 - rules[R_INC_MAXD]
        h = hf if hf < 1.0 else 1.0
        return 1.0 / (h if h > floor else floor)
    return 1.0 + bonus


@njit
def close_factor(rules, hf, coll_value, debt_value):
    """Close factor in force for a position with health factor ``hf``."""
    rule = int(rules[R_RULE])
    if rule == RULE_FIXED:
        return rules[R_CF]
    if rule == RULE_V32:
        return rules[R_CF] if hf > rules[R_HF_CF] else 1.0
    # v3.3: 50 % only for large positions that are not deep underwater
    if hf > rules[R_HF_CF] and coll_value >= rules[R_MIN_BASE] and debt_value >= rules[R_MIN_BASE]:
        return rules[R_CF]
    return 1.0


@njit
def liquidate_pair(coll, debt, p_coll, p_debt, lt, bonus, pfee, rules):
    """Size one mechanical liquidation (the largest allowed repay).

    Returns ``(seized, repaid, bad_debt, fee, closed)`` in asset units: ``seized`` collateral
    taken from the position (``fee`` of it goes to the treasury, the rest to the liquidator),
    ``repaid`` debt, ``bad_debt`` written off, ``closed`` true when the position has no
    collateral or no debt left. Caller guarantees HF < 1.
    """
    coll_value = coll * p_coll
    debt_value = debt * p_debt
    hf = coll_value * lt / debt_value
    cf = close_factor(rules, hf, coll_value, debt_value)
    lb = incentive_lb(rules, hf, bonus)
    repay = cf * debt
    seize = repay * p_debt * lb / p_coll
    bad = 0.0
    closed = False
    if seize >= coll:
        seize = coll
        repay = coll * p_coll / (lb * p_debt)
        if repay > debt:
            repay = debt
        bad = debt - repay
        closed = True
    elif repay >= debt:
        repay = debt
        closed = True
    elif int(rules[R_RULE]) == RULE_V33:
        # dust rule: partial liquidation must leave both sides >= MIN_LEFTOVER
        left = rules[R_MIN_LEFTOVER]
        if (debt - repay) * p_debt < left or (coll - seize) * p_coll < left:
            if cf >= 1.0:
                pass  # full repay already chosen above; unreachable
            else:
                # largest non-reverting repay: leave exactly MIN_LEFTOVER of collateral, and of
                # debt (the debt side binds only when MIN_LEFTOVER > MIN_BASE / 2)
                repay = (coll_value - left) / (lb * p_debt)
                if repay > cf * debt:
                    repay = cf * debt
                r_debt = debt - left / p_debt
                if repay > r_debt:
                    repay = r_debt
                if repay < 0.0:
                    repay = 0.0
                seize = repay * p_debt * lb / p_coll
    bonus_part = seize - seize / lb
    fee = bonus_part * pfee
    return seize, repay, bad, fee, closed


@njit
def liquidate_position(cs, ds, assets, prices, lt_row, bonus_row, pfee_row, rules):
    """One mechanical liquidation of a multi-asset position, in place.

    ``cs``/``ds`` are the position's collateral and debt entries (asset units, one per entry,
    ``assets`` their asset indices); ``prices`` is indexed by asset. HF is
    ``Σ c·p·LT / Σ d·p`` over all entries (§1.1). If HF < 1 the liquidator picks the pair a
    bot would (largest collateral value with LT > 0, largest debt value) and repays the largest
    allowed amount: v3.2 caps at CF × the reserve's debt; v3.3 caps at 50 % of the *total*
    debt value only when both chosen reserves are worth ≥ MIN_BASE and HF > 0.95, else the
    whole reserve debt, with the dust rule on both leftovers (§1.3). When the position's
    collateral is exhausted every remaining debt is written off (§1.6).

    Returns ``(e_coll, e_debt, seized, repaid, bad_value, fee, closed)``; ``e_coll < 0`` when
    nothing was liquidated. ``bad_value`` is in quote units; the others in asset units.
    """
    n = cs.shape[0]
    wv = 0.0
    dv = 0.0
    best_c = -1
    best_cv = 0.0
    best_d = -1
    best_dv = 0.0
    for e in range(n):
        a = assets[e]
        v = cs[e] * prices[a]
        if v > 0.0 and lt_row[a] > 0.0:
            wv += v * lt_row[a]
            if v > best_cv:
                best_cv = v
                best_c = e
        dd = ds[e] * prices[a]
        if dd > 0.0:
            dv += dd
            if dd > best_dv:
                best_dv = dd
                best_d = e
    if best_d < 0 or best_c < 0 or not (wv < dv):
        return -1, -1, 0.0, 0.0, 0.0, 0.0, False
    hf = wv / dv
    ai = assets[best_c]
    aj = assets[best_d]
    pi = prices[ai]
    pj = prices[aj]
    rule = int(rules[R_RULE])
    cf = rules[R_CF]
    dj = ds[best_d]
    if rule == RULE_FIXED:
        max_repay = cf * dj
    elif rule == RULE_V32:
        max_repay = (cf if hf > rules[R_HF_CF] else 1.0) * dj
    else:
        if hf > rules[R_HF_CF] and best_cv >= rules[R_MIN_BASE] and best_dv >= rules[R_MIN_BASE]:
            max_repay = dj if best_dv <= cf * dv else cf * dv / pj
        else:
            max_repay = dj
    lb = incentive_lb(rules, hf, bonus_row[ai])
    repay = max_repay
    seize = repay * pj * lb / pi
    ci = cs[best_c]
    if seize >= ci:
        seize = ci
        repay = ci * pi / (lb * pj)
        if repay > dj:
            repay = dj
    elif rule == RULE_V33 and repay < dj:
        left = rules[R_MIN_LEFTOVER]
        if (dj - repay) * pj < left or (ci - seize) * pi < left:
            r1 = (best_cv - left) / (lb * pj)
            r2 = dj - left / pj
            repay = min(max_repay, r1, r2)
            if repay <= 0.0:
                return -1, -1, 0.0, 0.0, 0.0, 0.0, False
            seize = repay * pj * lb / pi
    cs[best_c] = ci - seize if seize < ci else 0.0
    ds[best_d] = dj - repay if repay < dj else 0.0
    fee = (seize - seize / lb) * pfee_row[ai]
    left_coll = 0.0
    left_debt = 0.0
    for e in range(n):
        if lt_row[assets[e]] > 0.0:
            left_coll += cs[e]
        left_debt += ds[e]
    bad = 0.0
    closed = False
    if left_coll <= 0.0:
        for e in range(n):
            bad += ds[e] * prices[assets[e]]
            ds[e] = 0.0
        closed = True
    elif left_debt <= 0.0:
        closed = True
    return best_c, best_d, seize, repay, bad, fee, closed


# --- one ``liquidationCall`` with the caller's ``debtToCover`` (lc.protocols.aave) -----------
CALL_OK = 0
CALL_DUST = 1  # MustNotLeaveDust (v3.3+)


@njit
def health_factor(coll, debt, prices, lt):
    """§1.1 ``HF = Σ c·p·LT / Σ d·p`` over dense per-asset vectors; ``inf`` without debt.

    Collateral counts only where its LT and its value are > 0 (as in :func:`liquidate_position`).
    """
    wv = 0.0
    dv = 0.0
    for a in range(coll.shape[0]):
        v = coll[a] * prices[a]
        if v > 0.0 and lt[a] > 0.0:
            wv += v * lt[a]
        dd = debt[a] * prices[a]
        if dd > 0.0:
            dv += dd
    if dv > 0.0:
        return wv / dv
    return np.inf


@njit
def max_liquidatable_debt(rules, hf, coll_value, debt_bal, p_debt, total_debt_value):
    """§1.3 the close-factor cap of one call, in units of the debt asset.

    ``coll_value``: the chosen collateral reserve's value; ``debt_bal``: the chosen debt
    reserve's balance; ``total_debt_value``: the position's whole debt value. v3.2: CF of the
    reserve's debt (50 % while HF > 0.95); v3.3+: the whole reserve debt unless both reserves
    are worth ≥ ``MIN_BASE`` and HF > 0.95, then 50 % of the *total* debt value when the
    reserve's debt is worth more than that.
    """
    rule = int(rules[R_RULE])
    if rule == RULE_FIXED:
        return rules[R_CF] * debt_bal
    if rule == RULE_V32:
        return (rules[R_CF] if hf > rules[R_HF_CF] else 1.0) * debt_bal
    debt_value = debt_bal * p_debt
    if coll_value >= rules[R_MIN_BASE] and debt_value >= rules[R_MIN_BASE] and hf > rules[R_HF_CF]:
        cap = rules[R_CF] * total_debt_value
        if debt_value > cap:
            return cap / p_debt
    return debt_bal


@njit
def liquidation_call_amounts(rules, hf, coll_bal, p_coll, debt_bal, p_debt, total_debt_value, lb, pfee,
                             debt_to_cover):
    """Amounts of one ``liquidationCall`` (§1.3–1.4) for a caller asking to cover ``debt_to_cover``.

    ``lb`` is ``1 + bonus`` in force (:func:`incentive_lb`), ``pfee`` the protocol fee share of
    the bonus. Returns ``(code, max_debt, repaid, seized, fee)``: ``code`` is :data:`CALL_OK` or
    :data:`CALL_DUST` (v3.3+ ``MustNotLeaveDust``: a partial liquidation that leaves the reserve's
    debt or the collateral reserve worth less than ``MIN_LEFTOVER``); ``max_debt`` the close-factor
    cap; ``repaid`` the debt repaid; ``seized`` the collateral taken from the borrower (``fee`` of
    it to the treasury, the rest to the liquidator). Amounts in asset units.
    """
    coll_value = coll_bal * p_coll
    max_debt = max_liquidatable_debt(rules, hf, coll_value, debt_bal, p_debt, total_debt_value)
    d = debt_to_cover if debt_to_cover < max_debt else max_debt
    seized = d * p_debt * lb / p_coll
    repaid = d
    if seized > coll_bal:
        seized = coll_bal
        repaid = coll_bal * p_coll / (p_debt * lb)
    fee = (seized - seized / lb) * pfee
    if int(rules[R_RULE]) == RULE_V33 and repaid < debt_bal and seized < coll_bal:
        left = rules[R_MIN_LEFTOVER]
        if (debt_bal - repaid) * p_debt < left or (coll_bal - seized) * p_coll < left:
            return CALL_DUST, max_debt, 0.0, 0.0, 0.0
    return CALL_OK, max_debt, repaid, seized, fee

"""Plain-Python twin of :mod:`liqcascade.protocols.aave.kernel`, written from the reference text.

``rules`` is the same float vector: [rule, cf, hf_cf_threshold, min_base, min_leftover,
incentive, euler_max_discount].
"""

from __future__ import annotations


def incentive_lb_py(rules, hf, bonus):
    """1 + bonus: fixed, or Euler v2's ``1 / max(min(HF, 1), 1 − max_discount)`` (§8.4)."""
    if len(rules) > 5 and int(rules[5]) == 1:
        return 1.0 / max(min(hf, 1.0), 1.0 - float(rules[6]))
    return 1.0 + bonus


def liquidate_pair_py(coll, debt, p_coll, p_debt, lt, bonus, pfee, rules):
    rule, cf_default, hf_thr, min_base, min_left = (float(v) for v in rules[:5])
    rule = int(rule)
    coll_value = coll * p_coll
    debt_value = debt * p_debt
    hf = coll_value * lt / debt_value
    if rule == 0:
        cf = cf_default
    elif rule == 1:
        cf = cf_default if hf > hf_thr else 1.0
    else:
        large = coll_value >= min_base and debt_value >= min_base
        cf = cf_default if (hf > hf_thr and large) else 1.0
    lb = incentive_lb_py(rules, hf, bonus)
    repay = cf * debt
    seize = repay * p_debt * lb / p_coll
    bad = 0.0
    closed = False
    if seize >= coll:
        # collateral exhausted: take it all, recompute the repay, write off the rest
        seize = coll
        repay = min(coll * p_coll / (lb * p_debt), debt)
        bad = debt - repay
        closed = True
    elif repay >= debt:
        repay = debt
        closed = True
    elif rule == 2:
        leaves_dust = (debt - repay) * p_debt < min_left or (coll - seize) * p_coll < min_left
        if leaves_dust:
            repay = max(min((coll_value - min_left) / (lb * p_debt), cf * debt, debt - min_left / p_debt), 0.0)
            seize = repay * p_debt * lb / p_coll
    fee = (seize - seize / lb) * pfee
    return seize, repay, bad, fee, closed


# --- one liquidationCall with the caller's debtToCover, written from §1.1, §1.3 and §1.4 -------


def health_factor_py(coll, debt, prices, lt):
    """HF = Σ c·p·LT / Σ d·p; infinite without debt."""
    weighted = sum(c * p * t for c, p, t in zip(coll, prices, lt) if c * p > 0 and t > 0)
    owed = sum(d * p for d, p in zip(debt, prices) if d * p > 0)
    return weighted / owed if owed > 0 else float("inf")


def liquidation_call_amounts_py(rules, hf, coll_bal, p_coll, debt_bal, p_debt, total_debt_value, lb, pfee,
                                debt_to_cover):
    """(code, max_debt, repaid, seized, fee); code 1 = MustNotLeaveDust."""
    rule, cf_default, hf_thr, min_base, min_left = (float(v) for v in rules[:5])
    rule = int(rule)
    if rule == 0:
        max_debt = cf_default * debt_bal
    elif rule == 1:
        max_debt = debt_bal * (cf_default if hf > hf_thr else 1.0)
    else:
        max_debt = debt_bal
        big = coll_bal * p_coll >= min_base and debt_bal * p_debt >= min_base
        if big and hf > hf_thr and debt_bal * p_debt > cf_default * total_debt_value:
            max_debt = cf_default * total_debt_value / p_debt
    to_cover = min(debt_to_cover, max_debt)
    wanted = to_cover * p_debt * lb / p_coll
    if wanted > coll_bal:
        seized, repaid = coll_bal, coll_bal * p_coll / (p_debt * lb)
    else:
        seized, repaid = wanted, to_cover
    fee = pfee * (seized - seized / lb)
    partial = repaid < debt_bal and seized < coll_bal
    if rule == 2 and partial and min((debt_bal - repaid) * p_debt, (coll_bal - seized) * p_coll) < min_left:
        return 1, max_debt, 0.0, 0.0, 0.0
    return 0, max_debt, repaid, seized, fee

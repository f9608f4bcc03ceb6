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
            repay = max(min((coll_value - min_left) / (lb * p_debt), cf * debt), 0.0)
            seize = repay * p_debt * lb / p_coll
    fee = (seize - seize / lb) * pfee
    return seize, repay, bad, fee, closed

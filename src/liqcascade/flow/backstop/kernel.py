"""Stability/backstop pool: compiled rules (one pool, quote-denominated deposits).

The pool holds two tranches of quote: *retail* deposits ``R`` and *institutional* deposits
``I``. Each step:

1. :func:`backstop_tick` — over the step's ``dt`` seconds, retail deposits leave at the hazard
   ``λ`` (``constant``: ``λ = ln 2 / h``; ``drawdown``: ``λ = ln 2 / h · dd / dd_ref`` with ``dd``
   the drawdown of the *reference* price from its running peak), so
   ``R ← R · exp(-λ dt)``; institutions refill their tranche toward its starting size at
   ``I0 / refill_seconds`` per second (``refill_seconds = 0``: no refill).
2. :func:`backstop_absorb` — a forced sale of ``q`` asset is bought by the pool at
   ``ref · (1 - discount)`` up to what its balance pays for; the cost is taken from both tranches
   in proportion to their balances (as a stability pool shares an offset over its deposits). The
   pool keeps the asset it bought.

Rules, sources and what is simplified: ``README.md`` in this folder; the naive twin is
``twin.py``. Parameters and state are float vectors with the index constants below.
"""

from __future__ import annotations

import math

from liqcascade.kernels._jit import njit

# --- parameter vector ------------------------------------------------------------------------
P_DISCOUNT = 0  # fraction below the reference at which the pool buys
P_HALF = 1  # retail withdrawal half-life, seconds (0 = retail never leaves)
P_MODE = 2  # WITHDRAW_CONSTANT or WITHDRAW_DRAWDOWN
P_DD_REF = 3  # drawdown at which the retail half-life is P_HALF (drawdown mode)
P_REFILL_S = 4  # seconds for institutions to refill their whole tranche (0 = no refill)
P_INST0 = 5  # the institutional tranche's starting (and target) size, quote
NPARAM = 6

WITHDRAW_CONSTANT = 0
WITHDRAW_DRAWDOWN = 1

# --- state vector ----------------------------------------------------------------------------
S_RETAIL = 0  # retail deposits, quote
S_INST = 1  # institutional deposits, quote
S_PAID = 2  # quote paid for absorbed asset (cumulative)
S_ASSET = 3  # asset bought and held (cumulative)
S_WITHDRAWN = 4  # retail quote withdrawn (cumulative)
S_REFILLED = 5  # institutional quote added (cumulative)
S_PEAK = 6  # running peak of the reference price
NSTATE = 7

LN2 = math.log(2.0)


@njit
def backstop_hazard(params, state, ref):
    """Retail withdrawal hazard per second at reference price ``ref`` (after updating the peak)."""
    half = params[P_HALF]
    if not half > 0.0:
        return 0.0
    lam = LN2 / half
    if int(params[P_MODE]) == WITHDRAW_DRAWDOWN:
        peak = state[S_PEAK]
        dd = 0.0
        if peak > 0.0 and ref < peak:
            dd = (peak - ref) / peak
        lam *= dd / params[P_DD_REF]
    return lam


@njit
def backstop_tick(params, state, ref, dt):
    """Withdrawals and refill over ``dt`` seconds ending at reference price ``ref``.
    Returns ``(withdrawn, refilled)`` in quote."""
    if ref > state[S_PEAK]:
        state[S_PEAK] = ref
    lam = backstop_hazard(params, state, ref)
    out = 0.0
    if lam > 0.0 and dt > 0.0 and state[S_RETAIL] > 0.0:
        out = state[S_RETAIL] * -math.expm1(-lam * dt)
        if out > state[S_RETAIL]:
            out = state[S_RETAIL]
        state[S_RETAIL] -= out
        state[S_WITHDRAWN] += out
    add = 0.0
    refill_s = params[P_REFILL_S]
    gap = params[P_INST0] - state[S_INST]
    if refill_s > 0.0 and dt > 0.0 and gap > 0.0:
        add = params[P_INST0] * dt / refill_s
        if add > gap:
            add = gap
        state[S_INST] += add
        state[S_REFILLED] += add
    return out, add


@njit
def backstop_absorb(params, state, q, ref):
    """Buy up to ``q`` asset at ``ref · (1 - discount)`` from the pool's balance.
    Returns ``(asset absorbed, quote paid)``."""
    if not q > 0.0 or not ref > 0.0:
        return 0.0, 0.0
    price = ref * (1.0 - params[P_DISCOUNT])
    r = state[S_RETAIL]
    i = state[S_INST]
    bal = r + i
    if not bal > 0.0:
        return 0.0, 0.0
    cost = q * price
    a = q
    if cost >= bal:  # the pool runs dry: it spends everything it holds
        cost = bal
        a = bal / price
        if a > q:
            a = q
        state[S_RETAIL] = 0.0
        state[S_INST] = 0.0
    else:
        take_r = cost * (r / bal)
        state[S_RETAIL] = r - take_r
        state[S_INST] = i - (cost - take_r)
        if state[S_INST] < 0.0:
            state[S_INST] = 0.0
        if state[S_RETAIL] < 0.0:
            state[S_RETAIL] = 0.0
    state[S_PAID] += cost
    state[S_ASSET] += a
    return a, cost

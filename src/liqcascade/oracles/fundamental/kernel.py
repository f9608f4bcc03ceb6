"""Fundamental-value oracle: a pegged asset priced by its redemption or exchange rate.

Publishes ``P_FUND · exp(P_FUND_G · s)`` at step ``t`` (``s`` = ``t`` less the lag): the
fundamental value of the peg (``[[pegs]]``), whatever its venues quote. This is how Aave v3
prices wstETH (the wstETH/stETH exchange rate from the token contract times the ETH feed, with
stETH taken at 1 ETH) and how a protocol that hard-codes a stablecoin at 1 prices it. The
sources are not read. Rules and sources: ``README.md`` in this folder.
"""

from __future__ import annotations

import math

from liqcascade.kernels._jit import njit
from liqcascade.oracles.kernel import P_FUND, P_FUND_G, S_LAST, S_PRICE, accept


@njit
def step(params, src_idx, hist, t, s, state):
    """Advance the oracle to step ``t``: the fundamental value at step ``s``."""
    cand = params[P_FUND] * math.exp(params[P_FUND_G] * s)
    if accept(params, state, cand):
        state[S_PRICE] = cand
        state[S_LAST] = t

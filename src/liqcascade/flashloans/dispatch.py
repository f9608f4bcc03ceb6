"""Flash-loan dispatch: one loan split over the scenario's sources.

:func:`borrow` fills an amount from the sources in the order given (the engine orders them by
fee, cheapest first), each up to its available liquidity for that side (the pushed asset or
the quote), and returns the total fee owed. Each source's fee rule is its own ``kernel.py``
(:func:`liqcascade.kernels._jit.by_kind` over the registered sources, as in
:mod:`liqcascade.venues.dispatch`).
"""

from __future__ import annotations

import importlib

from liqcascade.flashloans import SOURCES
from liqcascade.flashloans.kernel import FP_AVAIL_ASSET, FP_AVAIL_QUOTE
from liqcascade.kernels._jit import by_kind, internal, njit

_FEES = tuple(importlib.import_module(f"liqcascade.flashloans.{k}.kernel").fee for k in SOURCES)


@internal
def _no_fee(params, amount):
    return 0.0


_fee_k = by_kind(_FEES, _no_fee)


@njit
def source_fee(kind, params, amount):
    """The fee source ``kind`` charges on ``amount`` (0 for an unregistered code)."""
    return _fee_k(kind, params, amount)


@njit
def capacity(params2d, side):
    """Total liquidity of the sources on ``side`` (0: the pushed asset, 1: the quote)."""
    col = FP_AVAIL_ASSET if side == 0 else FP_AVAIL_QUOTE
    total = 0.0
    for j in range(params2d.shape[0]):
        total += params2d[j, col]
    return total


@njit
def borrow(kinds, params2d, amount, side, taken):
    """Borrow ``amount`` on ``side`` (0: asset, 1: quote) from the sources in order, each up to
    its liquidity; ``taken[j]`` gets what source ``j`` lends. Returns the total fee, or ``-1``
    when the sources together cannot lend ``amount`` (the transaction would revert)."""
    col = FP_AVAIL_ASSET if side == 0 else FP_AVAIL_QUOTE
    left = amount
    fee = 0.0
    for j in range(kinds.shape[0]):
        taken[j] = 0.0
    if amount <= 0.0:
        return 0.0
    for j in range(kinds.shape[0]):
        if left <= 0.0:
            break
        a = params2d[j, col]
        if a > left:
            a = left
        if a <= 0.0:
            continue
        taken[j] = a
        fee += source_fee(kinds[j], params2d[j], a)
        left -= a
    if left > 0.0:
        return -1.0
    return fee

"""Plain-Python twin of :mod:`liqcascade.flashloans.dispatch`, written naively for parity tests:
the sources are dictionaries, the split is a list built by walking them."""

from __future__ import annotations

import importlib

from liqcascade.flashloans import SOURCES


def borrow_py(kinds, params2d, amount, side):
    """``(fee, [taken per source])`` or ``(-1.0, taken)`` when the sources cannot lend ``amount``."""
    sources = [{"kind": SOURCES[int(k)], "fee": float(p[0]), "avail": float(p[1 + side])}
               for k, p in zip(kinds, params2d)]
    taken = []
    need = float(amount)
    fee = 0.0
    for s in sources:
        give = min(max(need, 0.0), s["avail"])
        give = give if give > 0.0 else 0.0
        taken.append(give)
        if give > 0.0:
            fee = fee + importlib.import_module(f"liqcascade.flashloans.{s['kind']}.twin").fee_py(s["fee"], give)
        need = need - give
    if amount > 0.0 and need > 0.0:
        return -1.0, taken
    return fee, taken

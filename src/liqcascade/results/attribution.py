"""Impact attribution from the sales ledger: who moved which venue, and by how much.

The ledger (:data:`liqcascade.results.run.SALE_DTYPE`) gives every row its Shapley share of its
venue's move in that step (:mod:`liqcascade.kernels.sales`); these helpers sum it per protocol
and venue. Shares add up to the moves exactly (up to floating-point rounding), so the price move
a protocol "caused" here is a split of what happened, not a counterfactual (that is
:mod:`liqcascade.engine.contagion`).
"""

from __future__ import annotations

import numpy as np


def attribution_rows(res) -> dict:
    """Per (protocol, venue): ``amount``, ``proceeds``, ``price_move`` (sum of Shapley shares,
    quote per unit), ``relative_move`` (sum of the shares over the venue's price before each
    step's sale: comparable across assets) and ``move_share`` (its fraction of the venue's total
    forced-sale move), means per recorded path. Rows of the sink (counterfactual runs) are left out: they do not touch a venue."""
    sl = res.sales
    rec = max(int(res.steps_asset.shape[0]), 1)
    keep = sl["venue"] != "(sink)" if len(sl) else np.zeros(0, dtype=bool)
    sl = sl[keep]
    out = {k: [] for k in ("protocol", "venue", "asset", "amount", "proceeds", "price_move", "relative_move",
                           "move_share")}
    if len(sl) == 0:
        return {k: np.asarray(v) for k, v in out.items()}
    venue_move = {}
    for v in np.unique(sl["venue"]):
        venue_move[v] = float(sl["impact"][sl["venue"] == v].sum())
    keys = sorted({(str(p), str(v), str(a)) for p, v, a in zip(sl["protocol"], sl["venue"], sl["asset"])})
    for p, v, a in keys:
        m = (sl["protocol"] == p) & (sl["venue"] == v)
        move = float(sl["impact"][m].sum())
        out["protocol"].append(p or "(other)")
        out["venue"].append(v)
        out["asset"].append(a)
        out["amount"].append(float(sl["amount"][m].sum()) / rec)
        out["proceeds"].append(float(sl["proceeds"][m].sum()) / rec)
        out["price_move"].append(move / rec)
        out["relative_move"].append(float((sl["impact"][m] / sl["price_pre"][m]).sum()) / rec)
        out["move_share"].append(move / venue_move[v] if venue_move[v] != 0.0 else 0.0)
    return {k: np.asarray(v) for k, v in out.items()}


def per_protocol_move(res) -> dict:
    """``{protocol: {venue: price move}}`` — means per recorded path (summary of
    :func:`attribution_rows` for the CLI tables and ``compare``)."""
    rows = attribution_rows(res)
    out: dict = {}
    for p, v, m in zip(rows["protocol"], rows["venue"], rows["price_move"]):
        out.setdefault(str(p), {})[str(v)] = float(m)
    return out

"""The book at the initial prices, before anything moves: debt with nothing behind it, and
positions already liquidatable.

* **Pre-existing bad debt.** An Aave-rule position with debt and no collateral that counts
  (none, or only assets with LT = 0) can never be liquidated and never repaid by a
  liquidation: its debt is bad debt before the run starts (Aave v3.3+ would have written it to
  the reserve deficit, §1.6). Neither engine liquidates it; both report its value at the initial
  prices as ``pre_existing_bad_debt``, apart from the bad debt the cascade creates.
* **Liquidatable at t = 0.** Positions with HF < 1 at the initial prices are liquidated in the
  first round / step whatever the shock: a curve or a run then measures the book's state more
  than the cascade. Counted so the commands can warn.

Protocol units (Comet, Liquity, Maker, crvUSD, perps) apply their own rules to such positions
and are not counted here.
"""

from __future__ import annotations

import numpy as np

from ..results.start import empty_state  # noqa: F401  (the state of a book with neither)


def _count_above(b, lo: int, hi: int, ratio: float, chunk: int = 1 << 16) -> int:
    """Positions ``lo:hi`` of the book whose key (``debt / (collateral · LT)``) exceeds
    ``ratio``. A book may derive its key instead of holding it (``Book.derive_key``): then it is
    read in chunks, so counting does not make the book keep 8 B per position."""
    if not hasattr(b, "derive_key") or b.has_key:
        return int(np.count_nonzero(ratio < b.key[lo:hi]))
    buf = np.empty(min(chunk, hi - lo))
    n = 0
    for a in range(lo, hi, chunk):
        e = min(a + chunk, hi)
        n += int(np.count_nonzero(ratio < b.derive_key(a, e, out=buf[: e - a])))
    return n


def start_state(book, p0, lt_pa, protocols) -> dict:
    """``{"pre_existing_bad_debt": {"positions", "value", "by_protocol"}, "liquidatable_at_start":
    {"positions", "by_protocol"}}`` for a compiled book at the initial prices ``p0``."""
    P = len(protocols)
    bad_n = np.zeros(P, dtype=np.int64)
    bad_v = np.zeros(P)
    liq_n = np.zeros(P, dtype=np.int64)
    b = book
    if b.idle_debt.shape[0]:
        lt = lt_pa[b.idle_proto, b.idle_asset]
        none = (b.idle_debt > 0) & ((b.idle_coll <= 0) | (lt <= 0))
        np.add.at(bad_n, b.idle_proto[none], 1)
        np.add.at(bad_v, b.idle_proto[none], b.idle_debt[none] * p0[b.idle_debt_asset[none]])
    for s in range(b.seg_asset.shape[0]):
        lo, hi = int(b.seg_ptr[s]), int(b.seg_ptr[s + 1])
        if hi == lo:
            continue
        ratio = p0[int(b.seg_asset[s])] / p0[int(b.seg_debt_asset[s])]
        liq_n[int(b.seg_proto[s])] += _count_above(b, lo, hi, ratio)
    for i in range(b.n_multi):
        s0, s1 = int(b.m_ptr[i]), int(b.m_ptr[i + 1])
        k = int(b.m_proto[i])
        a = b.m_asset[s0:s1]
        wv = float(np.sum(np.where(lt_pa[k, a] > 0, b.m_coll[s0:s1] * p0[a] * lt_pa[k, a], 0.0)))
        dv = float(np.sum(b.m_debt[s0:s1] * p0[a]))
        if dv > 0 and wv <= 0:
            bad_n[k] += 1
            bad_v[k] += dv
        elif dv > 0 and wv < dv:
            liq_n[k] += 1
    return {
        "pre_existing_bad_debt": {
            "positions": int(bad_n.sum()), "value": float(bad_v.sum()),
            "by_protocol": {protocols[k]: {"positions": int(bad_n[k]), "value": float(bad_v[k])}
                            for k in range(P) if bad_n[k]},
        },
        "liquidatable_at_start": {
            "positions": int(liq_n.sum()),
            "by_protocol": {protocols[k]: int(liq_n[k]) for k in range(P) if liq_n[k]},
        },
    }


def start_notes(state: dict) -> list[str]:
    """The notes the commands print for :func:`start_state`."""
    out = []
    pb = state["pre_existing_bad_debt"]
    if pb["positions"]:
        out.append(f"{pb['positions']:,} position(s) with debt and no collateral that counts: "
                   f"{pb['value']:,.2f} of pre-existing bad debt at the initial prices, reported as "
                   "pre_existing_bad_debt (never liquidated; not in the cascade's bad debt)")
    la = state["liquidatable_at_start"]["positions"]
    if la:
        out.append(f"{la:,} position(s) are liquidatable at t = 0 (HF < 1 at the initial prices): "
                   "they are liquidated in the first round/step whatever the shock")
    return out



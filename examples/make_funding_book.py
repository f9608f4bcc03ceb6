"""Write ``funding_positions.csv`` for ``funding.toml`` (fixed seed, reproducible).

    .venv/bin/python examples/make_funding_book.py

A crowded long book on a BTC perp that has been losing: 300 isolated positions, 75 % long,
opened at up to 8 % above the index of 40,000 (shorts up to 5 % below), leverage at entry
log-uniform between 10x and 48x (Hyperliquid's 50x market: maintenance margin 1 % of notional),
notional log-uniform between 20k and 2M. Positions whose equity at 40,000 is already within
1.02 % of their notional (at or under maintenance) are drawn again, so nothing is liquidatable
at the start; what is left spreads the accounts' distance to maintenance from a few basis
points upward. ``id,side,size,entry,margin,account``
(``account = -1``: isolated), the perp format of ``docs/scenario-format.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PRICE = 40_000.0


def funding_book(n: int = 300, seed: int = 20251010) -> Path:
    rng = np.random.default_rng(seed)
    rows = []
    while len(rows) < n:
        long = rng.random() < 0.75
        lev = float(np.exp(rng.uniform(np.log(10.0), np.log(48.0))))
        notional = float(np.exp(rng.uniform(np.log(2e4), np.log(2e6))))
        entry = PRICE * float(np.exp(rng.uniform(0.0, 0.08) if long else -rng.uniform(0.0, 0.05)))
        size = notional / entry
        margin = notional / lev
        equity = margin + (1.0 if long else -1.0) * size * (PRICE - entry)
        if equity < 0.0102 * size * PRICE:
            continue
        rows.append(("long" if long else "short", size, entry, margin))
    out = HERE / "funding_positions.csv"
    with open(out, "w", encoding="utf-8") as f:
        f.write("id,side,size,entry,margin,account\n")
        for i, (side, size, entry, margin) in enumerate(rows):
            f.write(f"fp{i:03d},{side},{size:.6f},{entry:.2f},{margin:.2f},-1\n")
    return out


if __name__ == "__main__":
    print(f"wrote {funding_book().name}")

"""Write ``attack_positions.csv`` for ``attack.toml`` (fixed seed, reproducible).

    .venv/bin/python examples/make_attack_book.py

200 WETH/USDC borrowers: 140 drawn with :func:`liqcascade.positions.synth.synth_book` (the
calibrated sampler, HF >= 1.02) plus a *cluster* of 60 leveraged positions with health factors
uniform in [1.08, 1.10] at the start price — their liquidation prices sit 7.4–9.1 % below the
$2,000 spot, the kind of ladder step a cascade hunter looks for. Amounts are rounded to 6
decimals (collateral) and 2 decimals (debt).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from liqcascade.positions.io import PositionTable, write_positions
from liqcascade.positions.synth import synth_book

HERE = Path(__file__).resolve().parent
PRICE = 2000.0  # [[assets]] WETH price in attack.toml
LT = 0.86  # its liquidation threshold


def main() -> Path:
    coll, debt = synth_book(140, 4040, PRICE, LT, min_hf=1.02)
    rng = np.random.default_rng(4041)
    c_cl = rng.lognormal(np.log(60.0), 0.6, 60)  # WETH units, ~$120k median
    hf = rng.uniform(1.08, 1.10, 60)
    d_cl = c_cl * PRICE * LT / hf
    coll = np.round(np.concatenate([coll, c_cl]), 6)
    debt = np.round(np.concatenate([debt, d_cl]), 2)
    ids = [f"bg{i:03d}" for i in range(140)] + [f"cl{i:03d}" for i in range(60)]
    out = HERE / "attack_positions.csv"
    write_positions(out, PositionTable.from_wide(coll, debt, ids=ids, assets=("WETH", "USDC")))
    return out


if __name__ == "__main__":
    print(main())

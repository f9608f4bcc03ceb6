"""Write the position files of ``three_protocols.toml`` (fixed seeds: reproducible files).

    .venv/bin/python examples/make_three_protocols.py

Three books on one asset (WETH at 2,000), drawn the way ``make_books.py`` and
``make_unit_books.py`` draw theirs (the helpers are repeated here so the script runs alone) (health factors from the Compound v2 ratio fit, conditioned on
``HF > 1.02``, so nothing starts liquidatable):

* ``three_protocols_aave_positions.csv``  — wide: 150 Aave v3 WETH/USDC borrowers (LT 0.86);
* ``three_protocols_maker_positions.csv`` — wide: 100 ETH-B vaults (WETH/DAI, mat 1.3);
* ``three_protocols_perp_positions.csv``  — ``id,side,size,entry,margin,account``: 150 isolated
  WETH perp positions (65 % long, 2-50x), with at least 2 % of the notional in equity.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from liqcascade.positions.synth import ratio_quantile, synth_book

HERE = Path(__file__).resolve().parent
WETH_PRICE = 2000.0  # must match [[assets]] price in three_protocols.toml
MIN_HF = 1.02


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed))


def _health(rng: np.random.Generator, n: int, cap: float = 6.0) -> np.ndarray:
    """Health factors from the Compound v2 ratio fit, conditioned on ``> MIN_HF``, capped."""
    return np.minimum(ratio_quantile(rng.uniform(size=n), floor=MIN_HF), cap)


def _debt(rng: np.random.Generator, n: int, median: float, sigma: float, lo: float, hi: float) -> np.ndarray:
    return np.clip(median * np.exp(sigma * rng.standard_normal(n)), lo, hi)


def _write(name: str, header: list[str], rows: list[list]) -> Path:
    out = HERE / name
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return out


def _wide(name: str, prefix: str, coll: np.ndarray, debt: np.ndarray) -> Path:
    rows = [[f"{prefix}{i:03d}", f"{c:.6f}", f"{d:.2f}"] for i, (c, d) in enumerate(zip(coll, debt))]
    return _write(name, ["id", "collateral", "debt"], rows)


def aave():
    coll, debt = synth_book(150, 3001, WETH_PRICE, 0.86, min_hf=MIN_HF)
    return _wide("three_protocols_aave_positions.csv", "aave", np.round(coll, 6), np.round(debt, 2))


def maker():
    rng = _rng(3002)
    n = 100
    hf = _health(rng, n)
    debt = np.round(_debt(rng, n, 40_000.0, 1.2, 5_000.0, 3_000_000.0), 2)
    coll = debt * 1.3 * hf / WETH_PRICE
    return _wide("three_protocols_maker_positions.csv", "vault", coll, debt)


def perp():
    rng = _rng(3003)
    rows = []
    for i in range(150):
        side = "long" if rng.uniform() < 0.65 else "short"
        notional = float(np.clip(30_000.0 * np.exp(1.3 * rng.standard_normal()), 1_000.0, 3_000_000.0))
        lev = float(np.exp(rng.uniform(np.log(2.0), np.log(50.0))))
        entry = WETH_PRICE * (1.0 + 0.01 * rng.standard_normal())
        size = notional / entry
        pnl0 = (1.0 if side == "long" else -1.0) * size * (WETH_PRICE - entry)
        margin = max(notional / lev, 0.02 * notional - pnl0)
        rows.append([f"perp{i:03d}", side, f"{size:.6f}", f"{entry:.2f}", f"{margin:.2f}", "-1"])
    return _write("three_protocols_perp_positions.csv", ["id", "side", "size", "entry", "margin", "account"], rows)


def main() -> None:
    for f in (aave(), maker(), perp()):
        rows = sum(1 for _ in open(f, encoding="utf-8")) - 1
        print(f"wrote {f.name} ({rows} rows)")


if __name__ == "__main__":
    main()

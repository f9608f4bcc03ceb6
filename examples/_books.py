"""What the example-book scripts share: seeded generators, health factors and sizes drawn the
same way, and the CSV writers (``make_unit_books.py``, ``make_three_protocols.py``).

Health factors come from the collateralisation-ratio mixture fitted on 1,798 real Compound v2
borrowers (:func:`liqcascade.positions.synth.ratio_quantile`), conditioned on ``HF > MIN_HF``
so nothing starts liquidatable; debt sizes are lognormal, clipped to a family's range.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from liqcascade.positions.synth import ratio_quantile

HERE = Path(__file__).resolve().parent
MIN_HF = 1.02

PERP_HEADER = ["id", "side", "size", "entry", "margin", "account"]


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed))


def health(g: np.random.Generator, n: int, cap: float = 6.0) -> np.ndarray:
    """Health factors from the Compound v2 ratio fit, conditioned on ``> MIN_HF``, capped."""
    return np.minimum(ratio_quantile(g.uniform(size=n), floor=MIN_HF), cap)


def lognormal(g: np.random.Generator, n: int, median: float, sigma: float, lo: float, hi: float) -> np.ndarray:
    return np.clip(median * np.exp(sigma * g.standard_normal(n)), lo, hi)


def write_csv(name: str, header: list[str], rows: list[list]) -> Path:
    out = HERE / name
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return out


def write_wide(name: str, prefix: str, coll: np.ndarray, debt: np.ndarray) -> Path:
    """A wide ``id,collateral,debt`` file, ids ``<prefix>000`` …, 6 and 2 decimals."""
    rows = [[f"{prefix}{i:03d}", f"{c:.6f}", f"{d:.2f}"] for i, (c, d) in enumerate(zip(coll, debt))]
    return write_csv(name, ["id", "collateral", "debt"], rows)


def isolated_perps(g: np.random.Generator, n: int, price: float) -> list[list[str]]:
    """``n`` isolated perp rows (:data:`PERP_HEADER`, ids ``perp000`` …): 65 % long, notional
    lognormal around 30k (1k–3M), leverage log-uniform 2–50x, entries within ~1 % of ``price``,
    and at least 2 % of the notional in equity at ``price`` (5x the first tier's 0.4 % MMR), so
    no position starts liquidatable."""
    rows = []
    for i in range(n):
        side = "long" if g.uniform() < 0.65 else "short"
        notional = float(np.clip(30_000.0 * np.exp(1.3 * g.standard_normal()), 1_000.0, 3_000_000.0))
        lev = float(np.exp(g.uniform(np.log(2.0), np.log(50.0))))
        entry = price * (1.0 + 0.01 * g.standard_normal())
        size = notional / entry
        pnl0 = (1.0 if side == "long" else -1.0) * size * (price - entry)
        margin = max(notional / lev, 0.02 * notional - pnl0)
        rows.append([f"perp{i:03d}", side, f"{size:.6f}", f"{entry:.2f}", f"{margin:.2f}", "-1"])
    return rows


def print_written(files) -> None:
    for f in files:
        rows = sum(1 for _ in open(f, encoding="utf-8")) - 1
        print(f"wrote {f.name} ({rows} rows)")

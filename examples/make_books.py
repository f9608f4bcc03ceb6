"""Write the position files of the shipped examples (fixed seeds, so the files are reproducible).

    .venv/bin/python examples/make_books.py

Every book is drawn with :func:`liqcascade.positions.synth.synth_book`, the sampler calibrated
on 1,798 real Compound v2 borrowers (debt size: truncated lognormal; collateralisation ratio:
three-component mixture; see its module docstring). ``min_hf`` keeps every position at
HF >= 1.02 at the start prices, so nothing is liquidatable before the price moves. Amounts are
rounded to 6 decimals (collateral) and 2 decimals (debt) to keep the files readable.

Files written next to this script:

* ``multi_venue_positions.csv``      — wide ``id,collateral,debt``: 250 WETH/USDC borrowers
  (``multi_venue_book.toml``);
* ``two_protocols_aave_positions.csv`` — long ``id,asset,collateral,debt``: 90 WETH and 40 WBTC
  borrowers of USDC, one collateral asset per position, two rows each (``two_protocols.toml``);
* ``two_protocols_fork_positions.csv`` — wide: 200 WETH/USDC borrowers of the riskier fork,
  drawn against its higher liquidation threshold 0.90 (``two_protocols.toml``);
* ``rates_positions.csv``            — wide: 1,000 WETH/USDC borrowers at HF >= 1.005, close enough
  to 1 that a month of interest liquidates some of them (``rates.toml``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from _books import print_written

from liqcascade.positions.io import PositionTable, write_positions
from liqcascade.positions.synth import synth_book

HERE = Path(__file__).resolve().parent

WETH_PRICE = 2000.0  # must match [[assets]] price in the scenarios
WBTC_PRICE = 40000.0
MIN_HF = 1.02


def _book(n: int, seed: int, price: float, lt: float) -> tuple[np.ndarray, np.ndarray]:
    coll, debt = synth_book(n, seed, price, lt, min_hf=MIN_HF)
    return np.round(coll, 6), np.round(debt, 2)


def _wide(name: str, prefix: str, coll: np.ndarray, debt: np.ndarray) -> Path:
    """A wide WETH/USDC file, ids ``<prefix>000`` …"""
    ids = [f"{prefix}{i:03d}" for i in range(coll.size)]
    out = HERE / name
    write_positions(out, PositionTable.from_wide(coll, debt, ids=ids, assets=("WETH", "USDC")))
    return out


def multi_venue() -> Path:
    return _wide("multi_venue_positions.csv", "mv", *_book(250, 20250519, WETH_PRICE, 0.86))


def two_protocols_aave() -> Path:
    # long layout: each position holds ONE collateral asset (WETH or WBTC) and owes USDC
    c_eth, d_eth = _book(90, 1001, WETH_PRICE, 0.86)
    c_btc, d_btc = _book(40, 1018, WBTC_PRICE, 0.82)
    assets = ("WETH", "WBTC", "USDC")
    ids, coll, debt, asset = [], [], [], []
    for name, a, cs, ds in (("eth", 0, c_eth, d_eth), ("btc", 1, c_btc, d_btc)):
        for i, (c, d) in enumerate(zip(cs, ds)):
            pid = f"aave-{name}{i:03d}"
            ids.append(pid)
            coll += [c, 0.0]  # row 1: the collateral asset
            debt += [0.0, d]  # row 2: the USDC debt
            asset += [a, 2]
    n = len(ids)
    table = PositionTable(
        ids=np.asarray(ids, dtype=str), assets=assets, wide=False,
        collateral=np.asarray(coll, dtype=np.float64), debt=np.asarray(debt, dtype=np.float64),
        ptr=np.arange(0, 2 * n + 1, 2, dtype=np.int64), asset=np.asarray(asset, dtype=np.int64),
    )
    out = HERE / "two_protocols_aave_positions.csv"
    write_positions(out, table)
    return out


def two_protocols_fork() -> Path:
    return _wide("two_protocols_fork_positions.csv", "fork", *_book(200, 1003, WETH_PRICE, 0.90))


def rates() -> Path:
    coll, debt = synth_book(1000, 20251010, WETH_PRICE, 0.86, min_hf=1.005)
    return _wide("rates_positions.csv", "r", np.round(coll, 6), np.round(debt, 2))


def main() -> None:
    print_written((multi_venue(), two_protocols_aave(), two_protocols_fork(), rates()))


if __name__ == "__main__":
    main()

"""Write the position files of the two depeg examples (fixed seeds, so the files are reproducible).

    .venv/bin/python examples/make_depeg_books.py

* ``steth_depeg_positions.csv`` — wide ``id,collateral,debt``: 400 E-mode loops, wstETH collateral
  against WETH debt, health factors drawn at the start *market* price (``steth_depeg.toml``:
  1 wstETH = 1.06 stETH at a 1.83 % discount, LT 0.95): 60 % of the loops between HF 1.02 and
  1.10 (leverage of 8–15×, the usual looping range), 40 % between 1.10 and 1.60. Sizes are
  lognormal (median 60 wstETH, σ 1.6, capped at 20,000): about 86k wstETH in all, against a pool
  of 560k (the size is an assumption, not a record of Aave's book in June 2022, which had no
  E-mode).
* ``usdc_depeg_lender_positions.csv`` — 300 borrowers of USDT against USDC (LT 0.875), HF 1.02–1.40;
* ``usdc_depeg_cdp_positions.csv`` — 200 vaults minting the DAI-like stablecoin against USDC at
  the 101 % minimum ratio (LT 1/1.01), HF 1.005–1.15 (``usdc_depeg.toml``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from liqcascade.positions.io import PositionTable, write_positions

HERE = Path(__file__).resolve().parent

WSTETH_MARKET = 1.06 * 0.98171  # [[assets]] price in steth_depeg.toml (ETH per wstETH)
STETH_LT = 0.95
USDC_PRICE = 1.0


def _write(name: str, coll: np.ndarray, debt: np.ndarray) -> None:
    ids = [f"pos{i:03d}" for i in range(coll.size)]
    write_positions(HERE / name, PositionTable.from_wide(np.round(coll, 6), np.round(debt, 6), ids=ids))


def _book(seed: int, n: int, median: float, sigma: float, cap: float, hf_bands, price: float, lt: float):
    rng = np.random.default_rng(seed)
    coll = np.minimum(median * np.exp(sigma * rng.standard_normal(n)), cap)
    band = rng.choice(len(hf_bands), size=n, p=[w for w, _, _ in hf_bands])
    lo = np.array([b[1] for b in hf_bands])[band]
    hi = np.array([b[2] for b in hf_bands])[band]
    hf = rng.uniform(lo, hi)
    return coll, coll * price * lt / hf


def main() -> None:
    coll, debt = _book(20220601, 400, 60.0, 1.6, 20_000.0, [(0.6, 1.02, 1.10), (0.4, 1.10, 1.60)],
                       WSTETH_MARKET, STETH_LT)
    _write("steth_depeg_positions.csv", coll, debt)
    coll, debt = _book(20230310, 300, 50_000.0, 1.5, 2e7, [(1.0, 1.02, 1.40)], USDC_PRICE, 0.875)
    _write("usdc_depeg_lender_positions.csv", coll, debt)
    coll, debt = _book(20230311, 200, 200_000.0, 1.5, 5e7, [(1.0, 1.005, 1.15)], USDC_PRICE, 1.0 / 1.01)
    _write("usdc_depeg_cdp_positions.csv", coll, debt)


if __name__ == "__main__":
    main()

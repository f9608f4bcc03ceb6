"""Write the position files of ``three_protocols.toml`` (fixed seeds: reproducible files).

    .venv/bin/python examples/make_three_protocols.py

Three books on one asset (WETH at 2,000), drawn the way ``make_books.py`` and
``make_unit_books.py`` draw theirs (helpers shared in ``_books.py``; health factors from the
Compound v2 ratio fit, conditioned on ``HF > 1.02``, so nothing starts liquidatable):

* ``three_protocols_aave_positions.csv``  — wide: 150 Aave v3 WETH/USDC borrowers (LT 0.86);
* ``three_protocols_maker_positions.csv`` — wide: 100 ETH-B vaults (WETH/DAI, mat 1.3);
* ``three_protocols_perp_positions.csv``  — ``id,side,size,entry,margin,account``: 150 isolated
  WETH perp positions (65 % long, 2-50x), with at least 2 % of the notional in equity.
"""

from __future__ import annotations

import numpy as np
from _books import MIN_HF, PERP_HEADER, health, isolated_perps, lognormal, print_written, rng, write_csv, write_wide

from liqcascade.positions.synth import synth_book

WETH_PRICE = 2000.0  # must match [[assets]] price in three_protocols.toml


def aave():
    coll, debt = synth_book(150, 3001, WETH_PRICE, 0.86, min_hf=MIN_HF)
    return write_wide("three_protocols_aave_positions.csv", "aave", np.round(coll, 6), np.round(debt, 2))


def maker():
    g = rng(3002)
    n = 100
    hf = health(g, n)
    debt = np.round(lognormal(g, n, 40_000.0, 1.2, 5_000.0, 3_000_000.0), 2)
    coll = debt * 1.3 * hf / WETH_PRICE
    return write_wide("three_protocols_maker_positions.csv", "vault", coll, debt)


def perp():
    return write_csv("three_protocols_perp_positions.csv", PERP_HEADER, isolated_perps(rng(3003), 150, WETH_PRICE))


def main() -> None:
    print_written((aave(), maker(), perp()))


if __name__ == "__main__":
    main()

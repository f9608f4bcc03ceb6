"""Write the position files of the protocol-unit examples (fixed seeds: reproducible files).

    .venv/bin/python examples/make_unit_books.py

One file per unit example (``comet.toml``, ``maker.toml``, ``liquity.toml``, ``llamma.toml``,
``perp.toml``), each under 300 rows, written next to this script:

* ``comet_positions.csv``   — wide ``id,collateral,debt``: 200 WETH/USDC borrowers of cUSDCv3;
* ``maker_positions.csv``   — wide: 180 ETH-B vaults (WETH collateral, DAI debt);
* ``liquity_positions.csv`` — wide: 200 troves (WETH collateral, composite LUSD debt);
* ``llamma_positions.csv``  — wide: 150 crvUSD loans (WETH collateral, crvUSD debt, 4 bands);
* ``perp_positions.csv``    — ``id,side,size,entry,margin,account``: 220 BTC positions
  (longs and shorts, isolated and a few two-position cross accounts).

How the lending books are drawn: the health factor of each position relative to the family's
borrowing limit comes from the collateralisation-ratio mixture fitted on 1,798 real Compound v2
borrowers (:func:`liqcascade.positions.synth.ratio_quantile`, conditioned on ``HF > MIN_HF``,
so nothing starts liquidatable); debt sizes are lognormal with a floor at the family's minimum
(Liquity's 2,000 LUSD, Maker's dust) — the Compound size fit has a tail of dust and of whales
that these protocols' minimums and the examples' venue depths do not fit. Amounts are rounded
to 6 decimals (collateral) and 2 decimals (debt).

"Borrowing limit" per family: Comet ``debt <= coll·P·borrowCF`` (0.825 for WETH, so HF is
relative to borrowCF); Maker ``debt <= coll·P/mat`` (ETH-B: mat 1.3); Liquity ``debt <=
coll·P/MCR`` (1.1); LLAMMA ``debt <= max_borrowable(coll, N, P)`` (the Controller's limit).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from _books import PERP_HEADER, health, isolated_perps, lognormal, print_written, rng, write_csv, write_wide

WETH_PRICE = 2000.0  # must match [[assets]] price in the WETH scenarios
BTC_PRICE = 40000.0  # must match [[assets]] price in perp.toml


def comet() -> Path:
    g = rng(20240601)
    n = 200
    hf = health(g, n)
    debt = np.round(lognormal(g, n, 20_000.0, 1.3, 500.0, 2_000_000.0), 2)  # borrow_min is 100 USDC
    coll = debt * hf / (0.825 * WETH_PRICE)  # borrowCF of WETH at launch
    return write_wide("comet_positions.csv", "comet", coll, debt)


def maker() -> Path:
    g = rng(20240602)
    n = 180
    hf = health(g, n)
    debt = np.round(lognormal(g, n, 40_000.0, 1.2, 5_000.0, 3_000_000.0), 2)  # well above dust 2,000
    coll = debt * 1.3 * hf / WETH_PRICE  # ETH-B mat 130 %
    return write_wide("maker_positions.csv", "vault", coll, debt)


def liquity() -> Path:
    g = rng(20240603)
    n = 200
    hf = health(g, n)
    debt = np.round(lognormal(g, n, 25_000.0, 1.2, 2_000.0, 2_000_000.0), 2)  # composite, >= 1,800 + 200
    coll = debt * 1.1 * hf / WETH_PRICE  # MCR 110 %
    return write_wide("liquity_positions.csv", "trove", coll, debt)


def llamma() -> Path:
    from liqcascade.protocols.llamma.model import PRESETS
    from liqcascade.protocols.llamma.pack import max_borrowable

    cfg = PRESETS["crvusd_launch"]
    g = rng(20240604)
    n = 150
    # loans are taken closer to the limit than lending positions: spread HF over [1.02, 1.6]
    hf = 1.02 + 0.58 * g.uniform(size=n) ** 1.5
    coll = np.round(lognormal(g, n, 15.0, 1.1, 1.0, 2_000.0), 6)  # WETH
    mb = np.array([max_borrowable(cfg, c, cfg.n_bands, WETH_PRICE) for c in coll])
    debt = np.floor(mb / hf * 100) / 100
    return write_wide("llamma_positions.csv", "loan", coll, debt)


def perp() -> Path:
    g = rng(20240605)
    rows = isolated_perps(g, 200, BTC_PRICE)
    # ten cross accounts of two positions sharing one margin (long + long, or long + short hedge)
    for k in range(10):
        for j, side in enumerate(("long", "short" if k % 2 else "long")):
            notional = float(20_000.0 * np.exp(0.8 * g.standard_normal()))
            entry = BTC_PRICE * (1.0 + 0.01 * g.standard_normal())
            margin = notional / 8.0
            rows.append([f"cross{k:02d}-{j}", side, f"{notional / entry:.6f}", f"{entry:.2f}",
                         f"{margin:.2f}", str(k)])
    return write_csv("perp_positions.csv", PERP_HEADER, rows)


def main() -> None:
    print_written((comet(), maker(), liquity(), llamma(), perp()))


if __name__ == "__main__":
    main()

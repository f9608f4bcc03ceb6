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

import csv
from pathlib import Path

import numpy as np

from liqcascade.positions.synth import ratio_quantile

HERE = Path(__file__).resolve().parent

WETH_PRICE = 2000.0  # must match [[assets]] price in the WETH scenarios
BTC_PRICE = 40000.0  # must match [[assets]] price in perp.toml
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


def comet() -> Path:
    rng = _rng(20240601)
    n = 200
    hf = _health(rng, n)
    debt = np.round(_debt(rng, n, 20_000.0, 1.3, 500.0, 2_000_000.0), 2)  # borrow_min is 100 USDC
    coll = debt * hf / (0.825 * WETH_PRICE)  # borrowCF of WETH at launch
    return _wide("comet_positions.csv", "comet", coll, debt)


def maker() -> Path:
    rng = _rng(20240602)
    n = 180
    hf = _health(rng, n)
    debt = np.round(_debt(rng, n, 40_000.0, 1.2, 5_000.0, 3_000_000.0), 2)  # well above dust 2,000
    coll = debt * 1.3 * hf / WETH_PRICE  # ETH-B mat 130 %
    return _wide("maker_positions.csv", "vault", coll, debt)


def liquity() -> Path:
    rng = _rng(20240603)
    n = 200
    hf = _health(rng, n)
    debt = np.round(_debt(rng, n, 25_000.0, 1.2, 2_000.0, 2_000_000.0), 2)  # composite, >= 1,800 + 200
    coll = debt * 1.1 * hf / WETH_PRICE  # MCR 110 %
    return _wide("liquity_positions.csv", "trove", coll, debt)


def llamma() -> Path:
    from liqcascade.protocols.llamma.model import PRESETS
    from liqcascade.protocols.llamma.pack import max_borrowable

    cfg = PRESETS["crvusd_launch"]
    rng = _rng(20240604)
    n = 150
    # loans are taken closer to the limit than lending positions: spread HF over [1.02, 1.6]
    hf = 1.02 + 0.58 * rng.uniform(size=n) ** 1.5
    coll = np.round(_debt(rng, n, 15.0, 1.1, 1.0, 2_000.0), 6)  # WETH
    mb = np.array([max_borrowable(cfg, c, cfg.n_bands, WETH_PRICE) for c in coll])
    debt = np.floor(mb / hf * 100) / 100
    return _wide("llamma_positions.csv", "loan", coll, debt)


def perp() -> Path:
    rng = _rng(20240605)
    n_iso = 200
    rows = []
    for i in range(n_iso):
        side = "long" if rng.uniform() < 0.65 else "short"
        notional = float(np.clip(30_000.0 * np.exp(1.3 * rng.standard_normal()), 1_000.0, 3_000_000.0))
        lev = float(np.exp(rng.uniform(np.log(2.0), np.log(50.0))))
        entry = BTC_PRICE * (1.0 + 0.01 * rng.standard_normal())
        size = notional / entry
        # at least 2 % of the notional in equity at the start price (5x the first tier's 0.4 %
        # MMR), so no position starts liquidatable
        pnl0 = (1.0 if side == "long" else -1.0) * size * (BTC_PRICE - entry)
        margin = max(notional / lev, 0.02 * notional - pnl0)
        rows.append([f"perp{i:03d}", side, f"{size:.6f}", f"{entry:.2f}", f"{margin:.2f}", "-1"])
    # ten cross accounts of two positions sharing one margin (long + long, or long + short hedge)
    for k in range(10):
        for j, side in enumerate(("long", "short" if k % 2 else "long")):
            notional = float(20_000.0 * np.exp(0.8 * rng.standard_normal()))
            entry = BTC_PRICE * (1.0 + 0.01 * rng.standard_normal())
            margin = notional / 8.0
            rows.append([f"cross{k:02d}-{j}", side, f"{notional / entry:.6f}", f"{entry:.2f}",
                         f"{margin:.2f}", str(k)])
    return _write("perp_positions.csv", ["id", "side", "size", "entry", "margin", "account"], rows)


def main() -> None:
    for f in (comet(), maker(), liquity(), llamma(), perp()):
        rows = sum(1 for _ in open(f, encoding="utf-8")) - 1
        print(f"wrote {f.name} ({rows} rows)")


if __name__ == "__main__":
    main()

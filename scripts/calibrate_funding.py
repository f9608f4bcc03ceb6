#!/usr/bin/env python3
"""Fit the premium response of the funding models on ../shared/data/perp_venues_2025.

Usage:  .venv/bin/python scripts/calibrate_funding.py [--data PATH] [--markdown]
Prints one summary per venue, coin and specification (``returns``; ``dislocation`` where the
venue's own candles allow it), or a Markdown table with ``--markdown``. Writes nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    from liqcascade.calibration.funding import calibrate

    if not (args.data / "perp_venues_2025" / "funding_rates.parquet").exists():
        print(f"error: {args.data / 'perp_venues_2025'}: funding_rates.parquet not found", file=sys.stderr)
        return 2
    rows = []
    for venue in ("binance", "hyperliquid"):
        for coin in ("BTC", "ETH", "SOL", "HYPE", "DOGE"):
            for spec in ("returns", "dislocation"):
                try:
                    fit = calibrate(args.data, venue, coin, spec=spec)
                except ValueError as e:
                    if not args.markdown:
                        print(f"{venue} {coin} ({spec}): skipped: {e}")
                    continue
                if args.markdown:
                    g = fit.coef.get("gamma")
                    gs = f"{g:.3g} ({fit.se['gamma']:.2g})" if g is not None else "–"
                    rows.append(f"| {venue} | {coin} | {spec} | {fit.n} | {fit.share_in_band:.0%} | {fit.coef['a']:.2e} | "
                                f"{fit.coef['phi']:.3f} | {fit.coef['beta']:.2e} ({fit.se['beta']:.1e}) | {gs} | "
                                f"{fit.sigma:.1e} | {fit.lr_pvalue:.1g} | {fit.oos_mae:.2e} / {fit.oos_mae_naive:.2e} |")
                else:
                    print(fit.summary())
    if args.markdown:
        print("| venue | coin | spec | n | in band | a | φ | β (se) | γ (se) | σ | LR p | OOS MAE model / naive |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

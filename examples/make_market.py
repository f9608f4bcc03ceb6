"""Write ``market.csv``, the example market file of ``liqcascade warn`` (fixed seed, reproducible).

    .venv/bin/python examples/make_market.py

Twelve hours of one-minute WETH bars around US$2,000 (the price of ``minimal.toml`` and
``multi_venue_book.toml``): a random walk at 80 % annualized volatility for 11 h, then a slide of
about 7 % over the last hour with heavier selling. Columns: ``time`` (ISO 8601, UTC),
``close``, ``volume`` (WETH; lognormal, larger on down-moves in the last hour), ``oracle`` (a
Chainlink-style feed that publishes on a 0.5 % deviation), and the quote depth within 1, 2 and 5 %
on each side (the shape of ``multi_venue_book.toml``'s order book, thinning in the last hour).
The numbers are synthetic: an example of the format, not a market record.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main() -> None:
    rng = np.random.default_rng(20251010)
    n = 720
    sig = 0.8 * np.sqrt(60 / (365 * 86400))
    r = rng.normal(0.0, sig, n)
    r[-60:] += np.log(0.93) / 60  # the last hour slides 7 %
    close = 2000.0 * np.exp(np.cumsum(r))
    vol = np.exp(rng.normal(np.log(40.0), 0.5, n))
    vol[-60:] *= np.where(r[-60:] < 0, 4.0, 1.5)
    oracle = np.empty(n)
    last = close[0]
    for i, c in enumerate(close):
        if abs(c / last - 1) >= 0.005:
            last = c
        oracle[i] = last
    thin = np.ones(n)
    thin[-60:] = np.linspace(1.0, 0.4, 60)
    depth = {"1": 3.0e6, "2": 4.8e6, "5": 9.0e6}
    t0 = dt.datetime(2025, 10, 10, 9, 0, tzinfo=dt.timezone.utc)
    lines = ["time,close,volume,oracle,bid_depth_1,bid_depth_2,bid_depth_5,ask_depth_1,ask_depth_2,ask_depth_5"]
    for i in range(n):
        t = (t0 + dt.timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        d = [f"{depth[k] * thin[i]:.0f}" for k in ("1", "2", "5")]
        lines.append(f"{t},{close[i]:.2f},{vol[i]:.4f},{oracle[i]:.2f}," + ",".join(d + d))
    (HERE / "market.csv").write_text("\n".join(lines) + "\n")
    print(f"wrote {HERE / 'market.csv'}: {n} bars, last close {close[-1]:.2f}")


if __name__ == "__main__":
    main()

"""Write examples/flow_synthetic.csv: a three-hour, one-minute liquidation-volume series.

A made-up crash (the mid falls 15 % between minutes 60 and 90 and gets a third of it back by
minute 140), a burst of long liquidations (forced sells) centred on minute 75, a small steady
trickle every seventh minute, and a burst of short liquidations (forced buys) on the rebound
around minute 120. Same column shape as the Risk DAO Binance-futures file. Deterministic:
rerunning writes the same bytes.

    python examples/make_flow_series.py
"""

from __future__ import annotations

import math
from pathlib import Path


def clip(x: float) -> float:
    return min(1.0, max(0.0, x))


def main() -> None:
    rows = ["timestamp,bid_price,ask_price,liq_long,liq_short"]
    for i in range(180):
        t = 1609459200 + 60 * i  # 2021-01-01 00:00 UTC
        mid = 2000 * (1 - 0.15 * clip((i - 60) / 30) + 0.05 * clip((i - 100) / 40))
        long_ = 200 * math.exp(-(((i - 75) / 6) ** 2)) + (5.0 if i % 7 == 0 else 0.0)
        short = 50 * math.exp(-(((i - 120) / 5) ** 2))
        rows.append(f"{t},{mid - 0.5:.2f},{mid + 0.5:.2f},{long_:.3f},{short:.3f}")
    Path(__file__).with_name("flow_synthetic.csv").write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()

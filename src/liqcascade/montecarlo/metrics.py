"""Risk metrics of a Monte Carlo point from its per-path results.

With ``bad`` the per-path bad debt and ``liq`` the per-path liquidated value (quote units), and
α = 0.95:

* **VaR** — the α-quantile of ``bad`` (``numpy.quantile``, linear interpolation);
* **LaR** (liquidations at risk) — the α-quantile of ``liq``;
* **probability of insolvency** — the share of paths with ``bad > 0`` (Wilson 95 % interval);
* **expected shortfall** — the mean bad debt of the worst ``k = ⌈(1-α)·n⌉`` paths (the tail
  beyond VaR; ≥ VaR);
* **mean and 95 % CI** — ``mean ± 1.96·s/√n`` (normal approximation; ``None`` for n < 2).

Inputs are taken in path order, so results do not depend on how the paths were chunked.
"""

from __future__ import annotations

import math

import numpy as np

ALPHA = 0.95
Z95 = 1.959963984540054

#: metric names, in the order tables and the catalog show them
KEYS = (
    "paths", "var95", "lar95", "es95", "p_insolvency", "p_insolvency_lo", "p_insolvency_hi",
    "bad_debt_mean", "bad_debt_ci_lo", "bad_debt_ci_hi", "bad_debt_max",
    "liquidated_mean", "liquidated_ci_lo", "liquidated_ci_hi",
    "liquidations_mean", "repaid_mean", "fees_mean", "bonus_mean", "proceeds_mean", "gas_mean",
)


def mean_ci(x: np.ndarray) -> tuple[float, float | None, float | None]:
    n = x.shape[0]
    if n == 0:
        return math.nan, None, None
    m = float(x.mean())
    if n < 2:
        return m, None, None
    h = Z95 * float(x.std(ddof=1)) / math.sqrt(n)
    return m, m - h, m + h


def wilson(k: int, n: int) -> tuple[float | None, float | None]:
    if n == 0:
        return None, None
    p = k / n
    z2 = Z95 * Z95
    den = 1 + z2 / n
    c = (p + z2 / (2 * n)) / den
    h = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / den
    return max(0.0, c - h), min(1.0, c + h)


def expected_shortfall(x: np.ndarray, alpha: float = ALPHA) -> float:
    n = x.shape[0]
    if n == 0:
        return math.nan
    k = max(1, math.ceil((1 - alpha) * n - 1e-9))
    return float(np.sort(x)[n - k:].mean())


#: the per-path columns of an external-flow point (``[flow]`` scenarios), averaged over paths
FLOW_KEYS = ("max_drop", "mean_drop", "sell_in", "absorbed", "sold", "sell_unfilled", "buy_in", "bought",
             "buy_unfilled", "proceeds", "backstop_end", "backstop_min", "backstop_paid")


def compute_flow(cols: dict) -> dict:
    """Metrics of an external-flow point: each of :data:`FLOW_KEYS` (one path: its value; several:
    their mean), at the top level and under ``assets[<asset>]`` (where the run catalog keeps them)."""
    n = int(np.asarray(cols["max_drop"]).shape[0])
    out: dict = {"paths": n}
    if n == 0:
        return out
    for k in FLOW_KEYS:
        if k in cols:
            out[k] = float(np.asarray(cols[k], dtype=np.float64).mean())
    asset = str(np.asarray(cols["flow_asset"])[0]) if "flow_asset" in cols else "asset"
    out["assets"] = {asset: {k: out[k] for k in FLOW_KEYS if k in out}}
    return out


def compute(cols: dict, alpha: float = ALPHA) -> dict:
    """Metrics from per-path columns (``bad_debt``, ``liquidated_value``, …), plus the mean
    drawdown and final price of every asset column present (``max_drawdown_<A>``, ``final_price_<A>``).
    An external-flow point (a ``max_drop`` column) gets :func:`compute_flow`."""
    if "max_drop" in cols and "bad_debt" not in cols:
        return compute_flow(cols)
    bad = np.asarray(cols["bad_debt"], dtype=np.float64)
    liq = np.asarray(cols["liquidated_value"], dtype=np.float64)
    n = int(bad.shape[0])
    out: dict = {"paths": n}
    if n == 0:
        return out
    out["var95"] = float(np.quantile(bad, alpha))
    out["lar95"] = float(np.quantile(liq, alpha))
    out["es95"] = expected_shortfall(bad, alpha)
    k = int((bad > 0).sum())
    out["p_insolvency"] = k / n
    out["p_insolvency_lo"], out["p_insolvency_hi"] = wilson(k, n)
    out["bad_debt_mean"], out["bad_debt_ci_lo"], out["bad_debt_ci_hi"] = mean_ci(bad)
    out["bad_debt_max"] = float(bad.max())
    out["liquidated_mean"], out["liquidated_ci_lo"], out["liquidated_ci_hi"] = mean_ci(liq)
    for key, col in (("liquidations_mean", "liquidations"), ("repaid_mean", "repaid"), ("fees_mean", "fees"),
                     ("bonus_mean", "bonus"), ("proceeds_mean", "proceeds"), ("gas_mean", "gas")):
        if col in cols:
            out[key] = float(np.asarray(cols[col], dtype=np.float64).mean())
    assets = {}
    for name, col in cols.items():
        for prefix, key in (("max_drawdown_", "max_drawdown_mean"), ("final_price_", "final_price_mean")):
            if name.startswith(prefix):
                assets.setdefault(name[len(prefix):], {})[key] = float(np.asarray(col, dtype=np.float64).mean())
    if assets:
        out["assets"] = assets
    return out

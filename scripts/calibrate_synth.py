#!/usr/bin/env python3
"""Fit the synthetic-book constants of ``liqcascade.positions.synth`` from real borrowers.

Input (not in the repository; see ../shared/data/README.md):
    ../shared/data/compound_v2_borrowers_2023/compound_v2_accounts_with_borrows.csv
    columns ``account,totalBorrowValueInEth,totalCollateralValueInEth,ratio_coll_over_borrow``
    (8,851 Compound v2 borrowers, snapshot ~May 2023, from rtuchman/compound-risk-optimization
    @ f7b808a). The collateral column is treated as RAW value (not weighted by collateral factor),
    as the data README says to assume.

Method:
    * collateralisation ratio ``c = totalCollateralValueInEth / totalBorrowValueInEth``
      (recomputed; it matches the file's ratio column);
    * keep accounts with debt >= DEBT_MIN_ETH (drops dust: the file's debts span 1e-21..4e4
      ETH and the ratios of dust accounts are meaningless) and ``c > C_FLOOR`` (= 1: drops
      accounts whose recorded collateral does not cover the debt, ~9 % of the non-dust
      accounts, most of them with zero recorded collateral);
    * debt size: lognormal for debt in ETH, truncated to [DEBT_MIN_ETH, largest kept debt],
      fitted by maximum likelihood (the truncation is part of the model and synth samples it
      the same way; without the upper bound the fitted tail would put 0.1 % of 1M draws above
      ~90k ETH, five times the data's 99.9th percentile);
    * ratio: a K-component Gaussian mixture for ``y = log(c - 1)`` fitted by EM (numpy only,
      deterministic quantile initialisation). ``c = 1 + exp(y) > 1`` for every draw.

Usage:  .venv/bin/python scripts/calibrate_synth.py [--data PATH] [--k 3]
Prints the constants to paste into src/liqcascade/positions/synth.py.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import numpy as np

REL_PATH = Path("compound_v2_borrowers_2023") / "compound_v2_accounts_with_borrows.csv"
DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / REL_PATH

DEBT_MIN_ETH = 0.1  # dust threshold (~$180 at 1,800 USD/ETH)
C_FLOOR = 1.0


def load_accounts(path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (debt_eth, collateral_eth, ratio_column) from the accounts CSV."""
    debt, coll, ratio = [], [], []
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            debt.append(float(row["totalBorrowValueInEth"]))
            coll.append(float(row["totalCollateralValueInEth"]))
            ratio.append(float(row["ratio_coll_over_borrow"]))
    return np.array(debt), np.array(coll), np.array(ratio)


def select(debt: np.ndarray, coll: np.ndarray, debt_min=DEBT_MIN_ETH, c_floor=C_FLOOR):
    """Apply the filter; return (debt_eth, c) of the kept accounts."""
    ok = np.isfinite(debt) & np.isfinite(coll) & (debt > 0)
    c = np.full(debt.shape, np.nan)
    c[ok] = coll[ok] / debt[ok]
    keep = ok & (debt >= debt_min) & (c > c_floor)
    return debt[keep], c[keep]


def _norm_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def fit_truncated_lognormal(x: np.ndarray, lower: float, upper: float = math.inf,
                            iters: int = 200) -> tuple[float, float]:
    """MLE of (mu, sigma) of log(x) ~ N(mu, sigma) given lower <= x <= upper (truncation).

    Minimises the negative log-likelihood with a small Nelder-Mead on (mu, log sigma).
    """
    y = np.log(x)
    a = math.log(lower)
    b = math.log(upper) if math.isfinite(upper) else math.inf
    n = y.size

    def nll(th):
        mu, ls = th
        s = math.exp(ls)
        tail = (_norm_cdf((b - mu) / s) if math.isfinite(b) else 1.0) - _norm_cdf((a - mu) / s)
        if tail <= 1e-300:
            return np.inf
        z = (y - mu) / s
        return 0.5 * float(z @ z) + n * ls + n * math.log(tail)

    th0 = np.array([y.mean(), math.log(y.std())])
    simplex = np.array([th0, th0 + [0.5, 0.0], th0 + [0.0, 0.3]])
    f = np.array([nll(t) for t in simplex])
    for _ in range(iters * 10):
        o = np.argsort(f)
        simplex, f = simplex[o], f[o]
        if abs(f[-1] - f[0]) < 1e-12 and np.ptp(simplex, axis=0).max() < 1e-10:
            break
        cen = simplex[:-1].mean(axis=0)
        xr = cen + (cen - simplex[-1]); fr = nll(xr)
        if fr < f[0]:
            xe = cen + 2 * (cen - simplex[-1]); fe = nll(xe)
            simplex[-1], f[-1] = (xe, fe) if fe < fr else (xr, fr)
        elif fr < f[-2]:
            simplex[-1], f[-1] = xr, fr
        else:
            xc = cen + 0.5 * (simplex[-1] - cen); fc = nll(xc)
            if fc < f[-1]:
                simplex[-1], f[-1] = xc, fc
            else:
                simplex[1:] = simplex[0] + 0.5 * (simplex[1:] - simplex[0])
                f[1:] = [nll(t) for t in simplex[1:]]
    best = simplex[np.argmin(f)]
    return float(best[0]), float(math.exp(best[1]))


def truncated_lognormal_quantile(q: float, mu: float, s: float, lower: float, upper: float) -> float:
    """Quantile of the lognormal (mu, s) truncated to [lower, upper] (bisection on log x)."""
    fa, fb = _norm_cdf((math.log(lower) - mu) / s), _norm_cdf((math.log(upper) - mu) / s)
    target = fa + q * (fb - fa)
    lo, hi = math.log(lower), math.log(upper)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if _norm_cdf((mid - mu) / s) < target:
            lo = mid
        else:
            hi = mid
    return math.exp(0.5 * (lo + hi))


def fit_gmm(y: np.ndarray, k: int, iters: int = 2000, tol: float = 1e-10):
    """EM for a 1-D Gaussian mixture. Returns (weights, means, sds, loglik).

    Deterministic: components start at the (j+0.5)/k quantiles with the overall sd.
    """
    y = np.asarray(y, dtype=np.float64)
    w = np.full(k, 1.0 / k)
    mu = np.quantile(y, (np.arange(k) + 0.5) / k)
    sd = np.full(k, y.std())
    ll_old = -np.inf
    for _ in range(iters):
        z = (y[:, None] - mu) / sd
        logp = np.log(w) - np.log(sd) - 0.5 * math.log(2 * math.pi) - 0.5 * z * z
        m = logp.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(logp - m).sum(axis=1))
        ll = float(lse.sum())
        r = np.exp(logp - lse[:, None])
        nk = r.sum(axis=0)
        w = nk / y.size
        mu = (r * y[:, None]).sum(axis=0) / nk
        sd = np.sqrt((r * (y[:, None] - mu) ** 2).sum(axis=0) / nk)
        sd = np.maximum(sd, 1e-3)
        if ll - ll_old < tol * abs(ll):
            break
        ll_old = ll
    o = np.argsort(mu)
    return w[o], mu[o], sd[o], ll


def gmm_cdf(x, w, mu, sd):
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    z = (x[:, None] - mu) / (sd * math.sqrt(2.0))
    erf = np.vectorize(math.erf)
    return (w * 0.5 * (1.0 + erf(z))).sum(axis=1)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--k", type=int, default=3, help="mixture components (2 or 3)")
    args = ap.parse_args(argv)

    debt, coll, ratio = load_accounts(args.data)
    ok = debt > 0
    rc = np.divide(coll, debt, out=np.zeros_like(coll), where=ok)
    print(f"file: {args.data.resolve()}")
    print(f"accounts: {debt.size}; max |c - ratio column| / ratio: "
          f"{np.max(np.abs(rc - ratio)[ratio > 0] / ratio[ratio > 0]):.2e}")
    d, c = select(debt, coll)
    print(f"kept (debt >= {DEBT_MIN_ETH} ETH and c > {C_FLOOR}): {d.size}")
    print(f"  dropped as dust: {np.count_nonzero(debt < DEBT_MIN_ETH)}; "
          f"non-dust with c <= {C_FLOOR}: {np.count_nonzero((debt >= DEBT_MIN_ETH) & (rc <= C_FLOOR))}")

    dmax = float(d.max())
    mu, s = fit_truncated_lognormal(d, DEBT_MIN_ETH, dmax)
    print(f"\nDEBT_MIN_ETH = {DEBT_MIN_ETH}\nDEBT_MAX_ETH = {dmax:.2f}")
    print(f"DEBT_LOG_MU_ETH = {mu:.4f}\nDEBT_LOG_SIGMA = {s:.4f}")
    q = [0.1, 0.5, 0.9]
    print("  data  debt quantiles (ETH) p10/p50/p90:", np.round(np.quantile(d, q), 4))
    print("  model debt quantiles (ETH) p10/p50/p90:",
          np.round([truncated_lognormal_quantile(v, mu, s, DEBT_MIN_ETH, dmax) for v in q], 4))
    prices = args.data.parent / "prices_hourly_from_prices_pkl.json"
    if prices.exists():
        import json

        eth = json.loads(prices.read_text())["ETH"]
        keys = sorted(eth)
        v = np.array([eth[k] for k in keys])
        print(f"  ETH/USD in {prices.name}: {keys[0]}..{keys[-1]} mean {v.mean():.1f}, "
              f"last {v[-1]:.1f} (synth uses a round ETH_USD constant)")

    y = np.log(c - 1.0)
    for k in sorted({2, 3, args.k}):
        w, m, sd, ll = fit_gmm(y, k)
        bic = -2 * ll + (3 * k - 1) * math.log(y.size)
        print(f"\nK={k}: loglik={ll:.2f} BIC={bic:.2f}")
        print(f"  RATIO_W = {tuple(round(float(v), 4) for v in w)}")
        print(f"  RATIO_MU = {tuple(round(float(v), 4) for v in m)}")
        print(f"  RATIO_SD = {tuple(round(float(v), 4) for v in sd)}")
        grid = np.linspace(y.min() - 1, y.max() + 1, 20001)
        cdf = gmm_cdf(grid, w, m, sd)
        mq = 1.0 + np.exp(np.interp(q, cdf, grid))
        print(f"  model c p10/p50/p90: {np.round(mq, 4)}   data: {np.round(np.quantile(c, q), 4)}")

    rank = lambda v: np.argsort(np.argsort(v))
    rho = np.corrcoef(rank(np.log(d)), rank(c))[0, 1]
    print(f"\nSpearman(debt, c) on the kept accounts: {rho:.3f} (synth draws them independently)")


if __name__ == "__main__":
    main()

"""Calibrate what the funding formulas leave free: how the premium responds to the market.

Binance and Hyperliquid publish the funding formula (``funding/binance``, ``funding/hyperliquid``)
but not the premium it is fed with: the premium is the perp book's impact price against the
index, a market outcome. In a run without a separate perp book the engine needs a reduced form
for it. This module fits one on the real series ``perp_venues_2025/funding_rates.parquet`` (+
``candles.parquet``) from ``../shared/data``.

Method
------
1. **Invert the formula.** A settled rate ``F`` for an interval of ``N`` hours gives the 8-hour
   rate ``F8`` (Binance: ``F · 8/N``; Hyperliquid: ``8 · F`` per hour). ``F8 = P + clamp(I − P,
   ±d)`` is invertible outside the dead band: ``P = F8 + d`` if ``F8 > I``, ``P = F8 − d`` if
   ``F8 < I``; ``F8 = I`` only says ``P ∈ [I − d, I + d]`` (interval-censored); a rate at a cap
   says ``P`` is at least (at most) the cap's premium (right/left-censored).
2. **Regressors per interval** ``(t − N h, t]``: the return ``r = log(close_t / close_{t−N})`` of
   the Binance perp of the coin (the market's move; every venue's premium is measured against the
   same move, and Binance's candles cover the whole year), the previous interval's ``F8``
   (persistence), and — where the venue's own candles and at least one other venue's exist — the
   dislocation ``δ``, the mean over the interval's hours of ``close_venue / median(close of the
   other venues) − 1``.
3. **Fit** ``P = a + φ · P_prev + β · r [+ γ · δ] + ε``, ``ε ~ N(0, σ²)``, by maximum likelihood
   with the censoring of step 1 (a Tobit model with interval censoring; scipy's L-BFGS-B,
   on standardised columns; standard errors from the inverse of a finite-difference Hessian).
4. **Report honestly**: the share of censored intervals, the likelihood-ratio test against the
   persistence-only model (``a + φ P_prev``), and an out-of-sample check
   (fit on the first 70 % of intervals, predict the last 30 %): the mean absolute error of the
   predicted funding rate against the realised one, next to the naive forecast "same as last
   interval".

The fitted coefficients plug into ``premium_response(a, φ, β, γ, P_prev, r, δ)`` in the funding
kernels. Nothing here is imported by the engine; pandas, pyarrow and scipy are imported inside the
functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["FundingFit", "implied_premium", "calibrate", "fit_censored"]

RULES = {
    # venue: (interest per 8 h, damper, hourly cap or None, how a settled rate scales to 8 h)
    "binance": dict(interest=1e-4, damper=5e-4, cap8=None),
    "hyperliquid": dict(interest=1e-4, damper=5e-4, cap8=0.04 * 8),
}


@dataclass
class FundingFit:
    venue: str
    coin: str
    spec: str
    interval_hours: float
    n: int
    share_in_band: float  # intervals whose rate equals the interest component (P censored)
    coef: dict
    se: dict
    sigma: float
    loglik: float
    loglik_base: float  # persistence-only model a + φ P_prev
    lr_stat: float
    lr_pvalue: float
    oos_mae: float  # out-of-sample MAE of the predicted 8 h rate (last 30 %)
    oos_mae_naive: float  # same, forecasting "as last interval"
    start: str
    stop: str
    notes: list = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"{self.venue} {self.coin} ({self.spec}): {self.n} intervals of {self.interval_hours:g} h, "
                 f"{self.start} .. {self.stop}; {self.share_in_band:.1%} in the dead band (P censored)"]
        for k, v in self.coef.items():
            lines.append(f"  {k:>6} = {v: .6g}  (se {self.se.get(k, float('nan')):.3g})")
        lines.append(f"  sigma = {self.sigma:.4g}; loglik {self.loglik:.1f} vs {self.loglik_base:.1f} "
                     f"persistence-only: LR = {self.lr_stat:.1f} (p = {self.lr_pvalue:.2g})")
        lines.append(f"  out of sample (last 30 %): MAE of F8 {self.oos_mae:.3g} vs {self.oos_mae_naive:.3g} "
                     "for 'same as last interval'")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def implied_premium(f8: np.ndarray, interest: float, damper: float, cap8: float | None = None,
                    tol: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """Bounds ``(lo, hi)`` of the average premium implied by 8-hour rates ``f8`` (equal bounds
    where the premium is identified; ``±inf`` for a rate at a cap)."""
    f8 = np.asarray(f8, dtype=np.float64)
    lo = np.where(f8 > interest, f8 + damper, f8 - damper)
    hi = lo.copy()
    band = np.abs(f8 - interest) <= tol * max(abs(interest), 1e-12) + 1e-15
    lo[band] = interest - damper
    hi[band] = interest + damper
    if cap8 is not None:
        top = f8 >= cap8 * (1 - 1e-9)
        bot = f8 <= -cap8 * (1 - 1e-9)
        hi[top] = np.inf
        lo[bot] = -np.inf
    return lo, hi


def _log_diff_ndtr(a, b):
    """``log(Φ(b) − Φ(a))`` for ``a < b`` without cancellation: in the upper tail through
    ``Φ(−a) − Φ(−b)``; ``b = +inf`` / ``a = −inf`` allowed."""
    from scipy.special import log_ndtr

    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    out = np.empty_like(a)
    up = a > 0  # both in the upper tail: use the mirrored form
    la, lb = log_ndtr(-b[up]), log_ndtr(-a[up])
    out[up] = lb + np.log1p(-np.exp(np.minimum(la - lb, -1e-300)))
    dn = ~up
    la, lb = log_ndtr(a[dn]), log_ndtr(b[dn])
    out[dn] = lb + np.log1p(-np.exp(np.minimum(la - lb, -1e-300)))
    return out


def _loglik(theta, X, lo, hi):
    k = X.shape[1]
    beta, log_s = theta[:k], theta[k]
    s = math.exp(log_s)
    mu = X @ beta
    exact = lo == hi
    ll = np.zeros_like(mu)
    z = (lo[exact] - mu[exact]) / s
    ll[exact] = -0.5 * z * z - 0.5 * math.log(2 * math.pi) - log_s
    cen = ~exact
    if cen.any():
        ll[cen] = _log_diff_ndtr((lo[cen] - mu[cen]) / s, (hi[cen] - mu[cen]) / s)
    return float(ll.sum())


def fit_censored(X: np.ndarray, lo: np.ndarray, hi: np.ndarray, names: list[str]):
    """Interval-censored Gaussian regression by maximum likelihood.

    The columns of ``X`` (after the first, the intercept) and the bounds are standardised for the
    optimiser and the results mapped back. Returns ``(coef, se, sigma, loglik)`` in the original
    units (the log-likelihood of the original ``y``)."""
    from scipy.optimize import minimize

    mid = np.where(np.isfinite(lo) & np.isfinite(hi), 0.5 * (lo + hi), np.where(np.isfinite(lo), lo, hi))
    y_s = float(np.std(mid)) or 1.0
    x_s = np.array([1.0] + [float(np.std(X[:, j])) or 1.0 for j in range(1, X.shape[1])])
    Xs = X / x_s
    los, his = lo / y_s, hi / y_s
    b0, *_ = np.linalg.lstsq(Xs, mid / y_s, rcond=None)
    s0 = max(float(np.std(mid / y_s - Xs @ b0)), 1e-3)
    theta0 = np.concatenate([b0, [math.log(s0)]])
    f = lambda th: -_loglik(th, Xs, los, his)  # noqa: E731
    res = minimize(f, theta0, method="BFGS", options={"gtol": 1e-8, "maxiter": 2000})
    th = res.x
    k = len(th)
    h = np.full(k, 1e-4)
    H = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            ei = np.zeros(k)
            ej = np.zeros(k)
            ei[i] = h[i]
            ej[j] = h[j]
            v = (f(th + ei + ej) - f(th + ei - ej) - f(th - ei + ej) + f(th - ei - ej)) / (4 * h[i] * h[j])
            H[i, j] = H[j, i] = v
    try:
        se_s = np.sqrt(np.clip(np.diag(np.linalg.inv(H)), 0, None))
    except np.linalg.LinAlgError:
        se_s = np.full(k, np.nan)
    scale = y_s / x_s
    coef = {n: float(v * sc) for n, v, sc in zip(names, th[:-1], scale)}
    ses = {n: float(v * sc) for n, v, sc in zip(names, se_s[:-1], scale)}
    n_exact = int(np.sum(lo == hi))
    loglik = -float(res.fun) - n_exact * math.log(y_s)  # density of y, not of y / y_s
    return coef, ses, math.exp(th[-1]) * y_s, loglik


def _f8_from_p(p, interest, damper):
    return p + np.clip(interest - p, -damper, damper)


def load_frame(data_dir: Path | str, venue: str, coin: str):
    """One row per funding interval: ``t, hours, f8, lo, hi, f8_prev, ret`` and ``disloc`` (NaN
    where the candles do not allow it)."""
    import pandas as pd

    d = Path(data_dir) / "perp_venues_2025"
    fr = pd.read_parquet(d / "funding_rates.parquet")
    cd = pd.read_parquet(d / "candles.parquet")
    rules = RULES[venue]
    s = fr[(fr.venue == venue) & (fr.coin == coin)].sort_values("timestamp").reset_index(drop=True)
    if s.empty:
        raise ValueError(f"no funding rows for {venue} {coin}")
    t = s.timestamp.dt.floor("h")
    hours = t.diff().dt.total_seconds().div(3600.0)
    hours.iloc[0] = hours.iloc[1] if len(hours) > 1 else 8.0
    if venue == "binance":
        f8 = s.funding_rate * 8.0 / hours
    else:
        f8 = s.funding_rate * 8.0 * (1.0 / hours)
    lo, hi = implied_premium(f8.to_numpy(), rules["interest"], rules["damper"], rules["cap8"])
    # candles: price at T = close of the candle that opens at T − 1 h
    cc = cd[cd.coin == coin].copy()
    cc["t"] = cc.timestamp + pd.Timedelta(hours=1)
    wide = cc.pivot_table(index="t", columns="venue", values="c")
    px = wide["binance"] if "binance" in wide else None
    out = pd.DataFrame({"t": t, "hours": hours, "f8": f8, "lo": lo, "hi": hi})
    out["f8_prev"] = out.f8.shift(1)
    # the previous interval's premium (midpoint of its bounds: I when it sat in the dead band)
    mid = np.where(np.isfinite(lo) & np.isfinite(hi), 0.5 * (lo + hi), np.where(np.isfinite(lo), lo, hi))
    out["p_prev"] = pd.Series(mid).shift(1)
    if px is not None:
        start = out.t - pd.to_timedelta(out.hours, unit="h")
        p_end = px.reindex(out.t).to_numpy()
        p_start = px.reindex(start).to_numpy()
        out["ret"] = np.log(p_end / p_start)
    else:
        out["ret"] = np.nan
    out["disloc"] = np.nan
    if venue in wide:
        others = wide.drop(columns=[venue])
        med = others.median(axis=1, skipna=True)
        n_other = others.notna().sum(axis=1)
        dis = (wide[venue] / med - 1.0).where(n_other >= 1)
        dis_h = dis.dropna()
        if len(dis_h):
            vals = []
            for tt, hh in zip(out.t, out.hours):
                win = dis_h.loc[(dis_h.index > tt - pd.Timedelta(hours=hh)) & (dis_h.index <= tt)]
                vals.append(win.mean() if len(win) >= max(1, int(hh) // 2) else np.nan)
            out["disloc"] = vals
    return out


def calibrate(data_dir: Path | str, venue: str, coin: str, *, spec: str = "returns",
              holdout: float = 0.3) -> FundingFit:
    """Fit the premium response for one venue and coin (``spec``: ``returns`` or
    ``dislocation``)."""
    if venue not in RULES:
        raise ValueError(f"venue must be one of {sorted(RULES)}, got {venue!r}")
    df = load_frame(data_dir, venue, coin)
    cols = ["p_prev", "ret"] + (["disloc"] if spec == "dislocation" else [])
    df = df.dropna(subset=cols).reset_index(drop=True)
    notes = []
    if len(df) < 30:
        raise ValueError(f"only {len(df)} usable intervals for {venue} {coin} ({spec})")
    rules = RULES[venue]
    X = np.column_stack([np.ones(len(df))] + [df[c].to_numpy() for c in cols])
    names = ["a", "phi", "beta"] + (["gamma"] if spec == "dislocation" else [])
    lo, hi = df.lo.to_numpy(), df.hi.to_numpy()
    coef, se, sigma, ll = fit_censored(X, lo, hi, names)
    _, _, _, ll0 = fit_censored(X[:, :2], lo, hi, names[:2])
    from scipy.stats import chi2

    lr = 2.0 * (ll - ll0)
    p_lr = float(chi2.sf(lr, len(names) - 2))
    # out of sample
    cut = int(len(df) * (1.0 - holdout))
    c_tr, _, _, _ = fit_censored(X[:cut], lo[:cut], hi[:cut], names)
    beta = np.array([c_tr[n] for n in names])
    p_hat = X[cut:] @ beta
    f8_hat = _f8_from_p(p_hat, rules["interest"], rules["damper"])
    f8 = df.f8.to_numpy()[cut:]
    mae = float(np.mean(np.abs(f8_hat - f8)))
    mae_naive = float(np.mean(np.abs(df.f8_prev.to_numpy()[cut:] - f8)))
    share = float(np.mean((lo == rules["interest"] - rules["damper"]) & (hi == rules["interest"] + rules["damper"])))
    if venue == "hyperliquid" and spec == "dislocation":
        notes.append("Hyperliquid's own candles in candles.parquet cover 2025-03-06..2025-04-18 only")
    notes.append("returns are the Binance perp's (the market move), for every venue")
    return FundingFit(venue=venue, coin=coin, spec=spec, interval_hours=float(df.hours.median()), n=len(df),
                      share_in_band=share, coef=coef, se=se, sigma=sigma, loglik=ll, loglik_base=ll0, lr_stat=lr,
                      lr_pvalue=p_lr, oos_mae=mae, oos_mae_naive=mae_naive,
                      start=str(df.t.iloc[0]), stop=str(df.t.iloc[-1]), notes=notes)

"""Early-warning features: what a risk desk can observe at a step, as plain NumPy functions.

Every function is *causal*: the value at bar ``t`` uses data up to and including bar ``t`` only,
so a series computed once over a whole history equals the value computed at ``t`` from the
history truncated at ``t`` (tested). Windows are given in bars; :class:`FeatureConfig` turns
windows in seconds into bars for a given bar length. A value that cannot be computed (too few
bars, no volume, no positions) is ``NaN``; a feature the data cannot give at all is reported as
*not available* (:data:`NOT_AVAILABLE`), never as a made-up number.

Groups and sources (formulas in each function's docstring):

* **returns and volatility** — log returns, realized volatility (Andersen, Bollerslev, Diebold
  and Labys 2003) annualized with a 365-day year, a GARCH(1,1) one-step forecast (Bollerslev
  1986) with parameters fitted by :func:`fit_garch11` (``arch``, maximum likelihood) on a
  training period only, drawdown from the high of a trailing window;
* **order-flow toxicity and illiquidity** — VPIN by bulk-volume classification in equal-volume
  buckets (Easley, López de Prado and O'Hara 2012), Amihud (2002) illiquidity, Kyle's (1985)
  lambda estimated from bars (López de Prado 2018, *Advances in Financial Machine Learning*,
  §19.4.1);
* **venue depth** — quote depth within ±k % of the mid of a constant-product pool (closed form)
  or of a depth-curve book (the engine's piecewise-linear cumulative curve);
* **liquidation wall** — debt that becomes liquidatable within 1, 2, 5 and 10 % below spot,
  as a share of the book's debt (the heatmap's numbers, :mod:`liqcascade.data.liqprice`) and in
  units of the venue's bid depth over the same fall; distance to the nearest cluster;
* **oracle, perp and pool state** — oracle deviation from the venue; funding per hour and
  open-interest change where a venue publishes them; utilization and borrow rate are hooks that
  answer *not available* until the engine has interest-rate models.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

YEAR_SECONDS = 365.0 * 86400.0
NOT_AVAILABLE = "not available"

__all__ = [
    "YEAR_SECONDS", "NOT_AVAILABLE", "FeatureConfig", "FeatureInfo", "FEATURES", "feature_names",
    "log_returns", "trailing_sum", "realized_vol", "fit_garch11", "garch_vol", "drawdown", "window_return",
    "vpin_bvc", "amihud", "kyle_lambda", "quoted_spread", "recent_liquidations", "oracle_deviation", "funding_per_hour", "oi_change",
    "utilization", "borrow_rate", "depth_cpmm", "depth_curve", "liquidation_prices", "liquidation_wall",
    "wall_in_depth", "cluster_distance", "market_features", "book_features", "transform",
]


# --------------------------------------------------------------------------------------------
# helpers


def log_returns(close) -> np.ndarray:
    """``r_t = ln(P_t / P_{t-1})`` with ``r_0 = NaN`` (same length as ``close``)."""
    p = np.asarray(close, dtype=np.float64)
    r = np.full(p.shape, np.nan)
    if p.size > 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            r[1:] = np.log(p[1:] / p[:-1])
    return r


def trailing_sum(x, n: int, min_count: int | None = None) -> np.ndarray:
    """``S_t = Σ_{j=0}^{n-1} x_{t-j}`` over the finite values of the window; ``NaN`` where the
    window holds fewer than ``min_count`` (default ``n``) finite values."""
    x = np.asarray(x, dtype=np.float64)
    n = int(n)
    if n < 1:
        raise ValueError("window must be >= 1 bar")
    ok = np.isfinite(x)
    v = np.where(ok, x, 0.0)
    cs = np.concatenate([[0.0], np.cumsum(v)])
    cn = np.concatenate([[0], np.cumsum(ok)])
    idx = np.arange(x.size)
    lo = np.maximum(idx + 1 - n, 0)
    s = cs[idx + 1] - cs[lo]
    cnt = cn[idx + 1] - cn[lo]
    need = n if min_count is None else int(min_count)
    return np.where(cnt >= max(need, 1), s, np.nan)


def _trailing_count(x, n: int) -> np.ndarray:
    ok = np.isfinite(np.asarray(x, dtype=np.float64))
    cn = np.concatenate([[0], np.cumsum(ok)])
    idx = np.arange(ok.size)
    return cn[idx + 1] - cn[np.maximum(idx + 1 - int(n), 0)]


def _trailing_max(x, n: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    n = int(n)
    out = np.empty_like(x)
    if x.size == 0:
        return out
    if n <= 1:
        return x.copy()
    pad = np.concatenate([np.full(n - 1, -np.inf), x])
    from numpy.lib.stride_tricks import sliding_window_view

    return sliding_window_view(pad, n).max(axis=1)


# --------------------------------------------------------------------------------------------
# returns and volatility


def window_return(close, n: int) -> np.ndarray:
    """Log return over the last ``n`` bars: ``ln(P_t / P_{t-n})`` (``NaN`` for ``t < n``)."""
    p = np.asarray(close, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    n = int(n)
    if 0 < n < p.size:
        with np.errstate(divide="ignore", invalid="ignore"):
            out[n:] = np.log(p[n:] / p[:-n])
    return out


def realized_vol(close, n: int, dt_seconds: float) -> np.ndarray:
    """Annualized realized volatility over the last ``n`` returns.

    ``RV_t = sqrt( (1/n) Σ_{j=0}^{n-1} r_{t-j}^2 · Y / Δt )`` with ``r`` the log returns, ``Δt``
    the bar length in seconds and ``Y`` = 365 days in seconds (crypto trades every day). ``NaN``
    until ``n`` returns exist. Source: Andersen, Bollerslev, Diebold and Labys (2003),
    "Modeling and forecasting realized volatility", *Econometrica* 71(2) — realized variance as
    the sum of squared intraperiod returns; here scaled per unit time so that windows and bar
    lengths compare (zero-mean convention, no demeaning)."""
    r = log_returns(close)
    s = trailing_sum(r * r, n)
    return np.sqrt(s / n * YEAR_SECONDS / float(dt_seconds))


MAX_PERSISTENCE = 0.999


@dataclass(frozen=True)
class GarchParams:
    """GARCH(1,1) parameters per bar: ``mu`` (mean log return), ``omega``, ``alpha``, ``beta``."""

    mu: float
    omega: float
    alpha: float
    beta: float
    dt_seconds: float
    n: int = 0

    def as_dict(self) -> dict:
        return {"mu": self.mu, "omega": self.omega, "alpha": self.alpha, "beta": self.beta,
                "dt_seconds": self.dt_seconds, "n": self.n}

    @staticmethod
    def from_dict(d: dict) -> "GarchParams":
        return GarchParams(float(d["mu"]), float(d["omega"]), float(d["alpha"]), float(d["beta"]),
                           float(d["dt_seconds"]), int(d.get("n", 0)))


def fit_garch11(returns, dt_seconds: float) -> GarchParams:
    """Fit ``r_t = mu + e_t, e_t = s_t z_t, s_t^2 = omega + alpha e_{t-1}^2 + beta s_{t-1}^2``
    (normal ``z``) by maximum likelihood with ``arch`` (imported here; optional dependency) on
    the finite values of ``returns`` — a training period only, never the period being scored.
    The series is standardized before the fit and ``omega`` scaled back. A fit on the
    stationarity bound (``alpha + beta ≥ 1``, common on minute returns) has its persistence
    scaled down to :data:`MAX_PERSISTENCE` keeping the ``alpha : beta`` ratio, so the forecast
    stays mean-reverting; when the fit fails or does not converge it falls back to
    ``alpha = beta = 0`` (constant variance = the sample variance, a flat forecast).
    Source: Bollerslev (1986), "Generalized autoregressive conditional heteroskedasticity",
    *J. Econometrics* 31(3)."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    if r.size < 50:
        raise ValueError(f"too few returns for a GARCH(1,1) fit: {r.size} (need at least 50)")
    mu = float(r.mean())
    sd = float(r.std())
    if not sd > 1e-12 * abs(mu):  # constant up to rounding
        return GarchParams(mu, max(sd * sd, 1e-300), 0.0, 0.0, float(dt_seconds), int(r.size))
    try:
        import warnings

        from arch import arch_model

        x = (r - mu) / sd
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = arch_model(x, mean="Zero", vol="GARCH", p=1, q=1, dist="normal", rescale=False).fit(
                disp="off", show_warning=False)
        prm = res.params
        omega, alpha, beta = float(prm["omega"]) * sd * sd, float(prm["alpha[1]"]), float(prm["beta[1]"])
        if res.convergence_flag != 0 or not (omega > 0 and alpha >= 0 and beta >= 0):
            raise ValueError("no fit")
        if alpha + beta > MAX_PERSISTENCE:  # integrated (IGARCH-like) fit: keep the α:β ratio
            k = MAX_PERSISTENCE / (alpha + beta)
            alpha, beta = alpha * k, beta * k
    except ImportError:
        raise
    except Exception:  # noqa: BLE001 — documented fallback: constant variance
        omega, alpha, beta = sd * sd, 0.0, 0.0
    return GarchParams(mu, omega, alpha, beta, float(dt_seconds), int(r.size))


def garch_vol(close, params: GarchParams, dt_seconds: float | None = None) -> np.ndarray:
    """One-step-ahead GARCH(1,1) volatility forecast, annualized.

    ``σ²_{t+1|t} = ω + α (r_t − μ)² + β σ²_{t|t−1}``, started at the unconditional variance
    ``ω / (1 − α − β)``; the value at ``t`` is ``sqrt(σ²_{t+1|t} · Y / Δt)``. A missing return
    (``NaN``) leaves the forecast at its long-run pull: ``σ² ← ω + (α + β) σ²``. ``params`` are
    per bar of ``params.dt_seconds``; ``dt_seconds`` (default the same) is the bar length of
    ``close`` — the two must match (the forecast is per bar). Source: Bollerslev (1986)."""
    dt = float(params.dt_seconds if dt_seconds is None else dt_seconds)
    if abs(dt - params.dt_seconds) > 1e-6 * params.dt_seconds:
        raise ValueError(f"GARCH parameters are per {params.dt_seconds:g} s bar, the series has {dt:g} s bars")
    r = log_returns(close)
    w, a, b, mu = params.omega, params.alpha, params.beta, params.mu
    s2 = w / (1.0 - a - b) if a + b < 1 else w
    out = np.empty(r.shape)
    for t in range(r.size):
        e = r[t] - mu
        s2 = w + (a * e * e + b * s2 if math.isfinite(e) else (a + b) * s2)
        out[t] = s2
    return np.sqrt(out * YEAR_SECONDS / dt)


def drawdown(close, n: int) -> np.ndarray:
    """Drawdown from the high of the last ``n`` bars: ``DD_t = 1 − P_t / max_{t−n<s≤t} P_s``
    (in [0, 1); uses the bars available at the start). A standard risk measure (e.g. Magdon-Ismail
    and Atiya 2004, "Maximum drawdown", *Risk*) taken over a trailing window."""
    p = np.asarray(close, dtype=np.float64)
    hi = _trailing_max(np.where(np.isfinite(p), p, -np.inf), n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isfinite(p) & (hi > 0), 1.0 - p / hi, np.nan)


# --------------------------------------------------------------------------------------------
# order flow and illiquidity


def vpin_bvc(close, volume, bucket_volume: float, n_buckets: int = 50, sigma=None,
             sigma_window: int | None = None) -> np.ndarray:
    """VPIN by bulk-volume classification (Easley, López de Prado and O'Hara 2012, "Flow toxicity
    and liquidity in a high-frequency world", *Rev. Financial Studies* 25(5)).

    Each bar ``τ`` with price change ``ΔP_τ = P_τ − P_{τ−1}`` and volume ``V_τ`` is split into
    buy and sell volume by the standard normal CDF ``Z``::

        V^B_τ = V_τ · Z(ΔP_τ / σ_ΔP),   V^S_τ = V_τ − V^B_τ

    Bars fill equal-volume buckets of size ``V`` in time order; a bar that overflows a bucket
    carries the rest of its volume (same buy share) into the next. With the last ``n`` completed
    buckets ``j``::

        VPIN = Σ_j |V^S_j − V^B_j| / (n · V)

    The value at bar ``t`` is VPIN over the last ``n_buckets`` buckets completed by bar ``t``
    (``NaN`` until ``n_buckets`` are complete). ``σ_ΔP``: a fixed number (``sigma``), or the
    standard deviation of ``ΔP`` over the last ``sigma_window`` bars (default: all bars so far;
    the paper uses the whole sample's — a causal choice here). The paper uses 1-minute bars,
    ``V`` = one fiftieth of the average daily volume and ``n = 50``; callers choose ``V`` from a
    training period (:class:`FeatureConfig`). Bars without volume add nothing."""
    p = np.asarray(close, dtype=np.float64)
    v = np.asarray(volume, dtype=np.float64)
    if not bucket_volume > 0:
        raise ValueError("bucket_volume must be > 0")
    n = p.size
    dp = np.full(n, np.nan)
    if n > 1:
        dp[1:] = p[1:] - p[:-1]
    if sigma is None:
        if sigma_window is None:
            cnt = np.cumsum(np.isfinite(dp))
            s1 = np.cumsum(np.where(np.isfinite(dp), dp, 0.0))
            s2 = np.cumsum(np.where(np.isfinite(dp), dp * dp, 0.0))
        else:
            cnt = _trailing_count(dp, sigma_window)
            s1 = trailing_sum(dp, sigma_window, min_count=1)
            s2 = trailing_sum(dp * dp, sigma_window, min_count=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            var = (s2 - s1 * s1 / np.maximum(cnt, 1)) / np.maximum(cnt - 1, 1)
        sig = np.where(cnt >= 2, np.sqrt(np.maximum(var, 0.0)), np.nan)
    else:
        sig = np.full(n, float(sigma))
    out = np.full(n, np.nan)
    V = float(bucket_volume)
    fill = 0.0  # volume in the open bucket
    buy = 0.0
    done: list[float] = []  # |V^S − V^B| of completed buckets
    run = 0.0  # sum over the last n_buckets completed
    for t in range(n):
        vt = v[t]
        if math.isfinite(vt) and vt > 0 and math.isfinite(dp[t]):
            s = sig[t]
            if s > 0 and math.isfinite(s):
                share = 0.5 * (1.0 + math.erf(dp[t] / s / math.sqrt(2.0)))
            else:
                share = 0.5 if dp[t] == 0 or not math.isfinite(s) else (1.0 if dp[t] > 0 else 0.0)
            left = vt
            while left > 0:
                take = min(left, V - fill)
                fill += take
                buy += take * share
                left -= take
                if fill >= V * (1 - 1e-12):
                    imb = abs((fill - buy) - buy)
                    done.append(imb)
                    run += imb
                    if len(done) > n_buckets:
                        run -= done[-n_buckets - 1]
                    fill, buy = 0.0, 0.0
        if len(done) >= n_buckets:
            out[t] = run / (n_buckets * V)
    return out


def amihud(close, volume, n: int, scale: float = 1e6) -> np.ndarray:
    """Amihud (2002) illiquidity over the last ``n`` bars, per ``scale`` of quote volume.

    ``ILLIQ_t = scale · (1/N) Σ_{τ} |r_τ| / DV_τ`` over the bars ``τ`` of the window with dollar
    (quote) volume ``DV_τ = P_τ · V_τ > 0``; ``r`` log returns; ``N`` their number (``NaN`` when
    none). Amihud, "Illiquidity and stock returns: cross-section and time-series effects",
    *J. Financial Markets* 5 (2002) — there on daily returns and volumes; here on bars. With the
    default ``scale`` it is the absolute return per US$1M traded."""
    p = np.asarray(close, dtype=np.float64)
    dv = p * np.asarray(volume, dtype=np.float64)
    r = log_returns(p)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where((dv > 0) & np.isfinite(r), np.abs(r) / dv, np.nan)
    s = trailing_sum(x, n, min_count=1)
    c = _trailing_count(x, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c > 0, scale * s / np.maximum(c, 1), np.nan)


def kyle_lambda(close, volume, n: int, scale: float = 1e6) -> np.ndarray:
    """Kyle's lambda from bars over the last ``n`` bars, per ``scale`` of signed quote volume.

    Kyle (1985), "Continuous auctions and insider trading", *Econometrica* 53(6): the price impact
    per unit of net order flow. Bar estimator (López de Prado 2018, *Advances in Financial
    Machine Learning*, §19.4.1): ``r_τ = λ · S_τ + ε_τ`` by least squares without intercept,
    with signed dollar volume ``S_τ = b_τ · P_τ V_τ`` and ``b_τ = sign(r_τ)`` (the tick rule on
    bars)::

        λ_t = scale · Σ_τ r_τ S_τ / Σ_τ S_τ²

    ``r`` log returns (impact per dollar in return units rather than price units, so the value
    does not scale with the price level). ``NaN`` without volume in the window."""
    p = np.asarray(close, dtype=np.float64)
    r = log_returns(p)
    S = np.sign(r) * p * np.asarray(volume, dtype=np.float64)
    ok = np.isfinite(r) & np.isfinite(S)
    num = trailing_sum(np.where(ok, r * S, np.nan), n, min_count=1)
    den = trailing_sum(np.where(ok, S * S, np.nan), n, min_count=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, scale * num / den, np.nan)


# --------------------------------------------------------------------------------------------
# oracle, perp and pool state


def quoted_spread(bid, ask) -> np.ndarray:
    """Quoted spread relative to the mid: ``(a − b) / ((a + b) / 2)`` — the cost of a round trip
    at the touch, the simplest liquidity measure a quote feed gives when no depth is recorded."""
    b = np.asarray(bid, dtype=np.float64)
    a = np.asarray(ask, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((a > 0) & (b > 0), (a - b) / (0.5 * (a + b)), np.nan)


def recent_liquidations(volume, n: int, reference: float) -> np.ndarray:
    """Liquidations already seen: ``log10(1 + Σ_{j<n} v_{t−j} / V_ref)`` over the last ``n`` bars,
    with ``V_ref`` a reference level of the same market fixed on a training period (the median of
    its positive window sums), so markets of different size compare. Liquidations cluster in time:
    this is the *persistence* baseline of the real-data evidence."""
    if not reference > 0:
        raise ValueError("reference must be > 0")
    s = trailing_sum(np.nan_to_num(np.asarray(volume, dtype=np.float64)), n, min_count=1)
    return np.log10(1.0 + s / reference)


def oracle_deviation(oracle, venue) -> np.ndarray:
    """``P_oracle / P_venue − 1``: positive when the protocol's price lags above the market (the
    protocol has not yet seen a fall: liquidations are still to come)."""
    o = np.asarray(oracle, dtype=np.float64)
    v = np.asarray(venue, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(v > 0, o / v - 1.0, np.nan)


def funding_per_hour(rate, interval_hours) -> np.ndarray:
    """A funding rate per hour: ``f / h`` for a rate ``f`` paid every ``h`` hours (Binance and
    Bybit every 8 h, Hyperliquid every hour), so venues compare. Positive: longs pay shorts."""
    return np.asarray(rate, dtype=np.float64) / np.asarray(interval_hours, dtype=np.float64)


def oi_change(oi, n: int) -> np.ndarray:
    """Open-interest change over the last ``n`` bars: ``ln(OI_t / OI_{t−n})`` (``NaN`` without
    both values). A build-up of leverage before a fall is what a cascade consumes."""
    return window_return(oi, n)


def utilization(*_args, **_kwargs):
    """Pool utilization ``U = borrows / supply`` of a lending market. **Hook**: the engine has no
    interest-rate model or pool balances yet, so this returns :data:`NOT_AVAILABLE` (never a
    number); it will read the rate models (``rates/<kind>/``) when they are wired into the loop."""
    return NOT_AVAILABLE


def borrow_rate(*_args, **_kwargs):
    """Borrow rate of a lending market from its interest-rate model (e.g. Aave's kinked curve
    ``R(U)``). **Hook**: returns :data:`NOT_AVAILABLE` until the engine has rate models."""
    return NOT_AVAILABLE


# --------------------------------------------------------------------------------------------
# venue depth


def depth_cpmm(reserve_quote, k, side: str = "bid"):
    """Quote depth of a constant-product pool within a fraction ``k`` of its spot (no fee).

    With ``x·y = L²`` the spot is ``p = y/x`` and ``y = L·sqrt(p)``. Moving the price to
    ``p(1 − k)`` (bid side: someone sells) takes the pool's quote to ``y·sqrt(1 − k)``, so it pays
    ``Q_bid(k) = y (1 − sqrt(1 − k))``; moving it to ``p(1 + k)`` (ask side) takes in
    ``Q_ask(k) = y (sqrt(1 + k) − 1)``. ``reserve_quote`` = ``y`` at the current spot."""
    y = np.asarray(reserve_quote, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    if side == "bid":
        return y * (1.0 - np.sqrt(np.clip(1.0 - k, 0.0, None)))
    if side == "ask":
        return y * (np.sqrt(1.0 + k) - 1.0)
    raise ValueError("side must be 'bid' or 'ask'")


def depth_curve(depth_k, depth_q, k) -> np.ndarray:
    """Cumulative quote depth ``D(k)`` of a depth-curve book within a fraction ``k`` of its mid:
    piecewise linear through ``(0, 0)`` and the points ``(k_j, q_j)``, the last segment's density
    continuing beyond the last point — the engine's book venue (``docs/architecture.md``, venue
    kernels). The engine's book is symmetric, so the same curve gives both sides."""
    kk = np.concatenate([[0.0], np.asarray(depth_k, dtype=np.float64)])
    qq = np.concatenate([[0.0], np.asarray(depth_q, dtype=np.float64)])
    k = np.asarray(k, dtype=np.float64)
    out = np.interp(k, kk, qq)
    slope = (qq[-1] - qq[-2]) / (kk[-1] - kk[-2])
    return np.where(k > kk[-1], qq[-1] + slope * (k - kk[-1]), out)


# --------------------------------------------------------------------------------------------
# liquidation wall


def liquidation_prices(coll, debt, lt, debt_price: float = 1.0) -> np.ndarray:
    """Liquidation price of simple positions (one collateral, one debt asset):
    ``L_i = d_i · p_debt / (c_i · LT_i)`` — the collateral price at which ``HF = 1``
    (``HF = c·p·LT / (d·p_debt)``; the same ``key`` the engine sorts its books by,
    :mod:`liqcascade.data.liqprice` for multi-asset accounts). ``NaN`` for a position without
    collateral or debt."""
    c = np.asarray(coll, dtype=np.float64)
    d = np.asarray(debt, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        L = d * debt_price / (c * np.asarray(lt, dtype=np.float64))
    return np.where((c > 0) & (d > 0), L, np.nan)


def liquidation_wall(liq_price, debt_value, spot: float, bands=(0.01, 0.02, 0.05, 0.10)) -> dict:
    """Debt that becomes liquidatable within each fall ``k`` below spot ``S``.

    ``W_k = Σ_i D_i · 1[S (1 − k) ≤ L_i < S]`` (quote), with ``L_i`` the liquidation price and
    ``D_i`` the debt value of position ``i``; also ``now = Σ_i D_i · 1[L_i ≥ S]`` (liquidatable
    already at spot — waiting for the oracle or a liquidator) and ``total = Σ_i D_i``. These are
    the numbers of the liquidation heatmap (``liqcascade heatmap``): debt per price bucket,
    cumulated from spot down. Returns ``{"now", "total", k: W_k …}`` in quote."""
    L = np.asarray(liq_price, dtype=np.float64)
    D = np.asarray(debt_value, dtype=np.float64)
    ok = np.isfinite(L) & (D > 0)
    L, D = L[ok], D[ok]
    out = {"now": float(D[L >= spot].sum()), "total": float(D.sum())}
    for k in bands:
        out[k] = float(D[(L >= spot * (1.0 - k)) & (L < spot)].sum())
    return out


def wall_in_depth(wall_quote: float, depth_quote: float) -> float:
    """The wall in units of venue depth: ``W_k / Q_bid(k)`` — debt that a fall of ``k`` makes
    liquidatable over the quote the venues' bids hold over that same fall. Above ~1 the forced
    sales of those liquidations (close factor × debt × (1 + bonus)) can walk the book through
    the whole fall again: the condition for a self-sustaining cascade. ``NaN`` without depth."""
    if not (depth_quote > 0 and math.isfinite(depth_quote)):
        return float("nan")
    return float(wall_quote) / float(depth_quote)


def cluster_distance(liq_price, debt_value, spot: float, bucket: float = 0.01, min_share: float = 0.02,
                     max_drop: float = 0.5) -> float:
    """Distance (fraction of spot) to the nearest liquidation cluster below spot.

    Buckets ``j = 0, 1, …`` of width ``b`` cover liquidation prices in
    ``[S (1 − (j+1) b), S (1 − j b))``; a *cluster* is the first bucket whose debt is at least
    ``min_share`` of the book's debt. The distance is ``j · b`` — how far the price must fall
    before the cluster starts to be liquidatable; 0 when debt worth ``min_share`` is liquidatable
    already (``L ≥ S``); ``max_drop`` when no bucket within ``max_drop`` qualifies."""
    L = np.asarray(liq_price, dtype=np.float64)
    D = np.asarray(debt_value, dtype=np.float64)
    ok = np.isfinite(L) & (D > 0)
    L, D = L[ok], D[ok]
    tot = D.sum()
    if not tot > 0:
        return float(max_drop)
    if D[L >= spot].sum() >= min_share * tot:
        return 0.0
    below = L < spot
    drop = (spot - L[below]) / spot
    j = np.floor(drop / bucket + 1e-12).astype(np.int64)
    nb = int(math.ceil(max_drop / bucket))
    sel = j < nb
    per = np.bincount(j[sel], weights=D[below][sel], minlength=nb)
    hit = np.flatnonzero(per >= min_share * tot)
    return float(hit[0] * bucket) if hit.size else float(max_drop)


# --------------------------------------------------------------------------------------------
# the feature set


@dataclass(frozen=True)
class FeatureInfo:
    name: str
    group: str
    text: str
    transform: str = "none"  # "log10p": log10(1 + max(x, 0)) before a linear model


_BANDS = (0.01, 0.02, 0.05, 0.10)
_DEPTH_BANDS = (0.01, 0.02, 0.05)


def _pct(k: float) -> str:
    return f"{k * 100:g}"


FEATURES: dict[str, FeatureInfo] = {f.name: f for f in [
    FeatureInfo("ret_short", "returns", "log return over the short window"),
    FeatureInfo("rv_short", "volatility", "realized volatility, short window (annualized)"),
    FeatureInfo("rv_mid", "volatility", "realized volatility, middle window (annualized)"),
    FeatureInfo("rv_long", "volatility", "realized volatility, long window (annualized)"),
    FeatureInfo("garch_vol", "volatility", "GARCH(1,1) one-step forecast (annualized)"),
    FeatureInfo("drawdown_short", "returns", "drawdown from the high of the middle window"),
    FeatureInfo("drawdown_long", "returns", "drawdown from the high of the long window"),
    FeatureInfo("vpin", "order flow", "VPIN, bulk-volume classification"),
    FeatureInfo("amihud", "order flow", "Amihud illiquidity per US$1M", "log10p"),
    FeatureInfo("kyle_lambda", "order flow", "Kyle's lambda per US$1M of signed volume", "log10p"),
    *[FeatureInfo(f"depth_bid_{_pct(k)}", "depth", f"bid depth within {_pct(k)} % (quote)", "log10p") for k in _DEPTH_BANDS],
    *[FeatureInfo(f"depth_ask_{_pct(k)}", "depth", f"ask depth within {_pct(k)} % (quote)", "log10p") for k in _DEPTH_BANDS],
    FeatureInfo("spread", "depth", "quoted spread (ask − bid) / mid"),
    FeatureInfo("oracle_dev", "oracle", "oracle / venue − 1"),
    FeatureInfo("funding_1h", "perp", "funding rate per hour"),
    FeatureInfo("oi_change", "perp", "open-interest log change over the middle window"),
    FeatureInfo("liq_recent", "liquidations", "log10(1 + liquidated volume over the short window / reference level)"),
    FeatureInfo("liq_now", "wall", "debt liquidatable at spot, share of book debt"),
    *[FeatureInfo(f"wall_{_pct(k)}", "wall", f"debt liquidatable within {_pct(k)} % below spot, share of book debt")
      for k in _BANDS],
    *[FeatureInfo(f"wall_depth_{_pct(k)}", "wall", f"debt liquidatable within {_pct(k)} % / bid depth within {_pct(k)} %",
                  "log10p") for k in _BANDS],
    FeatureInfo("cluster_dist", "wall", "distance to the nearest liquidation cluster below spot"),
]}

MARKET = ("ret_short", "rv_short", "rv_mid", "rv_long", "garch_vol", "drawdown_short", "drawdown_long")
FLOW = ("vpin", "amihud", "kyle_lambda")
DEPTH = tuple(n for n in FEATURES if n.startswith("depth_"))
WALL = tuple(n for n in FEATURES if FEATURES[n].group == "wall")


def feature_names(*groups: str) -> list[str]:
    """Feature names of the given groups (``returns``, ``volatility`` …), in registry order."""
    return [n for n, f in FEATURES.items() if not groups or f.group in groups]


def transform(name: str, x):
    """The transform a linear model applies to feature ``name`` (``log10p``: ``log10(1 + x⁺)``)."""
    x = np.asarray(x, dtype=np.float64)
    if FEATURES.get(name, FeatureInfo(name, "", "")).transform == "log10p":
        with np.errstate(invalid="ignore"):
            return np.log10(1.0 + np.maximum(x, 0.0))
    return x


@dataclass
class FeatureConfig:
    """Windows in seconds and the order-flow settings; :meth:`bars` converts to a bar length.

    Defaults (1-minute bars): short window 30 min, middle 2 h, long 12 h; VPIN with 50 buckets,
    each 1/50 of the volume of the calibration window (the paper's one fiftieth of a day's
    volume, over whatever calibration window the caller gives), ``σ_ΔP`` over the middle window.
    """

    short_s: float = 1800.0
    mid_s: float = 7200.0
    long_s: float = 43200.0
    vpin_buckets: int = 50
    vpin_bucket_volume: float | None = None  # set from a calibration period (volume units)
    garch: GarchParams | None = None
    extra: dict = field(default_factory=dict)

    def bars(self, dt_seconds: float) -> dict:
        f = lambda s: max(1, int(round(s / dt_seconds)))  # noqa: E731
        return {"short": f(self.short_s), "mid": f(self.mid_s), "long": f(self.long_s)}

    def as_dict(self) -> dict:
        return {"short_s": self.short_s, "mid_s": self.mid_s, "long_s": self.long_s,
                "vpin_buckets": self.vpin_buckets, "vpin_bucket_volume": self.vpin_bucket_volume,
                "garch": None if self.garch is None else self.garch.as_dict()}

    @staticmethod
    def from_dict(d: dict) -> "FeatureConfig":
        return FeatureConfig(float(d["short_s"]), float(d["mid_s"]), float(d["long_s"]), int(d["vpin_buckets"]),
                             None if d.get("vpin_bucket_volume") is None else float(d["vpin_bucket_volume"]),
                             None if d.get("garch") is None else GarchParams.from_dict(d["garch"]))


def market_features(close, dt_seconds: float, cfg: FeatureConfig, volume=None) -> dict[str, np.ndarray]:
    """The returns, volatility and order-flow features of a bar series (causal, per bar).

    ``garch_vol`` needs ``cfg.garch`` (fitted on a training period), else it is ``NaN``; the
    order-flow features need ``volume`` (base-asset units per bar) and, for VPIN,
    ``cfg.vpin_bucket_volume``; without them they are ``NaN``."""
    w = cfg.bars(dt_seconds)
    close = np.asarray(close, dtype=np.float64)
    n = close.size
    nan = np.full(n, np.nan)
    out = {
        "ret_short": window_return(close, w["short"]),
        "rv_short": realized_vol(close, w["short"], dt_seconds),
        "rv_mid": realized_vol(close, w["mid"], dt_seconds),
        "rv_long": realized_vol(close, w["long"], dt_seconds),
        "garch_vol": nan.copy() if cfg.garch is None else garch_vol(close, cfg.garch, dt_seconds),
        "drawdown_short": drawdown(close, w["mid"]),
        "drawdown_long": drawdown(close, w["long"]),
    }
    has_vol = volume is not None and np.nansum(np.asarray(volume, dtype=np.float64)) > 0
    if has_vol:
        v = np.asarray(volume, dtype=np.float64)
        out["vpin"] = (vpin_bvc(close, v, cfg.vpin_bucket_volume, cfg.vpin_buckets, sigma_window=w["mid"])
                       if cfg.vpin_bucket_volume else nan.copy())
        out["amihud"] = amihud(close, v, w["short"])
        out["kyle_lambda"] = kyle_lambda(close, v, w["short"])
    else:
        for k in FLOW:
            out[k] = nan.copy()
    return out


def book_features(liq_price, debt_value, spot: float, bid_depth=None, ask_depth=None) -> dict[str, float]:
    """Wall, cluster and depth features at one moment.

    ``liq_price``, ``debt_value``: per position (or per account and collateral asset); ``spot``:
    the venue price; ``bid_depth(k)`` / ``ask_depth(k)``: callables giving quote depth within a
    fraction ``k`` (``None``: depth not available, the ``depth_*`` and ``wall_depth_*`` values are
    ``NaN``). Without positions the wall features are ``NaN`` too."""
    out: dict[str, float] = {}
    L = np.asarray(liq_price, dtype=np.float64)
    D = np.asarray(debt_value, dtype=np.float64)
    for k in _DEPTH_BANDS:
        out[f"depth_bid_{_pct(k)}"] = float(bid_depth(k)) if bid_depth is not None else math.nan
        out[f"depth_ask_{_pct(k)}"] = float(ask_depth(k)) if ask_depth is not None else math.nan
    w = liquidation_wall(L, D, spot, _BANDS)
    tot = w["total"]
    if not tot > 0:
        for n in WALL:
            out[n] = math.nan
        return out
    out["liq_now"] = w["now"] / tot
    for k in _BANDS:
        out[f"wall_{_pct(k)}"] = w[k] / tot
        out[f"wall_depth_{_pct(k)}"] = wall_in_depth(w[k], float(bid_depth(k))) if bid_depth is not None else math.nan
    out["cluster_dist"] = cluster_distance(L, D, spot)
    return out

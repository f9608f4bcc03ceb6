"""Out-of-sample evidence on public market data (the data folder, ``../shared/data``).

Every experiment is split by **time**: models, thresholds, percentiles, GARCH parameters and
VPIN bucket sizes are fixed on the training period only, then scored once on the later test
period. Bootstrap intervals resample whole **days** (samples of one day are correlated).

1. **Binance ETH/USDT, January 2021** (``riskdao_jan2021/``, best bid/ask and futures
   liquidation volumes about every minute): predict "liquidation volume (long + short) in the
   next 30 minutes above its 99th percentile" from the quotes and the liquidations seen so far.
   Train: the first 70 % of the month; test: the rest. Features: returns, realized volatility
   (30 min, 2 h, 6 h), GARCH(1,1), drawdowns, quoted spread, recent liquidations. The file has
   no traded volume and no depth: VPIN, Amihud, Kyle's lambda, depth and walls are not available.
   Beside the models trained on the training period: the *simulation-trained* market-only
   model applied unchanged (transfer), volatility only, and recent liquidations only
   (persistence).
2. **Perp venues, daily liquidations** (``perp_venues_2025/``): predict "tomorrow's liquidated
   USD of a coin above the 75th percentile of its training days" (``liquidation_volume``,
   BTC/ETH/SOL and the days DOGE/HYPE have) from hourly Binance candles (returns, volatility at
   6 h/24 h/72 h, GARCH, drawdowns, VPIN, Amihud, Kyle's lambda), Hyperliquid hourly funding and
   Hyperliquid open-interest change, and the coin's liquidations of the day before. Train:
   December 2025; test: January 2026.
3. **Crash days** — the score over time next to prices and liquidations: 2021-05-19, 2021-01-11
   and 2021-01-21 (``stablesims`` 10-minute ETH bars; on the January days the Binance
   liquidations of file 1, aggregated to 10 minutes), 2025-10-10 (Binance BTC index 1-minute
   klines and book depth), 2025-10-10 hourly (Binance candles of BTC/ETH/SOL and Hyperliquid
   funding — Hyperliquid's own candles in this data set stop on 2025-04-18), and OKX's 25-hour
   liquidation record of 2026-03-04/05 (hourly). The 10-minute and 1-minute days are scored by
   the simulation-trained market-only model; the hourly ones by the daily-panel model of (2),
   evaluated every hour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import features as F
from .evaluate import N_BOOT, alarm_threshold, score_block
from .labels import exceedance_labels, forward_sum

__all__ = ["riskdao_evidence", "perp_daily_evidence", "crash_panels", "DATA_FILES", "data_dir_default"]

DAY = 86400.0
RISKDAO = "riskdao_jan2021/data_unified_0_ethusdt.csv"
PERP = "perp_venues_2025"
DATA_FILES = {
    "riskdao": [RISKDAO],
    "perp": [f"{PERP}/candles.parquet", f"{PERP}/funding_rates.parquet", f"{PERP}/open_interest.parquet",
             f"{PERP}/liquidation_volume.parquet", f"{PERP}/liquidations.parquet"],
    "crash": ["stablesims/eth/05-19-2021.json", "stablesims/eth/01-11-2021.json", "stablesims/eth/01-21-2021.json",
              "binance_2025-10-10/BTCUSD_PERP-1m-2025-10-09.zip", "binance_2025-10-10/BTCUSD_PERP-1m-2025-10-10.zip",
              "binance_2025-10-10/BTCUSDT-bookDepth-2025-10-10.csv"],
}


def data_dir_default() -> Path:
    import os

    env = os.environ.get("LIQCASCADE_DATA")
    return Path(env) if env else Path("..") / "shared" / "data"


def missing(data_dir, group: str) -> list[str]:
    return [f for f in DATA_FILES[group] if not (Path(data_dir) / f).exists()]


@dataclass
class Fitted:
    """A model trained on a real training period, with what it needs to score new bars."""

    model: object
    threshold: float
    cfg: dict = field(default_factory=dict)


def _iso_day(t: float) -> str:
    import datetime as _dt

    return _dt.datetime.fromtimestamp(float(t), _dt.timezone.utc).strftime("%Y-%m-%d %H:%M")


def _fit_score(models: dict, Xtr: dict, ytr, gtr, Xte: dict, yte, gte, seed: int, n_boot: int,
               prefit: dict | None = None) -> tuple[dict, dict]:
    """Fit every ``(kind, features)`` model on the training rows, score the test rows."""
    from .evaluate import threshold_of
    from .models import fit_model

    rows, fitted = {}, {}
    for name, (kind, feats) in models.items():
        Xa = np.column_stack([Xtr[f] for f in feats])
        Xb = np.column_stack([Xte[f] for f in feats])
        m = fit_model(kind, Xa, ytr, feats, gtr, seed=seed)
        thr = threshold_of(m, ytr)
        rows[name] = score_block(yte, m.predict_proba(Xb), gte, thr, raw=m.raw(Xb), n_boot=n_boot, seed=seed)
        fitted[name] = Fitted(m, thr)
    for name, (m, thr) in (prefit or {}).items():
        Xb = np.column_stack([Xte[f] for f in m.features])
        rows[name] = score_block(yte, m.predict_proba(Xb), gte, thr, raw=m.raw(Xb), n_boot=n_boot, seed=seed)
    return rows, fitted


# --------------------------------------------------------------------------------------------
# 1. Binance ETH/USDT January 2021


def load_riskdao(data_dir) -> dict:
    p = Path(data_dir) / RISKDAO
    from ..errors import InputError

    try:
        a = np.loadtxt(p, delimiter=",", skiprows=1, dtype=np.float64)
    except (OSError, ValueError) as e:
        raise InputError(str(p), None, f"cannot read: {e}") from None
    if a.ndim != 2 or a.shape[1] != 5:
        raise InputError(str(p), None, "expected 5 columns timestamp_x,ask_price,bid_price,liq_long,liq_short")
    t = a[:, 0] / 1e6
    order = np.argsort(t, kind="stable")
    a, t = a[order], t[order]
    return {"time_s": t, "ask": a[:, 1], "bid": a[:, 2], "mid": 0.5 * (a[:, 1] + a[:, 2]),
            "liq": a[:, 3] + a[:, 4], "source": str(p)}


def riskdao_features(d: dict, cfg: F.FeatureConfig, liq_ref: float, dt: float = 60.0) -> dict[str, np.ndarray]:
    out = F.market_features(d["mid"], dt, cfg)
    out["spread"] = F.quoted_spread(d["bid"], d["ask"])
    out["liq_recent"] = F.recent_liquidations(d["liq"], cfg.bars(dt)["short"], liq_ref)
    return out


RISKDAO_FEATURES = list(F.MARKET) + ["spread", "liq_recent"]


def riskdao_evidence(data_dir, *, sim_market=None, seed: int = 0, n_boot: int = N_BOOT, train_share: float = 0.7,
                     horizon_bars: int = 30, pct: float = 99.0, stride: int = 5) -> tuple[dict, dict]:
    """Experiment 1 (module docstring). ``sim_market``: ``(model, threshold)`` of the
    simulation-trained market-only model, scored unchanged as the transfer row."""
    d = load_riskdao(data_dir)
    t = d["time_s"]
    dt = 60.0
    split = t[0] + train_share * (t[-1] - t[0])
    tr_bars = t < split
    cfg = F.FeatureConfig(1800.0, 7200.0, 21600.0)
    cfg.garch = F.fit_garch11(F.log_returns(d["mid"][tr_bars])[1:], dt)
    w = cfg.bars(dt)
    ws = forward_sum(d["liq"], w["short"])  # window sums of the short window, for the reference level
    pos = ws[tr_bars & np.isfinite(ws) & (ws > 0)]
    liq_ref = float(np.median(pos)) if pos.size else 1.0
    X = riskdao_features(d, cfg, liq_ref, dt)
    fwd = forward_sum(d["liq"], horizon_bars)
    end_t = np.concatenate([t[horizon_bars:], np.full(horizon_bars, np.inf)])  # time at the end of the window
    train_rows = tr_bars & (end_t < split)
    thr = float(np.percentile(fwd[train_rows & np.isfinite(fwd)], pct))
    y = exceedance_labels(d["liq"], horizon_bars, thr)
    idx = np.arange(t.size)
    keep = (idx >= w["long"]) & (idx % stride == 0) & np.isfinite(y)
    tr = keep & train_rows
    te = keep & (t >= split)
    day = np.floor(t / DAY).astype(np.int64)
    models = {
        "logistic": ("logistic", RISKDAO_FEATURES),
        "gradient boosting": ("hgb", RISKDAO_FEATURES),
        "volatility only": ("logistic", ["rv_short"]),
        "recent liquidations only": ("logistic", ["liq_recent"]),
    }
    prefit = {}
    if sim_market is not None:
        prefit["simulation-trained, market only"] = sim_market
    Xtr = {k: v[tr] for k, v in X.items()}
    Xte = {k: v[te] for k, v in X.items()}
    rows, fitted = _fit_score(models, Xtr, y[tr], day[tr], Xte, y[te], day[te], seed, n_boot, prefit)
    res = {
        "name": "Binance ETH/USDT, January 2021",
        "source": RISKDAO,
        "label": f"liquidation volume (long + short) in the next {horizon_bars} minutes above its {pct:g}th percentile "
                 f"on the training period ({thr:,.1f})",
        "train": {"from": _iso_day(t[tr][0]), "to": _iso_day(t[tr][-1]), "n": int(tr.sum()), "positives": int(y[tr].sum())},
        "test": {"from": _iso_day(t[te][0]), "to": _iso_day(t[te][-1]), "n": int(te.sum()), "positives": int(y[te].sum())},
        "garch": cfg.garch.as_dict(),
        "models": rows,
        "not_available": ["vpin", "amihud", "kyle_lambda", "depth_*", "wall_*", "cluster_dist", "oracle_dev",
                          "funding_1h", "oi_change"],
        "notes": ["the file has best bid/ask and liquidation volumes only: no traded volume, no depth, no positions",
                  f"one sample every {stride} minutes after a 6-hour warm-up; training samples end before the split "
                  "(their label window too)",
                  "bootstrap intervals resample days"],
    }
    return res, {"cfg": cfg, "liq_ref": liq_ref, "fitted": fitted, "data": d}


# --------------------------------------------------------------------------------------------
# 2. perp venues: daily liquidations from hourly features


def _parquet(path, columns=None):
    import pyarrow.parquet as pq

    t = pq.read_table(path, columns=columns)
    out = {}
    for c in t.column_names:
        col = t.column(c)
        if str(col.type).startswith("timestamp"):
            import pyarrow as pa

            us = col.cast(pa.timestamp("us", tz="UTC"), safe=False).cast(pa.int64())
            out[c] = us.to_numpy().astype(np.float64) / 1e6
        else:
            out[c] = col.to_numpy(zero_copy_only=False)
    return out


def load_perp(data_dir) -> dict:
    base = Path(data_dir) / PERP
    return {"candles": _parquet(base / "candles.parquet"), "funding": _parquet(base / "funding_rates.parquet"),
            "oi": _parquet(base / "open_interest.parquet"), "daily": _parquet(base / "liquidation_volume.parquet"),
            "fills": _parquet(base / "liquidations.parquet")}


def _hourly(tab: dict, venue: str, coin: str, value: str):
    m = (tab["venue"] == venue) & (tab["coin"] == coin)
    t = tab["timestamp"][m]
    o = np.argsort(t, kind="stable")
    return t[o], np.asarray(tab[value][m], dtype=np.float64)[o]


def _asof(t_src, v_src, t_dst, max_age: float) -> np.ndarray:
    """The last value at or before each ``t_dst`` (``NaN`` if older than ``max_age``)."""
    if t_src.size == 0:
        return np.full(t_dst.shape, np.nan)
    i = np.searchsorted(t_src, t_dst, side="right") - 1
    ok = i >= 0
    out = np.full(t_dst.shape, np.nan)
    out[ok] = v_src[i[ok]]
    age = np.where(ok, t_dst - t_src[np.maximum(i, 0)], np.inf)
    out[age > max_age] = np.nan
    return out


PERP_FEATURES = list(F.MARKET) + list(F.FLOW) + ["funding_1h", "oi_change", "liq_recent"]
HOURLY_CFG = (6 * 3600.0, 24 * 3600.0, 72 * 3600.0)


def perp_coin_features(P: dict, coin: str, train_end: float, venue: str = "binance") -> dict:
    """Hourly features of one coin (bars = hourly candles of ``venue``); GARCH and VPIN bucket
    fixed on the bars before ``train_end``. Returns time, close and the feature columns."""
    c = P["candles"]
    m = (c["venue"] == venue) & (c["coin"] == coin)
    t = c["timestamp"][m]
    o = np.argsort(t, kind="stable")
    t = t[o]
    close = np.asarray(c["c"][m], dtype=np.float64)[o]
    low = np.asarray(c["l"][m], dtype=np.float64)[o]
    vol = np.asarray(c["v"][m], dtype=np.float64)[o]
    dt = 3600.0
    cfg = F.FeatureConfig(*HOURLY_CFG)
    before = t < train_end
    cfg.garch = F.fit_garch11(F.log_returns(close[before])[1:], dt)
    last30 = before & (t >= train_end - 30 * DAY)
    if vol[last30].sum() > 0:
        cfg.vpin_bucket_volume = float(vol[last30].sum() / 30.0 / cfg.vpin_buckets)
    X = F.market_features(close, dt, cfg, volume=vol)
    ft, fv = _hourly(P["funding"], "hyperliquid", coin, "funding_rate")
    X["funding_1h"] = _asof(ft, F.funding_per_hour(fv, 1.0), t + dt, 2 * 3600.0)  # known at the bar's close
    ot, ov = _hourly(P["oi"], "hyperliquid", coin, "oi_usd")
    oi = _asof(ot, ov, t + dt, 2 * 3600.0)
    X["oi_change"] = F.oi_change(oi, cfg.bars(dt)["mid"])
    return {"time_s": t, "close": close, "low": low, "volume": vol, "X": X, "cfg": cfg}


def perp_daily_evidence(data_dir, *, seed: int = 0, n_boot: int = N_BOOT, split: str = "2026-01-01",
                        pct: float = 75.0) -> tuple[dict, dict]:
    """Experiment 2 (module docstring)."""
    import datetime as _dt

    P = load_perp(data_dir)
    split_t = _dt.datetime.fromisoformat(split).replace(tzinfo=_dt.timezone.utc).timestamp()
    dl = P["daily"]
    coins = sorted(set(dl["coin"].tolist()))
    rows = {k: [] for k in PERP_FEATURES + ["y", "day", "coin"]}
    coin_info = {}
    for coin in coins:
        m = dl["coin"] == coin
        days = dl["timestamp"][m]
        o = np.argsort(days)
        days = days[o]
        tot = np.asarray(dl["total_usd"][m], dtype=np.float64)[o]
        tr_days = days < split_t
        if tr_days.sum() < 5 or (~tr_days).sum() < 1:
            coin_info[coin] = "left out: fewer than 5 training days or no test day"
            continue
        thr = float(np.percentile(tot[tr_days], pct))
        ref = float(np.median(tot[tr_days][tot[tr_days] > 0])) if (tot[tr_days] > 0).any() else 1.0
        try:
            cf = perp_coin_features(P, coin, float(days[tr_days][0]))
        except ValueError as e:
            coin_info[coin] = f"left out: {e}"
            continue
        coin_info[coin] = {"train_days": int(tr_days.sum()), "test_days": int((~tr_days).sum()), "threshold_usd": thr}
        tt = cf["time_s"]
        prev = {float(d): v for d, v in zip(days, tot)}
        for d, v in zip(days, tot):
            j = np.searchsorted(tt, d - 3600.0)  # the last hourly bar of the day before (closes at d)
            if j >= tt.size or tt[j] != d - 3600.0:
                continue
            for k in PERP_FEATURES:
                if k == "liq_recent":
                    pv = prev.get(float(d - DAY))
                    rows[k].append(math.log10(1.0 + pv / ref) if pv is not None else math.nan)
                else:
                    rows[k].append(cf["X"][k][j])
            rows["y"].append(1.0 if v > thr else 0.0)
            rows["day"].append(d)
            rows["coin"].append(coin)
    R = {k: np.asarray(v) for k, v in rows.items()}
    tr = R["day"] < split_t
    te = ~tr
    models = {
        "logistic": ("logistic", PERP_FEATURES),
        "gradient boosting": ("hgb", PERP_FEATURES),
        "volatility only": ("logistic", ["rv_mid"]),
        "yesterday's liquidations only": ("logistic", ["liq_recent"]),
    }
    Xtr = {k: R[k][tr].astype(np.float64) for k in PERP_FEATURES}
    Xte = {k: R[k][te].astype(np.float64) for k in PERP_FEATURES}
    g = (R["day"] // DAY).astype(np.int64)
    res_rows, fitted = _fit_score(models, Xtr, R["y"][tr], g[tr], Xte, R["y"][te], g[te], seed, n_boot)
    res = {
        "name": "Perp venues, daily liquidations per coin, 2025-12 to 2026-01",
        "source": f"{PERP}/liquidation_volume.parquet, candles.parquet (Binance), funding_rates.parquet and "
                  "open_interest.parquet (Hyperliquid)",
        "label": f"the coin's liquidated USD tomorrow above the {pct:g}th percentile of its training days",
        "train": {"from": _iso_day(R["day"][tr].min()), "to": _iso_day(R["day"][tr].max()), "n": int(tr.sum()),
                  "positives": int(R["y"][tr].sum())},
        "test": {"from": _iso_day(R["day"][te].min()), "to": _iso_day(R["day"][te].max()), "n": int(te.sum()),
                 "positives": int(R["y"][te].sum())},
        "coins": coin_info,
        "models": res_rows,
        "not_available": ["depth_*", "wall_*", "cluster_dist", "oracle_dev", "spread"],
        "notes": ["features at the close of the last hourly bar of the day before; Hyperliquid funding and OI as of "
                  "that time (OI starts on 2025-12-07, so early oi_change values are missing and imputed)",
                  "per-coin thresholds and GARCH/VPIN settings from the training days only",
                  "bootstrap intervals resample days"],
    }
    return res, {"fitted": fitted, "P": P}


# --------------------------------------------------------------------------------------------
# 3. crash days


def _panel(name: str, t, price, score, threshold: float, liq=None, liq_label: str = "", notes=(),
           extra: dict | None = None, bar_s: float = 0.0, low=None) -> dict:
    """One crash-day panel. ``t``: bar *starts*; the panel is on bar *close* times (``t + bar_s``),
    when the bar's close — and the score computed from it — is known; a bar's liquidations are
    those inside it. ``low``: the bars' lows (the price low is the bar with the lowest low, else
    the lowest close)."""
    t = np.asarray(t, dtype=np.float64) + float(bar_s)
    score = np.asarray(score, dtype=np.float64)
    price = np.asarray(price, dtype=np.float64)
    alarm = np.flatnonzero(score >= threshold)
    low = int(np.nanargmin(price if low is None else np.asarray(low, dtype=np.float64)))
    out = {"name": name, "time_s": t.tolist(), "price": price.tolist(), "score": score.tolist(),
           "threshold": threshold, "liquidations": None if liq is None else np.asarray(liq, dtype=np.float64).tolist(),
           "liquidations_label": liq_label, "notes": list(notes),
           "first_alarm": _iso_day(t[alarm[0]]) if alarm.size else None,
           "price_low": _iso_day(t[low]), "max_score": float(np.nanmax(score)) if np.isfinite(score).any() else math.nan}
    if liq is not None and np.nansum(liq) > 0:
        pk = int(np.nanargmax(liq))
        out["liquidation_peak"] = _iso_day(t[pk])
        before = alarm[alarm <= pk]
        out["lead_to_peak_min"] = float((t[pk] - t[before[0]]) / 60.0) if before.size else None
    before_low = alarm[alarm <= low]
    out["lead_to_low_min"] = float((t[low] - t[before_low[0]]) / 60.0) if before_low.size else None
    if extra:
        out.update(extra)
    return out


def _score_series(model, X: dict) -> np.ndarray:
    """Calibrated probability per bar; a feature the bars cannot give is missing (``NaN``), which
    the model imputes (logistic: training median)."""
    n = len(next(iter(X.values())))
    M = np.column_stack([np.asarray(X[f], dtype=np.float64) if f in X else np.full(n, np.nan) for f in model.features])
    return model.predict_proba(M)


def crash_panels(data_dir, *, sim_market=None, riskdao_ctx=None, perp_ctx=None) -> list[dict]:
    """Experiment 3 (module docstring): one panel per day that its inputs allow."""
    from ..data.bars import load_ohlcv_json
    from ..data.binance import load_binance_klines, load_book_depth

    base = Path(data_dir)
    out = []
    if sim_market is not None and riskdao_ctx is not None:
        model, thr = sim_market
        d = riskdao_ctx["data"]
        # GARCH for 10-minute ETH bars: fitted on the January 2021 Binance mid resampled to 10 minutes,
        # training period only
        cut = d["time_s"] < d["time_s"][0] + 0.7 * (d["time_s"][-1] - d["time_s"][0])
        tt = d["time_s"][cut]
        grid = np.arange(np.ceil(tt[0] / 600) * 600, tt[-1], 600.0)
        mid10 = _asof(tt, d["mid"][cut], grid, 600.0)
        g10 = F.fit_garch11(F.log_returns(mid10)[1:], 600.0)
        for day, label in (("05-19-2021", "2021-05-19"), ("01-11-2021", "2021-01-11"), ("01-21-2021", "2021-01-21")):
            f = base / "stablesims" / "eth" / f"{day}.json"
            if not f.exists():
                continue
            b = load_ohlcv_json(f)
            cfg = F.FeatureConfig(1800.0, 7200.0, 21600.0, garch=g10)
            X = F.market_features(b.close, 600.0, cfg)
            s = _score_series(model, X)
            liq = None
            lab = ""
            notes = ["ETH/USD 10-minute bars (CoinAPI, stablesims); simulation-trained market-only model",
                     "the first 6 h of the day have no long-window features yet (imputed by the model's medians)"]
            if label.startswith("2021-01"):
                e = (b.time_s[0] - 0.0, b.time_s[-1] + 600.0)
                lm = (d["time_s"] >= e[0]) & (d["time_s"] < e[1])
                k = np.clip(((d["time_s"][lm] - b.time_s[0]) // 600).astype(np.int64), 0, len(b) - 1)
                liq = np.bincount(k, weights=d["liq"][lm], minlength=len(b))
                lab = "Binance ETH futures liquidations per 10 min (riskdao file, contracts' base units)"
            else:
                notes.append("no liquidation record for this day in the data folder: the price low is the reference")
            out.append(_panel(f"{label}, ETH 10-minute bars", b.time_s, b.close, s, thr, liq, lab, notes, bar_s=600.0,
                              low=b.low))
        k9 = base / "binance_2025-10-10" / "BTCUSD_PERP-1m-2025-10-09.zip"
        k10 = base / "binance_2025-10-10" / "BTCUSD_PERP-1m-2025-10-10.zip"
        if k9.exists() and k10.exists():
            b9, b10 = load_binance_klines(k9), load_binance_klines(k10)
            g1 = F.fit_garch11(F.log_returns(b9.close)[1:], 60.0)
            close = np.concatenate([b9.close, b10.close])
            tt = np.concatenate([b9.time_s, b10.time_s])
            cfg = F.FeatureConfig(1800.0, 7200.0, 21600.0, garch=g1)
            X = F.market_features(close, 60.0, cfg)
            s = _score_series(model, X)
            sel = tt >= b10.time_s[0]
            extra = {}
            dpath = base / "binance_2025-10-10" / "BTCUSDT-bookDepth-2025-10-10.csv"
            if dpath.exists():
                bd = load_book_depth(dpath)
                ks, q = bd.side("ask")
                j1 = int(np.argmin(np.abs(ks - 0.01)))
                extra["ask_depth_1pct"] = _asof(bd.time_s, q[:, j1], tt[sel], 300.0).tolist()
            out.append(_panel("2025-10-10, BTC index 1-minute klines (Binance)", tt[sel], close[sel], s[sel], thr, None, "",
                              ["index klines carry no volume: VPIN, Amihud and Kyle's lambda are not available",
                               "GARCH fitted on 2025-10-09; simulation-trained market-only model",
                               "no liquidation record for this day in the data folder (the perp fills file has none on "
                               "2025-10-10): the price low is the reference; ask depth within 1 % shown for context "
                               "(the bid side of the file is frozen after ~15:00 UTC)"], extra, bar_s=60.0,
                              low=np.concatenate([b9.low, b10.low])[sel]))
    if perp_ctx is not None and perp_ctx.get("fitted"):
        fm = perp_ctx["fitted"]["logistic"]
        P = perp_ctx["P"]
        import datetime as _dt

        t0 = _dt.datetime(2025, 10, 10, tzinfo=_dt.timezone.utc).timestamp()
        for coin in ("BTC", "ETH", "SOL"):
            cf = perp_coin_features(P, coin, t0 - 5 * DAY)  # settings from the bars before the day
            sel = (cf["time_s"] >= t0) & (cf["time_s"] < t0 + DAY)
            if not sel.any():
                continue
            s = _score_series(fm.model, {k: v[sel] for k, v in cf["X"].items()} | {"liq_recent": np.full(sel.sum(), np.nan)})
            out.append(_panel(f"2025-10-10, {coin} hourly (Binance candles, Hyperliquid funding)", cf["time_s"][sel],
                              cf["close"][sel], s, fm.threshold, None, "",
                              ["daily-panel logistic model (trained on December 2025) scored every hour; "
                               "'yesterday's liquidations' unknown here (imputed)",
                               "Hyperliquid candles in the data folder stop on 2025-04-18; the fills file has none on "
                               "2025-10-10: the price low is the reference"], bar_s=3600.0, low=cf["low"][sel]))
        fl = P["fills"]
        okx = fl["venue"] == "okx"
        if okx.any():
            ts = fl["timestamp"][okx]
            h0 = math.floor(ts.min() / 3600.0) * 3600.0
            h1 = math.floor(ts.max() / 3600.0) * 3600.0 + 3600.0
            for coin in ("BTC", "ETH", "SOL"):
                cf = perp_coin_features(P, coin, h0 - 5 * DAY)
                sel = (cf["time_s"] >= h0) & (cf["time_s"] < h1)
                if not sel.any():
                    continue
                mm = okx & (fl["coin"] == coin)
                k = ((fl["timestamp"][mm] - h0) // 3600.0).astype(np.int64)
                liq = np.bincount(k, weights=np.asarray(fl["size_usd"][mm], dtype=np.float64), minlength=int(sel.sum()))
                s = _score_series(fm.model, {k2: v[sel] for k2, v in cf["X"].items()} | {"liq_recent": np.full(sel.sum(), np.nan)})
                out.append(_panel(f"2026-03-04/05, {coin} hourly, OKX liquidation record", cf["time_s"][sel],
                                  cf["close"][sel], s, fm.threshold, liq[: int(sel.sum())], "OKX liquidations per hour (USD)",
                                  ["daily-panel logistic model scored every hour on Binance candles; the OKX fills "
                                   "cover 25 contiguous hours"], bar_s=3600.0, low=cf["low"][sel]))
    return out

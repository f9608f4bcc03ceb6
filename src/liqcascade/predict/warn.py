"""The early-warning score of one moment: ``liqcascade warn POSITIONS MARKET``.

**Positions** — a scenario (``.toml``: its Aave-rule books, liquidation thresholds and venues)
or a position file (CSV/Parquet, ``id,collateral,debt`` or ``id,asset,collateral,debt``) with
``--lt``. Liquidation prices come from :mod:`liqcascade.data.liqprice` (the heatmap's numbers).

**Market file** — a CSV of bars in time order::

    time,close[,open,high,low,volume,bid,ask,oracle,funding,funding_hours,oi,
              bid_depth_1,bid_depth_2,bid_depth_5,ask_depth_1,ask_depth_2,ask_depth_5]

``time``: seconds since the epoch or ISO 8601 (UTC); ``close`` (alias ``price``) > 0; ``volume``
in base units; ``*_depth_k``: quote within k % of the mid; ``funding`` per ``funding_hours``
(default 8); ``oi`` in any unit. Missing columns make the features that need them *not
available* (the model imputes them with its training medians and the output says so). Without
depth columns, a scenario's own venues give the depth at the current price.

**Scoring** — the market features over the whole file (the value at the last bar), GARCH(1,1)
fitted on the file's own returns (at least 50), VPIN buckets of 1/50 of the file's average daily
volume (smaller for a file under two days, so that it holds 100 buckets); the book features at
the last close. Depth beyond the file's largest band (for the 10 % wall) grows in proportion to
the fall. The model (default: the logistic model trained on
the default simulation families, shipped with the package) gives the raw score and the
calibrated probability; *alarm* when the probability reaches the threshold stored with the model
(5 % false alarms on its training negatives).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..jsonout import scalars
from . import features as F

__all__ = ["Market", "read_market", "Book", "load_book", "snapshot", "default_model_path", "MARKET_COLUMNS"]

MARKET_COLUMNS = ("time", "close", "open", "high", "low", "volume", "bid", "ask", "oracle", "funding", "funding_hours",
                  "oi", "bid_depth_1", "bid_depth_2", "bid_depth_5", "ask_depth_1", "ask_depth_2", "ask_depth_5")


def default_model_path() -> Path:
    from importlib.resources import files

    return Path(str(files("liqcascade") / "predict" / "models" / "default.json"))


@dataclass
class Market:
    time_s: np.ndarray
    cols: dict  # column name -> float64 array (NaN where empty)
    source: str = ""

    def __len__(self) -> int:
        return int(self.time_s.shape[0])

    @property
    def close(self) -> np.ndarray:
        return self.cols["close"]

    @property
    def dt_seconds(self) -> float:
        return float(np.median(np.diff(self.time_s))) if len(self) > 1 else math.nan

    def has(self, name: str) -> bool:
        return name in self.cols and np.isfinite(self.cols[name]).any()


def _parse_time(fname, where, s: str) -> float:
    from ..data._util import parse_time

    return parse_time(fname, where, s)


def read_market(path, *, complete_lines_only: bool = False) -> Market:
    """Read a market CSV (module docstring). ``complete_lines_only``: ignore a last line without a
    newline (a writer may be in the middle of it — used by ``--watch``)."""
    p = Path(path)
    fname = str(p)
    if not p.is_file():
        raise InputError(fname, None, "file not found")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(fname, None, f"cannot read: {e}") from None
    if complete_lines_only and text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    rows = list(csv.reader(io.StringIO(text)))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise InputError(fname, None, "empty file")
    head = [h.strip().lower() for h in rows[0]]
    if "price" in head and "close" not in head:
        head[head.index("price")] = "close"
    for req in ("time", "close"):
        if req not in head:
            raise InputError(fname, "header", f"missing column {req!r} (need time,close; optional: "
                             f"{', '.join(MARKET_COLUMNS[2:])})")
    unknown = [h for h in head if h not in MARKET_COLUMNS]
    if unknown:
        raise InputError(fname, "header", f"unknown column(s) {', '.join(unknown)}; known: {', '.join(MARKET_COLUMNS)}")
    if len(set(head)) != len(head):
        raise InputError(fname, "header", "a column name is repeated")
    body = rows[1:]
    if not body:
        raise InputError(fname, None, "no bars (only a header)")
    n = len(body)
    t = np.empty(n)
    cols = {h: np.full(n, np.nan) for h in head if h != "time"}
    for i, r in enumerate(body):
        line = i + 2
        if len(r) != len(head):
            raise InputError(fname, f"line {line}", f"expected {len(head)} fields, found {len(r)}")
        for h, v in zip(head, r):
            v = v.strip()
            if h == "time":
                t[i] = _parse_time(fname, f"line {line}, column 'time'", v)
                continue
            if v == "":
                if h == "close":
                    raise InputError(fname, f"line {line}, column 'close'", "required")
                continue
            try:
                x = float(v)
            except ValueError:
                raise InputError(fname, f"line {line}, column {h!r}", f"not a number: {v!r}") from None
            if not math.isfinite(x):
                raise InputError(fname, f"line {line}, column {h!r}", f"must be finite, got {v!r}")
            if h in ("close", "open", "high", "low", "bid", "ask", "oracle", "funding_hours") and x <= 0:
                raise InputError(fname, f"line {line}, column {h!r}", f"must be > 0, got {v}")
            if h not in ("close", "open", "high", "low", "bid", "ask", "oracle", "funding_hours", "funding") and x < 0:
                raise InputError(fname, f"line {line}, column {h!r}", f"must be >= 0, got {v}")
            cols[h][i] = x
    d = np.diff(t)
    bad = np.flatnonzero(d <= 0)
    if bad.size:
        raise InputError(fname, f"line {int(bad[0]) + 3}, column 'time'", "times must increase")
    return Market(t, cols, fname)


# --------------------------------------------------------------------------------------------
# positions


@dataclass
class Book:
    """Liquidation prices of one risky collateral asset, and the depth the scenario's venues give."""

    asset: str
    liq_price: np.ndarray
    debt_value: np.ndarray
    coll_value: np.ndarray
    source: str
    venues: list = field(default_factory=list)  # scenario venues of the asset (dicts), for depth
    p0: float = math.nan
    notes: list = field(default_factory=list)


def load_book(path, *, lt: str | None = None, asset: str | None = None, price: float | None = None) -> Book:
    """Positions from a scenario or a position file (module docstring). ``price``: the collateral
    price the position file's accounts are valued at (the market's last close)."""
    from ..data.liqprice import book_from_compiled, book_from_positions, liquidation_points

    p = Path(path)
    if p.suffix.lower() == ".toml":
        from ..engine.compile import compile_scenario
        from ..scenario.load import load_scenario

        sc, base = load_scenario(p)
        try:
            c = compile_scenario(sc, base)
        except InputError as e:
            raise InputError(e.file or str(p), e.where, e.reason) from None
        ab = book_from_compiled(c)
        pts = liquidation_points(ab)
        risky = [a for i, a in enumerate(c.assets) if not c.stable[i]]
        name = asset or _main_asset(pts, c.assets, risky)
        if name not in c.assets or name not in risky:
            raise InputError(str(p), "--asset", f"{name!r} is not a risky asset of the scenario ({', '.join(risky)})")
        a = c.assets.index(name)
        i = pts.of(a)
        venues = [v.model_dump() for v in sc.venues if v.asset == name]
        notes = []
        if any(pr.kind != "aave_v3" for pr in sc.protocols):
            notes.append("protocol units (Comet, Maker, Liquity, crvUSD, perps) are not in the liquidation wall: "
                         "only Aave-rule books are")
        return Book(name, pts.price[i], pts.debt_value[i], pts.coll_value[i], str(p), venues, float(c.p0[a]), notes)
    if lt is None:
        raise InputError(str(p), "--lt", "a position file needs the liquidation threshold (--lt 0.86, or ASSET=LT,…)")
    from ..positions.io import load_positions

    table = load_positions(p)
    lts = _parse_lt(lt)
    if table.wide:
        name = asset or "collateral"
        if price is None:
            raise InputError(str(p), "market", "no price for the collateral")
        ltv = lts if isinstance(lts, float) else lts.get(name, lts.get("collateral"))
        if ltv is None:
            raise InputError(None, "--lt", f"no liquidation threshold for {name!r}")
        book = book_from_positions(table, {table.assets[0]: price, table.assets[1]: 1.0}, ltv, label=str(p))
        pts = liquidation_points(book)
        return Book(name, pts.price, pts.debt_value, pts.coll_value, str(p), [], price,
                    ["wide position file: collateral priced at the market's last close, debt at 1"])
    if asset is None:
        raise InputError(str(p), "--asset", f"a long position file needs --asset (one of {', '.join(table.assets)})")
    if asset not in table.assets:
        raise InputError(str(p), "--asset", f"unknown asset {asset!r} (file assets: {', '.join(table.assets)})")
    others = [a for a in table.assets if a != asset]
    prices = {asset: price, **{a: 1.0 for a in others}}
    book = book_from_positions(table, prices, lts if isinstance(lts, dict) else {asset: lts}, stable=tuple(others),
                               label=str(p))
    pts = liquidation_points(book)
    i = pts.of(list(table.assets).index(asset))
    return Book(asset, pts.price[i], pts.debt_value[i], pts.coll_value[i], str(p), [], price,
                [f"long position file: every asset but {asset} held at a price of 1 (stable)"])


def _main_asset(pts, assets, risky) -> str:
    if not risky:
        raise InputError(None, "assets", "the scenario has no risky asset")
    tot = {a: float(pts.debt_value[pts.asset == assets.index(a)].sum()) for a in risky}
    return max(risky, key=lambda a: tot[a])


def _parse_lt(s: str):
    s = s.strip()
    try:
        v = float(s)
    except ValueError:
        v = None
    if v is not None:
        if not 0 < v < 1:
            raise InputError(None, "--lt", f"must be in (0, 1), got {s}")
        return v
    out = {}
    for part in s.split(","):
        k, sep, x = part.partition("=")
        try:
            val = float(x)
        except ValueError:
            val = math.nan
        if not sep or not k.strip() or not 0 < val < 1:
            raise InputError(None, "--lt", f"expected a number in (0, 1) or ASSET=LT,…; got {part!r}")
        out[k.strip()] = val
    return out


# --------------------------------------------------------------------------------------------
# the snapshot


def _venue_depth(venues: list, p0: float, spot: float):
    """Bid and ask depth callables of a scenario's venues at the current spot (sum over venues)."""
    if not venues:
        return None, None

    def side(k, s):
        tot = 0.0
        for v in venues:
            if v["kind"] == "cpmm":
                y = v["reserve_asset"] * p0 * math.sqrt(spot / p0)
                tot += float(F.depth_cpmm(y, k, s))
            else:
                ks = [a for a, _ in v["depth"]]
                qs = [b for _, b in v["depth"]]
                tot += float(F.depth_curve(ks, qs, k))
        return tot
    return (lambda k: side(k, "bid")), (lambda k: side(k, "ask"))


def _file_depth(m: Market, t: int, side: str):
    ks = [(0.01, f"{side}_depth_1"), (0.02, f"{side}_depth_2"), (0.05, f"{side}_depth_5")]
    pts = [(k, m.cols[c][t]) for k, c in ks if c in m.cols and math.isfinite(m.cols[c][t])]
    if not pts:
        return None
    kk = [k for k, _ in pts]
    qq = list(np.maximum.accumulate([q for _, q in pts]))
    return lambda k: float(F.depth_curve(kk, qq, k)) if k <= kk[-1] else float(qq[-1] * k / kk[-1])


def walls(book: Book, spot: float, bid_depth=None, top: int = 5, bucket: float = 0.01, max_drop: float = 0.3) -> list[dict]:
    """The ``top`` 1 %-buckets below spot with the most debt liquidatable, in price order."""
    L, D, C = book.liq_price, book.debt_value, book.coll_value
    ok = np.isfinite(L) & (L < spot) & (L >= spot * (1 - max_drop))
    j = np.floor((spot - L[ok]) / spot / bucket + 1e-12).astype(np.int64)
    nb = int(round(max_drop / bucket))
    per = np.bincount(j, weights=D[ok], minlength=nb)[:nb]
    perc = np.bincount(j, weights=C[ok], minlength=nb)[:nb]
    idx = [int(i) for i in np.argsort(-per, kind="stable")[:top] if per[i] > 0]
    out = []
    for i in sorted(idx):
        hi, lo = spot * (1 - i * bucket), spot * (1 - (i + 1) * bucket)
        row = {"from_price": hi, "to_price": lo, "drop": (i + 1) * bucket, "debt": float(per[i]),
               "collateral_value": float(perc[i])}
        if bid_depth is not None:
            d = bid_depth((i + 1) * bucket)
            row["debt_over_depth"] = float(per[i] / d) if d > 0 else None
        out.append(row)
    return out


def snapshot(model, market: Market, book: Book | None, *, top: int = 5) -> dict:
    """Score the last bar of ``market`` (module docstring); returns a JSON-ready dict."""
    from .. import __version__

    if len(market) < 2:
        raise InputError(market.source, None, "need at least two bars")
    dt = market.dt_seconds
    mcfg = (model.meta or {}).get("feature_config") or {}
    cfg = F.FeatureConfig(float(mcfg.get("short_s", 1800.0)), float(mcfg.get("mid_s", 7200.0)),
                          float(mcfg.get("long_s", 21600.0)))
    close = market.close
    notes = []
    r = F.log_returns(close)[1:]
    if np.isfinite(r).sum() >= 50:
        cfg.garch = F.fit_garch11(r, dt)
        notes.append(f"GARCH(1,1) fitted on the file's {int(np.isfinite(r).sum())} returns")
    vol = market.cols.get("volume") if market.has("volume") else None
    if vol is not None:
        # one fiftieth of a day's volume (the paper's bucket), but small enough that the file
        # holds at least two windows of 50 buckets
        days = (market.time_s[-1] - market.time_s[0] + dt) / 86400.0
        total = float(np.nansum(vol))
        cfg.vpin_bucket_volume = min(total / max(days, 1e-9), total / 2.0) / cfg.vpin_buckets
    X = F.market_features(close, dt, cfg, volume=vol)
    t = len(market) - 1
    vals = {k: float(v[t]) for k, v in X.items()}
    spot = float(close[t])
    if market.has("bid") and market.has("ask"):
        vals["spread"] = float(F.quoted_spread(market.cols["bid"], market.cols["ask"])[t])
    if market.has("oracle"):
        vals["oracle_dev"] = float(F.oracle_deviation(market.cols["oracle"], close)[t])
    if market.has("funding"):
        hrs = market.cols.get("funding_hours")
        h = hrs[t] if hrs is not None and math.isfinite(hrs[t]) else 8.0
        vals["funding_1h"] = float(market.cols["funding"][t] / h)
    if market.has("oi"):
        vals["oi_change"] = float(F.oi_change(market.cols["oi"], cfg.bars(dt)["mid"])[t])
    bid = _file_depth(market, t, "bid")
    ask = _file_depth(market, t, "ask")
    depth_src = "market file" if bid is not None else None
    if bid is None and book is not None and book.venues:
        bid, ask = _venue_depth(book.venues, book.p0, spot)
        depth_src = "scenario venues at the current price"
    wl = []
    if book is not None:
        vals.update(F.book_features(book.liq_price, book.debt_value, spot, bid, ask))
        wl = walls(book, spot, bid, top=top)
    elif bid is not None:
        vals.update({k: v for k, v in F.book_features([], [], spot, bid, ask).items() if k.startswith("depth_")})
    x = np.array([vals.get(f, math.nan) for f in model.features], dtype=np.float64)
    missing = [f for f, v in zip(model.features, x) if not math.isfinite(v)]
    raw = float(model.raw(x.reshape(1, -1))[0])
    prob = float(model.predict_proba(x.reshape(1, -1))[0])
    thr = (model.meta or {}).get("alarm_threshold")
    contrib = model.contributions(x)
    avail = {k: v for k, v in contrib.items() if k not in missing}
    top_c = sorted(avail.items(), key=lambda kv: -abs(kv[1]))[:top]
    lab = (model.meta or {}).get("label") or {}
    import datetime as _dt

    return scalars({
        "schema_version": 1, "version": __version__,
        "time": _dt.datetime.fromtimestamp(float(market.time_s[t]), _dt.timezone.utc).isoformat(),
        "bars": len(market), "bar_seconds": dt, "price": spot,
        "asset": None if book is None else book.asset,
        "model": {"kind": model.kind, "source": (model.meta or {}).get("source", ""),
                  "trained_on": (model.meta or {}).get("trained_on", ""), "label": lab},
        "score": raw, "probability": prob, "threshold": thr,
        "alarm": bool(thr is not None and prob >= thr),
        "top_features": [{"feature": k, "contribution": v, "value": vals.get(k, math.nan),
                          "text": F.FEATURES[k].text} for k, v in top_c],
        "walls": wl,
        "liquidatable_now": None if book is None else float(book.debt_value[np.isfinite(book.liq_price)
                                                                              & (book.liq_price >= spot)].sum()),
        "book_debt": None if book is None else float(book.debt_value.sum()),
        "features": {k: vals.get(k, math.nan) for k in model.features},
        "not_available": missing + ["utilization", "borrow_rate"],
        "depth_source": depth_src,
        "notes": notes + ([] if book is None else book.notes) + [
            "features missing from the data are imputed with the model's training medians",
            "utilization and borrow rate: not available (no interest-rate model in the engine yet)"],
        "imputed_contribution": float(sum(v for k, v in contrib.items() if k in missing)),
    })

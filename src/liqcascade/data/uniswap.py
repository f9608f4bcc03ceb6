"""Constant-product pool reserve snapshots (the format of ``stablesims/eth_dai_liquidity/*.json``).

A JSON array of objects, one per snapshot, each mapping a token symbol to the pool's reserve
of that token in token units, e.g. ``{"DAI": 67923883.66, "WETH": 23221.35}``. Every record has
the same two tokens. A record may carry a ``timestamp`` (ISO 8601 or epoch seconds); the
stablesims files have none — their snapshots are every 10 minutes from the day's 00:00 UTC, so
times are ``start_s + i · dt_seconds`` when no record has one.

Which token is the quote: ``quote=`` when given, otherwise the one whose symbol is a known
USD stablecoin (DAI, USDC, USDT, …).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ._util import check_increasing, parse_float, parse_time, read_json

__all__ = ["Reserves", "load_uniswap_reserves", "STABLE_SYMBOLS"]

STABLE_SYMBOLS = ("DAI", "USDC", "USDT", "USD", "BUSD", "TUSD", "USDP", "GUSD", "LUSD", "FRAX", "SUSD")


@dataclass(frozen=True, eq=False)
class Reserves:
    """Reserves of one pool over time: ``reserve_asset`` of ``asset`` against ``reserve_quote``."""

    asset: str
    quote: str
    reserve_asset: np.ndarray
    reserve_quote: np.ndarray
    time_s: np.ndarray  # NaN when neither the file nor the caller gave times
    source: str | None = None

    def __len__(self) -> int:
        return int(self.reserve_asset.shape[0])

    @property
    def spot(self) -> np.ndarray:
        """Pool price ``reserve_quote / reserve_asset`` (quote per asset)."""
        return self.reserve_quote / self.reserve_asset

    @property
    def invariant(self) -> np.ndarray:
        """``sqrt(x · y)`` (liquidity ``L`` of the pool)."""
        return np.sqrt(self.reserve_asset * self.reserve_quote)

    def depth(self, ks, side: str = "bid") -> np.ndarray:
        """Cumulative quote depth ``[T, len(ks)]`` at fractions ``ks`` of spot (fee-less pool)."""
        from ..venues.pack import depth_from_cpmm

        ks = np.asarray(ks, dtype=np.float64)
        return np.stack([depth_from_cpmm(x, y, ks, side=side)
                         for x, y in zip(self.reserve_asset, self.reserve_quote)]) if len(self) else np.zeros((0, ks.size))


def load_uniswap_reserves(path, asset: str | None = None, quote: str | None = None, *,
                          start_s: float | None = None, dt_seconds: float = 600.0) -> Reserves:
    """Read pool reserve snapshots (see the module docstring)."""
    data, fname = read_json(path)
    if not isinstance(data, list):
        raise InputError(fname, None, f"expected a JSON array of reserve objects, found {type(data).__name__}")
    if not data:
        raise InputError(fname, None, "no snapshots (empty array)")
    first = data[0]
    if not isinstance(first, dict):
        raise InputError(fname, "record 0", f"expected an object, found {type(first).__name__}")
    tokens = [k for k in first if k != "timestamp"]
    if len(tokens) != 2:
        raise InputError(fname, "record 0", f"expected exactly two token reserves, found {tokens}")
    if quote is None:
        if asset is not None:
            quote = next((t for t in tokens if t != asset), None)
        else:
            st = [t for t in tokens if t.upper() in STABLE_SYMBOLS]
            if len(st) != 1:
                raise InputError(fname, "record 0", f"cannot tell the quote token among {tokens}; pass quote=")
            quote = st[0]
    if asset is None:
        asset = next((t for t in tokens if t != quote), None)
    for name, tok in (("asset", asset), ("quote", quote)):
        if tok not in tokens:
            raise InputError(fname, "record 0", f"{name} token {tok!r} not in the file (tokens: {tokens})")
    if asset == quote:
        raise InputError(fname, None, "asset and quote must differ")
    n = len(data)
    x = np.empty(n)
    y = np.empty(n)
    t = np.full(n, math.nan)
    has_t = []
    for i, r in enumerate(data):
        w = f"record {i}"
        if not isinstance(r, dict):
            raise InputError(fname, w, f"expected an object, found {type(r).__name__}")
        keys = sorted(k for k in r if k != "timestamp")
        if keys != sorted(tokens):
            raise InputError(fname, w, f"tokens {keys} differ from the first record's {sorted(tokens)}")
        x[i] = parse_float(fname, f"{w}, field '{asset}'", r[asset], positive=True)
        y[i] = parse_float(fname, f"{w}, field '{quote}'", r[quote], positive=True)
        if "timestamp" in r:
            t[i] = parse_time(fname, f"{w}, field 'timestamp'", r["timestamp"])
            has_t.append(i)
    if has_t:
        if len(has_t) != n:
            i = next(j for j in range(n) if j not in set(has_t))
            raise InputError(fname, f"record {i}", "missing field 'timestamp' (other records have one)")
        check_increasing(fname, t, lambda i: f"record {i}, field 'timestamp'")
    elif start_s is not None:
        if not (dt_seconds > 0):
            raise ValueError("dt_seconds must be > 0")
        t = float(start_s) + float(dt_seconds) * np.arange(n)
    return Reserves(str(asset), str(quote), x, y, t, fname)

"""Tick snapshots of a concentrated-liquidity pool: the CSV loader, a synthetic snapshot built
from a range distribution, and the kernel arrays built from either.

A *snapshot* is a list of ranges ``(tick_lower, tick_upper, liquidity)`` — the pool's positions,
aggregated or not. The kernel needs the initialized ticks with their ``liquidityNet`` (``+L`` at
a range's lower tick, ``−L`` at its upper tick, as ``Tick.update`` books a mint; v3-core
``contracts/libraries/Tick.sol``) and the active liquidity at the current price (the ranges with
``tick_lower <= tick < tick_upper``).

Units. On-chain values are raw: prices in token1-wei per token0-wei and ``L`` in
``√(wei0 · wei1)``. With the tokens' decimals ``d0, d1`` the human price is
``P = 1.0001^tick · 10^(d0 − d1)`` and the human liquidity is ``L_raw / 10^((d0 + d1) / 2)``;
``Δx = L (1/√a − 1/√b)`` and ``Δy = L (√b − √a)`` then come out in whole tokens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...errors import InputError
from ...textfiles import headed_rows
from . import kernel as K

__all__ = ["Snapshot", "load_tick_csv", "synthetic_ranges", "build_state", "range_value"]

HEADER = ["tick_lower", "tick_upper", "liquidity"]


@dataclass(frozen=True)
class Snapshot:
    """Ranges of a pool: ``tick_lower``, ``tick_upper`` (int64) and ``liquidity`` (float64,
    raw units) per row."""

    tick_lower: np.ndarray
    tick_upper: np.ndarray
    liquidity: np.ndarray

    def __len__(self) -> int:
        return int(self.liquidity.shape[0])


def _int_cell(fname: str, where: str, txt: str) -> int:
    try:
        v = int(txt)
    except ValueError:
        try:
            f = float(txt)
        except ValueError:
            raise InputError(fname, where, f"{txt!r} is not an integer") from None
        if not math.isfinite(f) or f != int(f):
            raise InputError(fname, where, f"{txt!r} is not an integer") from None
        v = int(f)
    if not K.MIN_TICK <= v <= K.MAX_TICK:
        raise InputError(fname, where, f"tick {v} outside [{K.MIN_TICK}, {K.MAX_TICK}] (TickMath MIN_TICK/MAX_TICK)")
    return v


def load_tick_csv(path, *, tick_spacing: int | None = None) -> Snapshot:
    """Read a ``tick_lower,tick_upper,liquidity`` CSV (header required; blank lines skipped).

    Every row needs integer ticks in ``[MIN_TICK, MAX_TICK]`` with ``tick_lower < tick_upper``
    (multiples of ``tick_spacing`` when it is given) and a finite liquidity ``> 0`` (raw
    units; integers or decimals). Any violation raises :class:`InputError` naming the file, the
    line and the field; nothing is dropped silently.
    """
    lo: list[int] = []
    hi: list[int] = []
    liq: list[float] = []
    for fname, line, cells in headed_rows(path, HEADER):
        a = _int_cell(fname, f"{line}: tick_lower", cells[0])
        b = _int_cell(fname, f"{line}: tick_upper", cells[1])
        if a >= b:
            raise InputError(fname, f"{line}: tick_upper", f"must be > tick_lower ({a}), got {b}")
        if tick_spacing:
            for name, t in (("tick_lower", a), ("tick_upper", b)):
                if t % tick_spacing:
                    raise InputError(fname, f"{line}: {name}", f"{t} is not a multiple of tick_spacing {tick_spacing}")
        try:
            v = float(cells[2])
        except ValueError:
            raise InputError(fname, f"{line}: liquidity", f"{cells[2]!r} is not a number") from None
        if not math.isfinite(v) or v <= 0:
            raise InputError(fname, f"{line}: liquidity", f"must be a finite number > 0, got {cells[2]!r}")
        lo.append(a)
        hi.append(b)
        liq.append(v)
    return Snapshot(np.asarray(lo, np.int64), np.asarray(hi, np.int64), np.asarray(liq, np.float64))


def range_value(sqrt_p: float, sa: float, sb: float) -> tuple[float, float]:
    """Token amounts ``(amount0, amount1)`` held by one unit of liquidity on ``[√a, √b]`` at
    ``√P`` (all in the same units)."""
    if sqrt_p <= sa:
        return (sb - sa) / (sa * sb), 0.0
    if sqrt_p >= sb:
        return 0.0, sb - sa
    return (sb - sqrt_p) / (sqrt_p * sb), sqrt_p - sa


def synthetic_ranges(price: float, tvl: float, *, tick_spacing: int = 60, sigma: float = 0.1,
                     cut: float = 3.0, full_range_share: float = 0.0, decimals0: int = 0,
                     decimals1: int = 0) -> Snapshot:
    """A snapshot built from a range distribution (documented in README.md).

    The liquidity is a normal density in log price around ``price`` (human units, token1 per
    token0): the buckets of ``tick_spacing`` ticks within ``cut · sigma`` of ``log(price)`` each
    hold one range whose liquidity is proportional to ``exp(−z² / 2)`` at the bucket's centre
    (``z`` its distance from ``log(price)`` in units of ``sigma``). A share ``full_range_share``
    of the value sits in one full-range position (the widest range the spacing allows). The
    liquidities are scaled so that everything is worth ``tvl`` (in token1) at ``price``.
    Liquidity is returned in raw units (``decimals0``/``decimals1`` as the pool's tokens).
    """
    if not (price > 0 and math.isfinite(price)):
        raise InputError(None, "synthetic.price", f"must be a finite number > 0, got {price!r}")
    if not (tvl > 0 and math.isfinite(tvl)):
        raise InputError(None, "synthetic.tvl", f"must be a finite number > 0, got {tvl!r}")
    if not (sigma > 0 and math.isfinite(sigma)):
        raise InputError(None, "synthetic.sigma", f"must be a finite number > 0, got {sigma!r}")
    if not 0 <= full_range_share <= 1:
        raise InputError(None, "synthetic.full_range_share", f"must be in [0, 1], got {full_range_share!r}")
    if tick_spacing < 1:
        raise InputError(None, "synthetic.tick_spacing", f"must be >= 1, got {tick_spacing!r}")
    scale = 10.0 ** ((decimals0 - decimals1) / 2.0)  # human √P = raw √P · scale
    raw_price = price / scale**2
    log_tick = K.LOG_TICK
    t0 = math.log(raw_price) / log_tick
    half = cut * sigma / log_tick
    first = int(math.floor((t0 - half) / tick_spacing)) * tick_spacing
    last = int(math.ceil((t0 + half) / tick_spacing)) * tick_spacing
    min_t = -(K.MAX_TICK // tick_spacing) * tick_spacing
    max_t = (K.MAX_TICK // tick_spacing) * tick_spacing
    first, last = max(first, min_t), min(last, max_t)
    lo = np.arange(first, last, tick_spacing, dtype=np.int64)
    hi = lo + tick_spacing
    centre = (lo + hi) / 2.0
    z = (centre - t0) * log_tick / sigma
    w = np.exp(-0.5 * z * z)
    sp = math.sqrt(price)  # human

    def value_per_l(a, b):
        sa, sb = math.exp(0.5 * a * log_tick) * scale, math.exp(0.5 * b * log_tick) * scale
        x, y = range_value(sp, sa, sb)
        return x * price + y  # token1 per unit of human liquidity

    conc_value = sum(wk * value_per_l(a, b) for wk, a, b in zip(w, lo, hi))
    lows, highs, liqs = list(lo), list(hi), []
    conc_tvl = tvl * (1.0 - full_range_share)
    k = conc_tvl / conc_value if conc_value > 0 else 0.0
    liqs = list(w * k)
    if full_range_share > 0:
        lows.append(min_t)
        highs.append(max_t)
        liqs.append(tvl * full_range_share / value_per_l(min_t, max_t))
    human_to_raw = 10.0 ** ((decimals0 + decimals1) / 2.0)
    keep = [i for i, v in enumerate(liqs) if v > 0]
    return Snapshot(np.asarray([lows[i] for i in keep], np.int64), np.asarray([highs[i] for i in keep], np.int64),
                    np.asarray([liqs[i] * human_to_raw for i in keep], np.float64))


def build_state(snap: Snapshot, price: float, fee: float, *, asset_is_token0: bool = True,
                decimals0: int = 0, decimals1: int = 0):
    """Kernel arrays ``(cs, tk_sqrt, tk_net, tk_tick)`` for a snapshot at ``price`` (human,
    token1 per token0).

    ``liquidityNet`` is aggregated per tick (``+L`` at lower, ``−L`` at upper); ticks whose net
    sums to zero are not initialized, as in the contract. The active liquidity is the sum over
    ranges with ``tick_lower <= tick < tick_upper`` at the tick of ``price``.
    """
    if not (price > 0 and math.isfinite(price)):
        raise InputError(None, "price", f"must be a finite number > 0, got {price!r}")
    scale = 10.0 ** ((decimals0 - decimals1) / 2.0)
    l_scale = 10.0 ** (-(decimals0 + decimals1) / 2.0)
    ticks = np.concatenate([snap.tick_lower, snap.tick_upper])
    nets = np.concatenate([snap.liquidity, -snap.liquidity]) * l_scale
    order = np.argsort(ticks, kind="stable")
    ticks, nets = ticks[order], nets[order]
    uniq, start = np.unique(ticks, return_index=True)
    net = np.add.reduceat(nets, start) if len(ticks) else np.zeros(0)
    tot = np.abs(nets).max() if len(nets) else 0.0
    keep = np.abs(net) > 1e-12 * tot
    uniq, net = uniq[keep], net[keep]
    sp = math.sqrt(price)
    raw_sp = sp / scale
    tick_now = K.tick_at_sqrt(raw_sp)
    tk_sqrt = np.exp(0.5 * uniq.astype(np.float64) * K.LOG_TICK) * scale
    below = int(np.searchsorted(uniq, tick_now, side="right"))
    active = (snap.tick_lower <= tick_now) & (tick_now < snap.tick_upper)
    liq = float(snap.liquidity[active].sum()) * l_scale
    cs = np.zeros(K.NCS)
    cs[K.CS_SQRT] = sp
    cs[K.CS_L] = liq
    cs[K.CS_BELOW] = below
    cs[K.CS_FEE] = fee
    cs[K.CS_ASSET0] = 1.0 if asset_is_token0 else 0.0
    return cs, tk_sqrt, net.astype(np.float64), uniq

"""Oracle models: names, kind codes and parameter vectors for :mod:`liqcascade.oracles.dispatch`.

An oracle is the price a protocol *acts on*; its lag behind the market is one of the main
drivers of a liquidation cascade (positions stay open on a stale high price, then liquidate in
a burst when the feed catches up). The kernels implement the rules; this module turns readable
settings in **seconds** into the kernel's parameter vector in **steps**.

Kinds (rules and simplifications are documented in :mod:`liqcascade.oracles.dispatch`; section
numbers refer to ``shared/reference/protocol-mechanics.md``):

``"spot"``
    Source price with a fixed lag.
``"heartbeat"``
    Chainlink push feed: update on a ``deviation`` move or after ``heartbeat`` (§7.1; Aave reads
    it without a staleness check, §1.9). Defaults are the ETH/USD mainnet values, 0.5 % / 1 h.
``"twap"``
    Time-weighted average over ``window`` (Uniswap v3 style, §7.2; arithmetic here, geometric
    on-chain). Default window 30 min (typical 10–30 min).
``"median"``
    Median of several feeds (Maker median, §3.7; §7.3).
``"osm"``
    Maker OSM: the price acted on is the value read one poke earlier, 1–2 ``hop`` old (§3.7,
    §7.4). Default hop 1 h.
``"ema"``
    Exponential moving average with a half-life (a generic smoothed mark/index price, §6.5).

Every kind also takes ``max_jump`` (fraction, 0 = off): a candidate price further than this
from the last published price is rejected and the old price kept, like Liquity's 50 % rule
(§4.7; ``max_jump=0.5`` reproduces its threshold).
"""

from __future__ import annotations

import math

import numpy as np

from liqcascade.oracles import KINDS
from liqcascade.oracles.kernel import (
    NPARAM,
    P_DEVIATION,
    P_FUND,
    P_FUND_G,
    P_HALFLIFE,
    P_HEARTBEAT,
    P_HOP,
    P_LAG,
    P_MAXJUMP,
    P_WINDOW,
)
from liqcascade.timebase import whole_steps

#: kind name -> kernel code (its position in the registry :data:`liqcascade.oracles.KINDS`)
ORACLE_KINDS: dict[str, int] = {k: i for i, k in enumerate(KINDS)}

#: Defaults in seconds / fractions. Chainlink ETH/USD mainnet: deviation 0.5 %, heartbeat 1 h
#: (§7.1); Maker OSM hop 1 h (§3.7); TWAP window 30 min (top of the typical 10–30 min, §7.2);
#: EMA half-life 10 min (a modelling choice, not a protocol value); max_jump off.
ORACLE_DEFAULTS: dict[str, float] = {
    "lag_s": 0.0,
    "heartbeat_s": 3600.0,
    "deviation": 0.005,
    "window_s": 1800.0,
    "hop_s": 3600.0,
    "halflife_s": 600.0,
    "max_jump": 0.0,
    "fundamental": 0.0,
    "fundamental_growth_per_s": 0.0,
}


def oracle_kind(kind: str | int) -> int:
    """The kernel code of an oracle kind name (``"heartbeat"`` → 1); codes pass through."""
    if isinstance(kind, (int, np.integer)) and not isinstance(kind, bool):
        if int(kind) in ORACLE_KINDS.values():
            return int(kind)
        raise ValueError(f"unknown oracle kind code {kind!r}")
    key = str(kind).strip().lower()
    if key not in ORACLE_KINDS:
        raise ValueError(f"unknown oracle kind {kind!r}; expected one of {sorted(ORACLE_KINDS)}")
    return ORACLE_KINDS[key]


def _steps(seconds: float, dt: float, name: str, minimum: int) -> int:
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{name} must be a finite number of seconds >= 0, got {seconds!r}")
    return whole_steps(seconds, dt, minimum)


def _fraction(x: float, name: str) -> float:
    if not math.isfinite(x) or not 0.0 <= x < 1.0:
        raise ValueError(f"{name} must be a fraction in [0, 1), got {x!r}")
    return float(x)


def oracle_params(kind: str | int, *, dt_seconds: float, **kw: float) -> np.ndarray:
    """Build the float64[NPARAM] parameter vector of one oracle.

    ``dt_seconds`` (required) is the length of a simulation step. Optional settings, in seconds
    or fractions, with the defaults of :data:`ORACLE_DEFAULTS`:

    * ``lag_s`` — read delay applied to the source by every kind (rounded to whole steps).
    * ``heartbeat_s``, ``deviation`` — Chainlink update rule (§7.1); heartbeat 3600 s, 0.5 %.
    * ``window_s`` — TWAP window (§7.2); at least one step.
    * ``hop_s`` — OSM hop (§3.7); 3600 s; at least one step.
    * ``halflife_s`` — EMA half-life; kept as fractional steps (0 = no smoothing).
    * ``max_jump`` — deviation guard as a fraction, 0 = off (Liquity's rule is 0.5, §4.7).
    * ``fundamental``, ``fundamental_growth_per_s`` — a pegged asset's fundamental value at
      step 0 and its continuous growth per second (the ``fundamental`` kind; kept per step).

    Every setting is stored for every kind (unused ones are ignored by the kernel), so a vector
    can be inspected or changed later. Seconds are rounded to the nearest step; a heartbeat
    shorter than half a step becomes 0 steps (publish every step). Raises ``ValueError`` for an
    unknown kind, an unknown setting or an out-of-range value (the scenario layer turns these
    into ``InputError`` with the file and field).

    Simplified: time is discrete, so a rule expressed in seconds acts at step granularity.
    """
    oracle_kind(kind)  # validates the name
    if not math.isfinite(dt_seconds) or dt_seconds <= 0:
        raise ValueError(f"dt_seconds must be > 0, got {dt_seconds!r}")
    unknown = set(kw) - set(ORACLE_DEFAULTS)
    if unknown:
        raise ValueError(
            f"unknown oracle setting(s) {sorted(unknown)}; expected {sorted(ORACLE_DEFAULTS)}"
        )
    s = {**ORACLE_DEFAULTS, **{k: float(v) for k, v in kw.items()}}
    p = np.zeros(NPARAM, dtype=np.float64)
    p[P_LAG] = _steps(s["lag_s"], dt_seconds, "lag_s", 0)
    p[P_HEARTBEAT] = _steps(s["heartbeat_s"], dt_seconds, "heartbeat_s", 0)
    p[P_DEVIATION] = _fraction(s["deviation"], "deviation")
    p[P_WINDOW] = _steps(s["window_s"], dt_seconds, "window_s", 1)
    p[P_HOP] = _steps(s["hop_s"], dt_seconds, "hop_s", 1)
    if not math.isfinite(s["halflife_s"]) or s["halflife_s"] < 0:
        raise ValueError(f"halflife_s must be >= 0, got {s['halflife_s']!r}")
    p[P_HALFLIFE] = s["halflife_s"] / dt_seconds
    p[P_MAXJUMP] = _fraction(s["max_jump"], "max_jump")
    if not math.isfinite(s["fundamental"]) or s["fundamental"] < 0:
        raise ValueError(f"fundamental must be >= 0, got {s['fundamental']!r}")
    if not math.isfinite(s["fundamental_growth_per_s"]):
        raise ValueError("fundamental_growth_per_s must be finite")
    p[P_FUND] = s["fundamental"]
    p[P_FUND_G] = s["fundamental_growth_per_s"] * dt_seconds
    return p


__all__ = ["ORACLE_DEFAULTS", "ORACLE_KINDS", "oracle_kind", "oracle_params"]

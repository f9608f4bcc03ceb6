"""A fixed borrow rate compounded per second: Maker's stability fee (``jug.drip``), float64.

makerdao/dss@fa4f663 ``src/jug.sol``: each collateral type has a per-second rate ``duty``
(and the system adds ``base``); ``drip`` multiplies the ilk's rate accumulator by
``(base + duty)^(now − rho)`` with ``rpow`` (exponentiation by squaring in ray fixed point, L62-84)
and books the difference as stability fees to the vow (``drip`` L122-128)::

    rate' = rpow(base + duty, now − rho) · rate          (a vault's debt is art · rate)

Here ``duty``/``base`` are per-second rates *minus one* (``duty − 1e27`` in ray terms) and the
power is ``exp(Δt · log1p(r))``, which is exact to float64 rounding for any ``Δt``; ``rpow`` rounds
half up at every squaring (the conformance test reproduces it in integers). Governance sets the
per-second rate from an annual fee ``f`` as ``e^(ln(1 + f) / 31,536,000)`` (the rate table of
makerdao/spells-mainnet@b8add8a ``scripts/rates.sh``): :func:`per_second_rate`.

Parameters ``par`` float64[NFP]: ``FP_RATE`` (per-second rate minus one, e.g. 6.279e-10 for 2 %),
``FP_BASE`` (the global ``base``, usually 0). State ``st`` float64[NFS]: ``FS_RATE`` (the
accumulator, 1 at the start), ``FS_FEES`` (fees booked, in debt units per unit of normalised
debt: ``Σ Δrate``).
"""

from __future__ import annotations

import math

from ...kernels._jit import njit

SECONDS_PER_YEAR = 31_536_000.0

FP_RATE = 0
FP_BASE = 1
NFP = 2

FS_RATE = 0
FS_FEES = 1
NFS = 2


@njit
def per_second_rate(annual):
    """Per-second rate minus one for an annual fee ``annual`` (``e^(ln(1+f)/year) − 1``)."""
    return math.expm1(math.log1p(annual) / SECONDS_PER_YEAR)


@njit
def growth(r, dt):
    """``(1 + r)^dt`` for a per-second rate ``r`` (``rpow`` in float64)."""
    if dt <= 0.0:
        return 1.0
    return math.exp(dt * math.log1p(r))


@njit
def fixed_drip(st, par, dt):
    """``jug.drip`` over ``dt`` seconds: the accumulator grows by ``(1 + base + duty)^dt``.
    Returns the growth factor (what every vault's debt was multiplied by)."""
    g = growth(par[FP_RATE] + par[FP_BASE], dt)
    old = st[FS_RATE]
    st[FS_RATE] = old * g
    st[FS_FEES] += st[FS_RATE] - old
    return g


@njit
def annual_rate(r):
    """The annual fee a per-second rate ``r`` compounds to: ``(1 + r)^year − 1``."""
    return math.expm1(SECONDS_PER_YEAR * math.log1p(r))

"""The range of amounts and prices the engine's float64 arithmetic carries; validation refuses
anything outside it (a leaf module: no imports from the package).

Why these bounds
----------------
float64 holds magnitudes from about 2.2e-308 to 1.8e308 with 16 significant digits. The engine
multiplies an amount by a price (a value), divides values by prices (a seizure), divides debt
by collateral (a liquidation key), squares reserves (a pool's invariant ``x · y``, crvUSD's
``p_o · A² · y0²``) and sums all of these over up to 10⁹ positions and 10⁷ steps. With

* amounts (collateral, debt, reserves, depth, capital) ``0`` or in ``[1e-18, 1e18]`` units —
  one wei of an 18-decimal token up to more than any token's total supply;
* prices (asset prices, venue floors) in ``[1e-12, 1e12]`` quote units per unit,

the largest intermediate is of order ``1e18 · 1e12 · 1e9 = 1e39`` for a sum of values and
``(1e18 · 1e12)² · 1e4 ≈ 1e64`` for the squared invariants, and a value divided by the lowest
floor (``1e-9 ×`` a price of ``1e-12``) stays under ``1e60``: more than 240 orders of magnitude
below overflow. The smallest ratios stay far above the subnormal range, so no quotient or
product underflows to 0 either. Quote notionals (depth, capital, fees in quote) are amounts
times a price, so they get ``[1e-18, 1e30]``.

Volatility inputs are bounded so that a path's one-step log return stays far inside
``exp``'s range: annualised ``sigma ≤ 100`` (10,000 % a year) and ``|mu| ≤ 10,000``; whatever a
long horizon still does to a path, the engine clamps the reference price to ``[1e-9, 1e9] ×``
the initial price (:data:`PATH_REL_MIN`, :data:`PATH_REL_MAX`) and says so in the run's notes.
"""

from __future__ import annotations

import math

AMOUNT_MIN = 1e-18  # smallest positive amount (asset units); 0 is allowed
AMOUNT_MAX = 1e18  # largest amount (asset units)
QUOTE_MAX = 1e30  # largest quote notional (depth, capital)
PRICE_MIN = 1e-12  # quote per unit
PRICE_MAX = 1e12
FLOOR_REL_DEFAULT = 1e-9  # a venue's default floor price, relative to its initial price
FLOOR_REL_MIN = 1e-12  # the lowest floor a scenario may set, relative to the initial price
PATH_REL_MIN = 1e-9  # reference paths are clamped to [PATH_REL_MIN, PATH_REL_MAX] × p0
PATH_REL_MAX = 1e9
SIGMA_MAX = 100.0  # annualised volatility
MU_MAX = 10_000.0  # |annualised drift| (a minutes-long squeeze needs thousands)
LOG_RETURN_MAX = 50.0  # |per-interval log return| parameters (GARCH omega, jump sizes)


def amount_problem(x: float) -> str | None:
    """Why ``x`` is not an amount the engine carries, or None."""
    if not math.isfinite(x) or x < 0.0:
        return f"must be a finite number >= 0, got {x!r}"
    if x > AMOUNT_MAX:
        return f"{x:g} is above {AMOUNT_MAX:g}, the largest amount the engine's float64 arithmetic carries"
    if 0.0 < x < AMOUNT_MIN:
        return f"{x:g} is below {AMOUNT_MIN:g} (one wei of an 18-decimal token); write 0 for nothing"
    return None


def price_problem(x: float) -> str | None:
    """Why ``x`` is not a price the engine carries, or None."""
    if not math.isfinite(x) or x <= 0.0:
        return f"must be a finite number > 0, got {x!r}"
    if not PRICE_MIN <= x <= PRICE_MAX:
        return f"{x:g} is outside [{PRICE_MIN:g}, {PRICE_MAX:g}], the prices the engine's float64 arithmetic carries"
    return None


def first_bad_amount(arr) -> tuple[int, str] | None:
    """``(index, reason)`` of the first entry of a float array outside the amount bounds."""
    import numpy as np

    a = np.asarray(arr, dtype=np.float64)
    bad = ~np.isfinite(a) | (a < 0.0) | (a > AMOUNT_MAX) | ((a > 0.0) & (a < AMOUNT_MIN))
    idx = np.flatnonzero(bad)
    if idx.size == 0:
        return None
    i = int(idx[0])
    return i, amount_problem(float(a[i]))


def magnitude_problem(v) -> str | None:
    """Why a validated scenario value holds a finite number too large for the engine (any
    ``|x| > QUOTE_MAX``; lists, tuples and tables are searched), or None. Infinity is left to
    each field's own rule (some fields mean "unlimited" by it)."""
    if isinstance(v, float):  # integers are counts and seeds, bounded by their own fields
        if math.isfinite(v) and abs(v) > QUOTE_MAX:
            return f"{v:g} is beyond {QUOTE_MAX:g}, the largest number the engine's float64 arithmetic carries"
        return None
    if isinstance(v, (list, tuple)):
        for x in v:
            bad = magnitude_problem(x)
            if bad:
                return bad
    elif isinstance(v, dict):
        for x in v.values():
            bad = magnitude_problem(x)
            if bad:
                return bad
    return None


def check_magnitude(v):
    """A pydantic ``field_validator("*", mode="after")`` body: raise on :func:`magnitude_problem`."""
    bad = magnitude_problem(v)
    if bad:
        raise ValueError(bad)
    return v

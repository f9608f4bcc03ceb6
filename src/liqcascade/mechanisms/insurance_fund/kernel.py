"""Insurance fund — compiled functions the time loop calls (``kernels.stages``).

* **insurance_fund** — ``fee_share`` of each protocol fee (at the oracle price) feeds the fund; bad
  debt is drawn from it, the rest is socialized to lenders (:func:`fund_absorb`).

Twin: ``twin.py`` next to this file; layout of the pack and the mask: :mod:`liqcascade.mechanisms.kernel`.
"""

from __future__ import annotations

from ...kernels._jit import njit


@njit
def fund_absorb(fund, bad_value):
    """Draw ``bad_value`` from the fund. Returns ``(fund left, drawn, socialized)``."""
    if bad_value <= 0.0:
        return fund, 0.0, 0.0
    d = bad_value if bad_value < fund else fund
    if d < 0.0:
        d = 0.0
    return fund - d, d, bad_value - d

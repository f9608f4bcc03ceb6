"""Dutch auction — compiled functions the time loop calls (``kernels.stages``).

* **dutch_auction** — the bonus of a position is ``start + (max − start) · min(1, age / steps)``
  where ``age`` is the number of steps since the position was first seen liquidatable
  (:func:`dutch_bonus`); mechanical liquidators take it at the current bonus, rational ones
  only when profitable. *Simplification*: ``first seen`` is not reset when a position turns
  healthy again.

Twin: ``twin.py`` next to this file; layout of the pack and the mask: :mod:`liqcascade.mechanisms.kernel`.
"""

from __future__ import annotations

from ...kernels._jit import njit


@njit
def dutch_bonus(start, max_bonus, steps_to_max, age):
    """Linear rise from ``start`` to ``max_bonus`` over ``steps_to_max`` steps of ``age``."""
    if age <= 0:
        return start
    if steps_to_max <= 0 or age >= steps_to_max:
        return max_bonus
    return start + (max_bonus - start) * age / steps_to_max

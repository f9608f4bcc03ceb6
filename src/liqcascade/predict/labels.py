"""What counts as a cascade: the label the early-warning models learn, and its onset.

**Simulation label.** A step ``t`` is *positive* when, within the next ``H`` (``horizon_s``):

1. the collateral liquidated (valued at the protocol's price) adds up to at least ``q``
   (``liq_share``) of the book's collateral value at ``t``; **and**
2. the venue falls at least ``x`` (``endo_drop``) below the exogenous reference path — the
   *endogenous* part of the fall, i.e. the amplification the forced sales add::

       endo_t = max_{t<s≤t+H} [ 1 − (S_s / R_s) / (S_t / R_t) ]

   with ``S`` the mean venue spot and ``R`` the reference price the engine moves the venues by.

Defaults: ``H`` = 30 minutes, ``q`` = 2 % and ``x`` = 2 % — fixed before any model was fitted:
2 % of a book's collateral liquidated inside half an hour is a large event for a lending market,
and a 2 % venue dislocation from the reference is an order of magnitude above the 0.3 %
arbitrage threshold of the scenarios. A step without a full window ahead has no label (``NaN``).

**Onset** (for lead times). On a path, let ``t0`` be the first positive step. The cascade's
*onset* is the first step ``s > t0`` at which the value liquidated since ``t0`` reaches
``q`` of the collateral value at ``t0`` — the moment the cascade has visibly happened. An
alarm raised at ``t_a < onset`` has lead time ``onset − t_a``.

**Real-data label** (:func:`exceedance_labels`): liquidated volume in the next ``H`` above a
threshold — a percentile fixed on the training period only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LabelSpec", "forward_sum", "forward_endo_drop", "cascade_labels", "onset_step", "exceedance_labels"]


@dataclass(frozen=True)
class LabelSpec:
    horizon_s: float = 1800.0
    liq_share: float = 0.02
    endo_drop: float = 0.02

    def steps(self, dt_seconds: float) -> int:
        return max(1, int(round(self.horizon_s / dt_seconds)))

    def as_dict(self) -> dict:
        return {"horizon_s": self.horizon_s, "liq_share": self.liq_share, "endo_drop": self.endo_drop}

    def check(self) -> None:
        from ..errors import InputError

        if not self.horizon_s > 0:
            raise InputError(None, "label.horizon_s", "must be > 0")
        if not 0 < self.liq_share < 1:
            raise InputError(None, "label.liq_share", "must be a fraction in (0, 1)")
        if not 0 <= self.endo_drop < 1:
            raise InputError(None, "label.endo_drop", "must be a fraction in [0, 1)")


def forward_sum(x, H: int) -> np.ndarray:
    """``F_t = Σ_{s=t+1}^{t+H} x_s``; ``NaN`` where fewer than ``H`` values lie ahead."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    cs = np.concatenate([[0.0], np.cumsum(np.nan_to_num(x))])
    out = np.full(n, np.nan)
    if n > H:
        t = np.arange(n - H)
        out[: n - H] = cs[t + H + 1] - cs[t + 1]
    return out


def forward_endo_drop(spot, ref, H: int) -> np.ndarray:
    """``endo_t = max_{t<s≤t+H} [1 − g_s / g_t]`` with ``g = spot / ref`` (``NaN`` near the end)."""
    g = np.asarray(spot, dtype=np.float64) / np.asarray(ref, dtype=np.float64)
    n = g.size
    out = np.full(n, np.nan)
    if n > H:
        from numpy.lib.stride_tricks import sliding_window_view

        fmin = sliding_window_view(g[1:], H).min(axis=1)  # min over s = t+1 … t+H, for t = 0 … n-H-1
        out[: n - H] = 1.0 - fmin[: n - H] / g[: n - H]
    return out


def cascade_labels(liq_value, coll_value, spot, ref, spec: LabelSpec, dt_seconds: float):
    """Per step: ``(label, liq_share_ahead, endo_drop_ahead)``; ``label`` is 1.0/0.0, ``NaN``
    without a full window. ``liq_value[t]``: collateral value liquidated in step ``t``;
    ``coll_value[t]``: the book's collateral value at the end of step ``t``."""
    H = spec.steps(dt_seconds)
    liq = forward_sum(liq_value, H)
    cv = np.asarray(coll_value, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(cv > 0, liq / cv, np.where(np.isnan(liq), np.nan, 0.0))
    endo = forward_endo_drop(spot, ref, H)
    lab = np.where(np.isnan(share) | np.isnan(endo), np.nan,
                   ((share >= spec.liq_share) & (endo >= spec.endo_drop)).astype(np.float64))
    return lab, share, endo


def onset_step(label, liq_value, coll_value, spec: LabelSpec, dt_seconds: float) -> int:
    """The cascade onset of one path (see the module docstring), or ``-1`` without a cascade."""
    lab = np.asarray(label)
    pos = np.flatnonzero(lab == 1.0)
    if pos.size == 0:
        return -1
    t0 = int(pos[0])
    H = spec.steps(dt_seconds)
    need = spec.liq_share * float(coll_value[t0])
    cum = np.cumsum(np.asarray(liq_value, dtype=np.float64)[t0 + 1: t0 + H + 1])
    hit = np.flatnonzero(cum >= need * (1 - 1e-12))
    return t0 + 1 + int(hit[0]) if hit.size else t0 + H


def exceedance_labels(volume, H: int, threshold: float) -> np.ndarray:
    """``1[Σ_{s=t+1}^{t+H} v_s > threshold]`` (``NaN`` without a full window ahead)."""
    f = forward_sum(volume, H)
    return np.where(np.isnan(f), np.nan, (f > threshold).astype(np.float64))

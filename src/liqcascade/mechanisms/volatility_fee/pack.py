"""``[mechanisms.volatility_fee]`` → its slots of the mechanism pack ``mech`` (:mod:`liqcascade.mechanisms.kernel`)."""

from __future__ import annotations

from .. import kernel as KM

#: its row of the applicability mask
MASK_ROW = KM.MK_LF

#: its line in the run's notes
NOTE = (
    'volatility fee (leverage fee): a borrow-rate add-on k·max(0, σ − σ_ref) a year (capped) '
    'accrues into the debt of single-collateral positions as a fee index (its own accrual term, '
    'not a protocol rate model); debts in events and the final book are what is owed (the scaled '
    'amounts × the index); multi-asset positions are not charged; borrowers do not react to'
    ' it'
)


def pack(x, c, s) -> None:
    """Write the configuration ``x`` into the setup ``s`` (:class:`liqcascade.mechanisms.pack.MechSetup`)."""
    s.mech[[KM.M_LF_ON, KM.M_LF_K, KM.M_LF_VREF, KM.M_LF_WIN, KM.M_LF_MAX]] = (
        1.0, x.k, x.vol_ref, c.time.of(x, "vol_window_seconds", "mechanisms.volatility_fee"), x.max_rate)

"""The result of a static cascade curve (``liqcascade curve``): one point per shock."""

from __future__ import annotations

from dataclasses import dataclass, field

from .start import empty_state

#: the most shocks one curve takes
MAX_SHOCKS = 100_000


def parse_shock_grid(spec: str, where: str):
    """The shocks of ``"start:stop:step"`` (stop included when on the grid) or ``"a,b,c"``, a
    float64 array of fractions in ``[0, 1)``; bad input is an :class:`InputError` against
    ``where`` (``--shocks``, ``shocks``)."""
    import math

    import numpy as np

    from ..errors import InputError

    try:
        if ":" in spec:
            parts = [float(x) for x in spec.split(":")]
            if len(parts) != 3:
                raise ValueError
            start, stop, step = parts
            if not step > 0 or stop < start:
                raise InputError(None, where, "need start:stop:step with step > 0 and stop >= start")
            n = int(math.floor((stop - start) / step + 1e-9)) + 1
            if n > MAX_SHOCKS:
                raise InputError(None, where, f"{n} shocks is too many (at most {MAX_SHOCKS:,})")
            vals = np.round(start + step * np.arange(n), 12)
        else:
            vals = np.array([float(x) for x in spec.split(",") if x.strip()])
    except ValueError:
        raise InputError(None, where, f"cannot parse {spec!r}; use start:stop:step or a,b,c") from None
    check_shocks(vals, where)
    return vals


def check_shocks(vals, where: str) -> None:
    """At least one shock, every one a fraction in ``[0, 1)``, at most :data:`MAX_SHOCKS`."""
    import numpy as np

    from ..errors import InputError

    if vals.size == 0 or not np.all(np.isfinite(vals)) or np.any(vals < 0) or np.any(vals >= 1):
        raise InputError(None, where, "shocks must be fractions in [0, 1)")
    if vals.size > MAX_SHOCKS:
        raise InputError(None, where, f"{vals.size} shocks is too many (at most {MAX_SHOCKS:,})")


@dataclass
class CurvePoint:
    shock: float
    final_price: float
    rounds: int
    liquidations: int
    liquidated_collateral: float
    repaid_debt: float
    bad_debt: float
    amplification: float | None
    shocked_price: float
    protocol_fees: float
    liquidator_bonus: float
    converged: bool

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class CurveResult:
    asset: str
    p0: float
    points: list[CurvePoint]
    critical_shock: float | None
    critical_jump: float
    mode: str
    notes: list[str] = field(default_factory=list)
    #: engine.start: debt without collateral before any shock, positions liquidatable at t = 0
    start: dict = field(default_factory=dict)
    #: (validated scenario, base folder) the curve came from, for :meth:`provenance`
    source: tuple | None = field(default=None, repr=False)
    #: the provenance read back from a ``curve.json`` (when there is no source)
    recorded: dict = field(default_factory=dict, repr=False)

    def provenance(self) -> dict:
        """Package and schema version, scenario hash (the curve is deterministic: its seed is
        the scenario's, recorded for completeness)."""
        if self.source is None:
            return dict(self.recorded)
        from ..provenance import of_scenario

        sc, base = self.source
        return of_scenario("curve", sc, base, seed=sc.simulation.seed, shocks=len(self.points), mode=self.mode)

    def as_dict(self) -> dict:
        st = self.start or empty_state()
        return {
            "provenance": self.provenance(),
            "asset": self.asset,
            "initial_price": self.p0,
            "mode": self.mode,
            "points": [p.as_dict() for p in self.points],
            "critical_shock": self.critical_shock,
            "critical_jump": self.critical_jump,
            "pre_existing_bad_debt": st["pre_existing_bad_debt"],
            "liquidatable_at_start": st["liquidatable_at_start"],
            "notes": self.notes,
        }

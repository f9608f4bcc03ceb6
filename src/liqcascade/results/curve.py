"""The result of a static cascade curve (``liqcascade curve``): one point per shock."""

from __future__ import annotations

from dataclasses import dataclass, field


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

    def as_dict(self) -> dict:
        return {
            "asset": self.asset,
            "initial_price": self.p0,
            "mode": self.mode,
            "points": [p.as_dict() for p in self.points],
            "critical_shock": self.critical_shock,
            "critical_jump": self.critical_jump,
            "notes": self.notes,
        }

"""crvUSD LLAMMA — the unit's configuration (pydantic) and presets.

Validated by the scenario (``[[protocols]] kind = "llamma"``, ``preset``, ``config``); the
rules and sources are in ``README.md`` in this folder, the state pack in :mod:`.pack`.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from liqcascade.protocols.llamma import kernel as K
from liqcascade.strict import Strict

__all__ = ["LlammaConfig", "PRESETS", "describe"]


MIN_A, MAX_A = 2, 10_000


MIN_FEE, MAX_FEE = 1e-12, 0.10


MAX_LOAN_DISCOUNT = 0.5
MIN_LIQUIDATION_DISCOUNT = 0.01
MAX_ADMIN_FEE = 1.0


class LlammaConfig(Strict):
    """One LLAMMA market (one collateral against crvUSD, which is the quote unit here)."""

    A: int = Field(100, ge=MIN_A, le=MAX_A, description="amplification; band width 1/A")
    base_price: float | None = Field(
        None, gt=0, allow_inf_nan=False,
        description="BASE_PRICE = p_oracle_up(0); None: the price at build time",
    )
    fee: float = Field(0.006, ge=MIN_FEE, le=MAX_FEE, description="AMM fee on the input amount")
    admin_fee: float = Field(
        0.0, ge=0.0, le=MAX_ADMIN_FEE,
        description="share of the AMM fee kept by the protocol (not in §5.5; v1 AMM admin_fee)",
    )
    loan_discount: float = Field(0.09, gt=0.0, le=MAX_LOAN_DISCOUNT, description="sets max LTV")
    liquidation_discount: float = Field(
        0.06, ge=MIN_LIQUIDATION_DISCOUNT, lt=1.0, description="used in health"
    )
    n_bands: int = Field(4, ge=K.MIN_TICKS, le=K.MAX_TICKS, description="default N per user")
    oracle_limiter: bool = Field(False, description="AMM.limit_p_o: ×1.25 cap within 120 s + decaying fee")
    dynamic_fee: bool = Field(False, description="AMM.get_dynamic_fee: ¼ of the gap outside [p_cd, p_cu]")
    arb_threshold: float = Field(
        0.0, ge=0.0, lt=1.0, description="arbitrageur's minimum relative edge (simulation choice)"
    )

    @model_validator(mode="after")
    def _limits(self):
        max_fee = min(K.MIN_TICKS / self.A, MAX_FEE)
        if self.fee > max_fee:
            raise ValueError(
                f"fee {self.fee} exceeds the Controller's MAX_FEE = min(MIN_TICKS/A, 10%) = {max_fee:g}"
            )
        if not self.loan_discount > self.liquidation_discount:
            raise ValueError("loan_discount must be greater than liquidation_discount")
        return self


PRESETS: dict[str, LlammaConfig] = {
    "crvusd_launch": LlammaConfig(A=100, fee=0.006, loan_discount=0.09, liquidation_discount=0.06),
}


def describe() -> str:
    """What the unit models, in a few lines."""
    return (
        "crvUSD LLAMMA (protocol-mechanics §5, curve-stablecoin v1): collateral spread over N bands "
        "of width 1/A; band price p_o^3/p_up^2..p_o^3/p_down^2 with the (f+x)(g+y) invariant; an "
        "arbitrageur trades the AMM against the venues each step (soft liquidation and "
        "de-liquidation); health = x_down(1 - liquidation_discount)/debt - 1 (full variant above "
        "the top band); hard liquidation when health < 0, the liquidator repays the whole debt and "
        "sells the collateral. Options: oracle limiter (x1.25 / 120 s + decaying fee), dynamic fee "
        "(1/4 of the gap). Not modelled: interest (rate_mul), partial and self liquidation, "
        "integer rounding, the 50-band distance guard."
    )


#: the model of a `kind = "llamma"` protocol's `config` table (see `liqcascade.protocols.config_class`)
CONFIG = LlammaConfig

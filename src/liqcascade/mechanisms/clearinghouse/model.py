"""Scenario model of ``[mechanisms.clearinghouse]`` (rules in ``README.md``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ...strict import Fraction, PosFloat, Strict
from ..base import Mechanism

Move = Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)]


class Backstop(Strict):
    """A shared backstop fund: buys what the impact budget leaves queued, at a discount to the
    mean venue spot, while its capital lasts; it holds what it buys."""

    capital: PosFloat = Field(description="quote the backstop can spend")
    discount: Fraction = Field(0.05, description="discount to the mean venue spot at which it buys")


class Clearinghouse(Mechanism):
    """A cross-protocol clearinghouse: each step it collects the forced sales of the protocols it
    applies to, nets a perp venue's forced buys against them, sells the rest into the shared
    venues under one impact budget (a largest price move per step and per window, from venue
    depth), gives scarce room by urgency (lowest HF first) or pro rata, queues what does not fit,
    and (optionally) lets a shared backstop fund buy at a discount."""

    applies_to: list[str] | None = Field(
        None, min_length=1, description="protocol names that clear through it, protocol units included "
                                        "(default: every protocol of the scenario)")
    max_step_move: Move = Field(0.02, description="largest fall of the mean venue spot its sales may cause in one "
                                                  "step (fraction of the spot before the step's sales)")
    max_window_move: Move = Field(0.10, description="it sells nothing that would take the mean venue spot more than "
                                                    "this fraction below its highest pre-sale spot of the window")
    window_seconds: PosFloat = Field(3600.0, description="window of max_window_move (at least one step)")
    allocation: Literal["urgency", "pro_rata"] = Field(
        "urgency", description="scarce room goes to the lowest health factor first (urgency) or in proportion to "
                               "what each protocol has queued (pro_rata)")
    netting: bool = Field(True, description="cross a participating perp venue's forced buys (short liquidations, "
                                            "backstop and fund unwinds) against the others' sales, off the venue")
    backstop: Backstop | None = Field(None, description="optional shared backstop fund ([mechanisms.clearinghouse.backstop])")
    backstop_capital: float | None = Field(None, ge=0, allow_inf_nan=False, description="shorthand for backstop.capital")
    backstop_discount: float | None = Field(None, ge=0, lt=1, allow_inf_nan=False,
                                            description="shorthand for backstop.discount")

    @model_validator(mode="after")
    def _backstop(self):
        if self.backstop_capital is None and self.backstop_discount is None:
            return self
        if self.backstop is not None:
            raise ValueError("give the backstop either as [mechanisms.clearinghouse.backstop] or as "
                             "backstop_capital/backstop_discount, not both")
        if not self.backstop_capital:
            raise ValueError("backstop_discount needs backstop_capital > 0")
        bs = Backstop(capital=self.backstop_capital,
                      **({} if self.backstop_discount is None else {"discount": self.backstop_discount}))
        object.__setattr__(self, "backstop", bs)
        object.__setattr__(self, "backstop_capital", None)
        object.__setattr__(self, "backstop_discount", None)
        return self


#: the table's model (the registry reads it)
CONFIG = Clearinghouse

#: the real system(s) behind it
REAL_SYSTEM = ("no deployed cross-protocol clearinghouse: central counterparties net and schedule members' default "
               "auctions (CCP default management), and perp venues offset liquidations against opposite positions "
               "(ADL, §6); across lending protocols and venues it is a design")

#: does it reduce the loss, or only move it (and to whom)? (docs/mechanisms.md, 'Who bears the loss')
VERDICT = ("reduces forced-sale impact (smaller per-step falls) and nets opposite flows; bad debt falls only through "
           "the smaller impact; the queue moves price risk to whoever put the units in (liquidators, units' keepers) "
           "and the backstop takes what it buys at a discount")

#: protocol units with their own built-in version
BUILT_IN = ""

"""Configuration of a StableSwap (Curve) venue, validated at the edge.

Limits are the contracts' own: ``0 < A < 10^6`` (NG ``MAX_A`` L177, ``ramp_A`` L1833),
``fee <= 0.5`` (``MAX_FEE = 5e9 / 1e10``, 3pool L86, NG L172), ``offpeg · fee <= 0.5``
(NG ``set_new_fee`` L1871), 2 to 8 coins (NG ``MAX_COINS`` L152).
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from ...strict import Strict
from . import kernel as K

PosFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class StableSwapVenue(Strict):
    """A Curve StableSwap pool in which ``asset`` is sold for ``quote``.

    ``balances`` are coin units in the order of ``coins``; ``rates`` (default 1 each) is the
    value of one coin unit in the pool's common unit (the NG pools' rate oracles: e.g. the
    wstETH/stETH exchange rate). ``amp`` is the contract's ``A()``; ``fee`` and ``admin_fee``
    are fractions (NG pools: ``admin_fee = 0.5``); ``offpeg_fee_multiplier`` is NG's multiplier
    as a plain number (``2.0`` for ``2e10``; 1 or less = constant fee, as in every legacy pool).
    """

    name: str = Field(min_length=1)
    kind: Literal["stableswap"] = "stableswap"
    asset: str = Field(min_length=1, description="the coin that forced sales sell")
    quote: str = Field(min_length=1, description="the coin they receive")
    coins: list[str] = Field(min_length=2, max_length=K.MAX_COINS)
    balances: list[PosFloat] = Field(min_length=2, max_length=K.MAX_COINS)
    rates: list[PosFloat] | None = Field(None, description="rate multipliers (default 1 each)")
    amp: Annotated[float, Field(gt=0, lt=1e6, allow_inf_nan=False)] = Field(
        description="amplification A as the contract's A() returns it")
    fee: Annotated[float, Field(ge=0, le=0.5, allow_inf_nan=False)] = 0.0004
    offpeg_fee_multiplier: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 1.0
    admin_fee: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.5

    @model_validator(mode="after")
    def _check(self):
        n = len(self.coins)
        if len(set(self.coins)) != n:
            raise ValueError("coins must be distinct")
        if len(self.balances) != n:
            raise ValueError(f"balances has {len(self.balances)} entries for {n} coins")
        if self.rates is not None and len(self.rates) != n:
            raise ValueError(f"rates has {len(self.rates)} entries for {n} coins")
        if self.asset not in self.coins:
            raise ValueError(f"asset {self.asset!r} is not one of coins {self.coins}")
        if self.quote not in self.coins:
            raise ValueError(f"quote {self.quote!r} is not one of coins {self.coins}")
        if self.asset == self.quote:
            raise ValueError("asset and quote must be different coins")
        if self.offpeg_fee_multiplier > 1.0 and self.offpeg_fee_multiplier * self.fee > 0.5:
            raise ValueError("offpeg_fee_multiplier * fee must be <= 0.5 (NG set_new_fee)")
        return self

    def pack(self):
        """``(bal, rates, par, i, j)`` for the kernels: float64 arrays and the asset's and the
        quote's coin indices."""
        bal = np.asarray(self.balances, dtype=np.float64).copy()
        rates = np.ones(len(self.coins)) if self.rates is None else np.asarray(self.rates, np.float64)
        par = np.zeros(K.NSS)
        par[K.SS_AMP] = self.amp
        par[K.SS_FEE] = self.fee
        par[K.SS_OFFPEG] = self.offpeg_fee_multiplier
        par[K.SS_ADMIN] = self.admin_fee
        return bal, rates.copy(), par, self.coins.index(self.asset), self.coins.index(self.quote)

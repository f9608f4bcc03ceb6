"""What every flash-loan source shares: the parameter layout of one source.

A source is an integer code (its position in :data:`liqcascade.flashloans.SOURCES`) and a
float64 parameter vector of length :data:`NFP`:

``FP_FEE``
    the fee as a fraction of the amount borrowed (Aave's ``FLASHLOAN_PREMIUM_TOTAL`` / 1e4,
    Balancer's flash-loan fee percentage, a Uniswap pool's fee tier / 1e6);
``FP_AVAIL_ASSET``
    what the source can lend of the asset the attacker pushes (asset units): an Aave reserve's
    unborrowed liquidity, a Balancer vault's balance, a Uniswap pool's reserve;
``FP_AVAIL_QUOTE``
    what it can lend of the debt asset the attacker repays liquidations with (quote units).

Each source's ``kernel.py`` provides ``fee(params, amount)``: the fee owed on ``amount``
(real numbers; the contracts round the fee *up* to the token's smallest unit, which this
model does not reproduce).
"""

from __future__ import annotations

from liqcascade.flashloans import SOURCES

FP_FEE = 0
FP_AVAIL_ASSET = 1
FP_AVAIL_QUOTE = 2
NFP = 3

SOURCE_AAVE = SOURCES.index("aave")
SOURCE_BALANCER = SOURCES.index("balancer")
SOURCE_UNISWAP = SOURCES.index("uniswap")

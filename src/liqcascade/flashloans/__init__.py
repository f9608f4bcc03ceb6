"""Flash-loan sources: where an atomic attacker borrows the capital it gives back in the same
transaction. One folder per source, and the registry.

A source's folder holds ``model.py`` (its pydantic configuration: fee and available liquidity),
``kernel.py`` (numba: the fee it charges on an amount), ``twin.py`` (a naive plain-Python twin)
and ``README.md`` (the contract rule with file and function). What the sources share lives
beside them: ``kernel.py`` (the parameter layout) and ``dispatch.py`` (splitting one loan over
several sources, cheapest first, each capped by its liquidity).

This module imports nothing heavy: kernels may import it.
"""

from __future__ import annotations

#: flash-loan sources; a source's code in the kernels is its position here
SOURCES: tuple[str, ...] = ("aave", "balancer", "uniswap")

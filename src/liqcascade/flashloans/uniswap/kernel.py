"""Uniswap v3 ``flash`` fee: ``amount · fee / 1e6`` (the pool's fee tier, rounded up on-chain).

v3-core ``contracts/UniswapV3Pool.sol`` L800 (``flash``): ``uint256 fee0 =
FullMath.mulDivRoundingUp(amount0, fee, 1e6)``; the pool then requires ``balance0After >=
balance0Before + fee0`` (L813). ``params[FP_FEE]`` holds ``fee / 1e6``. Rules, sources and
simplifications: ``README.md`` in this folder.
"""

from __future__ import annotations

from liqcascade.flashloans.kernel import FP_FEE
from liqcascade.kernels._jit import njit


@njit
def fee(params, amount):
    """The fee owed on ``amount`` (same unit as ``amount``)."""
    return amount * params[FP_FEE]

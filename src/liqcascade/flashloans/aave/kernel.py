"""Aave v3 flash-loan fee: ``premium = amount · FLASHLOAN_PREMIUM_TOTAL / 1e4``.

aave-v3-origin ``FlashLoanLogic.sol`` L178 (``executeFlashLoanSimple``, at ``fd1fbd9``):
``totalPremium = params.amount.percentMulCeil(params.flashLoanPremium)`` (basis points, rounded
up; v3.0–v3.3: ``percentMul(flashLoanPremiumTotal)``). Here in real numbers, the premium as a
fraction in ``params[FP_FEE]``. Rules, sources
and simplifications: ``README.md`` in this folder.
"""

from __future__ import annotations

from liqcascade.flashloans.kernel import FP_FEE
from liqcascade.kernels._jit import njit


@njit
def fee(params, amount):
    """The premium owed on ``amount`` (same unit as ``amount``)."""
    return amount * params[FP_FEE]

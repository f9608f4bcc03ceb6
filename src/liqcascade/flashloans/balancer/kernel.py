"""Balancer v2 flash-loan fee: ``amount · flashLoanFeePercentage`` (rounded up on-chain).

balancer-v2-monorepo ``pkg/vault/contracts/FlashLoans.sol`` L60: ``feeAmounts[i] =
_calculateFlashLoanFeeAmount(amount)``, which is ``FixedPoint.mulUp(amount,
getFlashLoanFeePercentage())`` (``Fees.sol`` L56–L60; ``ProtocolFeesCollector``; 0 on the
deployed Vault). Rules, sources and simplifications:
``README.md`` in this folder.
"""

from __future__ import annotations

from liqcascade.flashloans.kernel import FP_FEE
from liqcascade.kernels._jit import njit


@njit
def fee(params, amount):
    """The fee owed on ``amount`` (same unit as ``amount``)."""
    return amount * params[FP_FEE]

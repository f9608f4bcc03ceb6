"""The base class of the protocols' own reverts, raised by the protocol actions
(``lc.protocols.<family>``, each family's ``actions.py``).

Each revert is a subclass named as the protocol names it (Aave's custom error
``MustNotLeaveDust``, Maker's ``"Dog/liquidation-limit-hit"`` as ``LiquidationLimitHit``), with
the contract's own message in :attr:`ProtocolError.revert` and the values that made the call
revert as attributes (``exc.values`` holds them all)::

    try:
        lc.protocols.aave.liquidation_call(acct, "WETH", "USDC", 1e6)
    except lc.protocols.aave.HealthFactorNotBelowThreshold as exc:
        exc.health_factor        # 1.21

Reverts change nothing: the state objects are as they were before the call.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """A protocol call reverted. ``revert``: the contract's error (selector name or require
    string); ``values``: the quantities behind it (also attributes of the exception)."""

    #: the contract's revert: a custom error name or a ``require`` message
    revert: str = ""

    def __init__(self, detail: str = "", **values):
        self.detail = detail
        self.values = dict(values)
        for k, v in values.items():
            setattr(self, k, v)
        super().__init__(self.message())

    def message(self) -> str:
        head = type(self).__name__
        if self.revert and self.revert != head:
            head = f"{head} ({self.revert!r})"
        vals = ", ".join(f"{k}={_fmt(v)}" for k, v in self.values.items())
        parts = [p for p in (self.detail, vals) if p]
        return f"{head}: {'; '.join(parts)}" if parts else head


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.10g}"
    return repr(v)

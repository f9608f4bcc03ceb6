"""Morpho Blue as callable actions on one market, in the contract's own integer arithmetic:
``supply``, ``supply_collateral``, ``borrow``, ``liquidate(seized_assets | repaid_shares)``
(``lc.protocols.morpho``).

Morpho's liquidation is all rounding: shares convert to assets through *virtual* shares and
assets (``VIRTUAL_SHARES = 1e6``, ``VIRTUAL_ASSETS = 1``, so an empty market starts at 1e6
shares per unit and nobody can inflate the share price), and every conversion rounds the way
that favours the protocol. Amounts are therefore Python integers in the tokens' base units and
the price is the oracle's ``1e36``-scaled integer, exactly as in ``Morpho.sol``; the results
match the contract's to the unit. (The engine's ``incentive = "morpho"`` uses the same
liquidation incentive factor in floats, :func:`liqcascade.protocols.aave.incentives.kernel.morpho_lif`;
a conformance test checks the two.)

Sources: morpho-org/morpho-blue ``src/Morpho.sol`` (``supply``, ``borrow``,
``supplyCollateral``, ``liquidate``, ``_isHealthy``), ``src/libraries/SharesMathLib.sol``,
``MathLib.sol``, ``ConstantsLib.sol``, ``ErrorsLib.sol``; ``shared/reference/protocol-mechanics.md`` §8.5.

Not modelled: interest accrual (``_accrueInterest``; a market's totals are whatever the caller
sets), fees, callbacks, authorisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ProtocolError

__all__ = [
    "HealthyPosition", "InconsistentInput", "InsufficientCollateral", "InsufficientLiquidity", "Market",
    "MorphoError", "Position", "Underflow", "borrow", "is_healthy", "liquidate", "liquidation_incentive_factor",
    "supply", "supply_collateral", "to_assets_down", "to_assets_up", "to_shares_down", "to_shares_up",
]

WAD = 10**18
ORACLE_PRICE_SCALE = 10**36
VIRTUAL_SHARES = 10**6
VIRTUAL_ASSETS = 1
LIQUIDATION_CURSOR = 3 * 10**17  # 0.3e18
MAX_LIQUIDATION_INCENTIVE_FACTOR = 115 * 10**16  # 1.15e18


class MorphoError(ProtocolError):
    """A Morpho revert; ``revert`` is the ``ErrorsLib`` message."""


def _err(name: str, message: str) -> type:
    return type(name, (MorphoError,), {"revert": message, "__doc__": message, "__module__": __name__})


InconsistentInput = _err("InconsistentInput", "inconsistent input")
HealthyPosition = _err("HealthyPosition", "position is healthy")
InsufficientCollateral = _err("InsufficientCollateral", "insufficient collateral")
InsufficientLiquidity = _err("InsufficientLiquidity", "insufficient liquidity")
Underflow = _err("Underflow", "panic: arithmetic underflow (0x11)")


# --- MathLib / SharesMathLib ----------------------------------------------------------------------


def _mul_div_down(x: int, y: int, d: int) -> int:
    return (x * y) // d


def _mul_div_up(x: int, y: int, d: int) -> int:
    return (x * y + (d - 1)) // d


def to_shares_down(assets: int, total_assets: int, total_shares: int) -> int:
    return _mul_div_down(assets, total_shares + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS)


def to_shares_up(assets: int, total_assets: int, total_shares: int) -> int:
    return _mul_div_up(assets, total_shares + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS)


def to_assets_down(shares: int, total_assets: int, total_shares: int) -> int:
    return _mul_div_down(shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES)


def to_assets_up(shares: int, total_assets: int, total_shares: int) -> int:
    return _mul_div_up(shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES)


def liquidation_incentive_factor(lltv: int) -> int:
    """``min(MAX_LIQUIDATION_INCENTIVE_FACTOR, WAD / (WAD − CURSOR·(WAD − lltv)))`` (wad)."""
    return min(MAX_LIQUIDATION_INCENTIVE_FACTOR,
               _mul_div_down(WAD, WAD, WAD - _mul_div_down(LIQUIDATION_CURSOR, WAD - lltv, WAD)))


# --- state -------------------------------------------------------------------------------------


@dataclass
class Position:
    supply_shares: int = 0
    borrow_shares: int = 0
    collateral: int = 0


@dataclass
class Market:
    """One market: ``lltv`` (wad, ``86 * 10**16`` for 86 %), the oracle ``price`` (loan-token
    base units per collateral base unit × 1e36), the totals and the positions."""

    lltv: int
    price: int
    total_supply_assets: int = 0
    total_supply_shares: int = 0
    total_borrow_assets: int = 0
    total_borrow_shares: int = 0
    positions: dict[str, Position] = field(default_factory=dict)

    def __post_init__(self):
        for k in ("lltv", "price", "total_supply_assets", "total_supply_shares", "total_borrow_assets",
                  "total_borrow_shares"):
            v = getattr(self, k)
            if not isinstance(v, int) or v < 0:
                raise TypeError(f"{k} must be a non-negative int (base units; Morpho's integer arithmetic), got {v!r}")
        if not 0 < self.lltv < WAD:
            raise ValueError(f"lltv must be in (0, 1e18), got {self.lltv}")

    def position(self, who: str) -> Position:
        return self.positions.setdefault(who, Position())

    def borrowed(self, who: str) -> int:
        """The position's debt, rounded up (as ``_isHealthy`` reads it)."""
        return to_assets_up(self.position(who).borrow_shares, self.total_borrow_assets, self.total_borrow_shares)


def _one_zero(a: int, b: int) -> bool:
    return (a == 0) != (b == 0)


def _uint(name: str, v) -> int:
    if not isinstance(v, int) or v < 0:
        raise TypeError(f"{name} must be a non-negative int (base units), got {v!r}")
    return v


def is_healthy(m: Market, who: str, price: int | None = None) -> bool:
    """``_isHealthy``: ``collateral · price / 1e36 · lltv ≥ borrowed`` (rounded down, borrowed up)."""
    p = m.price if price is None else price
    max_borrow = _mul_div_down(_mul_div_down(m.position(who).collateral, p, ORACLE_PRICE_SCALE), m.lltv, WAD)
    return max_borrow >= m.borrowed(who)


def supply(m: Market, who: str, assets: int = 0, shares: int = 0) -> tuple[int, int]:
    """``supply``: shares rounded down from assets (or assets up from shares)."""
    assets, shares = _uint("assets", assets), _uint("shares", shares)
    if not _one_zero(assets, shares):
        raise InconsistentInput(assets=assets, shares=shares)
    if assets > 0:
        shares = to_shares_down(assets, m.total_supply_assets, m.total_supply_shares)
    else:
        assets = to_assets_up(shares, m.total_supply_assets, m.total_supply_shares)
    m.position(who).supply_shares += shares
    m.total_supply_shares += shares
    m.total_supply_assets += assets
    return assets, shares


def supply_collateral(m: Market, who: str, assets: int) -> None:
    m.position(who).collateral += _uint("assets", assets)


def borrow(m: Market, who: str, assets: int = 0, shares: int = 0) -> tuple[int, int]:
    """``borrow``: shares rounded up from assets (or assets down from shares); reverts
    ``insufficient collateral`` / ``insufficient liquidity`` with nothing changed."""
    assets, shares = _uint("assets", assets), _uint("shares", shares)
    if not _one_zero(assets, shares):
        raise InconsistentInput(assets=assets, shares=shares)
    if assets > 0:
        shares = to_shares_up(assets, m.total_borrow_assets, m.total_borrow_shares)
    else:
        assets = to_assets_down(shares, m.total_borrow_assets, m.total_borrow_shares)
    pos = m.position(who)
    saved = (pos.borrow_shares, m.total_borrow_shares, m.total_borrow_assets)
    pos.borrow_shares += shares
    m.total_borrow_shares += shares
    m.total_borrow_assets += assets
    if not is_healthy(m, who):
        pos.borrow_shares, m.total_borrow_shares, m.total_borrow_assets = saved
        raise InsufficientCollateral(borrower=who)
    if m.total_borrow_assets > m.total_supply_assets:
        pos.borrow_shares, m.total_borrow_shares, m.total_borrow_assets = saved
        raise InsufficientLiquidity(total_borrow_assets=saved[2] + assets, total_supply_assets=m.total_supply_assets)
    return assets, shares


@dataclass(frozen=True)
class Liquidation:
    """The ``Liquidate`` event: ``repaid_assets`` (may exceed the market's total borrow by 1),
    ``repaid_shares``, ``seized_assets``, and the bad debt realised when the collateral ran out."""

    seized_assets: int
    repaid_assets: int
    repaid_shares: int
    bad_debt_assets: int
    bad_debt_shares: int


def liquidate(m: Market, borrower: str, seized_assets: int = 0, repaid_shares: int = 0) -> Liquidation:
    """``Morpho.liquidate(marketParams, borrower, seizedAssets, repaidShares, data)``: exactly one
    of ``seized_assets`` / ``repaid_shares`` is given; the other follows with the liquidation
    incentive factor and the contract's rounding (repaid shares up from seized assets, seized
    assets down from repaid shares, repaid assets up). No close factor. When the collateral
    reaches 0 the remaining borrow shares are bad debt, taken from the suppliers at once."""
    seized_assets, repaid_shares = _uint("seized_assets", seized_assets), _uint("repaid_shares", repaid_shares)
    if not _one_zero(seized_assets, repaid_shares):
        raise InconsistentInput(seized_assets=seized_assets, repaid_shares=repaid_shares)
    pos = m.position(borrower)
    if is_healthy(m, borrower):
        raise HealthyPosition(borrower=borrower, borrowed=m.borrowed(borrower), collateral=pos.collateral)
    lif = liquidation_incentive_factor(m.lltv)
    ta, ts = m.total_borrow_assets, m.total_borrow_shares
    if seized_assets > 0:
        quoted = _mul_div_up(seized_assets, m.price, ORACLE_PRICE_SCALE)
        repaid_shares = to_shares_up(_mul_div_up(quoted, WAD, lif), ta, ts)
    else:
        seized_assets = _mul_div_down(_mul_div_down(to_assets_down(repaid_shares, ta, ts), lif, WAD),
                                      ORACLE_PRICE_SCALE, m.price)
    repaid_assets = to_assets_up(repaid_shares, ta, ts)
    if repaid_shares > pos.borrow_shares or repaid_shares > ts:
        raise Underflow(repaid_shares=repaid_shares, borrow_shares=pos.borrow_shares)
    if seized_assets > pos.collateral:
        raise Underflow(seized_assets=seized_assets, collateral=pos.collateral)
    pos.borrow_shares -= repaid_shares
    m.total_borrow_shares -= repaid_shares
    m.total_borrow_assets = max(m.total_borrow_assets - repaid_assets, 0)
    pos.collateral -= seized_assets
    bad_shares = bad_assets = 0
    if pos.collateral == 0:
        bad_shares = pos.borrow_shares
        bad_assets = min(m.total_borrow_assets, to_assets_up(bad_shares, m.total_borrow_assets, m.total_borrow_shares))
        m.total_borrow_assets -= bad_assets
        m.total_supply_assets -= bad_assets
        m.total_borrow_shares -= bad_shares
        pos.borrow_shares = 0
    return Liquidation(seized_assets, repaid_assets, repaid_shares, bad_assets, bad_shares)

"""crvUSD (LLAMMA) as callable actions: ``create_loan`` on a market, the user's bands and its
``health`` (``lc.protocols.llamma``, also ``lc.protocols.crvusd``).

The band placement is the one the engine's unit uses to open its loans
(:func:`.pack.build_pack`: ``Controller._calculate_debt_n1`` and ``AMM.deposit_range``) and the
health is the compiled :func:`.kernel.user_health` (``Controller._health``:
``x_down · (1 − liquidation_discount) / debt − 1``, plus ``(p_o − p_up(n1)) · y_up / debt`` in
the ``full`` variant while the oracle price is above the top band); :func:`bands` lists what each
of the user's bands holds and the stablecoin it gives when the price walks down through it
(``AMM.get_x_down`` band by band), which is what the health adds up.

Sources: curvefi/curve-stablecoin tag ``v1`` ``contracts/Controller.vy`` (``create_loan``,
``_calculate_debt_n1``, ``max_borrowable``, ``health``, ``user_prices``), ``contracts/AMM.vy``
(``deposit_range``, ``get_x_down``, ``p_oracle_up``); ``shared/reference/protocol-mechanics.md`` §5.

Not modelled here: trading (``exchange``), interest (``rate_mul``), repayment, liquidation; the
loans all sit in an AMM whose active band is the one of the market's price.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...errors import InputError
from ..errors import ProtocolError
from . import kernel as K
from . import pack as Pk
from .model import PRESETS, LlammaConfig

__all__ = [
    "Band", "DebtTooHigh", "LlammaError", "LoanAlreadyCreated", "Market", "NeedLessTicks", "NeedMoreTicks",
    "bands", "create_loan", "health", "max_borrowable", "user_prices",
]


class LlammaError(ProtocolError):
    """A Controller revert; ``revert`` is the ``assert`` message."""


def _err(name: str, message: str) -> type:
    return type(name, (LlammaError,), {"revert": message, "__doc__": message, "__module__": __name__})


LoanAlreadyCreated = _err("LoanAlreadyCreated", "Loan already created")
NeedMoreTicks = _err("NeedMoreTicks", "Need more ticks")
NeedLessTicks = _err("NeedLessTicks", "Need less ticks")
DebtTooHigh = _err("DebtTooHigh", "Debt too high")
AmountTooLow = _err("AmountTooLow", "Amount too low")
NoLoan = _err("NoLoan", "No loan")
#: the Controller holds only ``debt_ceiling`` of crvUSD (minted by ``add_market``): the transfer
#: of a loan beyond it fails without a message
NotEnoughStablecoin = _err("NotEnoughStablecoin", "")
__all__ += ["AmountTooLow", "NoLoan", "NotEnoughStablecoin"]


class Market:
    """A LLAMMA market at oracle price ``price``: ``config`` is a :class:`LlammaConfig`, a dict of
    its fields or a preset name (``"crvusd_launch"``: A = 100, loan discount 9 %, liquidation
    discount 6 %, fee 0.6 %). ``debt_ceiling``: the crvUSD the factory minted to the Controller
    (``add_market``'s last argument); loans beyond it revert."""

    def __init__(self, config="crvusd_launch", price: float = 3000.0, *, debt_ceiling: float = math.inf):
        if isinstance(config, str):
            config = PRESETS[config]
        elif isinstance(config, dict):
            config = LlammaConfig(**config)
        self.config: LlammaConfig = config
        if not (math.isfinite(price) and price > 0):
            raise ValueError(f"price must be a finite number > 0, got {price!r}")
        self.price = float(price)
        self._p0 = float(price)
        self.debt_ceiling = float(debt_ceiling)
        self._loans: dict[str, tuple[float, float, int]] = {}
        self._pack = None

    @property
    def users(self) -> list[str]:
        return list(self._loans)

    def debt(self, user: str) -> float:
        return self._loan(user)[1]

    def _loan(self, user):
        try:
            return self._loans[user]
        except KeyError:
            raise KeyError(f"no loan for {user!r}") from None

    def _build(self):
        if self._pack is None:
            us = list(self._loans.values())
            self._pack = Pk.build_pack(self.config, [c for c, _, _ in us], [d for _, d, _ in us], [n for _, _, n in us],
                                       self._p0)
        return self._pack


def max_borrowable(market: Market, collateral: float, n_bands: int) -> float:
    """``Controller.max_borrowable(collateral, N)`` on bands without stablecoin."""
    return float(Pk.max_borrowable(market.config, float(collateral), int(n_bands), market._p0))


def create_loan(market: Market, user: str, collateral: float, debt: float, n_bands: int) -> tuple[int, int]:
    """``Controller.create_loan(collateral, debt, N)``: the collateral is spread equally over
    ``N`` bands placed so that walking the price down through them repays the debt with the
    loan discount to spare. Returns the band range ``(n1, n2)``."""
    if user in market._loans:
        raise LoanAlreadyCreated(user=user)
    n = int(n_bands)
    if n < K.MIN_TICKS:
        raise NeedMoreTicks(n_bands=n, min_ticks=K.MIN_TICKS)
    if n > K.MAX_TICKS:
        raise NeedLessTicks(n_bands=n, max_ticks=K.MAX_TICKS)
    if not debt > 0:
        raise NoLoan(debt=debt)
    if not collateral > 0:
        raise AmountTooLow(collateral=collateral)
    cfg = market.config
    p_base = float(cfg.base_price) if cfg.base_price is not None else market._p0
    n0 = Pk.band_of_price(cfg, market._p0, p_base)
    try:
        n1 = Pk._calculate_n1(cfg, float(collateral), float(debt), n, market._p0, p_base, n0, user)
    except InputError as exc:
        if "too low" in exc.reason:
            raise AmountTooLow(collateral=collateral) from None
        raise DebtTooHigh(debt=float(debt), max_borrowable=max_borrowable(market, collateral, n)) from None
    total = sum(d for _, d, _ in market._loans.values())
    if total + debt > market.debt_ceiling:
        raise NotEnoughStablecoin(debt=float(debt), available=market.debt_ceiling - total)
    market._loans[user] = (float(collateral), float(debt), n)
    market._pack = None
    return n1, n1 + n - 1


def _index(market: Market, user: str) -> int:
    market._loan(user)
    return list(market._loans).index(user)


def health(market: Market, user: str, full: bool = False, price: float | None = None) -> float:
    """``Controller.health(user, full)`` at the market's oracle price (or ``price``)."""
    pack = market._build()
    p = market.price if price is None else float(price)
    return float(K.user_health(pack, _index(market, user), p, bool(full)))


def user_prices(market: Market, user: str) -> tuple[float, float]:
    """``Controller.user_prices``: ``(p_oracle_up(n1), p_oracle_down(n2))``."""
    pack = market._build()
    par = pack[0]
    u = _index(market, user)
    n1, nb = int(pack[5][u]), int(pack[6][u])
    return (float(K.p_oracle_up(par[K.P_BASE], par[K.P_A], n1)),
            float(K.p_oracle_down(par[K.P_BASE], par[K.P_A], n1 + nb - 1)))


@dataclass(frozen=True)
class Band:
    """One of a user's bands: its number, oracle price range, the user's collateral and
    stablecoin in it, and the stablecoin it gives when the price walks down through it."""

    n: int
    p_up: float
    p_down: float
    collateral: float
    stablecoin: float
    x_down: float


def bands(market: Market, user: str, price: float | None = None) -> list[Band]:
    """The user's bands, top (highest price) first, with each band's share of ``x_down``;
    ``sum(b.x_down) · (1 − liquidation_discount) / debt − 1`` is :func:`health`."""
    pack = market._build()
    par, st, bx, by, bs, u_n1, u_nb, u_sh = pack[:8]
    u = _index(market, user)
    p = market.price if price is None else float(price)
    nlo = int(par[K.P_NLO])
    out = []
    for k in range(int(u_nb[u])):
        n = int(u_n1[u]) + k
        i = n - nlo
        frac = u_sh[u, k] / bs[i] if bs[i] > 0 else 0.0
        one = np.zeros(int(u_nb[u]))
        one[k] = u_sh[u, k]
        xd = float(K.user_xy_up(par, st, bx, by, bs, int(u_n1[u]), int(u_nb[u]), one, p, False))
        out.append(Band(n, float(K.p_oracle_up(par[K.P_BASE], par[K.P_A], n)),
                        float(K.p_oracle_down(par[K.P_BASE], par[K.P_A], n)), float(by[i] * frac),
                        float(bx[i] * frac), xd))
    return out

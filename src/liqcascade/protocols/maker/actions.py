"""MakerDAO liquidations as callable actions at a given time: Liquidations 2.0 (``Dog.bark``,
``Clipper.take`` / ``redo`` / ``getStatus``) and the 2020 ``Cat.bite`` with the ``Flipper``
English auction (``kick``, ``tend``, ``dent``, ``deal``, ``tick``), the way makerdao/dss's own
tests call them (``lc.protocols.maker``).

The rules are the compiled ones of :mod:`.kernel` that the engine's Maker unit uses
(:func:`~.kernel.vault_unsafe`, :func:`~.kernel.dog_bark_size`, :func:`~.kernel.kick_coin`,
:func:`~.kernel.redo_coin`, :func:`~.kernel.clip_status`, :func:`~.kernel.clip_take_size`,
:func:`~.kernel.cat_bite_size`, :func:`~.kernel.flip_tend_ok`, :func:`~.kernel.flip_dent_ok`);
this module holds the state (a :class:`Vat` with its ilks, urns, the Dog's ``Hole``/``Dirt``,
auctions, DAI and collateral balances, the vow) and the reverts, named after the contracts'
``require`` messages (``"Clipper/needs-reset"`` → :class:`NeedsReset`).

Every call takes ``now`` (seconds): the block timestamp of the call (default: ``vat.now``).

Sources: makerdao/dss HEAD ``src/dog.sol`` (``bark``, ``digs``), ``src/clip.sol`` (``kick``,
``redo``, ``take``, ``getStatus``, ``status``, ``upchost``), ``src/abaci.sol``; ``src/cat.sol``
and ``src/flip.sol`` at ``f632302`` (the 2020 code); ``shared/reference/protocol-mechanics.md`` §3.

Simplified (also in ``README.md``): real numbers instead of wad/ray/rad (so ``take`` treats DAI
amounts within 1e-12 of each other as equal where the contract compares exact integers); ``par = 1``, so the
feed price is the OSM price and ``spot = price / mat``; no flash-loan callback in ``take``;
balances may go negative (DAI brought from outside the Vat); no ``yank``, ``End`` or vow
``heal``/``flop``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from ..errors import ProtocolError
from . import kernel as K

__all__ = [
    "Bid", "Ilk", "MakerError", "Sale", "Urn", "Vat", "bark", "bite", "deal", "dent", "flip_kick", "get_status",
    "redo", "take", "tend", "tick",
]

#: relative tolerance under which two DAI amounts of a take count as equal (see :func:`take`)
SNAP = 1e-12
CALCS = {"linear": K.CALC_LINEAR, "stairstep": K.CALC_STAIRSTEP, "exponential": K.CALC_EXPONENTIAL}


class MakerError(ProtocolError):
    """A Maker revert; ``revert`` is the contract's ``require`` message."""


def _err(name: str, message: str) -> type:
    return type(name, (MakerError,), {"revert": message, "__doc__": message, "__module__": __name__})


NotLive = _err("NotLive", "Dog/not-live")
NotUnsafe = _err("NotUnsafe", "Dog/not-unsafe")
LiquidationLimitHit = _err("LiquidationLimitHit", "Dog/liquidation-limit-hit")
DustyAuctionFromPartialLiquidation = _err("DustyAuctionFromPartialLiquidation",
                                          "Dog/dusty-auction-from-partial-liquidation")
NullAuction = _err("NullAuction", "Dog/null-auction")
StoppedIncorrectly = _err("StoppedIncorrectly", "Clipper/stopped-incorrectly")
NotRunningAuction = _err("NotRunningAuction", "Clipper/not-running-auction")
NeedsReset = _err("NeedsReset", "Clipper/needs-reset")
TooExpensive = _err("TooExpensive", "Clipper/too-expensive")
NoPartialPurchase = _err("NoPartialPurchase", "Clipper/no-partial-purchase")
CannotReset = _err("CannotReset", "Clipper/cannot-reset")
ZeroTopPrice = _err("ZeroTopPrice", "Clipper/zero-top-price")
CatNotUnsafe = _err("CatNotUnsafe", "Cat/not-unsafe")
GuyNotSet = _err("GuyNotSet", "Flipper/guy-not-set")
AlreadyFinishedTic = _err("AlreadyFinishedTic", "Flipper/already-finished-tic")
AlreadyFinishedEnd = _err("AlreadyFinishedEnd", "Flipper/already-finished-end")
LotNotMatching = _err("LotNotMatching", "Flipper/lot-not-matching")
HigherThanTab = _err("HigherThanTab", "Flipper/higher-than-tab")
BidNotHigher = _err("BidNotHigher", "Flipper/bid-not-higher")
InsufficientIncrease = _err("InsufficientIncrease", "Flipper/insufficient-increase")
NotMatchingBid = _err("NotMatchingBid", "Flipper/not-matching-bid")
TendNotFinished = _err("TendNotFinished", "Flipper/tend-not-finished")
LotNotLower = _err("LotNotLower", "Flipper/lot-not-lower")
InsufficientDecrease = _err("InsufficientDecrease", "Flipper/insufficient-decrease")
NotFinished = _err("NotFinished", "Flipper/not-finished")
BidAlreadyPlaced = _err("BidAlreadyPlaced", "Flipper/bid-already-placed")
__all__ += [n for n, v in list(globals().items()) if isinstance(v, type) and issubclass(v, MakerError)
            and v is not MakerError]

_BARK_ERR = {K.BARK_LIMIT: LiquidationLimitHit, K.BARK_DUSTY: DustyAuctionFromPartialLiquidation,
             K.BARK_NULL: NullAuction, K.BARK_SAFE: NotUnsafe}


@dataclass
class Ilk:
    """A collateral type: the Vat's ``rate``/``dust``, the Spotter's ``mat``, the OSM ``price``
    (``par = 1``), the Dog's ``chop``/``hole``/``dirt``, the Clipper's parameters and abacus
    (``calc``: ``"stairstep"`` with ``cut``/``step``, ``"linear"`` with ``tau``, ``"exponential"``
    with ``cut`` per second), and the 2020 Cat/Flipper's ``lump``, ``beg``, ``ttl``, ``flip_tau``.
    Times in seconds; ``chop``, ``buf`` and ``beg`` are multipliers (1.13 = 13 %)."""

    price: float
    mat: float = 1.5
    rate: float = 1.0
    dust: float = 0.0
    chop: float = 1.13
    hole: float = math.inf
    dirt: float = 0.0
    # clip
    buf: float = 1.2
    tail: float = math.inf
    cusp: float = 0.0
    chip: float = 0.0
    tip: float = 0.0
    calc: str = "stairstep"
    cut: float = 0.99
    step: float = 90.0
    tau: float = math.inf
    stopped: int = 0
    # 2020 cat / flip
    lump: float = math.inf
    beg: float = 1.05
    ttl: float = 3 * 3600.0
    flip_tau: float = 2 * 86400.0

    @property
    def chost(self) -> float:
        """``Clipper.upchost``: ``dust · chop``."""
        return self.dust * self.chop


@dataclass
class Urn:
    ink: float
    art: float


@dataclass
class Sale:
    """A clip auction (``Clipper.sales``)."""

    ilk: str
    usr: str
    tab: float
    lot: float
    tic: float
    top: float


@dataclass
class Bid:
    """A flip auction (``Flipper.bids``); ``tic`` 0 until the first bid."""

    ilk: str
    bid: float
    lot: float
    guy: str
    tic: float
    end: float
    usr: str
    gal: str
    tab: float


class Vat:
    """The state the calls act on: ``ilks``, ``urns[(ilk, owner)]``, the Dog's ``Hole``/``Dirt``,
    clip ``sales`` and flip ``bids`` by id, ``dai`` and ``gem[(ilk, owner)]`` balances, and the
    vow (``sin``: debt booked by barks and keeper rewards; ``dai['vow']``: DAI received)."""

    def __init__(self, ilks: dict, *, Hole: float = math.inf, Dirt: float = 0.0, now: float = 0.0, live: bool = True):
        self.ilks: dict[str, Ilk] = {k: (v if isinstance(v, Ilk) else Ilk(**v)) for k, v in ilks.items()}
        for name, ilk in self.ilks.items():
            if ilk.calc not in CALCS:
                raise ValueError(f"ilk {name}: calc must be one of {', '.join(CALCS)}, got {ilk.calc!r}")
        self.Hole = float(Hole)
        self.Dirt = float(Dirt)
        self.now = float(now)
        self.live = live
        self.urns: dict[tuple[str, str], Urn] = {}
        self.sales: dict[int, Sale] = {}
        self.bids: dict[int, Bid] = {}
        self.kicks = 0
        self.dai: dict[str, float] = defaultdict(float)
        self.gem: dict[tuple[str, str], float] = defaultdict(float)
        self.sin = 0.0

    def frob(self, ilk: str, owner: str, ink: float, art: float) -> Urn:
        """Open or set an urn (``ink`` collateral, ``art`` normalised debt; debt = ``art · rate``)."""
        self._ilk(ilk)
        u = Urn(float(ink), float(art))
        self.urns[(ilk, owner)] = u
        return u

    def _ilk(self, name: str) -> Ilk:
        try:
            return self.ilks[name]
        except KeyError:
            raise KeyError(f"unknown ilk {name!r} (ilks: {', '.join(self.ilks)})") from None

    def _now(self, now) -> float:
        if now is not None:
            self.now = float(now)
        return self.now

    def _digs(self, ilk: Ilk, rad: float) -> None:
        self.Dirt -= rad
        ilk.dirt -= rad


# --- Liquidations 2.0 ---------------------------------------------------------------------------


def bark(vat: Vat, ilk: str, urn: str, kpr: str = "keeper", *, now: float | None = None) -> int:
    """``Dog.bark(ilk, urn, kpr)`` and the ``Clipper.kick`` it calls: returns the auction id."""
    t = vat._now(now)
    if not vat.live:
        raise NotLive()
    ik = vat._ilk(ilk)
    u = vat.urns.get((ilk, urn))
    if u is None:
        raise NotUnsafe(urn=urn, detail="no such urn")
    if not K.vault_unsafe(u.ink, u.art, ik.price, ik.mat, ik.rate):
        raise NotUnsafe(ink=u.ink, art=u.art, spot=ik.price / ik.mat, rate=ik.rate)
    code, dart, dink, due, tab = K.dog_bark_size(u.ink, u.art, ik.rate, ik.chop, ik.dust, vat.Hole, vat.Dirt,
                                                 ik.hole, ik.dirt)
    if code != K.BARK_OK:
        raise _BARK_ERR[int(code)](Hole=vat.Hole, Dirt=vat.Dirt, hole=ik.hole, dirt=ik.dirt)
    if ik.stopped >= 1:
        raise StoppedIncorrectly(stopped=ik.stopped)
    top = ik.price * ik.buf
    if not top > 0:
        raise ZeroTopPrice()
    u.ink = 0.0 if dink >= u.ink else u.ink - dink
    u.art = 0.0 if dart >= u.art else u.art - dart
    vat.sin += due
    vat.Dirt += tab
    ik.dirt += tab
    vat.kicks += 1
    vat.sales[vat.kicks] = Sale(ilk, urn, float(tab), float(dink), t, float(top))
    coin = float(K.kick_coin(tab, ik.tip, ik.chip)) if (ik.tip > 0 or ik.chip > 0) else 0.0
    if coin:
        vat.sin += coin
        vat.dai[kpr] += coin
    return vat.kicks


def get_status(vat: Vat, id: int, *, now: float | None = None) -> tuple[bool, float, float, float]:
    """``Clipper.getStatus(id)``: ``(needs_redo, price, lot, tab)`` at ``now``."""
    t = vat._now(now)
    s = vat.sales.get(id)
    if s is None:
        return False, 0.0, 0.0, 0.0
    done, price = _status(vat, s, t)
    return done, price, s.lot, s.tab


def _status(vat: Vat, s: Sale, t: float) -> tuple[bool, float]:
    ik = vat.ilks[s.ilk]
    done, price = K.clip_status(CALCS[ik.calc], s.top, t - s.tic, ik.cut, ik.step, ik.tau, ik.tail, ik.cusp)
    return bool(done), float(price)


def redo(vat: Vat, id: int, kpr: str = "keeper", *, now: float | None = None) -> float:
    """``Clipper.redo(id, kpr)``: restarts a done auction at the current feed price; returns
    the keeper reward paid (0 unless ``tab ≥ chost`` and ``lot · price ≥ chost``)."""
    t = vat._now(now)
    s = vat.sales.get(id)
    if s is None:
        raise NotRunningAuction(id=id)
    ik = vat.ilks[s.ilk]
    if ik.stopped >= 2:
        raise StoppedIncorrectly(stopped=ik.stopped)
    done, price = _status(vat, s, t)
    if not done:
        raise CannotReset(id=id, price=price, top=s.top, age=t - s.tic)
    top = ik.price * ik.buf
    if not top > 0:
        raise ZeroTopPrice()
    s.tic, s.top = t, top
    coin = 0.0
    if ik.tip > 0 or ik.chip > 0:
        coin = float(K.redo_coin(s.tab, s.lot, ik.price, ik.tip, ik.chip, ik.chost))
        if coin:
            vat.sin += coin
            vat.dai[kpr] += coin
    return coin


@dataclass(frozen=True)
class Take:
    """One ``Clipper.take``: collateral bought (``slice``), DAI paid (``owe``) at ``price``; the
    auction's ``tab``/``lot`` left; collateral returned to the owner when the tab was covered."""

    price: float
    slice: float
    owe: float
    tab: float
    lot: float
    returned: float
    finished: bool


def take(vat: Vat, id: int, amt: float, max: float, who: str = "taker", *, now: float | None = None) -> Take:
    """``Clipper.take(id, amt, max, who, data)`` with ``data`` empty: buys up to ``amt``
    collateral at the current price if it is ≤ ``max``."""
    t = vat._now(now)
    s = vat.sales.get(id)
    ik = vat.ilks[s.ilk] if s is not None else None
    if ik is not None and ik.stopped >= 3:
        raise StoppedIncorrectly(stopped=ik.stopped)
    if s is None:
        raise NotRunningAuction(id=id)
    done, price = _status(vat, s, t)
    if done:
        raise NeedsReset(id=id, price=price, top=s.top, age=t - s.tic)
    if not max >= price:
        raise TooExpensive(max=float(max), price=price)
    # float rounding against the contract's exact integers: a tab within SNAP of chost is chost,
    # a purchase within SNAP of the tab is the tab (else 22 · 5 could fall 1e-14 short of 110)
    if abs(s.tab - ik.chost) <= SNAP * s.tab:
        s.tab = ik.chost
    amt = float(amt)
    if abs(min(s.lot, amt) * price - s.tab) <= SNAP * s.tab:
        amt = s.tab / price
    ok, slc, owe = K.clip_take_size(s.tab, s.lot, price, amt, ik.chost)
    if not ok:
        raise NoPartialPurchase(tab=s.tab, chost=ik.chost)
    tab = s.tab - owe
    lot = s.lot - slc
    vat.gem[(s.ilk, who)] += slc
    vat.dai[who] -= owe
    vat.dai["vow"] += owe
    vat._digs(ik, tab + owe if lot <= 0.0 else owe)
    returned = 0.0
    finished = False
    if lot <= 0.0:
        lot = 0.0
        finished = True
    elif tab <= 0.0:
        returned = lot
        vat.gem[(s.ilk, s.usr)] += lot
        finished = True
    if finished:
        del vat.sales[id]
    else:
        s.tab, s.lot = tab, lot
    return Take(price, float(slc), float(owe), float(tab) if not finished else 0.0,
                float(lot) if not finished else 0.0, float(returned), finished)


# --- 2020: Cat.bite and the Flipper ---------------------------------------------------------------


def flip_kick(vat: Vat, ilk: str, usr: str, lot: float, tab: float, bid: float = 0.0, gal: str = "vow",
              guy: str = "cat", *, now: float | None = None) -> int:
    """``Flipper.kick(usr, gal, tab, lot, bid)``: an English auction of ``lot`` for ``tab`` DAI."""
    t = vat._now(now)
    ik = vat._ilk(ilk)
    vat.kicks += 1
    vat.bids[vat.kicks] = Bid(ilk, float(bid), float(lot), guy, 0.0, t + ik.flip_tau, usr, gal, float(tab))
    return vat.kicks


def bite(vat: Vat, ilk: str, urn: str, *, now: float | None = None) -> int:
    """2020 ``Cat.bite(ilk, urn)``: ``min(ink, lump)`` of the collateral and the matching debt
    go to a flip auction for ``tab = art·rate·chop``; returns the auction id."""
    t = vat._now(now)
    if not vat.live:
        raise _err("CatNotLive", "Cat/not-live")()
    ik = vat._ilk(ilk)
    u = vat.urns.get((ilk, urn))
    if u is None or not K.vault_unsafe(u.ink, u.art, ik.price, ik.mat, ik.rate):
        raise CatNotUnsafe(urn=urn)
    dart, dink, due, tab = K.cat_bite_size(u.ink, u.art, ik.rate, ik.chop, ik.lump)
    u.ink = 0.0 if dink >= u.ink else u.ink - dink
    u.art = 0.0 if dart >= u.art else u.art - dart
    vat.sin += due
    return flip_kick(vat, ilk, urn, float(dink), float(tab), now=t)


def _bid(vat: Vat, id: int, t: float) -> Bid:
    b = vat.bids.get(id)
    if b is None or not b.guy:
        raise GuyNotSet(id=id)
    if not (b.tic > t or b.tic == 0):
        raise AlreadyFinishedTic(tic=b.tic, now=t)
    if not b.end > t:
        raise AlreadyFinishedEnd(end=b.end, now=t)
    return b


def tend(vat: Vat, id: int, lot: float, bid: float, bidder: str = "bidder", *, now: float | None = None) -> None:
    """``Flipper.tend(id, lot, bid)``: a higher bid for the whole lot (≥ ``beg`` × the last,
    unless it equals ``tab``); the last bidder is refunded, the increase goes to ``gal``."""
    t = vat._now(now)
    b = _bid(vat, id, t)
    ik = vat.ilks[b.ilk]
    if lot != b.lot:
        raise LotNotMatching(lot=lot, auction_lot=b.lot)
    if not bid <= b.tab:
        raise HigherThanTab(bid=bid, tab=b.tab)
    if not bid > b.bid:
        raise BidNotHigher(bid=bid, last=b.bid)
    if not K.flip_tend_ok(float(bid), b.bid, b.tab, ik.beg):
        raise InsufficientIncrease(bid=bid, last=b.bid, beg=ik.beg)
    vat.dai[bidder] -= bid
    vat.dai[b.guy] += b.bid
    vat.dai[b.gal] += bid - b.bid
    b.guy, b.bid, b.tic = bidder, float(bid), t + ik.ttl


def dent(vat: Vat, id: int, lot: float, bid: float, bidder: str = "bidder", *, now: float | None = None) -> None:
    """``Flipper.dent(id, lot, bid)``: at ``bid == tab``, a smaller lot (by the factor ``beg``
    at least); the collateral given up goes back to the vault owner."""
    t = vat._now(now)
    b = _bid(vat, id, t)
    ik = vat.ilks[b.ilk]
    if bid != b.bid:
        raise NotMatchingBid(bid=bid, last=b.bid)
    if bid != b.tab:
        raise TendNotFinished(bid=bid, tab=b.tab)
    if not lot < b.lot:
        raise LotNotLower(lot=lot, auction_lot=b.lot)
    if not K.flip_dent_ok(float(lot), b.lot, b.bid, b.tab, ik.beg):
        raise InsufficientDecrease(lot=lot, auction_lot=b.lot, beg=ik.beg)
    vat.dai[bidder] -= bid
    vat.dai[b.guy] += bid
    vat.gem[(b.ilk, b.usr)] += b.lot - lot
    b.guy, b.lot, b.tic = bidder, float(lot), t + ik.ttl


def deal(vat: Vat, id: int, *, now: float | None = None) -> tuple[str, float, float]:
    """``Flipper.deal(id)``: after the last bid expired or the auction ended, the lot goes to the
    high bidder. Returns ``(winner, lot, bid)``; DAI short of the auction's debt stays on the vow."""
    t = vat._now(now)
    b = vat.bids.get(id)
    if b is None or not (b.tic != 0 and (b.tic < t or b.end < t)):
        raise NotFinished(id=id, now=t)
    vat.gem[(b.ilk, b.guy)] += b.lot
    del vat.bids[id]
    return b.guy, b.lot, b.bid


def tick(vat: Vat, id: int, *, now: float | None = None) -> None:
    """``Flipper.tick(id)``: restart an auction that ended without a bid."""
    t = vat._now(now)
    b = vat.bids.get(id)
    if b is None or not b.end < t:
        raise NotFinished(id=id, now=t)
    if b.tic != 0:
        raise BidAlreadyPlaced(id=id)
    b.end = t + vat.ilks[b.ilk].flip_tau

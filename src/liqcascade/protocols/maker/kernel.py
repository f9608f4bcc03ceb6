"""MakerDAO liquidations — compiled kernels (Liquidations 2.0 ``dog``/``clip``/``abaci`` and the
2020 ``cat``/``flip`` English auction), and the protocol unit step :func:`maker_step`.

Reference: ``shared/reference/protocol-mechanics.md`` §3 (makerdao/dss ``vat``, ``spot``,
``dog``, ``clip``, ``abaci``; ``flip``/``cat`` at dss@f632302; makerdao/clipper-mom; osm).
The plain-Python twin is :mod:`liqcascade.protocols.maker.twin`.

Rules implemented (section numbers of the reference)
----------------------------------------------------
* §3.1 a vault (urn) is **unsafe** when ``ink · spot < art · rate`` with ``spot = price / mat``
  (``par = 1``; ``price`` is the OSM's current value, the price the unit is given).
* §3.2 ``Dog.bark``: needs ``Hole > Dirt`` and ``hole > dirt``;
  ``room = min(Hole − Dirt, hole − dirt)``, ``dart = min(art, room / rate / chop)``; when a
  partial bark would leave a dusty urn (``(art − dart)·rate < dust``) the whole urn goes
  (``dart = art``, the limits may be overshot); otherwise a partial auction must itself be
  non-dusty (``dart·rate ≥ dust``) or the bark reverts; ``dink = ink · dart / art > 0``;
  ``due = dart·rate`` is booked as ``sin`` on the vow; ``tab = due·chop``;
  ``Dirt += tab``, ``dirt += tab``; the room stays used until takes ``digs`` it (throttle).
* §3.3 ``Clipper``: ``kick`` (needs ``stopped < 1``) sets ``top = price · buf`` and pays the
  keeper ``coin = tip + tab·chip``, minted (``vat.suck``) as new debt on the vow;
  ``status``: done when ``now − tic > tail`` or ``price / top < cusp``; ``redo`` (needs
  ``stopped < 2`` and done) resets ``tic``/``top`` and pays ``coin`` only if ``tab ≥ chost``
  and ``lot · price ≥ chost`` (``chost = dust · chop``); ``take`` (needs ``stopped < 3`` and not
  done): ``slice = min(lot, amt)``, ``owe = slice·price``; ``owe > tab`` → ``owe = tab``,
  ``slice = owe / price``; else a partial purchase leaving ``tab − owe < chost`` is cut to
  ``owe = tab − chost`` (refused when ``tab ≤ chost``); ``digs`` by ``owe`` (by the whole
  ``tab + owe`` when the lot is finished); ``lot == 0`` removes the auction and the unpaid
  debt stays on the vow as bad debt; ``tab == 0`` returns the leftover lot to the owner.
* §3.4 abacus curves: ``LinearDecrease`` ``top·(tau − dur)/tau`` (0 once ``dur ≥ tau``),
  ``StairstepExponentialDecrease`` ``top·cut^floor(dur/step)``, ``ExponentialDecrease``
  ``top·cut^dur`` (``cut`` per second).
* §3.5 ClipperMom: the breaker trips (``stopped = 2``) when the OSM's next price ``peep`` is
  below ``peek · tolerance``; reset is manual (the unit never lowers ``stopped``).
* §3.8 2020 ``Cat.bite`` / ``Flipper``: ``lot = min(ink, lump)``,
  ``art' = min(art, lot·art/ink)``, ``tab = art'·rate·chop``; English auction, ``tend`` (raise
  the bid for the whole lot; a bid must exceed the last one and be ≥ ``beg`` × it unless it
  equals ``tab``; the first bid only needs to be > 0), then ``dent`` (at ``bid = tab``, lower the
  lot by the factor ``beg`` at least; the collateral given up goes back to the owner); a bid
  lives ``ttl``, the auction ``tau``; ``deal`` when the last bid expired or the auction ended
  (the lot goes to the high bidder), ``tick`` restarts an auction that ended without a bid.
  There is no Hole/dust limit in the 2020 Cat.

Simplifications (also in ``protocols/maker/README.md``)
-----------------------------------------------------
* Real numbers, not wad/ray/rad fixed point. Because of that, a bark is allowed only while the
  room exceeds ``1e-9`` of the limit (an exact integer room would be 0 after a bark that used
  it all; in floats a rounding crumb would otherwise start a dust-sized auction).
* ``rate`` is a constant of the ilk (no ``jug.drip`` during a run); ``line`` is stored but only
  limits borrowing, which the unit does not model.
* The vow is an account: ``sin`` booked (debt moved off vaults + keeper rewards), ``joy`` (DAI
  received + the initial surplus). DAI paid into an auction is counted first as covering the
  auction's ``due`` (the debt), then as penalty income; debt still uncovered when an auction
  ends is bad debt. No ``heal``/``flop``/``flap``, no ``yank``/``End``.
* One time step = ``dt_seconds``; ``now = t · dt_seconds``. Breakers are checked, barks made,
  and auctions advanced once per step, in slot order; a new auction takes the lowest free slot
  of the preallocated capacity (a bark that finds no free slot is refused and counted).
* Agents: *someone* barks every unsafe vault, redoes every auction that needs it and deals
  every finished flip auction (like Maker's own keepers); barks, redos, takes and bids count
  against ``liq[LQ_MAX]`` and cost ``liq[LQ_GAS]`` each; deals/ticks are free. Takes and bids
  are made by one competitive keeper pool with ``liq[LQ_CAPITAL]`` DAI per step:
  rational (``LQ_MODE = 1``) keepers value collateral at the best venue's execution price after
  the sales already queued in ``sold`` this step (``_sale_quote``) net of gas, and buy the slice
  that maximises ``proceeds − owe`` (the amount after which the venue's marginal price equals
  the auction price × ``1 + margin``), then take only if ``proceeds − owe − gas >
  margin · owe``; mechanical (``LQ_MODE = 0``) keepers take the whole lot (capital permitting)
  as soon as the auction price is at or below the best venue's spot, ignoring gas and
  slippage. Rounding guards: capital below ``1e-9`` of the per-step amount counts as spent,
  and a take smaller than ``1e-9`` of the lot is skipped. In flip mode the pool bids its
  valuation (``tend``) or, at ``bid = tab``, dents to the smallest lot still worth ``tab`` (a
  rival from the same pool may dent its own bid, which stands for competition between keepers). An optional *low-baller* (``prm[P_LOWBALL] > 0``)
  bids that amount on every flip auction with no bid yet — the Black Thursday zero bid; it is
  not limited by capital or ``LQ_MAX`` but pays gas.
* All collateral that agents win goes into ``sold`` (the engine routes it to the venues).

Pack layout (see :func:`liqcascade.protocols.maker.build_pack`)
----------------------------------------------------------------
``pack = (prm, ilk, vilk, ink, art, auc, vow)``:

* ``prm`` float64[NPRM] — global: ``P_MODE`` (``AUCTION_CLIP``/``AUCTION_FLIP``), ``P_HOLE``,
  ``P_DIRT``, ``P_LOWBALL``, ``P_MARGIN``, ``P_HOP`` (OSM hop, seconds; used by ``run_unit``),
  counters ``P_NACTIVE``, ``P_NKICK``, ``P_NREFUSED`` (barks refused: no free slot),
  ``P_NREDO``, ``P_NTAKE``, ``P_NBID``, ``P_NDEAL``, ``P_NTRIP``, ``P_NLOWWIN`` /
  ``P_LOWLOT`` (flip deals won by the low-baller, and their collateral); ``P_NSCHED``: length
  of the optional **keeper schedule** that follows the ``NPRM`` entries — per step ``j``,
  ``prm[NPRM + 2j]`` replaces ``liq[LQ_GAS]`` (gas cost per action, quote units) and
  ``prm[NPRM + 2j + 1]`` (keeper participation, 0–1) multiplies ``liq[LQ_CAPITAL]``; steps past
  its end use the last entry. Participation 0 means no keeper take or bid that step (barks,
  deals and the low-baller are not affected). Built by
  :func:`liqcascade.protocols.maker.with_schedule`; time-varying gas and keepers who bid only
  when the gas price is under their budget (the 2020-03-12 replay).
* ``ilk`` float64[I, NILK] — per collateral type: ``IK_ASSET``, ``IK_RATE``, ``IK_MAT``,
  ``IK_CHOP`` (multiplier, 1.13), ``IK_DUST``, ``IK_HOLE``, ``IK_DIRT``, ``IK_LINE``,
  ``IK_BUF``, ``IK_TAIL`` (s), ``IK_CUSP``, ``IK_CHIP``, ``IK_TIP``, ``IK_CHOST``, ``IK_CALC``,
  ``IK_CUT``, ``IK_STEP`` (s), ``IK_TAU`` (s, linear curve), ``IK_TOL`` (0 = no breaker),
  ``IK_STOPPED``, ``IK_PEEP`` (the OSM's next price, written by the caller before each step;
  NaN = unknown), flip: ``IK_BEG`` (multiplier, 1.05), ``IK_TTL`` (s), ``IK_FTAU`` (s),
  ``IK_LUMP`` (collateral units); counters ``IK_BOUGHT`` (collateral won by agents),
  ``IK_RETURNED`` (collateral returned to vault owners).
* ``vilk`` int64[N], ``ink`` float64[N], ``art`` float64[N] — vaults (debt = ``art · rate``).
* ``auc`` float64[K, NAU] — auction slots: ``AU_ACTIVE``, ``AU_ILK``, ``AU_USR`` (vault index),
  ``AU_TAB``, ``AU_LOT``, ``AU_TIC`` (clip: start time; flip: bid expiry), ``AU_TOP``,
  ``AU_DUE`` (debt not yet covered), ``AU_BID`` / ``AU_GUY`` / ``AU_END`` (flip), ``AU_KICKED``.
* ``vow`` float64[NVOW] — ``VW_SIN``, ``VW_JOY``, ``VW_SURPLUS0``, ``VW_REPAID``,
  ``VW_PENALTY``, ``VW_BAD``, ``VW_REWARDS``, ``VW_DEBT0`` (Σ art·rate when built).

Events (one per bark/bite, take, and flip deal; ``ev_exec`` NaN for the engine to fill):
bark — ``seized = 0`` (collateral moves into the auction, not to the market), ``repaid = 0``,
``bonus`` = keeper reward ``coin``; take/deal — ``seized`` = collateral bought by the keeper,
``repaid`` = debt covered (quote), ``fee`` = penalty part of the payment in collateral units,
``bonus = seized · oracle price − DAI paid``, ``bad`` = bad debt written when the auction ends.
``ev_price`` is always the oracle price of the collateral.
"""

from __future__ import annotations

import math

import numpy as np

from liqcascade.kernels._jit import njit
from liqcascade.kernels.cascade import _sale_quote
from liqcascade.protocols.kernel import (
    ACC_BAD,
    ACC_BONUS,
    ACC_EV_LOST,
    ACC_FEES,
    ACC_GAS,
    ACC_LIQ_VALUE,
    ACC_NLIQ,
    ACC_REPAID,
    LQ_CAPITAL,
    LQ_GAS,
    LQ_MAX,
    LQ_MODE,
)
from liqcascade.venues.book.kernel import book_sell_to_price
from liqcascade.venues.dispatch import best_venue as _best_venue, venue_spot
from liqcascade.venues.kernel import FEE, KIND, MID, NK, VENUE_BOOK, VENUE_CPMM, X, Y

# --- auction modes, curves, bidders ------------------------------------------------------
AUCTION_CLIP = 0
AUCTION_FLIP = 1

CALC_LINEAR = 0
CALC_STAIRSTEP = 1
CALC_EXPONENTIAL = 2

GUY_NONE = 0  # flip: no bid yet (the Cat is ``guy``)
GUY_KEEPER = 1
GUY_LOWBALL = 2

# bark outcome codes
BARK_OK = 0
BARK_LIMIT = 1  # Dog/liquidation-limit-hit
BARK_DUSTY = 2  # Dog/dusty-auction-from-partial-liquidation
BARK_NULL = 3  # Dog/null-auction
BARK_SAFE = 4  # Dog/not-unsafe

ROOM_EPS = 1e-9  # a limit counts as hit when less than this fraction of it is left
CAP_EPS = 1e-9  # keepers' capital counts as spent below this fraction of the per-step amount
SLICE_EPS = 1e-9  # keepers skip takes smaller than this fraction of the lot (rounding crumbs)

# --- global parameter vector ---------------------------------------------------------------
P_MODE = 0
P_HOLE = 1
P_DIRT = 2
P_LOWBALL = 3
P_MARGIN = 4
P_HOP = 5
P_NACTIVE = 6
P_NKICK = 7
P_NREFUSED = 8
P_NREDO = 9
P_NTAKE = 10
P_NBID = 11
P_NDEAL = 12
P_NTRIP = 13
P_NSCHED = 14  # steps in the optional keeper schedule stored after NPRM (0 = none)
P_NLOWWIN = 15  # flip deals won by the low-baller
P_LOWLOT = 16  # collateral those deals gave the low-baller
NPRM = 17
# keeper schedule (optional): prm[NPRM + 2·j] = gas cost per action at step j (quote units),
# prm[NPRM + 2·j + 1] = keeper participation in [0, 1] (multiplies liq[LQ_CAPITAL]);
# steps past the schedule use its last entry
SCHED_GAS = 0
SCHED_PART = 1
SCHED_W = 2

# --- ilk columns -------------------------------------------------------------------------------
IK_ASSET = 0
IK_RATE = 1
IK_MAT = 2
IK_CHOP = 3
IK_DUST = 4
IK_HOLE = 5
IK_DIRT = 6
IK_LINE = 7
IK_BUF = 8
IK_TAIL = 9
IK_CUSP = 10
IK_CHIP = 11
IK_TIP = 12
IK_CHOST = 13
IK_CALC = 14
IK_CUT = 15
IK_STEP = 16
IK_TAU = 17
IK_TOL = 18
IK_STOPPED = 19
IK_PEEP = 20
IK_BEG = 21
IK_TTL = 22
IK_FTAU = 23
IK_LUMP = 24
IK_BOUGHT = 25
IK_RETURNED = 26
NILK = 27

# --- auction columns ---------------------------------------------------------------------------
AU_ACTIVE = 0
AU_ILK = 1
AU_USR = 2
AU_TAB = 3
AU_LOT = 4
AU_TIC = 5
AU_TOP = 6
AU_DUE = 7
AU_BID = 8
AU_GUY = 9
AU_END = 10
AU_KICKED = 11
NAU = 12

# --- vow -----------------------------------------------------------------------------------------
VW_SIN = 0
VW_JOY = 1
VW_SURPLUS0 = 2
VW_REPAID = 3
VW_PENALTY = 4
VW_BAD = 5
VW_REWARDS = 6
VW_DEBT0 = 7
NVOW = 8

_BISECT_ITERS = 200


# ===========================================================================================
# Rule functions (scalars in, scalars / tuples out)
# ===========================================================================================


@njit
def vault_unsafe(ink, art, price, mat, rate):
    """§3.1: ``ink · spot < art · rate`` with ``spot = price / mat`` (needs ``spot > 0``)."""
    spot = price / mat
    return spot > 0.0 and ink * spot < art * rate


@njit
def abacus_price(calc, top, dur, cut, step, tau):
    """§3.4: auction price ``dur`` seconds after ``tic``."""
    if calc == CALC_LINEAR:
        if dur >= tau:
            return 0.0
        return top * ((tau - dur) / tau)
    if calc == CALC_STAIRSTEP:
        return top * cut ** math.floor(dur / step)
    return top * cut ** dur


@njit
def clip_status(calc, top, dur, cut, step, tau, tail, cusp):
    """§3.3 ``status``: ``(done, price)``; done when ``dur > tail`` or ``price / top < cusp``."""
    price = abacus_price(calc, top, dur, cut, step, tau)
    done = dur > tail or price / top < cusp
    return done, price


@njit
def _room_left(cap, used):
    """Room under a DAI limit (``inf`` limit: unlimited); 0 when the limit counts as hit."""
    if cap == math.inf:
        return math.inf
    r = cap - used
    if r > ROOM_EPS * cap:
        return r
    return 0.0


@njit
def dog_bark_size(ink, art, rate, chop, dust, Hole, Dirt, hole, dirt):
    """§3.2 ``Dog.bark`` sizing. Returns ``(code, dart, dink, due, tab)``; ``code`` is
    ``BARK_OK`` or the reason the bark reverts (the other values are then 0)."""
    g = _room_left(Hole, Dirt)
    r = _room_left(hole, dirt)
    if g <= 0.0 or r <= 0.0:
        return BARK_LIMIT, 0.0, 0.0, 0.0, 0.0
    room = g if g < r else r
    dart = room / rate / chop
    if dart > art:
        dart = art
    if art > dart:
        if (art - dart) * rate < dust:
            dart = art  # dusty leftover: the whole urn (limits may be overshot by ~dust·chop)
        elif dart * rate < dust:
            return BARK_DUSTY, 0.0, 0.0, 0.0, 0.0
    if dart == art:
        dink = ink
    else:
        dink = ink * dart / art
    if not dink > 0.0:
        return BARK_NULL, 0.0, 0.0, 0.0, 0.0
    due = dart * rate
    tab = due * chop
    return BARK_OK, dart, dink, due, tab


@njit
def cat_bite_size(ink, art, rate, chop, lump):
    """§3.8 2020 ``Cat.bite``: ``(dart, dink, due, tab)`` with ``dink = min(ink, lump)``,
    ``dart = min(art, dink·art/ink)``, ``due = dart·rate``, ``tab = due·chop``."""
    dink = ink if ink < lump else lump
    if dink == ink:
        dart = art
    else:
        dart = dink * art / ink
        if dart > art:
            dart = art
    due = dart * rate
    return dart, dink, due, due * chop


@njit
def kick_coin(tab, tip, chip):
    """§3.3 keeper reward at kick: ``tip + tab·chip`` (minted as debt)."""
    return tip + tab * chip


@njit
def redo_coin(tab, lot, price, tip, chip, chost):
    """§3.3 keeper reward at redo: ``tip + tab·chip`` only if ``tab ≥ chost`` and
    ``lot·price ≥ chost``, else 0."""
    if tab >= chost and lot * price >= chost:
        return tip + tab * chip
    return 0.0


@njit
def clip_take_size(tab, lot, price, amt, chost):
    """§3.3 ``take`` sizing for a buyer asking for ``amt``: ``(ok, slice, owe)``; ``ok`` is
    False when the purchase reverts ("no-partial-purchase")."""
    slc = amt if amt < lot else lot
    owe = slc * price
    if owe > tab:
        owe = tab
        slc = owe / price
    elif owe < tab and slc < lot:
        if tab - owe < chost:
            if not tab > chost:
                return False, 0.0, 0.0
            owe = tab - chost
            slc = owe / price
    return True, slc, owe


@njit
def flip_tend_ok(bid_new, bid, tab, beg):
    """§3.8 ``tend`` checks on the amounts: ``bid_new ≤ tab``, ``bid_new > bid`` and
    ``bid_new ≥ beg·bid`` unless ``bid_new == tab``."""
    if bid_new > tab or not bid_new > bid:
        return False
    return bid_new >= beg * bid or bid_new == tab


@njit
def flip_dent_ok(lot_new, lot, bid, tab, beg):
    """§3.8 ``dent`` checks: ``bid == tab``, ``lot_new < lot`` and ``beg·lot_new ≤ lot``."""
    return bid == tab and lot_new < lot and beg * lot_new <= lot


# ===========================================================================================
# Venue helpers for the keepers
# ===========================================================================================


@njit
def _proceeds(vs, vdk, vdq, v, queued, q, p_fallback):
    """Quote for ``q`` more units sold into venue ``v`` after ``queued`` (no state change)."""
    if q <= 0.0:
        return 0.0
    if v < 0:
        return q * p_fallback
    if queued <= 0.0:
        return _sale_quote(vs, vdk, vdq, v, q)
    return _sale_quote(vs, vdk, vdq, v, queued + q) - _sale_quote(vs, vdk, vdq, v, queued)


@njit
def _sell_until_marginal(vs, vdk, vdq, v, p):
    """Total asset to sell into venue ``v`` (from its present state) after which the marginal
    quote per unit equals ``p``. Pool: ``d(quote)/dq = x·y·g / (x + g·q)²`` with
    ``g = 1 − fee``; book: the marginal fill is the mid, so sell to mid ``p``."""
    kind = int(vs[v, KIND])
    if kind == VENUE_CPMM:
        x = vs[v, X]
        y = vs[v, Y]
        g = 1.0 - vs[v, FEE]
        if p <= 0.0:
            return math.inf
        s = (math.sqrt(x * y * g / p) - x) / g
        return s if s > 0.0 else 0.0
    if kind == VENUE_BOOK:
        return book_sell_to_price(vs[v, MID], vdk[v], vdq[v], int(vs[v, NK]), p)
    return math.inf if p < vs[v, MID] else 0.0


@njit
def _min_lot_worth(vs, vdk, vdq, v, queued, lot, need, p_fallback):
    """Smallest ``l ≤ lot`` whose proceeds reach ``need`` (bisection); ``-1`` if even ``lot``
    does not."""
    if _proceeds(vs, vdk, vdq, v, queued, lot, p_fallback) < need:
        return -1.0
    lo = 0.0
    hi = lot
    for _ in range(_BISECT_ITERS):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if _proceeds(vs, vdk, vdq, v, queued, mid, p_fallback) >= need:
            hi = mid
        else:
            lo = mid
    return hi


# ===========================================================================================
# Auction slots
# ===========================================================================================


@njit
def _free_slot(auc):
    for k in range(auc.shape[0]):
        if auc[k, AU_ACTIVE] == 0.0:
            return k
    return -1


@njit
def _remove(prm, auc, k):
    """Free slot ``k`` (the whole row is zeroed)."""
    for j in range(auc.shape[1]):
        auc[k, j] = 0.0
    prm[P_NACTIVE] -= 1.0


@njit
def _record(ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid, ev_price, ev_exec,
            ev_bonus, ev_bad, ev_fee, n_ev, t, pos, proto_id, a, seized, repaid, price,
            bonus, bad, fee, acc):
    if n_ev < ev_step.shape[0]:
        ev_step[n_ev] = t
        ev_pos[n_ev] = pos
        ev_proto[n_ev] = proto_id
        ev_asset[n_ev] = a
        ev_seized[n_ev] = seized
        ev_repaid[n_ev] = repaid
        ev_price[n_ev] = price
        ev_exec[n_ev] = np.nan
        ev_bonus[n_ev] = bonus
        ev_bad[n_ev] = bad
        ev_fee[n_ev] = fee
        return n_ev + 1
    acc[ACC_EV_LOST] += 1.0
    return n_ev


@njit
def _settle(vow, acc, owe, due):
    """Book a payment ``owe`` against an auction's uncovered ``due``; returns
    ``(cover, penalty, due_left)``."""
    cover = owe if owe < due else due
    pen = owe - cover
    vow[VW_JOY] += owe
    vow[VW_REPAID] += cover
    vow[VW_PENALTY] += pen
    acc[ACC_REPAID] += cover
    acc[ACC_FEES] += pen
    return cover, pen, due - cover


# ===========================================================================================
# The unit step
# ===========================================================================================


@njit
def maker_step(pack, t, dt_seconds, prices, vs, vdk, vdq, av_ptr, av_idx,
               sold, acc, liq, ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid,
               ev_price, ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, proto_id, pos_offset):
    """One time step of the Maker unit (contract: docs/architecture.md "Protocol units").

    Clip mode: ClipperMom check → bark unsafe vaults (room permitting) → per auction: redo if
    done, else a keeper take. Flip mode: deal / tick finished auctions → bite unsafe vaults →
    keeper bids (tend / dent) → low-baller bids. Returns the new ``n_ev``.
    """
    prm, ilk, vilk, ink, art, auc, vow = pack
    now = t * dt_seconds
    mode = int(prm[P_MODE])
    kmode = int(liq[LQ_MODE])
    gas = liq[LQ_GAS]
    cap_left = liq[LQ_CAPITAL]
    nsched = int(prm[P_NSCHED])
    if nsched > 0:
        j = t if t < nsched else nsched - 1
        gas = prm[NPRM + SCHED_W * j + SCHED_GAS]
        part = prm[NPRM + SCHED_W * j + SCHED_PART]
        cap_left = cap_left * part if part > 0.0 else 0.0
    cap_min = CAP_EPS * cap_left if cap_left < math.inf else 0.0
    max_act = int(liq[LQ_MAX])
    margin = prm[P_MARGIN]
    n_act = 0
    n_ilk = ilk.shape[0]

    # ---- 1. breakers (clip) / deals and ticks (flip) ------------------------------------
    if mode == AUCTION_CLIP:
        for i in range(n_ilk):
            tol = ilk[i, IK_TOL]
            peep = ilk[i, IK_PEEP]
            peek = prices[int(ilk[i, IK_ASSET])]
            if tol > 0.0 and ilk[i, IK_STOPPED] < 2.0 and peep == peep and peep < peek * tol:
                ilk[i, IK_STOPPED] = 2.0
                prm[P_NTRIP] += 1.0
    else:
        for k in range(auc.shape[0]):
            if auc[k, AU_ACTIVE] == 0.0:
                continue
            guy = int(auc[k, AU_GUY])
            if guy != GUY_NONE and (auc[k, AU_TIC] < now or auc[k, AU_END] < now):
                i = int(auc[k, AU_ILK])
                a = int(ilk[i, IK_ASSET])
                lot = auc[k, AU_LOT]
                bid = auc[k, AU_BID]
                cover, pen, left = _settle(vow, acc, bid, auc[k, AU_DUE])
                vow[VW_BAD] += left
                acc[ACC_BAD] += left
                acc[ACC_NLIQ] += 1.0
                acc[ACC_BONUS] += lot * prices[a] - bid
                ilk[i, IK_BOUGHT] += lot
                sold[a] += lot
                prm[P_NDEAL] += 1.0
                if guy == GUY_LOWBALL:
                    prm[P_NLOWWIN] += 1.0
                    prm[P_LOWLOT] += lot
                fee = pen * lot / bid if bid > 0.0 else 0.0
                n_ev = _record(ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid,
                               ev_price, ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, t,
                               pos_offset + int(auc[k, AU_USR]), proto_id, a, lot, cover,
                               prices[a], lot * prices[a] - bid, left, fee, acc)
                _remove(prm, auc, k)
            elif guy == GUY_NONE and auc[k, AU_END] < now:
                auc[k, AU_END] = now + ilk[int(auc[k, AU_ILK]), IK_FTAU]  # tick

    # ---- 2. bark / bite unsafe vaults ----------------------------------------------------------
    for u in range(ink.shape[0]):
        if art[u] <= 0.0:
            continue
        if max_act > 0 and n_act >= max_act:
            break
        i = vilk[u]
        a = int(ilk[i, IK_ASSET])
        p = prices[a]
        rate = ilk[i, IK_RATE]
        if not vault_unsafe(ink[u], art[u], p, ilk[i, IK_MAT], rate):
            continue
        chop = ilk[i, IK_CHOP]
        if mode == AUCTION_CLIP:
            if ilk[i, IK_STOPPED] >= 1.0:
                continue
            code, dart, dink, due, tab = dog_bark_size(
                ink[u], art[u], rate, chop, ilk[i, IK_DUST], prm[P_HOLE], prm[P_DIRT],
                ilk[i, IK_HOLE], ilk[i, IK_DIRT])
            if code != BARK_OK:
                continue
        else:
            dart, dink, due, tab = cat_bite_size(ink[u], art[u], rate, chop, ilk[i, IK_LUMP])
            if not dink > 0.0:
                continue
        k = _free_slot(auc)
        if k < 0:
            prm[P_NREFUSED] += 1.0
            continue
        n_act += 1
        # vat.grab + vow.fess
        if dart == art[u]:
            art[u] = 0.0
        else:
            art[u] -= dart
        ink[u] -= dink
        vow[VW_SIN] += due
        coin = 0.0
        auc[k, AU_ACTIVE] = 1.0
        auc[k, AU_ILK] = i
        auc[k, AU_USR] = u
        auc[k, AU_TAB] = tab
        auc[k, AU_LOT] = dink
        auc[k, AU_DUE] = due
        auc[k, AU_KICKED] = now
        auc[k, AU_BID] = 0.0
        auc[k, AU_GUY] = GUY_NONE
        if mode == AUCTION_CLIP:
            prm[P_DIRT] += tab
            ilk[i, IK_DIRT] += tab
            auc[k, AU_TIC] = now
            auc[k, AU_TOP] = p * ilk[i, IK_BUF]
            auc[k, AU_END] = 0.0
            coin = kick_coin(tab, ilk[i, IK_TIP], ilk[i, IK_CHIP])
            vow[VW_SIN] += coin
            vow[VW_REWARDS] += coin
        else:
            auc[k, AU_TIC] = 0.0
            auc[k, AU_TOP] = 0.0
            auc[k, AU_END] = now + ilk[i, IK_FTAU]
        prm[P_NACTIVE] += 1.0
        prm[P_NKICK] += 1.0
        acc[ACC_NLIQ] += 1.0
        acc[ACC_LIQ_VALUE] += dink * p
        acc[ACC_BONUS] += coin
        acc[ACC_GAS] += gas
        n_ev = _record(ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid, ev_price,
                       ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, t, pos_offset + u, proto_id, a,
                       0.0, 0.0, p, coin, 0.0, 0.0, acc)

    # ---- 3. auctions ------------------------------------------------------------------------
    for k in range(auc.shape[0]):
        if auc[k, AU_ACTIVE] == 0.0:
            continue
        if max_act > 0 and n_act >= max_act:
            break
        i = int(auc[k, AU_ILK])
        a = int(ilk[i, IK_ASSET])
        p_feed = prices[a]
        v = _best_venue(vs, av_ptr, av_idx, a)
        queued = sold[a]
        tab = auc[k, AU_TAB]
        lot = auc[k, AU_LOT]
        if mode == AUCTION_CLIP:
            calc = int(ilk[i, IK_CALC])
            cut = ilk[i, IK_CUT]
            step = ilk[i, IK_STEP]
            tau = ilk[i, IK_TAU]
            done, price = clip_status(calc, auc[k, AU_TOP], now - auc[k, AU_TIC], cut, step, tau,
                                      ilk[i, IK_TAIL], ilk[i, IK_CUSP])
            if done:
                if ilk[i, IK_STOPPED] >= 2.0 or not p_feed * ilk[i, IK_BUF] > 0.0:
                    continue  # redo refused: breaker level 2, or "Clipper/zero-top-price"
                # redo
                n_act += 1
                auc[k, AU_TIC] = now
                auc[k, AU_TOP] = p_feed * ilk[i, IK_BUF]
                coin = redo_coin(tab, lot, p_feed, ilk[i, IK_TIP], ilk[i, IK_CHIP],
                                 ilk[i, IK_CHOST])
                vow[VW_SIN] += coin
                vow[VW_REWARDS] += coin
                acc[ACC_BONUS] += coin
                acc[ACC_GAS] += gas
                prm[P_NREDO] += 1.0
                if max_act > 0 and n_act >= max_act:
                    break
                done, price = clip_status(calc, auc[k, AU_TOP], 0.0, cut, step, tau,
                                          ilk[i, IK_TAIL], ilk[i, IK_CUSP])
                if done:
                    continue
            if ilk[i, IK_STOPPED] >= 3.0:
                continue
            # keeper decision
            if not cap_left > cap_min:
                continue
            chost = ilk[i, IK_CHOST]
            if kmode == 0:
                ref = venue_spot(vs, v) if v >= 0 else p_feed
                if price > ref:
                    continue
                amt = lot
            else:
                if v >= 0:
                    amt = _sell_until_marginal(vs, vdk, vdq, v, price * (1.0 + margin)) - queued
                else:
                    amt = math.inf if price * (1.0 + margin) < p_feed else 0.0
                if not amt > 0.0:
                    continue
            if price > 0.0 and amt * price > cap_left:
                amt = cap_left / price
            if not amt > 0.0:
                continue
            ok, slc, owe = clip_take_size(tab, lot, price, amt, chost)
            if not ok:
                ok, slc, owe = clip_take_size(tab, lot, price, lot, chost)
                if not ok or owe > cap_left:
                    continue
            if not slc > SLICE_EPS * lot:
                continue
            if kmode != 0:
                got = _proceeds(vs, vdk, vdq, v, queued, slc, p_feed)
                if not got - owe - gas > margin * owe:
                    continue
            # execute the take
            n_act += 1
            cap_left -= owe
            tab_new = tab - owe
            lot_new = lot - slc
            cover, pen, due_left = _settle(vow, acc, owe, auc[k, AU_DUE])
            dig = tab_new + owe if lot_new == 0.0 else owe
            prm[P_DIRT] -= dig
            ilk[i, IK_DIRT] -= dig
            sold[a] += slc
            ilk[i, IK_BOUGHT] += slc
            acc[ACC_NLIQ] += 1.0
            acc[ACC_BONUS] += slc * p_feed - owe
            acc[ACC_GAS] += gas
            prm[P_NTAKE] += 1.0
            bad = 0.0
            if lot_new == 0.0 or tab_new == 0.0:
                bad = due_left
                vow[VW_BAD] += bad
                acc[ACC_BAD] += bad
                if lot_new > 0.0:
                    ilk[i, IK_RETURNED] += lot_new  # tab == 0: leftover lot back to the owner
                usr = int(auc[k, AU_USR])
                _remove(prm, auc, k)
            else:
                usr = int(auc[k, AU_USR])
                auc[k, AU_DUE] = due_left
                auc[k, AU_TAB] = tab_new
                auc[k, AU_LOT] = lot_new
            fee = pen / price if price > 0.0 else 0.0
            n_ev = _record(ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid, ev_price,
                           ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, t,
                           pos_offset + usr, proto_id, a, slc, cover, p_feed,
                           slc * p_feed - owe, bad, fee, acc)
        else:
            # flip: keeper bids
            guy = int(auc[k, AU_GUY])
            if not ((guy == GUY_NONE or auc[k, AU_TIC] > now) and auc[k, AU_END] > now):
                continue
            if not cap_left > cap_min:
                continue
            bid = auc[k, AU_BID]
            beg = ilk[i, IK_BEG]
            gas_k = gas if kmode != 0 else 0.0
            if bid < tab:
                if guy == GUY_KEEPER:
                    continue
                if kmode == 0:
                    val = lot * (venue_spot(vs, v) if v >= 0 else p_feed)
                else:
                    val = _proceeds(vs, vdk, vdq, v, queued, lot, p_feed)
                b = (val - gas_k) / (1.0 + margin)
                if b >= tab:
                    b = tab
                if b > cap_left:
                    b = cap_left
                if not (b > 0.0 and flip_tend_ok(b, bid, tab, beg)):
                    continue
                n_act += 1
                cap_left -= b
                auc[k, AU_BID] = b
                auc[k, AU_GUY] = GUY_KEEPER
                auc[k, AU_TIC] = now + ilk[i, IK_TTL]
                acc[ACC_GAS] += gas
                prm[P_NBID] += 1.0
            else:
                if tab > cap_left:
                    continue
                need = tab * (1.0 + margin) + gas_k
                if kmode == 0:
                    ref = venue_spot(vs, v) if v >= 0 else p_feed
                    l_new = need / ref if ref > 0.0 else -1.0
                    if l_new > lot:
                        l_new = -1.0
                else:
                    # proceeds grow with the lot: if even the largest lot a dent may leave
                    # (lot / beg) is not worth ``need``, the bisection's answer would fail
                    # flip_dent_ok — skip it (same result, much cheaper with many auctions)
                    if _proceeds(vs, vdk, vdq, v, queued, lot / beg, p_feed) < need:
                        continue
                    l_new = _min_lot_worth(vs, vdk, vdq, v, queued, lot, need, p_feed)
                if not (l_new > 0.0 and flip_dent_ok(l_new, lot, bid, tab, beg)):
                    continue
                n_act += 1
                cap_left -= tab
                ilk[i, IK_RETURNED] += lot - l_new
                auc[k, AU_LOT] = l_new
                auc[k, AU_GUY] = GUY_KEEPER
                auc[k, AU_TIC] = now + ilk[i, IK_TTL]
                acc[ACC_GAS] += gas
                prm[P_NBID] += 1.0

    # ---- 4. flip: the low-baller ----------------------------------------------------------------
    low = prm[P_LOWBALL]
    if mode == AUCTION_FLIP and low > 0.0:
        for k in range(auc.shape[0]):
            if auc[k, AU_ACTIVE] == 0.0 or int(auc[k, AU_GUY]) != GUY_NONE:
                continue
            if not auc[k, AU_END] > now:
                continue
            i = int(auc[k, AU_ILK])
            b = low if low < auc[k, AU_TAB] else auc[k, AU_TAB]
            if not flip_tend_ok(b, auc[k, AU_BID], auc[k, AU_TAB], ilk[i, IK_BEG]):
                continue
            auc[k, AU_BID] = b
            auc[k, AU_GUY] = GUY_LOWBALL
            auc[k, AU_TIC] = now + ilk[i, IK_TTL]
            acc[ACC_GAS] += gas
            prm[P_NBID] += 1.0
    return n_ev


# ===========================================================================================
# Totals (conservation)
# ===========================================================================================


@njit
def _totals_arrays(pack):
    """Per-ilk sums: ``(ink, art·rate, lot in auctions, due in auctions, tab in auctions,
    bid escrow)`` — float64[I] each."""
    prm, ilk, vilk, ink, art, auc, vow = pack
    n_ilk = ilk.shape[0]
    s_ink = np.zeros(n_ilk)
    s_debt = np.zeros(n_ilk)
    s_lot = np.zeros(n_ilk)
    s_due = np.zeros(n_ilk)
    s_tab = np.zeros(n_ilk)
    s_bid = np.zeros(n_ilk)
    for u in range(ink.shape[0]):
        i = vilk[u]
        s_ink[i] += ink[u]
        s_debt[i] += art[u] * ilk[i, IK_RATE]
    for k in range(auc.shape[0]):
        if auc[k, AU_ACTIVE] != 0.0:
            i = int(auc[k, AU_ILK])
            s_lot[i] += auc[k, AU_LOT]
            s_due[i] += auc[k, AU_DUE]
            s_tab[i] += auc[k, AU_TAB]
            s_bid[i] += auc[k, AU_BID]
    return s_ink, s_debt, s_lot, s_due, s_tab, s_bid

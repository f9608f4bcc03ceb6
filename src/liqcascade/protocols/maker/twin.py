"""Plain-Python twin of :mod:`liqcascade.protocols.maker.kernel`, written naively for parity tests.

Written from ``shared/reference/protocol-mechanics.md`` §3 (§3.1 unsafe, §3.2 bark, §3.3 clip
kick/status/redo/take, §3.4 abacus curves, §3.5 ClipperMom, §3.8 cat/flip) and the pack layout
documented in the kernel module (the layout constants are the shared contract and are imported
from there; no kernel function is). Differences in *how*, not *what*:

* the step turns the pack into small Python objects (vaults, auctions, ilks as dicts), works on
  those and writes them back;
* venues are quoted through :mod:`liqcascade.venues.twin` (its own pool / book classes);
* the keeper's optimal slice is found by bisection on the venue's marginal price (the kernel
  uses a closed form for pools), the flip dent lot by its own bisection;
* the stairstep curve counts whole steps with integer division.

The simplifications are the kernel's (its docstring and ``protocols/maker/README.md``).
Slow; never use it in the engine.
"""

from __future__ import annotations

import copy
import math

from liqcascade.protocols.kernel import (
    ACC_BAD,
    ACC_BONUS,
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
from liqcascade.protocols.maker.kernel import (
    AUCTION_CLIP,
    AU_ACTIVE,
    AU_BID,
    AU_DUE,
    AU_END,
    AU_GUY,
    AU_ILK,
    AU_KICKED,
    AU_LOT,
    AU_TAB,
    AU_TIC,
    AU_TOP,
    AU_USR,
    CALC_EXPONENTIAL,
    CALC_LINEAR,
    CALC_STAIRSTEP,
    GUY_KEEPER,
    GUY_LOWBALL,
    GUY_NONE,
    IK_ASSET,
    IK_BEG,
    IK_BOUGHT,
    IK_BUF,
    IK_CALC,
    IK_CHIP,
    IK_CHOP,
    IK_CHOST,
    IK_CUSP,
    IK_CUT,
    IK_DIRT,
    IK_DUST,
    IK_FTAU,
    IK_HOLE,
    IK_LUMP,
    IK_MAT,
    IK_PEEP,
    IK_RATE,
    IK_RETURNED,
    IK_STEP,
    IK_STOPPED,
    IK_TAIL,
    IK_TAU,
    IK_TIP,
    IK_TOL,
    IK_TTL,
    NPRM,
    P_DIRT,
    P_HOLE,
    P_LOWBALL,
    P_LOWLOT,
    P_MARGIN,
    P_MODE,
    P_NACTIVE,
    P_NBID,
    P_NDEAL,
    P_NKICK,
    P_NLOWWIN,
    P_NREDO,
    P_NREFUSED,
    P_NSCHED,
    P_NTAKE,
    P_NTRIP,
    VW_BAD,
    VW_JOY,
    VW_PENALTY,
    VW_REPAID,
    VW_REWARDS,
    VW_SIN,
)
from liqcascade.venues import twin as VP
from liqcascade.venues.cpmm import twin as cpmm_twin

_EPS = 1e-9


# ---------------------------------------------------------------------------------------------
# rules


def unsafe_py(ink, art, price, mat, rate):
    """§3.1."""
    spot = price / mat
    if not spot > 0:
        return False
    return ink * spot < art * rate


def curve_py(calc, top, dur, cut, step, tau):
    """§3.4."""
    if calc == CALC_LINEAR:
        return 0.0 if dur >= tau else top * ((tau - dur) / tau)
    if calc == CALC_STAIRSTEP:
        n = int(dur // step)
        return top * (cut ** n)
    if calc == CALC_EXPONENTIAL:
        return top * (cut ** dur)
    raise ValueError(calc)


def status_py(calc, top, dur, cut, step, tau, tail, cusp):
    price = curve_py(calc, top, dur, cut, step, tau)
    return (dur > tail) or (price / top < cusp), price


def _room(limit, used):
    if math.isinf(limit):
        return math.inf
    left = limit - used
    return left if left > _EPS * limit else 0.0


def bark_py(ink, art, rate, chop, dust, Hole, Dirt, hole, dirt):
    """§3.2 — ``None`` when the bark reverts, else ``(dart, dink, due, tab)``."""
    room = min(_room(Hole, Dirt), _room(hole, dirt))
    if room <= 0:
        return None
    dart = min(art, room / rate / chop)
    if dart < art:
        leftover_debt = (art - dart) * rate
        if leftover_debt < dust:
            dart = art
        elif dart * rate < dust:
            return None
    dink = ink if dart == art else ink * dart / art
    if dink <= 0:
        return None
    return dart, dink, dart * rate, dart * rate * chop


def bite_py(ink, art, rate, chop, lump):
    """§3.8 (2020 Cat)."""
    lot = min(ink, lump)
    dart = art if lot == ink else min(art, lot * art / ink)
    return dart, lot, dart * rate, dart * rate * chop


def take_py(tab, lot, price, amt, chost):
    """§3.3 — ``None`` when the take reverts, else ``(slice, owe)``."""
    slc = min(lot, amt)
    owe = slc * price
    if owe > tab:
        return tab / price, tab
    if owe < tab and slc < lot and tab - owe < chost:
        if tab <= chost:
            return None
        owe = tab - chost
        slc = owe / price
    return slc, owe


def kick_reward_py(tab, tip, chip):
    return tip + chip * tab


def redo_reward_py(tab, lot, price, tip, chip, chost):
    ok = tab >= chost and lot * price >= chost
    return tip + chip * tab if ok else 0.0


def tend_ok_py(new_bid, bid, tab, beg):
    if new_bid > tab or new_bid <= bid:
        return False
    return new_bid == tab or new_bid >= beg * bid


def dent_ok_py(new_lot, lot, bid, tab, beg):
    return bid == tab and new_lot < lot and new_lot * beg <= lot


# ---------------------------------------------------------------------------------------------
# venues


class _Market:
    """Quotes for one asset's best venue (highest spot), after ``queued`` units already sold."""

    def __init__(self, vs, vdk, vdq, av_ptr, av_idx, a, queued, fallback):
        ids = [int(v) for v in av_idx[av_ptr[a]:av_ptr[a + 1]]]
        self.venue = None
        self.fallback = fallback
        self.queued = queued
        if ids:
            spots = [VP.venue_spot(vs, v) for v in ids]
            best = ids[max(range(len(ids)), key=lambda j: (spots[j], -j))]
            self.venue = VP._load(vs, vdk, vdq, best)

    @property
    def spot(self):
        return self.fallback if self.venue is None else self.venue.spot

    def _sell(self, q):
        ven = copy.deepcopy(self.venue)
        return ven.sell(q)

    def proceeds(self, q):
        if q <= 0:
            return 0.0
        if self.venue is None:
            return q * self.fallback
        if self.queued <= 0:
            return self._sell(q)
        return self._sell(self.queued + q) - self._sell(self.queued)

    def amount_to_marginal(self, p):
        """Total units (from the present state) after which one more unit fetches ``p``."""
        ven = self.venue
        if ven is None:
            return math.inf if p < self.fallback else 0.0
        if isinstance(ven, cpmm_twin.Pool):
            g = 1.0 - ven.fee
            if p <= 0:
                return math.inf

            def marginal(s):
                return ven.x * ven.y * g / (ven.x + g * s) ** 2

            if marginal(0.0) <= p:
                return 0.0
            hi = ven.x
            while marginal(hi) > p:
                hi *= 2.0
            lo, hi = VP.bisect(lambda s: p - marginal(s), 0.0, hi)
            return 0.5 * (lo + hi)
        return ven.sell_to_price(p)

    def smallest_lot_worth(self, lot, need):
        if self.proceeds(lot) < need:
            return -1.0
        lo, hi = 0.0, lot
        for _ in range(400):
            mid = (lo + hi) / 2
            if not lo < mid < hi:
                break
            if self.proceeds(mid) >= need:
                hi = mid
            else:
                lo = mid
        return hi


# ---------------------------------------------------------------------------------------------
# the step


def maker_step_py(pack, t, dt_seconds, prices, vs, vdk, vdq, av_ptr, av_idx,
                  sold, acc, liq, ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid,
                  ev_price, ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, proto_id, pos_offset):
    prm, ilk_a, vilk, ink_a, art_a, auc_a, vow = pack
    now = t * dt_seconds
    clip = int(prm[P_MODE]) == AUCTION_CLIP
    rational = int(liq[LQ_MODE]) != 0
    gas = float(liq[LQ_GAS])
    budget = [float(liq[LQ_CAPITAL])]
    if int(prm[P_NSCHED]) > 0:  # keeper schedule: this step's gas cost and participation
        row = min(t, int(prm[P_NSCHED]) - 1)
        gas = float(prm[NPRM + 2 * row])
        share = float(prm[NPRM + 2 * row + 1])
        budget[0] = budget[0] * share if share > 0 else 0.0
    floor = 1e-9 * budget[0] if math.isfinite(budget[0]) else 0.0  # spent below this
    limit = int(liq[LQ_MAX])
    margin = float(prm[P_MARGIN])
    actions = [0]
    events = []

    ilks = [dict(row=i, asset=int(ilk_a[i, IK_ASSET]), rate=ilk_a[i, IK_RATE], mat=ilk_a[i, IK_MAT],
                 chop=ilk_a[i, IK_CHOP], dust=ilk_a[i, IK_DUST], hole=ilk_a[i, IK_HOLE],
                 buf=ilk_a[i, IK_BUF], tail=ilk_a[i, IK_TAIL], cusp=ilk_a[i, IK_CUSP],
                 chip=ilk_a[i, IK_CHIP], tip=ilk_a[i, IK_TIP], chost=ilk_a[i, IK_CHOST],
                 calc=int(ilk_a[i, IK_CALC]), cut=ilk_a[i, IK_CUT], step=ilk_a[i, IK_STEP],
                 tau=ilk_a[i, IK_TAU], tol=ilk_a[i, IK_TOL], peep=ilk_a[i, IK_PEEP],
                 beg=ilk_a[i, IK_BEG], ttl=ilk_a[i, IK_TTL], ftau=ilk_a[i, IK_FTAU],
                 lump=ilk_a[i, IK_LUMP])
            for i in range(ilk_a.shape[0])]
    slots = []
    for k in range(auc_a.shape[0]):
        if auc_a[k, AU_ACTIVE] != 0:
            slots.append(dict(ilk=int(auc_a[k, AU_ILK]), usr=int(auc_a[k, AU_USR]),
                              tab=auc_a[k, AU_TAB], lot=auc_a[k, AU_LOT], tic=auc_a[k, AU_TIC],
                              top=auc_a[k, AU_TOP], due=auc_a[k, AU_DUE], bid=auc_a[k, AU_BID],
                              guy=int(auc_a[k, AU_GUY]), end=auc_a[k, AU_END],
                              kicked=auc_a[k, AU_KICKED]))
        else:
            slots.append(None)

    def can_act():
        return limit <= 0 or actions[0] < limit

    def event(usr, a, seized, repaid, bonus, bad, fee):
        events.append((t, pos_offset + usr, proto_id, a, seized, repaid, prices[a], bonus, bad, fee))

    def pay(s, owe):
        """DAI into the vow: debt first, then penalty."""
        cover = min(owe, s["due"])
        vow[VW_JOY] += owe
        vow[VW_REPAID] += cover
        vow[VW_PENALTY] += owe - cover
        acc[ACC_REPAID] += cover
        acc[ACC_FEES] += owe - cover
        s["due"] -= cover
        return cover, owe - cover

    def close(k, write_off=True):
        s = slots[k]
        bad = s["due"] if write_off else 0.0
        vow[VW_BAD] += bad
        acc[ACC_BAD] += bad
        s["due"] = 0.0
        slots[k] = None
        prm[P_NACTIVE] -= 1
        return bad

    def market(a):
        return _Market(vs, vdk, vdq, av_ptr, av_idx, a, sold[a], prices[a])

    # 1. breaker / deals
    if clip:
        for il in ilks:
            peek = prices[il["asset"]]
            if (il["tol"] > 0 and ilk_a[il["row"], IK_STOPPED] < 2 and not math.isnan(il["peep"])
                    and il["peep"] < peek * il["tol"]):
                ilk_a[il["row"], IK_STOPPED] = 2
                prm[P_NTRIP] += 1
    else:
        for k, s in enumerate(slots):
            if s is None:
                continue
            if s["guy"] != GUY_NONE and (s["tic"] < now or s["end"] < now):
                il = ilks[s["ilk"]]
                a = il["asset"]
                cover, pen = pay(s, s["bid"])
                ilk_a[il["row"], IK_BOUGHT] += s["lot"]
                sold[a] += s["lot"]
                acc[ACC_NLIQ] += 1
                gain = s["lot"] * prices[a] - s["bid"]
                acc[ACC_BONUS] += gain
                prm[P_NDEAL] += 1
                if s["guy"] == GUY_LOWBALL:
                    prm[P_NLOWWIN] += 1
                    prm[P_LOWLOT] += s["lot"]
                bad = close(k)
                event(s["usr"], a, s["lot"], cover, gain, bad, pen * s["lot"] / s["bid"] if s["bid"] > 0 else 0.0)
            elif s["guy"] == GUY_NONE and s["end"] < now:
                s["end"] = now + ilks[s["ilk"]]["ftau"]

    # 2. bark / bite
    for u in range(len(ink_a)):
        if art_a[u] <= 0:
            continue
        if not can_act():
            break
        il = ilks[int(vilk[u])]
        a = il["asset"]
        p = prices[a]
        if not unsafe_py(ink_a[u], art_a[u], p, il["mat"], il["rate"]):
            continue
        if clip:
            if ilk_a[il["row"], IK_STOPPED] >= 1:
                continue
            r = bark_py(ink_a[u], art_a[u], il["rate"], il["chop"], il["dust"], prm[P_HOLE], prm[P_DIRT],
                        il["hole"], ilk_a[il["row"], IK_DIRT])
            if r is None:
                continue
        else:
            r = bite_py(ink_a[u], art_a[u], il["rate"], il["chop"], il["lump"])
            if not r[1] > 0:
                continue
        dart, dink, due, tab = r
        free = [k for k, s in enumerate(slots) if s is None]
        if not free:
            prm[P_NREFUSED] += 1
            continue
        actions[0] += 1
        art_a[u] = 0.0 if dart == art_a[u] else art_a[u] - dart
        ink_a[u] -= dink
        vow[VW_SIN] += due
        s = dict(ilk=il["row"], usr=u, tab=tab, lot=dink, due=due, bid=0.0, guy=GUY_NONE, kicked=now)
        reward = 0.0
        if clip:
            prm[P_DIRT] += tab
            ilk_a[il["row"], IK_DIRT] += tab
            s.update(tic=now, top=p * il["buf"], end=0.0)
            reward = kick_reward_py(tab, il["tip"], il["chip"])
            vow[VW_SIN] += reward
            vow[VW_REWARDS] += reward
        else:
            s.update(tic=0.0, top=0.0, end=now + il["ftau"])
        slots[free[0]] = s
        prm[P_NACTIVE] += 1
        prm[P_NKICK] += 1
        acc[ACC_NLIQ] += 1
        acc[ACC_LIQ_VALUE] += dink * p
        acc[ACC_BONUS] += reward
        acc[ACC_GAS] += gas
        event(u, a, 0.0, 0.0, reward, 0.0, 0.0)

    # 3. auctions
    for k in range(len(slots)):
        s = slots[k]
        if s is None:
            continue
        if not can_act():
            break
        il = ilks[s["ilk"]]
        a = il["asset"]
        pf = prices[a]
        mk = market(a)
        if clip:
            args = (il["calc"], None, None, il["cut"], il["step"], il["tau"], il["tail"], il["cusp"])

            def status(top, dur):
                return status_py(args[0], top, dur, *args[3:])

            done, price = status(s["top"], now - s["tic"])
            if done:
                if ilk_a[il["row"], IK_STOPPED] >= 2 or not pf * il["buf"] > 0:
                    continue
                actions[0] += 1
                s["tic"] = now
                s["top"] = pf * il["buf"]
                reward = redo_reward_py(s["tab"], s["lot"], pf, il["tip"], il["chip"], il["chost"])
                vow[VW_SIN] += reward
                vow[VW_REWARDS] += reward
                acc[ACC_BONUS] += reward
                acc[ACC_GAS] += gas
                prm[P_NREDO] += 1
                if not can_act():
                    break
                done, price = status(s["top"], 0.0)
                if done:
                    continue
            if ilk_a[il["row"], IK_STOPPED] >= 3 or budget[0] <= floor:
                continue
            if rational:
                want = mk.amount_to_marginal(price * (1 + margin)) - mk.queued
            else:
                if price > mk.spot:
                    continue
                want = s["lot"]
            if not want > 0:
                continue
            if price > 0 and want * price > budget[0]:
                want = budget[0] / price
            if not want > 0:
                continue
            r = take_py(s["tab"], s["lot"], price, want, il["chost"])
            if r is None:
                r = take_py(s["tab"], s["lot"], price, s["lot"], il["chost"])
                if r is None or r[1] > budget[0]:
                    continue
            slc, owe = r
            if slc <= 1e-9 * s["lot"]:  # rounding crumb
                continue
            if rational and not (mk.proceeds(slc) - owe - gas > margin * owe):
                continue
            actions[0] += 1
            budget[0] -= owe
            tab_before = s["tab"]
            s["tab"] = tab_before - owe
            s["lot"] = s["lot"] - slc
            cover, pen = pay(s, owe)
            dug = tab_before if s["lot"] == 0 else owe
            prm[P_DIRT] -= dug
            ilk_a[il["row"], IK_DIRT] -= dug
            sold[a] += slc
            ilk_a[il["row"], IK_BOUGHT] += slc
            acc[ACC_NLIQ] += 1
            acc[ACC_BONUS] += slc * pf - owe
            acc[ACC_GAS] += gas
            prm[P_NTAKE] += 1
            bad = 0.0
            usr = s["usr"]
            if s["lot"] == 0 or s["tab"] == 0:
                if s["lot"] > 0:
                    ilk_a[il["row"], IK_RETURNED] += s["lot"]
                bad = close(k)
            event(usr, a, slc, cover, slc * pf - owe, bad, pen / price if price > 0 else 0.0)
        else:
            if not ((s["guy"] == GUY_NONE or s["tic"] > now) and s["end"] > now):
                continue
            cost = gas if rational else 0.0
            if budget[0] <= floor:
                continue
            if s["bid"] < s["tab"]:
                if s["guy"] == GUY_KEEPER:
                    continue
                worth = mk.proceeds(s["lot"]) if rational else s["lot"] * mk.spot
                offer = min((worth - cost) / (1 + margin), s["tab"])
                offer = min(offer, budget[0])
                if not (offer > 0 and tend_ok_py(offer, s["bid"], s["tab"], il["beg"])):
                    continue
                actions[0] += 1
                budget[0] -= offer
                s.update(bid=offer, guy=GUY_KEEPER, tic=now + il["ttl"])
                acc[ACC_GAS] += gas
                prm[P_NBID] += 1
            else:
                if s["tab"] > budget[0]:
                    continue
                need = s["tab"] * (1 + margin) + cost
                if rational:
                    new_lot = mk.smallest_lot_worth(s["lot"], need)
                else:
                    new_lot = need / mk.spot if mk.spot > 0 else -1.0
                    if new_lot > s["lot"]:
                        new_lot = -1.0
                if not (new_lot > 0 and dent_ok_py(new_lot, s["lot"], s["bid"], s["tab"], il["beg"])):
                    continue
                actions[0] += 1
                budget[0] -= s["tab"]
                ilk_a[il["row"], IK_RETURNED] += s["lot"] - new_lot
                s.update(lot=new_lot, guy=GUY_KEEPER, tic=now + il["ttl"])
                acc[ACC_GAS] += gas
                prm[P_NBID] += 1

    # 4. low-baller
    if not clip and prm[P_LOWBALL] > 0:
        for s in slots:
            if s is None or s["guy"] != GUY_NONE or not s["end"] > now:
                continue
            offer = min(prm[P_LOWBALL], s["tab"])
            if not tend_ok_py(offer, s["bid"], s["tab"], ilks[s["ilk"]]["beg"]):
                continue
            s.update(bid=offer, guy=GUY_LOWBALL, tic=now + ilks[s["ilk"]]["ttl"])
            acc[ACC_GAS] += gas
            prm[P_NBID] += 1

    # write back
    for k, s in enumerate(slots):
        if s is None:
            if auc_a[k, AU_ACTIVE] != 0:
                auc_a[k, :] = 0.0  # a freed slot is a zero row
            continue
        auc_a[k, AU_ACTIVE] = 1.0
        auc_a[k, AU_ILK] = s["ilk"]
        auc_a[k, AU_USR] = s["usr"]
        auc_a[k, AU_TAB] = s["tab"]
        auc_a[k, AU_LOT] = s["lot"]
        auc_a[k, AU_TIC] = s["tic"]
        auc_a[k, AU_TOP] = s["top"]
        auc_a[k, AU_DUE] = s["due"]
        auc_a[k, AU_BID] = s["bid"]
        auc_a[k, AU_GUY] = s["guy"]
        auc_a[k, AU_END] = s["end"]
        auc_a[k, AU_KICKED] = s["kicked"]
    for e in events:
        if n_ev >= len(ev_step):
            break
        (ev_step[n_ev], ev_pos[n_ev], ev_proto[n_ev], ev_asset[n_ev], ev_seized[n_ev],
         ev_repaid[n_ev], ev_price[n_ev], ev_bonus[n_ev], ev_bad[n_ev], ev_fee[n_ev]) = e
        ev_exec[n_ev] = math.nan
        n_ev += 1
    return n_ev

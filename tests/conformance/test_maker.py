"""MakerDAO unit conformance (protocol-mechanics.md §3): abacus curves, bark sizing and the
Hole/hole throttle, clip take/redo with the chost rule, keeper rewards minted as debt, breaker
levels and ClipperMom, the 2020 English auction, kernel vs plain-Python twin.

Every test that moves state ends with :func:`conserved`: collateral (vault ink + auction lots +
bought by keepers + returned to owners) and debt (art·rate outstanding + uncovered auction debt
+ DAI paid against debt + vow bad debt == initial debt; sin == debt moved off vaults + minted
keeper rewards; joy == initial surplus + DAI paid in).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqcascade.protocols.maker import kernel as K
from liqcascade.protocols.maker import twin as KP
from liqcascade.protocols.kernel import ACC_BAD, ACC_BONUS, ACC_NLIQ, ACC_REPAID, LQ_CAPITAL, NACC, NLIQ
from liqcascade.venues.dispatch import venue_sell
from liqcascade.venues.kernel import ASSET, FEE, KIND, NCOL, VENUE_CPMM, X, Y
from liqcascade.protocols.maker import model as M
from liqcascade.protocols.maker import pack as M_pack

P0 = 100.0
DT = 60.0
AV_PTR = np.array([0, 1, 1], np.int64)  # asset 0 (collateral) has venue 0; asset 1 (DAI) none
AV_IDX = np.array([0], np.int64)
NONE = np.zeros((1, 1))


def cpmm(reserve=1e6, price=P0, fee=0.0):
    vs = np.zeros((1, NCOL))
    vs[0, KIND] = VENUE_CPMM
    vs[0, X] = reserve
    vs[0, Y] = reserve * price
    vs[0, FEE] = fee
    vs[0, ASSET] = 0
    return vs


def liq(mode=1, gas=0.0, capital=math.inf, max_actions=0):
    out = np.zeros(NLIQ)
    out[:] = (mode, gas, capital, max_actions)
    return out


def conserved(pack, t0):
    """The conservation identities of ``totals`` against the totals ``t0`` taken at build."""
    tt = M_pack.totals(pack)
    np.testing.assert_allclose(tt["collateral"], t0["ink"], rtol=1e-12, atol=1e-12)
    d0 = tt["debt0"]
    assert d0 == pytest.approx(t0["debt"], rel=1e-14)
    scale = max(d0, 1.0)
    assert tt["debt"] + tt["due"] + tt["repaid"] + tt["bad_debt"] == pytest.approx(d0, rel=1e-12, abs=1e-9 * scale)
    assert tt["sin"] == pytest.approx(d0 - tt["debt"] + tt["rewards"], rel=1e-12, abs=1e-9 * scale)
    assert tt["joy"] == pytest.approx(tt["surplus0"] + tt["repaid"] + tt["penalty"], rel=1e-12, abs=1e-9 * scale)
    assert tt["bad_debt"] >= -1e-9 * scale and tt["due"] >= -1e-9 * scale
    return tt


class Sim:
    """One pack driven step by step with a fixed oracle price (and optional OSM next price)."""

    def __init__(self, cfg, ink, art, *, vs=None, keeper=None, step=None, **build):
        self.pack = M_pack.build_pack(cfg, ink, art, **build)
        self.t0 = M_pack.totals(self.pack)
        self.vs = cpmm() if vs is None else vs
        self.liq = liq() if keeper is None else keeper
        self.acc = np.zeros(NACC)
        cap = 1000
        self.ev = (np.zeros(cap, np.int64), np.zeros(cap, np.int64), np.zeros(cap, np.int64),
                   np.zeros(cap, np.int64)) + tuple(np.zeros(cap) for _ in range(7))
        self.n_ev = 0
        self.t = 0
        self.step_fn = K.maker_step if step is None else step

    @property
    def prm(self):
        return self.pack[0]

    @property
    def ilk(self):
        return self.pack[1]

    @property
    def auc(self):
        return self.pack[5]

    @property
    def vow(self):
        return self.pack[6]

    def active(self):
        return [k for k in range(self.auc.shape[0]) if self.auc[k, K.AU_ACTIVE] != 0]

    def step(self, price=P0, peep=math.nan, route=False):
        self.t += 1
        self.ilk[:, K.IK_PEEP] = peep
        sold = np.zeros(2)
        prices = np.array([price, 1.0])
        n0 = self.n_ev
        self.n_ev = self.step_fn(self.pack, self.t, DT, prices, self.vs, NONE, NONE, AV_PTR, AV_IDX, sold,
                                 self.acc, self.liq, *self.ev, self.n_ev, 7, 1000)
        if route and sold[0] > 0:
            venue_sell(self.vs, NONE, NONE, 0, sold[0])
        self.last_events = [tuple(e[j] for e in self.ev) for j in range(n0, self.n_ev)]
        return sold

    def run(self, n, **kw):
        for _ in range(n):
            self.step(**kw)

    def check(self):
        return conserved(self.pack, self.t0)


ETHB = M.preset("ETH-B", dust=100.0, hole=1e6, Hole=1e7)  # §3.6 ETH-B revised, small dust


# =============================================================================================
# §3.4 abacus curves and §3.3 status


def test_stairstep_reaches_cusp_in_92_steps():
    n_expected = math.ceil(math.log(0.4) / math.log(0.99))
    assert n_expected == 92
    for step in (60.0, 90.0):
        first = None
        for n in range(200):
            for f in (K.clip_status, KP.status_py):
                done, price = f(K.CALC_STAIRSTEP, 1.0, n * step, 0.99, step, 0.0, math.inf, 0.4)
                assert price == pytest.approx(0.99 ** n, rel=1e-13)
            done, _ = K.clip_status(K.CALC_STAIRSTEP, 1.0, n * step, 0.99, step, 0.0, math.inf, 0.4)
            if done and first is None:
                first = n
        assert first == 92
        # the step only matters at whole steps: just before the 92nd step it is not done
        assert not K.clip_status(K.CALC_STAIRSTEP, 1.0, 92 * step - 1.0, 0.99, step, 0.0, math.inf, 0.4)[0]
    # 92 × 90 s = 138 min ≈ YFI-A tail 140 min; 92 × 60 s = 92 min ≈ ETH-B tail 90 min (§3.6)
    assert 92 * 90 / 60 == pytest.approx(M.PRESETS["YFI-A"].tail / 60, abs=2.0)
    assert 92 * 60 / 60 == pytest.approx(M.PRESETS["ETH-B"].tail / 60, abs=2.0)
    # with the ETH-B preset the tail fires first (5401 s), 2 min before the cusp (5520 s)
    c = M.PRESETS["ETH-B"]
    st_ = lambda d: K.clip_status(K.CALC_STAIRSTEP, 1.0, d, c.cut, c.step, 0.0, c.tail, c.cusp)[0]  # noqa: E731
    assert not st_(5400.0) and st_(5401.0)


def test_linear_and_exponential_curves():
    top, tau = 1200.0, 3600.0
    for f in (K.abacus_price, KP.curve_py):
        assert f(K.CALC_LINEAR, top, 0.0, 0.0, 0.0, tau) == top
        assert f(K.CALC_LINEAR, top, 900.0, 0.0, 0.0, tau) == pytest.approx(900.0)
        assert f(K.CALC_LINEAR, top, 1800.0, 0.0, 0.0, tau) == pytest.approx(600.0)
        assert f(K.CALC_LINEAR, top, tau, 0.0, 0.0, tau) == 0.0
        assert f(K.CALC_LINEAR, top, 2 * tau, 0.0, 0.0, tau) == 0.0
        assert f(K.CALC_EXPONENTIAL, top, 0.0, 0.999, 0.0, 0.0) == top
        assert f(K.CALC_EXPONENTIAL, top, 693.0, 0.999, 0.0, 0.0) == pytest.approx(top * 0.999 ** 693, rel=1e-13)
        assert f(K.CALC_EXPONENTIAL, top, 10.5, 0.99, 0.0, 0.0) == pytest.approx(top * 0.99 ** 10.5, rel=1e-13)
        assert f(K.CALC_STAIRSTEP, top, 179.0, 0.99, 90.0, 0.0) == pytest.approx(top * 0.99, rel=1e-14)
    # linear with cusp 0.4: done once price/top < 0.4, i.e. dur > 0.6 tau
    assert not K.clip_status(K.CALC_LINEAR, top, 0.6 * tau - 1, 0.0, 0.0, tau, math.inf, 0.4)[0]
    assert K.clip_status(K.CALC_LINEAR, top, 0.6 * tau + 1, 0.0, 0.0, tau, math.inf, 0.4)[0]
    # tail is strict: dur == tail is not done
    assert not K.clip_status(K.CALC_EXPONENTIAL, top, 100.0, 1.0, 0.0, 0.0, 100.0, 0.4)[0]
    assert K.clip_status(K.CALC_EXPONENTIAL, top, 100.5, 1.0, 0.0, 0.0, 100.0, 0.4)[0]


# =============================================================================================
# §3.1 unsafe, §3.2 bark sizing


def test_unsafe_rule():
    # ink·price/mat < art·rate
    for f in (K.vault_unsafe, KP.unsafe_py):
        assert f(10.0, 1000.0, 100.0, 1.5, 1.5)  # 666.7 < 1500
        assert not f(10.0, 600.0, 100.0, 1.5, 1.0)  # 666.7 > 600
        assert f(10.0, 600.0, 100.0, 1.5, 1.2)  # rate makes it unsafe: 666.7 < 720
        assert not f(10.0, 600.0, 0.0, 1.5, 1.0)  # spot 0: Dog/not-unsafe


def test_bark_partial_sizing():
    ink, art, rate, chop, dust = 100.0, 10_000.0, 1.05, 1.13, 100.0
    for f in (K.dog_bark_size, lambda *a: (K.BARK_OK,) + KP.bark_py(*a)):
        code, dart, dink, due, tab = f(ink, art, rate, chop, dust, 1e9, 0.0, 5_000.0, 0.0)
        assert code == K.BARK_OK
        assert dart == pytest.approx(min(art, 5_000.0 / rate / chop), rel=1e-15)
        assert dink == pytest.approx(ink * dart / art, rel=1e-15)
        assert due == pytest.approx(dart * rate, rel=1e-15)
        assert tab == pytest.approx(5_000.0, rel=1e-14)  # the auction exactly fills the room
    # the global room binds when smaller: room = min(Hole − Dirt, hole − dirt)
    code, dart, *_ = K.dog_bark_size(ink, art, rate, chop, dust, 3_000.0, 500.0, 5_000.0, 1_000.0)
    assert dart == pytest.approx(2_500.0 / rate / chop)
    # whole urn when it fits
    code, dart, dink, due, tab = K.dog_bark_size(ink, art, rate, chop, dust, math.inf, 0.0, math.inf, 0.0)
    assert (dart, dink, due) == (art, ink, art * rate) and tab == pytest.approx(art * rate * chop)
    # limit hit
    assert K.dog_bark_size(ink, art, rate, chop, dust, 1e9, 1e9, 5e3, 0.0)[0] == K.BARK_LIMIT
    assert K.dog_bark_size(ink, art, rate, chop, dust, 1e9, 0.0, 5e3, 5e3)[0] == K.BARK_LIMIT
    assert KP.bark_py(ink, art, rate, chop, dust, 1e9, 0.0, 5e3, 5e3) is None


def test_bark_dust_whole_urn_and_dusty_refusal():
    chop, dust = 1.13, 200.0
    # leftover (1000 − 884.96) = 115 < dust → the whole urn goes, the limit is overshot
    code, dart, dink, due, tab = K.dog_bark_size(10.0, 1_000.0, 1.0, chop, dust, math.inf, 0.0, 1_000.0, 0.0)
    assert code == K.BARK_OK and dart == 1_000.0 and dink == 10.0
    assert 1_000.0 < tab <= 1_000.0 + dust * chop
    assert KP.bark_py(10.0, 1_000.0, 1.0, chop, dust, math.inf, 0.0, 1_000.0, 0.0)[0] == 1_000.0
    # partial auction would be dusty (88.5 < 200) while the leftover is not → Dog reverts
    assert K.dog_bark_size(10.0, 10_000.0, 1.0, chop, dust, math.inf, 0.0, 100.0, 0.0)[0] == K.BARK_DUSTY
    assert KP.bark_py(10.0, 10_000.0, 1.0, chop, dust, math.inf, 0.0, 100.0, 0.0) is None

    # the same through the step
    cfg = M.preset("ETH-B", dust=dust, hole=1_000.0, Hole=1e9)
    s = Sim(cfg, [10.0, 10.0], [1_000.0, 10_000.0], keeper=liq(capital=0.0))
    s.step(price=50.0)  # both unsafe
    (k,) = s.active()
    assert s.auc[k, K.AU_USR] == 0 and s.auc[k, K.AU_LOT] == 10.0
    assert s.pack[4][0] == 0.0 and s.pack[3][0] == 0.0  # urn 0 emptied
    assert s.pack[4][1] == 10_000.0  # urn 1: no room left at all → untouched
    assert s.prm[K.P_DIRT] == pytest.approx(1_130.0) and s.ilk[0, K.IK_DIRT] == pytest.approx(1_130.0)
    s.check()

    s = Sim(M.preset("ETH-B", dust=dust, hole=100.0, Hole=1e9), [10.0], [10_000.0], keeper=liq(capital=0.0))
    s.step(price=50.0)
    assert s.active() == [] and s.pack[4][0] == 10_000.0 and s.prm[K.P_NKICK] == 0
    s.check()


def test_room_stays_used_while_auctions_run():
    """Throttle (§3.2 item 9): the second vault waits until takes dig the first auction's tab."""
    cfg = M.preset("ETH-B", dust=100.0, hole=1_100.0, Hole=1e9)
    s = Sim(cfg, [10.0, 10.0], [900.0, 900.0], keeper=liq(capital=0.0))
    for _ in range(30):
        s.step(price=P0)  # 10·100/1.3 = 769 < 900: both unsafe
        assert s.prm[K.P_NKICK] == 1
        assert s.prm[K.P_DIRT] == pytest.approx(900 * 1.13)
    assert s.pack[4][1] == 900.0
    s.check()
    s.liq[LQ_CAPITAL] = math.inf  # keepers arrive at t = 31
    s.step(price=P0)
    # the price (120·0.99^30 = 88.7) is below the venue: the whole lot is bought for less than
    # tab → lot == 0 removes the auction, the uncovered debt stays on the vow as bad debt
    price = 120.0 * 0.99 ** 30
    assert s.prm[K.P_NTAKE] == 1 and s.prm[K.P_NKICK] == 1
    tt = s.check()
    assert tt["bought"][0] == 10.0 and tt["repaid"] == pytest.approx(10.0 * price)
    assert tt["bad_debt"] == pytest.approx(900.0 - 10.0 * price) and tt["penalty"] == 0.0
    assert s.acc[ACC_BAD] == pytest.approx(900.0 - 10.0 * price)
    assert s.prm[K.P_DIRT] == pytest.approx(0.0, abs=1e-9)  # digs(tab + owe): the whole tab
    (ev,) = s.last_events
    assert ev[4] == 10.0 and ev[9] == pytest.approx(900.0 - 10.0 * price)
    s.step(price=P0)  # the room is free again: the second vault is kicked
    assert s.prm[K.P_NKICK] == 2 and s.pack[4][1] == 0.0
    s.check()


def test_global_hole_is_shared_by_ilks():
    """Two ilks on the same collateral: the global room ``Hole − Dirt`` binds across them."""
    def two(Hole):
        a = M.preset("ETH-A", dust=100.0, hole=1e6, Hole=Hole)
        b = M.preset("ETH-B", dust=100.0, hole=1e6, Hole=Hole)
        s = Sim([a, b], [10.0, 10.0], [900.0, 900.0], ilk_of=[0, 1], keeper=liq(capital=0.0))
        s.step(price=60.0)  # both unsafe; the ETH-A auction takes tab 1017 of the Hole
        return s

    s = two(1_100.0)  # 83 left: 83/1.13 = 73 < dust, leftover 827 ≥ dust → dusty, refused
    assert s.prm[K.P_NKICK] == 1 and s.pack[4][1] == 900.0 and s.ilk[1, K.IK_DIRT] == 0.0
    s.check()
    s = two(1_200.0)  # 183 left: a partial ETH-B auction of 162 art fills the Hole exactly
    assert s.prm[K.P_NKICK] == 2
    assert s.pack[4][1] == pytest.approx(900.0 - 183.0 / 1.13)
    assert s.prm[K.P_DIRT] == pytest.approx(1_200.0)
    assert s.ilk[:, K.IK_DIRT].sum() == pytest.approx(s.prm[K.P_DIRT])
    s.step(price=60.0)  # no room left for the rest of the ETH-B vault
    assert s.prm[K.P_NKICK] == 2
    s.check()
    with pytest.raises(ValueError):
        M_pack.build_pack([M.PRESETS["ETH-A"], M.preset("ETH-B", Hole=5.0)], [1.0], [1.0])


# =============================================================================================
# §3.3 kick / take / redo


def test_keeper_reward_minted_as_debt():
    cfg = M.preset("ETH-B", dust=100.0)
    s = Sim(cfg, [10.0], [900.0], keeper=liq(capital=0.0))
    s.step(price=P0)
    (k,) = s.active()
    tab = 900.0 * 1.13
    coin = 300.0 + 0.001 * tab
    assert s.auc[k, K.AU_TAB] == pytest.approx(tab)
    assert s.auc[k, K.AU_TOP] == pytest.approx(P0 * 1.20)
    assert s.vow[K.VW_REWARDS] == pytest.approx(coin)
    assert s.vow[K.VW_SIN] == pytest.approx(900.0 + coin)
    assert s.acc[ACC_BONUS] == pytest.approx(coin) and s.acc[ACC_NLIQ] == 1
    (ev,) = s.last_events
    assert ev[1] == 1000 and ev[2] == 7 and ev[4] == 0.0 and ev[8] == pytest.approx(coin)
    tt = s.check()
    assert tt["vow_net"] == pytest.approx(-(900.0 + coin))


def test_take_sizing_and_chost_rule():
    tab, lot, price, chost = 1_130.0, 10.0, 100.0, 113.0
    for f in (K.clip_take_size, lambda *a: (lambda r: (False, 0.0, 0.0) if r is None else (True,) + r)(KP.take_py(*a))):
        ok, slc, owe = f(tab, lot, price, 20.0, chost)  # owe 1000 < tab, whole lot
        assert ok and slc == lot and owe == 1_000.0
        ok, slc, owe = f(tab, lot, 120.0, 20.0, chost)  # owe 1200 > tab → owe = tab
        assert ok and owe == tab and slc == pytest.approx(tab / 120.0)
        ok, slc, owe = f(tab, lot, price, 9.5, chost)  # leaves 180 ≥ chost: as asked
        assert ok and slc == 9.5 and owe == 950.0
        ok, slc, owe = f(tab, lot, 112.0, 9.5, chost)  # leaves 66 < chost → owe = tab − chost
        assert ok and owe == pytest.approx(tab - chost) and slc == pytest.approx((tab - chost) / 112.0)
        ok, *_ = f(100.0, lot, price, 0.5, chost)  # tab ≤ chost: partial purchases impossible
        assert not ok
        ok, slc, owe = f(100.0, lot, price, lot, chost)  # … the whole lot is fine
        assert ok and owe == 100.0 and slc == 1.0


def test_take_through_the_step_with_chost_and_capital():
    """A keeper limited to 1,100 DAI per step would leave 17 < chost = 113: its take is cut to
    tab − chost; the next step takes the rest (§3.3 take)."""
    cfg = M.preset("ETH-B", dust=100.0)
    s = Sim(cfg, [12.0], [1_000.0], keeper=liq(mode=1, capital=1_100.0))
    tab = 1_000.0 * 1.13
    s.step(price=P0)  # kick: top 120
    k = s.active()[0]
    n = 0
    while s.prm[K.P_NTAKE] == 0:
        sold = s.step(price=P0)
        n += 1
    # 120 · 0.99^k < 100 first at k = 19 steps of 60 s: "expected settlement about 19 min" (§3.6)
    assert n == 19
    assert s.auc[k, K.AU_TAB] == pytest.approx(cfg.chost)
    price = 120.0 * 0.99 ** 19
    assert sold[0] == pytest.approx((tab - cfg.chost) / price)
    # DAI covers the debt (due 1000) first, the rest is penalty income
    assert s.acc[ACC_REPAID] == pytest.approx(1_000.0)
    assert s.vow[K.VW_PENALTY] == pytest.approx(tab - cfg.chost - 1_000.0)
    s.check()
    s.step(price=P0)
    assert s.active() == []
    tt = s.check()
    assert tt["repaid"] == pytest.approx(1_000.0) and tt["penalty"] == pytest.approx(130.0)
    assert tt["bad_debt"] == 0.0 and tt["returned"][0] > 0.0
    assert tt["Dirt"] == pytest.approx(0.0, abs=1e-9)


def test_rational_keeper_waits_for_profit_mechanical_does_not():
    """Rational keepers need the venue's execution price (slippage, fee) net of gas to beat
    the auction price; mechanical ones take as soon as the price is at or below spot."""
    cfg = M.preset("ETH-B", dust=100.0)
    first = {}
    for mode, gas, fee in ((0, 0.0, 0.0), (1, 0.0, 0.0), (1, 0.0, 0.02), (1, 50.0, 0.0)):
        s = Sim(cfg, [12.0], [1_000.0], vs=cpmm(reserve=1_000.0, fee=fee), keeper=liq(mode=mode, gas=gas))
        s.step(price=P0)
        n = 0
        while s.prm[K.P_NTAKE] == 0 and n < 80:
            s.step(price=P0)
            n += 1
        first[(mode, gas, fee)] = n
        s.check()
    assert first[(0, 0.0, 0.0)] == 19  # 120·0.99^19 = 99.1 ≤ spot 100
    assert first[(1, 0.0, 0.0)] == 19  # marginal price 100 > 99.1: takes the profitable slice
    assert first[(1, 0.0, 0.02)] > 19  # the 2 % fee pushes it later
    assert first[(1, 50.0, 0.0)] > 19  # so does gas


def test_redo_only_when_done_and_reward_chost_rule():
    cfg = M.preset("ETH-B", dust=100.0)  # tail 90 min, step 60 s
    s = Sim(cfg, [10.0], [900.0], keeper=liq(capital=0.0))
    s.step(price=P0)  # kick at t = 1
    k = s.active()[0]
    rewards0 = s.vow[K.VW_REWARDS]
    for _ in range(90):  # dur = 60 … 5400 s: not done (tail is strict, cusp needs 92 steps)
        s.step(price=P0)
    assert s.prm[K.P_NREDO] == 0 and s.auc[k, K.AU_TIC] == 1 * DT
    s.step(price=80.0)  # dur 5460 > 5400: redo with the new feed price
    assert s.prm[K.P_NREDO] == 1
    assert s.auc[k, K.AU_TIC] == s.t * DT and s.auc[k, K.AU_TOP] == pytest.approx(80.0 * 1.2)
    coin = 300.0 + 0.001 * s.auc[k, K.AU_TAB]  # tab ≥ chost and lot·price ≥ chost
    assert s.vow[K.VW_REWARDS] - rewards0 == pytest.approx(coin)
    s.check()
    # no reward when lot·price < chost (the collateral is nearly worthless)
    for _ in range(91):
        s.step(price=0.01)
    assert s.prm[K.P_NREDO] == 2
    assert s.vow[K.VW_REWARDS] - rewards0 == pytest.approx(coin)
    s.check()
    # the twin's redo reward rule
    assert KP.redo_reward_py(1_017.0, 10.0, 0.01, 300.0, 0.001, 113.0) == 0.0
    assert KP.redo_reward_py(100.0, 10.0, 100.0, 300.0, 0.001, 113.0) == 0.0
    assert K.redo_coin(1_017.0, 10.0, 100.0, 300.0, 0.001, 113.0) == pytest.approx(301.017)


# =============================================================================================
# breakers: stopped levels (§3.3) and ClipperMom (§3.5)


def _running_auction(stopped_after_kick, price_path, keeper=None):
    cfg = M.preset("ETH-B", dust=100.0)
    # vault 0 is unsafe at 100, vault 1 only below 100·900/1538 (oracle 50 below)
    s = Sim(cfg, [10.0, 20.0], [900.0, 900.0], keeper=liq(capital=0.0) if keeper is None else keeper)
    s.step(price=P0)
    assert s.prm[K.P_NKICK] == 1
    s.ilk[0, K.IK_STOPPED] = stopped_after_kick
    for p in price_path:
        s.step(price=p)
    return s


def test_breaker_levels():
    # control: with stopped = 0 the second vault is kicked once the oracle falls
    s = _running_auction(0, [50.0] * 3)
    assert s.prm[K.P_NKICK] == 2
    s.check()
    # stopped = 1: no new kicks; takes go on
    s = _running_auction(1, [50.0] * 25, keeper=liq())
    assert s.prm[K.P_NKICK] == 1 and s.prm[K.P_NTAKE] >= 1
    s.check()
    # stopped = 1: redo still allowed
    s = _running_auction(1, [50.0] * 95)
    assert s.prm[K.P_NREDO] == 1
    # stopped = 2: no redo (the done auction just sits), takes allowed before it is done
    s = _running_auction(2, [50.0] * 95)
    assert s.prm[K.P_NREDO] == 0 and len(s.active()) == 1 and s.prm[K.P_NKICK] == 1
    s = _running_auction(2, [50.0] * 25, keeper=liq())
    assert s.prm[K.P_NTAKE] >= 1
    # stopped = 3: no takes either
    s = _running_auction(3, [50.0] * 60, keeper=liq())
    assert s.prm[K.P_NTAKE] == 0 and s.prm[K.P_NKICK] == 1
    s.check()


def test_clippermom_trips_at_half_price():
    cfg = M.preset("ETH-B", dust=100.0)  # tolerance 0.5
    s = Sim(cfg, [10.0], [500.0])
    s.step(price=P0, peep=51.0)
    assert s.ilk[0, K.IK_STOPPED] == 0
    s.step(price=P0, peep=50.0)  # not strictly below cur · tolerance
    assert s.ilk[0, K.IK_STOPPED] == 0
    s.step(price=P0, peep=49.0)
    assert s.ilk[0, K.IK_STOPPED] == 2 and s.prm[K.P_NTRIP] == 1
    s.step(price=P0, peep=P0)  # reset is manual (governance)
    assert s.ilk[0, K.IK_STOPPED] == 2
    s.step(price=30.0)  # vault now unsafe: no kick while stopped ≥ 1
    assert s.prm[K.P_NKICK] == 0
    s.check()
    # a level-3 stop is never lowered by the breaker
    s = Sim(cfg.model_copy(update={"stopped": 3}), [10.0], [500.0])
    s.step(price=P0, peep=1.0)
    assert s.ilk[0, K.IK_STOPPED] == 3


def test_clippermom_through_the_osm_in_run_unit():
    """A 60 % fall: the OSM publishes next = 40 while current = 100 → the breaker trips at that
    poke, an hour before the vaults see the low price, so nothing is ever kicked (§3.5, §3.7)."""
    cfg = M.preset("ETH-B", dust=100.0)
    pack = M_pack.build_pack(cfg, [10.0, 20.0], [500.0, 900.0])
    t0 = M_pack.totals(pack)
    T = 200
    path = np.ones((T + 1, 2))
    path[:, 0] = P0
    path[30:, 0] = 40.0
    r = M_pack.run_unit(pack, path, cpmm(), NONE, NONE, AV_PTR, AV_IDX, liq(), DT)
    assert r.extra["hop_steps"] == 60
    trip = int(np.argmax(r.stopped[:, 0] == 2))
    assert trip == 60 and r.osm[60, 0] == P0 and r.peep[60, 0] == pytest.approx(40.0)
    assert r.osm[120, 0] == pytest.approx(40.0)
    assert M_pack.totals(pack)["n_kick"] == 0
    conserved(pack, t0)
    # with the breaker off the same path liquidates both vaults
    pack = M_pack.build_pack(cfg.model_copy(update={"tolerance": 0.0}), [10.0, 20.0], [500.0, 900.0])
    t0 = M_pack.totals(pack)
    r = M_pack.run_unit(pack, path, cpmm(), NONE, NONE, AV_PTR, AV_IDX, liq(), DT)
    tt = conserved(pack, t0)
    assert tt["n_kick"] == 2 and tt["debt"] == 0.0 and tt["n_active"] == 0
    assert r.acc[ACC_NLIQ] == tt["n_kick"] + tt["n_take"]


def test_run_unit_throttle_never_exceeds_limits_by_more_than_dust():
    cfg = M.preset("ETH-A", dust=500.0, hole=20_000.0, Hole=30_000.0)
    rng = np.random.default_rng(5)
    n = 60
    ink = rng.uniform(1.0, 30.0, n)
    art = ink * P0 / rng.uniform(1.2, 2.2, n)
    pack = M_pack.build_pack(cfg, ink, art)
    t0 = M_pack.totals(pack)
    T = 600
    path = np.ones((T + 1, 2))
    path[:, 0] = P0 * np.exp(np.minimum(0, -np.linspace(0, 0.5, T + 1)))
    r = M_pack.run_unit(pack, path, cpmm(reserve=5_000.0, fee=0.003), NONE, NONE, AV_PTR, AV_IDX,
                   liq(mode=1, gas=5.0, capital=50_000.0), DT)
    slack = cfg.dust * (1 + cfg.chop)
    assert np.all(r.dirt <= cfg.hole + slack + 1e-6)
    assert r.n_active.max() >= 2
    tt = conserved(pack, t0)
    assert tt["n_kick"] > n // 2 and tt["n_take"] > 0
    ev = r.events
    takes = ev["collateral_seized"] > 0
    assert np.all(np.isfinite(ev["execution_price"][takes]))
    assert ev["collateral_seized"].sum() == pytest.approx(tt["bought"][0], rel=1e-12)
    assert r.sold.sum() == pytest.approx(tt["bought"][0], rel=1e-12)
    assert r.acc[ACC_BAD] == pytest.approx(tt["bad_debt"], rel=1e-12, abs=1e-9)


# =============================================================================================
# §3.8 the 2020 English auction


FLIP = M.PRESETS["ETH-A-flip-2020"]


def test_flip_zero_bid_wins_when_nobody_counter_bids():
    """Keepers have no DAI (or gas is prohibitive): a single near-zero bid stands for ttl and
    the auction settles at it — the Black Thursday outcome (§3.8)."""
    s = Sim(FLIP, [10.0], [900.0], keeper=liq(capital=0.0), lowball=1e-27)
    s.step(price=P0)  # 10·100/1.5 = 667 < 900: bite (lump 50 > ink: whole vault) + zero bid
    (k,) = s.active()
    assert s.auc[k, K.AU_TAB] == pytest.approx(900.0 * 1.13)
    assert s.auc[k, K.AU_GUY] == K.GUY_LOWBALL and s.auc[k, K.AU_BID] == 1e-27
    ttl_end = s.t * DT + FLIP.flip.ttl
    assert s.auc[k, K.AU_TIC] == ttl_end and s.auc[k, K.AU_END] == s.t * DT + FLIP.flip.tau
    while (s.t + 1) * DT <= ttl_end:  # at now == tic neither tend nor deal is allowed
        sold = s.step(price=P0)
        assert sold[0] == 0.0
        s.check()
    sold = s.step(price=P0)  # now > tic: deal
    assert s.t * DT > ttl_end and s.active() == []
    assert sold[0] == 10.0
    tt = s.check()
    assert tt["bought"][0] == 10.0 and tt["repaid"] == 1e-27 and tt["penalty"] == 0.0
    assert tt["bad_debt"] == pytest.approx(900.0)
    (ev,) = s.last_events
    assert ev[4] == 10.0 and ev[9] == pytest.approx(900.0)


def test_flip_counter_bid_beats_the_zero_bid():
    s = Sim(FLIP, [10.0], [900.0], keeper=liq(capital=0.0), lowball=1e-27)
    s.step(price=P0)
    s.run(100)
    s.liq[LQ_CAPITAL] = math.inf  # a keeper with DAI shows up before ttl
    s.step(price=P0)
    (k,) = s.active()
    assert s.auc[k, K.AU_GUY] == K.GUY_KEEPER
    bid = s.auc[k, K.AU_BID]
    assert 900.0 < bid < 1_000.0  # its valuation: 10 units into the pool, below tab 1017
    s.run(int(FLIP.flip.ttl / DT) + 1)
    tt = s.check()
    assert tt["repaid"] == pytest.approx(900.0) and tt["penalty"] == pytest.approx(bid - 900.0)
    assert tt["bad_debt"] == 0.0 and tt["bought"][0] == 10.0


def test_flip_tend_then_dent_returns_collateral():
    s = Sim(FLIP, [12.0], [1_000.0], keeper=liq(mode=1, gas=1.0))
    s.step(price=P0)  # bite + tend: valuation ≈ 1200 > tab 1130 → bid = tab
    (k,) = s.active()
    tab = 1_130.0
    assert s.auc[k, K.AU_BID] == tab and s.auc[k, K.AU_LOT] == 12.0
    s.step(price=P0)  # dent: the smallest lot still worth tab + gas
    lot = s.auc[k, K.AU_LOT]
    assert lot < 12.0 / 1.05
    from liqcascade.kernels.cascade import _sale_quote
    assert _sale_quote(s.vs, NONE, NONE, 0, lot) == pytest.approx(tab + 1.0, rel=1e-10)
    assert s.ilk[0, K.IK_RETURNED] == pytest.approx(12.0 - lot)
    assert KP.dent_ok_py(lot, 12.0, tab, tab, 1.05) and not K.flip_dent_ok(lot, lot, tab, tab, 1.05)
    s.run(int(FLIP.flip.ttl / DT) + 1)
    tt = s.check()
    assert tt["n_deal"] == 1 and tt["bought"][0] == pytest.approx(lot)
    assert tt["penalty"] == pytest.approx(130.0) and tt["bad_debt"] == 0.0


def test_flip_rules_and_tick():
    for f in (K.flip_tend_ok, KP.tend_ok_py):
        assert f(1e-27, 0.0, 1_000.0, 1.05)  # first bid: anything > 0
        assert not f(0.0, 0.0, 1_000.0, 1.05)
        assert not f(104.0, 100.0, 1_000.0, 1.05)  # < 5 % more
        assert f(105.0, 100.0, 1_000.0, 1.05)
        assert f(1_000.0, 990.0, 1_000.0, 1.05)  # equal to tab: allowed
        assert not f(1_001.0, 990.0, 1_000.0, 1.05)
    for f in (K.flip_dent_ok, KP.dent_ok_py):
        assert f(9.5, 10.0, 1_000.0, 1_000.0, 1.05)
        assert not f(9.6, 10.0, 1_000.0, 1_000.0, 1.05)
        assert not f(9.0, 10.0, 999.0, 1_000.0, 1.05)  # tend phase not finished
    # no bid at all: tick restarts the auction at end
    cfg = FLIP.model_copy(update={"flip": M.FlipConfig(ttl=600.0, tau=1_800.0, lump=50.0)})
    s = Sim(cfg, [10.0], [900.0], keeper=liq(capital=0.0))
    s.step(price=P0)
    (k,) = s.active()
    end0 = s.auc[k, K.AU_END]
    s.run(31)
    assert s.auc[k, K.AU_END] == s.t * DT + 1_800.0 and s.auc[k, K.AU_END] > end0
    s.check()
    # lump: one bite takes at most lump
    s = Sim(FLIP, [120.0], [10_000.0], keeper=liq(capital=0.0))
    s.step(price=P0)
    (k,) = s.active()
    assert s.auc[k, K.AU_LOT] == 50.0 and s.auc[k, K.AU_DUE] == pytest.approx(10_000.0 * 50 / 120)
    assert K.cat_bite_size(120.0, 10_000.0, 1.0, 1.13, 50.0)[:2] == KP.bite_py(120.0, 10_000.0, 1.0, 1.13, 50.0)[:2]
    s.check()


# =============================================================================================
# presets, config


def test_presets_match_the_reference_tables():
    b = M.PRESETS["ETH-B"]  # §3.6 ETH-B revised
    assert (b.cut, b.step, b.buf, b.cusp, b.tail, b.chip, b.tip, b.chop, b.tolerance, b.hole, b.Hole) == (
        0.99, 60.0, 1.20, 0.4, 90 * 60.0, 0.001, 300.0, 0.13, 0.5, 15e6, 100e6)
    y = M.PRESETS["YFI-A"]  # §3.6 YFI-A
    assert (y.cut, y.step, y.buf, y.cusp, y.tail, y.chip, y.tip, y.hole, y.chop, y.tolerance, y.Hole) == (
        0.99, 90.0, 1.30, 0.4, 140 * 60.0, 0.001, 0.0, 5e6, 0.13, 0.5, 100e6)
    assert M.PRESETS["ETH-A"].mat == 1.5 and M.PRESETS["ETH-A"].step == 90.0
    f = M.PRESETS["ETH-A-flip-2020"]
    assert f.auction == "flip" and (f.flip.beg, f.flip.ttl, f.flip.tau, f.chop) == (0.05, 3 * 3600.0, 2 * 86400.0, 0.13)
    text = M.describe(b)
    assert "§3" in text and "ETH-B" in text
    with pytest.raises(Exception):
        M.MakerConfig(cusp=1.5)
    with pytest.raises(Exception):
        M.MakerConfig(unknown=1)
    pack = M_pack.build_pack(b, [1.0], [10.0])
    assert pack[1][0, K.IK_CHOP] == 1.13 and pack[1][0, K.IK_CHOST] == pytest.approx(b.dust * 1.13)


# =============================================================================================
# kernel vs twin


@st.composite
def scenarios(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    flip = draw(st.booleans())
    n = draw(st.integers(1, 8))
    ink = rng.uniform(0.5, 20.0, n)
    art = ink * P0 / rng.uniform(1.0, 2.2, n)
    cfg = dict(
        auction="flip" if flip else "clip",
        mat=draw(st.sampled_from([1.3, 1.5, 1.75])),
        chop=draw(st.sampled_from([0.0, 0.05, 0.13])),
        dust=draw(st.sampled_from([0.0, 50.0, 300.0])),
        hole=draw(st.sampled_from([math.inf, 800.0, 3_000.0])),
        Hole=draw(st.sampled_from([math.inf, 2_000.0, 10_000.0])),
        buf=draw(st.sampled_from([1.0, 1.05, 1.2])),
        tail=float(draw(st.integers(5, 40))) * DT + draw(st.sampled_from([0.0, 30.0])),
        cusp=draw(st.sampled_from([0.0, 0.4, 0.7])),
        chip=draw(st.sampled_from([0.0, 0.001, 0.01])),
        tip=draw(st.sampled_from([0.0, 5.0])),
        calc=draw(st.sampled_from(["stairstep", "linear", "exponential"])),
        step=float(draw(st.sampled_from([30, 60, 90]))),
        tau=float(draw(st.sampled_from([600, 1_800, 3_600]))),
        tolerance=draw(st.sampled_from([0.0, 0.5, 0.8])),
        osm_hop=DT * draw(st.integers(1, 5)),
        flip=dict(beg=draw(st.sampled_from([0.0, 0.05])), ttl=DT * draw(st.integers(1, 6)),
                  tau=DT * draw(st.integers(3, 20)), lump=draw(st.sampled_from([math.inf, 5.0]))),
    )
    cfg["cut"] = draw(st.sampled_from([0.999, 0.9995])) if cfg["calc"] == "exponential" else draw(
        st.sampled_from([0.97, 0.99, 1.0]))
    T = draw(st.integers(15, 60))
    path = np.ones((T + 1, 2))
    start = draw(st.integers(1, T // 2))
    shock = draw(st.sampled_from([0.1, 0.3, 0.55, 0.7]))
    path[start:, 0] = P0 * (1 - shock)
    path[:, 0] *= np.exp(np.cumsum(rng.normal(0, 0.01, T + 1)))
    keeper = liq(mode=draw(st.integers(0, 1)), gas=draw(st.sampled_from([0.0, 2.0])),
                 capital=draw(st.sampled_from([math.inf, 2_000.0, 400.0, 0.0])), max_actions=draw(st.integers(0, 3)))
    vs = cpmm(reserve=draw(st.sampled_from([20.0, 200.0, 5_000.0])), fee=draw(st.sampled_from([0.0, 0.003])))
    build = dict(lowball=draw(st.sampled_from([0.0, 1e-27])) if flip else 0.0,
                 margin=draw(st.sampled_from([0.0, 0.02])), capacity=draw(st.sampled_from([2, 32])),
                 surplus=draw(st.sampled_from([0.0, 1e3])))
    return M.MakerConfig.model_validate(cfg), ink, art, path, keeper, vs, build


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_kernel_matches_twin(sc):
    cfg, ink, art, path, keeper, vs, build = sc
    out = []
    for fn in (K.maker_step, KP.maker_step_py):
        pack = M_pack.build_pack(cfg, ink, art, **build)
        t0 = M_pack.totals(pack)
        r = M_pack.run_unit(pack, path, vs, NONE, NONE, AV_PTR, AV_IDX, keeper, DT, step_fn=fn)
        conserved(pack, t0)
        out.append((pack, r))
    (pk, rk), (pp, rp) = out
    for a, b in zip(pk, pp):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-7, equal_nan=True)
    np.testing.assert_allclose(rk.acc, rp.acc, rtol=1e-9, atol=1e-7)
    assert set(rk.events) == set(rp.events)
    for key in rk.events:
        np.testing.assert_allclose(rk.events[key], rp.events[key], rtol=1e-9, atol=1e-7, equal_nan=True)
    np.testing.assert_allclose(rk.vs, rp.vs, rtol=1e-9)


def test_kernel_matches_twin_on_a_book_venue():
    """Depth-curve book (transient impact): the keepers' slice comes from ``book_sell_to_price``
    in the kernel and from the twin's own book class."""
    from liqcascade.venues.kernel import HALF, MID, NK, REF, VENUE_BOOK
    vs = np.zeros((1, NCOL))
    vs[0, KIND] = VENUE_BOOK
    vs[0, MID] = vs[0, REF] = P0
    vs[0, HALF] = 5.0
    vs[0, NK] = 3
    vdk = np.array([[0.01, 0.05, 0.2]])
    vdq = np.array([[2e3, 1e4, 3e4]])
    rng = np.random.default_rng(3)
    ink = rng.uniform(1.0, 20.0, 12)
    art = ink * P0 / rng.uniform(1.2, 1.8, 12)
    T = 80
    path = np.ones((T + 1, 2))
    path[:, 0] = P0
    path[5:, 0] = 70.0
    for cfg, keeper in ((M.preset("ETH-B", dust=50.0, hole=3_000.0, Hole=5_000.0, osm_hop=120.0), liq(1, 1.0, 2_500.0)),
                        (M.preset("ETH-A-flip-2020", flip=M.FlipConfig(ttl=300.0, tau=1_200.0, lump=5.0),
                                  osm_hop=120.0), liq(1, 1.0, 2_500.0, 3))):
        out = []
        for fn in (K.maker_step, KP.maker_step_py):
            pack = M_pack.build_pack(cfg, ink, art, margin=0.01)
            t0 = M_pack.totals(pack)
            r = M_pack.run_unit(pack, path, vs, vdk, vdq, AV_PTR, AV_IDX, keeper, DT, step_fn=fn)
            tt = conserved(pack, t0)
            out.append((pack, r, tt))
        (pk, rk, tk), (pp, rp, tp) = out
        assert tk["n_kick"] > 3 and (tk["n_take"] > 3 or tk["n_deal"] > 3)
        for a, b in zip(pk, pp):
            np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-6, equal_nan=True)
        for key in rk.events:
            np.testing.assert_allclose(rk.events[key], rp.events[key], rtol=1e-7, atol=1e-6, equal_nan=True)

"""crvUSD LLAMMA unit against protocol-mechanics.md §5 (curve-stablecoin v1).

Every test that moves anything checks conservation (``totals``): collateral in bands + admin fees
+ liquidated + withdrawn + arbitrageur inventory + net sold to the market = deposited; stablecoin
in bands + admin fees + liquidated + withdrawn + arbitrageur P&L = net quote the arbitrageur
took from the market; open debt + repaid + bad = initial debt — each to 1e-9 relative.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqcascade.errors import InputError
from liqcascade.protocols.llamma import kernel as K
from liqcascade.protocols.llamma import twin as P
from liqcascade.venues import dispatch as VK
from liqcascade.venues import kernel as VK_layout
from liqcascade.protocols.kernel import ACC_BONUS, ACC_FEES, ACC_NLIQ, ACC_REPAID, NACC
from liqcascade.venues.pack import make_venue_state
from liqcascade.protocols.llamma import model as L_model
from liqcascade.protocols.llamma import pack as L

P0 = 2000.0
MECH = L.liq_vector("mechanical")
RATIONAL = L.liq_vector("rational")
NO_VENUE = (np.zeros((0, VK_layout.NCOL)), np.zeros((0, 1)), np.zeros((0, 1)),
            np.array([0, 0], np.int64), np.zeros(0, np.int64))


def cfg(**kw):
    base = dict(A=100, fee=0.006, loan_discount=0.09, liquidation_discount=0.06)
    base.update(kw)
    return L_model.LlammaConfig(**base)


def cpmm(reserve=2000.0, fee=0.003, p=P0):
    vs, vdk, vdq = make_venue_state([{"kind": "cpmm", "reserve_asset": reserve,
                                      "reserve_quote": reserve * p, "fee": fee}])
    return vs, vdk, vdq, np.array([0, 1], np.int64), np.array([0], np.int64)


def assert_conserved(pack, rtol=1e-9):
    t = L.totals(pack)
    qscale = max(t["debt_initial"], abs(t["quote_from_market"]), t["x_bands"], abs(t["arb_pnl"]), 1.0)
    assert abs(t["coll_residual"]) <= rtol * t["coll_initial"], t
    assert abs(t["x_residual"]) <= rtol * qscale, t
    assert abs(t["debt_residual"]) <= rtol * t["debt_initial"], t
    assert t["arb_inventory"] >= -rtol * t["coll_initial"]
    return t


class Stepper:
    """Calls ``llamma_step`` directly, one step at a time, keeping events and accumulators."""

    def __init__(self, pack, venues=NO_VENUE, liq=MECH, dt=60.0, cap=64):
        self.pack, self.liq, self.dt = pack, liq, dt
        self.vs, self.vdk, self.vdq, self.av_ptr, self.av_idx = venues
        self.acc = np.zeros(NACC)
        self.ev = [np.zeros(cap, np.int64) for _ in range(4)] + [np.zeros(cap) for _ in range(7)]
        self.n_ev = 0
        self.t = 0
        self.sold_total = 0.0

    def __call__(self, p, t=None):
        self.t = self.t + 1 if t is None else t
        sold = np.zeros(1)
        self.n_ev = K.llamma_step(self.pack, self.t, self.dt, np.array([float(p)]), self.vs, self.vdk,
                                  self.vdq, self.av_ptr, self.av_idx, sold, self.acc, self.liq,
                                  *self.ev, self.n_ev, 0, 0)
        self.sold_total += sold[0]
        return sold[0]

    def events(self):
        names = ["step", "pos", "proto", "asset", "seized", "repaid", "price", "exec", "bonus", "bad", "fee"]
        return {k: a[: self.n_ev] for k, a in zip(names, self.ev)}


def user_xy(pack):
    par, st_, bx, by, bs, u_n1, u_nb, u_sh, *_ = pack
    return np.array([K.user_sum_xy(pack, u) for u in range(len(u_n1))])


# -------------------------------------------------------------------------------------------
# §5.1 bands, §5.2 band prices and invariant
# -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("A", [2, 100, 10000])
def test_band_edges_and_widths(A):
    for n in (-7, 0, 1, 13):
        up = K.p_oracle_up(P0, float(A), n)
        down = K.p_oracle_down(P0, float(A), n)
        assert up == pytest.approx(P0 * ((A - 1) / A) ** n, rel=1e-13)
        assert down == pytest.approx(K.p_oracle_up(P0, float(A), n + 1), rel=1e-15)
        assert (up - down) / up == pytest.approx(1.0 / A, rel=1e-10)  # width 1/A
    c = cfg(A=A, fee=min(0.006, 4.0 / A))
    for p in (P0, P0 * 0.97, P0 * 1.3):
        n = L.band_of_price(c, p, P0)
        assert K.p_oracle_down(P0, float(A), n) < p <= K.p_oracle_up(P0, float(A), n)
    # a user's bands: N contiguous bands below the price, collateral equal in each
    pack = L.build_pack(c, [3.0], [0.5 * L.max_borrowable(c, 3.0, 7, P0)], 7, P0)
    par, st_, bx, by, bs, u_n1, u_nb, *_ = pack
    i0 = int(u_n1[0] - par[K.P_NLO])
    assert np.allclose(by[i0:i0 + 7], 3.0 / 7, rtol=1e-14) and by.sum() == pytest.approx(3.0, rel=1e-15)
    assert K.p_oracle_up(P0, float(A), int(u_n1[0])) < P0
    assert_conserved(pack)


def test_band_price_moves_with_the_cube_of_the_oracle_price():
    A = 100.0
    p_up = K.p_oracle_up(P0, A, 3)
    p_dn = K.p_oracle_down(P0, A, 3)
    for p_o in (p_up * 1.02, 0.5 * (p_up + p_dn), p_dn * 0.97):
        cd, cu = K.band_price_range(p_o, p_up, A)
        assert cd == pytest.approx(p_o**3 / p_up**2, rel=1e-14)
        assert cu == pytest.approx(p_o**3 / p_dn**2, rel=1e-14)
        assert cu / cd == pytest.approx((A / (A - 1)) ** 2, rel=1e-13)
        for k in (0.99, 1.01):
            cd2, cu2 = K.band_price_range(p_o * k, p_up, A)
            assert cd2 / cd == pytest.approx(k**3, rel=1e-13)
            assert cu2 / cu == pytest.approx(k**3, rel=1e-13)
        # a band with only collateral sells at p_cd, one with only stablecoin buys at p_cu
        assert K.band_price(0.0, 5.0, p_o, p_up, A) == pytest.approx(cd, rel=1e-14)
        assert K.band_price(7000.0, 0.0, p_o, p_up, A) == pytest.approx(cu, rel=1e-14)
    # at p_o = p_up the collateral-only band is at p_up; at p_o = p_down the other edge is p_down
    assert K.band_price_range(p_up, p_up, A)[0] == pytest.approx(p_up, rel=1e-14)
    assert K.band_price_range(p_dn, p_up, A)[1] == pytest.approx(p_dn, rel=1e-14)


def test_band_invariant_and_y0():
    A = 100.0
    p_up = K.p_oracle_up(P0, A, 2)
    for x, y, p_o in ((0.0, 4.0, p_up), (0.0, 4.0, 0.99 * p_up), (3000.0, 1.5, 0.995 * p_up), (8000.0, 0.0, 1.1 * p_up)):
        y0 = K.get_y0(x, y, p_o, p_up, A)
        b = p_up * (A - 1) * x / p_o + A * p_o**2 / p_up * y
        assert p_o * A * y0**2 - y0 * b - x * y == pytest.approx(0.0, abs=1e-9 * (y0 * b + x * y))
        f, g, inv = K.band_curve(x, y, p_o, p_up, A)
        assert f == pytest.approx(p_o**2 * A * y0 / p_up, rel=1e-14)
        assert g == pytest.approx(p_up * (A - 1) * y0 / p_o, rel=1e-14)
        assert inv == pytest.approx(p_o * A**2 * y0**2, rel=1e-12)  # AMM.vy: Inv = p_o·A²·y0²
        if x == 0.0:
            assert y0 == pytest.approx(p_o * y / p_up, rel=1e-14)
        if x > 0 and y > 0:
            assert K.band_price(x, y, p_o, p_up, A) == pytest.approx((f + x) / (g + y), rel=1e-14)
            cd, cu = K.band_price_range(p_o, p_up, A)
            assert cd <= (f + x) / (g + y) <= cu


def test_exchange_walks_bands_and_charges_the_fee():
    c = cfg(fee=0.006, admin_fee=0.5)
    pack = L.build_pack(c, [10.0], [12000.0], 5, P0)
    par, st_, bx, by, *_ = pack
    p_o = K.p_oracle_up(P0, 100.0, int(pack[5][0])) * 0.985
    _, _, ask0 = K.amm_pump(par, st_, bx, by, p_o, 0.0, 0.0, False)
    x_top = K.band_price_range(p_o, K.p_oracle_up(P0, 100.0, int(pack[5][0])), 100.0)[0]
    assert ask0 == pytest.approx(x_top / (1 - 0.006), rel=1e-12)  # next unit: p_cd / (1 − fee)
    # a tiny pump pays the marginal price
    used, dy, _ = K.amm_pump(par, st_, bx, by, p_o, 0.0, 1e-3, False)
    assert used / dy == pytest.approx(ask0, rel=1e-6)
    # zero fee: pump then dump back is reversible; with the fee the round trip loses
    for fee, lossy in ((1e-12, False), (0.006, True)):
        pk = L.build_pack(cfg(fee=fee), [10.0], [12000.0], 5, P0)
        par, st_, bx, by, *_ = pk
        used, dy, _ = K.amm_pump(par, st_, bx, by, p_o, 0.0, 9000.0, True)
        assert used == pytest.approx(9000.0, rel=1e-14) and dy > 0
        assert bx.sum() == pytest.approx(9000.0, rel=1e-12)  # the whole input, fee included
        assert by.sum() + dy == pytest.approx(10.0, rel=1e-12)
        used2, dx, _ = K.amm_dump(par, st_, bx, by, p_o, 0.0, dy, True)
        assert used2 == pytest.approx(dy, rel=1e-12)
        assert by.sum() == pytest.approx(10.0, rel=1e-12)  # trader's round trip: conserved
        assert bx.sum() + dx == pytest.approx(9000.0, rel=1e-12)
        if lossy:
            assert dx < 9000.0 * (1 - 0.011)
        else:
            assert dx == pytest.approx(9000.0, rel=1e-9)
            assert by.sum() == pytest.approx(10.0, rel=1e-9)
    # taking everything: all bands emptied, the active band is the last one
    pk = L.build_pack(c, [10.0], [12000.0], 5, P0)
    par, st_, bx, by, *_ = pk
    used, dy, _ = K.amm_pump(par, st_, bx, by, p_o, 0.0, math.inf, True)
    assert dy == pytest.approx(10.0, rel=1e-12) and by.max() == 0.0
    assert int(st_[K.S_ACTIVE]) == int(pk[5][0]) + 4
    assert st_[K.S_ADMIN_X] == pytest.approx(0.5 * st_[K.S_FEE_X], rel=1e-12)
    assert bx.sum() + st_[K.S_ADMIN_X] == pytest.approx(used, rel=1e-12)


# -------------------------------------------------------------------------------------------
# §5.3 soft liquidation and de-liquidation
# -------------------------------------------------------------------------------------------


def _cycle_path(p_hi, p_lo, steps):
    down = np.geomspace(p_hi, p_lo, steps + 1)
    return np.concatenate([down, down[::-1][1:]])


def test_down_and_up_cycle_converts_and_loses_the_arbitrage_spread():
    """Soft liquidation and back (§5.3), against an outside market at the oracle price.

    Per step, the user's value change at the step's price equals −(arbitrageur's profit + admin
    fees) exactly; over a cycle the user ends with collateral only, less of it (the arbitrage
    spread: the bands trade behind the price), and the loss grows cycle after cycle while the
    health falls. It shrinks with finer steps and grows with the fee.
    """
    c = cfg(fee=0.006, admin_fee=0.3)
    coll, n = 10.0, 6
    debt = 0.5 * L.max_borrowable(c, coll, n, P0)
    pack = L.build_pack(c, [coll], [debt], n, P0)
    n1 = int(pack[5][0])
    p_top = K.p_oracle_up(P0, 100.0, n1)
    p_bot = K.p_oracle_down(P0, 100.0, n1 + n - 1)
    path = _cycle_path(p_top * 1.02, p_bot * 0.98, 200)
    run = Stepper(pack)
    st_ = pack[1]
    x_prev, y_prev = user_xy(pack)[0]
    arb_prev, ax_prev, ay_prev = 0.0, 0.0, 0.0
    healths = []
    for k in range(3):
        for p in path[1:]:
            run(p)
            x_now, y_now = user_xy(pack)[0]
            # the user's value change at the step's price = −(arbitrage profit + admin fees)
            d_user = (x_now - x_prev) + p * (y_now - y_prev)
            d_arb = st_[K.S_ARB_CASH] - arb_prev
            d_admin = (st_[K.S_ADMIN_X] - ax_prev) + p * (st_[K.S_ADMIN_Y] - ay_prev)
            assert d_arb >= 0
            assert d_user == pytest.approx(-(d_arb + d_admin), abs=1e-9 * debt)
            x_prev, y_prev = x_now, y_now
            arb_prev, ax_prev, ay_prev = st_[K.S_ARB_CASH], st_[K.S_ADMIN_X], st_[K.S_ADMIN_Y]
            if p == path[len(path) // 2]:
                # at the bottom: every band is stablecoin
                assert pack[3].max() == 0.0 and pack[2].sum() > 0
        # back above the bands: all collateral again, less than before
        x_now, y_now = user_xy(pack)[0]
        assert x_now <= 1e-9 * debt
        healths.append(K.user_health(pack, 0, P0, False))
        if k == 0:
            loss1 = coll - y_now
        assert_conserved(pack)
    loss3 = coll - y_now
    t = assert_conserved(pack)
    assert t["arb_pnl"] > 0 and t["n_hard"] == 0
    assert 0 < loss1 < loss3 and loss3 > 2.0 * loss1  # losses accumulate cycle after cycle
    assert healths[0] > healths[1] > healths[2] > 0  # … and health keeps falling

    def one_cycle_loss(fee, steps):
        c = cfg(fee=fee)
        pk = L.build_pack(c, [coll], [debt], n, P0)
        run = Stepper(pk)
        for p in _cycle_path(p_top * 1.02, p_bot * 0.98, steps)[1:]:
            run(p)
        assert_conserved(pk)
        x, y = user_xy(pk)[0]
        return coll - y - x / p_top

    fine, coarse, fee_fine = one_cycle_loss(1e-12, 200), one_cycle_loss(1e-12, 40), one_cycle_loss(0.006, 200)
    assert 0 < fine < 0.3 * coarse  # discrete oracle jumps: loss ~ step size
    assert fee_fine > 3 * fine


def test_slow_descent_yields_x_down_and_fees_widen_the_loss():
    coll, n = 4.0, 4
    out = {}
    for fee in (1e-12, 0.006):
        c = cfg(fee=fee)
        pack = L.build_pack(c, [coll], [0.6 * L.max_borrowable(c, coll, n, P0)], n, P0)
        run = Stepper(pack)
        x_down0 = K.user_xy_up(pack[0], pack[1], pack[2], pack[3], pack[4], int(pack[5][0]), n, pack[7][0], P0, False)
        n1 = int(pack[5][0])
        path = np.geomspace(K.p_oracle_up(P0, 100.0, n1) * 1.001, K.p_oracle_down(P0, 100.0, n1 + n - 1) * 0.999, 400)
        for p in path:
            run(p)
        out[fee] = (pack[2].sum(), x_down0)
        assert_conserved(pack)
    got0, x_down0 = out[1e-12]
    assert got0 == pytest.approx(x_down0, rel=2e-3)  # adiabatic walk down gives get_x_down
    assert out[0.006][0] < got0  # a fee makes the arbitrageur stop earlier: less stablecoin


def test_soft_liquidation_trades_the_venue():
    c = cfg(fee=0.006)
    pack = L.build_pack(c, [20.0], [0.7 * L.max_borrowable(c, 20.0, 4, P0)], 4, P0)
    venues = cpmm(reserve=500.0, fee=0.003)
    vs = venues[0]
    run = Stepper(pack, venues)
    n1 = int(pack[5][0])
    p = K.p_oracle_down(P0, 100.0, n1 + 1)  # oracle inside the user's second band
    VK.venue_apply_return(vs, venues[1], venues[2], 0, p / P0)  # an outside seller brings the pool to the oracle price
    x0, y0 = vs[0, VK_layout.X], vs[0, VK_layout.Y]
    run(p)
    t = assert_conserved(pack)
    assert t["coll_to_market"] > 0 and t["arb_pnl"] > 0
    # the collateral the arbitrageur took went into the pool; the quote it got came out of it
    assert vs[0, VK_layout.X] - x0 == pytest.approx(t["coll_to_market"], rel=1e-12)
    assert y0 - vs[0, VK_layout.Y] == pytest.approx(t["quote_from_market"], rel=1e-9)
    # no arbitrage left: AMM ask ≥ pool bid, AMM bid ≤ pool ask
    par, st_, bx, by, *_ = pack
    ask = K.amm_pump(par, st_, bx, by, p, 0.0, 0.0, False)[2]
    bid = K.amm_dump(par, st_, bx, by, p, 0.0, 0.0, False)[2]
    spot = vs[0, VK_layout.Y] / vs[0, VK_layout.X]
    assert ask >= spot * 0.997 * (1 - 1e-9)
    assert bid <= spot / 0.997 * (1 + 1e-9)
    # price back up: the pool sells collateral back to the AMM (de-liquidation)
    x1, y1 = vs[0, VK_layout.X], vs[0, VK_layout.Y]
    VK.venue_apply_return(vs, venues[1], venues[2], 0, P0 / (vs[0, VK_layout.Y] / vs[0, VK_layout.X]))
    x0 += vs[0, VK_layout.X] - x1
    run(P0)
    t = assert_conserved(pack)
    assert pack[2].sum() <= 1e-9 * t["debt_initial"]
    assert vs[0, VK_layout.X] - x0 == pytest.approx(t["coll_to_market"], rel=1e-9)
    assert t["arb_pnl"] > 0


def test_book_venue_and_two_venues():
    c = cfg(fee=0.003)
    depth = [(0.01, 2e5), (0.05, 1e6), (0.2, 4e6)]
    vs, vdk, vdq = make_venue_state([
        {"kind": "book", "mid": P0, "depth": depth},
        {"kind": "cpmm", "reserve_asset": 300.0, "reserve_quote": 300.0 * P0, "fee": 0.003},
    ])
    venues = (vs, vdk, vdq, np.array([0, 2], np.int64), np.array([0, 1], np.int64))
    pack = L.build_pack(c, [30.0, 12.0], [40000.0, 9000.0], [4, 10], P0)
    run = Stepper(pack, venues)
    path = np.geomspace(P0, 0.7 * P0, 12)
    for t in range(1, len(path)):
        for v in (0, 1):  # exogenous: both venues follow the price
            VK.venue_apply_return(vs, vdk, vdq, v, path[t] / path[t - 1])
        run(path[t])
        assert_conserved(pack)
    t = assert_conserved(pack)
    assert t["coll_to_market"] > 0 and t["arb_pnl"] > 0


# -------------------------------------------------------------------------------------------
# §5.4 health and hard liquidation
# -------------------------------------------------------------------------------------------


def test_health_formula_by_hand():
    c = cfg(liquidation_discount=0.06)
    coll, n = 8.0, 5
    debt = 0.8 * L.max_borrowable(c, coll, n, P0)
    pack = L.build_pack(c, [coll], [debt], n, P0)
    n1 = int(pack[5][0])
    A = 100.0
    # above the bands: x_down = Σ y/N · sqrt(p_up · p_down)
    x_down = sum(coll / n * math.sqrt(K.p_oracle_up(P0, A, k) * K.p_oracle_down(P0, A, k)) for k in range(n1, n1 + n))
    h = x_down * (1 - 0.06) / debt - 1
    assert K.user_health(pack, 0, P0, False) == pytest.approx(h, rel=1e-12)
    full = h + (P0 - K.p_oracle_up(P0, A, n1)) * coll / debt
    assert K.user_health(pack, 0, P0, True) == pytest.approx(full, rel=1e-12)
    assert full > h > 0
    # the twin agrees
    m = P.Market.from_pack(pack)
    assert m.health(0, P0, True) == pytest.approx(full, rel=1e-12)
    # inside the bands (mixed band): kernel = twin
    run = Stepper(pack)
    p_mid = math.sqrt(K.p_oracle_up(P0, A, n1 + 2) * K.p_oracle_down(P0, A, n1 + 2))
    for p in np.geomspace(P0, p_mid, 30)[1:]:
        run(p)
    m = P.Market.from_pack(pack)
    for fl in (False, True):
        assert K.user_health(pack, 0, p_mid, fl) == pytest.approx(m.health(0, p_mid, fl), rel=1e-11)
    # below the bands: x_down is the stablecoin held
    for p in np.geomspace(p_mid, K.p_oracle_down(P0, A, n1 + n) * 0.98, 30)[1:]:
        run(p)
    p = K.p_oracle_down(P0, A, n1 + n) * 0.98
    x_held = pack[2].sum()
    assert pack[3].sum() == 0.0
    assert K.user_health(pack, 0, p, True) == pytest.approx(x_held * 0.94 / debt - 1, rel=1e-12)
    assert_conserved(pack)


def test_hard_liquidation_only_below_zero_health():
    c = cfg(fee=0.006)
    rng = np.random.default_rng(7)
    U = 12
    coll = rng.uniform(1.0, 10.0, U)
    nb = rng.integers(4, 12, U)
    debt = np.array([f * L.max_borrowable(c, coll[u], int(nb[u]), P0) for u, f in enumerate(rng.uniform(0.5, 0.99, U))])
    pack = L.build_pack(c, coll, debt, nb, P0)
    run = Stepper(pack, cap=U)
    no_cap = L.liq_vector(capital=0.0)  # soft liquidation only: every debt exceeds the capital
    path = np.concatenate([np.geomspace(P0, 0.7 * P0, 25)[1:], np.geomspace(0.7 * P0, 0.85 * P0, 8)[1:]])
    for t, p in enumerate(path, start=1):
        run.liq = no_cap
        run(p, t)
        h = np.array([K.user_health(pack, u, p, True) if pack[11][u] else np.inf for u in range(U)])
        xy = user_xy(pack)
        open_before = pack[11].copy()
        run.liq = MECH
        before = run.n_ev
        sold = run(p, t)  # same step again: nothing left to arbitrage, liquidations only
        hit = np.flatnonzero(open_before & ~pack[11])
        assert set(hit) == set(np.flatnonzero(h < 0)), (t, h)
        ev = run.events()
        assert list(ev["pos"][before:]) == list(hit)
        for j, u in zip(range(before, run.n_ev), hit):
            assert ev["repaid"][j] == debt[u]
            assert ev["seized"][j] == pytest.approx(xy[u, 1], rel=1e-12)
            assert ev["bonus"][j] == pytest.approx(xy[u, 0] + xy[u, 1] * p - debt[u], rel=1e-9, abs=1e-9)
        assert sold == pytest.approx(sum(xy[u, 1] for u in hit), rel=1e-12)
        for u in np.flatnonzero(pack[11]):
            assert K.user_health(pack, u, p, True) >= 0
        assert_conserved(pack)
    t = assert_conserved(pack)
    assert 0 < t["n_hard"] < U  # some, not all
    assert run.acc[ACC_NLIQ] == t["n_hard"]
    assert run.acc[ACC_REPAID] == pytest.approx(t["debt_repaid"], rel=1e-12)
    assert t["coll_liquidated"] == pytest.approx(run.sold_total, rel=1e-12)
    assert t["liquidator_cash"] == pytest.approx(t["x_liquidated"] - t["debt_repaid"], rel=1e-9)


def test_rational_liquidator_skips_underwater_loans():
    # a crash far below the bands in one step: the arbitrageur takes the collateral at
    # p_o³/p_up² and the user is left with too little stablecoin to cover the debt
    c = cfg()
    for liq, liquidated in ((RATIONAL, False), (MECH, True)):
        pack = L.build_pack(c, [5.0], [0.9 * L.max_borrowable(c, 5.0, 4, P0)], 4, P0)
        run = Stepper(pack, liq=liq)
        run(0.5 * P0)
        t = assert_conserved(pack)
        x, y = user_xy(pack)[0] if pack[11][0] else (t["x_liquidated"], t["coll_liquidated"])
        assert x + y * 0.5 * P0 < t["debt_initial"]  # underwater
        assert t["n_hard"] == (1 if liquidated else 0)
        if liquidated:
            assert run.acc[ACC_BONUS] < 0  # the mechanical liquidator eats the loss (no write-off in v1)
        else:
            assert t["debt_open"] == t["debt_initial"]


def test_max_ltv():
    c = cfg(loan_discount=0.09, A=100)
    for n in (4, 10):
        approx = 1 - 0.09 - n / (2 * 100)  # script comment: 89 % with 4 bands
        sup = L.y_effective(c, 1.0, n) * P0 / P0  # debt / value as p_up(n1) → p_o
        assert sup == pytest.approx(approx, abs=0.01)
        mb = L.max_borrowable(c, 1.0, n, P0) / P0
        assert mb == pytest.approx(approx, abs=0.01)
        pack = L.build_pack(c, [1.0], [mb * P0], n, P0)
        assert K.user_health(pack, 0, P0, False) > 0  # liquidation_discount < loan_discount
        assert_conserved(pack)
        with pytest.raises(InputError, match="Debt too high"):
            L.build_pack(c, [1.0], [1.02 * sup * P0], n, P0)
    assert L.max_borrowable(c, 1.0, 4, P0) / P0 == pytest.approx(0.883, abs=0.001)


def test_config_limits_and_presets():
    pre = L_model.PRESETS["crvusd_launch"]
    assert (pre.A, pre.loan_discount, pre.liquidation_discount, pre.fee) == (100, 0.09, 0.06, 0.006)
    bad = [dict(A=1), dict(A=10001), dict(fee=0.0), dict(fee=0.05),  # 5 % > MAX_FEE = 4/A
           dict(A=20, fee=0.11), dict(loan_discount=0.51), dict(liquidation_discount=0.005),
           dict(loan_discount=0.05, liquidation_discount=0.06), dict(n_bands=3), dict(n_bands=51),
           dict(admin_fee=1.5), dict(colour="red")]
    for kw in bad:
        with pytest.raises(Exception):
            cfg(**kw)
    assert cfg(A=10000, fee=1e-12).fee == 1e-12
    assert cfg(A=40, fee=0.1).A == 40  # MAX_FEE = min(4/40, 10 %) = 10 %
    with pytest.raises(InputError):
        L.build_pack(pre, [1.0], [100.0], 3, P0)
    assert "LLAMMA" in L_model.describe()


# -------------------------------------------------------------------------------------------
# §5.3 oracle limiter and dynamic fee
# -------------------------------------------------------------------------------------------


def test_limiter_and_dynamic_fee():
    # limit_p_o: a −50 % move 60 s after the last write is capped at ÷1.25, fee (1 − 0.8³)·60/120
    p, fee = K.limit_p_o(1000.0, 60.0, 2000.0, 0.0, 0.0)
    assert p == pytest.approx(1600.0) and fee == pytest.approx((1 - 0.8**3) * 0.5)
    p, fee2 = K.limit_p_o(1600.0, 120.0, 1600.0, fee, 60.0)  # no move: the fee decays linearly
    assert p == 1600.0 and fee2 == pytest.approx(fee * 0.5)
    assert K.limit_p_o(1000.0, 200.0, 2000.0, 0.3, 60.0) == (1000.0, 0.0)  # > 120 s: no limit
    p, _ = K.limit_p_o(3000.0, 60.0, 2000.0, 0.0, 0.0)
    assert p == pytest.approx(2500.0)
    # dynamic fee: 0 inside [p_cd, p_cu], ¼ of the gap outside
    A, p_up = 100.0, 1000.0
    assert K.dynamic_fee(995.0, p_up, A) == 0.0
    cd, cu = K.band_price_range(1100.0, p_up, A)
    assert K.dynamic_fee(1100.0, p_up, A) == pytest.approx((cd - 1100.0) / cd / 4)
    cd, cu = K.band_price_range(900.0, p_up, A)
    assert K.dynamic_fee(900.0, p_up, A) == pytest.approx((900.0 - cu) / 900.0 / 4)
    # in the unit: a one-step crash into the bands, then flat; each protection cuts the loss
    values = {}
    for lim, dyn in ((False, False), (True, False), (False, True)):
        c = cfg(oracle_limiter=lim, dynamic_fee=dyn)
        pack = L.build_pack(c, [10.0], [0.5 * L.max_borrowable(c, 10.0, 10, P0)], 10, P0)
        n1 = int(pack[5][0])
        p_in = K.p_oracle_down(P0, 100.0, n1 + 4)  # halfway through the user's bands
        run = Stepper(pack, liq=L.liq_vector(capital=0.0), dt=60.0)
        seen = []
        for _ in range(8):
            run(p_in)
            seen.append(pack[1][K.S_PO])
        if lim:  # ×1.25 per 60 s write until the price is reached, with a fee while it moves
            assert seen[0] == pytest.approx(P0 / 1.25) and seen[1] == pytest.approx(P0 / 1.25**2)
            assert seen[-1] == pytest.approx(p_in)
        else:
            assert seen[0] == p_in
        assert_conserved(pack)
        x, y = user_xy(pack)[0]
        values[(lim, dyn)] = x + y * p_in
    assert values[(True, False)] > values[(False, False)]
    assert values[(False, True)] > values[(False, False)]


# -------------------------------------------------------------------------------------------
# kernel vs twin
# -------------------------------------------------------------------------------------------


@st.composite
def scenarios(draw):
    A = draw(st.sampled_from([30, 100, 250]))
    fee = draw(st.sampled_from([1e-12, 0.001, 0.006]))
    c = L_model.LlammaConfig(A=A, fee=fee, admin_fee=draw(st.sampled_from([0.0, 0.4])),
                       loan_discount=0.09, liquidation_discount=0.06,
                       oracle_limiter=draw(st.booleans()), dynamic_fee=draw(st.booleans()),
                       arb_threshold=draw(st.sampled_from([0.0, 0.001])))
    U = draw(st.integers(1, 3))
    coll = [draw(st.floats(0.5, 20.0)) for _ in range(U)]
    nb = [draw(st.integers(4, 7)) for _ in range(U)]
    frac = [draw(st.floats(0.3, 0.98)) for _ in range(U)]
    debt = [f * L.max_borrowable(c, y, n, P0) for f, y, n in zip(frac, coll, nb)]
    # start at P0, jump near the top band of one of the loans, then wander through the bands
    pack = L.build_pack(c, coll, debt, nb, P0)
    top = K.p_oracle_up(P0, float(A), int(pack[5][draw(st.integers(0, U - 1))]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    T = draw(st.integers(3, 14))
    rets = np.concatenate([[rng.uniform(-0.03, 0.01)], rng.normal(-0.003, draw(st.sampled_from([0.005, 0.02, 0.05])), T - 1)])
    path = np.concatenate([[P0], top * np.exp(np.cumsum(rets))])[:, None]
    venue = draw(st.sampled_from(["none", "cpmm", "cpmm", "book"]))
    vfee = draw(st.sampled_from([0.0, 0.003]))
    liq = L.liq_vector(draw(st.sampled_from(["mechanical", "rational"])), gas=draw(st.sampled_from([0.0, 5.0])),
                       max_per_step=draw(st.sampled_from([0, 1])))
    return c, coll, debt, nb, path, venue, vfee, liq


def _close(a, b, scale, rtol=1e-9):
    return abs(a - b) <= rtol * max(scale, abs(a), abs(b), 1e-12)


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_kernel_matches_twin(sc):
    c, coll, debt, nb, path, venue, vfee, liq = sc
    pack = L.build_pack(c, coll, debt, nb, P0)
    m = P.Market.from_pack(pack)
    if venue == "none":
        vs, vdk, vdq, av_ptr, av_idx = (a.copy() for a in NO_VENUE)
    elif venue == "book":
        vs, vdk, vdq = make_venue_state([{"kind": "book", "mid": P0, "half_life_steps": 3.0,
                                          "depth": [(0.005, 2e4), (0.03, 1.5e5), (0.2, 6e5)]}])
        av_ptr, av_idx = np.array([0, 1], np.int64), np.array([0], np.int64)
    else:
        vs, vdk, vdq, av_ptr, av_idx = cpmm(reserve=400.0, fee=vfee)
    vs2 = vs.copy()
    r = L.run_unit(pack, path, vs, vdk, vdq, av_ptr, av_idx, liq, 60.0)
    r2 = P.run_unit_py(m, path, vs2, vdk, vdq, av_ptr, av_idx, liq, 60.0)
    qs = max(sum(debt), 1.0)
    ys = sum(coll)
    par, st_, bx, by, bs, u_n1, u_nb, u_sh, u_debt, u_ld, u_coll0, u_open = pack
    for i in range(len(bx)):
        assert _close(bx[i], m.x[i], qs), ("x", i, bx[i], m.x[i])
        assert _close(by[i], m.y[i], ys), ("y", i, by[i], m.y[i])
    assert int(st_[K.S_ACTIVE]) == m.active
    assert list(u_open) == [u.open for u in m.users]
    assert _close(st_[K.S_ARB_CASH], m.acct["arb_cash"], qs)
    assert _close(st_[K.S_ADMIN_X], m.acct["admin_x"], qs)
    assert _close(st_[K.S_LIQ_Y], m.acct["liq_y"], ys)
    for k in (ACC_NLIQ, ACC_REPAID, ACC_FEES, ACC_BONUS):
        assert _close(r["acc"][k], r2["acc"][k], qs), (k, r["acc"], r2["acc"])
    assert r["n_ev"] == len(r2["events"])
    for j, e in enumerate(r2["events"]):
        assert r["events"]["step"][j] == e["step"] and r["events"]["pos"][j] == e["pos"]
        assert _close(r["events"]["seized"][j], e["seized"], ys)
        assert _close(r["events"]["bonus"][j], e["bonus"], qs)
    for v in range(vs.shape[0]):
        for col in (VK_layout.X, VK_layout.Y, VK_layout.MID):
            assert _close(vs[v, col], vs2[v, col], abs(vs[v, col])), (col, vs[v], vs2[v])
    t = assert_conserved(pack)
    t2 = m.totals()
    assert abs(t2["coll_residual"]) <= 1e-9 * ys and abs(t2["x_residual"]) <= 1e-9 * max(qs, abs(t["quote_from_market"]))
    assert abs(t2["debt_residual"]) <= 1e-9 * qs
    assert t["arb_pnl"] >= -1e-9 * qs

"""Conformance: ``lc.protocols.maker`` against makerdao/dss's own tests.

* Liquidations 2.0: ``src/test/clip.t.sol`` at HEAD ``fa4f6630afb0624d04a003e920b0d71a00331d98``
  (``CT:<line>``). ``setUp`` (L200-290): gold at $5, ``mat`` 200 %, dust $20, ``chop`` 1.1,
  ``Hole`` = ``hole`` = 1,000 DAI; the urn frobs 40 gold / 100 DAI, then the price drops to $4
  (spot $2: unsafe). ``takeSetup`` (L291): stairstep abacus ``cut`` 0.99 every 1 s, ``buf``
  1.25, ``cusp`` 0.3, ``tail`` 3,600 s; ali and bob hold 1,000 DAI each; ``me`` keeps 960 gold
  outside the urn.
* The 2020 flipper: ``src/test/flip.t.sol`` at ``f632302`` (``FT:<line>``): ``beg`` 1.05,
  ``ttl`` 3 h, ``tau`` 2 days; kicks of 100 gems for a 50 DAI tab; ali and bob hold 200 DAI.
"""

from __future__ import annotations

import pytest

import liqcascade as lc

M = lc.protocols.maker
START = 604_411_200.0


def clip_vat(**ilk):
    base = dict(price=4.0, mat=2.0, dust=20.0, chop=1.1, hole=1_000.0, buf=1.25, calc="stairstep", cut=0.99, step=1.0,
                cusp=0.3, tail=3_600.0)
    base.update(ilk)
    v = M.Vat({"gold": M.Ilk(**base)}, Hole=1_000.0, now=START)
    v.frob("gold", "me", 40.0, 100.0)
    v.gem[("gold", "me")] = 960.0
    for who in ("ali", "bob"):
        v.dai[who] = 1_000.0
    return v


def take_setup(**ilk):
    v = clip_vat(**ilk)
    i = M.bark(v, "gold", "me", "keeper")
    s = v.sales[i]
    assert i == 1 and v.urns[("gold", "me")].ink == 0.0 and v.urns[("gold", "me")].art == 0.0
    assert s.tab == pytest.approx(110.0) and s.lot == 40.0 and s.top == pytest.approx(5.0) and s.tic == START
    assert v.ilks["gold"].chost == pytest.approx(22.0)
    return v


def assert_ended(v, id_=1):
    assert id_ not in v.sales
    assert v.Dirt == pytest.approx(0.0, abs=1e-12) and v.ilks["gold"].dirt == pytest.approx(0.0, abs=1e-12)


def test_take_over_tab():
    # CT:871: 25 gold at 5 would owe 125 > 110: slice 22, the rest returned to the owner
    v = take_setup()
    t = M.take(v, 1, 25.0, 5.0, "ali")
    assert v.gem[("gold", "ali")] == pytest.approx(22.0) and v.dai["ali"] == pytest.approx(890.0)
    assert v.gem[("gold", "me")] == pytest.approx(978.0) and t.returned == pytest.approx(18.0)
    assert_ended(v)


def test_take_at_tab():
    # CT:900
    v = take_setup()
    M.take(v, 1, 22.0, 5.0, "ali")
    assert v.gem[("gold", "ali")] == pytest.approx(22.0) and v.dai["ali"] == pytest.approx(890.0)
    assert v.gem[("gold", "me")] == pytest.approx(978.0)
    assert_ended(v)


def test_take_under_tab():
    # CT:928: 11 gold for 55; tab 55 and lot 29 remain; Dirt = tab
    v = take_setup()
    M.take(v, 1, 11.0, 5.0, "ali")
    s = v.sales[1]
    assert v.dai["ali"] == pytest.approx(945.0) and v.gem[("gold", "me")] == 960.0
    assert s.tab == pytest.approx(55.0) and s.lot == pytest.approx(29.0) and s.top == pytest.approx(5.0)
    assert v.Dirt == pytest.approx(55.0) and v.ilks["gold"].dirt == pytest.approx(55.0)


def test_take_full_lot_partial_tab():
    # CT:956: 69 s later (price 5 · 0.99^69 ≈ 2.50), the whole lot for about 100 DAI; the
    # auction ends and all its dirt is cleared though less than the tab was paid
    v = take_setup()
    t = M.take(v, 1, 40.0, 2.5, "ali", now=START + 69)
    assert t.price == pytest.approx(5 * 0.99**69)
    assert v.gem[("gold", "ali")] == 40.0 and v.dai["ali"] - 900.0 < 0.1
    assert v.gem[("gold", "me")] == 960.0
    assert_ended(v)


def test_take_too_expensive_and_no_auction():
    # CT:986 (max 4 < price 5) and CT:864 (auction 2 does not exist)
    v = take_setup()
    with pytest.raises(M.TooExpensive) as e:
        M.take(v, 1, 22.0, 4.0, "ali")
    assert e.value.revert == "Clipper/too-expensive" and e.value.price == pytest.approx(5.0)
    with pytest.raises(M.NotRunningAuction):
        M.take(v, 2, 25.0, 5.0, "ali")


def test_take_recalculates_to_leave_chost():
    # CT:997: 18 gold would cost 90 and leave 20 < chost 22: the take is cut to leave tab = chost
    v = take_setup()
    assert M.get_status(v, 1) == (False, pytest.approx(5.0), 40.0, pytest.approx(110.0))
    M.take(v, 1, 18.0, 5.0, "ali")
    s = v.sales[1]
    assert s.tab == pytest.approx(22.0)
    assert s.lot == pytest.approx(40.0 - (110.0 - 22.0) / 5.0)


def test_take_whole_lot_ignores_chost():
    # CT:1022: 60 s later (price 2.7357832119538073), the whole lot (109.4 < 110): the auction
    # ends with a remainder under dust, which does not matter without a lot
    v = take_setup()
    _, price, _, _ = M.get_status(v, 1, now=START + 60)
    assert price == pytest.approx(2.735783211953807380973706855, rel=1e-15)
    M.take(v, 1, 40.0, 2.8, "ali")
    assert_ended(v)


def test_no_partial_purchase_at_chost():
    # CT:1050: 17.6 gold leaves tab 22 = chost and lot 22.4; then a partial take reverts and
    # taking the whole tab works
    v = take_setup()
    M.take(v, 1, 17.6, 5.0, "me")
    s = v.sales[1]
    assert s.tab == pytest.approx(22.0) and s.lot == pytest.approx(22.4)
    with pytest.raises(M.NoPartialPurchase):
        M.take(v, 1, 1.0, 5.0, "me")
    M.take(v, 1, s.tab / 5.0, 5.0, "me")
    assert_ended(v)


def test_take_multiple_bids_at_different_prices():
    # CT:1084: ali takes 10 at 5; 30 s later bob takes the rest at 5·0.99^30 and pays the 60
    # left; the owner gets back 30 − 60/price
    v = take_setup()
    M.take(v, 1, 10.0, 5.0, "ali")
    assert v.dai["ali"] == pytest.approx(950.0) and v.sales[1].tab == pytest.approx(60.0)
    _, price, lot, _ = M.get_status(v, 1, now=START + 30)
    assert price == pytest.approx(5 * 0.99**30) and lot == pytest.approx(30.0)
    M.take(v, 1, lot, price, "bob")
    assert v.gem[("gold", "bob")] == pytest.approx(60.0 / price)
    assert v.dai["bob"] == pytest.approx(940.0)
    assert v.gem[("gold", "me")] == pytest.approx(960.0 + 30.0 - 60.0 / price)
    assert_ended(v)


@pytest.mark.parametrize("tau, done_at", [(10 * 3600.0, 3601.0), (3600.0, 1801.0)])
def test_auction_reset(tau, done_at):
    # CT:1163 (tail: linear over 10 h, 1 h tail) and CT:1186 (cusp 0.5 reached after 30 min 1 s):
    # the OSM moves to $3 meanwhile; redo restarts at 3 · 1.25 = 3.75
    v = clip_vat(calc="linear", tau=tau, cusp=0.5)
    M.bark(v, "gold", "me")
    v.ilks["gold"].price = 3.0
    assert v.sales[1].top == pytest.approx(5.0)
    assert M.get_status(v, 1, now=START + done_at - 1)[0] is False
    with pytest.raises(M.CannotReset):
        M.redo(v, 1)
    assert M.get_status(v, 1, now=START + done_at)[0] is True
    with pytest.raises(M.NeedsReset):
        M.take(v, 1, 1.0, 10.0, "ali")
    M.redo(v, 1)
    assert v.sales[1].tic == START + done_at and v.sales[1].top == pytest.approx(3.75)
    with pytest.raises(M.CannotReset):  # CT:1209 / CT:1218: not twice
        M.redo(v, 1)
    with pytest.raises(M.NotRunningAuction):  # CT:1227
        M.redo(v, 7)


def test_stopped_levels():
    # CT:1243 (stopped 1: no kicks), CT:1294 (stopped 2: takes still work), CT:1307 (3: no takes)
    v = clip_vat(stopped=1)
    with pytest.raises(M.StoppedIncorrectly):
        M.bark(v, "gold", "me")
    assert v.urns[("gold", "me")].art == 100.0  # the bark reverted as a whole
    v = take_setup(stopped=0)
    v.ilks["gold"].stopped = 2
    M.take(v, 1, 1.0, 5.0, "ali")
    v.ilks["gold"].stopped = 3
    with pytest.raises(M.StoppedIncorrectly):
        M.take(v, 1, 1.0, 5.0, "ali")


def test_redo_incentive():
    # CT:1375: tip 100, chip 2 %: kick pays 100 + 110·0.02; after a reset the keeper is paid
    # only while tab >= chost and lot·price >= chost
    v = clip_vat(tip=100.0, chip=0.02)
    M.bark(v, "gold", "me", "keeper")
    assert v.dai["keeper"] == pytest.approx(100.0 + 110.0 * 0.02)
    assert M.redo(v, 1, "keeper", now=START + 3_601) == pytest.approx(100.0 + 110.0 * 0.02)
    v.ilks["gold"].price = 0.5  # lot · price = 20 < chost 22: no reward
    assert M.redo(v, 1, "keeper", now=START + 2 * 3_601 + 1) == 0.0


def test_bark_limits_and_dust():
    # CT:569-860 (bark with Hole/hole and dust): a partial bark within the room, refused when
    # the room is used up; a bark that would leave a dusty urn takes it whole
    v = clip_vat()
    v.Hole = 55.0  # room for tab 55: dart = 50, leaving 50 >= dust
    M.bark(v, "gold", "me")
    assert v.sales[1].tab == pytest.approx(55.0) and v.urns[("gold", "me")].art == pytest.approx(50.0)
    with pytest.raises(M.LiquidationLimitHit):
        M.bark(v, "gold", "me")
    v = clip_vat()
    v.Hole = 99.0  # dart = 90 would leave 10 < dust 20: the whole urn goes (Hole overshot)
    M.bark(v, "gold", "me")
    assert v.sales[1].tab == pytest.approx(110.0) and v.urns[("gold", "me")].art == 0.0
    v = clip_vat()
    v.urns[("gold", "me")].art = 100.0
    v.Hole = 11.0  # dart = 10 < dust: a dusty auction from a partial liquidation
    with pytest.raises(M.DustyAuctionFromPartialLiquidation):
        M.bark(v, "gold", "me")
    v = clip_vat(price=5.0)
    with pytest.raises(M.NotUnsafe):
        M.bark(v, "gold", "me")


# --- the 2020 flipper (FT) ----------------------------------------------------------------------


def flip_vat():
    v = M.Vat({"gems": M.Ilk(price=1.0, beg=1.05, ttl=3 * 3600.0, flip_tau=2 * 86400.0)}, now=START)
    for who in ("ali", "bob"):
        v.dai[who] = 200.0
    return v


def test_flip_tend():
    # FT:127: bids 1 then 2; the first bidder is refunded, the gal gets the increase; deal after 5 h
    v = flip_vat()
    i = M.flip_kick(v, "gems", "usr", 100.0, 50.0, gal="gal")
    M.tend(v, i, 100.0, 1.0, "ali")
    assert v.dai["ali"] == 199.0 and v.dai["gal"] == 1.0
    M.tend(v, i, 100.0, 2.0, "bob")
    assert v.dai["bob"] == 198.0 and v.dai["ali"] == 200.0 and v.dai["gal"] == 2.0
    winner, lot, bid = M.deal(v, i, now=START + 5 * 3600)
    assert winner == "bob" and v.gem[("gems", "bob")] == 100.0


def test_flip_dent():
    # FT:169: at bid = tab, ali dents to 95: 5 gems go back to the owner
    v = flip_vat()
    i = M.flip_kick(v, "gems", "usr", 100.0, 50.0, gal="gal")
    M.tend(v, i, 100.0, 1.0, "ali")
    M.tend(v, i, 100.0, 50.0, "bob")
    M.dent(v, i, 95.0, 50.0, "ali")
    assert v.gem[("gems", "usr")] == 5.0 and v.dai["ali"] == 150.0 and v.dai["bob"] == 200.0


def test_flip_beg():
    # FT:185
    v = flip_vat()
    i = M.flip_kick(v, "gems", "usr", 100.0, 50.0, gal="gal")
    M.tend(v, i, 100.0, 1.0, "ali")
    with pytest.raises(M.InsufficientIncrease):
        M.tend(v, i, 100.0, 1.01, "bob")
    with pytest.raises(M.InsufficientIncrease):  # the high bidder too
        M.tend(v, i, 100.0, 1.01, "ali")
    M.tend(v, i, 100.0, 1.07, "bob")
    M.tend(v, i, 100.0, 49.0, "ali")
    M.tend(v, i, 100.0, 50.0, "bob")  # less than beg is allowed at tab
    with pytest.raises(M.LotNotLower):
        M.dent(v, i, 100.0, 50.0, "ali")
    with pytest.raises(M.InsufficientDecrease):
        M.dent(v, i, 99.0, 50.0, "ali")
    M.dent(v, i, 95.0, 50.0, "ali")


def test_flip_deal_and_tick():
    # FT:206 deal only after ttl or end; FT:234 tick restarts an auction that ended without bids;
    # FT:252 no deal after an end without bids
    v = flip_vat()
    i = M.flip_kick(v, "gems", "usr", 100.0, 50.0, gal="gal")
    M.tend(v, i, 100.0, 1.0, "ali")
    with pytest.raises(M.NotFinished):
        M.deal(v, i)
    M.deal(v, i, now=START + 4.1 * 3600)
    j = M.flip_kick(v, "gems", "usr", 100.0, 50.0, gal="gal")
    M.tend(v, j, 100.0, 1.0, "ali", now=v.now + 44 * 3600)
    with pytest.raises(M.NotFinished):
        M.deal(v, j)
    M.deal(v, j, now=v.now + 86400)
    k = M.flip_kick(v, "gems", "usr", 100.0, 50.0, gal="gal")
    with pytest.raises(M.NotFinished):
        M.tick(v, k)
    v.now += 14 * 86400
    with pytest.raises(M.AlreadyFinishedEnd):
        M.tend(v, k, 100.0, 1.0, "ali")
    with pytest.raises(M.NotFinished):
        M.deal(v, k)
    M.tick(v, k)
    with pytest.raises(M.NotFinished):
        M.deal(v, k)
    M.tend(v, k, 100.0, 1.0, "ali")


def test_cat_bite_and_a_near_zero_bid():
    """2020 ``Cat.bite`` (dss@f632302 ``src/cat.sol``): ``lot = min(ink, lump)``,
    ``tab = art·rate·chop``; a single tiny bid wins the lot when nobody outbids it before
    ``ttl`` — Black Thursday's zero bids (§3.8)."""
    v = M.Vat({"ETH-A": M.Ilk(price=100.0, mat=1.5, chop=1.13, lump=50.0, ttl=600.0)}, now=START)
    v.frob("ETH-A", "vault", 80.0, 6_000.0)  # 8,000 / 6,000 = 133 % < 150 %
    i = M.bite(v, "ETH-A", "vault")
    b = v.bids[i]
    assert b.lot == 50.0 and b.tab == pytest.approx(6_000 * 50 / 80 * 1.13)
    assert v.urns[("ETH-A", "vault")].ink == 30.0 and v.urns[("ETH-A", "vault")].art == pytest.approx(2_250.0)
    assert v.sin == pytest.approx(3_750.0)
    M.tend(v, i, 50.0, 1e-27, "lowballer")  # 1 rad
    winner, lot, bid = M.deal(v, i, now=START + 601)
    assert winner == "lowballer" and lot == 50.0 and v.dai["vow"] == pytest.approx(1e-27)

"""Property tests at the edges: venues down to 1e-4 of the book (they run out of bids and sit at
their floor), positions at HF 1 ± 1e-12 and at the collateral-exhaustion boundary, multi-asset
positions, several paths, amounts spanning 12 orders of magnitude.

Checked on both static kernels and the time loop: results are finite, no venue goes under its
floor, collateral and debt are conserved, no position ends with zero collateral and positive
debt, and bad debt is recorded whenever a position's collateral runs out before its debt.

``test_thin_venue_static`` is the fast one meant for long fresh runs (see docs/testing.md):
``LIQCASCADE_HYPOTHESIS_SCALE=50 HYPOTHESIS_PROFILE=explore pytest tests/property/test_extremes_props.py -k thin``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqcascade.engine.compile import Book, compile_scenario
from liqcascade.engine.dynamic import run_dynamic
from liqcascade.engine.static import choose_engine, final_state, solve_static
from liqcascade.kernels import dynamic as KD
from liqcascade.venues.kernel import FLOOR
from liqcascade.scenario.models import Scenario

PRICES = {"A": 100.0, "B": 10.0}
RTOL = 1e-9
EPS_HF = (-1e-12, 0.0, 1e-12)
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def protocols(draw):
    out = []
    for _ in range(draw(st.integers(1, 2))):
        lt = draw(st.sampled_from([0.5, 0.75, 0.8, 0.86, 0.9, 0.95]))
        bonus = draw(st.sampled_from([0.0, 0.01, 0.05, 0.1]).filter(lambda b: lt * (1 + b) <= 1.0))
        out.append({"lt": lt, "bonus": bonus, "rule": draw(st.sampled_from(["v3.3", "v3.2", "fixed"])),
                    "cf": draw(st.sampled_from([0.5, 1.0, 0.3])), "pfee": draw(st.sampled_from([0.0, 0.1]))})
    return out


@st.composite
def extreme_market(draw, multi=True):
    """Keyword arguments of :func:`build`: a book whose amounts span 12 orders of magnitude, some
    positions placed at HF 1 ± 1e-12 (and at the exhaustion boundary) at the shocked price,
    venues sized from 1e-4 to 30 × the book, multi-asset positions in A and B."""
    protos = draw(protocols())
    n = draw(st.integers(1, 60))
    lo = draw(st.floats(-4.0, 0.0))  # collateral value 10^[lo, lo + 12] quote
    shock = draw(st.floats(0.0, 0.95))
    return {
        "protos": protos, "n": n, "lo": lo, "shock": shock,
        "near": draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0))),  # share of positions put on a boundary
        "depth": 10.0 ** draw(st.floats(-4.0, 1.5)),  # venue size relative to the book
        "kind": draw(st.sampled_from(["cpmm", "book"])),
        "fee": draw(st.sampled_from([0.0, 0.003])),
        "half": draw(st.sampled_from([0.0, 3.0])),
        "n_multi": draw(st.integers(0, 6)) if multi else 0,
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


def build(m, steps=12, paths=1, record_paths=1, price=None, oracle=None, mode="mechanical"):
    """The compiled scenario and its book for a drawn market."""
    rng = np.random.default_rng(m["seed"])
    protos = m["protos"]
    n = m["n"]
    proto = rng.integers(0, len(protos), n)
    lts = np.array([p["lt"] for p in protos])
    value = 10.0 ** rng.uniform(m["lo"], m["lo"] + 12.0, n)
    value[0] = 10.0 ** m["lo"]
    value[-1] = 10.0 ** (m["lo"] + 12.0)
    hf = rng.uniform(0.5, 2.0, n)
    # boundaries at the shocked price: HF 1 ± 1e-12, and HF = cf·LT·(1 + bonus) ± 1e-12 where a
    # liquidation exactly exhausts the collateral
    near = rng.random(n) < m["near"]
    p_shock = PRICES["A"] * (1.0 - m["shock"])
    eps = rng.choice(EPS_HF, n)
    which = rng.random(n) < 0.5
    bound = np.where(which, 1.0, [min(1.0, protos[k]["cf"]) * protos[k]["lt"] * (1 + protos[k]["bonus"]) for k in proto])
    hf_shocked = bound * (1.0 + eps)
    hf = np.where(near, hf_shocked * PRICES["A"] / p_shock, hf)  # HF at p0 giving that HF at the shocked price
    coll = value / PRICES["A"]
    debt = value * lts[proto] / hf
    # multi-asset positions: collateral in A and B, debt in Q over one or two entries
    nm = m["n_multi"]
    ptr, asset, mc, md = [0], [], [], []
    for _ in range(nm):
        va, vb = 10.0 ** rng.uniform(m["lo"], m["lo"] + 12.0, 2)
        ents = [(0, va / PRICES["A"], 0.0), (1, vb / PRICES["B"], 0.0)]
        d = (va + vb) * 0.8 / rng.uniform(0.6, 1.6)
        if rng.random() < 0.5:
            ents.append((2, 0.0, d))
        else:
            ents += [(2, 0.0, 0.3 * d), (2, 0.0, 0.7 * d)]
        for a, c_, d_ in ents:
            asset.append(a)
            mc.append(c_)
            md.append(d_)
        ptr.append(len(asset))
    sc_dict = scenario_dict(m, protos, steps, paths, record_paths, price, oracle, mode)
    sc = Scenario.model_validate(sc_dict)
    book = segments(coll, debt, proto, lts)
    book.m_ptr = np.array(ptr, np.int64)
    book.m_asset = np.array(asset, np.int64)
    book.m_coll = np.array(mc, float)
    book.m_debt = np.array(md, float)
    book.m_proto = np.zeros(nm, np.int64)
    book.m_ids = np.array([f"m{i}" for i in range(nm)], dtype=object)
    return compile_scenario(sc, Path("."), book=book)


def scenario_dict(m, protos, steps, paths, record_paths, price, oracle, mode):
    total_value = 10.0 ** (m["lo"] + 12.0) * max(1, m["n"]) / 3.0  # order of the book's value
    venues = []
    for a, p in PRICES.items():
        size = m["depth"] * total_value  # quote
        if m["kind"] == "cpmm":
            venues.append({"name": f"v{a}", "asset": a, "kind": "cpmm", "reserve_asset": min(size / p, 1e18),
                           "fee": m["fee"]})
        else:
            venues.append({"name": f"v{a}", "asset": a, "kind": "book", "half_life_seconds": 60.0 * m["half"],
                           "depth": [[0.01, 0.1 * size], [0.05, 0.4 * size], [0.2, size]]})
    prots = []
    for j, p in enumerate(protos):
        params = {a: {"liquidation_threshold": p["lt"], "liquidation_bonus": p["bonus"], "protocol_fee": p["pfee"]}
                  for a in PRICES}
        prots.append({"name": f"p{j}", "positions": "-", "collateral": "A", "debt": "Q",
                      "close_factor_rule": p["rule"], "close_factor": p["cf"], "params": params})
    return {
        "name": "extreme",
        "simulation": {"steps": steps, "paths": paths, "record_paths": record_paths, "seed": m["seed"] % 1000,
                       "max_rounds": 10_000},
        "assets": [{"name": "A", "price": PRICES["A"]}, {"name": "B", "price": PRICES["B"]},
                   {"name": "Q", "price": 1.0, "stable": True}],
        "price": price or {"kind": "crash", "shock": m["shock"], "start_seconds": 60.0, "over_seconds": 180.0},
        "venues": venues,
        "oracles": [] if oracle is None else [{"name": "o", "asset": "A", **oracle}],
        "protocols": prots,
        "liquidators": {"mode": mode},
        "arbitrage": {"enabled": False, "to_reference": False},
        "curve": {"asset": "A"},
    }


def segments(coll, debt, proto, lts) -> Book:
    """One segment per protocol (collateral A, debt Q), sorted by liquidation key; ids are the
    input indices."""
    parts = []
    for k in range(len(lts)):
        sel = np.flatnonzero(proto == k)
        key = debt[sel] / (coll[sel] * lts[k])
        order = np.argsort(-key, kind="stable")
        parts.append((sel[order], key[order], k))
    idx = np.concatenate([p[0] for p in parts]).astype(np.int64)
    return Book(coll=coll[idx], debt=debt[idx], key=np.concatenate([p[1] for p in parts]),
                seg_ptr=np.concatenate([[0], np.cumsum([p[0].shape[0] for p in parts])]).astype(np.int64),
                seg_asset=np.zeros(len(parts), np.int64), seg_proto=np.arange(len(parts), dtype=np.int64),
                seg_debt_asset=np.full(len(parts), 2, np.int64), ids=idx)


def each_close(got, want):
    """Entry by entry within RTOL of each entry (amounts span 12 orders of magnitude)."""
    got, want = np.asarray(got), np.asarray(want)
    bad = np.abs(got - want) > RTOL * np.abs(want)
    assert not bad.any(), f"{got[bad][:3]} != {want[bad][:3]}"


def floors(c):
    return {c.assets[int(c.venue_asset[v])]: float(c.vs0[v, FLOOR]) for v in range(c.vs0.shape[0])}


def check_static(c, shock, engine):
    b = c.book
    oc, od, s = final_state(c, shock, engine=engine)
    for k in ("liquidated_value", "repaid", "bad_debt", "fees", "bonus"):  # bonus: rounding of value − repaid
        assert np.isfinite(s[k]) and s[k] >= -1e-12 * max(1.0, s["liquidated_value"]), (k, s[k])
    assert np.all(np.isfinite(oc)) and np.all(np.isfinite(od))
    assert np.all(np.isfinite(s["final_price"])) and np.all(np.isfinite(s["units"]))
    fl = floors(c)
    for a, name in enumerate(c.assets):
        if name in fl:
            assert s["final_price"][a] >= fl[name] * (1 - 1e-12)
    # per position: between 0 and the start; no position left with zero collateral and debt
    assert np.all(oc >= 0.0) and np.all(oc <= b.coll) and np.all(od >= 0.0) and np.all(od <= b.debt)
    assert not np.any((oc <= 0.0) & (od > 0.0)), "a position ended with zero collateral and positive debt"
    mcoll, mdebt = s["multi_coll"], s["multi_debt"]
    for m in range(b.n_multi):
        e0, e1 = b.m_ptr[m], b.m_ptr[m + 1]
        risky = b.m_asset[e0:e1] < 2
        if mcoll[e0:e1][risky].sum() <= 0.0:
            assert mdebt[e0:e1].sum() == 0.0, "a multi-asset position ended with no collateral and debt"
    # conservation: collateral seized + left = before (per asset); debt repaid + bad + left = before
    for a in (0, 1):
        before = b.coll.sum() * (a == 0) + b.m_coll[b.m_asset == a].sum()
        left = oc.sum() * (a == 0) + mcoll[b.m_asset == a].sum()
        np.testing.assert_allclose(s["units"][a] + left, before, rtol=RTOL, atol=RTOL * before)
    dbefore = b.debt.sum() + b.m_debt.sum()
    np.testing.assert_allclose(s["repaid"] + s["bad_debt"] + od.sum() + mdebt.sum(), dbefore, rtol=RTOL,
                               atol=RTOL * dbefore)
    # collateral ran out somewhere while debt was not repaid: bad debt was recorded
    if np.any((oc <= 0.0) & (b.coll > 0.0)) and s["repaid"] < dbefore * (1 - 1e-9) - od.sum() - mdebt.sum():
        assert s["bad_debt"] > 0.0
    return s


@settings(max_examples=100, **SETTINGS)
@given(m=extreme_market(multi=False))
def test_thin_venue_static(kit, m):
    """The static solver on a venue from 1e-4 to 30 × the book: both kernels agree and every
    invariant holds (the fast test for long fresh runs)."""
    c = build(m)
    s_pp = check_static(c, m["shock"], "per-position")
    if choose_engine(c, "mechanical")[0] != "aggregated":
        return  # v3.3 outside the binned regime: the aggregated kernel does not apply
    s_ag = check_static(c, m["shock"], "aggregated")
    if m["near"] > 0.0:
        return  # positions within rounding of a threshold may go either way in the two kernels
    assert s_pp["liquidations"] == s_ag["liquidations"] and s_pp["rounds"] == s_ag["rounds"]
    np.testing.assert_allclose(s_pp["final_price"], s_ag["final_price"], rtol=1e-8)
    tot = c.book.debt.sum()
    for k in ("repaid", "bad_debt"):
        np.testing.assert_allclose(s_pp[k], s_ag[k], rtol=1e-8, atol=1e-9 * tot)


@settings(max_examples=40, **SETTINGS)
@given(m=extreme_market())
def test_extreme_static_with_multi_asset_positions(kit, m):
    c = build(m)
    check_static(c, m["shock"], "per-position")
    if choose_engine(c, "mechanical")[0] == "aggregated":
        check_static(c, m["shock"], "aggregated")
    res = solve_static(c, np.array([0.0, m["shock"]]))
    for p in res.points:
        assert np.isfinite([p.final_price, p.liquidated_collateral, p.repaid_debt, p.bad_debt]).all()


@st.composite
def dyn(draw):
    kind = draw(st.sampled_from(["crash", "gbm"]))
    if kind == "crash":
        price = None
    else:
        price = {"kind": "gbm", "sigma": draw(st.sampled_from([1.0, 5.0, 50.0])), "mu": -5.0}
    return {"price": price, "oracle": draw(st.sampled_from([None, {"kind": "spot", "lag_seconds": 60.0},
                                                              {"kind": "twap", "window_seconds": 180.0}])),
            "mode": draw(st.sampled_from(["mechanical", "rational"])), "paths": draw(st.integers(1, 4)),
            "record": draw(st.integers(0, 4))}


@settings(max_examples=40, **SETTINGS)
@given(m=extreme_market(), d=dyn())
def test_extreme_dynamic_conservation(kit, m, d):
    """The time loop on the same markets, several paths (recorded or not)."""
    c = build(m, steps=12, paths=d["paths"], record_paths=min(d["record"], d["paths"]), price=d["price"],
              oracle=d["oracle"], mode=d["mode"])
    b = c.book
    r = run_dynamic(c)
    s = r.summary
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(r.min_spot)) and np.all(np.isfinite(r.final_spot))
    fl = floors(c)
    for a, name in enumerate(c.assets):
        if name in fl:
            assert np.all(r.min_spot[:, a] >= fl[name] * (1 - 1e-12))
    dbefore = b.debt.sum() + b.m_debt.sum()
    assert np.all(s[:, KD.SUM_REPAID] + s[:, KD.SUM_BAD] <= dbefore * (1 + 1e-9))
    if r.final_coll is None:
        return
    ev = r.events[r.events["path"] == 0]
    n_simple = b.n
    fc, fd = r.final_coll, r.final_debt
    assert np.all(fc >= 0.0) and np.all(fd >= 0.0)
    assert not np.any((fc <= 0.0) & (fd > 0.0)), "a position ended with zero collateral and positive debt"
    simple = np.isin(ev["position"], list(b.ids))
    pos = np.array([int(p) for p in ev["position"][simple]], dtype=np.int64)
    where = np.empty(b.n, np.int64)
    where[np.asarray(b.ids, dtype=np.int64)] = np.arange(b.n)
    idx = where[pos] if pos.size else pos
    seized = np.bincount(idx, weights=ev["collateral_seized"][simple], minlength=n_simple)
    repaid = np.bincount(idx, weights=ev["debt_repaid"][simple], minlength=n_simple)
    bad = np.bincount(idx, weights=ev["bad_debt"][simple], minlength=n_simple)  # quote; Q is worth 1
    each_close(seized + fc, b.coll)
    each_close(repaid + bad + fd, b.debt)
    # collateral ran out before the debt was repaid: that position's bad debt was recorded
    out = (fc <= 0.0) & (repaid < b.debt * (1 - 1e-9))
    assert np.all(bad[out] > 0.0), "collateral ran out without bad debt"
    # multi-asset positions: per-asset collateral, debt with bad debt, no empty-with-debt leftovers
    for mi in range(b.n_multi):
        e0, e1 = b.m_ptr[mi], b.m_ptr[mi + 1]
        risky = b.m_asset[e0:e1] < 2
        if r.final_mcoll[e0:e1][risky].sum() <= 0.0:
            assert r.final_mdebt[e0:e1].sum() == 0.0
    mev = ev[~simple]
    for a in (0, 1):
        seized_a = mev["collateral_seized"][mev["asset"] == c.assets[a]].sum()
        before = b.m_coll[b.m_asset == a].sum()
        np.testing.assert_allclose(seized_a + r.final_mcoll[b.m_asset == a].sum(), before, rtol=RTOL,
                                   atol=RTOL * max(before, 1e-300))
    mdebt = b.m_debt.sum()
    np.testing.assert_allclose(mev["debt_repaid"].sum() + mev["bad_debt"].sum() + r.final_mdebt.sum(), mdebt,
                               rtol=RTOL, atol=RTOL * max(mdebt, 1e-300))

"""Replay ensembles without data: stated priors and provenance of every event, Latin-hypercube
draws, the Brownian bridge through bars, the band / record / rank-correlation summary, and
sub-minute steps in the engine (the same scenario at 60-s and 1-s steps)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liqcascade.errors import InputError
from liqcascade.replay import events, member_seed
from liqcascade.replay.bridge import bridge_bars
from liqcascade.replay.ensemble import band, place_record, rankdata, spearman
from liqcascade.replay.priors import Prior, apply_overrides, central_draw, latin_hypercube


# --- every event states its priors and the provenance of every input ---------------------------


@pytest.mark.parametrize("name", list(events()))
def test_every_input_has_a_kind_and_every_prior_a_source(name):
    ev = events()[name]
    rows = ev.inputs()
    kinds = {r.kind for r in rows}
    assert kinds == {"real file", "published aggregate", "assumption"}, kinds
    names = [r.name for r in rows]
    assert len(names) == len(set(names)), "input names repeat"
    for p in ev.priors:
        assert p.source.strip() and p.label.strip()
        assert p.name in names, f"prior {p.name} is not in the inputs table"
        row = next(r for r in rows if r.name == p.name)
        assert row.kind == "assumption" and row.prior is p
    for r in rows:
        if r.kind == "published aggregate":
            assert r.source, r.name
        if r.kind == "real file":
            assert any(r.source.startswith(n) or n.startswith(r.source) for n in ev.needs), (r.name, r.source)
    assert ev.outcomes and all(o.definition for o in ev.outcomes)
    # a record is placed where one is published; an event without any says why in its summary
    assert any(o.record is not None for o in ev.outcomes) or "no record" in ev.summary, \
        "no outcome has a published record and the summary does not say why"
    for o in ev.outcomes:
        if o.record is not None:
            assert o.record.source and math.isfinite(o.record.value)
    assert set(ev.sensitivity) <= {p.name for p in ev.priors}


def test_replay_list_has_the_four_events_in_order():
    assert list(events()) == ["2020-03-12", "2021-05-19", "2022-06-18", "2025-10-10"]


# --- priors and draws --------------------------------------------------------------------------


PRIORS = [Prior("a", "a", "uniform", 1.0, 3.0, "test"), Prior("b", "b", "loguniform", 10.0, 1000.0, "test"),
          Prior("k", "k", "int_uniform", 2, 5, "test"), Prior("m", "m", "int_loguniform", 2, 32, "test"),
          Prior("t", "t", "triangular", 0.0, 1.0, "test", mode=0.2)]


def test_latin_hypercube_one_draw_per_stratum_and_seeded():
    n = 40
    d = latin_hypercube(PRIORS, n, seed=7)
    # continuous priors: exactly one value in each of the n equal-probability strata
    u = (d.values["a"] - 1.0) / 2.0
    assert sorted(np.floor(u * n).astype(int).tolist()) == list(range(n))
    u = (np.log(d.values["b"]) - np.log(10.0)) / (np.log(1000.0) - np.log(10.0))
    assert sorted(np.floor(u * n).astype(int).tolist()) == list(range(n))
    assert set(d.values["k"].tolist()) == {2.0, 3.0, 4.0, 5.0}
    assert d.values["m"].min() >= 2 and d.values["m"].max() <= 32 and np.all(d.values["m"] == np.floor(d.values["m"]))
    assert np.all((d.values["t"] >= 0) & (d.values["t"] <= 1))
    again = latin_hypercube(PRIORS, n, seed=7)
    other = latin_hypercube(PRIORS, n, seed=8)
    for p in PRIORS:
        np.testing.assert_array_equal(d.values[p.name], again.values[p.name])
    assert not np.array_equal(d.values["a"], other.values["a"])
    m = d.member(3)
    assert isinstance(m["k"], int) and isinstance(m["a"], float)


def test_central_values_are_the_prior_medians():
    c = central_draw(PRIORS)
    assert c["a"] == pytest.approx(2.0) and c["b"] == pytest.approx(100.0)
    assert c["t"] == pytest.approx(1.0 - math.sqrt(0.5 * 0.8))  # the median of triangular(0, 0.2, 1)


def test_overrides_fix_a_prior_and_check_hard_limits():
    rest, fixed = apply_overrides(PRIORS, {"a": "5", "k": "3"}, "test")
    assert fixed == {"a": 5.0, "k": 3} and [p.name for p in rest] == ["b", "m", "t"]
    with pytest.raises(InputError, match="whole number"):
        apply_overrides(PRIORS, {"k": "2.5"}, "test")
    with pytest.raises(InputError, match="> 0"):
        apply_overrides(PRIORS, {"b": "0"}, "test")
    with pytest.raises(ValueError):
        Prior("x", "x", "uniform", 1.0, 1.0, "s")
    with pytest.raises(ValueError):
        Prior("x", "x", "uniform", 0.0, 1.0, " ")


def test_member_seeds_differ_and_repeat():
    s = [member_seed(0, k) for k in range(50)]
    assert len(set(s)) == 50 and s == [member_seed(0, k) for k in range(50)]
    assert member_seed(1, 3) != member_seed(0, 3)


# --- the bridge ----------------------------------------------------------------------------


def _bars(rng, n):
    o = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    c = o * np.exp(rng.normal(0, 0.01, n))
    h = np.maximum(o, c) * np.exp(np.abs(rng.normal(0, 0.01, n)))
    lo = np.minimum(o, c) * np.exp(-np.abs(rng.normal(0, 0.01, n)))
    return o, h, lo, c


@pytest.mark.parametrize("m", [1, 2, 3, 10, 60])
def test_bridge_passes_through_open_high_low_close(m):
    rng = np.random.default_rng(1)
    o, h, lo, c = _bars(rng, 25)
    p = bridge_bars(o, h, lo, c, 60.0, 60.0 / m, np.random.default_rng(2))
    assert p.shape == (25 * m + 1,) and p[0] == o[0]
    for i in range(25):
        seg = p[i * m + 1: (i + 1) * m + 1]
        assert seg[-1] == c[i]
        assert np.all(seg >= lo[i]) and np.all(seg <= max(h[i], o[i], c[i]))
        if m >= 3:
            assert seg.min() == lo[i] and seg.max() == h[i]
    again = bridge_bars(o, h, lo, c, 60.0, 60.0 / m, np.random.default_rng(2))
    np.testing.assert_array_equal(p, again)


def test_bridge_takes_the_extremes_times_from_a_fast_path():
    o, h, lo, c = np.array([100.0]), np.array([104.0]), np.array([95.0]), np.array([101.0])
    fast = np.full(61, 1.0)
    fast[17] = 0.5  # the fast path's low at sub-step 17
    fast[42] = 2.0  # its high at sub-step 42
    p = bridge_bars(o, h, lo, c, 60.0, 1.0, np.random.default_rng(0), fast=fast)
    assert p[17] == 95.0 and p[42] == 104.0
    with pytest.raises(InputError):
        bridge_bars(o, h, lo, c, 60.0, 7.0, np.random.default_rng(0))


# --- the summary ----------------------------------------------------------------------------


def test_rank_correlation_band_and_record():
    x = np.arange(20, dtype=float)
    assert spearman(x, x ** 3) == pytest.approx(1.0)
    assert spearman(x, -x) == pytest.approx(-1.0)
    assert math.isnan(spearman(x, np.ones(20)))
    np.testing.assert_array_equal(rankdata([3.0, 1.0, 3.0, 2.0]), [3.5, 1.0, 3.5, 2.0])
    b = band(np.arange(101, dtype=float))
    assert (b["p5"], b["median"], b["p95"]) == (5.0, 50.0, 95.0)
    assert place_record(np.arange(101, dtype=float), 50.0)["where"] == "inside"
    r = place_record(np.arange(101, dtype=float), 200.0)
    assert r["where"] == "above" and r["percentile"] == 1.0


# --- sub-minute steps ------------------------------------------------------------------------


def test_the_engine_gives_the_same_run_at_60_s_and_1_s_steps(tmp_path):
    """A step path (flat, then -30 % at 10:00, flat) with a Chainlink-style oracle given in
    seconds and a venue too deep to move: at 60-s and 1-s steps the oracle updates at the same
    time and the same positions are liquidated for the same amounts."""
    from liqcascade.engine.compile import compile_scenario
    from liqcascade.engine.dynamic import make_paths, run_dynamic
    from liqcascade.scenario.load import validate_dict

    rng = np.random.default_rng(3)
    n = 40
    debt = rng.uniform(1e3, 1e4, n)
    hf = rng.uniform(1.01, 1.6, n)
    coll = debt * hf / (0.8 * 100.0)
    with open(tmp_path / "pos.csv", "w") as fh:
        fh.write("id,collateral,debt\n")
        for i in range(n):
            fh.write(f"p{i},{float(coll[i])!r},{float(debt[i])!r}\n")
    out = {}
    for dt in (60.0, 1.0):
        t = np.arange(0, 1200.0 + dt, dt)
        price = np.where(t < 600.0, 100.0, 70.0)
        with open(tmp_path / f"p{int(dt)}.csv", "w") as fh:
            fh.write("time,price\n")
            for a, b in zip(t, price):
                fh.write(f"{float(a)!r},{float(b)!r}\n")
        doc = {"simulation": {"steps": t.size - 1, "dt_seconds": dt, "paths": 1},
               "assets": [{"name": "ETH", "price": 100.0}, {"name": "USD", "price": 1.0, "stable": True}],
               "price": {"kind": "historical", "file": f"p{int(dt)}.csv"},
               "venues": [{"name": "v", "asset": "ETH", "kind": "book", "depth": [[0.01, 1e15], [0.05, 5e15]]}],
               "oracles": [{"name": "o", "asset": "ETH", "kind": "heartbeat", "deviation": 0.005,
                            "heartbeat_seconds": 3600.0}],
               "protocols": [{"name": "lend", "positions": "pos.csv", "collateral": "ETH", "debt": "USD",
                              "close_factor_rule": "fixed", "close_factor": 1.0,
                              "params": {"ETH": {"liquidation_threshold": 0.8, "liquidation_bonus": 0.05}}}],
               "liquidators": {"mode": "mechanical"}}
        c = compile_scenario(validate_dict(doc, "test"), tmp_path)
        res = run_dynamic(c, paths=make_paths(c))
        ev = res.events
        order = np.argsort(ev["position"].astype(str))
        out[dt] = (ev["position"][order].tolist(), ev["debt_repaid"][order], ev["step"][order] * dt)
    a, b = out[60.0], out[1.0]
    assert a[0] == b[0] and len(a[0]) > 0
    np.testing.assert_allclose(a[1], b[1], rtol=1e-9)
    np.testing.assert_allclose(a[2], b[2])

"""The flash-loan attacker's engine: the in-block oracle read per kind, the per-step entry point
(:meth:`liqcascade.engine.flash.BundleSolver.step`), the spot-vs-TWAP result on the example
scenario, and the configuration's validation."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import tomllib

from liqcascade.agents.flash_attacker import kernel as KF
from liqcascade.engine.compile import compile_scenario
from liqcascade.engine.flash import BundleSolver, flash_report, kind_variant, snapshot
from liqcascade.errors import InputError
from liqcascade.oracles import KINDS
from liqcascade.oracles.dispatch import oracle_init, oracle_step
from liqcascade.oracles.kernel import NSTATE
from liqcascade.oracles.pack import oracle_params
from liqcascade.scenario.load import load_scenario, validate_dict
from liqcascade.venues.dispatch import venue_sell, venue_spot
from liqcascade.venues.pack import make_venue_state

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "flash_attack.toml"


def _in_block(kind, push=0.8, t=200, **kw):
    """(p_pre, p_post) of a ``kind`` oracle on a flat history at 2,000 when its one source venue is
    pushed to ``push`` × spot within step ``t``."""
    vs, vdk, vdq = make_venue_state([dict(kind="cpmm", asset=0, reserve_asset=1000.0, reserve_quote=2e6, fee=0.0)])
    hist = np.full((1, t + 1), 2000.0)
    p = oracle_params(kind, dt_seconds=12.0, **kw)
    k = KINDS.index(kind)
    st = np.zeros(NSTATE)
    oracle_init(k, p, st, 2000.0)
    for u in range(t):
        oracle_step(k, p, np.array([0]), hist, u, st)
    x = 1000.0 * (1.0 / np.sqrt(push) - 1.0)  # fee-less pool: selling x moves spot to push × 2000
    venue_sell(vs, vdk, vdq, 0, x)
    return KF.oracle_in_block(k, p, np.array([0]), hist, t, st, 0, venue_spot(vs, 0)), venue_spot(vs, 0)


def test_in_block_oracle_reads_follow_each_kind():
    (pre, post), spot = _in_block("spot")
    assert pre == 2000.0 and post == pytest.approx(spot) and spot == pytest.approx(1600.0)
    (pre, post), _ = _in_block("spot", lag_s=12.0)  # reads the previous block
    assert post == pre == 2000.0
    (pre, post), _ = _in_block("heartbeat")  # Chainlink: the network's own transaction
    assert post == pre == 2000.0
    (pre, post), _ = _in_block("osm", hop_s=600.0)  # publishes cur, read one hop earlier
    assert post == pre == 2000.0
    (pre, post), spot = _in_block("twap", window_s=1800.0)  # 150 samples of 12 s
    assert post == pytest.approx((149 * 2000.0 + spot) / 150, rel=1e-12)
    (pre, post), spot = _in_block("ema", halflife_s=600.0)
    a = 1.0 - 0.5 ** (12.0 / 600.0)
    assert post == pytest.approx(2000.0 + a * (spot - 2000.0), rel=1e-12)
    (pre, post), spot = _in_block("spot", max_jump=0.05)  # a 20 % candidate is rejected
    assert post == pre == 2000.0


@pytest.fixture(scope="module")
def example():
    sc, base = load_scenario(EXAMPLE)
    return sc, base, compile_scenario(sc, base)


def test_spot_oracle_is_exploitable_and_a_30_minute_twap_is_not(example):
    sc, base, c = example
    spot = BundleSolver(c)
    assert spot.oracle.kind == KINDS.index("spot")
    r_spot = spot.curve(spot.default_loans(21), snapshot(spot))
    assert r_spot["exploitable"]
    best = r_spot["max_profitable"]
    assert best["pnl"] > 0 and best["liquidations"] > 0 and best["feasible"] == 1
    assert r_spot["min_profitable"]["loan"] <= best["loan"]
    # the same book and pool, the protocol reading a 30-minute TWAP of the pool instead
    d = copy.deepcopy(tomllib.loads(EXAMPLE.read_text()))
    d["oracles"][0].update(kind="twap", window_seconds=1800.0)
    sc2 = validate_dict(d)
    c2 = compile_scenario(sc2, base)
    twap = BundleSolver(c2)
    r_twap = twap.curve(twap.default_loans(21), snapshot(twap))
    assert not r_twap["exploitable"]
    assert all(lv["liquidations"] == 0 for lv in r_twap["levels"])
    assert -0.01 < r_twap["largest_oracle_move"] < 0  # moves, by one sample of 150
    # oracle_guard (30-minute TWAP over the pool) closes the spot market's attack
    d["oracles"][0].update(kind="spot")
    d["oracles"][0].pop("window_seconds")
    d["mechanisms"] = {"oracle_guard": {"kind": "twap", "window_seconds": 1800.0}}
    c3 = compile_scenario(validate_dict(d), base)
    guarded = BundleSolver(c3)
    assert guarded.oracle.label.startswith("guard:")
    assert not guarded.curve(guarded.default_loans(21), snapshot(guarded))["exploitable"]


def test_report_covers_every_kind_and_the_guards(example):
    _, _, c = example
    r = flash_report(c, loans=np.linspace(0, 1500, 7))
    kinds = [o["oracle_kind"] for o in r["oracles"] if o["role"] == "kind"]
    assert kinds == list(KINDS)
    by = {o["oracle_kind"]: o for o in r["oracles"] if o["role"] == "kind"}
    assert by["spot"]["exploitable"]
    for k in ("heartbeat", "twap", "osm", "ema"):
        assert not by[k]["exploitable"], k
    assert not any(o["exploitable"] for o in r["oracles"] if o["role"] == "oracle_guard")


def test_step_acts_in_place_only_when_profitable(example):
    _, base, c = example
    s = BundleSolver(c)
    vs, vdk, vdq, hist, t, ost, coll, debt = snapshot(s)
    vs0, coll0, debt0, ost0 = vs.copy(), coll.copy(), debt.copy(), ost.copy()
    res = s.step(vs, vdk, vdq, hist, t, ost, coll, debt, loans=np.linspace(0, 1000, 11))
    assert res is not None and res.acted and res.ledger["pnl"] > 0
    assert not np.array_equal(vs, vs0)  # the pool moved (the unwind does not restore it exactly)
    assert coll.sum() < coll0.sum() and debt.sum() < debt0.sum()
    assert np.array_equal(ost, ost0)  # the oracle's state is the loop's to step
    seized = sum(e[1] for e in res.events)
    assert coll0.sum() - coll.sum() == pytest.approx(seized, rel=1e-12)
    # under a TWAP nothing is profitable: no action, nothing changes
    tw = BundleSolver(c, oracle=kind_variant(c, s.oracle, "twap", {"window_s": 1800.0}))
    st = snapshot(tw)
    before = [a.copy() if isinstance(a, np.ndarray) else a for a in st]
    assert tw.step(*st, loans=np.linspace(0, 1000, 11)) is None
    for a, b in zip(st, before):
        if isinstance(a, np.ndarray):
            assert np.array_equal(a, b)


def test_the_sources_cap_the_loan(example):
    _, _, c = example
    s = BundleSolver(c)
    d = s.bundle(s.liquidity * 1.01, *snapshot(s)).ledger
    assert d["feasible"] == 0 and np.isnan(d["pnl"])
    d = s.bundle(s.liquidity, *snapshot(s)).ledger
    assert d["feasible"] in (1, 2)


def test_balancer_is_drawn_before_aave(example):
    _, _, c = example
    s = BundleSolver(c)
    st = snapshot(s)
    assert s.bundle(1500.0, *st).ledger["fee_asset"] == 0.0  # within Balancer's 1,500 WETH
    assert s.bundle(2500.0, *st).ledger["fee_asset"] == pytest.approx(1000.0 * 0.0005)


def _flash_dict(**over):
    d = tomllib.loads(EXAMPLE.read_text())
    d["agents"]["flash_attacker"].update(over)
    return d


@pytest.mark.parametrize("over, where", [
    (dict(sources=[]), "agents.flash_attacker.sources"),
    (dict(sources=[{"kind": "dydx", "liquidity": 1.0}]), "agents.flash_attacker.sources[0]"),
    (dict(sources=[{"kind": "aave"}]), "liquidity"),
    (dict(sources=[{"kind": "aave", "liquidity": -5.0}]), "liquidity"),
    (dict(sources=[{"kind": "balancer", "liquidity": 10.0, "fee": 0.5}]), "fee"),
    (dict(sources=[{"kind": "uniswap", "liquidity": 10.0, "quote_liquidity": float("nan")}]), "quote_liquidity"),
    (dict(venue="nowhere"), "agents.flash_attacker.venue"),
    (dict(protocol="nobody"), "agents.flash_attacker.protocol"),
    (dict(asset="USDC"), "agents.flash_attacker.asset"),
    (dict(max_liquidations=0), "max_liquidations"),
    (dict(gas_bundle=-1.0), "gas_bundle"),
    (dict(surprise=1), "surprise"),
])
def test_bad_flash_config_is_refused_with_its_field(over, where):
    with pytest.raises(InputError) as e:
        validate_dict(_flash_dict(**over))
    assert where in e.value.message()


def test_compiled_search_chooses_what_the_report_calls_most_profitable(example):
    _, _, c = example
    s = BundleSolver(c)
    grid = s.default_loans(21)
    cur = s.curve(grid, snapshot(s))
    led = np.zeros(KF.NLEDGER)
    vs, vdk, vdq, hist, t, ost, coll, debt = snapshot(s)
    o = s.oracle
    L, p = KF.search(grid, vs, c.vdk, c.vdq, s.venue, o.kind, o.params, o.src, hist, t, ost, coll, debt, s.lt, s.bonus,
                     s.pfee, s.p_debt, s.rules, s.s_kind, s.s_params, s.ap, 2, 21, led, *s._ev)
    assert L == cur["max_profitable"]["loan"] and p == cur["max_profitable"]["pnl"]
    tw = BundleSolver(c, oracle=kind_variant(c, s.oracle, "twap", {"window_s": 1800.0}))
    vs, vdk, vdq, hist, t, ost, coll, debt = snapshot(tw)
    o = tw.oracle
    L, p = KF.search(grid, vs, c.vdk, c.vdq, tw.venue, o.kind, o.params, o.src, hist, t, ost, coll, debt, tw.lt,
                     tw.bonus, tw.pfee, tw.p_debt, tw.rules, tw.s_kind, tw.s_params, tw.ap, 2, 21, led, *tw._ev)
    assert L == -1.0


SRC = ROOT / "src" / "liqcascade"


@pytest.mark.parametrize("folder", [SRC / "flashloans" / k for k in __import__("liqcascade.flashloans", fromlist=["SOURCES"]).SOURCES]
                         + [SRC / "agents" / "flash_attacker"], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_unit_folders_are_complete_and_cite_their_sources(folder):
    for f in ("__init__.py", "model.py", "kernel.py", "twin.py", "README.md"):
        assert (folder / f).is_file(), f"{folder.name} lacks {f}"
    readme = (folder / "README.md").read_text()
    assert "## Rules and sources" in readme and "## Simplified" in readme
    if folder.parent.name == "flashloans":
        assert " L" in readme and ".sol" in readme  # contract file and line

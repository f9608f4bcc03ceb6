"""Prevention mechanisms in the dynamic engine: each one moves its metric in the expected
direction on a small scenario built here (directions only, never tuned numbers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from liqcascade.engine.dynamic import run_dynamic
from liqcascade.kernels import dynamic as KD
from liqcascade.mechanisms.model import Mechanisms
from liqcascade.scenario.models import Scenario

REPO = Path(__file__).resolve().parents[2]

PROTO = ({"lt": 0.8, "bonus": 0.05, "rule": "v3.3", "pfee": 0.1},)


def book(kit, seed=5, n=150):
    """Random positions, all healthy at the start (HF >= 1.01)."""
    rng = np.random.default_rng(seed)
    coll, debt, proto = kit.random_book(rng, n, [p["lt"] for p in PROTO])
    ok = coll * kit.P0 * PROTO[0]["lt"] / debt >= 1.01
    return coll[ok], debt[ok], proto[ok]


def run(kit, mech=None, *, seed=5, n=150, depth=0.3, half_life=5.0, price=None, steps=60, oracle=None,
        liquidators=None, record=True):
    """A thin order book (``depth`` × book collateral value within 20 %) with transient impact,
    one Aave-rule protocol, ``mech``: the ``[mechanisms]`` table as a dict."""
    coll, debt, proto = book(kit, seed, n)
    total = float(coll.sum())
    sc = kit.scenario(venue="book", book_quote=total * kit.P0 * depth / 10.0, half_life=half_life,
                      protocols=PROTO, price=price or {"kind": "crash", "shock": 0.3, "start_seconds": 180, "over_seconds": 60},
                      steps=steps, oracle=oracle, liquidators=liquidators, record_paths=1 if record else 0)
    sc.mechanisms = Mechanisms.model_validate(mech or {})
    c = kit.build(sc, coll, debt, proto)
    return run_dynamic(c), c


def drawdown(r):
    return r.totals()["max_drawdown"]["A"]


def first_liq_step(r):
    return int(r.events["step"].min())


def n_by(r, step):
    """Liquidations of path 0 up to and including ``step``."""
    return int(r.steps_scalar[0, :step + 1, KD.SS_NLIQ].sum())


def test_off_is_identical_to_no_table(kit):
    a, _ = run(kit)
    b, _ = run(kit, {})
    np.testing.assert_array_equal(a.summary, b.summary)
    assert a.summary[0, KD.SUM_NLIQ] > 0


def test_throttle_lowers_max_drawdown_on_thin_book(kit):
    base, c = run(kit)
    debt = float(c.book.debt.sum())
    thr, _ = run(kit, {"throttle": {"max_debt_per_window": 0.02 * debt, "window_seconds": 300, "depth_slippage": 0.02}})
    assert drawdown(thr) < drawdown(base)
    # the throttle spreads the same cascade over more steps
    assert len(np.unique(thr.events["step"])) > len(np.unique(base.events["step"]))


def test_twap_exit_lowers_max_drawdown(kit):
    base, _ = run(kit)
    tw, _ = run(kit, {"twap_exit": {"slices": 10}})
    assert drawdown(tw) < drawdown(base)
    # nothing left unsold when the run is long enough; everything sold eventually
    assert tw.summary[0, KD.SUM_HELD_VALUE] == 0.0


def test_twap_exit_holds_what_is_unsold_at_the_end(kit):
    tw, _ = run(kit, {"twap_exit": {"slices": 50}}, steps=10)
    assert tw.summary[0, KD.SUM_HELD_VALUE] > 0.0


def test_breaker_delays_first_liquidation(kit):
    base, _ = run(kit)
    cb, _ = run(kit, {"circuit_breaker": {"threshold": 0.1, "window_seconds": 300, "pause_seconds": 600}})
    assert first_liq_step(cb) > first_liq_step(base)
    assert cb.summary[0, KD.SUM_PAUSED] >= 10
    assert base.summary[0, KD.SUM_PAUSED] == 0


def test_breaker_raises_bad_debt_when_price_does_not_come_back(kit):
    # a slow slide: 50 % over 30 steps, no recovery; positions go underwater while paused
    price = {"kind": "crash", "shock": 0.5, "start_seconds": 180, "over_seconds": 1800}
    base, _ = run(kit, price=price, depth=30.0)
    cb, _ = run(kit, {"circuit_breaker": {"threshold": 0.05, "window_seconds": 600, "pause_seconds": 2400}},
                price=price, depth=30.0)
    assert cb.summary[0, KD.SUM_BAD] > base.summary[0, KD.SUM_BAD]


def test_breaker_exempts_deep_underwater_positions(kit):
    cfg = {"threshold": 0.1, "window_seconds": 300, "pause_seconds": 600}
    cb, _ = run(kit, {"circuit_breaker": cfg})
    ex, _ = run(kit, {"circuit_breaker": {**cfg, "exempt_hf": 0.9}})
    assert first_liq_step(ex) < first_liq_step(cb)


def test_buffer_pool_lowers_liquidation_slippage(kit):
    base, c = run(kit)
    debt = float(c.book.debt.sum())
    bp, _ = run(kit, {"buffer_pool": {"capital": debt, "discount": 0.03}})

    def slip(r):
        ev = r.events
        w = ev["collateral_seized"] * ev["oracle_price"]
        return float((w * (1.0 - ev["execution_price"] / ev["oracle_price"])).sum() / w.sum())

    assert slip(bp) < slip(base)
    assert bp.summary[0, KD.SUM_HELD_VALUE] > 0.0
    assert drawdown(bp) < drawdown(base)


def test_dutch_auction_lowers_borrower_loss(kit):
    base, _ = run(kit)
    da, _ = run(kit, {"dutch_auction": {"start_bonus": 0.0, "max_bonus": 0.05, "rise_seconds": 1200}})
    assert da.summary[0, KD.SUM_BORROWER_LOSS] < base.summary[0, KD.SUM_BORROWER_LOSS]


def test_dutch_auction_rational_liquidators_wait_for_profit(kit):
    liq = {"mode": "rational", "gas_cost": 50.0}
    da, _ = run(kit, {"dutch_auction": {"start_bonus": 0.0, "max_bonus": 0.1, "rise_seconds": 600}}, liquidators=liq)
    base, _ = run(kit, liquidators=liq)
    assert first_liq_step(da) > first_liq_step(base)


def test_insurance_fund_takes_bad_debt_before_socialization(kit):
    price = {"kind": "crash", "shock": 0.5, "start_seconds": 180, "over_seconds": 60}
    base, _ = run(kit, price=price)
    bad = base.summary[0, KD.SUM_BAD]
    assert bad > 0.0
    assert base.summary[0, KD.SUM_SOCIALIZED] == pytest.approx(bad, rel=1e-12)
    big, _ = run(kit, {"insurance_fund": {"size": 10 * bad}}, price=price)
    assert big.summary[0, KD.SUM_SOCIALIZED] == 0.0
    assert big.summary[0, KD.SUM_FUND_DRAW] == pytest.approx(bad, rel=1e-9)
    small, _ = run(kit, {"insurance_fund": {"size": 0.1 * bad, "fee_share": 0.0}}, price=price)
    assert 0.0 < small.summary[0, KD.SUM_SOCIALIZED] < bad
    assert small.summary[0, KD.SUM_FUND_DRAW] == pytest.approx(0.1 * bad, rel=1e-9)


def test_random_execution_spreads_liquidation_steps(kit):
    base, _ = run(kit, depth=30.0)
    rnd, _ = run(kit, {"random_execution": {"window_seconds": 900}}, depth=30.0)
    assert np.std(rnd.events["step"]) > np.std(base.events["step"])
    assert len(np.unique(rnd.events["step"])) > len(np.unique(base.events["step"]))


def test_batch_auction_clears_at_one_price_per_window_and_spreads_the_sales(kit):
    """Same seeded crash with and without the batch auction: every window clears at one price,
    the sales spread under the depth budget let the venue fall less, and the positions'
    accounts are conserved."""
    price = {"kind": "crash", "shock": 0.3, "start_seconds": 180, "over_seconds": 60}
    base, c = run(kit, price=price)
    b, _ = run(kit, {"batch": {"window_seconds": 300, "depth_slippage": 0.02}}, price=price)
    assert b.summary[0, KD.SUM_NLIQ] > 0
    ev = b.events
    assert not np.isnan(ev["execution_price"]).any()
    window = (ev["step"] - 1) // 5  # clears at steps 5, 10, ...: events of steps 1-5 share one
    for w in np.unique(window):
        assert len(np.unique(ev["execution_price"][window == w])) == 1
    assert drawdown(b) < drawdown(base)
    # conservation per position: seized + left = before; repaid + bad + left = before
    where = {int(i): k for k, i in enumerate(c.book.ids)}
    idx = np.array([where[int(p)] for p in ev["position"]], dtype=np.int64)
    seized = np.bincount(idx, weights=ev["collateral_seized"], minlength=c.book.n)
    np.testing.assert_allclose(seized + b.final_coll, c.book.coll, rtol=1e-9)
    repaid = np.bincount(idx, weights=ev["debt_repaid"], minlength=c.book.n)
    bad = np.bincount(idx, weights=ev["bad_debt"], minlength=c.book.n)  # quote; the debt asset is at 1
    np.testing.assert_allclose(repaid + bad + b.final_debt, c.book.debt, rtol=1e-9, atol=1e-6)


def test_batch_old_key_names_the_new_one():
    import pydantic

    with pytest.raises(pydantic.ValidationError, match="liquidators.max_per_step"):
        Mechanisms.model_validate({"batch": {"max_per_step": 3}})


def test_batch_with_twap_exit_on_the_same_protocol_is_refused(kit):
    from liqcascade.errors import InputError

    with pytest.raises(InputError, match="twap_exit"):
        run(kit, {"batch": {}, "twap_exit": {"slices": 3}})


def test_partial_liquidates_a_smaller_share_per_event(kit):
    def first_share(r, c):
        ev = r.events
        debt0 = dict(zip(c.book.ids.tolist(), c.book.debt.tolist()))
        seen = {}
        for p, rep in zip(ev["position"], ev["debt_repaid"]):
            seen.setdefault(p, rep / debt0[p])
        return np.mean(list(seen.values()))

    base, c = run(kit)
    pa, _ = run(kit, {"partial": {"close_factor": 0.1, "cooldown_seconds": 180}})
    assert first_share(pa, c) < first_share(base, c)
    # cooldown: no position is liquidated twice within 3 steps
    ev = pa.events
    for p in np.unique(ev["position"]):
        s = np.sort(ev["step"][ev["position"] == p])
        assert np.all(np.diff(s) > 3)


def test_dynamic_margin_liquidates_earlier_when_vol_is_high(kit):
    price = {"kind": "crash", "shock": 0.3, "start_seconds": 180, "over_seconds": 1200}
    base, _ = run(kit, price=price, depth=30.0)
    dm, _ = run(kit, {"dynamic_margin": {"vol_window_seconds": 600, "vol_ref": 0.5, "lt_per_vol": 0.05,
                                         "apply": "at_once"}}, price=price, depth=30.0)
    assert n_by(dm, 5) > n_by(base, 5)
    # with a flat price the realized vol is 0 and nothing changes
    flat = {"kind": "crash", "shock": 0.0}
    a, _ = run(kit, price=flat)
    b, _ = run(kit, {"dynamic_margin": {"vol_window_seconds": 600, "vol_ref": 0.5, "lt_per_vol": 0.05}}, price=flat)
    np.testing.assert_array_equal(a.summary, b.summary)


def test_dynamic_margin_ramp_tightens_the_book_gradually(kit):
    """Same seeded crash: tightening at once liquidates more than the ramp, the ramp no less than
    no mechanism (it only tightens), and new_positions leaves the existing book alone."""
    price = {"kind": "crash", "shock": 0.3, "start_seconds": 180, "over_seconds": 1200}
    dm = {"vol_window_seconds": 600, "vol_ref": 0.5, "lt_per_vol": 0.05, "size_tiers": [[1e4, 0.9]]}
    base, _ = run(kit, price=price, depth=30.0)
    now, _ = run(kit, {"dynamic_margin": {**dm, "apply": "at_once"}}, price=price, depth=30.0)
    ramp, _ = run(kit, {"dynamic_margin": {**dm, "ramp_seconds": 1800}}, price=price, depth=30.0)
    new, _ = run(kit, {"dynamic_margin": {**dm, "apply": "new_positions"}}, price=price, depth=30.0)
    liq = lambda r: r.summary[0, KD.SUM_LIQ_VALUE]  # noqa: E731
    assert liq(now) > liq(ramp) >= liq(base)
    assert n_by(now, 5) > n_by(ramp, 5)
    np.testing.assert_array_equal(new.summary, base.summary)
    assert any("apply = new_positions" in n for n in new.notes)
    assert any(n.startswith("warning: dynamic_margin.apply = at_once") for n in now.notes)
    assert not any("at_once" in n for n in ramp.notes)


@pytest.mark.parametrize("venue", ["book", "cpmm"])
def test_haircut_acts_on_every_venue_kind(kit, venue):
    """The depth haircut alone (no volatility term) changes the outcome on a book venue as on a
    pool, and in the direction of a tightening: no fewer liquidations, earlier. The oracle lags
    (heartbeat) so the protocol's price sits above a venue pushed down by the sales."""
    coll, debt, proto = book(kit)
    total = float(coll.sum())
    oracle = {"kind": "heartbeat", "deviation": 0.05, "heartbeat_seconds": 3600}
    price = {"kind": "crash", "shock": 0.3, "start_seconds": 180, "over_seconds": 600}

    def go(mech):
        sc = kit.scenario(venue=venue, book_quote=total * kit.P0 * 0.3 / 10.0, reserve=total, half_life=5.0, protocols=PROTO,
                          price=price, steps=60, oracle=oracle, record_paths=1)
        sc.mechanisms = Mechanisms.model_validate(mech)
        return run_dynamic(kit.build(sc, coll, debt, proto))

    off = {"dynamic_margin": {"vol_ref": 1e6, "apply": "at_once"}}
    on = {"dynamic_margin": {"vol_ref": 1e6, "apply": "at_once", "haircut_k": 0.5}}
    a, b = go(off), go(on)
    assert a.summary[0, KD.SUM_NLIQ] > 0
    assert not np.array_equal(a.summary, b.summary)
    assert b.summary[0, KD.SUM_NPOS_LIQ] >= a.summary[0, KD.SUM_NPOS_LIQ]
    assert first_liq_step(b) <= first_liq_step(a)


def test_size_tiers_liquidate_large_positions_earlier(kit):
    price = {"kind": "crash", "shock": 0.3, "start_seconds": 180, "over_seconds": 1200}
    base, c = run(kit, price=price, depth=30.0)
    big = float(np.median(c.book.coll)) * kit.P0
    tier, _ = run(kit, {"dynamic_margin": {"vol_ref": 1e6, "size_tiers": [[big, 0.9]], "apply": "at_once"}},
                  price=price, depth=30.0)
    assert tier.summary[0, KD.SUM_NLIQ] > base.summary[0, KD.SUM_NLIQ] or first_liq_step(tier) < first_liq_step(base)
    # the final state comes back in the compiled book's order: conservation per position
    ev = tier.events
    where = {int(i): k for k, i in enumerate(c.book.ids)}
    idx = np.array([where[int(p)] for p in ev["position"]], dtype=np.int64)
    seized = np.bincount(idx, weights=ev["collateral_seized"], minlength=c.book.n)
    np.testing.assert_allclose(seized + tier.final_coll, c.book.coll, rtol=1e-9)


def test_volatility_bonus_raises_the_bonus_when_vol_is_high(kit):
    base, _ = run(kit)
    vf, _ = run(kit, {"volatility_bonus": {"k": 1.0, "vol_ref": 0.5, "vol_window_seconds": 600, "max_bonus": 0.2}})
    assert vf.summary[0, KD.SUM_BORROWER_LOSS] > base.summary[0, KD.SUM_BORROWER_LOSS]


def test_volatility_fee_accrues_into_debt_while_vol_is_high(kit):
    """The leverage fee charges: on a volatile path debt grows, so no fewer positions are
    liquidated; the events record the debt owed (what liquidators repay, in quote, is their
    debt_repaid at the debt asset's price of 1, as without the fee), and so does the final book;
    on a flat path it accrues nothing and the run is identical to none."""
    price = {"kind": "crash", "shock": 0.3, "start_seconds": 180, "over_seconds": 1200}
    lf = {"volatility_fee": {"k": 0.5, "vol_ref": 0.5, "vol_window_seconds": 600}}
    base, _ = run(kit, price=price, depth=30.0)
    fee, c_ = run(kit, lf, price=price, depth=30.0)
    assert fee.summary[0, KD.SUM_NLIQ] > 0
    np.testing.assert_allclose(fee.summary[0, KD.SUM_REPAID], fee.events["debt_repaid"].sum(), rtol=1e-9)
    np.testing.assert_allclose(base.summary[0, KD.SUM_REPAID], base.events["debt_repaid"].sum(), rtol=1e-12)
    never = ~np.isin(np.asarray(c_.book.ids), fee.events["position"])  # never liquidated in either run
    never &= ~np.isin(np.asarray(c_.book.ids), base.events["position"])
    assert never.any() and np.all(fee.final_debt[never] > base.final_debt[never])
    assert fee.summary[0, KD.SUM_NPOS_LIQ] >= base.summary[0, KD.SUM_NPOS_LIQ]
    flat = {"kind": "crash", "shock": 0.0}
    a, _ = run(kit, price=flat)
    b, _ = run(kit, lf, price=flat)
    np.testing.assert_array_equal(a.summary, b.summary)


def test_volatility_fee_old_bonus_key_names_volatility_bonus():
    import pydantic

    with pytest.raises(pydantic.ValidationError, match="volatility_bonus"):
        Mechanisms.model_validate({"volatility_fee": {"max_bonus": 0.2}})


def test_oracle_guard_smooths_the_price_protocols_read(kit):
    base, _ = run(kit)
    g, c = run(kit, {"oracle_guard": {"kind": "twap", "window_seconds": 600}})
    assert "guard:A" in c.oracle_names
    assert n_by(g, 3) < n_by(base, 3)


ALL_ON = {
    "circuit_breaker": {"threshold": 0.2, "window_seconds": 300, "pause_seconds": 180, "grace_seconds": 120, "exempt_hf": 0.9},
    "throttle": {"max_debt_per_window": 2e4, "window_seconds": 300, "depth_slippage": 0.05},
    "twap_exit": {"slices": 4},
    "buffer_pool": {"capital": 5e3, "discount": 0.05},
    "insurance_fund": {"size": 1e3, "fee_share": 0.5},
    "dutch_auction": {"start_bonus": 0.01, "max_bonus": 0.08, "rise_seconds": 300},
    "partial": {"close_factor": 0.3, "cooldown_seconds": 60},
    "oracle_guard": {"kind": "ema", "half_life_seconds": 120.0},
    "dynamic_margin": {"vol_window_seconds": 600, "vol_ref": 0.5, "size_tiers": [[1e4, 0.95]], "ramp_seconds": 600},
    "random_execution": {"window_seconds": 240},
    "volatility_fee": {"k": 0.5, "vol_ref": 0.5, "vol_window_seconds": 600},
    "volatility_bonus": {"k": 0.5, "vol_ref": 0.5, "vol_window_seconds": 600},
}
#: the batch auction sells seized collateral itself: with everything else but the other two sellers
ALL_ON_BATCH = {**{k: v for k, v in ALL_ON.items() if k not in ("twap_exit", "buffer_pool")},
                "batch": {"window_seconds": 300, "depth_slippage": 0.02}}


@pytest.mark.parametrize("mech", [ALL_ON, ALL_ON_BATCH], ids=["all", "all-with-batch"])
def test_same_seed_identical_output_with_all_on(kit, mech):
    price = {"kind": "gbm", "sigma": 3.0, "mu": -2.0}
    r1, _ = run(kit, mech, price=price, steps=80)
    r2, _ = run(kit, mech, price=price, steps=80)
    assert r1.summary[0, KD.SUM_NLIQ] > 0
    np.testing.assert_array_equal(r1.summary, r2.summary)
    np.testing.assert_array_equal(r1.steps_asset, r2.steps_asset)
    np.testing.assert_array_equal(r1.final_coll, r2.final_coll)
    for f in r1.events.dtype.names:
        assert list(r1.events[f]) == list(r2.events[f]), f
    t = r1.totals()
    for k in ("socialized_loss", "positions_liquidated", "dislocation_steps", "paused_steps", "held_value",
              "borrower_loss", "insurance_fund_draw"):
        assert k in t


@pytest.mark.parametrize("mech", [ALL_ON, ALL_ON_BATCH], ids=["all", "all-with-batch"])
def test_recorded_and_summary_paths_agree_with_all_on(kit, mech):
    """simulate_path (recorded) and simulate_many (summaries) give the same per-path summaries,
    random execution included (it hashes the path index, not an RNG state)."""
    coll, debt, proto = book(kit)
    total = float(coll.sum())
    sc = kit.scenario(venue="book", book_quote=total * kit.P0 * 0.03, half_life=5.0, protocols=PROTO,
                      price={"kind": "gbm", "sigma": 3.0, "mu": -2.0}, steps=60, paths=4, record_paths=4, seed=3)
    sc.mechanisms = Mechanisms.model_validate(mech)
    c = kit.build(sc, coll, debt, proto)
    rec = run_dynamic(c)
    norec = run_dynamic(c, record_paths=0)
    cols = [j for j in range(KD.NSUM) if j != KD.SUM_EV_LOST]
    np.testing.assert_array_equal(rec.summary[:, cols], norec.summary[:, cols])


def test_mechanism_naming_a_protocol_unit_is_refused_and_oracle_guard_rewrites_units():
    from pathlib import Path

    from liqcascade.engine.compile import compile_scenario
    from liqcascade.errors import InputError
    from liqcascade.scenario.load import load_scenario

    ex = Path(__file__).resolve().parents[2] / "examples" / "maker.toml"
    sc, base = load_scenario(ex)
    unit = sc.protocols[0].name
    sc.mechanisms = Mechanisms.model_validate({"batch": {"applies_to": [unit]}})
    with pytest.raises(InputError, match="applies_to"):
        compile_scenario(sc, base)
    sc.mechanisms = Mechanisms.model_validate({"oracle_guard": {"kind": "median"}})
    c = compile_scenario(sc, base)
    g = c.oracle_names.index("guard:WETH")
    assert c.oracle_of[0, c.assets.index("WETH")] == g


def test_maker_breaker_reads_a_next_price_only_from_an_osm():
    """ClipperMom compares the OSM's next price (peep) with the current one. Under the oracle
    guard the Maker unit reads a TWAP, which has no next price: the unit gets none (NaN, the
    breaker does not act) rather than the TWAP's peep slot, which holds its start price forever
    (a rise above start / tolerance would trip the breaker)."""
    from liqcascade.engine.compile import compile_scenario, kernel_inputs
    from liqcascade.kernels import layouts as KL
    from liqcascade.oracles.kernel import ORACLE_OSM
    from liqcascade.scenario.load import load_scenario

    sc, base = load_scenario(REPO / "examples" / "maker.toml")
    c = compile_scenario(sc, base)
    o = kernel_inputs(c).units.meta[KL.U_MAKER, KL.UM_PEEP]
    assert o >= 0 and c.o_kind[o] == ORACLE_OSM
    sc.mechanisms = Mechanisms.model_validate({"oracle_guard": {"kind": "twap"}})
    c = compile_scenario(sc, base)
    assert kernel_inputs(c).units.meta[KL.U_MAKER, KL.UM_PEEP] == -1


# ---- fixes from review: stable collateral, own assets, applicability notes -------------------


def _short_book_scenario(tmp_path, mech: str = "") -> Path:
    """USDC collateral against WETH debt (a short on WETH), WETH rising: the seized collateral is
    stable and needs no venue."""
    (tmp_path / "short.csv").write_text("id,collateral,debt\n" + "".join(
        f"s{k},{10_000.0 + 100 * k},{(10_000.0 + 100 * k) * 0.85 / (2000.0 * (1.01 + 0.01 * k))}\n"
        for k in range(20)))
    (tmp_path / "short.toml").write_text(f"""
name = "short"
[simulation]
steps = 60
seed = 3
[[assets]]
name = "WETH"
price = 2000.0
[[assets]]
name = "USDC"
price = 1.0
stable = true
[price]
kind = "gbm"
mu = 3000.0
sigma = 0.05
[[venues]]
name = "pool"
asset = "WETH"
kind = "cpmm"
reserve_asset = 5000
[[protocols]]
name = "p"
positions = "short.csv"
collateral = "USDC"
debt = "WETH"
[protocols.params.USDC]
liquidation_threshold = 0.85
liquidation_bonus = 0.05
{mech}
""")
    return tmp_path / "short.toml"


def test_depth_throttle_does_not_block_stable_collateral(tmp_path):
    from liqcascade.engine.compile import compile_scenario
    from liqcascade.engine.dynamic import run_dynamic
    from liqcascade.scenario.load import load_scenario

    def go(mech):
        f = _short_book_scenario(tmp_path, mech)
        sc, base = load_scenario(f)
        return run_dynamic(compile_scenario(sc, base))

    plain = go("")
    throttled = go("[mechanisms.throttle]\ndepth_slippage = 0.02\n")
    assert plain.summary[0, KD.SUM_NLIQ] > 0
    np.testing.assert_array_equal(throttled.summary[0, KD.SUM_NLIQ], plain.summary[0, KD.SUM_NLIQ])
    assert throttled.summary[0, KD.SUM_REPAID] == pytest.approx(plain.summary[0, KD.SUM_REPAID], rel=1e-12)


def test_breaker_trips_only_on_the_protocols_own_collateral():
    # WBTC falls 25 %, WETH does not move: the WETH-only fork must not pause
    from liqcascade.engine.compile import compile_scenario
    from liqcascade.engine.dynamic import run_dynamic
    from liqcascade.scenario.load import load_scenario

    sc, base = load_scenario(REPO / "examples" / "two_protocols.toml")
    d = sc.model_dump(mode="python", exclude_none=True)
    d["price"]["shock"] = [0.0, 0.25, 0.0]
    d["mechanisms"] = {"circuit_breaker": {"threshold": 0.05, "window_seconds": 600, "applies_to": ["fork"]}}
    r = run_dynamic(compile_scenario(Scenario.model_validate(d), base))
    assert r.summary[0, KD.SUM_PAUSED] == 0
    d["mechanisms"]["circuit_breaker"]["applies_to"] = ["aave"]  # holds WBTC collateral: trips
    r = run_dynamic(compile_scenario(Scenario.model_validate(d), base))
    assert r.summary[0, KD.SUM_PAUSED] > 0


def test_mechanism_on_a_units_only_scenario_says_it_has_no_effect():
    from liqcascade.engine.compile import compile_scenario
    from liqcascade.engine.dynamic import run_dynamic
    from liqcascade.scenario.load import load_scenario

    sc, base = load_scenario(REPO / "examples" / "comet.toml")
    d = sc.model_dump(mode="python", exclude_none=True)
    d["mechanisms"] = {"batch": {"window_seconds": 300}}
    r = run_dynamic(compile_scenario(Scenario.model_validate(d), base))
    assert any("batch: no Aave-rule protocol" in n for n in r.notes)
    d["mechanisms"] = {"batch": {"window_seconds": 300, "applies_to": []}}
    with pytest.raises(ValueError, match="applies_to"):
        Scenario.model_validate(d)


def test_compare_example_ramp_liquidates_less_than_at_once():
    """`compare` on the example's seeded paths: the default ramp liquidates less than tightening
    at once, path by path. It does not liquidate less than `none`: a ramp only slows a tightening
    (docs/mechanisms.md, dynamic-margin)."""
    from liqcascade.engine.compare import run_compare
    from liqcascade.scenario.load import load_scenario

    sc, base = load_scenario(REPO / "examples" / "compare.toml")
    ramp = run_compare(sc, base, "none,dynamic-margin", paths=6, seed=3)
    now = run_compare(sc, base, "none,dynamic-margin", ["dynamic_margin.apply=at_once"], paths=6, seed=3)
    lr = ramp.configs[1].per_path["liquidated_value"]
    ln = now.configs[1].per_path["liquidated_value"]
    l0 = ramp.configs[0].per_path["liquidated_value"]
    assert np.all(lr <= ln) and lr.sum() < ln.sum()
    assert (lr - l0).sum() < (ln - l0).sum()


def test_dynamic_margin_ramp_ignores_rounding_dust_in_its_target():
    """The dynamic margin recomputes its target every step; a target that differs from the ramp's
    by rounding dust is the same setting and does not restart the ramp from the value in force
    (a restart moved the multiplier by 6e-4 on a 7-step ramp; found by the whole-loop twin,
    whose depth arithmetic rounds differently)."""
    from liqcascade.mechanisms.dynamic_margin.kernel import ramp_set, ramp_value

    rs = np.array([1.0, 1.0, 0.0])
    target = 0.9683145783057054
    assert ramp_set(rs, 1.0, target, 7.0) == 1.0 and rs[2] == 8.0
    v = ramp_set(rs, 2.0, np.nextafter(target, 0.0), 7.0)
    assert rs[2] == 8.0 and v == ramp_value(1.0, target, 8.0, 2.0, 7.0)
    ramp_set(rs, 3.0, 0.7, 7.0)  # a real change starts a new ramp from the value in force
    assert rs[2] == 10.0 and rs[1] == 0.7

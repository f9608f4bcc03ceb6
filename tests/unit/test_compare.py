"""``engine.compare``: building configurations, ``--set`` parsing, the CI arithmetic, and the
paired runs (the same price paths under every configuration; same seed → same table)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liqcascade.engine import compare as C
from liqcascade.engine.compile import compile_scenario
from liqcascade.engine.dynamic import run_dynamic
from liqcascade.errors import InputError
from liqcascade.kernels import dynamic as K
from liqcascade.scenario.load import validate_dict


def _scenario_dict(positions="pos.csv", mechanisms=None, agents=None, paths=3, seed=5, steps=40):
    d = {
        "name": "cmp",
        "simulation": {"steps": steps, "dt_seconds": 60, "paths": paths, "seed": seed},
        "assets": [{"name": "WETH", "price": 2000.0}, {"name": "USDC", "price": 1.0, "stable": True}],
        # jumps: some paths crash, some do not
        "price": {"kind": "jump", "sigma": 0.8, "lam": 20000.0, "jump_mean": -0.15, "jump_std": 0.05},
        "venues": [{"name": "pool", "asset": "WETH", "kind": "cpmm", "reserve_asset": 400.0, "fee": 0.003}],
        "oracles": [{"name": "o", "asset": "WETH", "kind": "spot"}],
        "protocols": [{"name": "aave", "positions": positions, "collateral": "WETH", "debt": "USDC",
                       "params": {"WETH": {"liquidation_threshold": 0.86, "liquidation_bonus": 0.05}}}],
        "arbitrage": {"enabled": True, "to_reference": True},
    }
    if mechanisms is not None:
        d["mechanisms"] = mechanisms
    if agents is not None:
        d["agents"] = agents
    return d


def _write_book(path, n=30, seed=1):
    rng = np.random.default_rng(seed)
    coll = 10.0 ** rng.uniform(-1, 2, n)
    hf = rng.uniform(1.0, 1.4, n)
    debt = coll * 2000.0 * 0.86 / hf
    lines = ["id,collateral,debt"] + [f"p{i},{c:.6f},{d:.2f}" for i, (c, d) in enumerate(zip(coll, debt))]
    path.write_text("\n".join(lines) + "\n")
    return float(debt.sum())


@pytest.fixture
def sc():
    return validate_dict(_scenario_dict())


# ---- configurations ------------------------------------------------------------------------------


def test_none_clears_mechanisms_but_keeps_agents():
    s = validate_dict(_scenario_dict(
        mechanisms={"circuit_breaker": {"threshold": 0.2}, "batch": {"window_seconds": 600}},
        agents={"borrowers": {"share": 0.5}}))
    cfg = dict(C.configurations(s, "none,scenario", total_debt=1e6))
    assert cfg["none"].mechanisms.active() == []
    assert cfg["none"].agents.active() == ["borrowers"]
    assert cfg["none"].agents.borrowers.share == 0.5
    assert cfg["scenario"].mechanisms.active() == ["circuit_breaker", "batch"]
    # the original scenario is not modified
    assert s.mechanisms.active() == ["circuit_breaker", "batch"]


def test_name_uses_the_scenario_table_else_the_defaults():
    s = validate_dict(_scenario_dict(mechanisms={"circuit_breaker": {"threshold": 0.2, "pause_seconds": 420}}))
    cfg = dict(C.configurations(s, "circuit-breaker,batch,twap_exit", total_debt=1e6))
    cb = cfg["circuit-breaker"].mechanisms
    assert cb.active() == ["circuit_breaker"]
    assert (cb.circuit_breaker.threshold, cb.circuit_breaker.pause_seconds) == (0.2, 420)
    assert cfg["batch"].mechanisms.active() == ["batch"]
    assert cfg["batch"].mechanisms.batch.window_seconds == C.model_class("mechanisms", "batch")().window_seconds
    assert cfg["twap_exit"].mechanisms.twap_exit.slices == 10


def test_required_amounts_default_to_a_share_of_the_debt():
    s = validate_dict(_scenario_dict())
    notes = []
    cfg = dict(C.configurations(s, "buffer-pool,insurance-fund,throttle", total_debt=2e6, notes=notes))
    assert cfg["buffer-pool"].mechanisms.buffer_pool.capital == pytest.approx(C.DEFAULT_DEBT_SHARE * 2e6)
    assert cfg["insurance-fund"].mechanisms.insurance_fund.size == pytest.approx(C.DEFAULT_DEBT_SHARE * 2e6)
    assert cfg["throttle"].mechanisms.throttle.max_debt_per_window == pytest.approx(C.DEFAULT_DEBT_SHARE * 2e6)
    assert len(notes) == 3 and all("total debt" in n for n in notes)
    # a callable is only asked when a default is needed
    calls = []
    C.configurations(s, "none,batch", total_debt=lambda: calls.append(1) or 1.0)
    assert calls == []
    with pytest.raises(InputError, match="buffer-pool: cannot derive a default capital"):
        C.configurations(s, "buffer-pool", total_debt=0.0)
    # ... unless --set gives it
    cfg = dict(C.configurations(s, "buffer-pool", ["buffer-pool.capital=123"], total_debt=0.0))
    assert cfg["buffer-pool"].mechanisms.buffer_pool.capital == 123.0


def test_every_mechanism_alone_validates():
    s = validate_dict(_scenario_dict())
    names = ",".join(C.cli_name(m) for m in C.MECHANISMS)
    cfg = C.configurations(s, names, total_debt=1e6)
    assert [lab for lab, _ in cfg] == [C.cli_name(m) for m in C.MECHANISMS]
    for (lab, x), m in zip(cfg, C.MECHANISMS):
        assert x.mechanisms.active() == [m], lab
    assert len(C.MECHANISMS) == 14 and len(C.AGENTS) == 6


def test_plus_combines():
    s = validate_dict(_scenario_dict())
    (lab, x), = C.configurations(s, "circuit-breaker+batch+partial", total_debt=1e6)
    assert lab == "circuit-breaker+batch+partial"
    assert sorted(x.mechanisms.active()) == ["batch", "circuit_breaker", "partial"]


def test_set_overrides_with_typed_values():
    s = validate_dict(_scenario_dict())
    sets = ["throttle.max_debt_per_window=1e6", "throttle.window-seconds=720", "oracle-guard.kind=ema",
            "circuit_breaker.applies_to=[\"aave\"]", "circuit-breaker.exempt_hf=0.95"]
    cfg = dict(C.configurations(s, "throttle,oracle-guard,circuit-breaker+throttle", sets, total_debt=5.0))
    th = cfg["throttle"].mechanisms.throttle
    assert th.max_debt_per_window == 1e6 and th.window_seconds == 720
    assert cfg["oracle-guard"].mechanisms.oracle_guard.kind == "ema"
    both = cfg["circuit-breaker+throttle"].mechanisms
    assert both.circuit_breaker.applies_to == ["aave"] and both.circuit_breaker.exempt_hf == 0.95
    assert both.throttle.window_seconds == 720  # every configuration that switches it on
    assert C.parse_sets(["batch.window_seconds=600"]) == {"batch": {"window_seconds": 600}}


@pytest.mark.parametrize("sets, words", [
    (["throttle.nope=1"], ["--set", "throttle.nope", "unknown field 'nope'"]),
    (["throttle.window_seconds=0"], ["--set", "throttle.window_seconds", "greater than 0"]),
    (["throttle.window_seconds"], ["--set", "NAME.FIELD=VALUE"]),
    (["throttle=3"], ["--set", "NAME.FIELD"]),
    (["teleport.x=1"], ["--set", "unknown mechanism 'teleport'"]),
    (["hunter.capital=1"], ["--set", "hunter is an agent"]),
    (["batch.window_seconds=2"], ["--set", "batch: not switched on"]),
    (["batch.max_per_step=2"], ["--set", "liquidators.max_per_step"]),
    (["throttle.applies_to=[\"nowhere\"]"], ["--set", "unknown protocol 'nowhere'"]),
    (["oracle-guard.kind=median3"], ["--set", "oracle-guard.kind"]),
])
def test_bad_set_names_the_field(sets, words):
    s = validate_dict(_scenario_dict())
    with pytest.raises(InputError) as e:
        C.configurations(s, "throttle,oracle-guard", sets, total_debt=1e6)
    msg = e.value.message()
    assert "\n" not in msg
    for w in words:
        assert w in msg


@pytest.mark.parametrize("names, words", [
    ("", ["--mechanisms", "no configuration"]),
    ("none,teleport", ["--mechanisms", "unknown mechanism 'teleport'", "circuit-breaker"]),
    ("hunter", ["--mechanisms", "'hunter' is an agent"]),
    ("none+batch", ["cannot be combined"]),
    ("batch+batch", ["appears twice"]),
    ("batch+partial,partial+batch", ["listed twice"]),
    ("batch++partial", ["empty name"]),
])
def test_bad_names(names, words):
    s = validate_dict(_scenario_dict())
    with pytest.raises(InputError) as e:
        C.configurations(s, names, total_debt=1e6)
    for w in words:
        assert w in e.value.message()


# ---- statistics ------------------------------------------------------------------------------------


def test_mean_ci_on_a_known_sample():
    st = C.mean_ci([1.0, 2.0, 3.0, 4.0, 5.0])
    h = 1.959963984540054 * math.sqrt(2.5) / math.sqrt(5)  # sample variance of 1..5 is 2.5
    assert st["mean"] == 3.0 and st["n"] == 5
    assert st["std"] == pytest.approx(math.sqrt(2.5))
    assert (st["ci_lo"], st["ci_hi"]) == (pytest.approx(3 - h), pytest.approx(3 + h))
    one = C.mean_ci([7.0])
    assert one["mean"] == 7.0 and math.isnan(one["ci_lo"]) and math.isnan(one["ci_hi"])
    assert all(math.isnan(v) for k, v in C.mean_ci([1.0, math.nan]).items() if k != "n")
    const = C.mean_ci([2.0, 2.0, 2.0])
    assert const["ci_lo"] == const["ci_hi"] == 2.0


def test_total_debt_value(tmp_path):
    debt = _write_book(tmp_path / "pos.csv")
    c = compile_scenario(validate_dict(_scenario_dict()), tmp_path)
    assert C.total_debt_value(c) == pytest.approx(debt, rel=1e-9)


# ---- paired runs -----------------------------------------------------------------------------------


def test_summary_columns_exist():
    """compare reads these per-path columns of the dynamic kernel; all must exist and be distinct."""
    cols = [getattr(K, n) for n in C.REQUIRED_COLUMNS]  # AttributeError names a missing one
    base = [K.SUM_NLIQ, K.SUM_LIQ_VALUE, K.SUM_REPAID, K.SUM_BAD, K.SUM_FEES, K.SUM_BONUS, K.SUM_PROCEEDS,
            K.SUM_GAS, K.SUM_SKIPPED, K.SUM_EV_LOST, K.SUM_FUND_DRAW]
    assert len(set(cols + base)) == len(cols) + len(base)
    assert max(cols + base) < K.NSUM


@pytest.fixture(scope="module")
def book_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp")
    _write_book(d / "pos.csv")
    return d


def test_none_inside_compare_equals_a_plain_run(book_dir):
    s = validate_dict(_scenario_dict(mechanisms={"batch": {"window_seconds": 120}}))
    res = C.run_compare(s, book_dir, "none,batch,circuit-breaker+twap-exit", paths=4, seed=9)
    assert [c.label for c in res.configs] == ["none", "batch", "circuit-breaker+twap-exit"]
    plain_sc = validate_dict(_scenario_dict(paths=4, seed=9))
    plain = run_dynamic(compile_scenario(plain_sc, book_dir))
    none = res.configs[0].run
    np.testing.assert_array_equal(none.summary, plain.summary)
    np.testing.assert_array_equal(none.min_spot, plain.min_spot)
    # the same exogenous path under every configuration
    for cfg in res.configs[1:]:
        np.testing.assert_array_equal(cfg.run.steps_asset[0, :, 0, K.ST_REF], none.steps_asset[0, :, 0, K.ST_REF])
    # per-path metrics read the run
    pm = res.configs[0].per_path
    np.testing.assert_array_equal(pm["bad_debt"], plain.summary[:, K.SUM_BAD])
    np.testing.assert_array_equal(pm["max_drawdown"], 1 - plain.min_spot[:, 0] / 2000.0)
    np.testing.assert_array_equal(pm["time_to_recovery"], plain.summary[:, K.SUM_DISLOCATION] * 60.0)
    assert np.all(pm["positions_saved"] == 0)
    for cfg in res.configs:
        np.testing.assert_array_equal(cfg.per_path["positions_saved"],
                                      pm["positions_liquidated"] - cfg.per_path["positions_liquidated"])
        st = cfg.stats["bad_debt"]
        assert st["mean"] == pytest.approx(cfg.per_path["bad_debt"].mean())
        d = cfg.diff["bad_debt"]
        assert d["mean"] == pytest.approx((cfg.per_path["bad_debt"] - pm["bad_debt"]).mean(), abs=1e-6)


def test_batch_auction_changes_the_outcome_and_the_count_cap_lives_on_the_liquidators(book_dir):
    """The batch auction changes how the collateral is sold (the outcome differs on paths that
    liquidate); the old per-step count cap is the liquidators' max_per_step."""
    s = validate_dict(_scenario_dict())
    res = C.run_compare(s, book_dir, "none,batch", ["batch.window_seconds=300"], paths=4, seed=9)
    none, batch = res.configs
    assert none.per_path["positions_liquidated"].sum() > 4  # the paths do liquidate
    assert not np.array_equal(none.per_path["liquidator_profit"], batch.per_path["liquidator_profit"])
    assert batch.mechanisms == {"batch": {"applies_to": None, "window_seconds": 300, "depth_slippage": 0.02,
                                          "keeper_margin": 0.0}}
    capped = validate_dict(_scenario_dict())
    capped.liquidators.max_per_step = 1
    one = C.run_compare(capped, book_dir, "none", paths=4, seed=9).configs[0]
    n0 = none.per_path["positions_liquidated"]
    assert np.all(one.per_path["positions_liquidated"] <= n0)
    assert one.per_path["positions_liquidated"].sum() < n0.sum()


def test_none_is_added_and_same_seed_gives_the_same_table(book_dir):
    s = validate_dict(_scenario_dict())
    a = C.run_compare(s, book_dir, "partial", paths=3, seed=2)
    b = C.run_compare(s, book_dir, "partial", paths=3, seed=2)
    assert [c.label for c in a.configs] == ["none", "partial"]
    assert a.as_dict() == b.as_dict()
    d = a.as_dict()
    assert set(d["configurations"][1]["stats"]) == set(C.METRIC_KEYS)
    one = C.run_compare(s, book_dir, "none", paths=1, seed=2)
    assert one.as_dict()["configurations"][0]["stats"]["bad_debt"]["ci_lo"] is None  # NaN → null


def test_compact_formatting():
    from liqcascade.report.compare import compact, compact_ci

    assert [compact(v, "quote") for v in (1_288_844.0, -85_394.0, 831_940.0, 0.0, 3.214, 2.2e10)] == \
        ["1.29M", "-85.4k", "832k", "0", "3.21", "22B"]
    assert compact(0.1774, "fraction") == "17.7%" and compact(2106.0, "seconds") == "35.1 min"
    assert compact(math.nan, "quote") == "—" and compact(254.0, "count") == "254"
    st = C.mean_ci([1.0, 2.0, 3.0])
    assert compact_ci(st, "count") == "2\n±1.1" and compact_ci(C.mean_ci([5.0]), "count") == "5"

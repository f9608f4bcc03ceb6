"""The lean time loop against the full one.

The engine runs a scenario without mechanisms, loop agents, interest rates, multi-asset positions
and protocol units on the *lean* kernels (``kernels.dynamic.simulate_path_lean`` /
``simulate_many_lean``: the same loop body with that code pruned at compile time), anything else
on the full ones (:func:`liqcascade.engine.dynamic.loop_variant`). Where the lean kernel applies,
the full kernel (given the empty layouts) must give the *same bits*: every event, summary column,
per-step record, sales-ledger row and the final book — on the flagship (fewer steps) and on
scenarios hypothesis draws. The chooser is checked on one scenario per feature that needs the
full kernel (a venue of a kind other than cpmm and book among them), and the lean kernels' call
graph on reaching no other venue kind.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from test_loop_parity import base_config, configs
from test_loop_parity import scenario as drawn_scenario

from liqcascade.engine.compile import compile_scenario, kernel_inputs
from liqcascade.engine.dynamic import VARIANT_GROUPS, VARIANTS, loop_groups, loop_variant, make_paths, variant_args
from liqcascade.kernels import dynamic as KD
from liqcascade.kernels import events as KE
from liqcascade.kernels import layouts as KL
from liqcascade.kernels import sales as KSL
from liqcascade.scenario.models import Scenario

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
FLAGSHIP = REPO / "src" / "liqcascade" / "presets" / "flagship.toml"


def _same(a, b) -> bool:
    """Bit equality of two arrays (structured arrays field by field: no padding compared)."""
    if a.dtype.names:
        return a.shape == b.shape and all(_same(a[f], b[f]) for f in a.dtype.names)
    return (a.shape == b.shape and a.dtype == b.dtype
            and np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes())


def run_path(ki, variant, path):
    """One recorded path through ``variant``'s path kernel: (summary, steps_asset, steps_scalar,
    events, sales, final book)."""
    T, A = path.shape[0] - 1, path.shape[1]
    b = ki.book
    summary = np.zeros(KL.NSUM)
    sa = np.zeros((T + 1, A, KL.NST))
    ss = np.zeros((T + 1, KL.NSS))
    book = (b.coll.copy(), b.debt.copy(), b.m_coll.copy(), b.m_debt.copy())
    out = KL.Out(summary, sa, ss, True, *book)
    ev = KE.events_new(4 * ki.n_positions + 1024, 10**7)
    sl = KSL.sales_new(4 * ki.n_positions + 1024, 10**7, np.zeros(ki.rules.lt.shape[0], dtype=np.bool_), A)
    kernel = getattr(KD, VARIANTS[variant][0])
    ev, sl = kernel(np.ascontiguousarray(path), 0, *variant_args(ki, variant), None, out, ev, sl)
    return {"summary": summary, "steps_asset": sa, "steps_scalar": ss, "events": ev.buf[:int(ev.n[KE.EV_N])].copy(),
            "sales": sl.buf[:int(sl.n[KE.EV_N])].copy(), "sales_acc": sl.acc.copy(),
            **{f"book_{i}": x for i, x in enumerate(book)}}


def run_many(ki, variant, paths):
    n, A = paths.shape[0], paths.shape[2]
    summary, mn, fin = np.zeros((n, KL.NSUM)), np.zeros((n, A)), np.zeros((n, A))
    kernel = getattr(KD, VARIANTS[variant][1])
    kernel(np.ascontiguousarray(paths), 0, np.arange(n, dtype=np.int64), *variant_args(ki, variant), None, summary,
           mn, fin)
    return {"summary": summary, "min_spot": mn, "final_spot": fin}


def assert_lean_is_full(c, paths, many=True):
    ki = kernel_inputs(c)
    assert loop_variant(ki) == "lean"
    lean, full = run_path(ki, "lean", paths[0]), run_path(ki, "full", paths[0])
    for k in lean:
        assert _same(lean[k], full[k]), f"recorded path: {k} differs between the lean and the full kernel"
    if many:
        lean, full = run_many(ki, "lean", paths), run_many(ki, "full", paths)
        for k in lean:
            assert _same(lean[k], full[k]), f"many paths: {k} differs between the lean and the full kernel"
    return ki


def test_flagship_lean_and_full_kernels_agree_bit_for_bit():
    raw = tomllib.loads(FLAGSHIP.read_text())
    raw["simulation"]["steps"] = 240  # the crash and the start of the recovery
    c = compile_scenario(Scenario.model_validate(raw), FLAGSHIP.parent)
    paths = make_paths(c, n_paths=2)
    ki = assert_lean_is_full(c, paths)
    assert run_path(ki, "lean", paths[0])["events"].shape[0] > 0, "the flagship liquidates nothing in 240 steps"


def _lean_config(cfg: dict) -> dict:
    cfg = dict(cfg, mechanisms=[], agents=[], multi=False)
    if cfg.get("oracle") not in ("none", "spot", "heartbeat"):  # the lean loop's oracle kinds
        cfg["oracle"] = "heartbeat"
    for k in ("rates", "rates_opts"):
        cfg.pop(k, None)
    return cfg


@settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs())
def test_lean_and_full_kernels_agree_on_drawn_scenarios(cfg):
    c = drawn_scenario(_lean_config(cfg))
    paths = make_paths(c, n_paths=2)
    assert_lean_is_full(c, paths)


# ---- the chooser -----------------------------------------------------------------------------------


def _example(name: str):
    from liqcascade.scenario.load import load_scenario

    sc, base = load_scenario(EXAMPLES / name)
    return compile_scenario(sc, base)


@pytest.mark.parametrize("name, variant", [
    ("minimal.toml", "lean"),
    ("mechanisms.toml", "full"),  # mechanisms
    ("attack.toml", "full"),  # loop agents
    ("rates.toml", "full"),  # interest rates
    ("comet.toml", "units"),  # a protocol unit
])
def test_the_engine_picks_the_lean_kernel_only_without_extras(name, variant):
    c = _example(name)
    assert loop_variant(kernel_inputs(c)) == variant
    assert loop_groups(c, recorded=True, many=True) == list(VARIANT_GROUPS[variant])


def test_an_oracle_of_another_kind_needs_the_full_kernel():
    """The lean kernels step the core oracle kinds alone (spot, heartbeat)."""
    from liqcascade.scenario.load import load_scenario

    sc, base = load_scenario(EXAMPLES / "minimal.toml")
    raw = sc.model_dump(mode="json", exclude_none=True)
    raw["oracles"][0] = {"name": raw["oracles"][0]["name"], "asset": "WETH", "kind": "twap", "window_seconds": 600.0}
    c = compile_scenario(Scenario.model_validate(raw), base)
    assert loop_variant(kernel_inputs(c)) == "full"


@pytest.mark.parametrize("venue", [
    {"kind": "stableswap", "reserve_asset": 1000.0, "amp": 50.0, "fee": 0.0004},
    {"kind": "concentrated", "fee": 0.003, "synthetic": {"tvl": 1e7, "sigma": 0.15, "cut": 2.5}},
])
def test_a_venue_of_another_kind_needs_the_full_kernel(venue):
    """The lean kernels dispatch over the core venue kinds alone (cpmm, book)."""
    from liqcascade.scenario.load import load_scenario

    sc, base = load_scenario(EXAMPLES / "minimal.toml")
    assert loop_variant(kernel_inputs(compile_scenario(sc, base))) == "lean"
    raw = sc.model_dump(mode="json", exclude_none=True)
    raw["venues"].append({"name": "extra", "asset": "WETH", **venue})
    c = compile_scenario(Scenario.model_validate(raw), base)
    assert loop_variant(kernel_inputs(c)) == "full"


def _reachable(fn) -> list:
    """Every kernel the plain function ``fn`` can call through global names (nested code and the
    functions a ``by_kind`` dispatch closes over included), ``fn``'s own globals first."""
    from numba.core.dispatcher import Dispatcher

    seen: dict[int, object] = {}
    todo = [getattr(fn, "py_func", fn)]
    while todo:
        f = todo.pop()
        names, stack = [], [f.__code__]
        while stack:
            code = stack.pop()
            names.extend(code.co_names)
            stack.extend(c for c in code.co_consts if hasattr(c, "co_names"))
        values = [f.__globals__[n] for n in names if n in f.__globals__]
        values += [cell.cell_contents for cell in f.__closure__ or ()]
        for v in [x for v in values for x in (v if isinstance(v, tuple) else (v,))]:
            if isinstance(v, Dispatcher) and id(v) not in seen:
                seen[id(v)] = v
                todo.append(v.py_func)
    return list(seen.values())


@pytest.mark.parametrize("kernel", ["simulate_path_lean", "simulate_many_lean"])
def test_the_lean_kernels_reach_no_other_venue_kind(kernel):
    """Through the ``_core`` copies of the stages, the sales ledger, routing, arbitrage and the
    oracle step (:class:`liqcascade.kernels._jit.Rebound`), the lean kernels reach the core venue
    and oracle kinds' kernels only; the full kernel reaches every kind."""
    from liqcascade import oracles, venues

    k = getattr(KD, kernel)
    if not hasattr(k, "py_func"):
        pytest.skip("JIT disabled")
    core = {f"liqcascade.{fam.__name__.split('.')[-1]}.{kind}.kernel" for fam in (venues, oracles)
            for kind in fam.CORE_KINDS}
    others = {f"liqcascade.{fam.__name__.split('.')[-1]}.{kind}.kernel" for fam in (venues, oracles)
              for kind in fam.KINDS if kind not in fam.CORE_KINDS}
    assert others
    lean = {d.py_func.__module__ for d in _reachable(k)}
    assert core <= lean
    assert not lean & others, f"{kernel} reaches {sorted(lean & others)}"
    assert others <= {d.py_func.__module__ for d in _reachable(KD.simulate_path)}


def test_multi_asset_positions_need_the_full_kernel():
    assert loop_variant(kernel_inputs(drawn_scenario(base_config(7)))) == "lean"
    assert loop_variant(kernel_inputs(drawn_scenario(base_config(7, multi=True)))) == "full"


def test_a_run_uses_the_chosen_kernel(monkeypatch):
    """run_dynamic calls the lean kernels for a lean scenario and the full ones otherwise."""
    from liqcascade.engine.dynamic import run_dynamic

    lean, full = _example("minimal.toml"), _example("mechanisms.toml")
    called = []

    def spy(name, real):
        def call(*a):
            if a[0].shape[-2] == 21:  # these runs' paths (a cold cache's warm-up runs have 3 steps)
                called.append(name)
            return real(*a)
        return call

    for name in ("simulate_path_lean", "simulate_path", "simulate_many_lean", "simulate_many"):
        monkeypatch.setattr(KD, name, spy(name, getattr(KD, name)))
    c = lean
    run_dynamic(c, paths=make_paths(c, n_paths=2, steps=20), record_paths=1)
    assert called == ["simulate_path_lean", "simulate_many_lean"]
    called.clear()
    c = full
    run_dynamic(c, paths=make_paths(c, n_paths=2, steps=20), record_paths=1)
    assert called == ["simulate_path", "simulate_many"]


def test_each_loop_kernel_is_its_own_function_with_one_signature():
    """One dispatcher per variant, each compiled from its own copy of the body: distinct names
    give each its own on-disk cache index (numba keys an index by module and qualified name and
    its entries by signature only), so no two share an entry; each holds at most one signature."""
    names = ["simulate_path_lean", "simulate_path", "simulate_path_units", "simulate_many_lean", "simulate_many",
             "simulate_many_units", "_path_lean", "_path_full", "_path_units"]
    kernels = [getattr(KD, n) for n in names]
    if not hasattr(kernels[0], "signatures"):
        pytest.skip("JIT disabled")
    assert [k.py_func.__qualname__ for k in kernels] == names
    assert len({k._cache._impl.filename_base for k in kernels}) == len(names)
    for n, k in zip(names, kernels):
        assert len(k.signatures) <= 1, f"{n} compiled {len(k.signatures)} signatures"

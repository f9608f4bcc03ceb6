"""Results do not depend on the chunking nor on the number or kind of workers."""

from __future__ import annotations

import numpy as np
import pytest

from liqcascade.engine.compile import compile_scenario
from liqcascade.engine.dynamic import run_dynamic
from liqcascade.kernels import dynamic as K
from liqcascade.montecarlo import execute, load_point, plan_run
from liqcascade.scenario.load import validate_dict

from mc_helpers import write_scenario

PATHS = 70
PARAMS = ["price.sigma=0.8,1.6"]


def _arrays(store, plan):
    out = {}
    for pt in plan.valid_points:
        cols = load_point(store, plan.run_id, pt.point_id)
        cols.pop("chunk")
        out[pt.point_id] = cols
    return out


def _same(a, b):
    assert a.keys() == b.keys()
    for pid in a:
        assert a[pid].keys() == b[pid].keys()
        for col in a[pid]:
            assert np.array_equal(a[pid][col], b[pid][col]), (pid, col)  # bit-identical


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    base = tmp_path_factory.mktemp("det")
    scen = write_scenario(base / "scen")
    plan = plan_run(scen, PARAMS, paths=PATHS, chunk_paths=64)
    rep = execute(plan, base / "store64", workers=0)
    return scen, base, plan, rep, _arrays(base / "store64", plan)


@pytest.mark.parametrize("chunk", [1, 7])
def test_chunk_size_invariance(reference, chunk):
    scen, base, plan64, rep64, ref = reference
    plan = plan_run(scen, PARAMS, paths=PATHS, chunk_paths=chunk)
    assert plan.n_chunks == 2 * -(-PATHS // chunk)
    rep = execute(plan, base / f"store{chunk}", workers=0)
    _same(_arrays(base / f"store{chunk}", plan), ref)
    for a, b in zip(rep.points, rep64.points):
        assert a["metrics"] == b["metrics"]  # same totals, exactly
    assert rep.points[0]["metrics"]["p_insolvency"] > 0  # the sample is not trivial


def test_matches_the_engine(reference):
    scen, base, plan, rep, ref = reference
    pt = plan.valid_points[1]
    sc = validate_dict(pt.scenario)
    sc.simulation.record_paths = 0
    c = compile_scenario(sc, scen.parent)
    res = run_dynamic(c)
    cols = ref[pt.point_id]
    assert np.array_equal(cols["bad_debt"], res.summary[:, K.SUM_BAD])
    assert np.array_equal(cols["liquidated_value"], res.summary[:, K.SUM_LIQ_VALUE])
    assert np.array_equal(cols["final_price_WETH"], res.final_spot[:, 0])


def test_process_workers_1_vs_2(reference):
    scen, base, _, rep64, ref = reference
    plan = plan_run(scen, PARAMS, paths=PATHS, chunk_paths=7)
    for w in (1, 2):
        store = base / f"proc{w}"
        rep = execute(plan, store, workers=w)
        assert rep.executor.startswith("process-pool") and rep.workers == w
        assert rep.chunks["ran"] == plan.n_chunks
        _same(_arrays(store, plan), ref)
        assert [p["metrics"] for p in rep.points] == [p["metrics"] for p in rep64.points]

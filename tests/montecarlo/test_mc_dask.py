"""Dask executor (LocalCluster) gives the same bits; Dask is imported only when asked for."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from liqcascade.montecarlo import execute, load_point, plan_run

from mc_helpers import write_scenario


def test_dask_local_cluster_same_results(tmp_path):
    pytest.importorskip("dask.distributed")
    scen = write_scenario(tmp_path / "scen")
    plan = plan_run(scen, ["price.sigma=0.8,1.6"], paths=30, chunk_paths=8)
    ref = execute(plan, tmp_path / "ref", workers=0)
    rep = execute(plan, tmp_path / "dask", dask="local", workers=2)
    assert rep.executor == "dask (LocalCluster)" and rep.workers == 2 and rep.chunks["ran"] == plan.n_chunks
    assert [p["metrics"] for p in rep.points] == [p["metrics"] for p in ref.points]
    for pt in plan.valid_points:
        a = load_point(tmp_path / "dask", plan.run_id, pt.point_id)
        b = load_point(tmp_path / "ref", plan.run_id, pt.point_id)
        assert all(np.array_equal(a[c], b[c]) for c in a)


def test_dask_not_imported_without_dask_options(tmp_path):
    scen = write_scenario(tmp_path / "scen")
    code = (
        "import sys\n"
        "from liqcascade.commands import montecarlo\n"
        "from liqcascade.montecarlo import sweep\n"
        f"sweep({str(scen)!r}, ['price.sigma=0.8,1.6'], paths=4, chunk_paths=2, workers=0, store={str(tmp_path / 'st')!r})\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed', 'plotly')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"

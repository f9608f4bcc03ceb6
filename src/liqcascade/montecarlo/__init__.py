"""Monte Carlo runs and parameter sweeps over a run store (issue #5).

* :mod:`.params` — ``--param PATH=start:stop:step`` parsing, grid / random points, overrides;
* :mod:`.chunk` — the unit of work (one point × a path range → one Parquet file);
* :mod:`.executors` — in-process, local process pool (spawn), Dask (imported lazily);
* :mod:`.runner` — planning, resumable execution, reading results back;
* :mod:`.metrics` — VaR, LaR, probability of insolvency, expected shortfall, means and CIs;
* :mod:`.plot` — distribution plot (plotly, imported lazily); :mod:`.bench` — throughput.

The catalog lives in :mod:`liqcascade.results.catalog`.
"""

from __future__ import annotations

from .runner import DEFAULT_CHUNK_PATHS, Plan, RunReport, execute, load_point, plan_run, point_metrics, sweep

__all__ = ["DEFAULT_CHUNK_PATHS", "Plan", "RunReport", "execute", "load_point", "plan_run", "point_metrics", "sweep"]

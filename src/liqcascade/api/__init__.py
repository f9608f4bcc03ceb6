"""The Python API: ``import liqcascade as lc`` (documented in ``docs/api.md``).

Scenarios (:class:`Scenario`, :func:`load`), studies (:func:`curve`, :func:`run`,
:func:`compare`, :func:`mc`, :func:`sweep`, :func:`replay`, :func:`run_many`) and their results
(:mod:`.results`). Importing this package loads pydantic only; the engine (numpy, numba) is
imported by the first study, pyarrow / polars / pandas / plotly by the methods that return their
objects.
"""

from ..errors import InputError
from .results import (
    BatchResult,
    CompareResult,
    ContagionResult,
    CurveResult,
    MonteCarloResult,
    ReplayResult,
    Result,
    RunResult,
    SweepResult,
)
from .scenario import Scenario, load
from .studies import compare, contagion, curve, mc, replay, run, run_flow, run_many, sweep
from .tables import Summary, Table

__all__ = [
    "BatchResult", "CompareResult", "ContagionResult", "CurveResult", "InputError", "MonteCarloResult", "ReplayResult", "Result",
    "RunResult", "Scenario", "Summary", "SweepResult", "Table", "compare", "contagion", "curve", "load", "mc", "replay", "run",
    "run_flow", "run_many", "sweep",
]

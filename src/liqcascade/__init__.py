"""liqcascade — simulate, measure and prevent liquidation cascades.

``import liqcascade as lc`` gives the Python API (``docs/api.md``): ``lc.load``, ``lc.Scenario``,
``lc.curve``, ``lc.run``, ``lc.run_flow``, ``lc.compare``, ``lc.contagion``, ``lc.mc``, ``lc.sweep``, ``lc.replay``, ``lc.run_many``
and the result types; ``lc.protocols.<family>`` the protocol actions (``liquidation_call``,
``absorb``, ...). They are loaded on first use, so ``import liqcascade`` itself stays light
(no numpy, numba, pyarrow or plotly until a study runs).

Layers (importing only downward): ``kernels`` (numba loops, arrays in and out) → ``engine``
with the models it composes (``market``, ``oracles``, ``protocols``, ``positions``, ``results``)
→ surfaces (``cli``, ``api``, ``dashboard``, ``report``, ``data``).
"""

__version__ = "0.1.0"

#: names served by :mod:`liqcascade.api` (``replay`` is the ``liqcascade.replay`` package, which is callable)
_API = (
    "BatchResult", "CompareResult", "ContagionResult", "CurveResult", "InputError", "MonteCarloResult",
    "ReplayResult", "Result", "RunResult", "Scenario", "Summary", "SweepResult", "Table", "compare", "contagion",
    "curve", "load", "mc", "run", "run_flow", "run_many", "sweep",
)

TYPE_CHECKING = False  # (not typing.TYPE_CHECKING: importing typing alone costs more than this module)
if TYPE_CHECKING:  # pragma: no cover
    from .api import (  # noqa: F401
        BatchResult, CompareResult, ContagionResult, CurveResult, InputError, MonteCarloResult, ReplayResult, Result,
        RunResult, Scenario, Summary, SweepResult, Table, compare, contagion, curve, load, mc, run, run_flow, run_many,
        sweep,
    )


def __getattr__(name: str):
    if name in _API:
        from . import api

        value = getattr(api, name)
        globals()[name] = value
        return value
    if name in ("replay", "protocols"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'liqcascade' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_API) | {"replay", "protocols"})

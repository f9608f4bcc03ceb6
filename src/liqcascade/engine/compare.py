"""Compare prevention mechanisms on the same seeded price paths (``liqcascade compare``).

A *configuration* is the scenario with one set of mechanisms switched on:

- ``none`` — every ``[mechanisms.*]`` table cleared (the ``[agents.*]`` stay: they are the
  market, not a mechanism);
- ``scenario`` — the scenario's own ``[mechanisms.*]`` tables, as written;
- a mechanism name (``circuit-breaker``; the CLI spells fields with dashes, underscores are
  accepted too) — that mechanism alone, with the parameters of the scenario's own
  ``[mechanisms.X]`` table when there is one, else the defaults of its model;
- ``a+b`` — several mechanisms together.

``--set NAME.FIELD=VALUE`` overrides a field in every configuration that switches ``NAME`` on
(the value is read as a TOML value: ``1e6``, ``true``, ``"ema"`` or bare ``ema``, ``["aave"]``).

Fields a mechanism cannot do without get a default derived from the book
(:data:`DERIVED_DEFAULTS`): ``buffer_pool.capital``, ``insurance_fund.size`` and
``throttle.max_debt_per_window`` default to ``5 %`` of the total debt of the Aave-rule books at
the initial prices (the protocol units' own debt when the scenario has no Aave-rule book).

:func:`run_compare` compiles every configuration, draws the exogenous price paths **once**
(:func:`~liqcascade.engine.dynamic.make_paths` of the ``none`` configuration) and runs
:func:`~liqcascade.engine.dynamic.run_dynamic` on those same paths for each configuration, so
differences between configurations are paired path by path. Per path it reads (see
:func:`path_metrics`):

=====================  ==============================================================================
bad_debt               ``SUM_BAD``: debt left uncovered by collateral (quote)
liquidated_value       ``SUM_LIQ_VALUE``: collateral seized, at the protocols' oracle prices
max_drawdown           ``1 − min spot / p0`` of the primary risky asset (``curve.asset``, else the
                       first risky asset), over all steps
borrower_loss          ``SUM_BORROWER_LOSS``: collateral seized at the oracle price − debt repaid (the
                       penalty borrowers pay, Aave-rule positions)
liquidator_profit      sale proceeds − debt repaid − gas − the treasury's share of proceeds − priority
                       fees (as :meth:`RunResult.totals`); ``NaN`` with protocol units
attacker_profit        ``SUM_ATTACKER_PNL``: hunter and front-runner PnL
fund_draw              ``SUM_FUND_DRAW``: insurance fund / reserves / stability pool drawn
socialized             ``SUM_SOCIALIZED``: bad debt passed on to lenders once the fund is dry
time_to_recovery       ``SUM_DISLOCATION · dt``: seconds during which the spot is more than 1 % below
                       the reference path (a count of dislocated steps, not the first recovery; the
                       key is kept for existing readers, the label says "time dislocated")
paused_steps           ``SUM_PAUSED``: steps with liquidations paused by the circuit breaker
held_value             ``SUM_HELD_VALUE``: collateral held unsold (TWAP-exit queue, buffer-pool holdings)
                       at the final spot
topups                 ``SUM_TOPUP``: collateral value borrowers added / debt they repaid in reaction
positions_liquidated   ``SUM_NPOS_LIQ``: distinct positions liquidated at least once
positions_saved        ``positions_liquidated`` of ``none`` minus this configuration's, path by path
max_step_move          ``SUM_MAX_MOVE``: the largest one-step fall of a risky asset's mean venue spot,
                       relative to the step before (exogenous move and forced sales together)
recovery_time          seconds from the first dislocated step (a risky asset's mean venue spot more
                       than 1 % below the reference path) to the first step after the last one:
                       ``(SUM_DISL_LAST − SUM_DISL_FIRST + 1) · dt``; 0 when never dislocated; NaN
                       (``None`` in JSON) when still dislocated at the last step — its mean and CI
                       are over the paths that recovered (``n`` says how many)
not_recovered          1 on a path still dislocated at the last step, else 0 (mean: the share)
ch_netted … ch_*       the clearinghouse (``SUM_CH_*``; 0 without it): units netted against a perp
                       venue's forced buys, units sold by it into the venues, units its backstop
                       bought, units still queued at the end and their end value, the queue's price
                       risk and its shortfall (bad debt if the queue outlives the crash), the
                       backstop's P&L
=====================  ==============================================================================

Per protocol (``ConfigResult.per_protocol``, over the recorded paths: every path up to
:data:`RECORD_MAX`): bad debt, liquidations and liquidated value of each protocol, from the
run's ``protocol_paths``; with the clearinghouse also its per-protocol accounting.

Statistics: the mean over paths and a 95 % confidence interval ``mean ± 1.96 · s / √n`` with the
sample standard deviation ``s`` (normal approximation; NaN for one path). For each
configuration, the same statistics of the paired per-path difference to ``none``.
"""

from __future__ import annotations

import math
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from ..errors import InputError
from ..kernels import dynamic as K
from ..scenario.load import validate_dict
from ..agents.model import Agents
from ..mechanisms.model import Mechanisms
from ..scenario.models import Scenario
from .compile import Compiled, compile_scenario
from ..results.run import RunResult
from .dynamic import make_paths, run_dynamic
from ..agents.borrowers.pack import BORROWERS_IDLE

Z95 = 1.959963984540054  # two-sided 95 % quantile of the standard normal

#: mechanism fields of ``[mechanisms]`` and agent fields of ``[agents]``, in schema order
MECHANISMS: tuple[str, ...] = tuple(Mechanisms.model_fields)
AGENTS: tuple[str, ...] = tuple(Agents.model_fields)

#: share of the book's total debt at p0 used for required amounts
DEFAULT_DEBT_SHARE = 0.05
#: mechanism -> fields whose default is ``DEFAULT_DEBT_SHARE`` × total debt at p0
DERIVED_DEFAULTS: dict[str, tuple[str, ...]] = {
    "buffer_pool": ("capital",),
    "insurance_fund": ("size",),
    "throttle": ("max_debt_per_window",),
}

#: summary columns of :mod:`liqcascade.kernels.dynamic` that compare reads besides the original ones
REQUIRED_COLUMNS = (
    "SUM_SOCIALIZED", "SUM_NPOS_LIQ", "SUM_DISLOCATION", "SUM_PAUSED", "SUM_HELD_VALUE",
    "SUM_BORROWER_LOSS", "SUM_ATTACKER_PNL", "SUM_PRIORITY", "SUM_TOPUP",
)

#: (key, label, unit); unit: "quote", "fraction", "seconds", "steps", "count"
METRICS: tuple[tuple[str, str, str], ...] = (
    ("bad_debt", "bad debt", "quote"),
    ("liquidated_value", "liquidated value", "quote"),
    ("max_drawdown", "max price drawdown", "fraction"),
    ("borrower_loss", "borrower losses (seized − repaid)", "quote"),
    ("liquidator_profit", "liquidator profit", "quote"),
    ("attacker_profit", "attacker profit", "quote"),
    ("fund_draw", "insurance-fund draw (units: their fund, reserves or stability pool)", "quote"),
    ("socialized", "socialized to lenders", "quote"),
    ("time_to_recovery", "time dislocated (steps with the spot >1% below the reference, × dt)", "seconds"),
    ("paused_steps", "steps paused", "steps"),
    ("held_value", "collateral held unsold, end value", "quote"),
    ("topups", "borrower top-ups", "quote"),
    ("positions_liquidated", "positions liquidated", "count"),
    ("positions_saved", "positions saved vs none", "count"),
    ("max_step_move", "largest one-step price fall", "fraction"),
    ("recovery_time", "time to recovery (back within 1% of the reference for good; paths that recovered)", "seconds"),
    ("not_recovered", "paths still dislocated at the end", "fraction"),
    ("ch_netted", "clearinghouse: units netted against a perp's forced buys", "count"),
    ("ch_sold", "clearinghouse: units sold into the venues", "count"),
    ("ch_backstop", "clearinghouse: units its backstop bought", "count"),
    ("ch_held", "clearinghouse: units still queued at the end", "count"),
    ("ch_held_value", "clearinghouse: queued units' end value", "quote"),
    ("ch_price_risk", "clearinghouse: value queued units lost while waiting", "quote"),
    ("ch_shortfall", "clearinghouse: queue's shortfall at the end (its bad debt)", "quote"),
    ("ch_backstop_pnl", "clearinghouse: backstop P&L at the final spot", "quote"),
)
#: metrics whose NaN on a path means "does not apply on this path" (stats over the other paths)
PARTIAL_METRICS = ("recovery_time",)
#: compare records (events, ledger) up to this many paths: the per-protocol metrics come from them
RECORD_MAX = 200
#: per-protocol metrics (key, label) from RunResult.protocol_paths / .clearing
PROTOCOL_METRICS = (("bad_debt", "bad debt"), ("liquidations", "liquidations"),
                    ("liquidated_value", "liquidated value"))
METRIC_KEYS = tuple(k for k, _, _ in METRICS)


# ---- names -------------------------------------------------------------------------------------


def cli_name(field_: str) -> str:
    """``circuit_breaker`` → ``circuit-breaker``."""
    return field_.replace("_", "-")


def field_name(name: str) -> str:
    """``circuit-breaker`` (or ``circuit_breaker``) → ``circuit_breaker``."""
    return name.strip().replace("-", "_")


def model_class(group: str, name: str) -> type:
    """The pydantic model of mechanism or agent ``name`` (a field name); ``group``:
    ``mechanisms`` or ``agents``."""
    owner = Mechanisms if group == "mechanisms" else Agents
    ann = owner.model_fields[name].annotation
    return next(a for a in typing.get_args(ann) if a is not type(None))


def _known_list() -> str:
    return ", ".join(["none", "scenario", *(cli_name(m) for m in MECHANISMS)])


# ---- configurations ----------------------------------------------------------------------------


def parse_sets(sets) -> dict[str, dict[str, object]]:
    """``["throttle.max_debt_per_window=1e6", ...]`` → ``{"throttle": {"max_debt_per_window": 1e6}}``.

    Names and fields may use dashes or underscores. Raises :class:`InputError` (``--set``)
    naming the entry and the reason: no ``=``, no ``NAME.FIELD``, an unknown mechanism, an agent
    or an unknown field."""
    out: dict[str, dict[str, object]] = {}
    for text in sets or ():
        if "=" not in text:
            raise InputError(None, "--set", f"{text!r}: expected NAME.FIELD=VALUE (e.g. throttle.max_debt_per_window=1e6)")
        key, raw = (s.strip() for s in text.split("=", 1))
        if key.count(".") != 1 or not all(key.split(".")):
            raise InputError(None, "--set", f"{key!r}: expected NAME.FIELD (e.g. circuit-breaker.threshold)")
        mname, fname = (field_name(s) for s in key.split("."))
        if mname in AGENTS:
            raise InputError(None, "--set", f"{key}: {cli_name(mname)} is an agent, not a mechanism; "
                                            f"set it in the scenario's [agents.{mname}] table")
        if mname not in MECHANISMS:
            raise InputError(None, "--set", f"{key}: unknown mechanism {cli_name(mname)!r} (have: "
                                            f"{', '.join(cli_name(m) for m in MECHANISMS)})")
        cls = model_class("mechanisms", mname)
        if fname in getattr(cls, "MOVED", {}):
            raise InputError(None, "--set", f"{key}: {cls.MOVED[fname]}")
        if fname not in cls.model_fields:
            raise InputError(None, "--set", f"{key}: unknown field {fname!r} of {cli_name(mname)} (have: "
                                            f"{', '.join(cls.model_fields)})")
        if not raw:
            raise InputError(None, "--set", f"{key}: empty value")
        out.setdefault(mname, {})[fname] = _parse_value(raw)
    return out


def _parse_value(raw: str):
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw  # a bare word: a string field (oracle_guard.kind = ema)


def parse_names(names) -> list[tuple[str, list[str]]]:
    """``"none,circuit-breaker,a+b"`` (or a list of such strings) → ``[(label, [field, ...]), ...]``.

    ``none`` → ``[]``; ``scenario`` → ``None`` (the scenario's own tables). Raises
    :class:`InputError` (``--mechanisms``) for an empty list, an unknown name, an agent, a name
    repeated inside a combination or a repeated configuration."""
    items = names.split(",") if isinstance(names, str) else [x for n in names for x in str(n).split(",")]
    items = [x.strip() for x in items if x.strip()]
    if not items:
        raise InputError(None, "--mechanisms", f"no configuration given (choose from: {_known_list()})")
    out, seen = [], set()
    for label in items:
        parts = [p.strip() for p in label.split("+")]
        if any(not p for p in parts):
            raise InputError(None, "--mechanisms", f"{label!r}: empty name in a '+' combination")
        fields: list[str] | None = []
        for p in parts:
            f = field_name(p)
            if p in ("none", "scenario"):
                if len(parts) > 1:
                    raise InputError(None, "--mechanisms", f"{label!r}: {p!r} cannot be combined with '+'")
                fields = [] if p == "none" else None
                continue
            if f in AGENTS:
                raise InputError(None, "--mechanisms", f"{p!r} is an agent (part of the market), not a mechanism; "
                                                       f"switch it on in the scenario's [agents.{f}] table")
            if f not in MECHANISMS:
                raise InputError(None, "--mechanisms", f"unknown mechanism {p!r} (choose from: {_known_list()})")
            if f in fields:
                raise InputError(None, "--mechanisms", f"{label!r}: {p!r} appears twice")
            fields.append(f)
        key = "scenario" if fields is None else "+".join(sorted(fields)) or "none"
        if key in seen:
            raise InputError(None, "--mechanisms", f"{label!r}: the same configuration is listed twice")
        seen.add(key)
        out.append((label, fields))
    return out


def resolve_mechanism(sc: Scenario, name: str, overrides: dict | None = None,
                      total_debt=None, notes: list[str] | None = None):
    """The model instance of mechanism ``name`` (a field name) for a configuration: the
    scenario's own ``[mechanisms.name]`` table when present, else the model's defaults with the
    required amounts of :data:`DERIVED_DEFAULTS`; then ``overrides`` (``--set``).

    ``total_debt``: a float or a zero-argument callable returning the book's total debt at p0
    (called only when a derived default is needed). Derived values are described in ``notes``."""
    cls = model_class("mechanisms", name)
    overrides = dict(overrides or {})
    own = getattr(sc.mechanisms, name)
    if own is not None:
        data = own.model_dump()
    else:
        data = {}
        for f in DERIVED_DEFAULTS.get(name, ()):
            if f in overrides:
                continue
            debt = total_debt() if callable(total_debt) else total_debt
            if debt is None or not (debt > 0 and math.isfinite(debt)):
                raise InputError(None, "--mechanisms",
                                 f"{cli_name(name)}: cannot derive a default {f} from a book without debt; "
                                 f"give it with --set {cli_name(name)}.{f}=VALUE or in [mechanisms.{name}]")
            data[f] = DEFAULT_DEBT_SHARE * float(debt)
            if notes is not None:
                notes.append(f"{cli_name(name)}.{f} defaults to {DEFAULT_DEBT_SHARE:.0%} of the book's total debt "
                             f"at p0: {data[f]:,.0f}")
    data.update(overrides)
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err.get("loc", ()) if isinstance(x, str))
        msg = err.get("msg", "invalid").removeprefix("Value error, ")
        where = f"{cli_name(name)}.{loc}" if loc else cli_name(name)
        src = "--set" if overrides else "--mechanisms"
        raise InputError(None, src, f"{where}: {msg}") from None


def configurations(scenario: Scenario, names, sets=(), total_debt=None,
                   notes: list[str] | None = None) -> list[tuple[str, Scenario]]:
    """``(label, Scenario copy)`` for each configuration named in ``names`` (see the module
    docstring), in the order given. ``sets``: ``--set`` strings or the dict of :func:`parse_sets`.
    Each copy is re-validated (``applies_to`` must name protocols of the scenario)."""
    parsed = parse_names(names)
    over = sets if isinstance(sets, dict) else parse_sets(sets)
    used = {f for _, fields in parsed for f in (fields if fields is not None else scenario.mechanisms.active())}
    for m in over:
        if m not in used:
            raise InputError(None, "--set", f"{cli_name(m)}: not switched on by any configuration in --mechanisms")
    base = scenario.model_dump()
    derived_notes: list[str] = []
    out = []
    for label, fields in parsed:
        if fields is None:
            fields = scenario.mechanisms.active()
        mech = {f: resolve_mechanism(scenario, f, over.get(f), total_debt, derived_notes).model_dump() for f in fields}
        data = dict(base)
        data["mechanisms"] = mech
        try:
            sc = validate_dict(data)
        except InputError as exc:
            raise InputError(None, "--set" if over else "--mechanisms", f"{label}: {exc.message()}") from None
        out.append((label, sc))
    if notes is not None:
        notes.extend(dict.fromkeys(derived_notes))
    return out


def total_debt_value(c: Compiled) -> float:
    """Debt of the Aave-rule books at the initial prices (quote); when there is none, the
    ``debt`` the protocol units report at the start (in their debt asset, taken at 1 quote)."""
    b = c.book
    seg_len = np.diff(b.seg_ptr)
    debt_asset = np.repeat(b.seg_debt_asset, seg_len)
    v = float((b.debt * c.p0[debt_asset]).sum()) if b.n else 0.0
    if b.idle_debt.shape[0]:
        v += float((b.idle_debt * c.p0[b.idle_debt_asset]).sum())
    if b.m_debt.shape[0]:
        v += float((b.m_debt * c.p0[b.m_asset]).sum())
    if v > 0:
        return v
    for u in c.units:
        d = u.totals().get("debt")
        if isinstance(d, (int, float, np.floating)) and math.isfinite(float(d)):
            v += float(d)
    return v


# ---- statistics --------------------------------------------------------------------------------


def mean_ci(x, skip_nan: bool = False) -> dict:
    """``{"mean", "ci_lo", "ci_hi", "std", "n"}``: mean and 95 % CI ``mean ± 1.96·s/√n`` (sample
    std, ``ddof = 1``; normal approximation). NaN bounds for n < 2; NaN everywhere when ``x``
    holds a NaN (a metric that does not apply), unless ``skip_nan``: then over the other values."""
    x = np.asarray(x, dtype=np.float64)
    if skip_nan:
        x = x[~np.isnan(x)]
    n = int(x.shape[0])
    nan = math.nan
    if n == 0 or np.isnan(x).any():
        return {"mean": nan, "ci_lo": nan, "ci_hi": nan, "std": nan, "n": n}
    m = float(x.mean())
    if n < 2:
        return {"mean": m, "ci_lo": nan, "ci_hi": nan, "std": nan, "n": n}
    s = float(x.std(ddof=1))
    h = Z95 * s / math.sqrt(n)
    return {"mean": m, "ci_lo": m - h, "ci_hi": m + h, "std": s, "n": n}


def _col(name: str) -> int:
    from ..kernels import layouts as KL

    try:
        return int(getattr(K, name, None) if hasattr(K, name) else getattr(KL, name))
    except AttributeError:
        raise RuntimeError(f"liqcascade.kernels.dynamic has no per-path summary column {name}: "
                           "`compare` needs the mechanism and agent columns of the dynamic engine") from None


def check_columns() -> None:
    """Raise :class:`RuntimeError` naming the first summary column the kernel does not have."""
    for name in REQUIRED_COLUMNS:
        _col(name)


def primary_asset(res: RunResult, sc: Scenario) -> int:
    """The risky asset whose drawdown is reported: ``curve.asset`` when risky, else the first."""
    risky = [i for i in range(len(res.assets)) if res.stable is None or not res.stable[i]]
    if not risky:
        return 0
    if sc.curve.asset is not None and sc.curve.asset in res.assets:
        a = res.assets.index(sc.curve.asset)
        if a in risky:
            return a
    return risky[0]


def path_metrics(res: RunResult, asset: int, has_units: bool) -> dict[str, np.ndarray]:
    """Per-path metrics of one run (``positions_saved`` is filled by :func:`run_compare`)."""
    s = res.summary
    c = lambda name: s[:, _col(name)]  # noqa: E731
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(s[:, K.SUM_LIQ_VALUE] > 0, s[:, K.SUM_FEES] / s[:, K.SUM_LIQ_VALUE], 0.0)
    treasury = share * s[:, K.SUM_PROCEEDS]
    profit = s[:, K.SUM_PROCEEDS] - s[:, K.SUM_REPAID] - s[:, K.SUM_GAS] - treasury - c("SUM_PRIORITY")
    borrower = c("SUM_BORROWER_LOSS").copy()
    socialized = c("SUM_SOCIALIZED").copy()
    if has_units:
        # these columns cover Aave-rule positions only; with protocol units in the run they
        # would read as totals while leaving the units out
        profit = np.full(res.paths, math.nan)
        borrower = np.full(res.paths, math.nan)
        socialized = np.full(res.paths, math.nan)
    return {
        "bad_debt": s[:, K.SUM_BAD].copy(),
        "liquidated_value": s[:, K.SUM_LIQ_VALUE].copy(),
        "max_drawdown": 1.0 - res.min_spot[:, asset] / res.p0[asset],
        "borrower_loss": borrower,
        "liquidator_profit": profit,
        "attacker_profit": c("SUM_ATTACKER_PNL").copy(),
        "fund_draw": s[:, K.SUM_FUND_DRAW].copy(),
        "socialized": socialized,
        "time_to_recovery": c("SUM_DISLOCATION") * res.dt_seconds,
        "paused_steps": c("SUM_PAUSED").copy(),
        "held_value": c("SUM_HELD_VALUE").copy(),
        "topups": c("SUM_TOPUP").copy(),
        "positions_liquidated": c("SUM_NPOS_LIQ").copy(),
        "max_step_move": c("SUM_MAX_MOVE").copy(),
        "recovery_time": recovery_time(s, res.steps, res.dt_seconds),
        "not_recovered": (s[:, _col("SUM_DISL_LAST")] >= res.steps).astype(np.float64),
        "ch_netted": c("SUM_CH_NET").copy(),
        "ch_sold": c("SUM_CH_SOLD").copy(),
        "ch_backstop": c("SUM_CH_BS").copy(),
        "ch_held": c("SUM_CH_HELD").copy(),
        "ch_held_value": c("SUM_CH_HELD_VALUE").copy(),
        "ch_price_risk": c("SUM_CH_RISK").copy(),
        "ch_shortfall": c("SUM_CH_SHORTFALL").copy(),
        "ch_backstop_pnl": c("SUM_CH_BS_PNL").copy(),
    }


def recovery_time(summary: np.ndarray, steps: int, dt_seconds: float) -> np.ndarray:
    """Per path: seconds from the first dislocated step to the first step after the last one
    (``(last − first + 1) · dt``); 0 when never dislocated; NaN when still dislocated at the
    last step (it never recovered within the run)."""
    first = summary[:, _col("SUM_DISL_FIRST")]
    last = summary[:, _col("SUM_DISL_LAST")]
    out = np.where(first > 0, (last - first + 1.0) * dt_seconds, 0.0)
    return np.where(last >= steps, np.nan, out)


def protocol_metrics(res: RunResult) -> dict[str, dict[str, np.ndarray]]:
    """``{metric: {protocol: per recorded path}}``: bad debt, liquidations and liquidated value of
    each protocol (``RunResult.protocol_paths``), and with the clearinghouse its per-protocol
    accounting (``RunResult.clearing``)."""
    from ..kernels import sales as KS

    pp = res.protocol_paths
    out: dict[str, dict[str, np.ndarray]] = {}
    if pp is None or pp.shape[0] == 0:
        return out
    for key, col in (("bad_debt", KS.PA_BAD), ("liquidations", KS.PA_NLIQ), ("liquidated_value", KS.PA_VALUE)):
        out[key] = {p: pp[:, k, col].copy() for k, p in enumerate(res.protocols)}
    ch = getattr(res, "clearing", None)
    if ch:
        for key, per in ch["per_path"].items():
            out[f"ch_{key}"] = {p: np.asarray(v, dtype=np.float64) for p, v in per.items()}
    return out


# ---- results -----------------------------------------------------------------------------------


@dataclass
class ConfigResult:
    label: str
    mechanisms: dict  # field name -> resolved parameters
    per_path: dict  # metric -> float64[paths]
    stats: dict  # metric -> mean_ci dict
    diff: dict  # metric -> mean_ci dict of (this − none), paired by path
    run: RunResult
    per_protocol: dict = field(default_factory=dict)  # metric -> protocol -> float64[recorded paths]
    protocol_stats: dict = field(default_factory=dict)  # metric -> protocol -> mean_ci dict
    protocol_diff: dict = field(default_factory=dict)  # metric -> protocol -> mean_ci of (this − none)

    def attribution(self) -> dict:
        """``{"protocol @ venue": {"price_move", "relative_move", "share"}}``: the price move the
        protocol's forced sales caused on the venue (sum of the sales ledger's Shapley shares,
        mean per recorded path; relative: over the price before each sale) and its share of the
        venue's forced-sale move (:func:`~liqcascade.results.attribution.attribution_rows`)."""
        from ..results.attribution import attribution_rows

        rows = attribution_rows(self.run)
        return {f"{p} @ {v}": {"price_move": float(m), "relative_move": float(r), "share": float(s)}
                for p, v, m, r, s in zip(rows["protocol"], rows["venue"], rows["price_move"], rows["relative_move"],
                                         rows["move_share"])}

    def as_dict(self, per_path: bool = True) -> dict:
        d = {
            "label": self.label,
            "mechanisms": {cli_name(k): v for k, v in self.mechanisms.items()},
            "stats": _clean(self.stats),
            "diff_vs_none": _clean(self.diff),
            "attribution": _clean(self.attribution()),
            "per_protocol": _clean({"stats": self.protocol_stats, "diff_vs_none": self.protocol_diff}),
            "notes": self.run.notes,
        }
        if per_path:
            d["per_path"] = {k: _clean(v.tolist()) for k, v in self.per_path.items()}
        return d


@dataclass
class CompareResult:
    scenario: str
    paths: int
    steps: int
    dt_seconds: float
    seed: int
    asset: str  # primary risky asset of the drawdown
    configs: list[ConfigResult]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        per_path = self.paths <= 1000
        return {
            "scenario": self.scenario,
            "paths": self.paths,
            "steps": self.steps,
            "dt_seconds": self.dt_seconds,
            "seed": self.seed,
            "asset": self.asset,
            "metrics": [{"key": k, "label": lab, "unit": u} for k, lab, u in METRICS],
            "ci": "mean ± 1.96·s/√n (normal approximation, sample std); null for one path",
            "configurations": [c.as_dict(per_path) for c in self.configs],
            "notes": self.notes,
        }


def _clean(x):
    """NaN → None, recursively (JSON has no NaN)."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_clean(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def run_compare(scenario: Scenario, base_dir: Path, names, sets=(), *, paths: int | None = None,
                seed: int | None = None, record_paths: int = 1, progress=None,
                source: str | None = None) -> CompareResult:
    """Run every configuration of ``names`` on the same price paths (see the module docstring).

    ``none`` is always run (first, added when missing) because ``positions_saved`` and the
    paired differences are taken against it. ``progress(k)`` is called after every ``k`` paths
    (configurations × paths in all)."""
    check_columns()
    parsed = parse_names(names)
    if not any(fields == [] for _, fields in parsed):
        parsed.insert(0, ("none", []))
    labels = [lab for lab, _ in parsed]
    base = scenario.model_copy(deep=True)
    if paths is not None:
        base.simulation.paths = int(paths)
    if seed is not None:
        base.simulation.seed = int(seed)
    # every path up to RECORD_MAX is recorded: the per-protocol metrics come from the recorded paths
    base.simulation.record_paths = min(max(record_paths, RECORD_MAX), base.simulation.paths)

    none_sc = base.model_copy(deep=True)
    none_sc.mechanisms = Mechanisms()
    c_none = compile_scenario(none_sc, base_dir, source)
    notes: list[str] = []
    cfgs = configurations(base, labels, sets, total_debt=lambda: total_debt_value(c_none), notes=notes)
    price_paths = make_paths(c_none)
    has_units = bool(c_none.units)
    results: list[ConfigResult] = []
    none_metrics = None
    asset = 0
    for (label, sc), (_, fields) in zip(cfgs, parsed):
        c = c_none if fields == [] else compile_scenario(sc, base_dir, source)
        res = run_dynamic(c, paths=price_paths, progress=progress)
        asset = primary_asset(res, sc)
        pm = path_metrics(res, asset, has_units)
        for n in res.notes:
            if n.startswith(BORROWERS_IDLE) and f"{label}: {n}" not in notes:
                notes.append(f"{label}: {n}")
        if fields == []:
            none_metrics = pm
            none_run = res
        results.append(ConfigResult(label=label, mechanisms={m: getattr(sc.mechanisms, m).model_dump()
                                                              for m in sc.mechanisms.active()},
                                    per_path=pm, stats={}, diff={}, run=res))
    none_protocols = protocol_metrics(none_run)
    for r in results:
        r.per_path["positions_saved"] = none_metrics["positions_liquidated"] - r.per_path["positions_liquidated"]
        r.stats = {k: mean_ci(r.per_path[k], k in PARTIAL_METRICS) for k in METRIC_KEYS}
        r.diff = {k: mean_ci(r.per_path[k] - none_metrics[k], k in PARTIAL_METRICS) for k in METRIC_KEYS}
        r.per_protocol = protocol_metrics(r.run)
        r.protocol_stats = {k: {p: mean_ci(v) for p, v in d.items()} for k, d in r.per_protocol.items()}
        r.protocol_diff = {k: {p: mean_ci(v - none_protocols[k][p]) for p, v in d.items()}
                           for k, d in r.per_protocol.items() if k in none_protocols}
    sim = base.simulation
    notes += [
        f"every configuration runs the same {sim.paths} price path(s) (seed {sim.seed}); differences are paired by path",
        "95% CI: mean ± 1.96·s/√n with the sample standard deviation (normal approximation); none for one path",
        "time to recovery: from the first step a risky asset's mean venue spot is more than 1% below the "
        "reference path to the first step after the last such step; paths still dislocated at the end count in "
        "'paths still dislocated at the end', not in its mean",
        f"per-protocol metrics are over the recorded paths (the first {min(RECORD_MAX, sim.paths)} of "
        f"{sim.paths})" if sim.paths > RECORD_MAX else "per-protocol metrics are over every path",
        "positions saved: distinct positions liquidated under `none` minus under the configuration, path by path",
        "mechanisms act on the Aave-rule protocols; protocol units keep their own built-in versions "
        "(see docs/mechanisms.md)",
    ]
    if has_units:
        notes.append("liquidator profit, borrower loss and socialized loss are not reported with protocol units (the "
                     "engine measures them on Aave-rule positions only; units repay from pools, reserves or bands); "
                     "fund draw is the units' fund, reserves or stability pool; positions liquidated and saved count "
                     "Aave-rule positions only")
    if not any(p.kind == "aave_v3" for p in base.protocols):
        notes.append("this scenario has no Aave-rule protocol: only oracle-guard acts on protocol units, the other "
                     "mechanisms change nothing here (the units carry their own versions)")
    if any("twap_exit" in r.mechanisms for r in results):
        notes.append("twap-exit: liquidator profit counts sales only; collateral still unsold at the end is in "
                     "'held unsold' (with buffer-pool, that column also holds the pool's purchases)")
    return CompareResult(scenario=base.name, paths=sim.paths, steps=sim.steps, dt_seconds=sim.dt_seconds,
                         seed=sim.seed, asset=c_none.assets[asset], configs=results, notes=notes)

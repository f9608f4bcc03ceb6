"""Parameter sweeps: ``--param PATH=start:stop:step`` → parameter points → scenario overrides.

A *path* addresses one field of the scenario with dots. Lists of named things (``assets``,
``venues``, ``oracles``, ``protocols``) are indexed by the element's ``name`` (or a 0-based
integer)::

    simulation.steps
    liquidators.gas_cost
    price.sigma
    protocols.aave.params.WETH.liquidation_threshold
    venues.weth-usdc-pool.reserve_asset
    mechanisms.throttle.max_debt_per_window      (a [mechanisms.throttle] table must be present)
    mechanisms.circuit_breaker.threshold
    agents.hunter.capital

Shorthand ``protocol.<field>``: that field of every asset's parameters in every protocol
(``liquidation_threshold``, ``liquidation_bonus``, ``protocol_fee``, ``ltv``), or the
protocol-level field of every protocol when the asset parameters have no such field
(``close_factor``, ``min_leftover`` …).

A *point* is a mapping ``{path: value}``. :func:`apply_point` writes it into a plain scenario
dict (a deep copy); :func:`validate_point` runs the pydantic models on the result.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError

#: simulation fields a sweep must not vary: they define the unit of work itself
FORBIDDEN = {"simulation.paths", "simulation.seed", "simulation.record_paths"}
ASSET_PARAM_FIELDS = ("ltv", "liquidation_threshold", "liquidation_bonus", "protocol_fee")
MAX_POINTS = 100_000


@dataclass(frozen=True)
class ParamSpec:
    """One ``--param``: a path and either a grid (``values``) or a box ``[lo, hi]`` for random draws."""

    path: str
    values: tuple  # grid values (floats, or ints for integer fields)
    lo: float
    hi: float
    integer: bool = False

    def as_dict(self) -> dict:
        return {"path": self.path, "values": list(self.values), "lo": self.lo, "hi": self.hi,
                "integer": self.integer}


def _err(reason: str) -> InputError:
    return InputError(None, "--param", reason)


def parse_range(text: str, what: str) -> list[float]:
    """``start:stop:step`` (stop included when on the grid), ``start:stop`` (a box, for
    ``--random``: both ends), a comma list ``a,b,c`` or one number."""
    try:
        if ":" in text:
            parts = [float(x) for x in text.split(":")]
            if len(parts) == 2:
                start, stop = parts
                if not stop >= start:
                    raise _err(f"{what}: need start <= stop in {text!r}")
                return [start, stop] if stop > start else [start]
            if len(parts) != 3:
                raise ValueError
            start, stop, step = parts
            if not (step > 0 and stop >= start):
                raise _err(f"{what}: need start:stop:step with step > 0 and stop >= start, got {text!r}")
            n = int(math.floor((stop - start) / step + 1e-9)) + 1
            if n > MAX_POINTS:
                raise _err(f"{what}: {n} values is too many (at most {MAX_POINTS:,})")
            vals = [float(v) for v in np.round(start + step * np.arange(n), 12)]
        else:
            vals = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise _err(f"{what}: cannot parse {text!r}; use start:stop:step, start:stop or a,b,c") from None
    if not vals or not all(math.isfinite(v) for v in vals):
        raise _err(f"{what}: values must be finite numbers, got {text!r}")
    return vals


def _resolve(d, parts: list[str], full: str):
    """Walk ``parts`` in the scenario dict ``d``; return (container, key) of the leaf."""
    cur = d
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        where = ".".join(parts[: i + 1])
        if isinstance(cur, list):
            idx = None
            for j, el in enumerate(cur):
                if isinstance(el, dict) and el.get("name") == part:
                    idx = j
                    break
            if idx is None and part.isdigit() and int(part) < len(cur):
                idx = int(part)
            if idx is None:
                names = [el.get("name") for el in cur if isinstance(el, dict)]
                raise _err(f"{full}: no element named {part!r} at {where} (have: {', '.join(map(str, names))})")
            key = idx
        elif isinstance(cur, dict):
            if part not in cur and last and i >= 1 and parts[i - 1] == "config":
                return cur, part  # a unit protocol's `config` override (validated by its family)
            if part not in cur:
                raise _err(f"{full}: unknown field {where!r} (have: {', '.join(map(str, cur))})")
            key = part
        elif cur is None and i >= 1:  # an optional table left out, e.g. [mechanisms.throttle]
            table = ".".join(parts[:i])
            raise _err(f"{full}: {table} is not set in this scenario (add a [{table}] table to vary its fields)")
        else:
            raise _err(f"{full}: {'.'.join(parts[:i])!r} is a value, not a table")
        if last:
            return cur, key
        cur = cur[key]
    raise _err(f"{full}: empty path")  # pragma: no cover


def targets(d: dict, path: str) -> list[tuple[object, object]]:
    """Every (container, key) that ``path`` sets in the scenario dict ``d`` (validates the path)."""
    if not path or any(not p for p in path.split(".")):
        raise _err(f"{path!r}: expected a dotted field path such as price.sigma")
    if path in FORBIDDEN:
        raise _err(f"{path}: cannot be swept (use --paths / --seed)")
    parts = path.split(".")
    if parts[0] == "protocol":
        if len(parts) != 2:
            raise _err(f"{path}: the shorthand is protocol.<field>")
        field = parts[1]
        out = []
        for pr in d.get("protocols", []):
            if field in ASSET_PARAM_FIELDS and isinstance(pr.get("params"), dict):
                for prm in pr["params"].values():
                    out.append((prm, field))
            elif field in pr and field not in ("name", "params", "oracles", "positions", "kind", "config"):
                out.append((pr, field))
            elif isinstance(pr.get("config"), dict) and field in pr["config"]:
                out.append((pr["config"], field))
        if not out:
            raise _err(f"{path}: {field!r} is neither an asset parameter "
                       f"({', '.join(ASSET_PARAM_FIELDS)}) nor a numeric field of any protocol")
        return out
    return [_resolve(d, parts, path)]


def _is_int_field(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_param(text: str, base: dict) -> ParamSpec:
    """Parse one ``PATH=RANGE`` against the (validated, dumped) base scenario dict."""
    if "=" not in text:
        raise _err(f"{text!r}: expected PATH=start:stop:step")
    path, rng = (s.strip() for s in text.split("=", 1))
    tg = targets(base, path)
    if not tg:
        raise _err(f"{path}: addresses no field in this scenario")
    cur = [c.get(k) if isinstance(c, dict) else c[k] for c, k in tg]
    cur = [v for v in cur if v is not None] or [0.0]
    for v in cur:
        if isinstance(v, (dict, list, str, bool)):
            raise _err(f"{path}: not a numeric field (current value {v!r})")
    integer = all(_is_int_field(v) for v in cur)
    vals = parse_range(rng, path)
    if integer:
        if any(not float(v).is_integer() for v in vals):
            raise _err(f"{path}: integer field, got non-integer values {rng!r}")
        vals = [int(v) for v in vals]
    # dedupe, keep order
    seen, uniq = set(), []
    for v in vals:
        if v not in seen:
            seen.add(v)
            uniq.append(v)
    return ParamSpec(path=path, values=tuple(uniq), lo=float(min(vals)), hi=float(max(vals)), integer=integer)


def grid_points(specs: list[ParamSpec]) -> list[dict]:
    """Cartesian product of every spec's values (the first spec varies slowest)."""
    if not specs:
        return [{}]
    n = 1
    for s in specs:
        n *= len(s.values)
    if n > MAX_POINTS:
        raise _err(f"the grid has {n:,} points (at most {MAX_POINTS:,}); use --random K")
    return [dict(zip([s.path for s in specs], combo)) for combo in itertools.product(*[s.values for s in specs])]


def random_points(specs: list[ParamSpec], k: int, seed: int) -> list[dict]:
    """``k`` points drawn uniformly in the box ``[lo, hi]`` of every spec (integers: uniform
    over the integers in the box), from ``SeedSequence([seed, 1])`` — a stream separate from the
    paths' (``SeedSequence(seed)`` children)."""
    if not specs:
        raise InputError(None, "--random", "needs at least one --param")
    if not 1 <= k <= MAX_POINTS:
        raise InputError(None, "--random", f"K must be in 1..{MAX_POINTS:,}")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 1]))
    cols = []
    for s in specs:
        if s.integer:
            cols.append([int(x) for x in rng.integers(int(s.lo), int(s.hi) + 1, size=k)])
        else:
            cols.append([float(x) for x in rng.uniform(s.lo, s.hi, size=k)])
    return [{s.path: cols[j][i] for j, s in enumerate(specs)} for i in range(k)]


def apply_point(base: dict, point: dict) -> dict:
    """A deep copy of ``base`` with every ``path: value`` of ``point`` written in."""
    d = copy.deepcopy(base)
    for path, value in point.items():
        for cont, key in targets(d, path):
            cont[key] = value
    return d


def canonical_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_jdefault, allow_nan=True)


def _jdefault(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, tuple):
        return list(o)
    return str(o)


def point_id(point: dict) -> str:
    """Stable id of a parameter point: 12 hex digits of the SHA-256 of its canonical JSON."""
    return hashlib.sha256(canonical_json(point).encode()).hexdigest()[:12]


def validate_point(d: dict, file: str | None = None):
    """Run the pydantic models (and the price-process checks) on a scenario dict.

    Returns the :class:`Scenario`; raises :class:`InputError` naming the field on failure."""
    from ..prices.generate import generate_paths, spec_from_scenario
    from ..scenario.load import validate_dict

    sc = validate_dict(d, file)
    # cheap check of the price process itself (e.g. a correlation matrix that is not PD)
    pp = sc.price
    spec = spec_from_scenario(pp, [a.name for a in sc.assets], unknown_assets="drop")
    spec.pop("file", None)
    if pp.kind != "historical":
        p0 = np.array([a.price for a in sc.assets])
        try:
            generate_paths(spec, p0, 1, sc.simulation.dt_seconds, 0, 0)
        except InputError as exc:
            raise InputError(file, exc.where, exc.reason) from None
    return sc


def param_labels(paths: list[str]) -> list[str]:
    """The shortest dotted suffix of each path that tells it apart from the others."""
    out = []
    for p in paths:
        parts = p.split(".")
        for n in range(1, len(parts) + 1):
            lab = ".".join(parts[-n:])
            if sum(1 for q in paths if q == lab or q.endswith("." + lab)) == 1:
                break
        out.append(lab)
    return out

"""Stated priors, Latin-hypercube draws and the provenance of every replay input.

A replay input is one of three kinds (:class:`Input`):

* **real file** — a public data file in the data folder (price bars, gas, depth, funding);
* **published aggregate** — a number someone published about the state *before* the event
  (a post-mortem, protocol analytics, a governance post), with its citation; it is used as a
  fixed value or to set the range of a prior;
* **assumption** — everything else. Each assumption that is not a fixed rule carries a
  :class:`Prior`: a distribution, a range and a one-line source for the range.

Every prior of a replay module was written down *before* any ensemble was compared with the
recorded outcome of its event; the record is placed on the band afterwards and nothing is tuned
to it (the modules say so beside their priors).

Draws: :func:`latin_hypercube` — ``n`` points, one per stratum of every dimension, strata
permuted independently per dimension, the position inside a stratum uniform, all from
``numpy.random.default_rng(SeedSequence([seed, 0x4C48]))``; each uniform is then mapped through
the prior's quantile function. The same seed gives the same draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..errors import InputError

__all__ = ["Prior", "Input", "Record", "Outcome", "latin_hypercube", "central_draw", "apply_overrides",
           "KINDS", "DISTS"]

KINDS = ("real file", "published aggregate", "assumption")
DISTS = ("uniform", "loguniform", "int_uniform", "int_loguniform", "triangular")


@dataclass(frozen=True)
class Prior:
    """One uncertain input: ``dist`` over ``[lo, hi]`` (``mode`` for ``triangular``).

    ``source`` says where the range comes from, in one line. ``unit`` is shown with values.
    """

    name: str
    label: str
    dist: Literal["uniform", "loguniform", "int_uniform", "int_loguniform", "triangular"]
    lo: float
    hi: float
    source: str
    unit: str = ""
    mode: float | None = None
    min: float | None = None  # hard limits of a value given with --set (default: none / > 0 for log ranges)
    max: float | None = None

    def __post_init__(self):
        if self.dist not in DISTS:
            raise ValueError(f"prior {self.name}: unknown distribution {self.dist!r}")
        if not (math.isfinite(self.lo) and math.isfinite(self.hi) and self.lo < self.hi):
            raise ValueError(f"prior {self.name}: needs finite lo < hi, got {self.lo!r}, {self.hi!r}")
        if self.dist in ("loguniform", "int_loguniform") and self.lo <= 0:
            raise ValueError(f"prior {self.name}: a log-uniform range must be > 0")
        if self.dist == "triangular" and (self.mode is None or not self.lo <= self.mode <= self.hi):
            raise ValueError(f"prior {self.name}: triangular needs lo <= mode <= hi")
        if not self.source.strip():
            raise ValueError(f"prior {self.name}: a prior needs a source for its range")

    @property
    def integer(self) -> bool:
        return self.dist.startswith("int_")

    def ppf(self, u):
        """Quantile function on uniforms ``u`` in [0, 1)."""
        u = np.asarray(u, dtype=np.float64)
        lo, hi = float(self.lo), float(self.hi)
        if self.dist == "uniform":
            return lo + u * (hi - lo)
        if self.dist == "loguniform":
            return np.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
        if self.dist == "int_uniform":
            # every integer in [lo, hi] equally likely
            return np.floor(lo + u * (hi - lo + 1.0)).clip(lo, hi)
        if self.dist == "int_loguniform":
            x = np.exp(math.log(lo) + u * (math.log(hi + 1.0) - math.log(lo)))
            return np.floor(x).clip(lo, hi)
        # triangular
        c = (float(self.mode) - lo) / (hi - lo)
        left = lo + np.sqrt(u * (hi - lo) * (float(self.mode) - lo))
        right = hi - np.sqrt((1.0 - u) * (hi - lo) * (hi - float(self.mode)))
        return np.where(u < c, left, right)

    def central(self) -> float:
        """The median of the prior (the value a single point run uses)."""
        v = float(self.ppf(0.5))
        return float(int(v)) if self.integer else v

    def describe(self) -> str:
        u = f" {self.unit}" if self.unit else ""
        if self.dist == "triangular":
            return f"triangular({_num(self.lo)}, mode {_num(self.mode)}, {_num(self.hi)}){u}"
        name = {"uniform": "uniform", "loguniform": "log-uniform", "int_uniform": "integer uniform",
                "int_loguniform": "integer log-uniform"}[self.dist]
        return f"{name}[{_num(self.lo)}, {_num(self.hi)}]{u}"

    def as_dict(self) -> dict:
        return {"name": self.name, "label": self.label, "dist": self.dist, "lo": self.lo, "hi": self.hi,
                "mode": self.mode, "unit": self.unit, "source": self.source, "central": self.central()}


@dataclass(frozen=True)
class Input:
    """One line of the provenance table of a replay."""

    name: str
    kind: Literal["real file", "published aggregate", "assumption"]
    what: str  # what the input is and how the replay uses it
    source: str = ""  # file path (real file), citation (published aggregate) or reason (assumption)
    prior: Prior | None = None  # assumptions with a stated prior
    value: Any = None  # fixed value, where there is one

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"input {self.name}: kind must be one of {KINDS}")
        if self.kind == "published aggregate" and not self.source:
            raise ValueError(f"input {self.name}: a published aggregate needs its citation")

    def as_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "what": self.what, "source": self.source,
                "value": self.value, "prior": self.prior.as_dict() if self.prior else None}


@dataclass(frozen=True)
class Record:
    """A published outcome of the event (what the band is compared with), with its citation and
    a note on how comparable the replay's number is."""

    value: float
    source: str
    note: str = ""


@dataclass(frozen=True)
class Outcome:
    """A headline outcome of a replay member; ``kind``: money | count | share | price | ratio."""

    name: str
    label: str
    kind: str = "money"
    record: Record | None = None
    definition: str = ""


@dataclass
class Draws:
    """``n`` Latin-hypercube draws: ``values[name]`` is an array of ``n`` values."""

    priors: list[Prior]
    values: dict[str, np.ndarray] = field(default_factory=dict)

    def member(self, k: int) -> dict:
        return {p.name: (int(self.values[p.name][k]) if p.integer else float(self.values[p.name][k]))
                for p in self.priors}


def latin_hypercube(priors: list[Prior], n: int, seed: int) -> Draws:
    """``n`` draws from the product of ``priors`` (see the module docstring)."""
    if n < 1:
        raise InputError(None, "--ensemble", "needs at least 1 member")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x4C48]))
    out = Draws(list(priors))
    for p in priors:
        strata = rng.permutation(n)
        u = (strata + rng.random(n)) / n
        out.values[p.name] = np.asarray(p.ppf(u), dtype=np.float64)
    return out


def central_draw(priors: list[Prior]) -> dict:
    return {p.name: (int(p.central()) if p.integer else p.central()) for p in priors}


def apply_overrides(priors: list[Prior], overrides: dict, where: str) -> tuple[list[Prior], dict]:
    """Split ``--set key=value`` into fixed prior values and the rest. Returns ``(priors still
    drawn, {name: fixed value})``. A fixed value may lie outside the prior's range (a what-if);
    it must respect the prior's hard limits (``min``/``max``; log-uniform priors: > 0)."""
    by = {p.name: p for p in priors}
    fixed: dict[str, float] = {}
    for key, raw in (overrides or {}).items():
        if key not in by:
            continue
        p = by[key]
        try:
            v = float(raw)
        except (TypeError, ValueError):
            raise InputError(None, f"--set {key}", f"{raw!r} is not a number") from None
        if not math.isfinite(v):
            raise InputError(None, f"--set {key}", "must be finite")
        if p.integer:
            if v != int(v):
                raise InputError(None, f"--set {key}", f"must be a whole number, got {raw!r}")
            v = int(v)
        lo = p.min if p.min is not None else (0.0 if p.dist in ("loguniform", "int_loguniform") else -math.inf)
        hi = p.max if p.max is not None else math.inf
        strict = p.min is None and p.dist in ("loguniform", "int_loguniform")
        if v < lo or (strict and v <= lo) or v > hi:
            rng = f"{'>' if strict else '>='} {_num(lo)}" + (f" and <= {_num(hi)}" if hi < math.inf else "")
            raise InputError(None, f"--set {key}", f"must be {rng}, got {raw!r} ({where})")
        fixed[key] = v
    return [p for p in priors if p.name not in fixed], fixed


def _num(x) -> str:
    x = float(x)
    if x != 0 and (abs(x) >= 1e6 or abs(x) < 1e-3):
        return f"{x:.3g}"
    if x == int(x):
        return f"{int(x):,}"
    return f"{x:,.4g}"

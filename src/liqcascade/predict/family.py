"""Scenario families: ranges that books, venues, oracles and price models are drawn from.

A *family* fixes a venue kind and a book shape and gives ranges for everything else; every
scenario of a family is one seeded draw from those ranges (its own book, its own venue depth,
oracle, price model and liquidators), simulated on its own seeded price paths. A family file
(TOML) lists families and the label; ``liqcascade warn train FAMILY.toml`` trains on it::

    seed = 0
    stride_s = 300            # one sample every 5 minutes of simulated time

    [label]                   # see liqcascade.predict.labels
    horizon_s = 1800
    liq_share = 0.02
    endo_drop = 0.02

    [[families]]
    name = "cpmm-synth"
    venue = "cpmm"            # cpmm | book
    book_shape = "synth"      # synth | clustered | uniform
    scenarios = 24
    paths = 6
    debt_to_depth = [3.0, 60.0]

Every range is ``[low, high]``; ranges marked *log* are drawn log-uniformly. Durations are in
seconds. Books:

* ``synth`` — the calibrated synthetic book (:func:`liqcascade.positions.synth.synth_book`,
  health factors and sizes fitted on Compound v2 borrowers), scaled to the drawn total debt;
* ``clustered`` — half of the debt in a cluster of health factors ``[1 + c, 1 + c + w]`` (a
  liquidation wall ``c`` to ``c + w`` below spot, roughly), the rest uniform in ``[1.05, 2.5]``;
* ``uniform`` — health factors uniform in ``[1.02, 2.0]``.

Debt sizes are lognormal (median 1, log-sd 1.2) before scaling; collateral follows from
``HF = c · p · LT / d``. The total debt is ``debt_to_depth`` × the venue's bid depth within 2 %.
"""

from __future__ import annotations

import math
import tomllib
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from ..errors import InputError
from ..strict import Strict
from .labels import LabelSpec

__all__ = ["Family", "FamilyFile", "Draw", "default_families", "load_family_file", "draw_scenario",
           "BOOK_SHAPES", "VENUE_KINDS"]

BOOK_SHAPES = ("synth", "clustered", "uniform")
VENUE_KINDS = ("cpmm", "book")
P0 = 1000.0  # price of the collateral asset "A" (quote "Q" is stable at 1)
# shape of the depth-curve book (fractions, cumulative depth relative to the depth within 2 %):
# the calm Binance BTC ask curve (calibration.params) is 1 : 1.6 : 2 : 3 at 1/2/3/5 %
BOOK_SHAPE_K = (0.005, 0.01, 0.02, 0.05, 0.10, 0.20)
BOOK_SHAPE_Q = (0.30, 0.62, 1.0, 1.9, 3.0, 4.5)

Range = tuple[float, float]


def _check_range(name: str, r, lo=None, hi=None):
    a, b = r
    if not (math.isfinite(a) and math.isfinite(b)) or a > b:
        raise ValueError(f"{name}: need [low, high] with low <= high")
    if lo is not None and a < lo:
        raise ValueError(f"{name}: low must be >= {lo}")
    if hi is not None and b > hi:
        raise ValueError(f"{name}: high must be <= {hi}")


class Family(Strict):
    name: str = Field(min_length=1)
    venue: Literal["cpmm", "book"] = "cpmm"
    book_shape: Literal["synth", "clustered", "uniform"] = "synth"
    scenarios: int = Field(24, ge=1, le=100_000)
    paths: int = Field(6, ge=1, le=10_000, description="price paths per scenario (crash paths: 1)")
    steps: int = Field(960, ge=100, le=100_000)
    dt_seconds: float = Field(60.0, gt=0)
    oracles: list[Literal["spot", "heartbeat", "twap"]] = Field(default_factory=lambda: ["spot", "heartbeat", "twap"])
    prices: list[Literal["gbm", "jump", "garch", "crash"]] = Field(default_factory=lambda: ["jump", "garch", "crash"])
    positions: tuple[int, int] = (150, 500)
    depth_2pct: Range = Field((2e6, 4e7), description="bid depth within 2 % (quote), log")
    debt_to_depth: Range = Field((3.0, 60.0), description="book debt / depth within 2 %, log")
    lt: Range = (0.75, 0.88)
    bonus: Range = (0.04, 0.10)
    fee: Range = (0.0005, 0.003)
    half_life_s: Range = Field((300.0, 3600.0), description="book impact half-life, log")
    oracle_lag_s: Range = (0.0, 180.0)
    oracle_deviation: Range = (0.003, 0.02)
    twap_window_s: Range = (300.0, 1800.0)
    sigma: Range = Field((0.6, 1.6), description="annualized volatility (gbm, jump, garch long run)")
    jump_lam: Range = Field((2000.0, 8000.0), description="jumps per year")
    jump_mean: Range = (-0.10, -0.03)
    jump_std: Range = (0.01, 0.04)
    garch_alpha: Range = (0.05, 0.15)
    garch_beta: Range = (0.75, 0.84)
    crash_shock: Range = (0.05, 0.35)
    crash_over_s: Range = (60.0, 3600.0)
    cluster_c: Range = (0.02, 0.15)
    cluster_w: Range = (0.02, 0.06)
    rational_share: float = Field(0.3, ge=0, le=1, description="share of scenarios with rational liquidators")
    recovery_share: float = Field(0.5, ge=0, le=1, description="share of scenarios whose venues are arbitraged back")

    @model_validator(mode="after")
    def _ranges(self):
        _check_range("positions", self.positions, 10, 1_000_000)
        for n in ("depth_2pct", "debt_to_depth", "half_life_s", "jump_lam"):
            _check_range(n, getattr(self, n), 1e-12)
        for n in ("lt", "bonus", "fee", "oracle_deviation", "crash_shock", "cluster_c", "cluster_w"):
            _check_range(n, getattr(self, n), 0.0, 0.99)
        _check_range("garch_alpha", self.garch_alpha, 0.0, 0.5)
        _check_range("garch_beta", self.garch_beta, 0.0, 0.99)
        if self.garch_alpha[1] + self.garch_beta[1] >= 1:
            raise ValueError("garch_alpha + garch_beta: the highs must add up to < 1 (stationary GARCH)")
        if self.lt[1] * (1 + self.bonus[1]) > 1:
            raise ValueError("lt, bonus: lt·(1+bonus) must stay <= 1 over the ranges (Aave's configurator rule)")
        for n in ("sigma", "jump_std", "oracle_lag_s", "twap_window_s", "crash_over_s"):
            _check_range(n, getattr(self, n), 0.0)
        _check_range("jump_mean", self.jump_mean)
        if not self.oracles or not self.prices:
            raise ValueError("oracles, prices: need at least one kind each")
        return self


class LabelSection(Strict):
    horizon_s: float = Field(1800.0, gt=0)
    liq_share: float = Field(0.02, gt=0, lt=1)
    endo_drop: float = Field(0.02, ge=0, lt=1)

    def spec(self) -> LabelSpec:
        return LabelSpec(self.horizon_s, self.liq_share, self.endo_drop)


class FamilyFile(Strict):
    seed: int = Field(0, ge=0)
    stride_s: float = Field(300.0, gt=0, description="sampling interval of training samples")
    label: LabelSection = Field(default_factory=LabelSection)
    families: list[Family] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self):
        names = [f.name for f in self.families]
        if len(set(names)) != len(names):
            raise ValueError("families: names must be unique")
        return self


def default_families(scale: float = 1.0) -> FamilyFile:
    """The default training families: two venue kinds × three book shapes (six families).
    ``scale`` multiplies the number of scenarios per family (at least 2 each)."""
    n = max(2, int(round(24 * scale)))
    fams = [Family(name=f"{v}-{b}", venue=v, book_shape=b, scenarios=n) for v in VENUE_KINDS for b in BOOK_SHAPES]
    return FamilyFile(families=fams)


def load_family_file(path) -> FamilyFile:
    from pydantic import ValidationError

    p = Path(path)
    if not p.is_file():
        raise InputError(str(p), None, "file not found")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InputError(str(p), None, f"malformed TOML: {e}") from None
    try:
        return FamilyFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err.get("loc", ())) or "families"
        msg = err.get("msg", "invalid").removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            msg = "unknown key"
        raise InputError(str(p), where, msg) from None


# --------------------------------------------------------------------------------------------
# draws


@dataclass
class Draw:
    """One scenario of a family: the scenario dict (positions filled in by the caller) and its book."""

    family: str
    index: int
    seed: int
    scenario: dict
    coll: np.ndarray
    debt: np.ndarray
    lt: float
    venue: dict  # kind, depth_k/depth_q (book) or reserve_asset (cpmm)
    meta: dict


def _u(rng, r) -> float:
    return float(rng.uniform(r[0], r[1])) if r[1] > r[0] else float(r[0])


def _lu(rng, r) -> float:
    return float(math.exp(rng.uniform(math.log(r[0]), math.log(r[1])))) if r[1] > r[0] else float(r[0])


def family_seed(root: int, name: str, index: int) -> np.random.SeedSequence:
    """Seeds depend on (root seed, family name, scenario index) only — not on the order of the
    families in the file."""
    return np.random.SeedSequence([int(root), zlib.crc32(name.encode()), int(index)])


def _book(rng, fam: Family, shape: str, n: int, total_debt: float, lt: float):
    if shape == "synth":
        from ..positions.synth import synth_book

        coll, debt = synth_book(n, int(rng.integers(0, 2**31 - 1)), P0, lt)
        k = total_debt / debt.sum()
        return coll * k, debt * k, {}
    size = np.exp(rng.normal(0.0, 1.2, n))
    debt = size / size.sum() * total_debt
    if shape == "clustered":
        c, w = _u(rng, fam.cluster_c), _u(rng, fam.cluster_w)
        inc = rng.random(n) < 0.5
        hf = np.where(inc, rng.uniform(1.0 + c, 1.0 + c + w, n), rng.uniform(1.05, 2.5, n))
        extra = {"cluster_c": c, "cluster_w": w}
    else:
        hf = rng.uniform(1.02, 2.0, n)
        extra = {}
    coll = debt * hf / (lt * P0)
    return coll, debt, extra


def draw_scenario(fam: Family, index: int, root_seed: int, label: LabelSpec, warmup_s: float) -> Draw:
    """Scenario ``index`` of family ``fam`` (see the module docstring)."""
    ss = family_seed(root_seed, fam.name, index)
    rng = np.random.default_rng(ss)
    dt = fam.dt_seconds
    lt = _u(rng, fam.lt)
    bonus = min(_u(rng, fam.bonus), 1.0 / lt - 1.0)
    depth2 = _lu(rng, fam.depth_2pct)
    total_debt = depth2 * _lu(rng, fam.debt_to_depth)
    n = int(rng.integers(fam.positions[0], fam.positions[1] + 1))
    coll, debt, book_meta = _book(rng, fam, fam.book_shape, n, total_debt, lt)

    if fam.venue == "cpmm":
        # quote depth within 2 %: y (1 − sqrt(0.98)) = depth2
        y = depth2 / (1.0 - math.sqrt(0.98))
        venue = {"name": "venue", "asset": "A", "kind": "cpmm", "reserve_asset": y / P0, "fee": _u(rng, fam.fee)}
        vinfo = {"kind": "cpmm", "reserve_asset": y / P0}
    else:
        wob = np.exp(rng.normal(0.0, 0.15, len(BOOK_SHAPE_Q)))
        q = np.maximum.accumulate(np.array(BOOK_SHAPE_Q) * wob)
        q = q / q[2] * depth2  # depth within 2 % as drawn
        hl = _lu(rng, fam.half_life_s)
        venue = {"name": "venue", "asset": "A", "kind": "book", "depth": [[k, float(v)] for k, v in zip(BOOK_SHAPE_K, q)],
                 "half_life_seconds": hl}
        vinfo = {"kind": "book", "depth_k": list(BOOK_SHAPE_K), "depth_q": [float(v) for v in q]}

    okind = fam.oracles[int(rng.integers(0, len(fam.oracles)))]
    oracle = {"name": "oracle", "asset": "A", "kind": okind}
    if okind == "spot":
        oracle["lag_seconds"] = dt * int(round(_u(rng, fam.oracle_lag_s) / dt))  # whole steps
    elif okind == "heartbeat":
        oracle["deviation"] = _u(rng, fam.oracle_deviation)
        oracle["heartbeat_seconds"] = 3600.0
    else:
        oracle["window_seconds"] = dt * max(1, int(round(_u(rng, fam.twap_window_s) / dt)))  # whole steps

    pkind = fam.prices[int(rng.integers(0, len(fam.prices)))]
    sigma = _u(rng, fam.sigma)
    paths = fam.paths
    H = label.steps(dt)
    if pkind == "gbm":
        price = {"kind": "gbm", "mu": 0.0, "sigma": sigma}
    elif pkind == "jump":
        price = {"kind": "jump", "mu": 0.0, "sigma": sigma * 0.7, "lam": _lu(rng, fam.jump_lam),
                 "jump_mean": _u(rng, fam.jump_mean), "jump_std": _u(rng, fam.jump_std)}
    elif pkind == "garch":
        a, b = _u(rng, fam.garch_alpha), _u(rng, fam.garch_beta)
        var = sigma * sigma * dt / (365.0 * 86400.0)
        price = {"kind": "garch", "mu": 0.0, "omega": var * (1.0 - a - b), "alpha": a, "beta": b}
    else:
        w0 = int(math.ceil(warmup_s / dt)) + H
        start = int(rng.integers(w0, max(w0 + 1, fam.steps - 2 * H)))
        price = {"kind": "crash", "shock": _u(rng, fam.crash_shock), "start_seconds": dt * start,
                 "over_seconds": dt * max(1, int(round(_u(rng, fam.crash_over_s) / dt)))}
        paths = 1  # a crash path is deterministic: one path per scenario

    rational = bool(rng.random() < fam.rational_share)
    recovery = bool(rng.random() < fam.recovery_share)
    seed = int(rng.integers(0, 2**31 - 1))
    sc = {
        "name": f"{fam.name}-{index}",
        "simulation": {"steps": fam.steps, "dt_seconds": dt, "paths": paths, "seed": seed, "record_paths": paths},
        "assets": [{"name": "A", "price": P0}, {"name": "Q", "price": 1.0, "stable": True}],
        "price": price,
        "venues": [venue],
        "oracles": [oracle],
        "protocols": [{"name": "lend", "kind": "aave_v3", "positions": "", "collateral": "A", "debt": "Q",
                       "oracles": {"A": "oracle"},
                       "params": {"A": {"liquidation_threshold": lt, "liquidation_bonus": bonus, "protocol_fee": 0.1}}}],
        "liquidators": {"mode": "rational", "gas_cost": 20.0} if rational else {"mode": "mechanical"},
        "arbitrage": {"enabled": True, "threshold": 0.003, "to_reference": recovery},
    }
    meta = {"family": fam.name, "venue": fam.venue, "book_shape": fam.book_shape, "price": pkind, "oracle": okind,
            "positions": n, "lt": lt, "bonus": bonus, "depth_2pct": depth2, "total_debt": total_debt,
            "rational": rational, "recovery": recovery, **book_meta}
    return Draw(fam.name, index, seed, sc, coll, debt, lt, vinfo, meta)

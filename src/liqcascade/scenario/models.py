"""Pydantic v2 models of a scenario file (TOML). Unknown keys are refused everywhere.

A scenario names assets, the exogenous price process, the venues where collateral is sold, the
oracles protocols read, the protocols with their positions, the liquidators and the arbitrage
settings. :func:`liqcascade.scenario.load.load_scenario` validates a file into
:class:`Scenario`; the engine then turns it into plain arrays.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Union

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from ..strict import Fraction, NonNegFloat, PosFloat, Strict
from .mechanisms import Agents, Mechanisms


class Simulation(Strict):
    steps: int = Field(240, ge=1, le=10_000_000, description="time steps of the dynamic run")
    dt_seconds: PosFloat = Field(60.0, description="seconds per step")
    paths: int = Field(1, ge=1, description="Monte Carlo paths")
    seed: int = Field(0, ge=0, description="root seed")
    max_rounds: int = Field(10_000, ge=1, description="cap on static-solver rounds")
    record_paths: int = Field(1, ge=0, description="paths whose events and steps are recorded")


class Asset(Strict):
    name: str = Field(min_length=1)
    price: PosFloat
    stable: bool = Field(False, description="price fixed at `price` (no venue needed)")


class PriceProcess(Strict):
    kind: Literal["crash", "gbm", "jump", "historical", "garch", "bootstrap"] = "crash"
    shock: Union[Fraction, list[Fraction]] = 0.3
    start: int = Field(1, ge=1, description="first step of the fall")
    over_steps: int = Field(1, ge=1)
    recovery: Fraction = 0.0
    recovery_steps: int = Field(0, ge=0)
    mu: Union[float, list[float]] = 0.0
    sigma: Union[NonNegFloat, list[NonNegFloat]] = 0.8
    lam: NonNegFloat = 0.0
    jump_mean: float = 0.0
    jump_std: NonNegFloat = 0.0
    file: Union[str, list[str], dict[str, str], None] = None
    correlation: list[list[float]] | None = None
    # garch: omega/alpha/beta (and mu) per interval_seconds, or fitted on returns_file with `arch`
    omega: Union[PosFloat, list[PosFloat], None] = None
    alpha: Union[NonNegFloat, list[NonNegFloat], None] = None
    beta: Union[NonNegFloat, list[NonNegFloat], None] = None
    interval_seconds: PosFloat | None = Field(None, description="garch: the interval omega/alpha/beta/mu refer to (default dt_seconds)")
    # garch (fit) and bootstrap: price file(s), relative to the scenario file; one per asset
    returns_file: Union[str, list[str], dict[str, str], None] = None
    block_steps: int | None = Field(None, ge=1, description="bootstrap: block length in simulation steps (default: one day)")

    @model_validator(mode="after")
    def _check_garch_bootstrap(self):
        if self.kind == "bootstrap" and not self.returns_file:
            raise ValueError("kind 'bootstrap' needs returns_file (the price file(s) whose returns are resampled)")
        if self.kind == "garch" and not self.returns_file:
            if self.omega is None or self.alpha is None or self.beta is None:
                raise ValueError("kind 'garch' needs omega, alpha and beta, or returns_file to fit them")
            if isinstance(self.alpha, float) and isinstance(self.beta, float) and self.alpha + self.beta >= 1:
                raise ValueError(f"alpha + beta must be < 1 for a stationary GARCH(1,1), got {self.alpha + self.beta:g}")
        return self


class Venue(Strict):
    name: str = Field(min_length=1)
    asset: str
    kind: Literal["cpmm", "book"]
    # constant-product pool
    reserve_asset: PosFloat | None = Field(None, description="pool asset reserve; quote reserve = reserve_asset·price")
    fee: Fraction = 0.0
    # order book as a depth curve
    depth: list[tuple[PosFloat, PosFloat]] | None = Field(
        None, description="[[fraction from mid, cumulative quote depth], ...]"
    )
    half_life_steps: NonNegFloat = Field(0.0, description="transient impact half-life (0 = no recovery)")

    @model_validator(mode="after")
    def _check_kind(self):
        if self.kind == "cpmm" and self.reserve_asset is None:
            raise ValueError("a cpmm venue needs reserve_asset")
        if self.kind == "book":
            if not self.depth:
                raise ValueError("a book venue needs depth = [[fraction, cumulative_quote], ...]")
            ks = [k for k, _ in self.depth]
            qs = [q for _, q in self.depth]
            if any(k >= 1 for k in ks):
                raise ValueError("depth fractions must be < 1")
            if any(b <= a for a, b in zip(ks, ks[1:])):
                raise ValueError("depth fractions must be strictly increasing")
            if any(b < a for a, b in zip(qs, qs[1:])):
                raise ValueError("cumulative depth must be non-decreasing")
        return self


class Oracle(Strict):
    name: str = Field(min_length=1)
    asset: str
    kind: Literal["spot", "heartbeat", "twap", "median", "osm", "ema"] = "spot"
    sources: list[str] | None = Field(None, description="venue names; default: all venues of the asset")
    lag_steps: int = Field(0, ge=0)
    heartbeat_seconds: PosFloat = 3600.0
    deviation: Fraction = 0.005
    window_steps: int = Field(30, ge=1)
    hop_seconds: PosFloat = 3600.0
    half_life_steps: PosFloat = 10.0
    max_jump: Fraction = 0.0


class AssetParams(Strict):
    ltv: Fraction | None = None
    liquidation_threshold: Fraction
    liquidation_bonus: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = Field(
        None, description="liquidation bonus (required with incentive = 'fixed'; Morpho and Euler derive theirs)")
    protocol_fee: Fraction = 0.10

    @model_validator(mode="after")
    def _check(self):
        if self.ltv is not None and self.ltv > self.liquidation_threshold:
            raise ValueError(
                f"ltv {self.ltv} exceeds liquidation_threshold {self.liquidation_threshold}"
            )
        return self


class Protocol(Strict):
    name: str = Field(min_length=1)
    kind: Literal["aave_v3"] = "aave_v3"
    positions: str = Field(description="CSV or Parquet, relative to the scenario file")
    collateral: str | None = Field(None, description="collateral asset for the wide format id,collateral,debt")
    debt: str = Field(description="debt asset of wide-format files and synthetic books (long files name theirs per row)")
    close_factor_rule: Literal["v3.3", "v3.2", "fixed"] = "v3.3"
    close_factor: Annotated[float, Field(gt=0, le=1)] = 0.5
    hf_close_factor_threshold: PosFloat = 0.95
    min_base_close_factor: NonNegFloat = 2000.0
    min_leftover: NonNegFloat = 1000.0
    oracles: dict[str, str] = Field(default_factory=dict, description="asset -> oracle name")
    params: dict[str, AssetParams]
    allow_unsafe_bonus: bool = Field(
        False, description="accept LT·(1+bonus) > 1, which Aave's configurator refuses"
    )
    incentive: Literal["fixed", "morpho", "euler"] = Field(
        "fixed", description="liquidation incentive: the asset's fixed bonus (Aave), Morpho Blue's LIF from the "
        "LLTV (§8.5), or Euler v2's discount growing with 1 − HF (§8.4); morpho and euler have no close factor")
    morpho_cursor: Fraction = Field(0.3, description="Morpho LIQUIDATION_CURSOR")
    morpho_max_lif: Annotated[float, Field(ge=1, le=2, allow_inf_nan=False)] = Field(
        1.15, description="Morpho MAX_LIQUIDATION_INCENTIVE_FACTOR")
    euler_max_discount: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] = Field(
        0.15, description="Euler maxLiquidationDiscount")

    @model_validator(mode="after")
    def _check_bonus(self):
        if self.incentive != "fixed":
            for f in ("close_factor_rule", "close_factor"):
                if f in self.model_fields_set:
                    raise ValueError(f"{f}: incentive = {self.incentive!r} has no close factor (the whole debt may be repaid)")
        else:
            for asset, p in self.params.items():
                if p.liquidation_bonus is None:
                    raise ValueError(f"params.{asset}.liquidation_bonus: required with incentive = 'fixed'")
        if self.incentive == "fixed" and not self.allow_unsafe_bonus:
            for asset, p in self.params.items():
                if p.liquidation_threshold * (1 + p.liquidation_bonus) > 1 + 1e-12:
                    raise ValueError(
                        f"params.{asset}: liquidation_threshold·(1+liquidation_bonus) = "
                        f"{p.liquidation_threshold * (1 + p.liquidation_bonus):.4f} > 1 "
                        "(Aave's configurator refuses this; set allow_unsafe_bonus = true to accept)"
                    )
        return self


UNIT_KINDS = ("comet", "maker", "liquity", "llamma", "perp")


class UnitProtocol(Strict):
    """A protocol family other than Aave v3, run as a unit in the time loop.

    ``preset`` names a parameter set of the family (``liqcascade protocols`` lists them) and
    ``config`` overrides its fields; the merged table is validated by the family's own model
    (``liqcascade.protocols.<kind>``). ``positions`` formats: ``comet``: long
    ``id,asset,collateral,debt`` (debt in the base asset) or wide with ``collateral`` set;
    ``maker``, ``liquity``, ``llamma``: wide ``id,collateral,debt``; ``perp``:
    ``id,side,size,entry,margin[,account]``.
    """

    name: str = Field(min_length=1)
    kind: Literal["comet", "maker", "liquity", "llamma", "perp"]
    positions: str = Field(description="CSV or Parquet, relative to the scenario file")
    collateral: str | None = Field(None, description="collateral asset (wide files; the perp's underlying)")
    debt: str | None = Field(None, description="debt / base / stablecoin asset")
    preset: str | None = Field(None, description="a preset of the family (see `liqcascade protocols`)")
    config: dict = Field(default_factory=dict, description="overrides of the family's parameters")
    oracles: dict[str, str] = Field(default_factory=dict, description="asset -> oracle name")

    @model_validator(mode="after")
    def _family(self):
        from ..engine.units import family_config

        family_config(self)  # raises ValueError naming the config field
        return self


def _protocol_kind(v) -> str:
    kind = v.get("kind", "aave_v3") if isinstance(v, dict) else getattr(v, "kind", "aave_v3")
    return kind if isinstance(kind, str) else "?"


ProtocolEntry = Annotated[
    Union[
        Annotated[Protocol, Tag("aave_v3")],
        Annotated[UnitProtocol, Tag("comet")],
        Annotated[UnitProtocol, Tag("maker")],
        Annotated[UnitProtocol, Tag("liquity")],
        Annotated[UnitProtocol, Tag("llamma")],
        Annotated[UnitProtocol, Tag("perp")],
    ],
    Discriminator(_protocol_kind),
]


class Liquidators(Strict):
    mode: Literal["mechanical", "rational"] = "mechanical"
    gas_cost: NonNegFloat = Field(0.0, description="quote cost per liquidation")
    capital: float = Field(math.inf, gt=0, description="quote repaid per step, at most (inf = unlimited)")
    max_per_step: int = Field(0, ge=0, description="liquidations per step (0 = unlimited)")

    @field_validator("capital")
    @classmethod
    def _no_nan(cls, v):
        if math.isnan(v):
            raise ValueError("capital must be a number")
        return v


class Arbitrage(Strict):
    enabled: bool = Field(True, description="close price gaps between venues of one asset")
    threshold: Fraction = 0.003
    to_reference: bool = Field(
        True, description="pools are arbitraged toward the exogenous (reference) price — venue recovery"
    )


class Curve(Strict):
    asset: str | None = Field(None, description="asset whose final price the curve reports")
    shock_assets: list[str] | None = Field(None, description="assets the shock applies to (default all risky)")
    venue: dict[str, str] = Field(default_factory=dict, description="asset -> venue used by the static solver")


class Scenario(Strict):
    name: str = "scenario"
    description: str = ""
    simulation: Simulation = Field(default_factory=Simulation)
    assets: list[Asset] = Field(min_length=1)
    price: PriceProcess = Field(default_factory=PriceProcess)
    venues: list[Venue] = Field(default_factory=list)
    oracles: list[Oracle] = Field(default_factory=list)
    protocols: list[ProtocolEntry] = Field(min_length=1)
    liquidators: Liquidators = Field(default_factory=Liquidators)
    arbitrage: Arbitrage = Field(default_factory=Arbitrage)
    curve: Curve = Field(default_factory=Curve)
    mechanisms: Mechanisms = Field(default_factory=Mechanisms, description="prevention mechanisms switched on")
    agents: Agents = Field(default_factory=Agents, description="market participants and adversaries")

    @model_validator(mode="after")
    def _references(self):
        names = [a.name for a in self.assets]
        _unique(names, "assets")
        _unique([v.name for v in self.venues], "venues")
        _unique([o.name for o in self.oracles], "oracles")
        _unique([p.name for p in self.protocols], "protocols")
        known = set(names)
        venue_names = {v.name: v for v in self.venues}
        oracle_names = {o.name: o for o in self.oracles}
        for i, v in enumerate(self.venues):
            if v.asset not in known:
                raise ValueError(f"venues[{i}].asset: unknown asset {v.asset!r}")
        stable = {a.name for a in self.assets if a.stable}
        for a in self.assets:
            if not a.stable and not any(v.asset == a.name for v in self.venues):
                raise ValueError(f"assets: {a.name!r} is not stable and has no venue")
        for i, o in enumerate(self.oracles):
            if o.asset not in known:
                raise ValueError(f"oracles[{i}].asset: unknown asset {o.asset!r}")
            for s in o.sources or []:
                if s not in venue_names:
                    raise ValueError(f"oracles[{i}].sources: unknown venue {s!r}")
                if venue_names[s].asset != o.asset:
                    raise ValueError(f"oracles[{i}].sources: venue {s!r} trades {venue_names[s].asset}, not {o.asset}")
            if o.asset in stable:
                raise ValueError(f"oracles[{i}].asset: {o.asset!r} is stable (fixed price)")
        for i, p in enumerate(self.protocols):
            for field, asset in (("collateral", p.collateral), ("debt", p.debt)):
                if asset is not None and asset not in known:
                    raise ValueError(f"protocols[{i}].{field}: unknown asset {asset!r}")
            for asset, oname in p.oracles.items():
                if asset not in known:
                    raise ValueError(f"protocols[{i}].oracles: unknown asset {asset!r}")
                if oname not in oracle_names:
                    raise ValueError(f"protocols[{i}].oracles: unknown oracle {oname!r}")
                if oracle_names[oname].asset != asset:
                    raise ValueError(f"protocols[{i}].oracles: oracle {oname!r} prices {oracle_names[oname].asset}, not {asset}")
            if isinstance(p, UnitProtocol):
                continue
            for asset in p.params:
                if asset not in known:
                    raise ValueError(f"protocols[{i}].params: unknown asset {asset!r}")
            if p.collateral is not None and p.collateral not in p.params:
                raise ValueError(f"protocols[{i}].params: no parameters for collateral {p.collateral!r}")
            for asset, oname in p.oracles.items():
                if asset not in known:
                    raise ValueError(f"protocols[{i}].oracles: unknown asset {asset!r}")
                if oname not in oracle_names:
                    raise ValueError(f"protocols[{i}].oracles: unknown oracle {oname!r}")
                if oracle_names[oname].asset != asset:
                    raise ValueError(f"protocols[{i}].oracles: oracle {oname!r} prices {oracle_names[oname].asset}, not {asset}")
        if self.curve.asset is not None and self.curve.asset not in known:
            raise ValueError(f"curve.asset: unknown asset {self.curve.asset!r}")
        for a in self.curve.shock_assets or []:
            if a not in known:
                raise ValueError(f"curve.shock_assets: unknown asset {a!r}")
        for a, vname in self.curve.venue.items():
            if vname not in venue_names or venue_names[vname].asset != a:
                raise ValueError(f"curve.venue: {vname!r} is not a venue of {a!r}")
        pnames = {p.name for p in self.protocols}
        for mname in self.mechanisms.active():
            for pn in getattr(self.mechanisms, mname).applies_to or []:
                if pn not in pnames:
                    raise ValueError(f"mechanisms.{mname}.applies_to: unknown protocol {pn!r}")
        for aname in self.agents.active():
            a = getattr(getattr(self.agents, aname), "asset", None)
            if a is not None and (a not in known or a in stable):
                raise ValueError(f"agents.{aname}.asset: {a!r} is not a risky asset of the scenario")
        if self.price.correlation is not None:
            n = len(self.assets)
            m = self.price.correlation
            if len(m) != n or any(len(r) != n for r in m):
                raise ValueError(f"price.correlation: must be {n}x{n} (one row per asset)")
        return self


def _unique(names, field):
    seen = set()
    for n in names:
        if n in seen:
            raise ValueError(f"{field}: duplicate name {n!r}")
        seen.add(n)

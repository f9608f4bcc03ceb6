"""Pydantic v2 models of a scenario file (TOML). Unknown keys are refused everywhere.

A scenario names assets, the exogenous price process, the venues where collateral is sold, the
oracles protocols read, the protocols with their positions, the liquidators and the arbitrage
settings. :func:`liqcascade.scenario.load.load_scenario` validates a file into
:class:`Scenario`; the engine then turns it into plain arrays.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, Discriminator, Field, Tag, field_validator, model_validator

from .. import bounds as B
from ..flow.model import Flow
from ..oracles import KINDS as oracle_kinds
from ..protocols import UNIT_KINDS as unit_kinds
from ..protocols.configs import unit_config
from ..protocols.aave.model import Protocol
from ..prices import KINDS as price_kinds
from ..strict import Fraction, NonNegFloat, PosFloat, Strict
from ..pegs.model import Peg
from ..venues import KINDS as venue_kinds
from ..venues.concentrated.model import FEE_TICK_SPACING, SyntheticRanges
from ..agents.model import Agents
from ..mechanisms.model import Mechanisms


def _within(problem):
    """An after-validator raising ``problem(x)`` (liqcascade.bounds) as the field's error."""
    def check(x):
        why = problem(x)
        if why:
            raise ValueError(why)
        return x
    return AfterValidator(check)


# bounds of liqcascade.bounds: what the engine's float64 arithmetic carries (a value <= 0 gets
# pydantic's usual "greater than 0" first)
Price = Annotated[float, Field(gt=0, allow_inf_nan=False), _within(B.price_problem)]
Amount = Annotated[float, Field(gt=0, allow_inf_nan=False), _within(B.amount_problem)]
QuoteAmount = Annotated[float, Field(gt=0, le=B.QUOTE_MAX, allow_inf_nan=False)]
Sigma = Annotated[float, Field(ge=0, le=B.SIGMA_MAX, allow_inf_nan=False)]
Drift = Annotated[float, Field(ge=-B.MU_MAX, le=B.MU_MAX, allow_inf_nan=False)]


class Simulation(Strict):
    steps: int = Field(240, ge=1, le=10_000_000, description="time steps of the dynamic run")
    dt_seconds: PosFloat = Field(60.0, description="seconds per step")
    paths: int = Field(1, ge=1, description="Monte Carlo paths")
    seed: int = Field(0, ge=0, description="root seed")
    max_rounds: int = Field(10_000, ge=1, description="cap on static-solver rounds")
    record_paths: int = Field(1, ge=0, description="paths whose events and steps are recorded")
    max_events: int = Field(
        5_000_000, ge=0, le=1_000_000_000,
        description="most liquidation events kept per recorded path (the buffer grows up to this; events beyond "
                    "it are counted in events_not_recorded and reported as a warning)")


class Asset(Strict):
    name: str = Field(min_length=1)
    price: Price
    stable: bool = Field(False, description="price fixed at `price` (no venue needed)")


class PriceProcess(Strict):
    RENAMED = {"start": "start_seconds", "over_steps": "over_seconds", "recovery_steps": "recovery_seconds",
               "block_steps": "block_seconds"}

    kind: Literal[price_kinds] = "crash"
    shock: Union[Fraction, list[Fraction]] = 0.3
    start_seconds: PosFloat | None = Field(
        None, description="crash: time of the first step of the fall (default: the first step, dt_seconds)")
    over_seconds: PosFloat | None = Field(None, description="crash: duration of the fall (default: one step)")
    recovery: Fraction = 0.0
    recovery_seconds: NonNegFloat = Field(0.0, description="crash: duration of the recovery")
    mu: Union[Drift, list[Drift]] = Field(0.0, description="annualised drift, |mu| <= 10,000")
    sigma: Union[Sigma, list[Sigma]] = Field(0.8, description="annualised volatility, <= 100")
    lam: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)] = Field(0.0, description="jumps per year, <= 1e6")
    jump_mean: Annotated[float, Field(ge=-B.LOG_RETURN_MAX, le=B.LOG_RETURN_MAX, allow_inf_nan=False)] = 0.0
    jump_std: Annotated[float, Field(ge=0, le=B.LOG_RETURN_MAX, allow_inf_nan=False)] = 0.0
    file: Union[str, list[str], dict[str, str], None] = None
    correlation: list[list[float]] | None = None
    # garch: omega/alpha/beta (and mu) per interval_seconds, or fitted on returns_file with `arch`
    omega: Union[Annotated[float, Field(gt=0, le=B.LOG_RETURN_MAX, allow_inf_nan=False)],
                 list[Annotated[float, Field(gt=0, le=B.LOG_RETURN_MAX, allow_inf_nan=False)]], None] = None
    alpha: Union[NonNegFloat, list[NonNegFloat], None] = None
    beta: Union[NonNegFloat, list[NonNegFloat], None] = None
    interval_seconds: PosFloat | None = Field(None, description="garch: the interval omega/alpha/beta/mu refer to (default dt_seconds)")
    # garch (fit) and bootstrap: price file(s), relative to the scenario file; one per asset
    returns_file: Union[str, list[str], dict[str, str], None] = None
    block_seconds: PosFloat | None = Field(None, description="bootstrap: block length (default: one day)")

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
    RENAMED = {"half_life_steps": "half_life_seconds"}

    name: str = Field(min_length=1)
    asset: str
    kind: Literal[venue_kinds]
    # constant-product pool
    reserve_asset: Amount | None = Field(None, description="pool asset reserve; quote reserve = reserve_asset·price")
    fee: Fraction = 0.0
    # order book as a depth curve
    depth: list[tuple[PosFloat, QuoteAmount]] | None = Field(
        None, description="[[fraction from mid, cumulative quote depth], ...]"
    )
    half_life_seconds: NonNegFloat = Field(
        0.0, description="transient impact half-life (0 = no recovery); on a book the mid recovers towards the "
                         "reference, on a cpmm > 0 makes it a pool re-centred on the reference price")
    min_price: PosFloat | None = Field(
        None, description="floor price: no bids below it, a stub bid at it takes what is left of a sale "
        "(default 1e-9 × the asset's price; at least 1e-12 × it, below it)")
    # StableSwap pool (two coins: the asset and the quote coin; reserve_asset as for a cpmm)
    amp: float | None = Field(None, gt=0, lt=1e6, description="stableswap: amplification A as A() returns it")
    rate: PosFloat | None = Field(None, description="stableswap: the asset coin's rate multiplier (e.g. stETH per wstETH; default 1)")
    offpeg_fee_multiplier: NonNegFloat = Field(1.0, description="stableswap: NG off-peg fee multiplier (<= 1: constant fee)")
    admin_fee: float = Field(0.5, ge=0, le=1, description="stableswap: admin share of the fee (leaves the pool)")
    # concentrated liquidity (Uniswap v3)
    ticks_file: str | None = Field(None, description="concentrated: CSV tick_lower,tick_upper,liquidity (raw units)")
    synthetic: SyntheticRanges | None = Field(None, description="concentrated: ranges from a normal density in log price")
    tick_spacing: int | None = Field(None, ge=1, le=16384, description="concentrated: default the fee tier's spacing")
    asset_is_token0: bool = Field(True, description="concentrated: the asset is the pool's token0")
    decimals0: int = Field(0, ge=0, le=36, description="concentrated: token0 decimals of the raw tick file")
    decimals1: int = Field(0, ge=0, le=36, description="concentrated: token1 decimals of the raw tick file")

    @model_validator(mode="after")
    def _check_kind(self):
        if self.kind in ("cpmm", "stableswap") and self.reserve_asset is None:
            raise ValueError(f"a {self.kind} venue needs reserve_asset")
        if self.kind == "stableswap" and self.amp is None:
            raise ValueError("a stableswap venue needs amp")
        if self.kind == "concentrated":
            if (self.ticks_file is None) == (self.synthetic is None):
                raise ValueError("a concentrated venue needs exactly one of ticks_file or synthetic")
            if self.tick_spacing is None and self.fee not in FEE_TICK_SPACING:
                raise ValueError(f"fee {self.fee} is not a v3 tier {sorted(FEE_TICK_SPACING)}: give tick_spacing")
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
    RENAMED = {"lag_steps": "lag_seconds", "window_steps": "window_seconds", "half_life_steps": "half_life_seconds"}

    name: str = Field(min_length=1)
    asset: str
    kind: Literal[oracle_kinds] = "spot"
    sources: list[str] | None = Field(None, description="venue names; default: all venues of the asset")
    lag_seconds: NonNegFloat = Field(0.0, description="read delay of the source (whole steps)")
    heartbeat_seconds: PosFloat = Field(3600.0, description="heartbeat: publish at least this often")
    deviation: Fraction = Field(0.005, description="heartbeat: publish on a move of this fraction")
    window_seconds: PosFloat = Field(1800.0, description="twap: averaging window (at least one step)")
    hop_seconds: PosFloat = Field(3600.0, description="osm: poke interval (at least one step)")
    half_life_seconds: PosFloat = Field(600.0, description="ema: half-life")
    max_jump: Fraction = Field(0.0, description="reject a candidate further than this from the published price (0 = off)")
    reads: Literal["market", "fundamental"] = Field(
        "market", description="market: the venues' prices through `kind`; fundamental: the asset's peg value "
                              "(its [[pegs]] entry: redemption or exchange rate), whatever the venues quote")


#: the protocol kinds run as units in the time loop (every registered kind but Aave v3)
UNIT_KINDS = unit_kinds


class UnitProtocol(Strict):
    """A protocol family other than Aave v3, run as a unit in the time loop.

    ``preset`` names a parameter set of the family (``liqcascade protocols`` lists them) and
    ``config`` overrides its fields; the merged table is validated by the family's own model
    (``CONFIG`` in ``liqcascade/protocols/<family>/model.py``). ``positions`` formats: ``comet``: long
    ``id,asset,collateral,debt`` (debt in the base asset) or wide with ``collateral`` set;
    ``maker``, ``liquity``, ``llamma``: wide ``id,collateral,debt``; ``perp``:
    ``id,side,size,entry,margin[,account]``.
    """

    name: str = Field(min_length=1)
    kind: Literal[unit_kinds]
    positions: str = Field(description="CSV or Parquet, relative to the scenario file")
    collateral: str | None = Field(None, description="collateral asset (wide files; the perp's underlying)")
    debt: str | None = Field(None, description="debt / base / stablecoin asset")
    preset: str | None = Field(None, description="a preset of the family (see `liqcascade protocols`)")
    config: dict = Field(default_factory=dict, description="overrides of the family's parameters")
    oracles: dict[str, str] = Field(default_factory=dict, description="asset -> oracle name")

    @model_validator(mode="after")
    def _family(self):
        unit_config(self.kind, self.preset, self.config)  # raises ValueError naming the config field
        return self


def _protocol_kind(v) -> str:
    kind = v.get("kind", "aave_v3") if isinstance(v, dict) else getattr(v, "kind", "aave_v3")
    return kind if isinstance(kind, str) else "?"


#: a ``[[protocols]]`` entry: Aave's own model, or a unit of any registered family
ProtocolEntry = Annotated[
    Union[tuple([Annotated[Protocol, Tag("aave_v3")]] + [Annotated[UnitProtocol, Tag(k)] for k in unit_kinds])],
    Discriminator(_protocol_kind),
]


class Liquidators(Strict):
    mode: Literal["mechanical", "rational"] = "mechanical"
    gas_cost: NonNegFloat = Field(0.0, description="quote cost per liquidation")
    capital: float = Field(math.inf, gt=0, description="quote repaid per step, at most (inf = unlimited)")
    max_per_step: int = Field(0, ge=0, description="liquidations per step (0 = unlimited)")
    debt_source: Literal["own", "pool"] = Field(
        "own", description="where liquidators get the debt asset: their own capital, or borrowed / flash-loaned "
        "from the protocol's pool of that asset (capped by its available liquidity; needs [protocols.rates.ASSET])")

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
    protocols: list[ProtocolEntry] = Field(
        default_factory=list, description="at least one, unless the scenario is a flow study ([flow])")
    liquidators: Liquidators = Field(default_factory=Liquidators)
    arbitrage: Arbitrage = Field(default_factory=Arbitrage)
    curve: Curve = Field(default_factory=Curve)
    mechanisms: Mechanisms = Field(default_factory=Mechanisms, description="prevention mechanisms switched on")
    agents: Agents = Field(default_factory=Agents, description="market participants and adversaries")
    pegs: list[Peg] = Field(default_factory=list, description="pegged assets: fundamental value, recorded discount")
    flow: Flow | None = Field(None, description="an external liquidation-volume series driving one venue")

    @model_validator(mode="after")
    def _references(self):
        if not self.protocols and self.flow is None:
            raise ValueError("protocols: required field is missing (a scenario without protocols is a "
                             "flow study and needs a [flow] table)")
        if self.flow is not None:
            if self.protocols:
                raise ValueError("flow: a [flow] study drives a venue with a real series instead of a simulated "
                                 "book; it cannot be combined with [[protocols]] (yet)")
            fv = next((v for v in self.venues if v.name == self.flow.venue), None)
            if fv is None:
                raise ValueError(f"flow.venue: unknown venue {self.flow.venue!r} "
                                 f"(have: {', '.join(v.name for v in self.venues) or 'none'})")
        names = [a.name for a in self.assets]
        _unique(names, "assets")
        _unique([v.name for v in self.venues], "venues")
        _unique([o.name for o in self.oracles], "oracles")
        _unique([p.name for p in self.protocols], "protocols")
        known = set(names)
        venue_names = {v.name: v for v in self.venues}
        oracle_names = {o.name: o for o in self.oracles}
        price_of = {a.name: a.price for a in self.assets}
        for i, v in enumerate(self.venues):
            if v.asset not in known:
                raise ValueError(f"venues[{i}].asset: unknown asset {v.asset!r}")
            p = price_of[v.asset]
            if v.min_price is not None and not (B.FLOOR_REL_MIN * p <= v.min_price < p):
                raise ValueError(f"venues[{i}].min_price: must be below the asset's price {p:g} and at least "
                                 f"{B.FLOOR_REL_MIN:g} × it, got {v.min_price:g}")
        stable = {a.name for a in self.assets if a.stable}
        for a in self.assets:
            if not a.stable and not any(v.asset == a.name for v in self.venues):
                raise ValueError(f"assets: {a.name!r} is not stable and has no venue")
        pegged = set()
        for i, g in enumerate(self.pegs):
            if g.asset not in known:
                raise ValueError(f"pegs[{i}].asset: unknown asset {g.asset!r}")
            if g.asset in pegged:
                raise ValueError(f"pegs[{i}].asset: {g.asset!r} has two pegs")
            if g.asset in {a.name for a in self.assets if a.stable}:
                raise ValueError(f"pegs[{i}].asset: {g.asset!r} is stable (fixed price); a pegged asset trades")
            pegged.add(g.asset)
        for i, o in enumerate(self.oracles):
            if o.asset not in known:
                raise ValueError(f"oracles[{i}].asset: unknown asset {o.asset!r}")
            if (o.reads == "fundamental" or o.kind == "fundamental") and o.asset not in pegged:
                raise ValueError(f"oracles[{i}].reads: {o.asset!r} has no [[pegs]] entry to read a fundamental from")
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
            for asset in p.rates:
                if asset not in known:
                    raise ValueError(f"protocols[{i}].rates: unknown asset {asset!r}")
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
        fa = self.agents.flash_attacker
        if fa is not None:
            if fa.venue is not None:
                if fa.venue not in venue_names:
                    raise ValueError(f"agents.flash_attacker.venue: unknown venue {fa.venue!r}")
                if fa.asset is not None and venue_names[fa.venue].asset != fa.asset:
                    raise ValueError(f"agents.flash_attacker.venue: {fa.venue!r} trades "
                                     f"{venue_names[fa.venue].asset}, not {fa.asset}")
            if fa.protocol is not None:
                kinds = {p.name: p.kind for p in self.protocols}
                if fa.protocol not in kinds:
                    raise ValueError(f"agents.flash_attacker.protocol: unknown protocol {fa.protocol!r}")
                if kinds[fa.protocol] != "aave_v3":
                    raise ValueError(f"agents.flash_attacker.protocol: {fa.protocol!r} is a {kinds[fa.protocol]} unit; "
                                     "the bundle liquidates Aave-rule protocols only")
            elif not any(p.kind == "aave_v3" for p in self.protocols):
                raise ValueError("agents.flash_attacker: the scenario has no Aave-rule protocol to liquidate")
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

"""MakerDAO — the unit's configuration (pydantic) and presets.

Validated by the scenario (``[[protocols]] kind = "maker"``, ``preset``, ``config``); the
rules and sources are in ``README.md`` in this folder, the state pack in :mod:`.pack`.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, model_validator

from liqcascade.strict import Strict

__all__ = ["FlipConfig", "MakerConfig", "PRESETS", "PRESET_NOTES", "describe", "preset"]
Frac = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]
NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Pos = Annotated[float, Field(gt=0, allow_inf_nan=False)]
PosOrInf = Annotated[float, Field(gt=0)]  # ``inf`` = no limit
MIN = 60.0
HOUR = 3600.0
DAY = 86400.0


class FlipConfig(Strict):
    """2020 ``Flipper`` / ``Cat`` parameters (§3.8). Defaults are flip.sol's code defaults."""

    beg: Frac = Field(0.05, description="minimum bid increase / lot decrease (5 %)")
    ttl: Pos = Field(3 * HOUR, description="lifetime of one bid, seconds (3 h)")
    tau: Pos = Field(2 * DAY, description="maximum auction duration, seconds (2 d)")
    lump: PosOrInf = Field(math.inf, description="collateral per Cat.bite, collateral units (inf = whole vault)")


class MakerConfig(Strict):
    """One collateral type (ilk) and its liquidation machinery."""

    name: str = "maker"
    auction: Literal["clip", "flip"] = Field("clip", description="Liquidations 2.0 Dutch (clip) or 2020 English (flip)")
    # vat / spotter (§3.1)
    mat: float = Field(1.5, ge=1.0, allow_inf_nan=False, description="liquidation ratio (1.5 = 150 %)")
    line: PosOrInf = Field(math.inf, description="debt ceiling, DAI (stored; only limits borrowing)")
    dust: NonNeg = Field(0.0, description="minimum vault / auction debt, DAI")
    # dog (§3.2)
    chop: NonNeg = Field(0.13, description="liquidation penalty fraction (0.13 = 13 %)")
    hole: PosOrInf = Field(math.inf, description="ilk limit on DAI needed by running auctions (inf = none)")
    Hole: PosOrInf = Field(math.inf, description="global limit on DAI needed by running auctions (inf = none)")
    # clip (§3.3)
    buf: Pos = Field(1.2, description="starting price multiplier on the OSM price")
    tail: Pos = Field(90 * MIN, description="auction age after which it needs a redo, seconds")
    cusp: Frac = Field(0.4, description="price / top below which it needs a redo")
    chip: Frac = Field(0.001, description="keeper reward, fraction of tab")
    tip: NonNeg = Field(0.0, description="flat keeper reward, DAI")
    # abacus (§3.4)
    calc: Literal["stairstep", "linear", "exponential"] = "stairstep"
    cut: float = Field(0.99, gt=0, le=1, description="stairstep: factor per step; exponential: per second")
    step: Pos = Field(90.0, description="stairstep step, seconds")
    tau: Pos = Field(HOUR, description="linear curve: seconds until the price reaches 0")
    # ClipperMom (§3.5)
    tolerance: float = Field(0.5, ge=0, le=1, allow_inf_nan=False,
                             description="breaker trips if OSM next < current · tolerance (0 = off)")
    stopped: int = Field(0, ge=0, le=3, description="initial breaker level")
    # flip (§3.8)
    flip: FlipConfig = Field(default_factory=FlipConfig)
    # OSM (§3.7)
    osm_hop: Pos = Field(HOUR, description="OSM hop, seconds")

    @model_validator(mode="after")
    def _check(self):
        for nm in ("hole", "Hole", "line", "flip"):
            v = getattr(self, nm)
            if isinstance(v, float) and math.isnan(v):
                raise ValueError(f"{nm} must be a number")
        return self

    @property
    def chost(self) -> float:
        """``dust · chop`` (multiplier), the clipper's cached minimum leftover (§3.3)."""
        return self.dust * (1.0 + self.chop)


PRESETS: dict[str, MakerConfig] = {
    # §3.1 mat 150 %; §3.6 ETH-A/B/C & WBTC-A: cut 0.99, step 90 s "same as YFI-A", ETH ≈ $35M of hole;
    # global Hole 100M; chop 13 %; tolerance 0.5.
    "ETH-A": MakerConfig(
        name="ETH-A", mat=1.5, chop=0.13, dust=2_000.0, hole=35e6, Hole=100e6, buf=1.30,
        tail=140 * MIN, cusp=0.4, chip=0.001, tip=0.0, calc="stairstep", cut=0.99, step=90.0,
        tolerance=0.5,
    ),
    # §3.6 "ETH-B, revised" [forum 8477] — every auction value is from the table; mat 130 % §3.1.
    "ETH-B": MakerConfig(
        name="ETH-B", mat=1.3, chop=0.13, dust=2_000.0, hole=15e6, Hole=100e6, buf=1.20,
        tail=90 * MIN, cusp=0.4, chip=0.001, tip=300.0, calc="stairstep", cut=0.99, step=60.0,
        tolerance=0.5,
    ),
    # §3.6 YFI-A [forum 7502]; mat 175 % §3.1.
    "YFI-A": MakerConfig(
        name="YFI-A", mat=1.75, chop=0.13, dust=2_000.0, hole=5e6, Hole=100e6, buf=1.30,
        tail=140 * MIN, cusp=0.4, chip=0.001, tip=0.0, calc="stairstep", cut=0.99, step=90.0,
        tolerance=0.5,
    ),
    # §3.8 flip.sol code defaults (beg 5 %, ttl 3 h, tau 2 d), chop 13 %; no Hole/dust in the 2020 Cat,
    # no ClipperMom.
    "ETH-A-flip-2020": MakerConfig(
        name="ETH-A-flip-2020", auction="flip", mat=1.5, chop=0.13, dust=0.0, tolerance=0.0,
        flip=FlipConfig(beg=0.05, ttl=3 * HOUR, tau=2 * DAY, lump=50.0),
    ),
}


PRESET_NOTES: dict[str, str] = {
    "ETH-A": (
        "Reference §3.1/§3.6: mat 1.5, cut 0.99, step 90 s, chop 13 %, Hole 100M, tolerance 0.5. "
        "buf 1.30, tail 140 min, cusp 0.4, chip 0.1 %, tip 0 are YFI-A's values, which §3.6 says the "
        "ETH ilks shared ('same as YFI-A' for cut/step; the forum post proposes 'a similar set'). "
        "hole 35M is the whole ETH allocation of §3.6 (its split between ETH-A/B/C is not in the "
        "reference). dust 2,000 DAI is the only dust value in the reference (§3.8, the 2021 ETH-C "
        "proposal); mainnet dust changed often. Not a reference value: dust, hole."
    ),
    "ETH-B": (
        "Reference §3.6 'ETH-B, revised' table (forum 8477): cut 0.99, step 60 s, buf 1.20, cusp 0.4, "
        "tail 90 min, chip 0.1 %, tip 300, chop 13 %, tolerance 0.5, hole 15M, Hole 100M; mat 1.3 (§3.1). "
        "Not a reference value: dust 2,000 DAI (§3.8's ETH-C proposal value, used as a stand-in)."
    ),
    "YFI-A": (
        "Reference §3.6 YFI-A table (forum 7502): cut 0.99, step 90 s, buf 1.30, cusp 0.4, tail 140 min, "
        "chip 0.1 %, tip 0, hole 5M, chop 13 %, tolerance 0.5, Hole 100M; mat 1.75 (§3.1). "
        "Not a reference value: dust 2,000 DAI."
    ),
    "ETH-A-flip-2020": (
        "Reference §3.8: flip.sol code defaults beg 5 %, ttl 3 h, tau 2 d (mainnet values were set by "
        "governance and are not verified in the reference), chop 13 %, Cat.bite lot = min(ink, lump); "
        "mat 1.5 (§3.1). Not a reference value: lump = 50 collateral units per bite (our assumption; "
        "set it to the value you want to study). No Hole/hole, dust or ClipperMom in the 2020 system."
    ),
}


def preset(name: str, **overrides) -> MakerConfig:
    """A copy of ``PRESETS[name]`` with fields replaced (validated)."""
    base = PRESETS[name].model_dump()
    base.update(overrides)
    return MakerConfig.model_validate(base)


def describe(config: MakerConfig | None = None) -> str:
    """Plain-text description of the unit (and of ``config``'s parameters, if given)."""
    lines = [
        "maker — MakerDAO liquidations (protocol-mechanics.md §3)",
        "  unsafe: ink·price/mat < art·rate, price = OSM current value (§3.1, §3.7)",
        "  clip (Liquidations 2.0): bark sized to min(Hole−Dirt, hole−dirt)/rate/chop with the dust",
        "    cases (§3.2); Dutch auction from top = OSM·buf down an abacus curve, redo after tail",
        "    or below cusp, take with the chost rule, keeper reward tip + chip·tab minted as debt;",
        "    ClipperMom trips stopped = 2 when OSM next < current·tolerance (§3.3–3.5)",
        "  flip (2020): Cat.bite min(ink, lump), English auction tend/dent with beg, ttl, tau (§3.8)",
        "  simplified: real numbers (no wad/ray), constant rate, vow as an account (no heal/flop),",
        "    keepers = one competitive pool (capital & actions per step), optional zero-bidder",
    ]
    if config is not None:
        c = config
        lines.append(f"  config {c.name}: auction={c.auction} mat={c.mat} chop={c.chop:.2%} dust={c.dust:g} "
                     f"hole={c.hole:g} Hole={c.Hole:g}")
        if c.auction == "clip":
            lines.append(f"    buf={c.buf} tail={c.tail:g}s cusp={c.cusp} chip={c.chip:.2%} tip={c.tip:g} "
                         f"calc={c.calc} cut={c.cut} step={c.step:g}s tau={c.tau:g}s "
                         f"tolerance={c.tolerance} osm_hop={c.osm_hop:g}s")
        else:
            f = c.flip
            lines.append(f"    beg={f.beg:.2%} ttl={f.ttl:g}s tau={f.tau:g}s lump={f.lump:g} "
                         f"osm_hop={c.osm_hop:g}s")
        note = PRESET_NOTES.get(c.name)
        if note:
            lines.append(f"    sources: {note}")
    return "\n".join(lines)


#: the model of a `kind = "maker"` protocol's `config` table (see `liqcascade.protocols.config_class`)
CONFIG = MakerConfig

"""``liqcascade protocols [--json] [KIND]``: the protocol units, their presets and parameters.

Without ``KIND``: every unit (``aave_v3`` and the families of
:func:`liqcascade.engine.units.protocol_table`) with what it models, its presets, its docs page
and example, then one table of parameters (name, default, description) per unit. With
``KIND``: that unit's parameters and the values of each of its presets. ``--json`` prints the
same as one JSON object (infinite values as the strings ``"inf"``/``"-inf"``).

Parameters are read from the pydantic models (``Protocol`` for ``aave_v3``, the family's
``*Config`` model otherwise), so the listing follows the code. Nested models are flattened:
``flip.beg`` (Maker), ``assets.<name>.liquidation_factor`` (Comet), ``tiers[].mmr`` (perp),
``params.<asset>.liquidation_threshold`` (Aave).
"""

from __future__ import annotations

import math
import sys
import typing
from typing import Any, Optional

import typer

from .. import jsonout

# what each unit models, its docs page and example scenario (paths relative to the repository)
UNIT_INFO: dict[str, dict[str, str]] = {
    "aave_v3": {
        "models": "Aave v3 lending: health factor, close factor (v3.2 / v3.3 rules), liquidation bonus, protocol fee; "
                  "also the static cascade curve",
        "docs": "src/liqcascade/protocols/aave/README.md",
        "example": "examples/minimal.toml",
    },
    "comet": {
        "models": "Compound v3 (Comet): all-or-nothing absorb into protocol reserves, buyCollateral at the "
                  "store-front discount while reserves < target",
        "docs": "src/liqcascade/protocols/comet/README.md",
        "example": "examples/comet.toml",
    },
    "liquity": {
        "models": "Liquity v1 troves: Stability Pool offset, redistribution, recovery mode, gas compensation",
        "docs": "src/liqcascade/protocols/liquity/README.md",
        "example": "examples/liquity.toml",
    },
    "perp": {
        "models": "Perpetual-futures venue: margin tiers, liquidation orders into its own book, backstop vault, "
                  "insurance fund, ADL, mark price",
        "docs": "src/liqcascade/protocols/perp/README.md",
        "example": "examples/perp.toml",
    },
    "maker": {
        "models": "MakerDAO: Dog.bark with Hole/hole throttle and dust, Clipper Dutch auctions (or the 2020 "
                  "Flipper), ClipperMom, OSM-delayed prices, keepers",
        "docs": "src/liqcascade/protocols/maker/README.md",
        "example": "examples/maker.toml",
    },
    "llamma": {
        "models": "crvUSD LLAMMA: collateral in bands, soft liquidation by an arbitrageur against the venues, "
                  "hard liquidation when health < 0",
        "docs": "src/liqcascade/protocols/llamma/README.md",
        "example": "examples/llamma.toml",
    },
}

# Aave v3 has no `preset` key in a scenario; these are the values examples/minimal.toml uses.
AAVE_PRESETS: dict[str, dict] = {
    "WETH-launch": {
        "close_factor_rule": "v3.3",
        "params": {"WETH": {"ltv": 0.825, "liquidation_threshold": 0.86, "liquidation_bonus": 0.052,
                            "protocol_fee": 0.10}},
    },
}


# ----------------------------------------------------------------------------------------------
# data


def _plain(v: Any) -> Any:
    """A JSON-friendly copy of ``v`` (models dumped, infinities as strings)."""
    if hasattr(v, "model_dump"):
        v = v.model_dump()
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    if hasattr(v, "item") and callable(v.item):  # numpy scalar
        return _plain(v.item())
    return v


def _model_in(annotation) -> tuple[str, type | None]:
    """``("", M)`` for a model field, ``(".<name>", M)`` for ``dict[str, M]``, ``("[]", M)`` for
    ``list[M]`` (optional wrappers removed); ``("", None)`` otherwise."""
    from pydantic import BaseModel

    def is_model(t):
        return isinstance(t, type) and issubclass(t, BaseModel)

    ann = annotation
    origin = typing.get_origin(ann)
    if origin is typing.Union or (origin is not None and str(origin) == "<class 'types.UnionType'>"):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if len(args) == 1:
            ann = args[0]
            origin = typing.get_origin(ann)
    if is_model(ann):
        return "", ann
    if origin is dict:
        args = typing.get_args(ann)
        if len(args) == 2 and is_model(args[1]):
            return ".<name>", args[1]
    if origin is list:
        args = typing.get_args(ann)
        if args and is_model(args[0]):
            return "[]", args[0]
    return "", None


def _default(f) -> Any:
    if f.is_required():
        return "required"
    if f.default_factory is not None:
        try:
            return _plain(f.default_factory())
        except TypeError:  # a factory that needs the validated data
            return "computed"
    return _plain(f.default)


def model_params(cls, prefix: str = "") -> list[dict]:
    """``[{"name", "default", "description"}]`` for every field of ``cls``, nested models
    flattened (``flip.beg``, ``assets.<name>.liquidation_factor``, ``tiers[].mmr``)."""
    out = []
    for name, f in cls.model_fields.items():
        full = f"{prefix}{name}"
        out.append({"name": full, "default": _default(f), "description": f.description or ""})
        sep, sub = _model_in(f.annotation)
        if sub is not None:
            out.extend(model_params(sub, f"{full}{sep}."))
    return out


def _config_class(kind: str):
    from ..protocols import config_class

    return config_class(kind)


def catalog() -> list[dict]:
    """Every protocol unit: ``kind``, ``models``, ``module``, ``presets`` (names), ``docs``,
    ``example``, ``scenario_keys`` (where the parameters go) and ``params``."""
    from ..engine.units import protocol_table
    from ..protocols.aave.model import Protocol

    out = []
    for row in protocol_table():
        kind = row["kind"]
        info = UNIT_INFO.get(kind, {})
        if kind == "aave_v3":
            params = model_params(Protocol)
            presets = list(AAVE_PRESETS)
            keys = "[[protocols]] keys (kind = \"aave_v3\")"
        else:
            params = model_params(_config_class(kind))
            presets = list(row["presets"])
            keys = f"[protocols.config] keys of a kind = \"{kind}\" protocol (override its `preset`)"
        out.append({
            "kind": kind,
            "models": info.get("models", ""),
            "module": row["module"],
            "presets": presets,
            "docs": info.get("docs", ""),
            "example": info.get("example", ""),
            "scenario_keys": keys,
            "params": params,
        })
    return out


def preset_values(kind: str) -> dict[str, dict]:
    """``{preset name: full parameter values}`` of a unit (the family's config model validated
    with the preset, so defaults are filled in). Raises :class:`InputError` for an unknown kind."""
    from ..errors import InputError

    kinds = [r["kind"] for r in catalog()]
    if kind not in kinds:
        raise InputError(None, "KIND", f"unknown protocol kind {kind!r} (known: {', '.join(kinds)})")
    if kind == "aave_v3":
        return {n: _plain(v) for n, v in AAVE_PRESETS.items()}
    from ..protocols import module

    mod = module(kind, "model")
    cls = _config_class(kind)
    out = {}
    for name, p in mod.PRESETS.items():
        data = p.model_dump() if hasattr(p, "model_dump") else dict(p)
        out[name] = _plain(cls.model_validate(data).model_dump())
    return out


def _flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}, "t": [{"x": 2}]}`` → ``{"a.b": 1, "t[0].x": 2}``."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(_flatten(v, key + "."))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for i, x in enumerate(v):
                out.update(_flatten(x, f"{key}[{i}]."))
        else:
            out[key] = v
    return out


# ----------------------------------------------------------------------------------------------
# display


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "none"
    if isinstance(v, float):
        if v.is_integer() and 1e4 <= abs(v) < 1e15:
            return f"{v:,.0f}"
        return f"{v:.6g}"
    if isinstance(v, int) and abs(v) >= 1e4:
        return f"{v:,}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{}" if not v else ", ".join(f"{k}={_fmt(x)}" for k, x in v.items())
    return str(v)


def console():
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=150)


def _params_table(entry: dict):
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=escape(f"{entry['kind']} — parameters: {entry['scenario_keys']}"), title_justify="left")
    t.add_column("parameter", no_wrap=True)
    t.add_column("default", justify="right")
    t.add_column("description")
    for p in entry["params"]:
        t.add_row(escape(p["name"]), escape(_fmt(p["default"])), escape(p["description"]))
    return t


def print_overview(cat: list[dict]) -> None:
    from rich.markup import escape
    from rich.table import Table

    con = console()
    t = Table(title=escape("protocol units (`liqcascade protocols KIND` shows a unit's preset values)"))
    for col in ("kind", "models", "presets", "docs / example"):
        t.add_column(col)
    for e in cat:
        t.add_row(e["kind"], escape(e["models"]), escape("\n".join(e["presets"]) or "-"),
                  escape(f"{e['docs']}\n{e['example']}"))
    con.print(t)
    for e in cat:
        con.print(_params_table(e))


def print_kind(entry: dict, presets: dict[str, dict]) -> None:
    from rich.markup import escape
    from rich.table import Table

    con = console()
    con.print(f"[bold]{entry['kind']}[/bold] — {escape(entry['models'])}")
    con.print(f"module {escape(entry['module'])}; docs {entry['docs']}; example {entry['example']}")
    con.print(_params_table(entry))
    flat = {name: _flatten(v) for name, v in presets.items()}
    keys: list[str] = []
    for f in flat.values():
        for k in f:
            if k not in keys:
                keys.append(k)
    title = (f"{entry['kind']} presets (`preset = \"NAME\"`)" if entry["kind"] != "aave_v3"
             else "aave_v3 reference values (no `preset` key: write them in [protocols.params.<asset>])")
    t = Table(title=escape(title), title_justify="left")
    t.add_column("parameter", no_wrap=True)
    for name in flat:
        t.add_column(escape(name), justify="right")
    for k in keys:
        t.add_row(escape(k), *[escape(_fmt(flat[n].get(k, "-"))) for n in flat])
    con.print(t)


# ----------------------------------------------------------------------------------------------
# command


def protocols(kind: Optional[str] = None, as_json: bool = False) -> None:
    """The body of ``liqcascade protocols`` (raises :class:`InputError` for an unknown kind)."""
    from ..errors import InputError

    cat = catalog()
    if kind is None:
        if as_json:
            typer.echo(jsonout.dumps({"protocols": cat}))
        else:
            print_overview(cat)
        return
    by_kind = {e["kind"]: e for e in cat}
    if kind not in by_kind:
        raise InputError(None, "KIND", f"unknown protocol kind {kind!r} (known: {', '.join(by_kind)})")
    presets = preset_values(kind)
    if as_json:
        typer.echo(jsonout.dumps({**by_kind[kind], "preset_values": presets}))
    else:
        print_kind(by_kind[kind], presets)


def register(app: typer.Typer) -> None:
    from ._common import guard

    @app.command("protocols")
    @guard
    def protocols_cmd(
        kind: Optional[str] = typer.Argument(None, help="a unit kind (aave_v3, comet, liquity, perp, maker, "
                                                        "llamma): show its preset values"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    ):
        """List the protocol units with their presets and parameters (name, default, description)."""
        protocols(kind, as_json)

"""Protocol units other than Aave v3: configuration, position loading and state packs.

Each family lives in its folder ``liqcascade/protocols/<family>/`` (``model.py``: config model
and presets; ``pack.py``: ``build_pack``, ``totals``; ``kernel.py``: the step the time loop
calls), found through the registry :mod:`liqcascade.protocols`. This module turns a scenario's
:class:`~liqcascade.scenario.models.UnitProtocol` into a ready pack.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import protocols as registry
from ..protocols.configs import unit_config
from ..errors import InputError

FAMILY_ORDER = registry.UNIT_KINDS


def family_config(up):
    """The family's validated config: preset (if any) updated with ``config``."""
    return unit_config(up.kind, up.preset, up.config)


@dataclass
class Unit:
    kind: str
    proto_id: int
    pack: tuple
    ids: np.ndarray
    module: object

    @property
    def n(self) -> int:
        return int(self.ids.shape[0])

    def fresh_pack(self) -> tuple:
        return tuple(a.copy() for a in self.pack)

    def totals(self, pack=None) -> dict:
        return self.module.totals(self.pack if pack is None else pack)


def _resolve(base_dir: Path, name: str) -> Path:
    p = Path(name)
    return p if p.is_absolute() else base_dir / p


def build_unit(up, proto_id: int, aidx: dict, p0: np.ndarray, venue_names: list[str],
               venue_asset: np.ndarray, base_dir: Path) -> Unit:
    """Load ``up``'s positions and build its pack."""
    from ..positions.io import load_positions

    where = f"protocols[{proto_id}]"
    cfg = family_config(up)
    mod = registry.module(up.kind, "pack")
    path = _resolve(base_dir, up.positions)
    if up.kind == "perp":
        return _build_perp(up, cfg, mod, proto_id, aidx, p0, venue_names, venue_asset, path)
    from .compile import _book_file

    table = _book_file(load_positions, path, proto_id)
    if up.kind == "comet":
        names = list(cfg.assets)
        for n in [cfg.base, *names]:
            if n not in aidx:
                raise InputError(str(path), f"{where}.config", f"asset {n!r} is not a scenario asset")
        coll = np.zeros((table.n, len(names)))
        principal = np.zeros(table.n)
        if table.wide:
            if up.collateral is None or up.collateral not in names:
                raise InputError(None, f"{where}.collateral", "a wide comet file needs `collateral`, one of the market's assets")
            coll[:, names.index(up.collateral)] = table.collateral
            principal = -table.debt
        else:
            for i in range(table.n):
                for j in range(table.ptr[i], table.ptr[i + 1]):
                    nm = table.assets[table.asset[j]]
                    if table.collateral[j] > 0:
                        if nm not in names:
                            raise InputError(str(path), f"id {table.ids[i]}", f"{nm!r} is not a collateral of this market")
                        coll[i, names.index(nm)] += table.collateral[j]
                    if table.debt[j] > 0:
                        if nm != cfg.base:
                            raise InputError(str(path), f"id {table.ids[i]}", f"debt in {nm!r}; Comet lends only {cfg.base!r}")
                        principal[i] -= table.debt[j]
        pack = mod.build_pack(cfg, principal, coll, aidx, prices0=p0)
        return Unit(up.kind, proto_id, pack, np.asarray(table.ids, dtype=object), mod)
    if not table.wide:
        raise InputError(str(path), "header", f"a {up.kind} protocol takes the wide format id,collateral,debt")
    if up.collateral is None:
        raise InputError(None, f"{where}.collateral", f"a {up.kind} protocol needs `collateral`")
    a = aidx[up.collateral]
    if up.kind == "liquity":
        pack = mod.build_pack(cfg, table.collateral, table.debt, asset=a)
    elif up.kind == "maker":
        pack = mod.build_pack(cfg, table.collateral, table.debt, asset=a)
    elif up.kind == "llamma":
        pack = mod.build_pack(cfg, table.collateral, table.debt, None, p0=float(p0[a]), asset=a)
    else:  # pragma: no cover - guarded by the scenario model
        raise InputError(None, f"{where}.kind", f"unknown unit {up.kind!r}")
    return Unit(up.kind, proto_id, pack, np.asarray(table.ids, dtype=object), mod)


PERP_COLUMNS = ("id", "side", "size", "entry", "margin")


def load_perp_positions(path: Path):
    """``id,side,size,entry,margin[,account]`` — side is long/short; account groups cross
    positions (empty or -1 = isolated)."""
    if not path.exists():
        raise InputError(str(path), None, "file not found")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise InputError(str(path), None, "empty file")
    head = [h.strip().lower() for h in rows[0]]
    if head[:5] != list(PERP_COLUMNS) or len(head) not in (5, 6) or (len(head) == 6 and head[5] != "account"):
        raise InputError(str(path), "line 1", f"expected columns {','.join(PERP_COLUMNS)}[,account], found {','.join(head)}")
    ids, sides, sizes, entries, margins, accounts = [], [], [], [], [], []
    for ln, r in enumerate(rows[1:], start=2):
        if not any(x.strip() for x in r):
            continue
        if len(r) != len(head):
            raise InputError(str(path), f"line {ln}", f"expected {len(head)} fields, found {len(r)}")
        side = r[1].strip().lower()
        if side not in ("long", "short"):
            raise InputError(str(path), f"line {ln}, column 'side'", f"must be long or short, got {r[1]!r}")
        vals = []
        for col, x in zip(("size", "entry", "margin"), r[2:5]):
            try:
                v = float(x)
            except ValueError:
                raise InputError(str(path), f"line {ln}, column '{col}'", f"not a number: {x!r}") from None
            if not np.isfinite(v) or v < 0 or (col != "margin" and v == 0):
                raise InputError(str(path), f"line {ln}, column '{col}'", f"must be {'> 0' if col != 'margin' else '>= 0'}, got {x!r}")
            vals.append(v)
        acct = -1
        if len(head) == 6 and r[5].strip() not in ("", "-1"):
            try:
                acct = int(r[5])
            except ValueError:
                raise InputError(str(path), f"line {ln}, column 'account'", f"not an integer: {r[5]!r}") from None
        ids.append(r[0].strip())
        sides.append(side)
        sizes.append(vals[0])
        entries.append(vals[1])
        margins.append(vals[2])
        accounts.append(acct)
    if not ids:
        raise InputError(str(path), None, "no positions")
    return ids, sides, np.array(sizes), np.array(entries), np.array(margins), np.array(accounts, dtype=np.int64)


def _build_perp(up, cfg, mod, proto_id, aidx, p0, venue_names, venue_asset, path):
    where = f"protocols[{proto_id}]"
    if up.collateral is None:
        raise InputError(None, f"{where}.collateral", "a perp protocol needs `collateral` (the underlying asset)")
    a = aidx[up.collateral]
    books = [j for j, va in enumerate(venue_asset) if va == a]
    if not books:
        raise InputError(None, f"{where}.collateral", f"no venue trades {up.collateral!r}: the perp needs its order book")
    from .compile import _book_file

    ids, sides, sizes, entries, margins, accounts = _book_file(load_perp_positions, path, proto_id)
    pack = mod.build_pack(cfg, sides, sizes, entries, margins, accounts, assets=[a], book_venues=[books[0]],
                          marks=[float(p0[a])])
    return Unit("perp", proto_id, pack, np.asarray(ids, dtype=object), mod)


def protocol_table() -> list[dict]:
    """Every protocol unit with its parameters and defaults (for ``liqcascade protocols``)."""
    from ..protocols.aave.model import Protocol

    out = [{
        "kind": "aave_v3",
        "module": "liqcascade.protocols.aave.kernel (built into the solver and time loop)",
        "presets": ["WETH launch: ltv 0.825, liquidation_threshold 0.86, liquidation_bonus 0.052, protocol_fee 0.10"],
        "params": [(n, f.default, f.description or "") for n, f in Protocol.model_fields.items()],
    }]
    for kind in FAMILY_ORDER:
        mod = registry.module(kind, "model")
        cls = mod.CONFIG
        out.append({
            "kind": kind,
            "module": f"liqcascade.protocols.{registry.UNITS[kind]}",
            "presets": list(mod.PRESETS),
            "params": [(n, f.default, f.description or "") for n, f in cls.model_fields.items()],
        })
    return out


_EMPTY_PACKS: dict[str, tuple] = {}


def _sample_pack(kind: str) -> tuple:
    """A one-position pack of family ``kind`` with its first preset (only its array types are
    used)."""
    model = registry.module(kind, "model")
    mod = registry.module(kind, "pack")
    cfg = unit_config(kind, next(iter(model.PRESETS)), {})
    one = np.ones(1)
    if kind == "comet":
        names = [cfg.base, *cfg.assets]
        return mod.build_pack(cfg, np.zeros(1), np.zeros((1, len(cfg.assets))), {n: i for i, n in enumerate(names)},
                              prices0=np.ones(len(names)))
    if kind == "liquity":
        return mod.build_pack(cfg, 10.0 * one, 2000.0 * one, asset=0)
    if kind == "maker":
        return mod.build_pack(cfg, 10.0 * one, 1000.0 * one, asset=0)
    if kind == "llamma":
        return mod.build_pack(cfg, 10.0 * one, 1000.0 * one, None, p0=2000.0, asset=0)
    if kind == "perp":
        return mod.build_pack(cfg, ["long"], one, 100.0 * one, 50.0 * one, assets=[0], book_venues=[0],
                              marks=[100.0])
    raise ValueError(f"unknown unit family {kind!r}")


def empty_pack(kind: str) -> tuple:
    """The pack of an absent family: zero-length arrays with the dtypes and dimensions of a real
    pack, so the time loop compiles once whether the family is there or not."""
    if kind not in _EMPTY_PACKS:
        pack = _sample_pack(kind)
        if not all(isinstance(a, np.ndarray) for a in pack):
            raise TypeError(f"{kind} pack must be a tuple of arrays")
        _EMPTY_PACKS[kind] = tuple(np.zeros((0,) * a.ndim, dtype=a.dtype) for a in pack)
    return _EMPTY_PACKS[kind]


def kernel_pack(pack: tuple) -> tuple:
    """``pack`` as the time loop takes it: C-contiguous arrays (copies)."""
    return tuple(np.ascontiguousarray(a).copy() for a in pack)

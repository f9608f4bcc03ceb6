"""``lc.Scenario``: a scenario file as a Python object — load, change fields by dotted path,
validate with the scenario's own pydantic models, write back as TOML.

Only pydantic is imported here (no numpy, numba or pyarrow): loading and editing scenarios is
cheap, the engine is imported when a scenario is run.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import InputError

#: inside a protocol, ``assets`` is accepted for ``params`` (per-asset risk parameters)
_PARAMS_ALIAS = "assets"


class Scenario:
    """A validated scenario: its tables as plain data, the folder its files resolve against.

    Build one with :func:`liqcascade.load` (a TOML file), :meth:`from_dict` or :meth:`from_toml`.
    Every constructor and every :meth:`set` runs the same pydantic models as ``liqcascade
    validate``, and fails with the same :class:`~liqcascade.errors.InputError` (its message is the
    CLI's ``FILE: FIELD: REASON``). A scenario is not changed in place: :meth:`set` returns a new one.
    """

    __slots__ = ("_data", "_model", "base_dir", "source", "_compiled", "_hash")

    def __init__(self, data: Mapping, base_dir: str | os.PathLike | None = None, source: str | None = None):
        from ..scenario.load import validate_dict

        if not isinstance(data, Mapping):
            raise InputError(source, None, f"a scenario is a table (dict), got {type(data).__name__}")
        self._data = _plain(dict(data))
        self.base_dir = Path(base_dir if base_dir is not None else ".").resolve()
        self.source = None if source is None else str(source)
        self._model = validate_dict(copy.deepcopy(self._data), self.source)
        self._compiled = None
        self._hash = None

    # ---- constructors ----------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike) -> "Scenario":
        """Read and validate a scenario TOML file (relative files resolve against its folder)."""
        from ..scenario.load import read_scenario_text

        text, p = read_scenario_text(path)
        return cls.from_toml(text, base_dir=p.resolve().parent, source=str(path))

    @classmethod
    def from_toml(cls, text: str, base_dir: str | os.PathLike | None = None, source: str | None = None) -> "Scenario":
        """A scenario from TOML text; ``base_dir`` is where its relative files resolve (default:
        the current folder)."""
        from ..scenario.load import parse_toml

        return cls(parse_toml(text, source), base_dir, source)

    @classmethod
    def from_dict(cls, data: Mapping, base_dir: str | os.PathLike | None = None) -> "Scenario":
        """A scenario from the tables of a scenario file as a dict (``base_dir``: where relative
        file names resolve, default the current folder)."""
        return cls(data, base_dir)

    # ---- reading ---------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._model.name

    @property
    def model(self):
        """A copy of the validated :class:`liqcascade.scenario.models.Scenario` (every field,
        defaults included)."""
        return self._model.model_copy(deep=True)

    def to_dict(self) -> dict:
        """The scenario's tables as written (defaults left out), a copy."""
        return copy.deepcopy(self._data)

    def get(self, path: str) -> Any:
        """The value at a dotted ``path`` of the validated scenario (defaults included); see
        :meth:`set` for the path syntax."""
        full = self._model.model_dump(mode="python")
        parts = _split(path, self.source)
        cur = full
        for i, part in enumerate(parts):
            cur, key = _step(cur, part, parts, i, self.source)
            cur = cur[key] if not (isinstance(cur, dict) and key not in cur) else None
        return copy.deepcopy(cur)

    def __getitem__(self, path: str) -> Any:
        return self.get(path)

    def to_toml(self) -> str:
        """The scenario as TOML text; ``tomllib.loads(s.to_toml()) == s.to_dict()``."""
        from .toml import dumps

        return dumps(self._data)

    def save(self, path: str | os.PathLike) -> Path:
        """Write :meth:`to_toml` to ``path``. Relative file names in the scenario are rewritten
        relative to the new file's folder, so the saved file reads the same positions."""
        p = Path(path)
        target = p.resolve().parent
        data = copy.deepcopy(self._data)
        if target != self.base_dir:
            _rebase(data, self.base_dir, target)
        from .toml import dumps

        target.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f".{p.name}.tmp")
        tmp.write_text(dumps(data), encoding="utf-8")
        tmp.replace(p)
        return p

    @property
    def hash(self) -> str:
        """SHA-256 of the validated scenario and the files it reads (:mod:`liqcascade.provenance`)."""
        if self._hash is None:
            from ..provenance import scenario_hash

            self._hash = scenario_hash(self._model, self.base_dir)
        return self._hash

    def compile(self):
        """The engine's :class:`~liqcascade.engine.compile.Compiled` form (books loaded, arrays
        built), made once per scenario object."""
        if self._compiled is None:
            from ..engine.compile import compile_scenario

            try:
                self._compiled = compile_scenario(self.model, self.base_dir, self.source)
            except InputError as exc:
                if exc.file is None and not (exc.where or "").startswith("--"):
                    raise InputError(self.source, exc.where, exc.reason) from None
                raise
        return self._compiled

    # ---- changing ------------------------------------------------------------------------------
    def set(self, path: str | Mapping[str, Any], value: Any = None) -> "Scenario":
        """A new scenario with ``path`` set to ``value`` (or every ``{path: value}`` of a mapping,
        validated once, for fields that must change together such as ``ltv`` and
        ``liquidation_threshold``).

        A path names a field with dots. Lists of named things (``assets``, ``venues``,
        ``oracles``, ``protocols``) are indexed by the element's ``name`` (or a 0-based index):
        ``protocols.aave.params.WETH.liquidation_threshold`` (``assets`` is accepted for
        ``params`` inside a protocol), ``venues.weth-usdc-pool.reserve_asset``,
        ``simulation.steps``, ``protocols.comet.config.base_borrow_min``. A missing table on the
        way is created (``liquidators.gas_cost`` in a file without ``[liquidators]``), except an
        optional section that switches something on (``mechanisms.throttle``): set that table
        itself first (``s.set("mechanisms.throttle", {})``). ``None`` removes the field (back to
        its default).
        """
        edits = dict(path) if isinstance(path, Mapping) else {path: value}
        if not edits:
            return self
        data = copy.deepcopy(self._data)
        full = self._model.model_dump(mode="python")
        for p, v in edits.items():
            _assign(data, full, p, _plain(v), self.source)
        out = Scenario(data, self.base_dir, self.source)
        return out

    def copy(self) -> "Scenario":
        return Scenario(self._data, self.base_dir, self.source)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Scenario):
            return NotImplemented
        return self._model == other._model and self.base_dir == other.base_dir

    __hash__ = None  # mutable-looking value object: compare, don't hash (use .hash)

    def __repr__(self) -> str:
        sc = self._model
        n_pos = ", ".join(f"{p.name} [{p.kind}]" for p in sc.protocols)
        src = f" from {self.source}" if self.source else ""
        return (f"<Scenario {sc.name!r}{src}: {len(sc.assets)} asset(s), {len(sc.venues)} venue(s), "
                f"protocols {n_pos}; {sc.simulation.steps} steps × {sc.simulation.paths} path(s), "
                f"seed {sc.simulation.seed}>")


# ---- helpers ---------------------------------------------------------------------------------


def _plain(v):
    """Numpy scalars and arrays, tuples → plain Python (TOML and JSON friendly)."""
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, Path):
        return str(v)
    tolist = getattr(v, "tolist", None)
    if callable(tolist) and not isinstance(v, (str, bytes)):
        return _plain(tolist())
    return v


def _split(path, source) -> list[str]:
    if not isinstance(path, str) or not path or any(not p for p in path.split(".")):
        raise InputError(source, str(path), "expected a dotted field path such as price.sigma")
    return path.split(".")


def _step(cur, part: str, parts: list[str], i: int, source):
    """One step of a path in the full (validated, dumped) scenario: ``(container, key)``."""
    where = ".".join(parts[: i + 1])
    full_path = ".".join(parts)
    if isinstance(cur, list):
        for j, el in enumerate(cur):
            if isinstance(el, dict) and el.get("name") == part:
                return cur, j
        if part.isdigit() and int(part) < len(cur):
            return cur, int(part)
        names = [str(el.get("name")) for el in cur if isinstance(el, dict)]
        raise InputError(source, full_path, f"no element named {part!r} at {where} (have: {', '.join(names) or 'none'})")
    if isinstance(cur, dict):
        if part == _PARAMS_ALIAS and part not in cur and "params" in cur and "positions" in cur:
            return cur, "params"
        if part in cur:
            return cur, part
        if i == len(parts) - 1 and i >= 1 and parts[i - 1] == "config":
            return cur, part  # a unit protocol's `config` override, validated by its family model
        import difflib

        near = difflib.get_close_matches(part, [str(k) for k in cur], n=1)
        hint = f"did you mean {near[0]!r}? " if near else ""
        at = f" in {'.'.join(parts[:i])}" if i else ""
        raise InputError(source, full_path, f"unknown field {part!r}{at} ({hint}have: {', '.join(map(str, cur)) or 'none'})")
    if cur is None and i >= 1:
        table = ".".join(parts[:i])
        raise InputError(source, full_path, f"{table} is not set in this scenario (set the table first, "
                         f"e.g. .set({table!r}, {{}}))")
    raise InputError(source, full_path, f"{'.'.join(parts[:i])!r} is a value, not a table")


def _assign(data: dict, full: dict, path: str, value, source) -> None:
    """Write ``value`` at ``path`` into the as-written ``data``, walking the full scenario
    ``full`` alongside to check the path against the schema."""
    parts = _split(path, source)
    raw, cur = data, full
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        cont, key = _step(cur, part, parts, i, source)
        if last:
            if isinstance(raw, list):
                raw[key] = value
            elif value is None:
                raw.pop(key, None)
            else:
                raw[key] = value
            return
        nxt = cont[key] if not (isinstance(cont, dict) and key not in cont) else None
        if isinstance(raw, list):
            raw_next = raw[key]
        else:
            if key not in raw or raw[key] is None:
                if nxt is None:
                    table = ".".join(parts[: i + 1])
                    raise InputError(source, path, f"{table} is not set in this scenario (set the table first, "
                                     f"e.g. .set({table!r}, {{}}))")
                if isinstance(nxt, dict):
                    raw[key] = {}
                else:
                    raise InputError(source, path, f"{'.'.join(parts[: i + 1])!r} is not a table")
            raw_next = raw[key]
        raw, cur = raw_next, nxt


def _rebase(data: dict, old: Path, new: Path) -> None:
    """Rewrite relative file names in ``data`` from folder ``old`` to folder ``new``."""

    def fix(name):
        if not isinstance(name, str) or name.startswith("synth:") or name == "-" or Path(name).is_absolute():
            return name
        return os.path.relpath(old / name, new)

    for pr in data.get("protocols", []) or []:
        if isinstance(pr, dict) and "positions" in pr:
            pr["positions"] = fix(pr["positions"])
    price = data.get("price")
    if isinstance(price, dict):
        for k in ("file", "returns_file"):
            v = price.get(k)
            if isinstance(v, str):
                price[k] = fix(v)
            elif isinstance(v, list):
                price[k] = [fix(x) for x in v]
            elif isinstance(v, dict):
                price[k] = {a: fix(x) for a, x in v.items()}


def file_refs(data: dict) -> list[tuple[str, str]]:
    """``(where, name)`` of every file name in a scenario's tables (positions, price files)."""
    out = []
    for i, pr in enumerate(data.get("protocols", []) or []):
        if isinstance(pr, dict) and isinstance(pr.get("positions"), str):
            out.append((f"protocols[{i}].positions", pr["positions"]))
    price = data.get("price")
    if isinstance(price, dict):
        for k in ("file", "returns_file"):
            v = price.get(k)
            if isinstance(v, str):
                out.append((f"price.{k}", v))
            elif isinstance(v, list):
                out += [(f"price.{k}[{j}]", x) for j, x in enumerate(v) if isinstance(x, str)]
            elif isinstance(v, dict):
                out += [(f"price.{k}.{a}", x) for a, x in v.items() if isinstance(x, str)]
    return out


def load(path: str | os.PathLike) -> Scenario:
    """Read and validate a scenario TOML file: ``lc.load("examples/minimal.toml")``."""
    return Scenario.load(path)

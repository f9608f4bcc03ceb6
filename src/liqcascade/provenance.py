"""What every result records about where it came from: package version, schema version, seed and
a hash of the scenario (a leaf module: it imports nothing from the engine).

The *scenario hash* is the SHA-256 of the canonical JSON (sorted keys, no spaces) of
``{"scenario": <the validated scenario, every field with its default>, "files": {<file named in
the scenario>: <SHA-256 of its bytes>}}`` — the same definition the Monte Carlo runner uses for a
run's ``scenario_hash``, so a result and a stored run of the same scenario (same paths and seed)
carry the same hash.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
from pathlib import Path

#: version of the layout of result dictionaries (``to_dict``), tables and their metadata;
#: raised whenever a key or a column changes meaning or is removed
SCHEMA_VERSION = 1


def package_version() -> str:
    from . import __version__

    return __version__


def canonical_json(obj) -> str:
    """Sorted keys, no spaces, ``Infinity``/``NaN`` allowed; numpy scalars as Python numbers."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_jdefault, allow_nan=True)


def _jdefault(o):
    item = getattr(o, "item", None)  # numpy scalars, without importing numpy here
    if callable(item):
        return item()
    if isinstance(o, tuple):
        return list(o)
    return str(o)


def scenario_files(sc) -> list[str]:
    """Every file a validated scenario reads: position files (not ``synth:`` books or ``-``),
    the ``historical`` price file(s) and the ``garch``/``bootstrap`` return files."""
    files = []
    for pr in sc.protocols:
        if not pr.positions.startswith("synth:") and pr.positions != "-":
            files.append(pr.positions)
    for f in (sc.price.file if sc.price.kind == "historical" else None,
              sc.price.returns_file if sc.price.kind in ("garch", "bootstrap") else None):
        if isinstance(f, str):
            files.append(f)
        elif isinstance(f, list):
            files.extend(x for x in f if x)
        elif isinstance(f, dict):
            files.extend(x for x in f.values() if x)
    flow = getattr(sc, "flow", None)
    if flow is not None:
        files.append(flow.file)
    return files


def file_digests(sc, base_dir) -> dict:
    """``{name: SHA-256 of the file}`` for :func:`scenario_files` (``None`` for a file that cannot
    be read), names resolved against ``base_dir``."""
    out = {}
    for name in scenario_files(sc):
        p = Path(name)
        if not p.is_absolute():
            p = Path(base_dir) / p
        try:
            h = hashlib.sha256()
            with open(p, "rb") as fh:  # in blocks: a 10M-position book is not read into memory at once
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            out[name] = h.hexdigest()
        except OSError:
            out[name] = None
    return out


def scenario_hash(sc, base_dir) -> str:
    """The scenario hash of a validated :class:`~liqcascade.scenario.models.Scenario` (see the
    module docstring)."""
    d = sc.model_dump(mode="python")
    text = canonical_json({"scenario": d, "files": file_digests(sc, base_dir)})
    return hashlib.sha256(text.encode()).hexdigest()


#: what results depend on: these packages (every file, unit folders included) and modules
_CODE_DIRS = ("kernels", "engine", "flow", "oracles", "positions", "prices", "protocols", "scenario", "venues")
_CODE_FILES = ("strict.py", "timebase.py", "montecarlo/chunk.py")


def compute_code_version() -> str:
    """``<package version>+<hash of the simulation sources>``: every ``.py`` file of
    ``_CODE_DIRS`` (recursively: the units' folders too) and ``_CODE_FILES``.
    ``LIQCASCADE_CODE_VERSION`` pins it."""
    from . import __version__

    pinned = os.environ.get("LIQCASCADE_CODE_VERSION")
    if pinned:
        return pinned
    root = Path(__file__).resolve().parent
    files = [p for d in _CODE_DIRS for p in sorted((root / d).rglob("*.py")) if "__pycache__" not in p.parts]
    files += [root / f for f in _CODE_FILES]
    h = hashlib.sha1()
    for f in files:
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return f"{__version__}+{h.hexdigest()[:10]}"


@functools.lru_cache(maxsize=4)
def _code_version(pinned: str | None) -> str:
    return compute_code_version()


def code_version() -> str:
    """Package version + hash of the simulation sources (:func:`compute_code_version`),
    computed once per process (and per ``LIQCASCADE_CODE_VERSION`` pin)."""
    return _code_version(os.environ.get("LIQCASCADE_CODE_VERSION"))


def record(kind: str, sc, base_dir, *, seed: int | None, scenario_hash_: str | None = None, **extra) -> dict:
    """The provenance block of a result: kind, scenario name and hash, seed, package and schema
    versions, the code version (package version + hash of the simulation sources) and ``extra``."""
    out = {
        "kind": kind,
        "scenario": sc.name,
        "scenario_hash": scenario_hash_ or scenario_hash(sc, base_dir),
        "seed": None if seed is None else int(seed),
        "package_version": package_version(),
        "schema_version": SCHEMA_VERSION,
        "code_version": code_version(),
    }
    for k, v in extra.items():
        out[k] = v
    return out


def of_scenario(kind: str, sc, base_dir, *, seed: int | None, **extra) -> dict:
    """:func:`record` for the engine's own results (``liqcascade run/curve --json``,
    ``summary.json``, Parquet metadata, reports); the hash is computed once per scenario object."""
    key = (id(sc), str(base_dir))
    h = _HASHES.get(key)
    if h is None or h[0] is not sc:
        h = (sc, scenario_hash(sc, base_dir))
        if len(_HASHES) > 32:
            _HASHES.clear()
        _HASHES[key] = h
    return record(kind, sc, base_dir, seed=seed, scenario_hash_=h[1], **extra)


_HASHES: dict = {}


def clean(x):
    """A JSON-friendly copy: NaN and infinities become ``None``, numpy values plain Python."""
    if isinstance(x, dict):
        return {str(k): clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    tolist = getattr(x, "tolist", None)
    if callable(tolist) and not isinstance(x, (str, bytes)):
        return clean(tolist())
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x

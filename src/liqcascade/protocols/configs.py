"""A unit's configuration: its preset, updated with the scenario's ``config`` table, validated by
the family's model (``CONFIG`` in ``protocols/<family>/model.py``, found through the registry)."""

from __future__ import annotations

from pydantic import ValidationError

from liqcascade.protocols import module


def unit_config(kind: str, preset: str | None, config: dict):
    """A unit's validated configuration: its ``preset`` (if any) updated with ``config``.

    Raises ``ValueError`` naming the field (``config.<field>: ...`` or ``preset: ...``); the
    scenario turns it into an input error with the file and the protocol's place."""
    mod = module(kind, "model")
    data: dict = {}
    if preset is not None:
        if preset not in mod.PRESETS:
            raise ValueError(f"preset: unknown {kind} preset {preset!r} (known: {', '.join(mod.PRESETS)})")
        p = mod.PRESETS[preset]
        data = p.model_dump() if hasattr(p, "model_dump") else dict(p)
    data = _deep_update(data, config)
    try:
        return mod.CONFIG.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err.get("loc", ()) if not (isinstance(x, str) and "-" in x))
        msg = err.get("msg", "invalid")
        if err.get("type") == "extra_forbidden":
            msg = f"unknown key for a {kind} protocol"
        raise ValueError(f"config.{loc}: {msg}" if loc else f"config: {msg}") from None


def _deep_update(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_update(out[k], v)
        else:
            out[k] = v
    return out

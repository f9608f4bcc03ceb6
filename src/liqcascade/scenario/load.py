"""Load and validate a scenario file, turning every failure into an :class:`InputError`."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import ValidationError

from ..errors import InputError
from ..flashloans import SOURCES as flash_sources
from ..protocols import UNITS as protocol_kinds
from .models import Scenario


_UNION_TAGS = set(protocol_kinds) | set(flash_sources)  # the tags of the discriminated unions


def _loc(loc) -> str:
    out = ""
    prev = None
    for part in loc:
        if isinstance(part, str) and ("-" in part or "[" in part):
            continue  # pydantic's names for union members ("constrained-float"), not fields
        if isinstance(part, str) and isinstance(prev, int) and part in _UNION_TAGS:
            prev = part
            continue  # the protocol-kind tag of a discriminated union
        prev = part
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _models_in(annotation) -> list:
    """The pydantic model classes an annotation can hold (through Optional, Union, list, dict,
    Annotated)."""
    import typing

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out = []
    for a in typing.get_args(annotation):
        out += _models_in(a)
    return out


def known_keys(loc) -> list[str]:
    """The field names allowed where ``loc`` (a pydantic error location) ends: the fields of the
    model(s) holding the last part."""
    models = [Scenario]
    for part in loc[:-1]:
        if isinstance(part, int) or not models:
            continue
        nxt = []
        for m in models:
            f = m.model_fields.get(part) if isinstance(part, str) else None
            if f is not None:
                nxt += _models_in(f.annotation)
        if nxt:
            models = nxt
        elif isinstance(part, str) and part in _UNION_TAGS:
            models = [m for m in models if "kind" in m.model_fields] or models
        # otherwise a dict key (an asset name): stay on the dict's value models
    keys = []
    for m in models:
        keys += [k for k in m.model_fields if k not in keys]
    return keys


def _unknown_key_message(err: dict) -> tuple[str, str | None]:
    """The message for an unknown key and the key it probably meant (or None)."""
    import difflib

    loc = err.get("loc", ())
    key = str(loc[-1]) if loc else "?"
    have = known_keys(loc)
    near = difflib.get_close_matches(key, have, n=1, cutoff=0.6)
    hint = f"did you mean {near[0]!r}? " if near else ""
    return f"unknown key {key!r} ({hint}allowed here: {', '.join(have) or 'none'})", (near[0] if near else None)


def validate_dict(data: dict, file: str | None = None) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        errs = exc.errors()
        # an unknown key first: a misspelt key also makes its correct name "missing"
        extra = [e for e in errs if e.get("type") == "extra_forbidden"]
        err = extra[0] if extra else errs[0]
        where = _loc(err.get("loc", ())) or "scenario"
        msg = err.get("msg", "invalid")
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
            m = re.match(r"^([A-Za-z_][\w.\[\]]*): (.*)$", msg, re.S)
            if m and where == "scenario":
                where, msg = m.group(1), m.group(2)
        if err.get("type") == "extra_forbidden":
            msg, meant = _unknown_key_message(err)
            # the key it meant is "missing" because of the typo: not another problem
            parent = tuple(err.get("loc", ()))[:-1]
            errs = [e for e in errs if not (e.get("type") == "missing" and tuple(e.get("loc", ()))[:-1] == parent
                                            and str(e["loc"][-1]) == meant)]
        elif err.get("type") == "missing":
            msg = "required field is missing"
        more = len(errs) - 1
        if more:
            msg += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise InputError(file, where, msg) from None


def read_scenario_text(path: str | Path) -> tuple[str, Path]:
    """The text of the scenario file ``path`` and its path (an existing file, UTF-8)."""
    p = Path(path)
    if not p.exists():
        raise InputError(str(p), None, "file not found")
    if p.is_dir():
        raise InputError(str(p), None, "is a directory, expected a .toml scenario file")
    try:
        return p.read_text(encoding="utf-8"), p
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(p), None, f"cannot read: {exc}") from None


def parse_toml(text: str, source: str | None) -> dict:
    """The tables of scenario TOML ``text`` (``source``: the file name for messages)."""
    if not text.strip():
        raise InputError(source, None, "empty file")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(source, None, f"malformed TOML: {exc}") from None


def load_scenario(path: str | Path) -> tuple[Scenario, Path]:
    """Read and validate ``path``; return the scenario and the folder relative paths use."""
    text, p = read_scenario_text(path)
    return validate_dict(parse_toml(text, str(p)), str(p)), p.resolve().parent

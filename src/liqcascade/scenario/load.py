"""Load and validate a scenario file, turning every failure into an :class:`InputError`."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import ValidationError

from ..errors import InputError
from ..protocols import UNITS as protocol_kinds
from .models import Scenario


_UNION_TAGS = set(protocol_kinds)  # the tags of the protocols' discriminated union


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


def validate_dict(data: dict, file: str | None = None) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _loc(err.get("loc", ())) or "scenario"
        msg = err.get("msg", "invalid")
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
            m = re.match(r"^([A-Za-z_][\w.\[\]]*): (.*)$", msg, re.S)
            if m and where == "scenario":
                where, msg = m.group(1), m.group(2)
        if err.get("type") == "extra_forbidden":
            msg = "unknown key (not part of the scenario schema)"
        elif err.get("type") == "missing":
            msg = "required field is missing"
        more = len(exc.errors()) - 1
        if more:
            msg += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise InputError(file, where, msg) from None


def load_scenario(path: str | Path) -> tuple[Scenario, Path]:
    """Read and validate ``path``; return the scenario and the folder relative paths use."""
    p = Path(path)
    if not p.exists():
        raise InputError(str(p), None, "file not found")
    if p.is_dir():
        raise InputError(str(p), None, "is a directory, expected a .toml scenario file")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(p), None, f"cannot read: {exc}") from None
    if not text.strip():
        raise InputError(str(p), None, "empty file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(str(p), None, f"malformed TOML: {exc}") from None
    return validate_dict(data, str(p)), p.resolve().parent

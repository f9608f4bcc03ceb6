"""Write plain data (dicts, lists, strings, numbers, booleans) as TOML that ``tomllib`` reads back
to the same data. Only what scenario files hold: no dates, no ``None`` (a ``None`` is left out,
which is how a scenario says "the default")."""

from __future__ import annotations

import json
import math
import re

_BARE = re.compile(r"[A-Za-z0-9_-]+")  # whole key (fullmatch): "$" would accept a trailing newline


def dumps(data: dict) -> str:
    lines: list[str] = []
    _table(lines, [], data, header=False)
    while lines and lines[0] == "":
        lines.pop(0)
    return "\n".join(lines) + "\n"


def _key(k) -> str:
    k = str(k)
    return k if _BARE.fullmatch(k) else _string(k)


def _string(s: str) -> str:
    out = json.dumps(s, ensure_ascii=False)
    return out.replace("\x7f", "\\u007f")  # TOML refuses DEL in basic strings; JSON leaves it raw


def _scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    item = getattr(v, "item", None)  # numpy scalars
    if callable(item):
        return _scalar(item())
    raise TypeError(f"cannot write {type(v).__name__} {v!r} as TOML")


def _inline(v) -> str:
    if isinstance(v, dict):
        parts = [f"{_key(k)} = {_inline(x)}" for k, x in v.items() if x is not None]
        return "{ " + ", ".join(parts) + " }" if parts else "{}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_inline(x) for x in v) + "]"
    return _scalar(v)


def _is_table_array(v) -> bool:
    return isinstance(v, (list, tuple)) and len(v) > 0 and all(isinstance(x, dict) for x in v)


def _table(lines: list[str], path: list[str], d: dict, header: bool, array: bool = False) -> None:
    simple = [(k, v) for k, v in d.items() if v is not None and not isinstance(v, dict) and not _is_table_array(v)]
    tables = [(k, v) for k, v in d.items() if isinstance(v, dict)]
    arrays = [(k, v) for k, v in d.items() if _is_table_array(v)]
    name = ".".join(_key(p) for p in path)
    if array:
        lines += ["", f"[[{name}]]"]
    elif header and (simple or not (tables or arrays)):
        lines += ["", f"[{name}]"]
    for k, v in simple:
        lines.append(f"{_key(k)} = {_inline(v)}")
    for k, v in tables:
        _table(lines, path + [str(k)], v, header=True)
    for k, v in arrays:
        for el in v:
            _table(lines, path + [str(k)], el, header=True, array=True)

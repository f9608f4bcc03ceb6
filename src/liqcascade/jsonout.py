"""JSON that every command prints or writes: strict JSON, never ``NaN`` or ``Infinity``.

``json.dumps`` writes the non-standard tokens ``NaN``, ``Infinity`` and ``-Infinity`` for
non-finite floats, which strict parsers (browsers' ``JSON.parse``, jq, most other languages)
refuse. Here a non-finite number becomes ``null`` — a value that is undefined (an
amplification without a shock, a confidence interval from too few paths, a recovery that never
happened) — and numpy scalars and arrays, paths and dates become plain JSON. ``allow_nan=False``
then guarantees that nothing non-finite slips through. A leaf module (no package imports).
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any


def plain(o: Any) -> Any:
    """``o`` with numpy values, tuples, paths and dates made plain and non-finite floats ``None``."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if o is None or isinstance(o, (str, bool, int)):
        return o
    if isinstance(o, dict):
        return {str(plain(k)): plain(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [plain(v) for v in o]
    np = sys.modules.get("numpy")  # numpy values can only exist once numpy is imported
    if np is not None and isinstance(o, (np.ndarray, np.generic)):
        return plain(o.tolist())
    import datetime as _dt
    from pathlib import PurePath

    if isinstance(o, PurePath):
        return str(o)
    if isinstance(o, (_dt.datetime, _dt.date)):
        return o.isoformat()
    if isinstance(o, (set, frozenset)):
        return [plain(v) for v in sorted(o, key=str)]
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def scalars(x: Any) -> Any:
    """``x`` with numpy scalars made Python numbers and non-finite floats ``None``, through dicts
    (keys made strings), lists and tuples (made lists); anything else (arrays included) is left
    as it is. The lenient sibling of :func:`plain`, for results that are still used in Python
    before they are written."""
    if isinstance(x, dict):
        return {str(k): scalars(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [scalars(v) for v in x]
    np = sys.modules.get("numpy")
    if np is not None and isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def dumps(obj: Any, **kw) -> str:
    """``json.dumps`` of :func:`plain` ``(obj)`` with ``allow_nan=False`` (``kw``: ``indent``,
    ``sort_keys`` …; no ``default``: :func:`plain` already made everything plain)."""
    return json.dumps(plain(obj), allow_nan=False, **kw)

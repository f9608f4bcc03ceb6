"""The two shapes every API result hands out: a :class:`Table` (columns of equal length, Arrow on
demand, ``.to_polars()`` / ``.to_pandas()``) and a :class:`Summary` (a rich table that prints as
plain text where there is no terminal, e.g. in a notebook).

pyarrow, polars and pandas are imported only by the methods that return their objects.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

PLAIN_WIDTH = 110  # characters of a plain-text rendering (at least)
MAX_PLAIN_WIDTH = 240  # … and at most, when a wide table needs more


def _extra(pkg: str, extra: str) -> ImportError:
    return ImportError(f"{pkg} is not installed: pip install 'liqcascade[{extra}]'")


class Table:
    """Named columns of equal length (NumPy arrays or lists), with the result's provenance.

    ``t["column"]`` is a NumPy array; ``t.to_arrow()`` a ``pyarrow.Table`` whose schema metadata
    holds the provenance under ``b"liqcascade"`` (JSON); ``t.to_polars()`` and ``t.to_pandas()``
    convert through Arrow. ``len(t)`` is the number of rows.
    """

    def __init__(self, columns: Mapping[str, Any], name: str = "", meta: Mapping | None = None,
                 units: Mapping[str, str] | None = None):
        import numpy as np

        cols = {}
        n = None
        for k, v in columns.items():
            a = np.asarray(v)
            if a.ndim != 1:
                raise ValueError(f"column {k!r} is not one-dimensional")
            if a.dtype == object:
                a = a.astype(str)
            if n is None:
                n = a.shape[0]
            elif a.shape[0] != n:
                raise ValueError(f"column {k!r} has {a.shape[0]} rows, expected {n}")
            cols[str(k)] = a
        self._cols = cols
        self._n = n or 0
        self.name = name
        self.meta = dict(meta or {})
        self.units = dict(units or {})
        self._arrow = None

    @property
    def columns(self) -> list[str]:
        return list(self._cols)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, column: str):
        try:
            return self._cols[column]
        except KeyError:
            raise KeyError(f"no column {column!r} in {self.name or 'this table'} (have: {', '.join(self._cols)})") from None

    def __contains__(self, column: str) -> bool:
        return column in self._cols

    def to_arrow(self):
        """A ``pyarrow.Table`` (made once); provenance and units in the schema metadata."""
        if self._arrow is None:
            try:
                import pyarrow as pa
            except ImportError:
                raise _extra("pyarrow", "store") from None
            md = {b"liqcascade": json.dumps({"table": self.name, **self.meta, "units": self.units},
                                            default=str).encode()}
            self._arrow = pa.table(self._cols).replace_schema_metadata(md)
        return self._arrow

    def to_polars(self):
        """A ``polars.DataFrame`` (through Arrow)."""
        try:
            import polars as pl
        except ImportError:
            raise _extra("polars", "polars") from None
        return pl.from_arrow(self.to_arrow())

    def to_pandas(self):
        """A ``pandas.DataFrame`` (through Arrow)."""
        try:
            import pandas  # noqa: F401
        except ImportError:
            raise _extra("pandas", "pandas") from None
        return self.to_arrow().to_pandas()

    def to_dicts(self) -> list[dict]:
        """One JSON-friendly dict per row (NaN as ``None``)."""
        from ..provenance import clean

        names = self.columns
        lists = [clean(self._cols[c].tolist()) for c in names]
        return [dict(zip(names, row)) for row in zip(*lists)] if names else []

    def summary(self, max_rows: int = 20) -> "Summary":
        rows = []
        for i in range(min(self._n, max_rows)):
            rows.append([_cell(self._cols[c][i]) for c in self._cols])
        foot = [f"{self._n - max_rows:,} more row(s)"] if self._n > max_rows else []
        right = [self._cols[c].dtype.kind in "iufb" for c in self._cols]
        return Summary(self.name or "table", self.columns, rows, foot, right=right)

    def __repr__(self) -> str:
        return f"<Table {self.name or ''} {self._n:,} rows × {len(self._cols)} columns: {', '.join(self._cols)}>"

    def _repr_pretty_(self, p, cycle):  # IPython / Jupyter: the first rows as plain text
        p.text(str(self.summary()))

    def __rich__(self):
        return self.summary().__rich__()


def _cell(v) -> str:
    if isinstance(v, (bool,)) or type(v).__name__ == "bool_":
        return str(bool(v))
    if isinstance(v, str):
        return v
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(f):
        return "-"
    if float(f).is_integer() and abs(f) < 1e15:
        return f"{int(f):,}"
    if abs(f) >= 100:
        return f"{f:,.2f}"
    return f"{f:.6g}"


class Summary:
    """A titled table of text cells with lines under it.

    Printed with rich (``rich.print(s)`` or a rich console) it is a rich table; ``str(s)`` —
    and its display in a notebook or a plain REPL — is the same table as plain text, no colour
    codes. ``s.to_dict()`` gives the cells.
    """

    def __init__(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]],
                 footer: Sequence[str] = (), right: Sequence[bool] | None = None):
        self.title = title
        self.columns = list(columns)
        self.rows = [list(map(str, r)) for r in rows]
        self.footer = list(footer)
        self.right = list(right) if right is not None else [i > 0 for i in range(len(self.columns))]

    def _table(self):
        from rich.markup import escape
        from rich.table import Table as RTable

        t = RTable(title=escape(self.title))
        for c, r in zip(self.columns, self.right):
            t.add_column(escape(c), justify="right" if r else "left")
        for row in self.rows:
            t.add_row(*[escape(x) for x in row])
        return t

    def __rich__(self):
        from rich.console import Group
        from rich.text import Text

        return Group(self._table(), *[Text(line, style="dim") for line in self.footer])

    def to_text(self, width: int = PLAIN_WIDTH) -> str:
        import io

        from rich.console import Console

        def console(w, buf):
            return Console(file=buf, width=w, color_system=None, force_terminal=False, force_jupyter=False,
                           legacy_windows=False, soft_wrap=False, emoji=False, highlight=False)

        # as wide as the table needs (up to MAX_PLAIN_WIDTH), so columns are not cut
        need = console(MAX_PLAIN_WIDTH, io.StringIO()).measure(self._table()).maximum
        buf = io.StringIO()
        con = console(max(width, min(need, MAX_PLAIN_WIDTH)), buf)
        con.print(self)
        return "\n".join(line.rstrip() for line in buf.getvalue().splitlines())

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_pretty_(self, p, cycle):
        p.text(self.to_text())

    def to_dict(self) -> dict:
        return {"title": self.title, "columns": self.columns, "rows": self.rows, "footer": self.footer}

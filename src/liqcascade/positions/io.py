"""Read and write position files (CSV or Parquet).

Two layouts, told apart by the header:

*wide* — ``id,collateral,debt``
    One row per position; every position holds one collateral asset and one debt asset, both
    named by the caller (``assets=[collateral_asset, debt_asset]``). Amounts are asset units.

*long* — ``id,asset,collateral,debt``
    One row per (position, asset): the collateral and the debt that position holds in that
    asset. A position may span several rows, so it can hold several collateral and several debt
    assets. Rows of one position need not be adjacent.

Columns may come in any order; names are matched after stripping spaces, case-insensitively.
No other column is accepted. The file type follows the extension: ``.csv`` or ``.parquet`` /
``.pq``. A file with a header and no rows is a valid, empty table.

Every problem with the file raises :class:`liqcascade.errors.InputError` naming the file and
the place: ``line N, column 'c'`` for CSV (physical line, 1-based, the header is line 1) and
``row N, column 'c'`` for Parquet (``N`` is the 0-based data row index, as pyarrow counts).
Rejected: a missing or unreadable file; an empty file; a missing header or wrong columns;
a missing, non-numeric, NaN, infinite or negative amount; an empty id; a duplicate id (wide) or
duplicate (id, asset) pair (long); an asset name not in ``assets`` (long, when given).
A position whose collateral and debt are all zero is accepted and counted in ``n_empty``.

Reading goes through pyarrow (a core dependency), batch by batch, straight into the float64
arrays the engine uses: memory grows by the 16 B of amounts per position (wide), plus, only when
``keep_ids`` is set, the ids as one Arrow string array. Ids are checked (present, no surrounding
whitespace, unique) through 64-bit hashes (:mod:`liqcascade.kernels.ids`), never as one Python
string per position. A file that this fast path does not accept as it stands — any problem
above, and also valid but unusual input such as ids with surrounding spaces, numbers written
with spaces or ``_``, whitespace-only lines — is read again by the exact reader (Python's
``csv`` module), which gives the messages above or the same table. So every message and every
accepted file is as the exact reader has it; the fast path only decides how quickly.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from liqcascade.atomic import atomic_path
from liqcascade.errors import InputError
from liqcascade.positions.ids import PositionIds

__all__ = ["PositionTable", "load_positions", "write_positions", "WIDE_COLUMNS", "LONG_COLUMNS"]

WIDE_COLUMNS = ("id", "collateral", "debt")
LONG_COLUMNS = ("id", "asset", "collateral", "debt")
_AMOUNT_COLUMNS = ("collateral", "debt")
_CSV_EXT = (".csv",)
_PARQUET_EXT = (".parquet", ".pq")
_DEFAULT_WIDE_ASSETS = ("collateral", "debt")


@dataclass(frozen=True, eq=False)
class PositionTable:
    """Positions as NumPy arrays; position ``i`` is ``ids[i]`` (file order of first appearance).

    Attributes
    ----------
    ids : PositionIds, n entries
        The original ids, as text (a Parquet integer id ``7`` becomes ``"7"``), held compactly
        (:class:`liqcascade.positions.ids.PositionIds`); absent when the file was read with
        ``keep_ids=False``.
    assets : tuple of str
        Asset names. Wide: ``(collateral_asset, debt_asset)``. Long: the caller's ``assets`` list
        when given (so ``asset`` indexes into it), otherwise the names in order of first appearance.
    wide : bool
        Layout of the arrays below.
    collateral, debt : ndarray float64
        Asset units, finite and >= 0. Wide: shape (n,), position ``i`` holds ``collateral[i]`` of
        ``assets[0]`` and owes ``debt[i]`` of ``assets[1]``. Long: shape (nnz,), one entry per
        (position, asset) row, grouped by position (CSR): the entries of position ``i`` are
        ``ptr[i]:ptr[i+1]``, in file order.
    ptr : ndarray int64, shape (n+1,), or None
        Long only: CSR row pointer.
    asset : ndarray int64, shape (nnz,), or None
        Long only: index into ``assets`` of each entry.
    n_empty : int
        Number of positions whose collateral and debt are all zero (allowed, counted).
    source : str or None
        The file the table was read from.
    """

    ids: PositionIds
    assets: tuple[str, ...]
    wide: bool
    collateral: np.ndarray
    debt: np.ndarray
    ptr: np.ndarray | None = None
    asset: np.ndarray | None = None
    n_empty: int = 0
    source: str | None = None

    @property
    def n(self) -> int:
        """Number of positions."""
        return len(self.ids)

    @property
    def nnz(self) -> int:
        """Number of (position, asset) entries (wide: ``n``)."""
        return int(self.collateral.shape[0])

    def __len__(self) -> int:
        return self.n

    def __post_init__(self) -> None:
        if not isinstance(self.ids, PositionIds):
            object.__setattr__(self, "ids", PositionIds.from_values(self.ids))
        n = len(self.ids)
        if self.collateral.shape != self.debt.shape:
            raise ValueError("collateral and debt must have the same shape")
        if self.wide:
            if self.ptr is not None or self.asset is not None:
                raise ValueError("a wide table has no ptr/asset arrays")
            if self.collateral.shape != (n,):
                raise ValueError("wide: collateral and debt must have one entry per id")
            if len(self.assets) != 2:
                raise ValueError("wide: assets must be (collateral_asset, debt_asset)")
        else:
            if self.ptr is None or self.asset is None:
                raise ValueError("a long table needs ptr and asset arrays")
            if self.ptr.shape != (n + 1,) or self.asset.shape != self.collateral.shape:
                raise ValueError("long: ptr must have n+1 entries and asset one per entry")

    # -- constructors -------------------------------------------------------------------------

    @classmethod
    def from_wide(
        cls,
        collateral,
        debt,
        ids=None,
        assets: Sequence[str] = _DEFAULT_WIDE_ASSETS,
    ) -> "PositionTable":
        """Build a wide table from amounts (ids default to ``"0" .. "n-1"``)."""
        c = np.ascontiguousarray(collateral, dtype=np.float64)
        d = np.ascontiguousarray(debt, dtype=np.float64)
        if c.ndim != 1 or c.shape != d.shape:
            raise ValueError("collateral and debt must be 1-D arrays of the same length")
        _check_amounts_array(c, "collateral")
        _check_amounts_array(d, "debt")
        ids_arr = _ids_array(ids, c.shape[0])
        if not isinstance(ids_arr, PositionIds) and len(set(ids_arr.tolist())) != ids_arr.shape[0]:
            raise ValueError("ids must be unique")
        return cls(
            ids=ids_arr,
            assets=tuple(str(a) for a in assets),
            wide=True,
            collateral=c,
            debt=d,
            n_empty=int(np.count_nonzero((c == 0.0) & (d == 0.0))),
        )

    def to_long(self) -> "PositionTable":
        """The same positions in long (CSR) layout; a long table is returned unchanged.

        Each wide position becomes two entries: ``(assets[0], collateral, 0)`` and
        ``(assets[1], 0, debt)`` (one entry when both assets have the same name).
        """
        if not self.wide:
            return self
        n = self.n
        if self.assets[0] == self.assets[1]:
            return PositionTable(
                ids=self.ids, assets=(self.assets[0],), wide=False,
                collateral=self.collateral.copy(), debt=self.debt.copy(),
                ptr=np.arange(n + 1, dtype=np.int64), asset=np.zeros(n, dtype=np.int64),
                n_empty=self.n_empty, source=self.source,
            )
        coll = np.zeros(2 * n)
        debt = np.zeros(2 * n)
        coll[0::2] = self.collateral
        debt[1::2] = self.debt
        asset = np.tile(np.array([0, 1], dtype=np.int64), n)
        return PositionTable(
            ids=self.ids, assets=self.assets, wide=False, collateral=coll, debt=debt,
            ptr=np.arange(0, 2 * n + 1, 2, dtype=np.int64), asset=asset,
            n_empty=self.n_empty, source=self.source,
        )


# ---------------------------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------------------------


def load_positions(path, assets: Sequence[str] | None = None, *, keep_ids: bool = True) -> PositionTable:
    """Read a position file (see the module docstring for formats and checks).

    ``assets``: wide files — ``[collateral_asset, debt_asset]`` (names only; default
    ``("collateral", "debt")``); long files — the allowed asset names, whose order defines the
    ``asset`` indices (a row naming any other asset is an error). ``None`` accepts any name.
    ``keep_ids``: False checks the ids but does not keep them (``table.ids`` is absent), for
    callers that report no position by name.
    """
    p = Path(path)
    fname = str(path)
    if assets is not None:
        assets = [str(a) for a in assets]
        if len(set(assets)) != len(assets):
            raise ValueError(f"assets contains duplicates: {assets}")
    ext = p.suffix.lower()
    if ext not in _CSV_EXT + _PARQUET_EXT:
        raise InputError(fname, None, f"unsupported file type {p.suffix!r}; expected .csv, .parquet or .pq")
    if not p.exists():
        raise InputError(fname, None, "file not found")
    if p.is_dir():
        raise InputError(fname, None, "is a directory, expected a file")
    try:
        size = p.stat().st_size
    except OSError as e:
        raise InputError(fname, None, f"cannot read file: {e.strerror or e}") from None
    if size == 0:
        raise InputError(fname, "line 1" if ext in _CSV_EXT else None,
                         "file is empty; expected a header " + _expected_text())
    from . import fastread

    table = fastread.read_positions(p, fname, assets, keep_ids)
    if table is not None:
        return table
    # the exact reader: every message, and the same table for valid files the fast path passed on
    if ext in _CSV_EXT:
        cols, rows = _read_csv(p, fname)
    else:
        cols, rows = _read_parquet(p, fname)
    table = _build(fname, cols, rows, assets)
    if not keep_ids:
        object.__setattr__(table, "ids", PositionIds.absent(table.n))
    return table


def _expected_text() -> str:
    return f"{','.join(WIDE_COLUMNS)} (wide) or {','.join(LONG_COLUMNS)} (long)"


def _layout_from_header(fname: str, where: str, found: list[str]) -> tuple[str, ...]:
    """Check a header; return the expected column tuple (wide or long)."""
    norm = [f.strip().lower() for f in found]
    shown = ",".join(found) if found else "(nothing)"
    if norm and all(_looks_numeric(f) for f in norm):
        raise InputError(fname, where,
                         f"header missing: the first line looks like data ({shown}); expected "
                         f"columns {_expected_text()}")
    expected = LONG_COLUMNS if "asset" in norm else WIDE_COLUMNS
    dups = sorted({c for c in norm if norm.count(c) > 1})
    missing = [c for c in expected if c not in norm]
    extra = [found[i] for i, c in enumerate(norm) if c not in expected]
    if dups or missing or extra:
        detail = []
        if missing:
            detail.append("missing " + ",".join(missing))
        if extra:
            detail.append("unexpected " + ",".join(extra))
        if dups:
            detail.append("repeated " + ",".join(dups))
        raise InputError(fname, where,
                         f"wrong columns: expected {_expected_text()}; found {shown} "
                         f"({'; '.join(detail)})")
    return expected


def _looks_numeric(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


class _Rows:
    """Column data as Python lists plus a way to name a data row in messages."""

    def __init__(self, columns: dict[str, list], labels, parquet: bool):
        self.columns = columns
        self._labels = labels  # CSV: list of line numbers; Parquet: None (row index)
        self.parquet = parquet

    def where(self, i: int, col: str) -> str:
        if self.parquet:
            return f"row {i}, column '{col}'"
        return f"line {self._labels[i]}, column '{col}'"

    def where_row(self, i: int) -> str:
        return f"row {i}" if self.parquet else f"line {self._labels[i]}"


def _read_csv(p: Path, fname: str) -> tuple[tuple[str, ...], _Rows]:
    try:
        fh = open(p, newline="", encoding="utf-8-sig")
    except OSError as e:
        raise InputError(fname, None, f"cannot open file: {e.strerror or e}") from None
    with fh:
        try:
            reader = csv.reader(fh)
            header = None
            for rec in reader:
                if rec and any(f.strip() for f in rec):
                    header = rec
                    break
            if header is None:
                raise InputError(fname, "line 1",
                                 "file is empty; expected a header " + _expected_text())
            header_line = f"line {reader.line_num}"
            expected = _layout_from_header(fname, header_line, header)
            norm = [h.strip().lower() for h in header]
            order = [norm.index(c) for c in expected]
            width = len(header)
            recs: list[list[str]] = []
            lines: list[int] = []
            for rec in reader:
                if len(rec) != width:
                    if not rec or (len(rec) == 1 and not rec[0].strip()):
                        continue  # blank line
                    raise InputError(fname, f"line {reader.line_num}",
                                     f"expected {width} fields ({','.join(header)}), found {len(rec)}")
                recs.append(rec)
                lines.append(reader.line_num)
        except UnicodeDecodeError as e:
            raise InputError(fname, None, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
        except csv.Error as e:
            raise InputError(fname, f"line {reader.line_num}", f"malformed CSV: {e}") from None
    by_pos = list(zip(*recs)) if recs else [() for _ in header]
    cols = {c: list(by_pos[j]) for c, j in zip(expected, order)}
    return expected, _Rows(cols, lines, parquet=False)


def _read_parquet(p: Path, fname: str) -> tuple[tuple[str, ...], _Rows]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError(fname, None, "reading Parquet needs pyarrow (pip install pyarrow)") from None
    try:
        table = pq.read_table(p)
    except (pa.ArrowException, OSError) as e:
        raise InputError(fname, None, f"not a readable Parquet file: {e}") from None
    names = list(table.column_names)
    expected = _layout_from_header(fname, "schema", names)
    norm = [n.strip().lower() for n in names]
    columns: dict[str, list] = {}
    for c in expected:
        col = table.column(norm.index(c))
        t = col.type
        if c in _AMOUNT_COLUMNS:
            numeric = pa.types.is_integer(t) or pa.types.is_floating(t)
            if not (numeric or pa.types.is_decimal(t) or pa.types.is_string(t)
                    or pa.types.is_large_string(t)):
                raise InputError(fname, f"column '{c}'", f"has type {t}; expected numbers")
            if numeric and col.null_count == 0:
                columns[c] = col.to_numpy().astype(np.float64, copy=False)
                continue
        columns[c] = col.to_pylist()
    return expected, _Rows(columns, None, parquet=True)


def _parse_amounts(fname: str, rows: _Rows, col: str) -> np.ndarray:
    vals = rows.columns[col]
    if isinstance(vals, np.ndarray):  # numeric Parquet column without nulls
        bad = np.flatnonzero(~np.isfinite(vals) | (vals < 0.0))
        if bad.size:
            i = int(bad[0])
            kind = "NaN" if np.isnan(vals[i]) else "infinite amount" if np.isinf(vals[i]) else "negative amount"
            raise InputError(fname, rows.where(i, col), f"{kind} is not allowed (got {vals[i]!r})")
        _check_bounds(fname, rows, col, vals)
        return vals
    try:
        arr = np.array(vals, dtype=np.float64)
    except (ValueError, TypeError):
        arr = None
    if arr is None or arr.shape != (len(vals),):
        arr = np.empty(len(vals))
        for i, v in enumerate(vals):
            if v is None or (isinstance(v, str) and not v.strip()):
                raise InputError(fname, rows.where(i, col), "missing value")
            try:
                arr[i] = float(v.strip() if isinstance(v, str) else v)
            except (ValueError, TypeError):
                raise InputError(fname, rows.where(i, col), f"not a number: {v!r}") from None
    bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0.0))
    if bad.size:
        i = int(bad[0])
        v = arr[i]
        if np.isnan(v):
            why = f"NaN is not allowed (got {vals[i]!r})" if rows.columns[col][i] is not None else "missing value"
        elif np.isinf(v):
            why = f"infinite amount is not allowed (got {vals[i]!r})"
        else:
            why = f"negative amount is not allowed (got {vals[i]!r})"
        raise InputError(fname, rows.where(i, col), why)
    _check_bounds(fname, rows, col, arr)
    return arr


def _check_bounds(fname: str, rows: "_Rows", col: str, arr: np.ndarray) -> None:
    """Amounts beyond what the engine's float64 arithmetic carries (:mod:`liqcascade.bounds`)."""
    from ..bounds import first_bad_amount

    bad = first_bad_amount(arr)
    if bad is not None:
        raise InputError(fname, rows.where(bad[0], col), bad[1])


def _parse_ids(fname: str, rows: _Rows) -> list[str]:
    col = rows.columns["id"]
    if rows.parquet:
        col = ["" if v is None else str(v) for v in col]
    out = [v.strip() for v in col]
    if not all(out):
        i = out.index("")
        raise InputError(fname, rows.where(i, "id"), "missing id")
    return out


def _build(fname: str, cols: tuple[str, ...], rows: _Rows, assets) -> PositionTable:
    ids = _parse_ids(fname, rows)
    coll = _parse_amounts(fname, rows, "collateral")
    debt = _parse_amounts(fname, rows, "debt")
    if cols == WIDE_COLUMNS:
        if assets is not None and len(assets) != 2:
            raise ValueError("for a wide position file, assets must be [collateral_asset, debt_asset]")
        if len(set(ids)) != len(ids):
            first: dict[str, int] = {}
            for i, s in enumerate(ids):
                j = first.setdefault(s, i)
                if j != i:
                    raise InputError(fname, rows.where(i, "id"),
                                     f"duplicate id {s!r} (first at {rows.where_row(j)})")
        return PositionTable(
            ids=_ids_array(ids, len(ids)),
            assets=tuple(assets) if assets is not None else _DEFAULT_WIDE_ASSETS,
            wide=True,
            collateral=coll,
            debt=debt,
            n_empty=int(np.count_nonzero((coll == 0.0) & (debt == 0.0))),
            source=fname,
        )

    # long layout
    names: list[str] = list(assets) if assets is not None else []
    aidx: dict[str, int] = {a: k for k, a in enumerate(names)}
    nnz = len(ids)
    asset = np.empty(nnz, dtype=np.int64)
    pos = np.empty(nnz, dtype=np.int64)
    pidx: dict[str, int] = {}
    seen: dict[tuple[int, int], int] = {}
    for i, (s, a) in enumerate(zip(ids, rows.columns["asset"])):
        a = "" if a is None else str(a).strip()
        if not a:
            raise InputError(fname, rows.where(i, "asset"), "missing asset name")
        k = aidx.get(a)
        if k is None:
            if assets is not None:
                raise InputError(fname, rows.where(i, "asset"),
                                 f"unknown asset {a!r}; expected one of {', '.join(names)}")
            k = aidx[a] = len(names)
            names.append(a)
        q = pidx.setdefault(s, len(pidx))
        j = seen.setdefault((q, k), i)
        if j != i:
            raise InputError(fname, rows.where(i, "asset"),
                             f"duplicate (id, asset) = ({s!r}, {a!r}) (first at {rows.where_row(j)})")
        asset[i] = k
        pos[i] = q
    n = len(pidx)
    order = np.argsort(pos, kind="stable")
    counts = np.bincount(pos, minlength=n).astype(np.int64)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    coll_s, debt_s = coll[order], debt[order]
    nonzero = np.zeros(n, dtype=bool)
    if nnz:
        np.logical_or.at(nonzero, pos, (coll > 0.0) | (debt > 0.0))
    return PositionTable(
        ids=_ids_array(list(pidx), n),
        assets=tuple(names),
        wide=False,
        collateral=coll_s,
        debt=debt_s,
        ptr=ptr,
        asset=asset[order],
        n_empty=int(n - np.count_nonzero(nonzero)),
        source=fname,
    )


def _ids_array(ids, n: int):
    if ids is None:
        return PositionIds.synthetic("", n)
    if isinstance(ids, PositionIds):
        if len(ids) != n:
            raise ValueError(f"expected {n} ids, got {len(ids)}")
        return ids
    if not isinstance(ids, list) or not all(type(x) is str for x in ids):
        ids = [str(x) for x in ids]
    arr = np.asarray(ids, dtype=str) if n else np.empty(0, dtype=str)
    if arr.shape != (n,):
        raise ValueError(f"expected {n} ids, got {arr.shape[0]}")
    return arr


def _check_amounts_array(a: np.ndarray, name: str) -> None:
    if a.size and not (np.all(np.isfinite(a)) and a.min() >= 0.0):
        raise ValueError(f"{name} must be finite and >= 0")


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------


def write_positions(path, table: PositionTable) -> None:
    """Write ``table`` to ``path`` (.csv, .parquet or .pq) in its own layout (wide or long).

    The file is written to a temporary file in the same folder and renamed over ``path`` only
    when complete, so an error never leaves a half-written file behind. Floats are written with
    full precision (CSV: shortest repr that reads back exactly).
    Use :meth:`PositionTable.from_wide` to write plain arrays.
    """
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in _CSV_EXT + _PARQUET_EXT:
        raise ValueError(f"unsupported file type {p.suffix!r}; expected .csv, .parquet or .pq")
    _check_amounts_array(table.collateral, "collateral")
    _check_amounts_array(table.debt, "debt")
    def write(tmp):
        if ext in _CSV_EXT:
            with open(tmp, "w", newline="", encoding="utf-8") as fh:
                _write_csv(fh, table)
                fh.flush()
                os.fsync(fh.fileno())
        else:
            _write_parquet(tmp, table)

    atomic_path(p, write, mkdir=False)


_WRITE_CHUNK = 1 << 16


def _row_ids(table: PositionTable) -> PositionIds:
    """One id per row of the file: per position (wide) or per entry (long)."""
    if table.wide:
        return table.ids
    pos = np.repeat(np.arange(table.n, dtype=np.int64), np.diff(table.ptr))
    return table.ids[pos]


def _write_csv(fh, table: PositionTable) -> None:
    w = csv.writer(fh, lineterminator="\n")
    ids = _row_ids(table)
    names = np.asarray(table.assets, dtype=object)
    w.writerow(WIDE_COLUMNS if table.wide else LONG_COLUMNS)
    for a in range(0, table.nnz, _WRITE_CHUNK):
        b = min(a + _WRITE_CHUNK, table.nnz)
        cols = [ids[a:b].tolist()]
        if not table.wide:
            cols.append(names[table.asset[a:b]].tolist())
        cols += [table.collateral[a:b].tolist(), table.debt[a:b].tolist()]
        w.writerows(zip(*cols))


def _write_parquet(tmp: str, table: PositionTable) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = {"id": _row_ids(table).to_arrow()}
    if not table.wide:
        names = pa.array(list(table.assets), pa.string())
        cols["asset"] = names.take(pa.array(table.asset)) if table.nnz else pa.array([], pa.string())
    cols["collateral"] = pa.array(table.collateral, pa.float64())
    cols["debt"] = pa.array(table.debt, pa.float64())
    # row groups of 128k rows: a reader decodes one group at a time
    pq.write_table(pa.table(cols), tmp, row_group_size=1 << 17)

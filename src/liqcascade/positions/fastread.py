"""The fast path of :func:`liqcascade.positions.io.load_positions`: pyarrow, batch by batch.

It accepts a file only when every row is plainly valid; anything else — a bad value, a
missing or duplicate id, an id with surrounding whitespace, a row pyarrow cannot parse, a
column type it does not handle — returns ``None``, and the caller reads the file again with the
exact reader, which raises the precise ``error: FILE: FIELD: REASON`` or, for valid but unusual
input, returns the table. Whatever this module accepts, the exact reader accepts with the same
numbers and ids (tests check it).

Memory: the amounts go straight into their final float64 arrays (allocated once from an upper
bound on the row count — newlines for CSV, the footer for Parquet — and trimmed at the end, so
untouched capacity never becomes resident); ids live only as one 64-bit hash each while the
file is read, plus the Arrow string batches when the caller keeps them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..kernels import ids as K_ids
from .ids import PositionIds

_BLOCK = 1 << 18  # CSV bytes per batch
_PQ_BATCH = 1 << 16  # Parquet rows per batch


class _Fallback(Exception):
    """The fast path passes this file on to the exact reader."""


class _Column:
    """A preallocated 1-D array filled batch by batch, trimmed when done."""

    def __init__(self, dtype, cap: int):
        self.a = np.empty(max(int(cap), 1), dtype=dtype)
        self.n = 0

    def room(self, m: int) -> np.ndarray:
        need = self.n + m
        if need > self.a.shape[0]:
            self.a.resize(max(need, 2 * self.a.shape[0]), refcheck=False)
        out = self.a[self.n:need]
        self.n = need
        return out

    def done(self) -> np.ndarray:
        if self.a.shape[0] != self.n:
            self.a.resize(self.n, refcheck=False)
        return self.a


def read_positions(p: Path, fname: str, assets, keep_ids: bool):
    """A :class:`~liqcascade.positions.io.PositionTable`, or ``None`` for the exact reader."""
    from . import io

    try:
        with _SystemPool():
            if p.suffix.lower() in io._CSV_EXT:
                header, names, batches, cap = _open_csv(p, fname)
            else:
                header, names, batches, cap = _open_parquet(p, fname)
            expected = io._layout_from_header(fname, header, names)
            wide = expected == io.WIDE_COLUMNS
            if wide and assets is not None and len(assets) != 2:
                raise ValueError("for a wide position file, assets must be [collateral_asset, debt_asset]")
            norm = [n.strip().lower() for n in names]
            col = {c: norm.index(c) for c in expected}
            return _read(fname, batches(), cap, col, wide, assets, keep_ids)
    except _Fallback:
        return None
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 - pyarrow's own errors: the exact reader words them
        import pyarrow as pa

        if isinstance(e, (pa.ArrowException, OSError, UnicodeDecodeError)):
            return None
        raise


class _SystemPool:
    """Arrow allocations of the read go to the C library's allocator for its duration.

    Arrow's default pool (mimalloc) keeps freed batches for reuse; measured on 2M-row files
    that held 20–60 MB more resident memory after the read than the system allocator, which
    returns them. Buffers remember their pool, so switching back afterwards is safe."""

    def __enter__(self):
        import pyarrow as pa

        self.old = pa.default_memory_pool()
        self.pool = pa.system_memory_pool()
        pa.set_memory_pool(self.pool)
        return self.pool

    def __exit__(self, *exc):
        import pyarrow as pa

        pa.set_memory_pool(self.old)
        return False


# --- sources ---------------------------------------------------------------------------------


def _count_lines(p: Path) -> int:
    """An upper bound on the records of a CSV file (line breaks of any kind, plus one)."""
    n = 1
    with open(p, "rb") as fh:
        while True:
            b = fh.read(1 << 20)
            if not b:
                return n
            n += b.count(b"\n") + b.count(b"\r")


def _open_csv(p: Path, fname: str):
    import csv

    import pyarrow as pa
    import pyarrow.csv as pacsv

    # the header as the exact reader sees it (first record with a non-blank field)
    try:
        with open(p, newline="", encoding="utf-8-sig") as fh:
            header = None
            for rec in csv.reader(fh):
                if rec and any(f.strip() for f in rec):
                    header = rec
                    break
    except (UnicodeDecodeError, csv.Error, OSError):
        raise _Fallback from None
    if header is None:
        raise _Fallback
    from . import io

    expected = io.LONG_COLUMNS if "asset" in [h.strip().lower() for h in header] else io.WIDE_COLUMNS
    norm = [h.strip().lower() for h in header]
    if sorted(norm) != sorted(expected):
        raise _Fallback  # the exact reader words the header problem
    types = {}
    for raw, c in zip(header, norm):
        types[raw] = {"id": pa.string(), "asset": pa.dictionary(pa.int32(), pa.string())}.get(c, pa.float64())
    reader = pacsv.open_csv(
        p,
        read_options=pacsv.ReadOptions(block_size=_BLOCK, use_threads=True),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(column_types=types, null_values=[""], strings_can_be_null=False,
                                             quoted_strings_can_be_null=False, check_utf8=True),
        memory_pool=pa.default_memory_pool(),  # the system pool (see _SystemPool)
    )
    if list(reader.schema.names) != list(header):
        raise _Fallback

    def batches():
        for b in reader:
            yield b

    return "line 1", list(header), batches, _count_lines(p)


def _open_parquet(p: Path, fname: str):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(p)
        schema = pf.schema_arrow
    except (pa.ArrowException, OSError):
        raise _Fallback from None
    names = list(schema.names)
    norm = [n.strip().lower() for n in names]
    for name, c in zip(names, norm):
        t = schema.field(name).type
        if c in ("collateral", "debt"):
            ok = pa.types.is_integer(t) or pa.types.is_floating(t)
        elif c == "id":
            ok = pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t)
        elif c == "asset":
            ok = (pa.types.is_string(t) or pa.types.is_large_string(t)
                  or (pa.types.is_dictionary(t) and pa.types.is_string(t.value_type)))
        else:
            ok = True  # the header check names it
        if not ok:
            raise _Fallback

    def batches():
        # one row group at a time: a reader over the whole file buffers far ahead
        for g in range(pf.num_row_groups):
            yield from pf.iter_batches(batch_size=_PQ_BATCH, row_groups=[g], use_threads=False)

    return "schema", names, batches, pf.metadata.num_rows


# --- the read --------------------------------------------------------------------------------


def _amounts(arr) -> np.ndarray:
    """A batch column as float64, or fall back (nulls, NaN, infinite or negative values, and
    amounts outside the bounds of :mod:`liqcascade.bounds`: the exact reader words the error)."""
    import pyarrow as pa

    from ..bounds import AMOUNT_MAX, AMOUNT_MIN

    if arr.null_count:
        raise _Fallback
    if not pa.types.is_float64(arr.type):
        arr = arr.cast(pa.float64())
    x = _values(arr, np.float64)
    if x.size and not (x.min() >= 0.0 and x.max() <= AMOUNT_MAX):  # NaN fails both comparisons
        raise _Fallback
    if x.size and np.any((x > 0.0) & (x < AMOUNT_MIN)):  # a batch's temporary, not the file's
        raise _Fallback
    return x


def _values(arr, dtype) -> np.ndarray:
    """The values buffer of a primitive Arrow array without nulls, as a NumPy view.

    (``Array.to_numpy`` costs tens of MB of resident memory on its first call.)"""
    dtype = np.dtype(dtype)
    return np.frombuffer(arr.buffers()[1], dtype=dtype, count=len(arr), offset=arr.offset * dtype.itemsize)


def _string_buffers(arr):
    """``(offsets int64, data uint8)`` of an Arrow string array without nulls."""
    import pyarrow as pa

    if arr.null_count:
        raise _Fallback
    if pa.types.is_integer(arr.type):
        arr = arr.cast(pa.string())
    elif pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    large = pa.types.is_large_string(arr.type)
    bufs = arr.buffers()
    m = len(arr)
    off = np.frombuffer(bufs[1], dtype=np.int64 if large else np.int32, count=m + 1,
                        offset=arr.offset * (8 if large else 4)).astype(np.int64)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None and bufs[2].size else np.zeros(1, np.uint8)
    return off, data, arr


def _read(fname, batches, cap, col, wide, assets, keep_ids):
    import pyarrow as pa

    from .io import _DEFAULT_WIDE_ASSETS, PositionTable

    coll = _Column(np.float64, cap)
    debt = _Column(np.float64, cap)
    hashes = _Column(np.uint64, cap)
    keep = keep_ids or not wide  # the long layout groups rows by id: it needs the strings
    id_chunks = []
    asset_idx = _Column(np.int64, cap) if not wide else None
    names: list[str] = list(assets) if (assets is not None and not wide) else []
    aidx = {a: k for k, a in enumerate(names)}
    n_empty = 0
    for b in batches:
        m = b.num_rows
        if m == 0:
            continue
        c = _amounts(b.column(col["collateral"]))
        d = _amounts(b.column(col["debt"]))
        start = hashes.n
        off, data, ids = _string_buffers(b.column(col["id"]))
        hashes.room(m)
        if K_ids.hash_ids(off, data, hashes.a, start) != K_ids.ID_OK:
            raise _Fallback
        coll.room(m)[:] = c
        debt.room(m)[:] = d
        if wide:
            n_empty += int(np.count_nonzero((c == 0.0) & (d == 0.0)))
        else:
            asset_idx.room(m)[:] = _asset_codes(b.column(col["asset"]), names, aidx, assets is not None)
        if keep:
            id_chunks.append(ids)
    coll_a, debt_a, h = coll.done(), debt.done(), hashes.done()
    del coll, debt, hashes
    n = h.shape[0]
    ids_all = pa.chunked_array(id_chunks, type=id_chunks[0].type) if id_chunks else pa.chunked_array([], pa.string())
    if wide:
        h.sort()
        if K_ids.first_repeat(h) >= 0:
            raise _Fallback  # a duplicate id (or a hash collision): the exact reader decides
        del h
        ids = PositionIds.from_arrow(ids_all) if keep_ids else PositionIds.absent(n)
        return PositionTable(ids=ids, assets=tuple(assets) if assets is not None else _DEFAULT_WIDE_ASSETS,
                             wide=True, collateral=coll_a, debt=debt_a, n_empty=n_empty, source=fname)
    return _long(fname, coll_a, debt_a, h, asset_idx.done(), ids_all, names, keep_ids)


def _asset_codes(arr, names: list, aidx: dict, fixed: bool) -> np.ndarray:
    """Global asset indices of a batch's asset column (dictionary-encoded by pyarrow)."""
    import pyarrow as pa

    if arr.null_count:
        raise _Fallback
    if not pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_encode()
    local = []
    for v in arr.dictionary.to_pylist():
        if v is None or not v or v != v.strip():
            raise _Fallback  # empty, or padded: the exact reader strips or refuses it
        k = aidx.get(v)
        if k is None:
            if fixed:
                raise _Fallback  # unknown asset: the exact reader names the row
            k = aidx[v] = len(names)
            names.append(v)
        local.append(k)
    if not local:
        return np.zeros(len(arr), np.int64)
    ind = arr.indices
    if ind.null_count:
        raise _Fallback
    return np.asarray(local, dtype=np.int64)[_values(ind, np.dtype(ind.type.to_pandas_dtype()))]


def _long(fname, coll, debt, h, asset, ids_all, names, keep_ids):
    """Group the rows of a long file by id (first appearance), checked against the strings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from .io import PositionTable

    nnz = h.shape[0]
    uniq, first, inverse = np.unique(h, return_index=True, return_inverse=True)
    del uniq, h
    rank = np.empty(first.shape[0], np.int64)
    order_first = np.argsort(first, kind="stable")
    rank[order_first] = np.arange(first.shape[0])
    pos = rank[inverse]  # position of each row, numbered by first appearance
    first_row = first[inverse]
    if nnz and not pc.all(pc.equal(ids_all, ids_all.take(pa.array(first_row)))).as_py():
        raise _Fallback  # two ids share a hash: the exact reader groups by string
    del first_row, inverse
    n = first.shape[0]
    A = max(len(names), 1)
    key = np.sort(pos * A + asset)
    if K_ids.first_repeat(key.astype(np.uint64)) >= 0:
        raise _Fallback  # a duplicate (id, asset) row
    del key
    order = np.argsort(pos, kind="stable")
    counts = np.bincount(pos, minlength=n).astype(np.int64)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    nonzero = np.zeros(n, dtype=bool)
    if nnz:
        np.logical_or.at(nonzero, pos, (coll > 0.0) | (debt > 0.0))
    ids = PositionIds.from_arrow(ids_all.take(pa.array(first[order_first]))) if keep_ids else PositionIds.absent(n)
    return PositionTable(ids=ids, assets=tuple(names), wide=False, collateral=coll[order], debt=debt[order],
                         ptr=ptr, asset=asset[order], n_empty=int(n - np.count_nonzero(nonzero)), source=fname)


def warm() -> None:
    """Compile the loader's kernels (``liqcascade warmup``)."""
    h = np.empty(2, np.uint64)
    K_ids.hash_ids(np.array([0, 1, 2], np.int64), np.frombuffer(b"ab", np.uint8).copy(), h, 0)
    K_ids.first_repeat(np.sort(h))

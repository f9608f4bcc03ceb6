"""Position ids without a Python object per position.

Inside the engine a position is an integer; its id is text only in what a user reads (event
tables, per-position outputs). :class:`PositionIds` holds the ids once, compactly, and turns
integers into text only for the positions asked for:

* ids read from a file are one Arrow string array in file order (4 B of offset plus the bytes
  of the id per position);
* a synthetic book's ids are a rule, ``f"{prefix}{i}"``, and take no memory at all;
* a book sorted or filtered from those keeps an integer index into them (int32 below 2**31
  rows), never copies of the strings;
* a book whose ids were not loaded (``compile_scenario(..., ids=False)``: the cascade curve
  reports no position) has *absent* ids, which can be indexed like the others but refuse to
  become text.

Indexing with an integer gives a ``str``; with a slice, a boolean mask or an integer array it
gives another :class:`PositionIds` (lazy). ``np.asarray(ids)``, :meth:`to_numpy` and
:meth:`tolist` build the Python strings, one per position asked for.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

__all__ = ["PositionIds", "IdsNotLoaded"]


class IdsNotLoaded(RuntimeError):
    """Text of an id was asked for on a book compiled without ids."""


class _Synth:
    __slots__ = ("prefix", "start", "n")

    def __init__(self, prefix: str, start: int, n: int):
        self.prefix, self.start, self.n = prefix, int(start), int(n)

    def take(self, idx: np.ndarray) -> np.ndarray:
        out = np.empty(idx.shape[0], dtype=object)
        p, s = self.prefix, self.start
        for j, i in enumerate(idx.tolist()):
            out[j] = f"{p}{s + i}"
        return out


class _Range:
    """Integer ids ``start .. start + n - 1`` (books built from bare arrays)."""

    __slots__ = ("start", "n")

    def __init__(self, start: int, n: int):
        self.start, self.n = int(start), int(n)

    def take(self, idx: np.ndarray) -> np.ndarray:
        out = np.empty(idx.shape[0], dtype=object)
        out[:] = (idx + self.start).tolist()
        return out


class _Absent:
    __slots__ = ("n",)

    def __init__(self, n: int):
        self.n = int(n)

    def take(self, idx: np.ndarray) -> np.ndarray:
        raise IdsNotLoaded("position ids were not loaded for this book (compiled with ids=False)")


class _Arrow:
    __slots__ = ("arr", "n")

    def __init__(self, arr):
        self.arr = arr
        self.n = len(arr)

    def take(self, idx: np.ndarray) -> np.ndarray:
        if idx.shape[0] == 0:
            return np.empty(0, dtype=object)
        return np.asarray(self.arr.take(idx).to_pylist(), dtype=object)


class _Numpy:
    __slots__ = ("arr", "n")

    def __init__(self, arr: np.ndarray):
        self.arr = arr
        self.n = int(arr.shape[0])

    def take(self, idx: np.ndarray) -> np.ndarray:
        out = np.empty(idx.shape[0], dtype=object)
        out[:] = self.arr[idx].tolist()
        return out


class _Sub:
    """Another :class:`PositionIds` (with its own index) as one part of a concatenation."""

    __slots__ = ("ids", "n")

    def __init__(self, ids: "PositionIds"):
        self.ids = ids
        self.n = len(ids)

    def take(self, idx: np.ndarray) -> np.ndarray:
        return self.ids._text(self.ids._rows(idx))


def _index_dtype(n: int):
    return np.int32 if n < 2**31 else np.int64


class PositionIds:
    """The ids of ``n`` positions (see the module docstring)."""

    __slots__ = ("_parts", "_starts", "_total", "_index")

    def __init__(self, parts: Sequence, index: np.ndarray | None = None):
        self._parts = list(parts)
        starts = np.zeros(len(self._parts) + 1, dtype=np.int64)
        for k, p in enumerate(self._parts):
            starts[k + 1] = starts[k] + p.n
        self._starts = starts
        self._total = int(starts[-1])
        self._index = index

    # -- constructors -------------------------------------------------------------------------

    @classmethod
    def from_arrow(cls, arr) -> "PositionIds":
        """Ids from an Arrow string array or chunked array (file order)."""
        return cls([_Arrow(arr)])

    @classmethod
    def from_values(cls, values) -> "PositionIds":
        """Ids from a sequence or array of values (each shown as ``str(v)``)."""
        if isinstance(values, PositionIds):
            return values
        arr = np.asarray(values) if not isinstance(values, np.ndarray) else values
        if arr.ndim != 1:
            arr = arr.reshape(-1) if arr.size else np.empty(0, dtype=object)
        return cls([_Numpy(arr)])

    @classmethod
    def synthetic(cls, prefix: str, n: int, start: int = 0) -> "PositionIds":
        """``f"{prefix}{start}"`` … ``f"{prefix}{start + n - 1}"``, generated when asked for."""
        return cls([_Synth(prefix, start, n)])

    @classmethod
    def arange(cls, n: int, start: int = 0) -> "PositionIds":
        """The integers ``start`` … ``start + n - 1`` as ids (books built from bare arrays)."""
        return cls([_Range(start, n)])

    @classmethod
    def absent(cls, n: int) -> "PositionIds":
        """``n`` positions whose ids were not loaded."""
        return cls([_Absent(n)])

    @classmethod
    def concat(cls, items: Iterable["PositionIds"]) -> "PositionIds":
        """The ids of several books one after the other (lazy: nothing is copied)."""
        items = [x if isinstance(x, PositionIds) else cls.from_values(x) for x in items]
        if len(items) == 1:
            return items[0]
        if all(x._absent() for x in items):
            return cls.absent(sum(len(x) for x in items))
        parts: list = []
        for x in items:
            if x._index is None:
                parts.extend(x._parts)
            else:
                parts.append(_Sub(x))
        return cls(parts)

    # -- size ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._total if self._index is None else int(self._index.shape[0])

    @property
    def shape(self) -> tuple[int]:
        return (len(self),)

    @property
    def size(self) -> int:
        return len(self)

    @property
    def ndim(self) -> int:
        return 1

    @property
    def loaded(self) -> bool:
        """False when some ids were not loaded (text cannot be produced)."""
        return not any(isinstance(p, _Absent) or (isinstance(p, _Sub) and not p.ids.loaded) for p in self._parts)

    def _absent(self) -> bool:
        return all(isinstance(p, _Absent) for p in self._parts)

    def nbytes(self) -> int:
        """Bytes held: index plus Arrow buffers and NumPy arrays (synthetic ids cost nothing)."""
        n = 0 if self._index is None else int(self._index.nbytes)
        for p in self._parts:
            if isinstance(p, _Arrow):
                n += int(p.arr.nbytes)
            elif isinstance(p, _Numpy):
                n += int(p.arr.nbytes)
            elif isinstance(p, _Sub):
                n += p.ids.nbytes()
        return n

    # -- selection ----------------------------------------------------------------------------

    def _rows(self, key) -> np.ndarray:
        """Global rows (into the parts) of ``key`` applied to this view."""
        n = len(self)
        if isinstance(key, slice):
            sel = np.arange(*key.indices(n), dtype=np.int64)
        else:
            k = np.asarray(key)
            if k.dtype == np.bool_:
                if k.shape != (n,):
                    raise IndexError(f"boolean index of shape {k.shape} for {n} ids")
                sel = np.flatnonzero(k)
            else:
                if k.dtype.kind not in "iu":
                    raise IndexError(f"ids can be indexed by integers, slices or masks, not {k.dtype}")
                sel = k.astype(np.int64, copy=False).reshape(-1)
                if sel.size and (sel.min() < -n or sel.max() >= n):
                    raise IndexError("position index out of range")
                if sel.size and sel.min() < 0:
                    sel = np.where(sel < 0, sel + n, sel)
        if self._index is None:
            return sel
        return self._index[sel]

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            n = len(self)
            i = int(key)
            if not -n <= i < n:
                raise IndexError("position index out of range")
            return self._text(self._rows(np.array([i % n])))[0]
        if self._absent():
            return PositionIds.absent(self._count(key))
        rows = self._rows(key)
        return PositionIds(self._parts, rows.astype(_index_dtype(self._total), copy=False))

    def _count(self, key) -> int:
        """Length of ``self[key]`` without building the selection."""
        n = len(self)
        if isinstance(key, slice):
            return len(range(*key.indices(n)))
        k = np.asarray(key)
        if k.dtype == np.bool_:
            if k.shape != (n,):
                raise IndexError(f"boolean index of shape {k.shape} for {n} ids")
            return int(np.count_nonzero(k))
        return int(k.size)

    def take(self, idx) -> "PositionIds":
        return self[np.asarray(idx)]

    # -- text ---------------------------------------------------------------------------------

    def _text(self, rows: np.ndarray) -> np.ndarray:
        out = np.empty(rows.shape[0], dtype=object)
        if rows.shape[0] == 0:
            return out
        if len(self._parts) == 1:
            out[:] = self._parts[0].take(rows.astype(np.int64, copy=False))
            return out
        part = np.searchsorted(self._starts, rows, side="right") - 1
        for k, p in enumerate(self._parts):
            sel = np.flatnonzero(part == k)
            if sel.size:
                out[sel] = p.take(rows[sel].astype(np.int64) - self._starts[k])
        return out

    def to_numpy(self) -> np.ndarray:
        """The ids as an object array of ``str`` (one Python string per position)."""
        rows = self._index if self._index is not None else np.arange(self._total)
        return self._text(rows)

    def __array__(self, dtype=None, copy=None):
        a = self.to_numpy()
        return a if dtype is None else a.astype(dtype)

    def astype(self, dtype) -> np.ndarray:
        return self.to_numpy().astype(dtype)

    def tolist(self) -> list[str]:
        return self.to_numpy().tolist()

    def __iter__(self):
        return iter(self.tolist())

    def to_arrow(self, chunk: int = 1 << 16):
        """The ids as one Arrow string array (built in chunks)."""
        import pyarrow as pa

        if self._index is None and len(self._parts) == 1 and isinstance(self._parts[0], _Arrow):
            a = self._parts[0].arr
            return a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
        n = len(self)
        pieces = [pa.array(self[i:i + chunk].tolist(), pa.string()) for i in range(0, n, chunk)]
        return pa.concat_arrays(pieces) if pieces else pa.array([], pa.string())

    def __repr__(self) -> str:
        kinds = ",".join(type(p).__name__.strip("_").lower() for p in self._parts)
        return f"PositionIds(n={len(self)}, parts={kinds}{', indexed' if self._index is not None else ''})"

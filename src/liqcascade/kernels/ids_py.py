"""Plain-Python twin of :mod:`liqcascade.kernels.ids` (parity tests): one Python string at a
time, ``str.isspace`` for whitespace, integer arithmetic mod 2**64 for the hash."""

from __future__ import annotations

from .ids import ID_EMPTY, ID_OK, ID_SPACE

_MASK = (1 << 64) - 1


def hash_id_py(s: str) -> int:
    h = 0xCBF29CE484222325
    for byte in s.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & _MASK
    h ^= h >> 30
    h = (h * 0xBF58476D1CE4E5B9) & _MASK
    h ^= h >> 27
    h = (h * 0x94D049BB133111EB) & _MASK
    h ^= h >> 31
    return h


def hash_ids_py(ids: list[str]) -> tuple[list[int], int]:
    """Hashes of ``ids`` and the status :func:`liqcascade.kernels.ids.hash_ids` returns."""
    status = ID_OK
    for s in ids:
        if s == "":
            status = max(status, ID_EMPTY)
        elif s[0].isspace() or s[-1].isspace():
            status = max(status, ID_SPACE)
    return [hash_id_py(s) for s in ids], status


def first_repeat_py(values) -> int:
    for i in range(1, len(values)):
        if values[i] == values[i - 1]:
            return i
    return -1

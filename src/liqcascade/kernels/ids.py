"""Position ids as 64-bit hashes — compiled kernel.

The position loader never keeps one Python object per id. To find duplicate ids it hashes each
id's UTF-8 bytes to 64 bits (FNV-1a, then the splitmix64 finaliser to spread the bits), sorts
the hashes and looks at neighbours; only when two hashes are equal does it compare the ids
themselves. The strings arrive as an Arrow string column: ``offsets`` (int64, n+1) into
``data`` (uint8).

The same pass checks the two conditions under which an id is not usable as it stands: empty,
or with leading/trailing whitespace (the loader strips ids the way Python's ``str.strip()``
does, so such a file takes the exact, slower path). Whitespace is every code point for which
``str.isspace()`` is true, decoded from UTF-8 at both ends of the id.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit

ID_OK = 0
ID_EMPTY = 1  # an id with no bytes
ID_SPACE = 2  # an id starting or ending with whitespace (or made of it only)

FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)


@njit(inline="always")
def _is_space(cp):
    """``chr(cp).isspace()`` for any code point."""
    if cp <= 0x20:
        return cp == 0x20 or (0x09 <= cp <= 0x0D) or (0x1C <= cp <= 0x1F)
    if cp < 0x85:
        return False
    return (cp == 0x85 or cp == 0xA0 or cp == 0x1680 or (0x2000 <= cp <= 0x200A) or cp == 0x2028
            or cp == 0x2029 or cp == 0x202F or cp == 0x205F or cp == 0x3000)


@njit(inline="always")
def _first_cp(data, a, b):
    """Code point starting at byte ``a`` (UTF-8; the bytes were validated by Arrow)."""
    c = np.int64(data[a])
    if c < 0x80:
        return c
    if c < 0xE0 and a + 1 < b:
        return ((c & 0x1F) << 6) | (np.int64(data[a + 1]) & 0x3F)
    if c < 0xF0 and a + 2 < b:
        return ((c & 0x0F) << 12) | ((np.int64(data[a + 1]) & 0x3F) << 6) | (np.int64(data[a + 2]) & 0x3F)
    return 0x110000  # four-byte sequences hold no whitespace


@njit(inline="always")
def _last_cp(data, a, b):
    """Code point ending at byte ``b - 1``."""
    s = b - 1
    while s > a and (np.int64(data[s]) & 0xC0) == 0x80:
        s -= 1
    return _first_cp(data, s, b)


@njit
def hash_ids(offsets, data, out, start):
    """Hash the strings ``data[offsets[i]:offsets[i+1]]`` into ``out[start + i]``.

    Returns the largest status seen: :data:`ID_OK`, :data:`ID_EMPTY` or :data:`ID_SPACE`."""
    status = ID_OK
    n = offsets.shape[0] - 1
    for i in range(n):
        a = offsets[i]
        b = offsets[i + 1]
        if b <= a:
            if status < ID_EMPTY:
                status = ID_EMPTY
        elif status < ID_SPACE and (_is_space(_first_cp(data, a, b)) or _is_space(_last_cp(data, a, b))):
            status = ID_SPACE
        h = FNV_OFFSET
        for j in range(a, b):
            h = (h ^ np.uint64(data[j])) * FNV_PRIME
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
        out[start + i] = h
    return status


@njit
def first_repeat(sorted_hashes):
    """Index of the first element equal to its predecessor in a sorted array, or -1."""
    for i in range(1, sorted_hashes.shape[0]):
        if sorted_hashes[i] == sorted_hashes[i - 1]:
            return i
    return -1

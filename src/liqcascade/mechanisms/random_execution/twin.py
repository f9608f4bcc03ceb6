"""Plain-Python twin of :mod:`liqcascade.mechanisms.random_execution.kernel` (naive, written independently; ``tests/parity``)."""

from __future__ import annotations


MASK64 = (1 << 64) - 1


def _splitmix(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def random_delay(seed, path, pos, window):
    if window <= 0:
        return 0
    h = _splitmix(int(seed))
    h = _splitmix(h ^ int(path))
    h = _splitmix(h ^ int(pos))
    return h % (window + 1)

"""Plain-Python twin of :mod:`liqcascade.mechanisms.twap_exit.kernel` (naive, written independently; ``tests/parity``)."""

from __future__ import annotations


class TwapRing:
    """A list of (due step, asset, units) entries."""

    def __init__(self):
        self.due = []

    def push(self, t, a, q, slices):
        if q > 0:
            for j in range(slices):
                self.due.append((t + j, a, q / slices))

    def pop(self, t, a):
        q = sum(x for s, b, x in self.due if s == t and b == a)
        self.due = [(s, b, x) for s, b, x in self.due if not (s == t and b == a)]
        return q

    def left(self, a):
        return sum(x for _, b, x in self.due if b == a)

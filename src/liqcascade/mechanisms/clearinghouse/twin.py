"""Plain-Python twin of the clearinghouse (:mod:`liqcascade.mechanisms.clearinghouse.kernel`),
written the obvious way from the rules in ``README.md``: lists and dicts, no shared state with
the kernel. ``tests/parity/test_clearinghouse_parity.py`` compares them.

:class:`ClearinghousePy` keeps the queue of one run (per protocol and asset) and clears one
asset per call of :meth:`ClearinghousePy.clear`; the venues are the kernel's venue rows, moved
through the venues' own twins (``venues/dispatch`` functions called as Python).
"""

from __future__ import annotations

import math

from ...venues import twin as VT

INF = math.inf


def budget_py(vs, vdk, vdq, ids, spot, window_spots, max_step_move, max_window_move):
    """Units the venues ``ids`` absorb before each one's spot reaches the floor: the higher of
    ``spot · (1 − max_step_move)`` and ``max(window_spots) · (1 − max_window_move)``."""
    floor = max(spot * (1.0 - max_step_move), max(window_spots) * (1.0 - max_window_move))
    if floor >= spot:
        return 0.0
    return sum(VT.venue_sell_to_price(vs, vdk, vdq, v, floor) for v in ids)


def allocate_py(queue, keys, cap, urgency):
    """``{protocol: units}`` taken from ``queue`` (``{protocol: units}``) for ``cap`` units: all
    when it fits; else pro rata, or lowest key first (ties by protocol index)."""
    total = sum(queue.values())
    if total <= 0 or cap <= 0:
        return {p: 0.0 for p in queue}
    if cap >= total:
        return dict(queue)
    if not urgency:
        return {p: q * (cap / total) for p, q in queue.items()}
    out = {p: 0.0 for p in queue}
    left = cap
    for p in sorted((p for p in queue if queue[p] > 0), key=lambda p: (keys[p], p)):
        if left <= 0:
            break
        out[p] = min(queue[p], left)
        left -= out[p]
    return out


class ClearinghousePy:
    """The queue and accounting of the clearinghouse over ``P`` protocols (one asset)."""

    def __init__(self, P, max_step_move, max_window_move, window, urgency, backstop_capital=0.0,
                 backstop_discount=0.0, p0=1.0):
        self.P = P
        self.step_move, self.window_move, self.window = max_step_move, max_window_move, window
        self.urgency = urgency
        self.capital, self.discount = backstop_capital, backstop_discount
        self.ring = [p0] * window
        self.mark = p0
        self.queue = {p: 0.0 for p in range(P)}
        self.keys = {p: INF for p in range(P)}
        self.book = {p: dict(inp=0.0, net=0.0, sold=0.0, bs=0.0, vin=0.0, quote=0.0, held_vin=0.0, risk=0.0)
                     for p in range(P)}
        self.bs_units = 0.0
        self.bs_paid = 0.0

    def _leave(self, take, col, quote):
        total = sum(take.values())
        for p, x in take.items():
            if x <= 0:
                continue
            h = self.queue[p]
            b = self.book[p]
            if x >= h:
                x = h
                b["held_vin"] = 0.0
                self.queue[p] = 0.0
                self.keys[p] = INF
            else:
                b["held_vin"] *= 1.0 - x / h
                self.queue[p] = h - x
            take[p] = x
            b[col] += x
            b["quote"] += quote * (x / total)
        return take

    def clear(self, t, vs, vdk, vdq, ids, incoming, hfs, others):
        """One step for one asset: mark, intake of ``incoming`` (``{p: units}``, with ``hfs``
        ``{p: lowest HF or inf}``), budget less ``others`` (the other protocols' routed units),
        allocation, backstop. Returns ``(released {p: units}, backstop {p: units}, price)``."""
        spot = sum(VT.venue_spot(vs, v) for v in ids) / len(ids)
        for p in range(self.P):
            if self.queue[p] > 0:
                self.book[p]["risk"] += self.queue[p] * (self.mark - spot)
        for p, x in incoming.items():
            if x > 0:
                self.queue[p] += x
                b = self.book[p]
                b["inp"] += x
                b["vin"] += x * spot
                b["held_vin"] += x * spot
                self.keys[p] = min(self.keys[p], hfs.get(p, INF) if hfs.get(p, INF) < INF else 1.0)
        self.ring[t % self.window] = spot
        cap = budget_py(vs, vdk, vdq, ids, spot, self.ring, self.step_move, self.window_move) - others
        self.mark = spot
        released = self._leave(allocate_py(self.queue, self.keys, cap, self.urgency), "sold", 0.0)
        bought = {p: 0.0 for p in range(self.P)}
        px = spot * (1.0 - self.discount)
        total = sum(self.queue.values())
        if self.capital > 0 and total > 0 and px > 0:
            n = total if total * px <= self.capital else self.capital / px
            take = allocate_py(self.queue, self.keys, n, self.urgency)
            got = sum(take.values())
            if got > 0:
                bought = self._leave(take, "bs", got * px)
                paid = sum(x * px for x in bought.values())
                self.capital = max(self.capital - paid, 0.0)
                self.bs_units += got
                self.bs_paid += paid
        return released, bought, spot

    def credit_sale(self, released, x, proceeds):
        """The routed sale of ``x`` units fetched ``proceeds``: each released share its part."""
        if x > 0:
            for p, r in released.items():
                if r > 0:
                    self.book[p]["quote"] += proceeds * (r / x)

    def conservation_error(self):
        return max(abs(b["inp"] - b["net"] - b["sold"] - b["bs"] - self.queue[p]) for p, b in self.book.items())

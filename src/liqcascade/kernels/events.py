"""Liquidation events: one record dtype and a buffer that grows.

An event is one row of :data:`EVENT` (the columns of ``events.parquet`` minus the names the
engine adds: path, position id, protocol and asset names)::

    step, position, protocol, asset        int64   (position: index in the run, see the engine)
    collateral_seized, debt_repaid         float64 (asset units)
    oracle_price, execution_price          float64 (quote per unit; execution NaN until the
                                                    step's sales are routed)
    bonus_paid, bad_debt                   float64 (quote)
    protocol_fee                           float64 (collateral units to the treasury)

The buffer is the layout :class:`Events`: ``buf`` (a record array) and ``n[NEV]``: the count
``n[EV_N]``, the events lost ``n[EV_LOST]`` and the limit ``n[EV_LIMIT]`` (the most rows the
buffer may grow to; ``< 0``: the path records no events at all, and nothing counts as lost).
:func:`events_reserve` grows the buffer (doubling, never past the limit) *between* stages, so
the stages themselves never reallocate; :func:`ev_push` writes one row or, when the buffer is
full (it has reached its limit), counts the event in ``n[EV_LOST]``. Nothing is dropped
silently: the engine reports every lost event.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._jit import internal, njit

EVENT = np.dtype([
    ("step", np.int64), ("position", np.int64), ("protocol", np.int64), ("asset", np.int64),
    ("collateral_seized", np.float64), ("debt_repaid", np.float64), ("oracle_price", np.float64),
    ("execution_price", np.float64), ("bonus_paid", np.float64), ("bad_debt", np.float64),
    ("protocol_fee", np.float64),
])

EV_N = 0
EV_LOST = 1
EV_LIMIT = 2
NEV = 3

#: rows a recording path starts with when the engine is given no size
DEFAULT_START = 1024


class Events(NamedTuple):
    buf: np.ndarray
    n: np.ndarray


def records_new(capacity: int, limit: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    """``(buf, n)`` of an empty record buffer of ``dtype`` with ``capacity`` rows that may grow
    to ``limit`` rows (``limit < 0``: no recording; the buffer then has no rows). Shared by the
    event buffer and the sales ledger (:mod:`~liqcascade.kernels.sales`)."""
    cap = 0 if limit < 0 else max(0, min(int(capacity), int(limit)))
    n = np.zeros(NEV, np.int64)
    n[EV_LIMIT] = int(limit)
    return np.zeros(cap, dtype=dtype), n


def events_new(capacity: int, limit: int) -> Events:
    """An empty buffer of ``capacity`` rows that may grow to ``limit`` rows (``limit < 0``: no
    recording; the buffer then has no rows)."""
    return Events(*records_new(capacity, limit, EVENT))


def events_off() -> Events:
    """The buffer of a path that records no events."""
    return events_new(0, -1)


@internal
def events_new_k(capacity, limit):
    """:func:`events_new` inside a kernel."""
    cap = 0
    if limit >= 0:
        cap = capacity if capacity < limit else limit
        if cap < 0:
            cap = 0
    return Events(np.zeros(cap, dtype=EVENT), counts_k(limit))


@internal
def counts_k(limit):
    """The counts ``n[NEV]`` of an empty record buffer that may grow to ``limit`` rows, inside a
    kernel."""
    n = np.zeros(NEV, np.int64)
    n[EV_LIMIT] = limit
    return n


@internal
def grown_capacity(n, cap, room):
    """The rows a record buffer of ``cap`` rows with counts ``n`` needs for ``room`` more rows:
    doubling, at least 64, never past the limit ``n[EV_LIMIT]``; ``cap`` itself when it already
    has the room, has reached its limit or records nothing. Shared by :func:`events_reserve` and
    :func:`~liqcascade.kernels.sales.sales_reserve`."""
    lim = n[EV_LIMIT]
    if lim < 0:
        return cap
    need = n[EV_N] + room
    if need <= cap or cap >= lim:
        return cap
    new_cap = 2 * cap
    if new_cap < need:
        new_cap = need
    if new_cap < 64:
        new_cap = 64
    if new_cap > lim:
        new_cap = lim
    return new_cap


@internal
def events_reserve(ev, room):
    """``ev`` with room for ``room`` more rows (a new, larger buffer holding the same rows when
    the current one is too small; capped at the limit). Returns ``ev`` itself when it already
    has the room or when the path records nothing."""
    cap = ev.buf.shape[0]
    new_cap = grown_capacity(ev.n, cap, room)
    if new_cap == cap:
        return ev
    buf = np.zeros(new_cap, dtype=EVENT)
    n = ev.n[EV_N]
    buf[:n] = ev.buf[:n]
    return Events(buf, ev.n)


@internal
def ev_push(buf, n, step, pos, proto, asset, seized, repaid, price, bonus, bad, fee):
    """Append one event (execution price NaN) or count it as lost when ``buf`` is full."""
    k = n[EV_N]
    if k < buf.shape[0]:
        r = buf[k]
        r["step"] = step
        r["position"] = pos
        r["protocol"] = proto
        r["asset"] = asset
        r["collateral_seized"] = seized
        r["debt_repaid"] = repaid
        r["oracle_price"] = price
        r["execution_price"] = np.nan
        r["bonus_paid"] = bonus
        r["bad_debt"] = bad
        r["protocol_fee"] = fee
        n[EV_N] = k + 1
    elif n[EV_LIMIT] >= 0:
        n[EV_LOST] += 1

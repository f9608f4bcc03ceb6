"""Ethereum gas-price percentiles (the format of ``stablesims/gas/*.json``).

The file is pandas' ``to_json(orient="table")`` output — ``{"schema": {...}, "data": [...]}`` —
or a bare JSON array of the same records. Each record has

* ``timestamp``: ISO 8601 start of the interval (UTC);
* ``doc_count``: number of transactions in the interval (optional, NaN when absent);
* ``avgGasDay``: mean gas price in wei (optional);
* one or more percentile fields named ``"<q> Perc"`` (``"30.0 Perc"``, ``"90.0 Perc"`` …), gas
  price in wei at that percentile of the interval's transactions; ``null`` (an interval without
  transactions, ``doc_count`` 0 — seven minutes of ``gas_black_thursday_1min.json``) reads as NaN.

The ``datetime`` field of the stablesims files is a 12-hour clock without AM/PM and is ignored;
``timestamp`` is authoritative. Percentile fields must be the same in every record.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ._util import check_increasing, parse_float, parse_time, read_json

__all__ = ["GasPercentiles", "load_gas_json"]

_PERC = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*Perc\s*$")
GWEI = 1e9


@dataclass(frozen=True, eq=False)
class GasPercentiles:
    """Gas prices per interval. ``values_wei[t, j]`` is percentile ``percentiles[j]`` (0–100)."""

    time_s: np.ndarray
    percentiles: tuple[float, ...]
    values_wei: np.ndarray  # float64[T, P]
    tx_count: np.ndarray  # float64[T] (NaN when the file has no doc_count)
    mean_wei: np.ndarray  # float64[T] (NaN when the file has no avgGasDay)
    source: str | None = None

    def __len__(self) -> int:
        return int(self.time_s.shape[0])

    def gwei(self, q: float) -> np.ndarray:
        """Percentile ``q`` (one of :attr:`percentiles`) in gwei."""
        try:
            j = self.percentiles.index(float(q))
        except ValueError:
            raise KeyError(f"percentile {q} not in the file (has {self.percentiles})") from None
        return self.values_wei[:, j] / GWEI

    def cost_usd(self, q: float, gas_units: float, eth_usd) -> np.ndarray:
        """Cost in USD of ``gas_units`` of gas at percentile ``q`` and ETH price ``eth_usd``."""
        return self.values_wei[:, self.percentiles.index(float(q))] * 1e-18 * gas_units * np.asarray(eth_usd)


def load_gas_json(path) -> GasPercentiles:
    """Read a gas-percentile file (see the module docstring)."""
    data, fname = read_json(path)
    if isinstance(data, dict):
        if "data" not in data:
            raise InputError(fname, None, "expected pandas table JSON with a 'data' array, or a JSON array")
        recs = data["data"]
        base = "data"
    else:
        recs = data
        base = "record"
    if not isinstance(recs, list):
        raise InputError(fname, base, f"expected an array of records, found {type(recs).__name__}")
    if not recs:
        raise InputError(fname, base, "no records")
    first = recs[0]
    if not isinstance(first, dict):
        raise InputError(fname, f"{base}[0]", f"expected an object, found {type(first).__name__}")
    perc_keys = sorted(((float(m.group(1)), k) for k in first if (m := _PERC.match(k))), key=lambda x: x[0])
    if not perc_keys:
        raise InputError(fname, f"{base}[0]", "no percentile fields (named like '90.0 Perc')")
    if "timestamp" not in first:
        raise InputError(fname, f"{base}[0]", "missing field 'timestamp'")
    for q, k in perc_keys:
        if not 0 <= q <= 100:
            raise InputError(fname, f"{base}[0], field '{k}'", "percentile must be in [0, 100]")
    n = len(recs)
    t = np.empty(n)
    vals = np.empty((n, len(perc_keys)))
    cnt = np.full(n, math.nan)
    mean = np.full(n, math.nan)
    for i, r in enumerate(recs):
        w = f"{base}[{i}]"
        if not isinstance(r, dict):
            raise InputError(fname, w, f"expected an object, found {type(r).__name__}")
        if "timestamp" not in r:
            raise InputError(fname, w, "missing field 'timestamp'")
        t[i] = parse_time(fname, f"{w}, field 'timestamp'", r["timestamp"])
        for j, (_, k) in enumerate(perc_keys):
            if k not in r:
                raise InputError(fname, w, f"missing field {k!r}")
            vals[i, j] = math.nan if r[k] is None else parse_float(fname, f"{w}, field '{k}'", r[k], min_value=0.0)
        if r.get("doc_count") is not None:
            cnt[i] = parse_float(fname, f"{w}, field 'doc_count'", r["doc_count"], min_value=0.0)
        if r.get("avgGasDay") is not None:  # null: no transactions
            mean[i] = parse_float(fname, f"{w}, field 'avgGasDay'", r["avgGasDay"], min_value=0.0)
    check_increasing(fname, t, lambda i: f"{base}[{i}], field 'timestamp'")
    with np.errstate(invalid="ignore"):
        dec = np.diff(vals, axis=1) < 0
    bad = np.flatnonzero(dec.any(axis=1)) if vals.shape[1] > 1 else np.zeros(0, int)
    if bad.size:
        i = int(bad[0])
        raise InputError(fname, f"{base}[{i}]", "percentiles must not decrease with the percentile level")
    return GasPercentiles(t, tuple(q for q, _ in perc_keys), vals, cnt, mean, fname)

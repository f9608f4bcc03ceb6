"""Oracle latency: who bears the loss, under mechanical and rational liquidators.

Runs ``examples/compare.toml`` (no mechanism) on the same seeded price paths with the oracle as
written (heartbeat: 0.5 % deviation or 1 h), with a spot oracle (no latency), with a spot
oracle read ``--lag`` seconds late and with a TWAP over ``--lag`` seconds, each under mechanical and under rational liquidators, and
prints bad debt, liquidated value, liquidator profit and borrower loss (mean over paths, with the
paired difference to the spot oracle of the same liquidator mode). The numbers in
``docs/mechanisms.md`` ("Oracle latency") come from this script.

    PYTHONPATH=src python scripts/oracle_latency.py [--paths 20] [--seed 3] [--lag 300]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from liqcascade.engine.compare import run_compare
from liqcascade.scenario.load import load_scenario

KEYS = ("bad_debt", "liquidated_value", "liquidator_profit", "borrower_loss", "positions_liquidated")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="examples/compare.toml")
    ap.add_argument("--paths", type=int, default=20)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--lag", type=float, default=300.0, help="seconds the lagged spot oracle is late")
    a = ap.parse_args()
    sc0, base = load_scenario(Path(a.scenario))
    rows = []
    for mode in ("mechanical", "rational"):
        res = {}
        for label in ("spot", f"spot lag {a.lag:g} s", f"twap {a.lag:g} s", "heartbeat (as written)"):
            sc = sc0.model_copy(deep=True)
            sc.liquidators.mode = mode
            for o in sc.oracles:
                if label == "spot":
                    o.kind, o.lag_seconds = "spot", 0.0
                elif label.startswith("spot lag"):
                    o.kind, o.lag_seconds = "spot", a.lag
                elif label.startswith("twap"):
                    o.kind, o.lag_seconds, o.window_seconds = "twap", 0.0, a.lag
            r = run_compare(sc, base, "none", paths=a.paths, seed=a.seed, source=a.scenario)
            res[label] = r.configs[0].per_path
        ref = res["spot"]
        for label, pm in res.items():
            d = {k: pm[k] - ref[k] for k in KEYS}
            rows.append((mode, label, {k: float(np.mean(pm[k])) for k in KEYS},
                         {k: (float(np.mean(d[k])), float(1.96 * np.std(d[k], ddof=1) / np.sqrt(len(d[k])))
                              if len(d[k]) > 1 else 0.0) for k in KEYS}))
    print(f"scenario {a.scenario}, {a.paths} paths, seed {a.seed}; mean over paths, then the paired "
          "difference to the spot oracle of the same liquidator mode (mean ± 95% CI)")
    print(f"{'liquidators':<11} {'oracle':<24} " + " ".join(f"{k:>36}" for k in KEYS))
    for mode, label, m, d in rows:
        print(f"{mode:<11} {label:<24} " + " ".join(f"{m[k]:>12,.0f} ({d[k][0]:>+10,.0f} ±{d[k][1]:>9,.0f})"
                                                     for k in KEYS))


if __name__ == "__main__":
    main()

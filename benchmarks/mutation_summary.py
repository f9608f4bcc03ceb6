"""Summarise a `make mutate` run: kill ratio per mutated file and overall, and the survivors.

Reads mutmut's per-file results (``mutants/**/*.py.meta``, written by ``mutmut run``) from the
current folder. The kill ratio is mutmut's own score: (killed + timed out) / (mutants tested),
where "tested" leaves out mutants mutmut skipped or never ran; mutants that no selected test
reaches ("no tests") count as not killed.

    python benchmarks/mutation_summary.py [mutants/mutmut-cicd-stats.json]
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

KILLED = {1, 3}  # pytest failed / internal error
TIMEOUT = {36, 24, -24, 152, 255}
NOT_TESTED = {None, 34, 2}  # not checked, skipped, interrupted


def summarise(root: Path = Path("mutants")) -> tuple[list[tuple[str, Counter]], list[str]]:
    rows, survivors = [], []
    for meta in sorted(root.rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        c = Counter()
        for key, code in codes.items():
            if code in NOT_TESTED:
                c["not tested"] += 1
            elif code in KILLED:
                c["killed"] += 1
            elif code in TIMEOUT:
                c["timeout"] += 1
            elif code == 0:
                c["survived"] += 1
                survivors.append(key)
            elif code in (5, 33):
                c["no tests"] += 1
                survivors.append(key + "  (no test reaches it)")
            else:
                c["other"] += 1
                survivors.append(f"{key}  (exit {code})")
        rows.append((str(meta.relative_to(root))[: -len(".meta")], c))
    return rows, survivors


def ratio(c: Counter) -> float:
    tested = sum(c.values()) - c["not tested"]
    return (c["killed"] + c["timeout"]) / tested if tested else float("nan")


def main(argv: list[str]) -> int:
    rows, survivors = summarise()
    if not rows:
        print("no mutmut results under ./mutants (run `make mutate` first)")
        return 1
    total = Counter()
    print("| file | mutants | killed | timeout | survived | no tests | kill ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, c in rows:
        total.update(c)
        print(f"| `{name}` | {sum(c.values()) - c['not tested']} | {c['killed']} | {c['timeout']} | "
              f"{c['survived']} | {c['no tests']} | {ratio(c):.1%} |")
    print(f"| **all** | {sum(total.values()) - total['not tested']} | {total['killed']} | {total['timeout']} | "
          f"{total['survived']} | {total['no tests']} | **{ratio(total):.1%}** |")
    if argv:
        p = Path(argv[0])
        if p.exists():
            print(f"\nmutmut's own totals ({p}): {json.loads(p.read_text())}")
    if survivors:
        print(f"\n{len(survivors)} surviving mutant(s) (`mutmut show NAME` shows the change):")
        for s in survivors:
            print(f"  {s}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

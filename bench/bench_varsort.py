"""Are the searched variable sorts faster than the human ones? asm/varsortN.s (a branch per
length into that length's sorting network) against asm/varsortN_found.s (superopt search,
the length objective) and, where there is one, asm/varsortN_latency.s (`--objective
latency`), side by side in one bench run per length distribution (superopt.bench:
interleaved, p5 per call with a distribution-free CI, ratio to the human kernel with its
CI), each call drawing its own length: uniform over 0..N, all full (n = N), or any
`--lengths` form.

    .venv/bin/python bench/bench_varsort.py [--tasks varsort3 varsort4] [--runs 1000]
        [--lengths uniform full 2 ...] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import superopt
from superopt.x86.isa import instruction_count

ASM = Path(__file__).resolve().parent.parent / "asm"
KINDS = ("found", "latency")   # asm/varsortN_KIND.s, beside the human asm/varsortN.s


def bench_task(task: str, runs: int, lengths: list[str]) -> list[dict]:
    files = [ASM / (task + ".s")] + [p for p in (ASM / ("%s_%s.s" % (task, k)) for k in KINDS) if p.exists()]
    sizes = {p.name: instruction_count(superopt.load(str(p))) for p in files}
    rows = []
    for dist in lengths:
        dist = str(superopt.get_task(task).n) if dist == "full" else dist
        report = superopt.bench([str(p) for p in files], task, runs=runs, lengths=dist)
        rows.append({"task": task, "lengths": report.lengths, "runs": runs, "counter": report.counter.unit,
                     "kernels": [{"file": p.name, "instructions": sizes[p.name], "cycles": round(t.value, 3),
                                  "ratio": None if t.ratio.value is None else round(t.ratio.value, 4),
                                  "ratio_ci": [None if x is None else round(x, 4)
                                               for x in (t.ratio.ci_low, t.ratio.ci_high)]}
                                 for p, t in zip(files, report.results)]})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", nargs="+", default=["varsort3", "varsort4", "varsort5"])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--lengths", nargs="+", default=["uniform", "full"], help="uniform, full (n = N), K or weights")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = []
    for task in args.tasks:
        if not (ASM / (task + "_found.s")).exists():
            print("%s: no asm/%s_found.s (run superopt search %s --out asm/%s_found.s)" % (task, task, task, task))
            continue
        rows += bench_task(task, args.runs, args.lengths)
    if args.json:
        print(json.dumps({"load": os.getloadavg(), "rows": rows}, indent=1))
        return
    print("load average %.2f %.2f %.2f" % os.getloadavg())
    for r in rows:
        human, others = r["kernels"][0], r["kernels"][1:]
        print("%-9s lengths %-24s human %d: %6.2f %s" % (r["task"], r["lengths"], human["instructions"],
                                                         human["cycles"], r["counter"]) + "".join(
            "  %s %d: %6.2f, ratio %s [%s, %s]" % (k["file"].split("_")[-1][:-2], k["instructions"], k["cycles"],
                                                  k["ratio"], *k["ratio_ci"]) for k in others))


if __name__ == "__main__":
    main()

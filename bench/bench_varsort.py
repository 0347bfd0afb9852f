"""Are the searched variable sorts faster than the human ones? asm/varsortN.s (a branch per
length into that length's sorting network) against asm/varsortN_found.s (superopt search),
side by side in one bench run per length distribution (superopt.bench: interleaved, p5 per
call with a distribution-free CI, ratio to the human kernel with its CI), each call drawing
its own length: uniform over 0..N, and all full (n = N).

    .venv/bin/python bench/bench_varsort.py [--tasks varsort3 varsort4] [--runs 1000]
        [--lengths uniform 3 ...] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import superopt
from superopt.x86.isa import instruction_count

ASM = Path(__file__).resolve().parent.parent / "asm"


def bench_task(task: str, runs: int, lengths: list[str]) -> list[dict]:
    human, found = ASM / (task + ".s"), ASM / (task + "_found.s")
    sizes = {str(p.name): instruction_count(superopt.load(str(p))) for p in (human, found)}
    rows = []
    for dist in lengths:
        dist = str(superopt.get_task(task).n) if dist == "full" else dist
        report = superopt.bench([str(human), str(found)], task, runs=runs, lengths=dist)
        timing = report.results[1]
        rows.append({"task": task, "lengths": report.lengths, "runs": runs, "instructions": sizes,
                     "human": round(report.results[0].value, 3), "found": round(timing.value, 3),
                     "ratio": round(timing.ratio.value, 4),
                     "ratio_ci": [None if x is None else round(x, 4) for x in (timing.ratio.ci_low, timing.ratio.ci_high)],
                     "counter": report.counter.unit})
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
        low, high = r["ratio_ci"]
        print("%-9s lengths %-24s human %s: %6.2f  found %s: %6.2f %s  ratio %.3f [%s, %s]" % (
            r["task"], r["lengths"], r["instructions"][r["task"] + ".s"], r["human"],
            r["instructions"][r["task"] + "_found.s"], r["found"], r["counter"], r["ratio"], low, high))


if __name__ == "__main__":
    main()

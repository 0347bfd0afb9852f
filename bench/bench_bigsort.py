"""sort6, sort7, sort8: the rewrite route's lengths and times, and its kernels timed beside the networks.

For each task, optionally (--search) runs `superopt.search(task, "rewrite", ...)` (the same
call as `superopt search sortN --agent rewrite`), printing the compiled length, the length
after the polish (and the chain, with --chain N), wall time and the load average; then times
the human network (asm/sortN.s) and the saved best (asm/sortN_best.s, or the kernel just
found) side by side, interleaved (superopt.bench: 5th percentile cycles per call, ratio to
the network with its distribution-free interval). AlphaDev's released counts (57, 76, 91)
are printed beside the lengths. With --bounds, it prints instead, for each task, the least
`rewrite.bound` over the networks the agent tries (`--networks`: all, or completed), the
fewest instructions any of them could be compiled to, and how many networks reach it.

Usage: .venv/bin/python bench/bench_bigsort.py [--tasks sort6,sort7,sort8] [--search] [--chain N]
       [--runs 1000] [--limit 3600] [--bounds [--networks all|completed]]
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

import superopt
from superopt.agents.comparators import candidates
from superopt.agents.rewrite import Plan, bound
from superopt.tasks.sort import weak_orderings

ALPHADEV = {"sort6": 57, "sort7": 76, "sort8": 91}


def search(task: str, chain: int, limit: float, seed: int):
    start = time.monotonic()
    result = superopt.search(task, "rewrite", workers=1, time_limit=limit, seed=seed,
                             params={"chain": chain} if chain else {})
    wall = time.monotonic() - start
    x = result.extras
    print("%s: rewrite of %s: compiled %d, final %d (AlphaDev %d, network %d) in %.1f s, %s programs; load %s"
          % (task, x["network"], x["compiled_length"], result.length, ALPHADEV[task],
             len(superopt.load("asm/%s.s" % task).instrs) - 1, wall, "{:,}".format(result.explored),
             "%.2f %.2f %.2f" % os.getloadavg()))
    return result.program


def bounds(task: str, networks: str) -> None:
    n = int(task[len("sort"):])
    start, ranks = time.monotonic(), weak_orderings(n).astype(np.int8)
    found = [bound(Plan(n, net, ranks)) for net in candidates(n, completed=networks == "completed").values()]
    print("%s: %d networks, least bound %d (%d reach it), in %.1f s; load %.2f %.2f %.2f"
          % (task, len(found), min(found), found.count(min(found)), time.monotonic() - start, *os.getloadavg()))


def bench(task: str, best, runs: int) -> None:
    network = superopt.load("asm/%s.s" % task)
    best = best if best is not None else superopt.load("asm/%s_best.s" % task)
    report = superopt.bench([network, best], task, runs=runs, names=["asm/%s.s" % task, "best"])
    for r in report.results:
        ratio = r.ratio
        print("  %-16s %8.2f cycles/call  ratio %s [%s, %s]" % (
            r.name, r.value, "-" if ratio.value is None else "%.3f" % ratio.value,
            "-" if ratio.ci_low is None else "%.3f" % ratio.ci_low,
            "-" if ratio.ci_high is None else "%.3f" % ratio.ci_high))
    print("  load %.2f %.2f %.2f" % os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default="sort6,sort7,sort8")
    parser.add_argument("--search", action="store_true", help="run the rewrite search first and time its kernel")
    parser.add_argument("--chain", type=int, default=0, help="stochastic proposals after the polish (0: off)")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--limit", type=float, default=3600.0, help="search time limit per task, seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bounds", action="store_true", help="print the compile bound of each task's networks")
    parser.add_argument("--networks", choices=("all", "completed"), default="all")
    args = parser.parse_args()
    print("%s, load %.2f %.2f %.2f" % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), *os.getloadavg()))
    for task in args.tasks.split(","):
        if args.bounds:
            bounds(task, args.networks)
            continue
        program = search(task, args.chain, args.limit, args.seed) if args.search else None
        bench(task, program, args.runs)


if __name__ == "__main__":
    main()

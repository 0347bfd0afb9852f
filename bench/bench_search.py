"""How fast the classical searchers reach the known lengths, next to AlphaDev's figures.

Each row runs one search through the library API (superopt.search, the same call as
`superopt search`), which re-verifies the result in Unicorn, and prints wall time,
programs explored (prefixes or proposals evaluated), whether optimality was proven and,
for enum, the length bound reached (when stopped: every shorter length was proven empty).
AlphaDev's figures (Nature 2023, Extended Data Table 2) are printed beside them; they
ran on TPUs with up to 512 actors, these run on this machine's cores.

Usage: .venv/bin/python bench/bench_search.py [--only enum-sort3,...] [--workers 2] [--limit 3600]
Rows: enum-sort3, enum-sort4, enum-sort5, enum-sort3-extended, stoch-sort3, stoch-sort4, stoch-sort5,
cold-sort3, cold-sort4, cold-sort5 (stochastic rows polish each new best with enum's suffix
re-synthesis, the default; the cold rows start from the beam search of superopt.agents.beam, no human kernel).
"""
from __future__ import annotations

import argparse
import os
import time

import superopt

ALPHADEV = {"sort3": "17 / 446K programs / 6 min", "sort4": "28 / 1.3M / 30 min", "sort5": "42 / 6.23M / 0.73 days"}
ROWS = {
    # name: (task, isa, agent, target length, warm start)
    "enum-sort3": ("sort3", "alphadev", "enum", None, None),
    "enum-sort4": ("sort4", "alphadev", "enum", None, None),
    "enum-sort5": ("sort5", "alphadev", "enum", None, None),
    "enum-sort3-extended": ("sort3", "extended", "enum", None, None),
    "stoch-sort3": ("sort3", "alphadev", "stochastic", 17, "asm/sort3.s"),
    "stoch-sort4": ("sort4", "alphadev", "stochastic", 28, "asm/sort4.s"),
    "stoch-sort5": ("sort5", "alphadev", "stochastic", 42, "asm/sort5.s"),
    # cold: the chain starts from the beam's program (superopt.agents.beam), polished; no human kernel
    "cold-sort3": ("sort3", "alphadev", "stochastic", 17, None),
    "cold-sort4": ("sort4", "alphadev", "stochastic", 28, None),
    "cold-sort5": ("sort5", "alphadev", "stochastic", 42, None),
}


def run_row(name, workers, limit, seed):
    task, isa_name, agent, target, init = ROWS[name]
    first = {}

    def report(stats: superopt.SearchStats):
        if stats.best_length is not None and stats.best_length not in first:
            first[stats.best_length] = stats.elapsed

    start = time.monotonic()
    result = superopt.search(task, agent, workers=workers, time_limit=limit, seed=seed, target_length=target,
                             init=init, isa=isa_name, max_length=60 if agent == "enum" else None,
                             steps=10 ** 9 if agent == "stochastic" else None,   # the time limit decides
                             report=report)
    wall = time.monotonic() - start
    best = result.length
    return {"row": name, "task": task, "isa": isa_name, "agent": agent, "length": best,
            "first_best_s": first.get(best, wall) if best else None, "wall_s": wall,
            "explored": result.explored, "optimal": result.optimal, "verified": result.verified,
            "stopped": result.extras.get("timed_out", False), "bound": result.extras.get("bound_reached")}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="enum-sort3,stoch-sort3,stoch-sort4,stoch-sort5")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--limit", type=float, default=3600.0, help="time limit per row, seconds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print("%-20s %-9s %7s %10s %10s %12s %-9s %6s %s" % ("row", "isa", "length", "found (s)", "wall (s)", "explored",
                                                        "optimal", "bound", "AlphaDev (length / programs / time)"))
    for name in args.only.split(","):
        r = run_row(name, args.workers, args.limit, args.seed)
        print("%-20s %-9s %7s %10s %10.2f %12d %-9s %6s %s%s" % (
            r["row"], r["isa"], r["length"], "-" if r["first_best_s"] is None else "%.2f" % r["first_best_s"],
            r["wall_s"], r["explored"], "proven" if r["optimal"] else "no", r["bound"] or "-", ALPHADEV.get(r["task"], "-"),
            "  (time limit hit)" if r["stopped"] else ""), flush=True)


if __name__ == "__main__":
    main()

"""The stochastic search on Hacker's Delight function tasks: per benchmark, gcc -O2's length,
the search's length, when it found it, the whole run's time, and how the result was checked.

    .venv/bin/python bench/bench_fsearch.py bench/hackers/p01.c bench/hackers/p03.c --steps 50000

Each search is `superopt.search(FILE, workers=W, seed=S, steps=N)` (the stochastic agent on
function tasks: warm start from gcc -O2's code on even chains, empty on odd ones).
"""
from __future__ import annotations

import argparse
import time

import superopt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--steps", type=int, default=None, help="proposals per chain (default: the agent's)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=None)
    ap.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    params = _params(args.param)
    print("| benchmark | gcc -O2 | superopt | found after | run | checked | program |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for path in args.files:
        started = time.monotonic()
        r = superopt.search(path, workers=args.workers, seed=args.seed, steps=args.steps,
                            time_limit=args.time_limit, params=params)
        run = time.monotonic() - started
        h = r.header
        program = "; ".join(i.att() for i in r.program.instrs) if r.program else "-"
        print("| %s | %s | %s | %s s | %.1f s | %s | `%s` |" % (
            path.rsplit("/", 1)[-1], h.get("reference", "?").split(", ")[-1].split()[0], r.length,
            r.extras.get("found_after"), run, h.get("checked"), program), flush=True)


def _params(items) -> dict:
    from superopt.agents.base import parse_params
    return parse_params(items)


if __name__ == "__main__":
    main()

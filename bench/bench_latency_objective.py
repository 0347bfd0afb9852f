"""`--objective latency` against the best length-optimal program, measured side by side.

Runs, through the library API (superopt.search, as `superopt search` does):
  agent-native  the AlphaDev agent, --objective latency, latency measured natively (the default)
  agent-model   the same with the dependency-chain cost model (--param latency=model)
  --compare     known length-optimal kernels (default: sort3's asm/sort3_enum.s, enum's proven-optimal
                17, one of 5,602 that enum --all needs well over 10 minutes to collect; sort4's
                asm/sort4_enum.s, enum's 28 under compared_select)
then benches all of them with the human network (asm/sortN.s) in one interleaved
superopt.bench measurement, as `superopt bench` makes (latency mode, 5th percentile, ratios to the first)
and prints how many programs each agent run timed natively and how long that took.

Usage: .venv/bin/python bench/bench_latency_objective.py [--task sort3] [--limit 120] [--runs 1000]
       [--model CKPT | --from-scratch] [--sources native,model] [--compare FILE ...]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import superopt
from superopt.x86.isa import instruction_count, with_ret

COMPARE = {"sort3": ["asm/sort3_enum.s"], "sort4": ["asm/sort4_enum.s"]}


def agent_run(task: str, source: str, limit: float, seed: int, workers: int, model: str | None, scratch: bool):
    params = {"latency": source, "patience": 1e9, "from_scratch": scratch}
    if model:
        params["model"] = model
    start = time.monotonic()
    result = superopt.search(task, "alphadev", workers=workers, time_limit=limit, seed=seed, objective="latency",
                             params=params)
    return result, time.monotonic() - start


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="sort3")
    ap.add_argument("--limit", type=float, default=120.0, help="seconds per agent search")
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--model", default=None, help="checkpoint to start the agent from (default: shipped)")
    ap.add_argument("--from-scratch", action="store_true", help="start the agent untrained")
    ap.add_argument("--sources", default="native,model", help="latency sources to run the agent with")
    ap.add_argument("--compare", action="append", default=None,
                    help="a known length-optimal kernel to bench beside the agents (repeatable)")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    programs, names = [superopt.load("asm/%s.s" % args.task)], ["human network (asm/%s.s)" % args.task]
    for source in args.sources.split(","):
        result, wall = agent_run(args.task, source, args.limit, args.seed, args.workers, args.model,
                                 args.from_scratch)
        x = result.extras
        print("agent-%-6s length %s, %d correct programs ranked natively at the end; during the search %d programs "
              "were timed natively (latency source %s), %.0f s wall" % (
                  source, result.length, (result.latency or {}).get("programs_screened", 0),
                  x.get("latency_programs_measured", 0), x.get("latency_source"), wall), flush=True)
        if result.program is not None:
            programs.append(with_ret(result.program))
            names.append("agent, latency %s (%d instructions)" % (source, result.length))
    for path in args.compare if args.compare is not None else COMPARE.get(args.task, []):
        program = superopt.load(path)
        programs.append(program)
        names.append("%s (%d instructions)" % (path, instruction_count(program)))
    report = superopt.bench(programs, args.task, runs=args.runs, names=names)
    print("\n%s, %s, counter %s (%s), %d runs x %d inputs, 5th percentile, overhead %.2f subtracted" % (
        args.task, report.mode, report.counter.name, report.counter.unit, report.runs, report.inputs_per_run,
        report.overhead.value))
    for r in report.results:
        if r.ratio.value is None:
            ratio = r.ratio.note
        elif r.ratio.ci_low is None:
            ratio = "%.3f" % r.ratio.value
        else:
            ratio = "%.3f [%.3f, %.3f]" % (r.ratio.value, r.ratio.ci_low, r.ratio.ci_high)
        print("  %-46s %8.2f  ratio %s" % (r.name, r.value, ratio))
    return 0


if __name__ == "__main__":
    sys.exit(main())

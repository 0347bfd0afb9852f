"""The Hacker's Delight peer suite: per benchmark, gcc -O2's and -O3's instruction count and
cycles, superopt's count and cycles, the time to the result, the agent and how the result was
checked, with the speed-ups' confidence intervals; then how many results are strictly shorter
than gcc -O2 or faster than it (speed-up CI above 1).

    .venv/bin/python bench/bench_hackers.py bench/hackers/p*.c --time-limit 60 --runs 300

Per benchmark, in one process: `superopt.search(FILE, agent, workers, seed, time_limit)`, then
`superopt.bench([result], FILE, runs)`, which times the result natively beside the C
function's `gcc -O2 -S` and `-O3 -S` code (each verified first), interleaved on the same
inputs (latency mode: each call's input depends on the previous call's result), 5th
percentile of cycles per call with a distribution-free CI. The speed-up is gcc -O2's cycles
over superopt's (its CI from the joint CI of the two quantiles; the same for -O3's). Counts exclude the final ret.
`--json FILE` also writes the rows.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import superopt
from superopt.tasks.csource import c_assembly


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--agent", default="stochastic")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per search (the issue's bound: 60)")
    ap.add_argument("--runs", type=int, default=300, help="bench runs per program")
    ap.add_argument("--inputs-per-run", type=int, default=10000)
    ap.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = ap.parse_args()
    from superopt.agents.base import parse_params
    params = parse_params(args.param)
    print("load average before: %.2f %.2f %.2f" % os.getloadavg())
    print("| benchmark | gcc -O2 | gcc -O3 | superopt | cycles -O2 / -O3 / superopt | speed-up vs -O2 [CI] "
          "| -O3 vs -O2 [CI] | found after / run | agent | checked | program |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    rows = []
    for path in args.files:
        rows.append(row(path, args, params))
        print(markdown(rows[-1]), flush=True)
    wins = [r["benchmark"] for r in rows if r["shorter"] or r["faster"]]
    print("\n%d/%d found, none longer than gcc -O2: %s; strictly shorter or faster (speed-up CI above 1) "
          "than gcc -O2: %d (%s); slower (CI below 1): %s" % (
              sum(r["length"] is not None for r in rows), len(rows),
              all(r["length"] is None or r["length"] <= r["o2"] for r in rows), len(wins), ", ".join(wins),
              ", ".join(r["benchmark"] for r in rows if r["slower"]) or "none"))
    print("load average after: %.2f %.2f %.2f" % os.getloadavg())
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


def _count(program) -> int:
    instrs = list(program.instrs)
    return len(instrs) - (bool(instrs) and instrs[-1].op == "ret")


def row(path: str, args, params: dict) -> dict:
    name = os.path.basename(path).rsplit(".", 1)[0]
    task = superopt.get_task(path)
    out = {"benchmark": name, "o2": _count(c_assembly(task, opt=("-O2",))), "o3": _count(c_assembly(task, opt=("-O3",))),
           "agent": args.agent, "load": round(os.getloadavg()[0], 1)}
    started = time.monotonic()
    r = superopt.search(path, agent=args.agent, workers=args.workers, seed=args.seed,
                        time_limit=args.time_limit, params=params)
    out.update(run=round(time.monotonic() - started, 1), length=r.length, found_after=r.extras.get("found_after"),
               checked=r.header.get("checked"), program="; ".join(i.att() for i in r.program.instrs) if r.program else "")
    # gcc -O2's code goes first, so every ratio has it as denominator (resolved: the kernels of
    # one or two instructions can be within noise of the harness's own cost); bench adds gcc -O2
    # and -O3 again after the kernels it is given
    o2 = c_assembly(task, opt=("-O2",))
    programs = [o2] + ([r.program] if r.program is not None else [])
    report = superopt.bench(programs, path, runs=args.runs, inputs_per_run=args.inputs_per_run, seed=args.seed,
                            names=["gcc -O2"] + ["superopt"] * (len(programs) - 1))
    timed = report.results
    mine = timed[1] if r.program is not None else None
    out["cycles"] = [round(t.value, 2) for t in (timed[0], timed[-1])] + ([round(mine.value, 2)] if mine else [])
    out["speedup"] = _speedup(mine.ratio) if mine else None     # gcc -O2 / superopt
    out["o3_ratio"] = _speedup(timed[-1].ratio)                 # gcc -O2 / gcc -O3
    speed = out["speedup"]
    out["shorter"] = r.length is not None and r.length < out["o2"]
    out["faster"] = bool(speed and speed[1] is not None and speed[1] > 1)
    out["slower"] = bool(speed and speed[2] is not None and speed[2] < 1)
    return out


def _speedup(ratio):
    """A bench ratio x / gcc -O2 as the speed-up gcc -O2 / x: (value, low, high), or None."""
    if ratio.value is None:
        return None
    inv = lambda v: None if v is None or v <= 0 else 1.0 / v
    return (inv(ratio.value), inv(ratio.ci_high), inv(ratio.ci_low))


def _speed(s) -> str:
    if s is None:
        return "-"
    return "%.2f [%s, %s]" % (s[0], "-" if s[1] is None else "%.2f" % s[1], "-" if s[2] is None else "%.2f" % s[2])


def markdown(r: dict) -> str:
    return "| %s | %d | %d | %s | %s | %s | %s | %s s / %s s | %s | %s | `%s` |" % (
        r["benchmark"], r["o2"], r["o3"], "-" if r["length"] is None else r["length"],
        " / ".join("%.2f" % c for c in r["cycles"]), _speed(r["speedup"]), _speed(r["o3_ratio"]),
        r["found_after"], r["run"], r["agent"], r["checked"] or "-", r["program"] or "-")


if __name__ == "__main__":
    main()

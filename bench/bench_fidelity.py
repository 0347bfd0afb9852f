"""How far can superopt's native timing be trusted? Measured side by side, in one run.

  1. Repeatability: the same kernel twice within one interleaved measurement, and the same
     measurement repeated later in the session (p5 should agree within a few percent).
  2. Resolution: on random inputs in latency mode, the branchy insertion sort (mispredicts)
     against the network; two branchless networks whose critical paths differ by one
     compare-exchange (asm/sort3_deep.s); the libc++-style C baseline. Then the same with
     sorted inputs (branches predictable) and in throughput mode.
     Why every run draws fresh inputs: the same inputs timed again and again.
  3. The two counters (perf core cycles, rdtsc) rank alike.
  4. The human networks sort3..sort8 against the libc++-style baselines, latency and
     throughput: instruction count is not latency.

  5. Any kernels given on the command line (e.g. what search found), each against the human
     network for its task and the libc++-style baseline.

Every measurement is a superopt.bench call (as `superopt bench` makes), with the counter
chosen once (superopt.measure.counters) and shown with the CLI's table (superopt.cli.bench).

Usage: .venv/bin/python bench/bench_fidelity.py [found.s ...] [--runs 1000] [--inputs-per-run 10000]
       [--counter auto]
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys

from rich.console import Console

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import superopt  # noqa: E402
from superopt.cli.bench import report_table  # noqa: E402
from superopt.measure.counters import select_counter  # noqa: E402
from superopt.x86.isa import instruction_count  # noqa: E402

console = Console(width=140, highlight=False)


def machine() -> str:
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return "%s, %d cores, Linux %s, Python %s" % (model, os.cpu_count(), platform.release(),
                                                  platform.python_version())


def asm(name: str):
    return superopt.load(os.path.join(ROOT, "asm", name))


def baseline(task_name: str) -> str:
    """The libc++-style C baseline's path (superopt.bench compiles it with -O2)."""
    return os.path.join(ROOT, "bench", "baselines", task_name + ".c")


def show(report, title: str) -> None:
    console.print(report_table(report, title="%s (%s mode, %s inputs, %s, %d runs x %d calls)" % (
        title, report.mode, report.distribution, report.counter.unit, report.runs, report.inputs_per_run)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", help="more kernels to compare with the human networks")
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--inputs-per-run", type=int, default=10000)
    ap.add_argument("--counter", default="auto", choices=("auto", "perf", "tsc"))
    args = ap.parse_args()
    counter = select_counter(args.counter)
    common = dict(runs=args.runs, inputs_per_run=args.inputs_per_run, counter=counter)
    console.print("superopt timing fidelity, %s UTC" % datetime.datetime.now(datetime.timezone.utc)
                  .strftime("%Y-%m-%d %H:%M"))
    console.print("machine: " + machine())
    console.print("counter: %s (%s): %s" % (counter.name, counter.unit, counter.reason))
    sort3 = superopt.get_task("sort3")

    # 1. Repeatability
    console.rule("1. repeatability")
    net = asm("sort3.s")
    first = superopt.bench([net, net], sort3, names=["sort3.s", "sort3.s again"], **common)
    show(first, "the same kernel twice, interleaved")
    again = superopt.bench([net], sort3, names=["sort3.s"], **common)
    a, b = first.results[0].value, again.results[0].value
    console.print("p5 of sort3.s in two separate measurements: %.3f and %.3f %s (differ by %.2f%%)"
                  % (a, b, counter.unit, 100 * abs(a - b) / a))
    console.print("harness overhead subtracted: %.3f and %.3f %s per call"
                  % (first.overhead.value, again.overhead.value, counter.unit))

    # 2. Resolution
    console.rule("2. resolution")
    programs = [net, asm("sort3_insertion.s"), asm("sort3_deep.s"), baseline("sort3")]
    names = ["sort3.s (network)", "sort3_insertion.s (branchy)", "sort3_deep.s (+1 compare-exchange)",
             "baselines/sort3.c (libc++ style, gcc -O2)"]
    reports = {}
    for mode, dist in (("latency", "random"), ("latency", "sorted"), ("throughput", "random")):
        rep = reports[mode, dist] = superopt.bench(programs, sort3, names=names, mode=mode, distribution=dist,
                                                   **common)
        show(rep, "sort3 kernels")
        deep = rep.results[2].ratio
        if deep.value is None:
            verdict = "no ratio (%s)" % deep.note
        elif deep.ci_low is None or deep.ci_high is None:   # (few runs, e.g. a smoke test)
            verdict = "ratio %.3f, no CI (%s)" % (deep.value, deep.note)
        else:
            verdict = "ratio %.3f [%.3f, %.3f], the CI %s 1" % (
                deep.value, deep.ci_low, deep.ci_high, "excludes" if deep.excludes_one() else "does NOT exclude")
        console.print("one extra compare-exchange on the critical path: " + verdict)

    # 2b. Why every run draws fresh inputs: the branch predictor learns a repeated input set.
    # one run per call, all with seed 0: every call times the same inputs
    repeated = [superopt.bench([programs[1]], sort3, runs=1, inputs_per_run=args.inputs_per_run, counter=counter,
                               seed=0).results[0].value for _ in range(8)]
    console.print("sort3_insertion.s timed 8 times on the SAME %d inputs: %s %s per call (fresh inputs: "
                  "%.2f above)" % (args.inputs_per_run, ", ".join("%.1f" % v for v in repeated), counter.unit,
                                   reports["latency", "random"].results[1].value))

    # 3. The two clocks should rank alike; their quotient is the core clock over the TSC rate.
    if counter.name == "perf":
        console.rule("3. perf core cycles and rdtsc reference cycles")
        by = {c: superopt.bench(programs[:3], sort3, names=names[:3], **dict(common, counter=select_counter(c)))
              for c in ("perf", "tsc")}
        for i in (1, 2):
            console.print("%s, ratio to the network: perf %.3f, tsc %.3f" % (
                names[i], by["perf"].results[i].ratio.value, by["tsc"].results[i].ratio.value))
        console.print("core cycles per TSC tick (network p5, perf / tsc): %.3f"
                      % (by["perf"].results[0].value / by["tsc"].results[0].value))

    # 4. Networks against the libc++-style baselines
    console.rule("4. networks sort3..sort8 and libc++-style baselines")
    for n in range(3, 9):
        compare_with_humans([], "sort%d" % n, common)

    # 5. Kernels from the command line
    if args.files:
        console.rule("5. given kernels against the human networks")
    for path in args.files:
        program, task = superopt.resolve(path)
        compare_with_humans([(program, "%s (%d instructions)" % (path, instruction_count(program)))],
                            task.name, common)


def compare_with_humans(extra: list, name: str, common: dict) -> None:
    """The human network for task `name` (asm/NAME.s), the given (program, label) pairs and
    the libc++-style baseline if there is one, in latency and throughput mode."""
    human = asm(name + ".s")
    programs = [human] + [p for p, _ in extra]
    names = ["%s.s (%d instructions)" % (name, instruction_count(human))] + [label for _, label in extra]
    if os.path.exists(os.path.join(ROOT, "bench", "baselines", name + ".c")):
        programs.append(baseline(name))
        names.append("baselines/%s.c (libc++ style, gcc -O2)" % name)
    for mode in ("latency", "throughput"):
        show(superopt.bench(programs, name, names=names, mode=mode, **common), name)


if __name__ == "__main__":
    main()

"""varint32 (or varint64, varint32_len) decoders timed natively side by side: the given kernels
(default the shipped asm/varint32_found.s, asm/varint64_found.s, asm/varint32_len.s) beside gcc
-O2 and -O3 of the plain loop (bench/varint/varint.c, from `gcc -S`, verified like the kernels),
per length distribution, with ratios to the first.

    .venv/bin/python bench/bench_varint.py --runs 1000 --lengths uniform 1 5
    .venv/bin/python bench/bench_varint.py --task varint32_len --lengths uniform 1 5 0.5,0.2,0.1,0.1,0.1

Each distribution (`superopt bench --lengths`'s forms: superopt.tasks.lengths) is one
`superopt.bench` call (latency mode: each call's buffer address
waits for the previous result; lengths drawn per call, so the loop's branch predictor sees
the mix a caller would). Figures are the 5th percentile of cycles per call (the counter
bench picks: rdtsc's reference cycles on this VM), overhead subtracted, with 95% CIs.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

import superopt
from superopt.tasks.lengths import with_lengths

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "varint", "varint.c")
SHIPPED = {"varint32": "varint32_found.s", "varint64": "varint64_found.s", "varint32_len": "varint32_len.s"}


def gcc_loop(task: str, opt: str, out_dir: str) -> superopt.Program:
    """gcc's code of the plain loop for `task` at `opt`, parsed."""
    path = os.path.join(out_dir, "varint%s.s" % opt)
    subprocess.run(["gcc", opt, "-S", "-o", path, SOURCE], check=True)
    program = superopt.load("%s:%s" % (path, task))
    program.path = "gcc %s loop" % opt
    return program


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kernels", nargs="*", help="default: the task's shipped kernel")
    ap.add_argument("--task", default="varint32", choices=sorted(SHIPPED))
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--inputs-per-run", type=int, default=10000)
    ap.add_argument("--lengths", nargs="+", default=["uniform", "1"],
                    help="length distributions: uniform (each of 1..max equally often), K (all K bytes), or "
                         "weights w1,...,wmax or K:W,...")
    args = ap.parse_args()
    for lengths in args.lengths:   # refused before any timing
        with_lengths(superopt.get_task(args.task), lengths)
    args.kernels = args.kernels or [os.path.join(HERE, "..", "asm", SHIPPED[args.task])]
    with tempfile.TemporaryDirectory() as tmp:
        programs = [superopt.load(k, args.task) for k in args.kernels]
        programs += [gcc_loop(args.task, opt, tmp) for opt in ("-O2", "-O3")]
        names = [os.path.relpath(k) for k in args.kernels] + ["gcc -O2 loop", "gcc -O3 loop"]
        counts = ["%d" % superopt.x86.isa.instruction_count(p) for p in programs]
        print("uptime: %s" % os.popen("uptime").read().strip())
        for lengths in args.lengths:
            report = superopt.bench(programs, args.task, runs=args.runs, inputs_per_run=args.inputs_per_run,
                                    lengths=lengths, names=names)
            print("\n%s, lengths %s (%s), %d runs x %d calls, %s" % (args.task, lengths, report.lengths, report.runs,
                                                                    args.inputs_per_run, report.counter.unit))
            print("| program | instructions | p5 [95% CI] | ratio to first [95% CI] |")
            print("| --- | --- | --- | --- |")
            for r, n in zip(report.results, counts):
                ratio = "-" if r.ratio.value is None else "%.3f [%s, %s]" % (
                    r.ratio.value, _f(r.ratio.ci_low), _f(r.ratio.ci_high))
                print("| %s | %s | %.2f [%s, %s] | %s |" % (r.name, n, r.value, _f(r.ci_low), _f(r.ci_high), ratio))
        print("uptime: %s" % os.popen("uptime").read().strip())


def _f(x) -> str:
    return "?" if x is None else "%.3f" % x


if __name__ == "__main__":
    try:
        main()
    except superopt.SuperoptError as e:   # bad input: one line, as the CLI does
        print("bench_varint.py: %s" % e, file=sys.stderr)
        raise SystemExit(2) from None

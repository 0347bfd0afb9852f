"""Cross-check superopt's measured cycles against an independent model: llvm-mca.

For every straight-line kernel (no branches: llvm-mca ignores control flow) this prints
llvm-mca's estimate for one execution (Total Cycles of a single iteration: roughly the
critical path from the first load to the last store, plus dispatch) and its steady-state
Block RThroughput, beside superopt's latency-mode and throughput-mode figures measured on
this CPU in one interleaved run. They should agree in order of magnitude; the measured
latency also contains one store-to-load round trip more than the empty harness has, and
llvm-mca models a related, not identical, microarchitecture (see --mcpu). Kernels are loaded
and timed through the library API (superopt.resolve, superopt.bench); the counter is chosen
once with superopt.measure.counters so the header can say which and why.

Usage: .venv/bin/python bench/bench_mca.py [extra.s ...] [--runs 300] [--mcpu znver3]
"""
from __future__ import annotations

import argparse
import datetime
import glob
import os
import re
import subprocess
import sys
import tempfile

from rich.console import Console
from rich.table import Table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_fidelity import machine  # noqa: E402
import superopt  # noqa: E402
from superopt.measure.counters import select_counter  # noqa: E402
from superopt.x86.isa import BRANCHES, format_program, instruction_count  # noqa: E402

console = Console(width=140, highlight=False)


def mca(program, mcpu: str) -> tuple[int, float]:
    """llvm-mca's (Total Cycles for one iteration, Block RThroughput) for a kernel body."""
    lines = [ln for ln in format_program(program, "att") if ln.strip() != "ret" and not ln.endswith(":")]
    with tempfile.NamedTemporaryFile("w", suffix=".s", delete=False) as f:
        f.write("\n".join(lines) + "\n")
    try:
        out = subprocess.run(["llvm-mca", "-mcpu=" + mcpu, "-iterations=1", f.name],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(f.name)
    cycles = int(re.search(r"Total Cycles:\s+(\d+)", out).group(1))
    rthroughput = float(re.search(r"Block RThroughput:\s+([\d.]+)", out).group(1))
    return cycles, rthroughput


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", help="more kernels (e.g. what search found)")
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--inputs-per-run", type=int, default=10000)
    ap.add_argument("--counter", default="auto", choices=("auto", "perf", "tsc"))
    ap.add_argument("--mcpu", default="znver3", help="llvm-mca CPU model (LLVM 14 knows up to znver3)")
    args = ap.parse_args()
    counter = select_counter(args.counter)
    paths = sorted(glob.glob(os.path.join(ROOT, "asm", "sort*.s"))) + args.files
    console.print("superopt vs llvm-mca, %s UTC" % datetime.datetime.now(datetime.timezone.utc)
                  .strftime("%Y-%m-%d %H:%M"))
    console.print("machine: %s; llvm-mca -mcpu=%s" % (machine(), args.mcpu))
    console.print("counter: %s (%s): %s" % (counter.name, counter.unit, counter.reason))
    table = Table(title="per call: llvm-mca model vs measured (p5, harness overhead subtracted, %s)" % counter.unit)
    for col in ("kernel", "instr", "mca 1-iteration cycles", "measured latency", "latency / mca",
                "mca RThroughput", "measured throughput"):
        table.add_column(col, justify="left" if col == "kernel" else "right")
    for path in paths:
        program, task = superopt.resolve(path)
        name = os.path.relpath(path, ROOT)
        if any(ins.op in BRANCHES for ins in program.instrs):
            console.print("skipped %s: it branches (llvm-mca ignores control flow)" % name)
            continue
        cycles, rthroughput = mca(program, args.mcpu)
        figures = {}
        for mode in ("latency", "throughput"):
            rep = superopt.bench([program], task, runs=args.runs, inputs_per_run=args.inputs_per_run, mode=mode,
                                 counter=counter, names=[name])
            figures[mode] = rep.results[0]
        lat, thr = figures["latency"], figures["throughput"]
        table.add_row(name, str(instruction_count(program)), str(cycles), "%.2f" % lat.value,
                      "%.2f" % (lat.value / cycles), "%.2f" % rthroughput,
                      "%.2f%s" % (thr.value, "" if thr.resolved else " ≈0"))
    console.print(table)


if __name__ == "__main__":
    main()

"""Does the instruction table's latency match this CPU? Each latency class timed natively.

For each class in superopt.x86.semantics (and a load, whose cost the cost model charges as
LOAD_CYCLES), a kernel is a chain of instructions each waiting for the one before (through
%eax), starting from a[0] and ending in a store to a[0], so that in the harness's latency
mode each call waits for the one before (otherwise the CPU overlaps the chains of successive
calls and times their throughput). Chains of K and 2K instructions are timed in one
interleaved run and the difference over K is the latency per instruction, free of the
fixed costs (the load, the store, the call). The counter may tick at another rate than the
core (rdtsc), so every figure is also given in units of the 1-cycle `add` chain, which is
what the table's cycles should match. The chains are superopt's own code (registers rax/rcx and the red
zone only), run in Unicorn first (every rule of the contract but the sorted result must
hold), then timed like the harness's calibration kernels.

Measures the timing harness directly (superopt.measure.timing.time_kernels), not the API:
these kernels compute nothing a task defines.

Usage: .venv/bin/python bench/bench_semantics.py [--chain 64] [--runs 300] [--inputs-per-run 2000]
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys

from rich.console import Console
from rich.table import Table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import superopt  # noqa: E402
from superopt.measure.cost import cost_model  # noqa: E402
from superopt.measure.counters import select_counter  # noqa: E402
from superopt.measure.timing import time_kernels  # noqa: E402
from superopt.run.native import kernel_of  # noqa: E402
from superopt.x86.parser import parse_text  # noqa: E402

# (what, setup after loading a[0] into %eax, the chained instruction): each instance reads
# %eax/%rax and writes it
CHAINS = [
    ("alu: add", "movl $1, %ecx", "addl %ecx, %eax"),
    ("alu: xor", "movl $1, %ecx", "xorl %ecx, %eax"),
    ("shift: shl $1", "", "shll $1, %eax"),
    ("select: cmovl", "movl $1, %ecx\ncmpl %ecx, %ecx", "cmovll %ecx, %eax"),
    ("move: two movs (renamed away?)", "", "movl %eax, %ecx\nmovl %ecx, %eax"),
    ("lea: base + disp", "", "leal 1(%rax), %eax"),
    ("lea: base + index*2", "", "leal (%rax,%rax,2), %eax"),
    ("lea-complex: base + index + disp", "", "leal 1(%rax,%rax), %eax"),
    ("load: mov -8(%rsp,%rax)", "andl $0, %eax\nmovq $0, -8(%rsp)", "movq -8(%rsp,%rax), %rax"),
    # the general ISA (issue 18)
    ("multiply: imul", "movl $1, %ecx", "imull %ecx, %eax"),
    ("multiply: imul $3", "", "imull $3, %eax, %eax"),
    ("multiply-wide: mul, eax", "movl $1, %ecx", "mull %ecx"),
    ("multiply-wide: mulq, rax", "movl $1, %ecx", "mulq %rcx"),
    ("multiply-wide: mulq, rdx + xor", "movl $1, %ecx", "mulq %rcx\nxorq %rdx, %rax"),
    ("multiply: imulq", "movl $1, %ecx", "imulq %rcx, %rax"),
    ("bitscan: bsf", "", "bsfl %eax, %eax"),
    ("bitscan: bsr", "", "bsrl %eax, %eax"),
    ("bitscan: bsfq", "", "bsfq %rax, %rax"),
    ("alu: popcnt", "", "popcntl %eax, %eax"),
    ("alu: lzcnt", "", "lzcntl %eax, %eax"),
    ("bit: tzcnt", "", "tzcntl %eax, %eax"),
    ("bit: tzcntq", "", "tzcntq %rax, %rax"),
    ("alu: popcntq", "", "popcntq %rax, %rax"),
    ("deposit: pdep", "movl $-1, %ecx", "pdep %ecx, %eax, %eax"),
    ("deposit: pext", "movl $-1, %ecx", "pext %ecx, %eax, %eax"),
    ("shift: rol $3", "", "roll $3, %eax"),
    ("shift: rorx", "", "rorx $3, %eax, %eax"),
    ("shift: shlx", "movl $1, %ecx", "shlx %ecx, %eax, %eax"),
    ("bit: bzhi", "movl $31, %ecx", "bzhi %ecx, %eax, %eax"),
    ("alu: andn", "movl $-1, %ecx", "andn %ecx, %eax, %eax"),
    ("alu: blsr", "", "blsrl %eax, %eax"),
    ("alu: blsi", "", "blsil %eax, %eax"),
    ("alu: blsmsk", "", "blsmskl %eax, %eax"),
    ("shift: sarx", "movl $1, %ecx", "sarx %ecx, %eax, %eax"),
    ("shift: ror %cl", "movl $3, %ecx", "rorl %cl, %eax"),
    ("bit: bt + adc", "movl $3, %ecx", "btl %ecx, %eax\nadcl $0, %eax"),
    ("alu: cltd + xor", "", "cltd\nxorl %edx, %eax"),
]


def table_cycles(line: str) -> int:
    """What the instruction table says a link of the chain costs: the cost model's figure for
    two links less one (the steady state through %eax, as the K and 2K chains measure it)."""
    return cost_model(parse_text(line + "\n" + line).instrs) - cost_model(parse_text(line).instrs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chain", type=int, default=64, help="dependent instructions per kernel")
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--inputs-per-run", type=int, default=2000)
    ap.add_argument("--counter", default="auto")
    args = ap.parse_args()
    console = Console(highlight=False)
    counter = select_counter(args.counter)
    task = superopt.get_task("sort3")   # the harness needs a task's inputs; the chains ignore them
    programs = {"%s x%d" % (what, k): parse_text("\n".join(["movl (%rdi), %eax", setup] + [line] * k +
                                                           ["movl %eax, (%rdi)", "ret"]) + "\n")
                for what, setup, line in CHAINS for k in (args.chain, 2 * args.chain)}
    for name, program in programs.items():   # in Unicorn first: every rule but the (sorted) result holds
        broken = {v.rule for v in superopt.verify(program, task, random_count=0).violations} - {"result"}
        if broken:
            raise SystemExit("%s breaks %s in the emulator; not run natively" % (name, ", ".join(sorted(broken))))
    kernels = [kernel_of(program, name) for name, program in programs.items()]
    report = time_kernels(kernels, task, runs=args.runs, inputs_per_run=args.inputs_per_run, mode="latency",
                          counter=counter, distribution="random", seed=0, quantile=0.05, confidence=0.95)
    values = [r.value for r in report.results]
    per = [(values[2 * i + 1] - values[2 * i]) / args.chain for i in range(len(CHAINS))]
    unit = per[0]   # the add chain: one core cycle per instruction
    console.print("%s, %s: %s; chains of %d, %d runs x %d calls, p5, overhead subtracted" % (
        datetime.date.today(), counter.name, counter.reason, args.chain, args.runs, args.inputs_per_run))
    table = Table(title="latency per chained instruction: the table against this CPU")
    for col in ("chain", "%s per instr" % counter.unit, "in add-cycles", "table says", "agrees"):
        table.add_column(col, justify="left" if col == "chain" else "right")
    for (what, _, line), value in zip(CHAINS, per):
        measured, expected = value / unit, table_cycles(line)
        table.add_row(what, "%.2f" % value, "%.2f" % measured, str(expected),
                      "yes" if abs(measured - expected) <= 0.25 * max(expected, 1) + 0.15 else "NO")
    console.print(table)


if __name__ == "__main__":
    main()

"""Lifting with angr (pyvex + claripy) beside superopt's own lifter (check/lift.py over
x86/compute.py), on the Hacker's Delight suite: gcc -O3's code proven equal to gcc -O2's, as
`bench/bench_smt.py --hackers` does with superopt's lifter.

angr is not a dependency of superopt (it pulls ~40 packages); run this in a venv of its own:
    python3 -m venv /tmp/angrv && /tmp/angrv/bin/pip install angr
    /tmp/angrv/bin/python bench/bench_angr.py [--opt -O3] [--timeout 30]
Per benchmark it compiles both levels with gcc, runs each function symbolically from a blank
System V call state (arguments symbolic, 8/16-bit ones extended to 32 bits as superopt's entry
rule says), merges the return paths, and asks claripy (z3) whether the return type's bits of
%rax can differ. It prints the time for lifting plus the proof, and what failed.
"""
from __future__ import annotations

import argparse
import glob
import os
import re
import statistics
import subprocess
import tempfile
import time

import angr
import claripy

ARGS = ("rdi", "rsi", "rdx", "rcx", "r8", "r9")
WIDTHS = {"int8_t": (8, True), "uint8_t": (8, False), "int16_t": (16, True), "uint16_t": (16, False),
          "int32_t": (32, True), "uint32_t": (32, False), "int": (32, True), "unsigned": (32, False),
          "int64_t": (64, True), "uint64_t": (64, False), "bool": (8, False)}


def prototype(path: str):
    """(name, return width, [(width, signed)]) of the file's function: the suite's files are
    one-line definitions of fixed-width types (superopt reads DWARF; this script needs only these)."""
    text = open(path).read()
    m = re.search(r"^(\w+)\s+(\w+)\(([^)]*)\)\s*\{", text, re.M)
    ret, name, params = m.groups()
    types = [p.strip().rsplit(" ", 1)[0] for p in params.split(",") if p.strip()]
    return name, WIDTHS[ret][0], [WIDTHS[t] for t in types]


def result(obj: str, name: str, params, symbols):
    project = angr.Project(obj, auto_load_libs=False)
    fn = project.loader.find_symbol(name)
    state = project.factory.call_state(fn.rebased_addr, add_options=angr.options.unicorn - angr.options.unicorn)
    for reg, (width, signed), sym in zip(ARGS, params, symbols):
        low = sym.sign_extend(32 - width) if width < 32 and signed else sym.zero_extend(32 - width) if width < 32 else sym
        high = claripy.BVS("high_" + reg, 64 - low.size()) if low.size() < 64 else None
        setattr(state.regs, reg, low if high is None else claripy.Concat(high, low))
    sim = project.factory.simulation_manager(state)
    sim.run()
    finals = sim.deadended
    if not finals:
        raise RuntimeError("no path returned (%s)" % ", ".join("%s: %d" % (k, len(v)) for k, v in sim.stashes.items() if v))
    out = finals[0].regs.rax
    for s in finals[1:]:
        out = claripy.If(claripy.And(*s.solver.constraints) if s.solver.constraints else claripy.true(), s.regs.rax, out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--opt", default="-O3")
    ap.add_argument("--timeout", type=float, default=30)
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    times, failed = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(glob.glob(os.path.join(here, "hackers", "p*.c"))):
            key = os.path.basename(path)[:-2]
            name, ret_width, params = prototype(path)
            objs = []
            for opt in ("-O2", args.opt):
                obj = os.path.join(tmp, "%s%s.o" % (key, opt))
                subprocess.run(["gcc", opt, "-c", path, "-o", obj], check=True)
                objs.append(obj)
            started = time.perf_counter()
            try:
                symbols = [claripy.BVS("arg%d" % i, w) for i, (w, _) in enumerate(params)]
                a, b = (result(o, name, params, symbols) for o in objs)
                solver = claripy.Solver(timeout=int(args.timeout * 1000))
                differs = solver.satisfiable(extra_constraints=[a[ret_width - 1:0] != b[ret_width - 1:0]])
                seconds = time.perf_counter() - started
                times.append(seconds)
                print("%s %-8s %.2f s" % (key, "REFUTED" if differs else "proven", seconds), flush=True)
            except Exception as exc:  # noqa: BLE001: the measurement records what angr cannot do
                failed.append(key)
                print("%s failed after %.2f s: %s" % (key, time.perf_counter() - started,
                                                     str(exc).splitlines()[0][:100]), flush=True)
    if times:
        print("angr: %d/%d proven or refuted, median %.2f s, max %.2f s; failed: %s"
              % (len(times), len(times) + len(failed), statistics.median(times), max(times), ", ".join(failed) or "none"))


if __name__ == "__main__":
    main()

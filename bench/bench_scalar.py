"""How fast does superopt run a scalar function in Unicorn? The batched driver of
superopt.run.scalar against one `emu_start` per input (registers written from Python: the
argument registers plus the rest, as the driver loads them), side by side in one run, on
Hacker's Delight kernels from gcc -O2; and the time of a whole verify per benchmark.

    .venv/bin/python bench/bench_scalar.py [--inputs N] [--json]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from unicorn import x86_const as ux

from superopt import api
from superopt.run.layout import CODE_BASE, CODE_SIZE, KERNEL_BASE, SLOT
from superopt.run.scalar import machine
from superopt.x86.assembler import assemble
from superopt.x86.isa import FAMILIES

HACKERS = Path(__file__).resolve().parent / "hackers"
NAMES = ["p01", "p10", "p19", "p21", "p23"]


def gcc_program(path: Path, task):
    asm = subprocess.run(["gcc", "-O2", "-S", "-fcf-protection=none", "-o", "-", str(path)], check=True,
                         capture_output=True, text=True).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".s", delete=False) as f:
        f.write(asm)
    return api.load(f.name, task)


def per_input(code: bytes, signature, args: np.ndarray) -> float:
    """Seconds per input with one emu_start each, all 16 registers written from Python."""
    m = machine()
    m.load(code)
    uc = m.uc
    records = m.records(signature, args, 1)
    # Unicorn compiles the stop address into translated blocks: the driver's were translated
    # for the batched runs' stop, so drop them before stopping at the return address instead
    uc.ctl_remove_cache(CODE_BASE, CODE_BASE + CODE_SIZE)
    regs = [getattr(ux, "UC_X86_REG_" + name.upper()) for name in FAMILIES]
    started = time.perf_counter()
    for row in records:
        for reg, value in zip(regs, row[:len(FAMILIES)].tolist()):
            uc.reg_write(reg, value)
        uc.reg_write(ux.UC_X86_REG_RSP, SLOT)
        uc.emu_start(KERNEL_BASE, m.post)
        uc.reg_read(ux.UC_X86_REG_RAX)
    return (time.perf_counter() - started) / len(args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=20_000)
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    rows = []
    for name in NAMES:
        task = api.get_task(str(HACKERS / (name + ".c")))
        program = gcc_program(HACKERS / (name + ".c"), task)
        code = assemble(program, base=KERNEL_BASE).code
        args = task.inputs(np.random.default_rng(0), opts.inputs)[:opts.inputs]
        machine().run(code, task.signature, args[:100])        # warm up
        started = time.perf_counter()
        machine().run(code, task.signature, args, seed=1)
        batched = (time.perf_counter() - started) / len(args)
        single = per_input(code, task.signature, args[:min(len(args), 5000)])
        verdict = api.verify(program, task)
        rows.append({"task": name, "inputs": len(args), "batched_us": batched * 1e6, "per_input_us": single * 1e6,
                     "speedup": single / batched, "verify_inputs": verdict.inputs, "verify_s": verdict.seconds})
    if opts.json:
        print(json.dumps(rows, indent=2))
        return
    print("%-5s %8s %12s %14s %8s %14s %9s" % ("task", "inputs", "batched us", "per-input us", "ratio",
                                             "verify inputs", "verify s"))
    for r in rows:
        print("%-5s %8d %12.2f %14.2f %7.1fx %14d %9.2f" % (r["task"], r["inputs"], r["batched_us"], r["per_input_us"],
                                                        r["speedup"], r["verify_inputs"], r["verify_s"]))


if __name__ == "__main__":
    main()

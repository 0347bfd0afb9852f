"""How fast is `superopt verify`? Times superopt.verify on the asm/ kernels and compares one
`emu_start` per input with the batched driver, side by side in one run.
The emulator figures measure superopt.run.emulator itself (batching, memory hooks, timeout).

    .venv/bin/python bench/bench_verify.py [--random N] [--repeat K] [--json]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from unicorn import x86_const as ux

import superopt
import superopt.run.emulator as emu_module
from superopt.run.emulator import TIMEOUT_US, Emulator
from superopt.run.layout import CODE_BASE, CODE_SIZE, KERNEL_BASE, SLOT, array_address

ASM = Path(__file__).resolve().parent.parent / "asm"
KERNELS = ["sort3", "sort4", "sort5", "sort6", "sort7", "sort8", "varsort3", "varsort4", "varsort5"]


def time_verify(name: str, random_count: int, repeat: int) -> dict:
    program, task = superopt.resolve(ASM / (name + ".s"))
    superopt.verify(program, task, random_count=0)  # warm up: proof inputs cached by nobody, driver assembled
    best = None
    for _ in range(repeat):
        verdict = superopt.verify(program, task, random_count=random_count)
        assert verdict.passed and verdict.proof
        best = verdict.seconds if best is None else min(best, verdict.seconds)
    return {"kernel": name, "inputs": verdict.inputs, "seconds": best,
            "inputs_per_s": verdict.inputs / best, "runs_per_s": 2 * verdict.inputs / best}


def per_call_vs_batched(count: int = 20_000) -> dict:
    """The fixed cost of emu_start: `count` sort3 inputs with one bare emu_start each (write
    the array, set %rdi and %rsp, run to the return address, read the array back), then
    all of them through the batched driver."""
    program, task = superopt.resolve(ASM / "sort3.s")
    arrays, lengths = task.random_inputs(np.random.default_rng(0), count)
    emu = Emulator()
    emu.load(program)
    emu.run(3, (3,), arrays[:10], lengths[:10])  # maps the arena, writes the return address
    uc, array = emu.uc, array_address(3)
    back = int.from_bytes(uc.mem_read(SLOT, 8), "little")
    # Unicorn compiles the stop address into translated blocks: drop the driver's blocks
    # before stopping somewhere else, and again afterwards.
    uc.ctl_remove_cache(CODE_BASE, CODE_BASE + CODE_SIZE)
    t0 = time.perf_counter()
    for row in arrays:
        uc.mem_write(array, row.tobytes())
        uc.reg_write(ux.UC_X86_REG_RDI, array)
        uc.reg_write(ux.UC_X86_REG_RSP, SLOT)
        uc.emu_start(KERNEL_BASE, back)
        uc.mem_read(array, 12)
    single = (time.perf_counter() - t0) / count
    uc.ctl_remove_cache(CODE_BASE, CODE_BASE + CODE_SIZE)
    t0 = time.perf_counter()
    assert emu.run(3, (3,), arrays, lengths).completed == count
    batched = (time.perf_counter() - t0) / count
    return {"per_call_us": single * 1e6, "batched_us": batched * 1e6, "speedup": single / batched}


def emulator_switches(rounds: int = 3) -> dict:
    """What the memory hooks and the wall-clock limit cost: sort8's weak orderings run
    with and without each, interleaved (A B A B ...), best of `rounds`."""
    program, task = superopt.resolve(ASM / "sort8.s")
    arrays, lengths = task.proof_inputs()
    emu = Emulator()
    emu.load(program)
    best = {"plain": float("inf"), "hooks": float("inf"), "no_timeout": float("inf")}
    for _ in range(rounds):
        for name in best:
            emu_module.TIMEOUT_US = 0 if name == "no_timeout" else TIMEOUT_US
            t0 = time.perf_counter()
            assert emu.run(8, (8,), arrays, lengths, hooks=(name == "hooks")).completed == len(arrays)
            best[name] = min(best[name], time.perf_counter() - t0)
    emu_module.TIMEOUT_US = TIMEOUT_US
    return {"inputs": len(arrays), **{name + "_s": t for name, t in best.items()},
            "hooks_ratio": best["hooks"] / best["plain"], "timeout_ratio": best["plain"] / best["no_timeout"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--random", type=int, default=10_000, help="random inputs besides the weak orderings")
    ap.add_argument("--repeat", type=int, default=3, help="take the best of this many verify calls")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = [time_verify(name, args.random, args.repeat) for name in KERNELS]
    calls = per_call_vs_batched()
    switches = emulator_switches()
    if args.json:
        print(json.dumps({"verify": rows, "emu_start": calls, "switches": switches}, indent=2))
        return
    print("%-9s %9s %9s %12s %14s" % ("kernel", "inputs", "seconds", "inputs/s", "kernel runs/s"))
    for r in rows:
        print("%-9s %9d %9.3f %12.0f %14.0f" % (r["kernel"], r["inputs"], r["seconds"], r["inputs_per_s"],
                                              r["runs_per_s"]))
    print("\nsort3 in the emulator, per input: one bare emu_start each %.1f us, batched driver %.2f us (%.1fx)"
          % (calls["per_call_us"], calls["batched_us"], calls["speedup"]))
    print("(verify runs every input twice, with two random register/guard fillings)")
    print("sort8, %d inputs in one emulator run: %.3f s; with memory hooks %.3f s (%.2fx); without Unicorn's "
          "timeout %.3f s (the timeout costs %.2fx)" % (
              switches["inputs"], switches["plain_s"], switches["hooks_s"], switches["hooks_ratio"],
              switches["no_timeout_s"], switches["timeout_ratio"]))


if __name__ == "__main__":
    main()

"""Value evaluator representations side by side: numpy vectors vs packed Python integers.

One 12-instruction general-ISA kernel (mov, sub, xor, and, add, shr/shl by a constant, cmp,
cmov, at 64 bits: the operations both representations can do) is evaluated over N inputs,
N = 64..4096, in this one process, interleaved, best of several repeats:

- evaluator: superopt.game.values.ValueEvaluator.run, i.e. x86/compute.py's step over the
  numpy backend (what the search runs: operand decoding, lazy flags, the write rule);
- numpy:     the same kernel as bare numpy uint64 operations (the floor for numpy);
- packed:    the same kernel on packed Python integers, one 65-bit field per input (a
  guard bit absorbs carries and borrows; cmp's guard bits become a select mask with one
  multiplication), the representation of superopt.game.evaluator.
Also: the evaluator at 2N lanes against N, the cost of a second random filling in the same
vectors (two separate passes would cost 2.0).

Packed integers cannot do what the general ISA needs per input: shifts by a per-input
count (%cl, shlx), multiplies, popcount/lzcnt/tzcnt, pdep/pext; the kernel here avoids them.

Usage: .venv/bin/python bench/bench_values.py [--repeats 7] [--sizes 64,256,1024,4096]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from superopt.game.values import ValueEvaluator
from superopt.tasks.function import CType, FunctionTask, Param, Signature
from superopt.x86.parser import parse_text

KERNEL = """
movq %rdi, %rax
subq %rsi, %rax
movq %rax, %rdx
shrq $63, %rdx
xorq %rdx, %rax
andq %rsi, %rdx
addq %rdx, %rax
shlq $3, %rdx
cmpq %rsi, %rdi
cmovbq %rdx, %rax
xorq %rdi, %rax
addq %rsi, %rax
"""


class _Reference:
    source, constants, key = "<bench>", (), "bench"

    def results(self, args):
        return np.zeros(len(args), dtype=np.uint64)


def _task():
    u64 = CType("uint64_t", 64, False)
    return FunctionTask("f", Signature("f", u64, (Param("x", u64), Param("y", u64))), _Reference())


def bare_numpy(x, y):
    rax = x.copy()
    rax = rax - y
    rdx = rax >> np.uint64(63)
    rax = rax ^ rdx
    rdx = rdx & y
    rax = rax + rdx
    rdx = rdx << np.uint64(3)
    below = x < y
    rax = np.where(below, rdx, rax)
    rax = rax ^ x
    return rax + y


class Packed:
    """N 64-bit values in one integer, field i at bit 65*i, bit 64 of each field a guard."""

    def __init__(self, n: int):
        ones = sum(1 << (65 * i) for i in range(n))
        self.value = ones * ((1 << 64) - 1)   # the 64 value bits of every field
        self.guard = ones << 64
        self.low = ones
        self.keep = {k: ones * ((1 << (64 - k)) - 1) for k in (63, 3)}

    def pack(self, values) -> int:
        return sum(int(v) << (65 * i) for i, v in enumerate(values))

    def run(self, x: int, y: int) -> int:
        v, g = self.value, self.guard
        rax = ((x | g) - y) & v
        rdx = (rax >> 63) & self.keep[63]
        rax ^= rdx
        rdx &= y
        rax = (rax + rdx) & v
        rdx = (rdx << 3) & v
        below = (((x | g) - y) & g) ^ g          # guard clear where x < y
        mask = (below >> 64) * ((1 << 64) - 1)
        rax ^= (rax ^ rdx) & mask
        rax ^= x
        return (rax + y) & v


def _best(fn, repeats: int, inner: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - start) / inner)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--sizes", default="64,256,1024,4096")
    opts = parser.parse_args()
    instrs = parse_text(KERNEL).instrs
    task = _task()
    rng = np.random.default_rng(0)
    print("%6s %12s %12s %12s %9s %9s %11s" % ("N", "evaluator", "numpy", "packed", "eval/pk", "np/pk", "2N lanes/N"))
    for n in map(int, opts.sizes.split(",")):
        args = rng.integers(0, 1 << 64, size=(n, 2), dtype=np.uint64, endpoint=False)
        one = ValueEvaluator(task, args, fillings=1)
        two = ValueEvaluator(task, args, fillings=2)
        x, y = args[:, 0].copy(), args[:, 1].copy()
        packed = Packed(n)
        px, py = packed.pack(x), packed.pack(y)
        assert packed.run(px, py) == packed.pack(bare_numpy(x, y))   # the same kernel
        assert (one.result(one.run(instrs)) == bare_numpy(x, y)).all()
        inner = max(1, 20000 // n)
        t_eval = _best(lambda: one.run(instrs), opts.repeats, max(1, inner // 10))
        t_numpy = _best(lambda: bare_numpy(x, y), opts.repeats, inner)
        t_packed = _best(lambda: packed.run(px, py), opts.repeats, inner)
        t_two = _best(lambda: two.run(instrs), opts.repeats, max(1, inner // 10))
        print("%6d %10.1fus %10.1fus %10.1fus %9.2f %9.2f %11.2f" % (
            n, t_eval * 1e6, t_numpy * 1e6, t_packed * 1e6, t_eval / t_packed, t_numpy / t_packed, t_two / t_eval))


if __name__ == "__main__":
    main()

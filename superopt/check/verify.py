"""Is a kernel correct? Runs it in the emulator on every weak ordering plus random inputs
and checks every rule of the calling convention; says whether a pass is a proof.

Rules, each reported under its own name:
  result               a[0..n) sorted ascending as signed int32, the rest of the array kept
  uninitialised-state  the same result whatever the registers, flags and stack hold at entry
  read-outside-array   no memory read outside a[0..n) and the kernel's own stack frame
  write-outside-array  no memory written there either
  return-address       the return address is not overwritten
  callee-saved         rbx, rbp, r12-r15 hold their entry values at the return
  stack-pointer        rsp is back where it was
  termination          returns within the step limit
  fault                no unmapped or protected access, no invalid instruction
  native               (with native=True) the same results when run on the real CPU

The fast path (superopt.run.emulator) runs every input twice, with two different random
fillings of registers, flags, guard memory and stack, and with the driver's data at two
different places; the first run traps every access to guard memory and the return
address with memory hooks, the second (without hooks, twice as fast) compares results
and guard bytes. A fixed-length order-only kernel (see below) whose memory operands all
name elements a[0..n) needs no hooks at all: its only other memory accesses are its
balanced pushes and pops and the ret. When the fast path finds a failure, the slow path
reruns that one input with a per-instruction trace to name the instruction (index,
text, source line) responsible.

Proof or test: see superopt.check.proof (a pass is a PROOF when the result can depend on
nothing but the relative order of the elements, so the weak orderings cover every input).
Failures are explained by superopt.check.diagnose; verdicts live in superopt.check.verdict.
"""
from __future__ import annotations

import time

import numpy as np

from superopt.check.function import verify_function
from superopt.check.diagnose import diagnose, lengths_allowed
from superopt.check.proof import classify, proof_inputs
from superopt.check.verdict import Verdict, Violation, example, first_wrong
from superopt.errors import InputError
from superopt.run.emulator import STEP_LIMIT, Emulator, Stop
from superopt.run.layout import KERNEL_BASE
from superopt.tasks.base import Task
from superopt.tasks.registry import get_task
from superopt.x86 import semantics
from superopt.x86.assembler import assemble
from superopt.x86.isa import Program, instruction_count

__all__ = ["DEFAULT_RANDOM", "STEP_LIMIT", "Verdict", "Violation", "classify", "emulator", "verify"]

DEFAULT_RANDOM = 10_000

_emulator: Emulator | None = None


def emulator() -> Emulator:
    """This process's emulator (one per worker, reused across programs)."""
    global _emulator
    if _emulator is None:
        _emulator = Emulator()
    return _emulator


def verify(program: Program, task: Task | str, *, random_count: int = DEFAULT_RANDOM, seed: int = 0,
           native: bool = False, step_limit: int = STEP_LIMIT, emu: Emulator | None = None) -> Verdict:
    """Check `program` against `task` on every weak ordering plus `random_count` random inputs
    (see the module docstring). Raises AssemblyError if it cannot be encoded."""
    task = get_task(task) if isinstance(task, str) else task
    if task.kind == "function":
        if native:
            raise InputError("--native compares array kernels only: a function task's reference never runs natively")
        return verify_function(program, task, random_count=random_count, seed=seed, step_limit=step_limit)
    if task.kind == "buffer":
        if native:
            raise InputError("--native compares array kernels only: %s is a buffer task" % task.name)
        from superopt.check.buffer import verify_buffer
        return verify_buffer(program, task, random_count=random_count, seed=seed, step_limit=step_limit)
    started = time.perf_counter()
    emu = emu or emulator()
    code = assemble(program, base=KERNEL_BASE)
    proof, reason = classify(program, task)
    rng = np.random.default_rng(seed)
    proof_arrays, proof_lengths, proof_expected = proof_inputs(task)
    rand_arrays, rand_lengths = task.random_inputs(rng, random_count) if random_count else (
        np.zeros((0, task.n), np.int32), np.zeros(0, np.int32))
    arrays = np.concatenate([proof_arrays, rand_arrays])
    lengths = np.concatenate([proof_lengths, rand_lengths]).astype(np.int64)
    expected = np.concatenate([proof_expected, task.expected(rand_arrays, rand_lengths)])
    verdict = Verdict(True, task.name, instruction_count(program), len(arrays), 0.0, proof, reason,
                      proof_inputs=len(proof_arrays), random_inputs=len(rand_arrays), function=program.name)

    emu.load(program, code)
    runs = [(int(s), layout) for layout, s in enumerate(rng.integers(0, 2 ** 63, size=2))]
    failures = []  # (input index, run number, batch result)
    in_bounds = proof and not task.variable and all(
        0 <= m.disp <= 4 * (task.n - 1) for ins in program.instrs
        for m in semantics.loads(ins) + semantics.stores(ins))
    for r, (run_seed, layout) in enumerate(runs):
        # the memory hooks halve the emulator's speed: the first run has them (every input,
        # every access) unless the accesses are known statically, the second checks what
        # the other filling changes
        hooks = r == 0 and not in_bounds
        result = emu.run(task.n, lengths_allowed(task), arrays, lengths, seed=run_seed, layout=layout,
                         step_limit=step_limit, hooks=hooks)
        if result.stop is Stop.FORBIDDEN and not hooks:
            # the guard bytes changed, which is only seen after a whole batch: the same
            # run with hooks stops at the input and instruction responsible
            result = emu.run(task.n, lengths_allowed(task), arrays, lengths, seed=run_seed, layout=layout,
                             step_limit=step_limit, hooks=True)
        wrong = first_wrong(result.outputs, expected[:result.completed], lengths[:result.completed])
        if wrong is not None:
            failures.append((wrong, r, result))
        elif result.stop is not None:
            failures.append((result.completed, r, result))
    if failures:
        j, r, result = min(failures, key=lambda f: (f[0], f[1]))
        verdict.passed = False
        diagnose(verdict, emu, program, code, task, arrays[j], int(lengths[j]), expected[j], j, runs, r,
                  result, step_limit)
    elif native:
        _compare_native(verdict, program, task, arrays, lengths, expected)
    verdict.seconds = time.perf_counter() - started
    return verdict


def _compare_native(verdict: Verdict, program: Program, task: Task, arrays, lengths, expected) -> None:
    """After the emulator passed it: the same inputs on the real CPU, in a child process."""
    from superopt.run.native import NativeError, run_native
    verdict.native = True
    try:
        got = run_native(program, task, arrays, lengths)
    except NativeError as exc:
        verdict.passed = False
        verdict.violations.append(Violation("native", str(exc)))
        return
    # whole rows: the emulator guards the slots past a variable sort's n, the real CPU has
    # them and they must be kept
    wrong = first_wrong(got, expected)
    if wrong is not None:
        verdict.passed = False
        length = int(lengths[wrong])
        verdict.counterexample = example(arrays[wrong], length, expected[wrong], got[wrong])
        right = (got[wrong, :length] == expected[wrong, :length]).all()  # then the counterexample looks right
        past = ", in a[%d..%d), past n" % (length, task.n) if right else ""
        verdict.violations.append(Violation("native", "the real CPU and the emulator disagree on input %d%s (the emulator "
                                                       "gave the expected result): an emulator-or-assembler bug"
                                            % (wrong, past)))

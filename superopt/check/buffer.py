"""verify for buffer tasks (superopt.tasks.buffer): the kernel against the task's reference on
its verification set in Unicorn (superopt.run.buffer), three runs per input: two with
different random fillings of the registers, flags and stack, and one with the bytes after
the terminating one redrawn.

Rules, each reported under its own name:
  result               rax, in the return type's width, equals the reference's on every input
  uninitialised-state  the same result whatever the registers, flags and stack hold
  past-terminator      the same result whatever the bytes after the terminating one hold
  read-outside-buffer  no read before the buffer or past its `size` bytes
  write-buffer         no write into the (const) buffer
  memory               no other memory touched but its own stack frame
  return-address, callee-saved, stack-pointer, termination, fault: as for function tasks
A pass is a test; superopt.check.prove adds the SMT proof. A wrong result is recorded as the
task's counterexample for the rest of the process.
"""
from __future__ import annotations

import time

import numpy as np

from superopt.check.function import instruction_at
from superopt.check.verdict import Verdict, Violation
from superopt.run.buffer import OUTSIDE, WRITTEN, machine
from superopt.run.emulator import Stop, can_loop
from superopt.run.layout import KERNEL_BASE
from superopt.tasks.buffer import BufferTask
from superopt.x86.assembler import assemble
from superopt.x86.isa import Program, instruction_count

_RULES = {Stop.STEP_LIMIT: "termination", Stop.RSP: "stack-pointer", Stop.CALLEE_SAVED: "callee-saved",
          Stop.FORBIDDEN: "return-address", Stop.FAULT: "fault"}
_REGIONS = {OUTSIDE: "read-outside-buffer", WRITTEN: "write-buffer"}


def verify_buffer(program: Program, task: BufferTask, *, random_count: int = 10_000, seed: int = 0,
                  step_limit: int = 10_000) -> Verdict:
    """Check `program` against the buffer task (the module docstring)."""
    started = time.perf_counter()
    code = assemble(program, base=KERNEL_BASE)
    rng = np.random.default_rng(seed)
    buffers = task.inputs(rng, random_count)
    refilled = task.refill(buffers, rng)
    expected = task.expected(buffers)
    verdict = Verdict(True, task.name, instruction_count(program), len(buffers), 0.0, False,
                      "the task's edge and random buffers, each with two random fillings of the registers, flags "
                      "and stack and once with the bytes past the terminating one redrawn",
                      random_inputs=random_count, function=program.name, strength="tested")
    loops = can_loop(program)
    seeds = np.random.default_rng([seed, 3]).integers(0, 1 << 62, size=2).tolist()
    runs = [(seeds[0], buffers), (seeds[1], buffers), (seeds[0], refilled)]
    results = [machine().run_buffers(code.code, task, b, seed=s, step_limit=step_limit, loops=loops)
               for s, b in runs]
    firsts = []
    for r, result in enumerate(results):
        got = np.asarray(result.rax, dtype=np.uint64) & np.uint64(task.mask)
        wrong = np.flatnonzero(got != expected[:result.completed])
        if len(wrong):
            firsts.append((int(wrong[0]), r, "wrong"))
        elif result.stop is not None:
            firsts.append((result.completed, r, "stop"))
    if firsts:
        j, r, what = min(firsts)
        verdict.passed = False
        shown = runs[r][1][j]
        if what == "stop":
            _stopped(verdict, program, code, task, results[r], shown)
        else:
            got = int(results[r].rax[j]) & task.mask
            rule = "past-terminator" if r == 2 else "uninitialised-state" if any(
                x.completed > j and int(x.rax[j]) & task.mask != got for x in results[:2]) else "result"
            line = task.call(shown, got, int(expected[j]))
            verdict.counterexample = {"call": line, "args": [int(b) for b in shown], "expected": int(expected[j]),
                                      "got": got}
            verdict.violations.append(Violation(rule, line if rule == "result" else "%s, and another result with %s"
                                                % (line, "other bytes past the terminating one" if r == 2 else
                                                   "other registers, flags or stack contents")))
            task.add_counterexample(shown)
    verdict.seconds = time.perf_counter() - started
    return verdict


def _stopped(verdict: Verdict, program: Program, code, task: BufferTask, result, buffer) -> None:
    call = task.call(buffer)
    rule, detail = _RULES[result.stop], result.stop.value
    if result.stop is Stop.FAULT and result.access is not None:
        access = result.access
        rule = _REGIONS.get(access.region, "fault" if access.kind == "fetch" or access.region == "code" else "memory")
        detail = "a %d-byte %s at %#x (%s)" % (access.size, access.kind, access.address, access.region)
    elif result.stop is Stop.FAULT:
        detail = result.fault or "fault"
    elif result.stop is Stop.STEP_LIMIT:
        detail = "did not return within the step limit"
    where = instruction_at(program, code, result)
    verdict.counterexample = {"call": call, "args": [int(b) for b in buffer], "expected": None, "got": None}
    verdict.violations.append(Violation(rule, "%s on %s" % (detail, call), **where))

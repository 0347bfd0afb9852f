"""verify for function tasks: the kernel against its task's reference on the task's inputs
(edge values, random inputs, recorded counterexamples), each run with two random fillings of
the undefined bits, the other registers, the flags and the stack (superopt.run.scalar).

Rules, each reported under its own name:
  result               rax, in the return type's width, equals the reference's on every input
  uninitialised-state  the same result whatever the undefined bits, registers, flags, stack hold
  memory               no memory touched but its own stack frame (everything else is unmapped)
  return-address       the return address is not overwritten
  callee-saved         rbx, rbp, r12-r15 hold their entry values at the return
  stack-pointer        rsp is back where it was
  termination          returns within the step limit
  fault                no invalid instruction or other fault
A pass is a test: `Verdict.strength` "tested" (superopt.check.verdict says how it reads).
A wrong result is recorded as the task's counterexample, so every later verify and search
of the same spec runs it.
"""
from __future__ import annotations

import time

import numpy as np

from superopt.check.verdict import Verdict, Violation
from superopt.run.emulator import Stop, can_loop
from superopt.run.layout import KERNEL_BASE
from superopt.run.scalar import machine
from superopt.tasks.function import FunctionTask
from superopt.x86.assembler import assemble
from superopt.x86.isa import CALLEE_SAVED, FAMILIES, Program, instruction_count


def instruction_at(program: Program, code, result) -> dict:
    """Where an emulator stop happened, as a Violation's index, text and line (empty when
    the stop's address is outside the kernel)."""
    pc = result.access.pc if result.access is not None else result.pc
    index = code.index_at(pc - KERNEL_BASE) if pc is not None and pc >= KERNEL_BASE else None
    if index is None or index >= len(program.instrs):
        return {}
    return {"index": index, "text": program.instrs[index].att(),
            "line": program.lines[index] if index < len(program.lines) else None}

_RULES = {Stop.STEP_LIMIT: "termination", Stop.RSP: "stack-pointer", Stop.CALLEE_SAVED: "callee-saved",
          Stop.FORBIDDEN: "return-address", Stop.FAULT: "fault"}


def verify_function(program: Program, task: FunctionTask, *, random_count: int = 10_000, seed: int = 0,
                    step_limit: int = 10_000) -> Verdict:
    """Check `program` against the function task (the module docstring)."""
    started = time.perf_counter()
    code = assemble(program, base=KERNEL_BASE)
    args = task.inputs(np.random.default_rng(seed), random_count)
    expected = task.expected(args)
    verdict = Verdict(True, task.name, instruction_count(program), len(args), 0.0, False,
                      "edge values, random inputs and recorded counterexamples, each with two random fillings of "
                      "the undefined bits",
                      random_inputs=random_count, function=program.name, strength="tested")
    loops = can_loop(program)
    seeds = np.random.default_rng([seed, 3]).integers(0, 1 << 62, size=2).tolist()
    results = [machine().run(code.code, task.signature, args, seed=s, step_limit=step_limit, loops=loops)
               for s in seeds]
    # the first input either filling gets wrong, or the first stop
    firsts = []
    for r, result in enumerate(results):
        wrong = np.flatnonzero(~task.compare(result.rax, expected[:result.completed]))
        if len(wrong):
            firsts.append((int(wrong[0]), r, "wrong"))
        elif result.stop is not None:
            firsts.append((result.completed, r, "stop"))
    if firsts:
        j, r, what = min(firsts)
        if what == "stop":
            _stopped(verdict, program, code, task, results[r], args, seeds[r])
        else:
            got = [int(x.rax[j]) & task.entry[1].mask for x in results if x.completed > j]
            rule = "uninitialised-state" if len(set(got)) > 1 else "result"
            _wrong(verdict, task, args[j], int(results[r].rax[j]), int(expected[j]), rule)
    verdict.seconds = time.perf_counter() - started
    return verdict


def _wrong(verdict: Verdict, task: FunctionTask, args, got: int, expected: int, rule: str) -> None:
    sig = task.signature
    mask = task.entry[1].mask
    line = sig.call(args, got & mask, expected)
    verdict.passed = False
    verdict.counterexample = {"call": line, "args": [p.type.value(a) for p, a in zip(sig.params, args)],
                              "expected": sig.ret.value(expected), "got": sig.ret.value(got & mask)}
    detail = line if rule == "result" else "%s, and another result with other undefined bits, registers, flags " \
                                           "or stack contents" % line
    verdict.violations.append(Violation(rule, detail))
    task.add_counterexample(args)


def _stopped(verdict: Verdict, program: Program, code, task: FunctionTask, result, args, seed: int) -> None:
    j = result.completed
    call = task.signature.call(args[j])
    rule, detail = _RULES[result.stop], result.stop.value
    if result.stop is Stop.FAULT and result.access is not None:
        rule = "fault" if result.access.kind == "fetch" or result.access.region == "code" else "memory"
        detail = "a %d-byte %s at %#x (%s)" % (result.access.size, result.access.kind, result.access.address,
                                              result.access.region)
    elif result.stop is Stop.FAULT:
        detail = result.fault or "fault"
    elif result.stop is Stop.CALLEE_SAVED:
        record = machine().records(task.signature, args[:j + 1], seed)[j]
        changed = [n for n in CALLEE_SAVED if result.registers[n] != int(record[FAMILIES.index(n)])]
        detail = "%s changed at the return" % ", ".join(changed or ["a callee-saved register"])
    elif result.stop is Stop.STEP_LIMIT:
        detail = "did not return within the step limit"
    where = instruction_at(program, code, result)
    verdict.passed = False
    verdict.counterexample = {"call": call, "args": [p.type.value(a) for p, a in zip(task.signature.params, args[j])],
                              "expected": None, "got": None}
    verdict.violations.append(Violation(rule, "%s on %s" % (detail, call), **where))

"""Why a kernel failed verify: a traced rerun of the failing input names the rule it breaks
and the instruction responsible (index, text, source line)."""
from __future__ import annotations

import numpy as np

from superopt.check.verdict import Verdict, Violation, example
from superopt.run.emulator import BatchResult, Emulator, Stop
from superopt.run.layout import KERNEL_BASE, REGISTER_SETS, array_address
from superopt.tasks.base import Task
from superopt.x86 import semantics
from superopt.x86.assembler import Assembled
from superopt.x86.isa import BRANCHES, CALLEE_SAVED, FAMILIES, Instr, Mem, Program, Reg

_DIAGNOSE_SEEDS = 6  # extra random fillings tried on a failing input


def lengths_allowed(task: Task) -> tuple[int, ...]:
    """The lengths n the emulator's driver accepts for `task`."""
    return tuple(range(task.n + 1)) if task.variable else (task.n,)


def _where(program: Program, index: int | None) -> dict:
    if index is None or not 0 <= index < len(program.instrs):
        return {}
    line = program.lines[index] if index < len(program.lines) else None
    return {"index": index, "text": program.instrs[index].att(), "line": line}


def _index_at(code: Assembled, pc: int | None) -> int | None:
    return None if pc is None else code.index_at(pc - KERNEL_BASE)


def diagnose(verdict: Verdict, emu: Emulator, program: Program, code: Assembled, task: Task,
              array: np.ndarray, length: int, expected: np.ndarray, j: int, runs, r: int,
              stopped: BatchResult, step_limit: int) -> None:
    """Name the rule input j breaks, and the instruction responsible, from a traced rerun."""
    run_seed, layout = runs[r]
    one = (array[None, :], np.array([length]))

    def rerun(seed, lay, offset=j % REGISTER_SETS):
        return emu.run(task.n, lengths_allowed(task), *one, seed=seed, layout=lay, step_limit=step_limit,
                       trace=True, set_offset=offset)

    traced = rerun(run_seed, layout)
    trace = [_index_at(code, pc) for pc in traced.trace or []]
    executed = [t for t in trace if t is not None]
    last = executed[-1] if executed else None
    stopped_here = stopped if stopped.completed == j else None  # else: j wrong, the batch went on
    stopped_at = traced if traced.stop is not None else stopped_here
    stop = stopped_at.stop if stopped_at else None
    access = stopped_at.access if stopped_at else None

    if stop is Stop.FORBIDDEN and access is not None:
        if access.region == "return address":
            rule, detail = "return-address", "overwrites its return address"
        else:
            rule = "read-outside-array" if access.kind == "read" else "write-outside-array"
            detail = "%ss %d bytes at %s" % (access.kind, access.size, _describe_address(access.address, length))
            if access.region != "guard":
                detail += ", in the %s" % access.region
        index = _index_at(code, access.pc) if access.pc else None
        verdict.violations.append(Violation(rule, detail, **_where(program, index)))
    elif stop is Stop.FAULT:
        if access is not None and access.kind == "fetch":
            detail = "jumps to %#x, outside the kernel (a broken return address?)" % access.address
            index = last
        elif access is not None:
            detail = "%s of %d bytes at %s (%s)" % (access.kind, access.size, _describe_address(access.address, length),
                                                    access.region)
            index = _index_at(code, access.pc)
        else:
            pc = traced.pc if traced.stop else stopped_here.pc
            index = _index_at(code, pc)
            if index is None and pc is not None and pc >= KERNEL_BASE + len(code.code):
                detail, index = "runs past the end of the kernel", last
            else:
                detail = stopped_at.fault or "fault"
        verdict.violations.append(Violation("fault", detail, **_where(program, index)))
    elif stop is Stop.STEP_LIMIT:
        backward = [t for t in executed if program.instrs[t].op in BRANCHES]
        verdict.violations.append(Violation(
            "termination", "does not return within %d steps" % step_limit,
            **_where(program, backward[-1] if backward else last)))
    elif stop is Stop.RSP:
        # the return itself moves %rsp too: the culprit is before it
        writers = [t for t in executed if "rsp" in semantics.writes(program.instrs[t])
                   and program.instrs[t].op != "ret"]
        verdict.violations.append(Violation("stack-pointer", "returns with %rsp changed",
                                            **_where(program, writers[-1] if writers else None)))
    elif stop is Stop.CALLEE_SAVED:
        changed = [name for name in CALLEE_SAVED
                   if (traced.registers or {}).get(name) != _entry_value(run_seed, j, name)]
        if not changed:  # the traced rerun kept them: the batch's registers differed
            verdict.violations.append(Violation("callee-saved", "returns with a callee-saved register changed"))
        for name in changed:
            writers = [t for t in executed if name in semantics.writes(program.instrs[t])]
            verdict.violations.append(Violation(
                "callee-saved", "returns with %%%s changed" % name,
                **_where(program, writers[-1] if writers else None)))
    if verdict.violations:
        verdict.counterexample = example(array, length, expected, None)
        return

    # A wrong result: is it the same whatever the initial state holds?
    outcomes = [rerun(s, lay) for s, lay in runs]
    outcomes += [rerun(run_seed + 1 + k, k % 2, offset=1 + k) for k in range(_DIAGNOSE_SEEDS)]  # random
    outcomes.append(rerun(run_seed, layout, offset=0))  # every register zero
    results = {tuple(o.outputs[0, :length].tolist()) for o in outcomes if o.completed}
    got = stopped.outputs[j] if stopped.completed > j else traced.outputs[0] if traced.completed else None
    verdict.counterexample = example(array, length, expected, got)
    right = tuple(np.asarray(expected[:length]).tolist())
    if len(results) > 1 or any(not o.completed for o in outcomes) or results == {right}:
        index, what = first_uninitialised_read(program, executed, task)
        detail = "the result depends on the initial contents of registers, flags or the stack"
        if what:
            detail = "the result depends on the initial value of %s" % ("the flags" if what == "flags" else "%" + what)
        verdict.violations.append(Violation("uninitialised-state", detail, **_where(program, index)))
    else:
        verdict.violations.append(Violation("result", "input %d of %d is not sorted right (the same with every "
                                            "register filling tried)" % (j + 1, verdict.inputs)))


def _entry_value(seed: int, j: int, name: str) -> int:
    return int(Emulator.register_sets(seed)[j % REGISTER_SETS, FAMILIES.index(name)])


def first_uninitialised_read(program: Program, executed: list[int], task: Task) -> tuple[int | None, str | None]:
    """The first executed instruction reading a register or the flags before anything wrote
    them (pushes, which save callee-saved registers, aside), and what it reads. For a
    variable sort %esi holds n, but the upper half of %rsi is garbage."""
    written = {"rsp", "rdi"}
    for t in executed:
        ins = program.instrs[t]
        unset = semantics.reads(ins) - written
        if task.variable and "rsi" in unset and not _wide_rsi(ins):
            unset.discard("rsi")
        if ins.op != "push" and unset:
            what = sorted(unset)[0]
            return t, ("rsi (its upper half: n is an int32)" if what == "rsi" and task.variable else what)
        written |= semantics.writes(ins)
        if task.variable and any(isinstance(o, Reg) and o.family == "rsi" for o in ins.operands):
            written.add("rsi")  # %esi read as n: the kernel knows it now
    return None, None


def _wide_rsi(ins: Instr) -> bool:
    """Whether `ins` uses all 64 bits of %rsi (as a register or in an address)."""
    return any((isinstance(o, Reg) and o.family == "rsi" and o.width == 64) or
               (isinstance(o, Mem) and "rsi" in (o.base, o.index)) for o in ins.operands)


def _describe_address(address: int, length: int) -> str:
    offset = address - array_address(length)
    if -0x2000 < offset < 0x2000:
        return "%#x (%s%d bytes from a[0], the array has %d bytes)" % (
            address, "+" if offset >= 0 else "", offset, 4 * length)
    return "%#x" % address

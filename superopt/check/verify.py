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

Proof or test. The pass is a PROOF when the kernel's result can depend on nothing but
the relative (signed) order of the elements and the length n, because then every input
behaves like the weak ordering with the same pattern of ties, and all of those were run.
That holds when every instruction is one of:
  - mov/xchg/cmovCC/cmp on 32-bit registers and array elements `disp(%ptr)` (no
    immediates, no index, disp a multiple of 4): they copy element values unchanged or
    compare two of them;
  - cmovCC/jCC whose condition is a signed-order one (l, le, g, ge, e, ne): flags from
    comparing two elements then depend on their order alone (unsigned conditions, sign,
    overflow or parity would see the values themselves);
  - jmp, ret, nop, push/pop of a whole register, and 64-bit register copies (of the
    array pointer: gcc copies %rdi and reuses %edi for data);
  - for variable sorts, `cmp $k, %r32` / `test %r32, %r32` on a register holding n: n
    takes every allowed value among the proof inputs, so branching on it is covered
    exhaustively;
and a dataflow pass over the control-flow graph shows, on every path, that memory is
addressed only through registers holding the array pointer (%rdi or a copy), constants
are compared only with n (%esi or a copy), and everything else moves and compares
registers that hold elements (nor are the flags read before a comparison), so no
garbage, pointer or length bits reach the result. Anything else (arithmetic, 64-bit or
8/16-bit data, immediates, other conditions, other addressing) makes the pass a TEST:
that many inputs passed, not a proof.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import numpy as np

from superopt.x86.assembler import Assembled, assemble
from superopt.run.emulator import BatchResult, Emulator
from superopt.run.layout import KERNEL_BASE, REGISTER_SETS, array_address
from superopt.x86.isa import CALLEE_SAVED, FAMILIES, Imm, Instr, Mem, Program, Reg, instruction_count
from superopt.tasks.base import Task
from superopt.tasks.registry import get_task

DEFAULT_RANDOM = 10_000
STEP_LIMIT = 10_000
_DIAGNOSE_SEEDS = 6  # extra random fillings tried on a failing input

_emulator: Emulator | None = None


def emulator() -> Emulator:
    """This process's emulator (one per worker, reused across programs)."""
    global _emulator
    if _emulator is None:
        _emulator = Emulator()
    return _emulator


@dataclass
class Violation:
    rule: str
    detail: str
    index: int | None = None   # instruction index in the program
    text: str | None = None    # that instruction in AT&T syntax
    line: int | None = None    # its source line

    def to_json(self) -> dict:
        return {"rule": self.rule, "detail": self.detail, "index": self.index,
                "instruction": self.text, "line": self.line}


@dataclass
class Verdict:
    passed: bool
    task: str
    instructions: int           # not counting ret (isa.instruction_count)
    inputs: int                 # distinct inputs run (each run with two random fillings)
    seconds: float
    proof: bool                 # a pass that covers every input (see the module docstring)
    proof_reason: str
    counterexample: dict | None = None  # {"input", "length", "expected", "got"}: a[0..length)
    violations: list[Violation] = field(default_factory=list)
    proof_inputs: int = 0
    random_inputs: int = 0
    native: bool = False        # also compared with native runs

    def to_json(self) -> dict:
        return {"verdict": "PASS" if self.passed else "FAIL", "task": self.task,
                "instructions": self.instructions, "inputs": self.inputs,
                "proof": self.proof, "proof_reason": self.proof_reason,
                "counterexample": self.counterexample,
                "violations": [v.to_json() for v in self.violations],
                "proof_inputs": self.proof_inputs, "random_inputs": self.random_inputs,
                "fillings": 2, "native": self.native, "seconds": round(self.seconds, 6)}


# -- proof classification ------------------------------------------------------------
def _writes(ins: Instr) -> set[str]:
    """Register families an instruction may write (syntactically; flags left out)."""
    ops = ins.operands
    if ins.op in ("xchg",):
        return {o.family for o in ops if isinstance(o, Reg)}
    if ins.op in ("push", "pop"):
        return {"rsp"} | ({ops[0].family} if ins.op == "pop" and isinstance(ops[0], Reg) else set())
    if ins.op == "cltq":
        return {"rax"}
    if ins.op in ("rdtsc", "rdpmc"):
        return {"rax", "rdx"}
    if ins.op in ("cmp", "test", "j", "jmp", "ret", "nop", "call", "lfence") or not ops:
        return set()
    return {ops[0].family} if isinstance(ops[0], Reg) else set()


def _reads(ins: Instr) -> set[str]:
    """Register families (and "flags") an instruction reads before writing."""
    ops = ins.operands
    regs = {r for o in ops if isinstance(o, Mem) for r in (o.base, o.index) if r}
    pure_write = ins.op in ("mov", "movzx", "movsx", "lea", "set", "pop")
    zeroing = ins.op in ("xor", "sub") and len(ops) == 2 and ops[0] == ops[1]
    for k, o in enumerate(ops):
        if isinstance(o, Reg) and not zeroing:
            if k == 0 and pure_write and o.width >= 32:  # 8- and 16-bit writes keep the rest
                continue
            regs.add(o.family)
    if ins.op in ("cmov", "j", "set", "adc", "sbb"):
        regs.add("flags")
    if ins.op in ("push", "pop", "ret"):
        regs.add("rsp")
    if ins.op == "cltq":
        regs.add("rax")
    return regs


def classify(program: Program, task: Task) -> tuple[bool, str]:
    """(is a pass a proof, why): see the module docstring."""
    problem = next(((i, r) for i, ins in enumerate(program.instrs) for r in [_not_order_only(ins, task)] if r), None)
    problem = problem or _order_dataflow(program, task)
    if problem is not None:
        i, reason = problem
        return False, "instruction %d (%s) %s" % (i, program.instrs[i].att(), reason)
    return True, ("comparisons and moves only, signed-order conditions: the %s weak orderings cover every input"
                  % ("%d (every length)" % len(_proof_inputs(task)[0]) if task.variable
                     else "%d" % len(_proof_inputs(task)[0])))


def _not_order_only(ins: Instr, task: Task) -> str | None:
    """Why `ins` alone rules a proof out (its operands' contents are checked by
    _order_dataflow), or None."""
    ops = ins.operands
    if ins.op in ("ret", "nop", "jmp"):
        return None
    if ins.op in ("push", "pop"):
        return None if isinstance(ops[0], Reg) else "pushes or pops memory"
    if ins.op in ("cmov", "j") and ins.cond not in task.order_conditions:
        return "uses condition %r, which does not follow the order of %s" % (ins.cond, task.element)
    if ins.op == "j":
        return None
    if _compares_with_constant(ins) or (ins.op == "mov" and ins.width == 64 and all(isinstance(o, Reg) for o in ops)):
        return None  # n against a constant; a copy of the array pointer (both checked later)
    if ins.op not in ("mov", "xchg", "cmov", "cmp"):
        return "is not a comparison or a move"
    for o in ops:
        if isinstance(o, Imm):
            return "uses an immediate"
        if isinstance(o, Reg) and o.width != 32:
            return "moves or compares %d-bit data" % o.width
        if isinstance(o, Mem) and not (o.width == 32 and o.index is None and o.disp % 4 == 0):
            return "accesses memory other than a 32-bit array element disp(%pointer)"
    return None


def _compares_with_constant(ins: Instr) -> bool:
    """`cmp $k, %r32` or `test %r32, %r32`: order-only when %r32 holds n."""
    ops = ins.operands
    return (ins.op == "cmp" and len(ops) == 2 and isinstance(ops[0], Reg) and ops[0].width == 32
            and isinstance(ops[1], Imm)) or (ins.op == "test" and len(ops) == 2 and ops[0] == ops[1]
                                             and isinstance(ops[0], Reg) and ops[0].width == 32)


def _successors(program: Program, i: int) -> list[int]:
    ins = program.instrs[i]
    if ins.op == "ret":
        return []
    target = [program.labels[ins.operands[0].name]] if ins.op in ("j", "jmp") else []
    return target if ins.op == "jmp" else target + [i + 1]


def _order_dataflow(program: Program, task: Task) -> tuple[int, str] | None:
    """For a program of order-only instructions: the first place, on some path, where a
    register is used as something it may not hold, as (index, why); None if nowhere.

    Forward dataflow over the control-flow graph. The state says what each register
    holds for certain: "data" (an element, copied unchanged; "flags" likewise holds a
    comparison's outcome), "ptr" (the array pointer, from %rdi or a 64-bit copy of it)
    or "n" (a variable sort's length, from %esi or a 32-bit copy), and what each pushed
    slot holds. At a join only what holds on every path survives. Memory operands must
    be based on "ptr", comparisons with a constant must test "n", and everything else
    moves and compares "data" only."""
    start = {"rdi": "ptr", **({"rsi": "n"} if task.variable else {})}
    states: dict[int, tuple[dict, tuple]] = {0: (start, ())}
    work = [0]
    while work:
        i = work.pop()
        if i >= len(program.instrs):
            continue  # falls off the end: an implicit ret
        kinds, stack = dict(states[i][0]), states[i][1]
        ins = program.instrs[i]
        ops = ins.operands
        regs = [o.family for o in ops if isinstance(o, Reg)]

        def need(what: str, kind: str = "data") -> str | None:
            if kinds.get(what) == kind:
                return None
            if kind == "data" and what not in kinds:
                return "may read %s before the kernel wrote it" % ("the flags" if what == "flags" else "%" + what)
            return "uses %%%s, which may not hold %s" % (what, {"data": "an element", "ptr": "the array pointer",
                                                                 "n": "n"}[kind])

        problem = next((p for o in ops if isinstance(o, Mem) for p in [need(o.base, "ptr")] if p), None)
        if ins.op in ("j", "cmov"):
            problem = problem or need("flags")
        if "rsp" in regs:
            problem = "names %rsp (only push, pop and ret may move the stack pointer)"
        if problem:
            return i, problem
        if ins.op == "push":
            stack = stack + (kinds.get(regs[0]),)
        elif ins.op == "pop":
            if not stack:
                return i, "pops more than it pushed"
            kinds.pop(regs[0], None)
            if stack[-1]:
                kinds[regs[0]] = stack[-1]
            stack = stack[:-1]
        elif _compares_with_constant(ins):
            problem = need(regs[0], "n")
            kinds["flags"] = "data"
        elif ins.op == "mov" and len(regs) == 2:  # register to register: a copy keeps its kind
            kind = kinds.get(regs[1])
            if kind is None or (kind == "ptr") != (ins.width == 64):
                problem = need(regs[1], "ptr" if ins.width == 64 else "data")
            kinds[regs[0]] = kind
        elif ins.op in ("mov", "cmov", "xchg", "cmp"):  # moves and comparisons of elements
            sources = regs[1:] if ins.op == "mov" and isinstance(ops[0], Reg) else regs
            problem = next((p for r in sources for p in [need(r)] if p), None)
            if ins.op == "cmp":
                kinds["flags"] = "data"
            else:
                kinds.update({r: "data" for r in regs})
        if problem:
            return i, problem
        for j in _successors(program, i):
            if j not in states:
                states[j] = (kinds, stack)
            else:
                old_kinds, old_stack = states[j]
                if len(old_stack) != len(stack):
                    return j, "is reached with different numbers of values pushed"
                merged = ({r: k for r, k in old_kinds.items() if kinds.get(r) == k},
                          tuple(a if a == b else None for a, b in zip(old_stack, stack)))
                if merged == states[j]:
                    continue
                states[j] = merged
            work.append(j)
    return None


# -- the check -----------------------------------------------------------------------
def verify(program: Program, task: Task | str, *, random_count: int = DEFAULT_RANDOM, seed: int = 0,
           native: bool = False, step_limit: int = STEP_LIMIT, emu: Emulator | None = None) -> Verdict:
    """Check `program` against `task` on every weak ordering plus `random_count` random inputs
    (see the module docstring). Raises AssemblyError if it cannot be encoded."""
    task = get_task(task) if isinstance(task, str) else task
    started = time.perf_counter()
    emu = emu or emulator()
    code = assemble(program, base=KERNEL_BASE)
    proof, reason = classify(program, task)
    rng = np.random.default_rng(seed)
    proof_arrays, proof_lengths, proof_expected = _proof_inputs(task)
    rand_arrays, rand_lengths = task.random_inputs(rng, random_count) if random_count else (
        np.zeros((0, task.n), np.int32), np.zeros(0, np.int32))
    arrays = np.concatenate([proof_arrays, rand_arrays])
    lengths = np.concatenate([proof_lengths, rand_lengths]).astype(np.int64)
    expected = np.concatenate([proof_expected, task.expected(rand_arrays, rand_lengths)])
    verdict = Verdict(True, task.name, instruction_count(program), len(arrays), 0.0, proof, reason,
                      proof_inputs=len(proof_arrays), random_inputs=len(rand_arrays))

    emu.load(program, code)
    runs = [(int(s), layout) for layout, s in enumerate(rng.integers(0, 2 ** 63, size=2))]
    failures = []  # (input index, run number, batch result)
    in_bounds = proof and not task.variable and all(
        0 <= o.disp <= 4 * (task.n - 1) for ins in program.instrs for o in ins.operands if isinstance(o, Mem))
    for r, (run_seed, layout) in enumerate(runs):
        # the memory hooks halve the emulator's speed: the first run has them (every input,
        # every access) unless the accesses are known statically, the second checks what
        # the other filling changes
        hooks = r == 0 and not in_bounds
        result = emu.run(task.n, _lengths(task), arrays, lengths, seed=run_seed, layout=layout,
                         step_limit=step_limit, hooks=hooks)
        if result.stop == "forbidden access" and not hooks:
            # the guard bytes changed, which is only seen after a whole batch: the same
            # run with hooks stops at the input and instruction responsible
            result = emu.run(task.n, _lengths(task), arrays, lengths, seed=run_seed, layout=layout,
                             step_limit=step_limit, hooks=True)
        wrong = _first_wrong(result.outputs, expected[:result.completed], lengths[:result.completed])
        if wrong is not None:
            failures.append((wrong, r, result))
        elif result.stop is not None:
            failures.append((result.completed, r, result))
    if failures:
        j, r, result = min(failures, key=lambda f: (f[0], f[1]))
        verdict.passed = False
        _diagnose(verdict, emu, program, code, task, arrays[j], int(lengths[j]), expected[j], j, runs, r,
                  result, step_limit)
    elif native:
        _compare_native(verdict, program, task, arrays, lengths, expected)
    verdict.seconds = time.perf_counter() - started
    return verdict


@functools.lru_cache(maxsize=16)
def _proof_inputs(task: Task) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The task's weak orderings and their sorted results (kept: building sort8's takes
    longer than many short verifications)."""
    arrays, lengths = task.proof_inputs()
    return arrays, lengths, task.expected(arrays, lengths)


def _lengths(task: Task) -> tuple[int, ...]:
    return tuple(range(task.n + 1)) if task.variable else (task.n,)


def _first_wrong(outputs: np.ndarray, expected: np.ndarray, lengths: np.ndarray | None = None) -> int | None:
    """Index of the first input whose a[0..length) (without lengths: whole row) differs from
    the expected one."""
    if not len(outputs):
        return None
    live = True if lengths is None else np.arange(outputs.shape[1])[None, :] < lengths[:, None]
    bad = np.flatnonzero(((outputs != expected) & live).any(axis=1))
    return int(bad[0]) if len(bad) else None


def _where(program: Program, index: int | None) -> dict:
    if index is None or not 0 <= index < len(program.instrs):
        return {}
    line = program.lines[index] if index < len(program.lines) else None
    return {"index": index, "text": program.instrs[index].att(), "line": line}


def _index_at(code: Assembled, pc: int | None) -> int | None:
    return None if pc is None else code.index_at(pc - KERNEL_BASE)


def _diagnose(verdict: Verdict, emu: Emulator, program: Program, code: Assembled, task: Task,
              array: np.ndarray, length: int, expected: np.ndarray, j: int, runs, r: int,
              stopped: BatchResult, step_limit: int) -> None:
    """Name the rule input j breaks, and the instruction responsible, from a traced rerun."""
    run_seed, layout = runs[r]
    one = (array[None, :], np.array([length]))

    def rerun(seed, lay, offset=j % REGISTER_SETS):
        return emu.run(task.n, _lengths(task), *one, seed=seed, layout=lay, step_limit=step_limit,
                       trace=True, set_offset=offset)

    traced = rerun(run_seed, layout)
    trace = [_index_at(code, pc) for pc in traced.trace or []]
    executed = [t for t in trace if t is not None]
    last = executed[-1] if executed else None
    stopped_here = stopped if stopped.completed == j else None  # else: j wrong, the batch went on
    stop = traced.stop if traced.stop is not None else (stopped_here.stop if stopped_here else None)
    access = traced.access if traced.stop is not None else (stopped_here.access if stopped_here else None)

    if stop == "forbidden access" and access is not None:
        if access.region == "return address":
            rule, detail = "return-address", "overwrites its return address"
        else:
            rule = "read-outside-array" if access.kind == "read" else "write-outside-array"
            detail = "%ss %d bytes at %s" % (access.kind, access.size, _describe_address(access.address, length))
            if access.region != "guard":
                detail += ", in the %s" % access.region
        index = _index_at(code, access.pc) if access.pc else None
        verdict.violations.append(Violation(rule, detail, **_where(program, index)))
    elif stop is not None and stop.startswith("fault"):
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
                detail = (traced.stop or stop).split(": ", 1)[-1]
        verdict.violations.append(Violation("fault", detail, **_where(program, index)))
    elif stop == "step limit":
        backward = [t for t in executed if program.instrs[t].op in ("j", "jmp")]
        verdict.violations.append(Violation(
            "termination", "does not return within %d steps" % step_limit,
            **_where(program, backward[-1] if backward else last)))
    elif stop == "rsp":
        writers = [t for t in executed if "rsp" in _writes(program.instrs[t])]
        verdict.violations.append(Violation("stack-pointer", "returns with %rsp changed",
                                            **_where(program, writers[-1] if writers else None)))
    elif stop == "callee-saved":
        changed = [name for name in CALLEE_SAVED
                   if (traced.registers or {}).get(name) != _entry_value(run_seed, j, name)]
        if not changed:  # the traced rerun kept them: the batch's registers differed
            verdict.violations.append(Violation("callee-saved", "returns with a callee-saved register changed"))
        for name in changed:
            writers = [t for t in executed if name in _writes(program.instrs[t])]
            verdict.violations.append(Violation(
                "callee-saved", "returns with %%%s changed" % name,
                **_where(program, writers[-1] if writers else None)))
    if verdict.violations:
        verdict.counterexample = _example(array, length, expected, None)
        return

    # A wrong result: is it the same whatever the initial state holds?
    outcomes = [rerun(s, lay) for s, lay in runs]
    outcomes += [rerun(run_seed + 1 + k, k % 2, offset=1 + k) for k in range(_DIAGNOSE_SEEDS)]  # random
    outcomes.append(rerun(run_seed, layout, offset=0))  # every register zero
    results = {tuple(o.outputs[0, :length].tolist()) for o in outcomes if o.completed}
    got = stopped.outputs[j] if stopped.completed > j else traced.outputs[0] if traced.completed else None
    verdict.counterexample = _example(array, length, expected, got)
    right = tuple(np.asarray(expected[:length]).tolist())
    if len(results) > 1 or any(not o.completed for o in outcomes) or results == {right}:
        index, what = _first_uninitialised_read(program, executed, task)
        detail = "the result depends on the initial contents of registers, flags or the stack"
        if what:
            detail = "the result depends on the initial value of %s" % ("the flags" if what == "flags" else "%" + what)
        verdict.violations.append(Violation("uninitialised-state", detail, **_where(program, index)))
    else:
        verdict.violations.append(Violation("result", "input %d of %d is not sorted right (the same with every "
                                            "register filling tried)" % (j + 1, verdict.inputs)))


def _entry_value(seed: int, j: int, name: str) -> int:
    return int(Emulator.register_sets(seed)[j % REGISTER_SETS, FAMILIES.index(name)])


_SETS_FLAGS = frozenset({"cmp", "test", "add", "sub", "and", "or", "xor", "neg", "inc", "dec",
                         "shl", "shr", "sar", "adc", "sbb"})


def _first_uninitialised_read(program: Program, executed: list[int], task: Task) -> tuple[int | None, str | None]:
    """The first executed instruction reading a register or the flags before anything wrote
    them (pushes, which save callee-saved registers, aside), and what it reads. For a
    variable sort %esi holds n, but the upper half of %rsi is garbage."""
    written = {"rsp", "rdi"}
    for t in executed:
        ins = program.instrs[t]
        unset = _reads(ins) - written
        if task.variable and "rsi" in unset and not _wide_rsi(ins):
            unset.discard("rsi")
        if ins.op != "push" and unset:
            what = sorted(unset)[0]
            return t, ("rsi (its upper half: n is an int32)" if what == "rsi" and task.variable else what)
        written |= _writes(ins) | ({"flags"} if ins.op in _SETS_FLAGS else set())
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


def _example(array, length, expected, got) -> dict:
    """The counterexample as a[0..length): a variable sort's array has no slots past n."""
    cut = slice(0, int(length))
    return {"input": np.asarray(array)[cut].tolist(), "length": int(length),
            "expected": np.asarray(expected)[cut].tolist(),
            "got": None if got is None else np.asarray(got)[cut].tolist()}


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
    wrong = _first_wrong(got, expected)
    if wrong is not None:
        verdict.passed = False
        length = int(lengths[wrong])
        verdict.counterexample = _example(arrays[wrong], length, expected[wrong], got[wrong])
        right = (got[wrong, :length] == expected[wrong, :length]).all()  # then the counterexample looks right
        past = ", in a[%d..%d), past n" % (length, task.n) if right else ""
        verdict.violations.append(Violation("native", "the real CPU and the emulator disagree on input %d%s (the emulator "
                                                       "gave the expected result): an emulator-or-assembler bug"
                                            % (wrong, past)))

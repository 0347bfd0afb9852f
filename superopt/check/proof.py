"""Is a verify pass a proof? Which kernels' results depend on the order of the elements alone.

Proof or test. The pass is a PROOF when the kernel's result can depend on nothing but
the relative (signed) order of the elements and the length n, because then every input
behaves like the weak ordering with the same pattern of ties, and all of those were run
(the weak-ordering argument; a TEST's reason names the first instruction it cannot cover).
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

import numpy as np

from superopt.tasks.base import Task
from superopt.x86 import semantics
from superopt.x86.isa import BRANCHES, Imm, Instr, Mem, Program, Reg


def classify(program: Program, task: Task) -> tuple[bool, str]:
    """(is a pass a proof, why): see the module docstring."""
    problem = next(((i, r) for i, ins in enumerate(program.instrs) for r in [_not_order_only(ins, task)] if r), None)
    problem = problem or _order_dataflow(program, task)
    if problem is not None:
        i, reason = problem
        line = ", line %d" % program.lines[i] if i < len(program.lines) else ""
        return False, "instruction %d (`%s`%s) %s, so the weak-ordering argument does not cover it" % (
            i, program.instrs[i].att(), line, reason)
    return True, ("comparisons and moves only, signed-order conditions: the %s weak orderings cover every input"
                  % ("%d (every length)" % len(proof_inputs(task)[0]) if task.variable
                     else "%d" % len(proof_inputs(task)[0])))


def _not_order_only(ins: Instr, task: Task) -> str | None:
    """Why `ins` alone rules a proof out (its operands' contents are checked by
    _order_dataflow), or None."""
    ops = ins.operands
    if ins.op in ("ret", "nop", "jmp"):
        return None
    if ins.op in ("push", "pop"):
        return None if isinstance(ops[0], Reg) else "pushes or pops memory, whose contents are not followed"
    if ins.op in ("cmov", "j") and ins.cond not in task.order_conditions:
        return ("tests condition %r, which sees the values of the %s elements, not only their order"
                % (ins.cond, task.element))
    if ins.op == "j":
        return None
    if _compares_with_constant(ins) or (ins.op == "mov" and ins.width == 64 and all(isinstance(o, Reg) for o in ops)):
        return None  # n against a constant; a copy of the array pointer (both checked later)
    if ins.op not in ("mov", "xchg", "cmov", "cmp"):
        return "computes with the values (it neither compares nor moves them)"
    for o in ops:
        if isinstance(o, Imm):
            return "uses a constant, which the result may then depend on"
        if isinstance(o, Reg) and o.width != 32:
            return "moves or compares %d-bit data, not whole 32-bit elements" % o.width
        if isinstance(o, Mem) and not (o.width == 32 and o.index is None and o.disp % 4 == 0):
            return "accesses memory other than a whole array element disp(%pointer)"
    return None


def _compares_with_constant(ins: Instr) -> bool:
    """`cmp $k, %r32` or `test %r32, %r32`: order-only when %r32 holds n."""
    ops = ins.operands
    return (ins.op == "cmp" and len(ops) == 2 and isinstance(ops[0], Reg) and ops[0].width == 32
            and isinstance(ops[1], Imm)) or (ins.op == "test" and len(ops) == 2 and ops[0] == ops[1]
                                             and isinstance(ops[0], Reg) and ops[0].width == 32)


_HOLDS = {"data": "an element", "ptr": "the array pointer", "n": "n"}


def _successors(program: Program, i: int) -> list[int]:
    ins = program.instrs[i]
    if ins.op == "ret":
        return []
    target = [program.labels[ins.operands[0].name]] if ins.op in BRANCHES else []
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

        def need(what: str, kind: str = "data", use: str = "uses") -> str | None:
            have = kinds.get(what)
            if have == kind:
                return None
            if kind == "data" and what not in kinds:
                return "may read %s before the kernel wrote it, when it holds no element" % (
                    "the flags" if what == "flags" else "%" + what)
            held = "it holds %s" % _HOLDS[have] if have else "here it may hold anything"
            return "%s %%%s as %s, but %s" % (use, what, _HOLDS[kind], held)

        problem = next((p for o in ops if isinstance(o, Mem) for p in [need(o.base, "ptr", "addresses memory through")]
                        if p), None)
        writes = semantics.writes(ins)
        if "flags" in semantics.reads(ins):
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
            if kinds.get(regs[0]) == "data":
                problem = "compares an element with a constant"
            elif not task.variable:
                problem = "compares %%%s with a constant (only a variable sort's n may be)" % ops[0].name
            else:
                problem = need(regs[0], "n", "compares")
            kinds["flags"] = "data"
        elif ins.op == "mov" and len(regs) == 2:  # register to register: a copy keeps its kind
            kind = kinds.get(regs[1])
            if kind is None or (kind == "ptr") != (ins.width == 64):
                problem = need(regs[1], "ptr" if ins.width == 64 else "data", "copies")
            kinds[regs[0]] = kind
        elif ins.op in ("mov", "cmov", "xchg", "cmp"):  # moves and comparisons of elements
            problem = next((p for r in semantics.operands_read(ins) for p in [need(r)] if p), None)
            kinds.update({r: "data" for r in regs + ["flags"] if r in writes})
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


@functools.lru_cache(maxsize=16)
def proof_inputs(task: Task) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The task's weak orderings and their sorted results (kept: building sort8's takes
    longer than many short verifications)."""
    arrays, lengths = task.proof_inputs()
    return arrays, lengths, task.expected(arrays, lengths)

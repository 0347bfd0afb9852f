"""If-conversion of a reference's early returns: a warm start without branches.

gcc -O2 compiles an early `return` (p20's `if (x == 0) return 0;`, p18's `x != 0 && ...`)
into a test, a jcc to the function's final ret and a straight-line block B. No gcc 12 level
or flag tried turns these into cmov (-O1/-O2/-O3/-Os, with -mbmi -mbmi2 -mlzcnt -mpopcnt,
-mbranch-cost=0, --param=max-rtl-if-conversion-insns=20: p18 and p20 keep their branch), and
the search's ISA has no branches, so this pass rewrites

    prefix; jcc L; B; L: ret    as    prefix; mov %rax, %S; setcc %C; B; bt $0, %C; cmovc %S, %rax

with S and C caller-saved registers that neither the prefix nor B names (bt reads bit 0 of C,
the byte setcc wrote, at 32 bits: the space's widths; an 8-bit test is not among them). It is exact for a
function task, whose result is %rax alone: on the taken path the cmov restores the rax the
prefix left (S) under the condition the jcc tested (C, saved before B can change the flags);
on the other path rax is B's. B also runs on the taken path, so it must not touch memory or
callee-saved registers, nor branch, nor be a branch target; the other caller-saved registers
it writes are dead after the ret. Applied from the last such branch back, as long as the
registers last. The search shortens the result (e.g. p20's B alone is right for x = 0 too).
"""
from __future__ import annotations

from superopt.x86 import semantics
from superopt.x86.isa import CALLEE_SAVED, CALLER_SAVED, Imm, Instr, Label, Program, Reg


def _touched(ins: Instr) -> set[str]:
    return semantics.reads(ins) | semantics.writes(ins) | {o.family for o in ins.operands if isinstance(o, Reg)}


def _plain(ins: Instr) -> bool:
    """Straight-line register code: no control flow, memory or stack, no callee-saved register."""
    return (ins.op not in ("j", "jmp", "ret", "call", "push", "pop") and not semantics.loads(ins)
            and not semantics.stores(ins) and not _touched(ins) & set(CALLEE_SAVED + ("rsp",)))


def if_convert(program: Program) -> list[Instr] | None:
    """The program's instructions (without the final ret) with every early return converted
    (the module docstring), or None if it has a branch this pass cannot convert."""
    instrs = list(program.instrs)
    if not instrs or instrs[-1].op != "ret":
        return None
    end = len(instrs) - 1
    if any(0 < at < end for at in program.labels.values()):
        return None          # a label inside: something jumps into a block, not a triangle
    targets = {name for name, at in program.labels.items() if at == end}
    body, changed = instrs[:end], False
    while True:
        branches = [k for k, ins in enumerate(body) if ins.op in ("j", "jmp")]
        if not branches:
            return body if changed else None
        k = branches[-1]
        jump = body[k]
        label = jump.operands[0] if jump.operands else None
        block = body[k + 1:]
        if jump.op != "j" or not isinstance(label, Label) or label.name not in targets or not all(map(_plain, block)):
            return None
        used = set().union(*map(_touched, body))
        free = [f for f in CALLER_SAVED if f not in used]
        if len(free) < 2:
            return None
        save, rax = Reg(free[0], 64), Reg("rax", 64)
        body = (body[:k] + [Instr("mov", (save, rax), width=64), Instr("set", (Reg(free[1], 8),), cond=jump.cond, width=8)]
                + block + [Instr("bt", (Reg(free[1], 32), Imm(0)), width=32), Instr("cmov", (rax, save), cond="b", width=64)])
        changed = True

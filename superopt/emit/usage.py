"""Which registers, flags and memory a kernel uses, and the callee-saved saves inline asm drops.

What each instruction reads and writes comes from superopt.x86.semantics; this module adds
what export needs on top: which families an instruction names by itself (and so cannot be
renamed to a compiler-chosen register), and which kernels cannot be exported at all.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from superopt.errors import InputError
from superopt.x86 import semantics
from superopt.x86.isa import FAMILIES, Mem, Program, Reg


@dataclass
class RegisterUsage:
    """Which register families a kernel reads and writes, and which it needs by name."""
    reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)
    pinned: dict[str, str] = field(default_factory=dict)  # family -> why it cannot be renamed
    flags: bool = False    # writes the flags: "cc" clobber
    memory: bool = False   # reads or writes memory: "memory" clobber
    stack: bool = False    # uses %rsp (push/pop or rsp-based addresses)

    @property
    def families(self) -> list[str]:
        """Every family used except %rsp, in hardware order."""
        return [f for f in FAMILIES if f != "rsp" and (f in self.reads or f in self.writes)]


def register_usage(program: Program) -> RegisterUsage:
    """Read/write sets per register family, flags, memory and stack use of `program`."""
    use = RegisterUsage()
    for i, ins in enumerate(program.instrs):
        if semantics.harness_only(ins):
            raise input_error(program, i, "%s is for superopt's timing harness, not a kernel" % ins.op)
        use.reads |= semantics.reads(ins) - {"flags"}
        use.writes |= semantics.writes(ins) - {"flags"}
        for op in ins.operands:
            if isinstance(op, Reg) and op.family == "rsp":
                raise input_error(program, i, "uses %rsp as a value; only push/pop and rsp-based "
                                           "addresses can be exported")
            if isinstance(op, Mem):
                if "rsp" in (op.base, op.index):
                    if op.disp >= 0 or op.index == "rsp":
                        raise input_error(program, i, "reads or writes the caller's stack frame")
                    use.stack = True
        use.memory |= bool(semantics.loads(ins) or semantics.stores(ins))
        if ins.op in ("push", "pop"):  # the block keeps them (a ret becomes a jump)
            use.memory = use.stack = True
        for family in sorted(semantics.fixed_registers(ins)):
            use.pinned.setdefault(family, "%s needs %%%s by name" % (ins.att(), family))
        use.flags |= bool(semantics.flags_written(ins))
    return use


def input_error(program: Program, index: int, reason: str) -> InputError:
    """Why instruction `index` cannot be exported, naming its file and line."""
    line = program.lines[index] if index < len(program.lines) else None
    return InputError("cannot export: " + reason, program.path, line, program.instrs[index].att())


def body(program: Program) -> Program:
    """The program without its callee-saved register saves, when they follow the usual
    pattern: pushes of 64-bit registers at entry, popped in reverse before every `ret` (and
    before the end, if execution can fall off it), and no other push or pop. Inline asm needs
    no saves: the compiler preserves whatever it must around the block. Otherwise the
    program comes back unchanged."""
    instrs = program.instrs
    saved = []
    while len(saved) < len(instrs) and instrs[len(saved)].op == "push" \
            and isinstance(instrs[len(saved)].operands[0], Reg) and instrs[len(saved)].operands[0].width == 64:
        saved.append(instrs[len(saved)].operands[0])
    if not saved:
        return program
    epilogue = [("pop", (reg,)) for reg in reversed(saved)]
    exits = [i for i, ins in enumerate(instrs) if ins.op == "ret"]
    if instrs[-1].op not in ("ret", "jmp"):
        exits.append(len(instrs))
    drop = set(range(len(saved)))
    for end in exits:
        start = end - len(epilogue)
        if start < len(saved) or [(ins.op, ins.operands) for ins in instrs[start:end]] != epilogue:
            return program
        drop.update(range(start, end))
    if any(ins.op in ("push", "pop") for i, ins in enumerate(instrs) if i not in drop):
        return program
    return without(program, drop)


def without(program: Program, drop: set[int]) -> Program:
    """`program` with the instructions at indices `drop` left out; a label on a dropped
    instruction moves to the next kept one."""
    instrs = program.instrs
    keep = [i for i in range(len(instrs)) if i not in drop]
    new_index = {old: new for new, old in enumerate(keep)}
    relabel = {name: next((new_index[j] for j in range(at, len(instrs)) if j in new_index), len(keep))
               for name, at in program.labels.items()}
    return replace(program, instrs=[instrs[i] for i in keep], labels=relabel,
                   lines=[program.lines[i] for i in keep] if len(program.lines) == len(instrs) else [])

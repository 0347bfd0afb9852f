"""The general ISA as a search space for a function task: which instructions a search may
propose, and the random choices its moves make.

An instruction is a *template* (opcode, condition, width and the kind of each operand: a
register of some width, an immediate, the count register %cl, or lea's address) filled with
operands. The templates are every form the assembler accepts (`assembler.problem`, the one
place that says which operand forms an opcode takes) over register and immediate operands,
at the task's widths (32 and 64 bits, and 8/16 when an argument or the return is that
narrow; setcc's operand is 8 bits, movzx/movsx extend from 8, 16 or 32), that the value
evaluator models (a template whose instruction `compute.step` refuses is left out), needing
only the CPU extensions given (None: any; a search gives this machine's, superopt.x86.cpu).
No control flow, no stack, and no memory operands but, for a buffer task (superopt.tasks.buffer),
loads from its buffer: mov/movzx/movsx from `k(%rdi)` at every offset k where the load fits
inside the buffer.

Registers: the argument registers, %rax, and `scratch` more caller-saved ones (plus any other
caller-saved register a warm-start program uses). Callee-saved registers and %rsp are never
offered, so no candidate can break those rules of the call.

Immediates come from the constant pool (STOKE's and Souper's choice, as issue 18 says): the
reference's own constants, 0, +-1, +-2, and per width w: w-1, w, 2^(w-1) and the masks
2^k - 1 (k = 8, 16, 32), each kept for a template only where the assembler takes it (shift
counts 0..255, bt offsets below the width, imm32 for 64-bit operations).

A `Restriction` is the user's own choice of both, as STOKE lets its user choose the opcodes
(`superopt search --ops andn,pext --constants 0x80808080`): only those opcodes, and exactly
those immediates instead of the pool. A smaller space is what lets a search reach longer
programs; what it was given is part of its result (the result file's header says).
"""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

import numpy as np

from superopt.errors import SuperoptError
from superopt.game.values import NumpyBackend
from superopt.x86 import semantics
from superopt.x86.assembler import problem
from superopt.x86.backend import Unmodelled
from superopt.x86.compute import State, step
from superopt.x86.isa import CALLER_SAVED, CONDITIONS, Imm, Instr, Mem, Reg

REG, IMM, CL, ADDRESS, LOAD = "R", "I", "C", "A", "M"
SHAPES = ((), (REG,), (REG, REG), (REG, IMM), (REG, CL), (REG, REG, REG), (REG, REG, IMM), (REG, ADDRESS), (REG, LOAD))
LOADS = frozenset({"mov", "movzx", "movsx"})   # the opcodes that take a buffer operand
BUFFER = "rdi"                                 # where a buffer task's buffer is
SKIPPED = frozenset({"j", "jmp", "ret", "nop", "push", "pop", "xchg"})   # control flow, the stack, no-ops
SCALES = (1, 2, 4, 8)
_CL = Reg("rcx", 8)


@dataclass(frozen=True)
class Template:
    op: str
    cond: str | None
    width: int
    kinds: tuple[tuple[str, int], ...]     # per operand: (kind, register width; 0 for the others)
    immediates: tuple[int, ...] = ()       # the pool values the assembler takes here

    @property
    def key(self) -> tuple:
        return self.op, self.cond, self.width, self.kinds


@dataclass(frozen=True)
class Restriction:
    """A user-stated subset of the space: `ops` (opcode names, None: all) and `constants`
    (the immediates, exactly these; None: the pool)."""
    ops: tuple[str, ...] | None = None
    constants: tuple[int, ...] | None = None

    def text(self) -> str:
        """How the header says it, e.g. "ops andn,pext; constants 0x80808080"."""
        parts = ["ops " + ",".join(self.ops)] if self.ops is not None else []
        if self.constants is not None:
            parts.append("constants " + (",".join(hex(c) if abs(c) > 64 else str(c) for c in self.constants) or "none"))
        return "; ".join(parts)


def known_ops() -> tuple[str, ...]:
    """The opcodes a function task's space can hold (`--ops` names them)."""
    return tuple(sorted(op for op, sem in semantics.TABLE.items() if op not in SKIPPED and not sem.harness_only))


def restriction(ops=None, constants=None) -> Restriction:
    """`--ops` and `--constants` as given (lists of text or values), checked: an opcode the
    space cannot hold, or a constant that is no integer, is a SuperoptError naming it."""
    if ops is not None:
        ops = tuple(dict.fromkeys(o.strip().lower() for o in ops if o.strip()))
        unknown = [o for o in ops if o not in known_ops()]
        if unknown or not ops:
            raise SuperoptError("--ops: unknown opcode %s (known: %s)" % (unknown[0] if unknown else "(none given)",
                                                                         ", ".join(known_ops())))
    if constants is not None:
        values = []
        for c in constants:
            try:
                values.append(c if isinstance(c, int) else int(str(c).strip(), 0))
            except ValueError:
                raise SuperoptError("--constants: %r is not an integer (decimal, 0x.. or 0b..)" % c) from None
            if not -(1 << 63) <= values[-1] < (1 << 64):
                raise SuperoptError("--constants: %s does not fit 64 bits" % c)
        constants = tuple(sorted(set(values)))
    return Restriction(ops, constants)


def constant_pool(constants, widths) -> tuple[int, ...]:
    """The immediates a search may use (the module docstring), sorted."""
    pool = {0, 1, -1, 2, -2, (1 << 8) - 1, (1 << 16) - 1, (1 << 32) - 1} | {int(c) for c in constants}
    for w in widths:
        pool |= {w - 1, w, 1 << (w - 1)}
    return tuple(sorted(pool))


def _kinds_of(ins: Instr) -> tuple[tuple[str, int], ...]:
    out = []
    for k, o in enumerate(ins.operands):
        if isinstance(o, Reg):
            counted = k == 1 and ins.op in semantics.SHIFTS | semantics.ROTATES
            out.append((CL, 0) if counted else (REG, o.width))
        elif isinstance(o, Imm):
            out.append((IMM, 0))
        elif isinstance(o, Mem) and ins.op == "lea":
            out.append((ADDRESS, 0))
        elif isinstance(o, Mem):
            out.append((LOAD, o.width))
        else:
            return ()
    return tuple(out)


class Space:
    """The instructions a search on one function task may use (the module docstring)."""

    def __init__(self, task, scratch: int = 2, extra_registers=(), constants=(), extensions=None,
                 restrict: Restriction = Restriction()):
        signature = task.entry_signature if task.kind == "buffer" else task.signature
        self.buffer = task.size if task.kind == "buffer" else 0   # bytes loads may read at %rdi
        types = [p.type for p in signature.params] + [signature.ret]
        self.widths = tuple(sorted({32, 64} | {t.width for t in types if t.width < 32}))
        args = list(task.arguments)
        others = [f for f in CALLER_SAVED if f not in args and f != "rax"]
        wanted = [f for f in dict.fromkeys(extra_registers) if f in others]   # once each, in their order
        spare = [f for f in others if f not in wanted][:scratch]
        self.registers = tuple(args + ["rax"] + wanted + spare)
        self.pool = restrict.constants if restrict.constants is not None else \
            constant_pool(tuple(task.constants) + tuple(constants), self.widths)
        self.extensions, self.restrict = extensions, restrict
        self.templates = [t for t in self._forms() if self._modelled(t)]
        if not self.templates:
            raise SuperoptError("--ops %s: none of these opcodes has a form this task's search can use"
                                % ",".join(restrict.ops or ()))
        self.by_key = {t.key: t for t in self.templates}
        self.by_op: dict[str, list[Template]] = {}
        self.by_kinds: dict[tuple, list[Template]] = {}
        for t in self.templates:
            self.by_op.setdefault(t.op, []).append(t)
            self.by_kinds.setdefault((t.width, t.kinds), []).append(t)
        self.ops = sorted(self.by_op)

    # --- which templates exist -------------------------------------------------------
    def _forms(self):
        restrict_ops = self.restrict.ops
        for op, sem in sorted(semantics.TABLE.items()):
            if op in SKIPPED or sem.harness_only or (restrict_ops is not None and op not in restrict_ops):
                continue
            if sem.extension and self.extensions is not None and sem.extension not in self.extensions:
                continue
            for cond in (CONDITIONS if sem.conditional else (None,)):
                for width in (8,) if op == "set" else self.widths:
                    for shape in SHAPES:
                        for kinds in self._register_widths(op, width, shape):
                            t = self._checked(Template(op, cond, width, kinds))
                            if t is not None:
                                yield t

    def _register_widths(self, op, width, shape):
        """The operand width choices of a shape: every register of the operation's width,
        but setcc's 8-bit operand and movzx/movsx's narrower source."""
        if op == "set":
            return [((REG, 8),)] if shape == (REG,) and width == 8 else []
        if ADDRESS in shape and op != "lea":   # an address is lea's; loads are LOAD's, from the buffer only
            return []
        if shape == (REG, LOAD):
            if op not in LOADS or not self.buffer:
                return []
            sources = (width,) if op == "mov" else (8, 16, 32)
            return [((REG, width), (LOAD, s)) for s in sources if s <= width and self.offsets(s)
                    and (op == "mov" or s < width)]
        if op in ("movzx", "movsx"):
            return [((REG, width), (REG, s)) for s in (8, 16, 32) if s < width] if shape == (REG, REG) else []
        return [tuple((k, width if k == REG else 0) for k in shape)]

    def offsets(self, width: int) -> range:
        """The offsets at %rdi where a `width`-bit load fits inside the buffer."""
        return range(max(0, self.buffer - width // 8 + 1))

    def _sample(self, t: Template, value: int = 1) -> Instr:
        ops = []
        for kind, w in t.kinds:
            ops.append(Reg(self.registers[0], w) if kind == REG else Imm(value) if kind == IMM else
                       _CL if kind == CL else Mem(w, BUFFER) if kind == LOAD else Mem(t.width, self.registers[0]))
        return Instr(t.op, tuple(ops), cond=t.cond, width=t.width)

    def _checked(self, t: Template) -> Template | None:
        if any(k == IMM for k, _ in t.kinds):
            good = tuple(v for v in self.pool if problem(self._sample(t, v)) is None)
            return Template(t.op, t.cond, t.width, t.kinds, good) if good else None
        return t if problem(self._sample(t)) is None else None

    def _modelled(self, t: Template) -> bool:
        be = NumpyBackend(1, np.random.default_rng(0))
        buffer = [be.const(8, 0)] * self.buffer if self.buffer else None
        try:
            step(be, State.initial(be, buffer=buffer), self._sample(t, t.immediates[0] if t.immediates else 1))
        except Unmodelled:
            return False
        return True

    # --- what a program uses -----------------------------------------------------------
    def template(self, ins: Instr) -> Template | None:
        """The template `ins` fills, or None if it is outside the space."""
        t = self.by_key.get((ins.op, ins.cond, ins.width, _kinds_of(ins)))
        if t is None:
            return None
        for (kind, _), o in zip(t.kinds, ins.operands):
            if kind == REG and o.family not in self.registers:
                return None
            if kind == IMM and o.value not in t.immediates:
                return None
            if kind == LOAD and (o.base != BUFFER or o.index or o.disp not in self.offsets(o.width)):
                return None
            if kind == ADDRESS and (o.base not in self.registers or (o.index and o.index not in self.registers)
                                    or o.disp not in self.pool):
                return None
        return t

    def contains(self, ins: Instr) -> bool:
        return self.template(ins) is not None

    def every(self) -> list[Instr]:
        """Every instruction of the space, lea's addresses restricted to base + disp (a pool
        value) and base + index x scale (what an exhaustive search can afford)."""
        out = []
        for t in self.templates:
            choices = []
            for kind, w in t.kinds:
                if kind == REG:
                    choices.append([Reg(f, w) for f in self.registers])
                elif kind == IMM:
                    choices.append([Imm(v) for v in t.immediates])
                elif kind == CL:
                    choices.append([_CL])
                elif kind == LOAD:
                    choices.append([Mem(w, BUFFER, None, 1, d) for d in self.offsets(w)])
                else:
                    choices.append([Mem(t.width, b, None, 1, d) for b in self.registers for d in self.pool
                                    if -(1 << 31) <= d < (1 << 31)] +
                                   [Mem(t.width, b, i, s) for b in self.registers for i in self.registers
                                    for s in SCALES])
            out += [Instr(t.op, ops, cond=t.cond, width=t.width) for ops in itertools.product(*choices)]
        return out

    # --- random choices ----------------------------------------------------------------
    def operand(self, rng: random.Random, t: Template, k: int, old=None):
        """A random operand for position k of template t (another one than `old` where there
        is a choice)."""
        kind, w = t.kinds[k]
        if kind == REG:
            return Reg(rng.choice(self.registers), w)
        if kind == IMM:
            return Imm(rng.choice(t.immediates))
        if kind == CL:
            return _CL
        if kind == LOAD:
            return Mem(w, BUFFER, None, 1, rng.choice(self.offsets(w)))
        if old is not None and rng.random() < 0.75:   # change one part of the address
            part = rng.randrange(4)
            if part == 0:
                return Mem(t.width, rng.choice(self.registers), old.index, old.scale, old.disp)
            if part == 1:
                return Mem(t.width, old.base, rng.choice(self.registers), rng.choice(SCALES), old.disp)
            if part == 2 and old.index:
                return Mem(t.width, old.base, None, 1, old.disp)
            return Mem(t.width, old.base, old.index, old.scale, self._disp(rng))
        index = rng.choice(self.registers) if rng.random() < 0.5 else None
        return Mem(t.width, rng.choice(self.registers), index, rng.choice(SCALES) if index else 1,
                   self._disp(rng) if rng.random() < 0.5 else 0)

    def _disp(self, rng: random.Random) -> int:
        value = rng.choice(self.pool)
        return value if -(1 << 31) <= value < (1 << 31) else 0

    def fill(self, rng: random.Random, t: Template) -> Instr:
        return Instr(t.op, tuple(self.operand(rng, t, k) for k in range(len(t.kinds))), cond=t.cond, width=t.width)

    def random(self, rng: random.Random) -> Instr:
        """A random instruction: an opcode uniformly, then one of its templates, then operands."""
        return self.fill(rng, rng.choice(self.by_op[rng.choice(self.ops)]))

    def with_opcode(self, rng: random.Random, ins: Instr) -> Instr | None:
        """`ins` with another opcode (or condition) of the same operand kinds and widths."""
        t = self.template(ins)
        others = [o for o in self.by_kinds.get((t.width, t.kinds), ()) if o is not t] if t else []
        if not others:
            return None
        new = rng.choice(others)
        ops = tuple(Imm(rng.choice(new.immediates)) if kind == IMM and o.value not in new.immediates else o
                    for (kind, _), o in zip(new.kinds, ins.operands))
        return Instr(new.op, ops, cond=new.cond, width=new.width)

    def with_operand(self, rng: random.Random, ins: Instr) -> Instr | None:
        """`ins` with one operand changed."""
        t = self.template(ins)
        if t is None or not t.kinds:
            return None
        k = rng.randrange(len(t.kinds))
        if t.kinds[k][0] == CL:
            return None
        ops = list(ins.operands)
        ops[k] = self.operand(rng, t, k, ops[k])
        new = Instr(ins.op, tuple(ops), cond=ins.cond, width=ins.width)
        return None if new == ins or problem(new) is not None else new

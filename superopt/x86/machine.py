"""The CPU state instruction semantics change, and the operand access and memory model.

`State` holds the 16 register families as 64-bit values, the six flags (lazyflags.py), the
memory kernels use and which registers hold a known address. `Work` is one instruction's
view of it: operand reads and writes by the table's write rule (32-bit writes zero-extend,
8/16-bit writes merge) and the memory model:

- the int32 array at %rdi: whole elements at their byte offsets, addressed through any
  register that holds the array's address (the entry %rdi, copies and lea/add/sub of it);
- a read-only byte buffer at %rdi (buffer tasks: superopt.tasks.buffer): one 8-bit value
  per byte, loads of any width at any offset inside it assembled little-endian; a byte
  outside it, or a store into it, is not modelled;
- the stack, relative to the entry %rsp: push, pop and the red zone (128 bytes below the
  current %rsp), never the return address or the caller's frame; a slot never written
  reads as undefined.
Anything else (indexed addresses, an address the model cannot place, accesses that
partially overlap a stored value, bytes outside the array) raises `Unmodelled`.
"""
from __future__ import annotations

from typing import NamedTuple

from superopt.x86.backend import Backend, Bool, Unmodelled, Value
from superopt.x86.isa import FAMILIES, Imm, Instr, Mem, Reg
from superopt.x86.lazyflags import FLAG_INDEX, Lazy, condition
from superopt.x86.semantics import FLAGS, ROTATES, SHIFTS, flags_undefined, flags_written

_FAMILY = {f: i for i, f in enumerate(FAMILIES)}
_PLANS: dict = {}   # -> (defined flag indices, undefined flag indices), from the table


def _flag_plan(ins: Instr) -> tuple[tuple[int, ...], tuple[int, ...]]:
    # the table's flags depend on the opcode, and for shifts and rotates on the count and
    # width: a key cheaper to hash than the whole instruction
    count = ins.operands[1] if ins.op in SHIFTS or ins.op in ROTATES else None
    key = (ins.op, ins.width, count.value if isinstance(count, Imm) else "cl") if count else ins.op
    plan = _PLANS.get(key)
    if plan is None:
        undefined = flags_undefined(ins)
        written = flags_written(ins)
        plan = _PLANS[key] = (tuple(FLAG_INDEX[f] for f in FLAGS if f in written and f not in undefined),
                              tuple(FLAG_INDEX[f] for f in FLAGS if f in undefined))
    return plan


class State(NamedTuple):
    """The CPU state: 16 register families (64-bit values, FAMILIES order), the six flags
    (FLAGS order; each a backend boolean or a Lazy), memory {(region, byte offset): (width,
    value)} with regions "array" and "stack", and which registers hold a known address
    {family: (region, offset)}. Immutable by convention: `step` returns a new one and never
    changes the dicts it was given (a NamedTuple: cheap to make, once per instruction)."""
    regs: tuple
    flags: tuple
    memory: dict = {}
    pointers: dict = {}

    @staticmethod
    def initial(be: Backend, regs: dict | None = None, array=None, buffer=None) -> "State":
        """Registers from `regs` {family: 64-bit value} (others undefined), flags undefined;
        with `array` (int32 element values) or `buffer` (8-bit byte values), %rdi points at
        it; %rsp at the entry stack."""
        regs = regs or {}
        values = tuple(regs[f] if f in regs else be.undefined(64) for f in FAMILIES)
        undefined = Lazy("undefined")
        pointers = {"rsp": ("stack", 0)}
        memory = {}
        if array is not None:
            pointers["rdi"] = ("array", 0)
            memory = {("array", 4 * i): (32, v) for i, v in enumerate(array)}
        if buffer is not None:
            pointers["rdi"] = ("buffer", 0)
            memory = {("buffer", i): (8, v) for i, v in enumerate(buffer)}
        return State(values, (undefined,) * len(FLAGS), memory, pointers)


def register(be: Backend, state: State, family: str, width: int = 64) -> Value:
    value = state.regs[_FAMILY[family]]
    return value if width == 64 else be.extract(value, width - 1, 0)


class Work:
    """The state being changed by one instruction (copied on write)."""

    def __init__(self, be: Backend, state: State, ins: Instr):
        self.be, self.ins, self.state = be, ins, state
        self.regs, self.flags = list(state.regs), list(state.flags)
        self.memory, self.pointers = state.memory, state.pointers   # copied on write

    def done(self) -> State:
        return State(tuple(self.regs), tuple(self.flags), self.memory, self.pointers)

    def reg(self, family: str, width: int = 64) -> Value:
        value = self.regs[_FAMILY[family]]
        return value if width == 64 else self.be.extract(value, width - 1, 0)

    def set_reg(self, family: str, width: int, value: Value) -> None:
        be, i = self.be, _FAMILY[family]
        if family in self.pointers:
            self.point(family, None)
        if width == 32:
            value = be.zext(32, value, 64)
        elif width < 32:
            kept = be.and_(64, self.regs[i], be.const(64, ~((1 << width) - 1)))
            value = be.or_(64, kept, be.zext(width, value, 64))
        self.regs[i] = value

    def point(self, family: str, where: tuple[str, int] | None) -> None:
        """Record that `family` holds the address `where` (region, offset), or none."""
        if self.pointers is self.state.pointers:
            self.pointers = dict(self.pointers)
        if where is None:
            self.pointers.pop(family, None)
        else:
            self.pointers[family] = where

    def read(self, op, width: int) -> Value:
        if isinstance(op, Reg):
            return self.reg(op.family, op.width)
        if isinstance(op, Imm):
            return self.be.const(width, op.value)
        return self.load(op)

    def write(self, op, width: int, value: Value) -> None:
        if isinstance(op, Reg):
            self.set_reg(op.family, op.width, value)
        else:
            self.store(op, value)

    def address(self, m: Mem, width: int) -> tuple[str, int]:
        if m.index is not None:
            raise Unmodelled("%s: an indexed address is not modelled" % self.ins.att())
        if m.base not in self.pointers:
            raise Unmodelled("%s: %%%s holds no address the model knows (only the array at "
                             "the entry %%rdi and the stack)" % (self.ins.att(), m.base))
        region, offset = self.pointers[m.base]
        offset += m.disp
        if region == "stack":
            low = self.pointers.get("rsp", ("stack", 0))[1] - 128  # the red zone
            if offset + width // 8 > 0 or offset < low:
                raise Unmodelled("%s: the stack access at %d bytes from the entry %%rsp is not "
                                 "in the kernel's own frame or red zone" % (self.ins.att(), offset))
        return region, offset

    def _slot(self, key, width: int):
        """The value stored exactly at `key` with `width`, None if no stored bytes overlap."""
        region, offset = key
        for (r, o), (w, value) in self.memory.items():
            if r == region and o < offset + width // 8 and offset < o + w // 8:
                if (o, w) == (offset, width):
                    return value
                raise Unmodelled("%s: a %d-bit access at byte %d of the %s overlaps a %d-bit "
                                 "value at byte %d" % (self.ins.att(), width, offset, region, w, o))
        if region == "array":
            raise Unmodelled("%s: byte %d is outside the array" % (self.ins.att(), offset))
        return None

    def load(self, m: Mem) -> Value:
        key = self.address(m, m.width)
        if key[0] == "buffer":
            return self._bytes(key[1], m.width)
        value = self._slot(key, m.width)
        return self.be.undefined(m.width) if value is None else value

    def _bytes(self, offset: int, width: int) -> Value:
        """A little-endian load from the byte buffer."""
        be, value = self.be, None
        for k in range(width // 8):
            byte = self.memory.get(("buffer", offset + k))
            if byte is None:
                raise Unmodelled("%s: byte %d is outside the buffer" % (self.ins.att(), offset + k))
            part = be.shl(width, be.zext(8, byte[1], width), be.const(width, 8 * k)) if width > 8 else byte[1]
            value = part if value is None else be.or_(width, value, part)
        return value

    def store(self, m: Mem, value: Value) -> None:
        key = self.address(m, m.width)
        if key[0] == "buffer":
            raise Unmodelled("%s: the buffer is read-only" % self.ins.att())
        self._slot(key, m.width)
        self.memory = dict(self.memory)
        self.memory[key] = (m.width, value)

    def set_flags(self, lazy: Lazy) -> None:
        """The instruction's written flags from `lazy`, its undefined ones undefined (table)."""
        defined, undefined = _flag_plan(self.ins)
        for i in defined:
            self.flags[i] = lazy
        if undefined:
            blank = Lazy("undefined")
            for i in undefined:
                self.flags[i] = blank

    def cond(self) -> Bool:
        return condition(self.be, self.state.flags, self.ins.cond)

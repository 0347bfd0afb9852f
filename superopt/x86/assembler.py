"""From the instruction form to machine code, checked by decoding it back.

`problem` is the one place that says which operand forms each opcode takes; the parser
uses it for line-accurate errors and `assemble` for programs the search builds.

Encoding: every non-branch instruction is printed as Intel text with explicit hex numbers
(isa.format_intel) and assembled alone by Keystone; branches (jcc, jmp) are encoded here
as rel8 or rel32 and relaxed until every displacement fits. Each encoding is decoded by
Capstone and compared operand by operand with the Instr it came from before it is used,
then cached (encodings of non-branch instructions do not depend on their address: the
form has no rip-relative operands). Keystone only ever sees text printed from an Instr
that passed `problem`, never user text, so no input file can reach its crashing paths.

A program that can run past its last instruction (it does not end in ret or jmp, or a
branch targets a label after the last instruction) gets an implicit `ret` appended to the code; it
is not one of the program's instructions (`Assembled.implicit_ret` says so).
"""
from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass, field

import keystone

from superopt.errors import AssemblyError
from superopt.x86.decode import disassemble, matches
from superopt.x86.isa import (CONDITIONAL, CONDITIONS, FAMILIES, OPCODES, Imm, Instr,
                          Label, Mem, Program, Reg, format_intel)

WIDTHS = (8, 16, 32, 64)
_ALU2 = frozenset({"mov", "add", "sub", "and", "or", "xor", "cmp", "adc", "sbb", "test", "xchg"})
_UNARY = frozenset({"not", "neg", "inc", "dec"})
_SHIFTS = frozenset({"shl", "shr", "sar", "rol", "ror"})
# Register-destination operations of the general ISA: opcode -> (operand forms, widths);
# every register and memory operand is of the operation's width
_REG_FORMS = {
    **{op: (("RR", "RM"), (16, 32, 64)) for op in ("bsf", "bsr", "popcnt", "lzcnt", "tzcnt")},
    **{op: (("RR", "RM"), (32, 64)) for op in ("blsr", "blsi", "blsmsk")},
    **{op: (("RRR", "RRM"), (32, 64)) for op in ("andn", "pdep", "pext")},
    **{op: (("RRR", "RMR"), (32, 64)) for op in ("bzhi", "shlx", "shrx", "sarx")},
    "rorx": (("RRI", "RMI"), (32, 64)),
    # bt of memory by a register offset may address outside its operand: not offered
    "bt": (("RR", "RI", "MI"), (16, 32, 64)),
}
_BARE = frozenset({"nop", "ret", "rdtsc", "rdpmc", "lfence"})  # no operands, no width
_CL = Reg("rcx", 8)
_RET = b"\xc3"


def _imm_fits(value: int, width: int, full64: bool = False) -> bool:
    """Whether `value` is encodable as an immediate of an operation of `width` bits: any
    signed or unsigned value of that width (64-bit operations take a sign-extended imm32,
    except mov to a register)."""
    if width == 64 and not full64:
        width, unsigned_ok = 32, False
    else:
        unsigned_ok = True
    low = -(1 << (width - 1))
    high = (1 << width) if unsigned_ok else (1 << (width - 1))
    return low <= value < high


def _operand_problem(op) -> str | None:
    if isinstance(op, Reg):
        if op.family not in FAMILIES or op.width not in WIDTHS:
            return "no such register %r" % (op,)
    elif isinstance(op, Mem):
        if op.width not in WIDTHS:
            return "memory access width must be 8, 16, 32 or 64 bits"
        if op.base is None and op.index is None:
            return "absolute memory addresses are not supported (use a base register)"
        if op.base is not None and op.base not in FAMILIES:
            return "no such base register %r" % op.base
        if op.index is not None and op.index not in FAMILIES:
            return "no such index register %r" % op.index
        if op.index == "rsp":
            return "%rsp cannot be an index register"
        if op.scale not in (1, 2, 4, 8):
            return "scale must be 1, 2, 4 or 8"
        if op.scale != 1 and op.index is None:
            return "a scale needs an index register"
        if not isinstance(op.disp, int) or not -(1 << 31) <= op.disp < (1 << 31):
            return "displacement %s does not fit in 32 bits" % (op.disp,)
    elif isinstance(op, Imm):
        if not isinstance(op.value, int) or isinstance(op.value, bool):
            return "immediate must be an integer"
    elif isinstance(op, Label):
        if not isinstance(op.name, str) or not op.name:
            return "empty label name"
    else:
        return "not an operand: %r" % (op,)
    return None


def _kinds(ops) -> str:
    return "".join("R" if isinstance(o, Reg) else "M" if isinstance(o, Mem) else
                   "I" if isinstance(o, Imm) else "L" for o in ops)


def problem(ins: Instr) -> str | None:
    """Why `ins` is not an instruction superopt can encode, or None if it is."""
    if not isinstance(ins, Instr) or ins.op not in OPCODES:
        return "unknown instruction %r" % (getattr(ins, "op", ins),)
    op, ops, width = ins.op, ins.operands, ins.width
    if op in CONDITIONAL:
        if ins.cond not in CONDITIONS:
            return "unknown condition %r" % (ins.cond,)
    elif ins.cond is not None:
        return "%s takes no condition" % op
    for o in ops:
        reason = _operand_problem(o)
        if reason:
            return reason
    kinds = _kinds(ops)

    if op in _BARE or op in ("j", "jmp", "call"):
        if width is not None:
            return "%s has no operand size" % op
        if op in _BARE:
            return None if not ops else "%s takes no operands" % op
        if op == "call":
            if kinds not in ("R", "M") or ops[0].width != 64:
                return "call needs one 64-bit register or memory operand"
            return None
        return None if kinds == "L" else "%s needs a label" % ins.mnemonic
    if width not in WIDTHS:
        return "operand size must be 8, 16, 32 or 64 bits"
    sized = [o for o in ops if not isinstance(o, (Imm, Label))]

    if op in _ALU2:
        forms = ("RR", "RM", "MR", "RI", "MI") if op != "xchg" else ("RR", "RM", "MR")
        if kinds not in forms:
            return _form_error(ins, forms)
        if any(o.width != width for o in sized):
            return _size_error(ins)
        if kinds[1] == "I" and not _imm_fits(ops[1].value, width, full64=(op == "mov" and kinds == "RI")):
            return "immediate %d does not fit a %d-bit %s" % (ops[1].value, width, op)
        return None
    if op in _UNARY:
        if kinds not in ("R", "M"):
            return _form_error(ins, ("R", "M"))
        return _size_error(ins) if ops[0].width != width else None
    if op in _SHIFTS:
        if kinds not in ("RI", "MI", "RR", "MR"):
            return _form_error(ins, ("RI", "MI", "RR", "MR"))
        if ops[0].width != width:
            return _size_error(ins)
        if kinds[1] == "R" and ops[1] != _CL:
            return "a shift count in a register must be %cl"
        if kinds[1] == "I" and not 0 <= ops[1].value <= 255:
            return "shift count %d is not in 0..255" % ops[1].value
        return None
    if op in _REG_FORMS:
        forms, widths = _REG_FORMS[op]
        if kinds not in forms:
            return _form_error(ins, forms)
        if width not in widths:
            return "%s needs %s-bit operands" % (op, "16-, 32- or 64" if 16 in widths else "32- or 64")
        if any(o.width != width for o in sized):
            return _size_error(ins)
        if kinds[-1] == "I" and op == "rorx" and not 0 <= ops[-1].value <= 255:
            return "rorx count %d is not in 0..255" % ops[-1].value
        if kinds[-1] == "I" and op == "bt" and not 0 <= ops[-1].value < width:
            # the CPU takes it modulo the width; Keystone refuses offsets over 127
            return "bt bit offset %d is not in 0..%d" % (ops[-1].value, width - 1)
        return None
    if op in ("imul", "mul"):
        forms = ("R", "M") if op == "mul" else ("R", "M", "RR", "RM", "RRI", "RMI")
        if kinds not in forms:
            return _form_error(ins, forms)
        if any(o.width != width for o in sized):
            return _size_error(ins)
        if len(ops) > 1 and width == 8:
            return "imul with 2 or 3 operands needs 16-, 32- or 64-bit operands"
        if kinds[-1] == "I" and not _imm_fits(ops[2].value, width):
            return "immediate %d does not fit a %d-bit imul" % (ops[2].value, width)
        return None
    if op == "lea":
        if kinds != "RM":
            return _form_error(ins, ("RM",))
        if width == 8:
            return "lea needs a 16-, 32- or 64-bit destination"
        return _size_error(ins) if any(o.width != width for o in ops) else None
    if op == "cmov":
        if kinds not in ("RR", "RM"):
            return _form_error(ins, ("RR", "RM"))
        if width == 8:
            return "cmov needs 16-, 32- or 64-bit operands"
        return _size_error(ins) if any(o.width != width for o in ops) else None
    if op == "set":
        if kinds not in ("R", "M"):
            return _form_error(ins, ("R", "M"))
        return None if width == 8 and ops[0].width == 8 else "set%s needs an 8-bit operand" % ins.cond
    if op in ("movzx", "movsx"):
        if kinds not in ("RR", "RM"):
            return _form_error(ins, ("RR", "RM"))
        dst, src = ops
        if dst.width != width:
            return _size_error(ins)
        allowed = (8, 16) if op == "movzx" else (8, 16, 32)
        if src.width not in allowed or src.width >= dst.width or (src.width == 32 and dst.width != 64):
            return "%s cannot extend %d bits to %d bits" % (op, src.width, dst.width)
        return None
    if op in ("push", "pop"):
        forms = ("R", "M", "I") if op == "push" else ("R", "M")
        if kinds not in forms:
            return _form_error(ins, forms)
        if width != 64 or any(o.width != 64 for o in sized):
            return "%s needs a 64-bit operand" % op
        if kinds == "I" and not _imm_fits(ops[0].value, 64):
            return "immediate %d does not fit a push" % ops[0].value
        return None
    if op in ("cltq", "cltd", "cqto"):
        if ops:
            return "%s takes no operands" % op
        want = 32 if op == "cltd" else 64
        return None if width == want else "%s is a %d-bit operation" % (op, want)
    return "unknown instruction %r" % op  # every opcode is handled above


_KIND_NAMES = {"R": "register", "M": "memory", "I": "immediate", "L": "label"}


def _form_error(ins: Instr, forms) -> str:
    """Names the operand kinds in AT&T order (source first), as the user wrote them."""
    def att(kinds: str) -> str:
        return ", ".join(_KIND_NAMES[k] for k in reversed(kinds)) or "no operands"
    if all(len(f) != len(ins.operands) for f in forms):
        counts = sorted({len(f) for f in forms})
        return "%s takes %s operand%s, not %d" % (ins.mnemonic, " or ".join(map(str, counts)),
                                                  "" if counts == [1] else "s", len(ins.operands))
    if _kinds(ins.operands) == "MM":
        return "%s cannot take two memory operands" % ins.mnemonic
    return "%s cannot take %s (it takes %s)" % (ins.mnemonic, att(_kinds(ins.operands)),
                                               "; ".join(att(f) for f in forms))


def _size_error(ins: Instr) -> str:
    sizes = ", ".join("%s is %d-bit" % (o.name if isinstance(o, Reg) else "memory", o.width)
                      for o in ins.operands if isinstance(o, (Reg, Mem)))
    return "operand size mismatch: %s operation, %s" % (ins.width, sizes)


def check(ins: Instr) -> None:
    """Raise AssemblyError unless `ins` is an instruction superopt can encode."""
    reason = problem(ins)
    if reason:
        raise AssemblyError("%s: %s" % (_describe(ins), reason))


def _describe(ins) -> str:
    try:
        return ins.att()
    except Exception:  # an instruction too malformed to print is described by its repr
        return repr(ins)


_ks = None


def _keystone():
    global _ks
    if _ks is None:
        _ks = keystone.Ks(keystone.KS_ARCH_X86, keystone.KS_MODE_64)
    return _ks


# ---------------------------------------------------------------- encoding

_encodings: dict[Instr, bytes] = {}
_branch_checked: set[bytes] = set()


def clear_cache() -> None:
    """Forget every cached encoding (benchmarks use it to time cold assembly)."""
    _encodings.clear()
    _branch_checked.clear()


def encode(ins: Instr) -> bytes:
    """The machine code of one non-branch instruction, verified and cached."""
    code = _encodings.get(ins)
    if code is not None:
        return code
    check(ins)
    text = format_intel(ins)
    try:
        raw, count = _keystone().asm(text, 0)
    except keystone.KsError as exc:
        raise AssemblyError("%s: Keystone cannot assemble %r: %s" % (ins.att(), text, exc)) from None
    if not raw or count != 1:  # Keystone 0.9.2 returns None for some operands it rejects
        raise AssemblyError("%s: Keystone produced no code for %r" % (ins.att(), text))
    code = bytes(raw)
    _verify(ins, code, 0, None)
    if len(_encodings) >= 1 << 18:  # search may build many distinct instructions
        _encodings.clear()
    _encodings[ins] = code
    return code


def _verify(ins: Instr, code: bytes, address: int, target: int | None) -> None:
    decoded = disassemble(code, address)
    if len(decoded) != 1 or decoded[0].size != len(code) or not matches(ins, decoded[0], target):
        got = "; ".join(d.intel for d in decoded) or "nothing"
        raise AssemblyError("%s: encoded as %s, which decodes as %s" % (ins.att(), code.hex(" "), got))


def _branch(ins: Instr, rel: int, long: bool) -> bytes:
    """jcc/jmp with a displacement relative to the end of the instruction."""
    if ins.op == "jmp":
        return b"\xe9" + struct.pack("<i", rel) if long else b"\xeb" + struct.pack("<b", rel)
    cc = CONDITIONS.index(ins.cond)
    return bytes((0x0F, 0x80 + cc)) + struct.pack("<i", rel) if long else bytes((0x70 + cc,)) + struct.pack("<b", rel)


@dataclass
class Assembled:
    code: bytes
    offsets: list[int]                 # byte offset of each instruction from the start of code
    sizes: list[int]                   # byte size of each instruction
    label_offsets: dict[str, int] = field(default_factory=dict)
    base: int = 0                      # the load address it was assembled for (the code is
                                       # position-independent: offsets are relative)
    implicit_ret: bool = False         # a `ret` was appended after the last instruction

    def index_at(self, offset: int) -> int | None:
        """The instruction whose bytes contain code offset `offset` (None: the implicit ret
        or outside the code)."""
        i = bisect.bisect_right(self.offsets, offset) - 1
        return i if i >= 0 and offset < self.offsets[i] + self.sizes[i] else None


def needs_implicit_ret(program: Program) -> bool:
    """Whether execution can run past the last instruction (see the module docstring)."""
    n = len(program.instrs)
    if n == 0 or program.instrs[-1].op not in ("ret", "jmp"):
        return True
    at_end = {name for name, at in program.labels.items() if at == n}
    return any(ins.op in ("j", "jmp") and ins.operands[0].name in at_end for ins in program.instrs)


def assemble(program: Program | list[Instr], base: int = 0) -> Assembled:
    """Encode `program` for loading at address `base` (see the module docstring)."""
    if not isinstance(program, Program):
        program = Program(list(program))
    instrs, n = program.instrs, len(program.instrs)
    for name, at in program.labels.items():
        if not 0 <= at <= n:
            raise AssemblyError("label %s points at instruction %d of %d" % (name, at, n))
    parts: list[bytes | None] = []
    targets: list[int | None] = []
    for i, ins in enumerate(instrs):
        if ins.op in ("j", "jmp"):
            reason = problem(ins)
            if reason:
                raise AssemblyError(_where(program, i) + "%s: %s" % (_describe(ins), reason))
            at = program.labels.get(ins.operands[0].name)
            if at is None:
                raise AssemblyError(_where(program, i) + "%s: undefined label %s" % (ins.att(), ins.operands[0].name))
            parts.append(None)
            targets.append(at)
        else:
            try:
                parts.append(encode(ins))
            except AssemblyError as exc:
                raise AssemblyError(_where(program, i) + str(exc)) from None
            targets.append(None)

    # Branch relaxation: start short, lengthen those whose target is out of rel8 range
    # until nothing changes (lengths only grow, so this terminates).
    long = [False] * n
    while True:
        sizes = [len(p) if p is not None else (6 if long[i] and instrs[i].op == "j" else 5 if long[i] else 2)
                 for i, p in enumerate(parts)]
        offsets = [0] * (n + 1)
        for i in range(n):
            offsets[i + 1] = offsets[i] + sizes[i]
        grew = False
        for i, at in enumerate(targets):
            if at is not None and not long[i] and not -128 <= offsets[at] - offsets[i + 1] <= 127:
                long[i] = grew = True
        if not grew:
            break
    chunks = []
    for i, ins in enumerate(instrs):
        if parts[i] is not None:
            chunks.append(parts[i])
            continue
        code = _branch(ins, offsets[targets[i]] - offsets[i + 1], long[i])
        if code not in _branch_checked:  # a branch's bytes mean the same at any address
            try:
                _verify(ins, code, 0, offsets[targets[i]] - offsets[i])
            except AssemblyError as exc:
                raise AssemblyError(_where(program, i) + str(exc)) from None
            _branch_checked.add(code)
        chunks.append(code)
    implicit = needs_implicit_ret(program)
    if implicit:
        chunks.append(_RET)
    return Assembled(b"".join(chunks), offsets[:n], sizes, {k: offsets[v] for k, v in program.labels.items()},
                     base, implicit)


def _where(program: Program, i: int) -> str:
    if program.lines and i < len(program.lines):
        return "%s:%d: " % (program.path or "<input>", program.lines[i])
    return "instruction %d: " % i

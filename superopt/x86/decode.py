"""Machine code back into the instruction form (Capstone), and the check that a decoding is
the instruction it was encoded from, operand by operand."""
from __future__ import annotations

from dataclasses import dataclass

import capstone
from capstone import x86 as csx86

from superopt.x86.isa import REGISTERS, Imm, Instr, Mem, Operand, Reg


@dataclass(frozen=True)
class Decoded:
    """One instruction as Capstone decodes it; operands in the instruction form where they
    have one (branch targets become absolute Imm addresses; unknown registers stay text)."""
    address: int
    size: int
    raw: bytes
    mnemonic: str
    op_str: str
    operands: tuple

    @property
    def intel(self) -> str:
        return (self.mnemonic + " " + self.op_str).strip()


_cs = None


def _capstone():
    global _cs
    if _cs is None:
        _cs = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
        _cs.detail = True
    return _cs


def _family(insn, reg_id: int) -> str | None:
    if not reg_id:
        return None
    name = insn.reg_name(reg_id)
    return REGISTERS[name][0] if name in REGISTERS else name


def _decode_operand(insn, o):
    if o.type == csx86.X86_OP_REG:
        name = insn.reg_name(o.reg)
        return Reg.named(name) if name in REGISTERS else name
    if o.type == csx86.X86_OP_IMM:
        return Imm(o.imm)
    m = o.mem
    return Mem(o.size * 8, _family(insn, m.base), _family(insn, m.index), m.scale, m.disp)


def disassemble(code: bytes, base: int = 0) -> list[Decoded]:
    """Decode `code` (loaded at `base`) with Capstone; stops at the first undecodable byte."""
    return [Decoded(i.address, i.size, bytes(i.bytes), i.mnemonic, i.op_str,
                    tuple(_decode_operand(i, o) for o in i.operands))
            for i in _capstone().disasm(bytes(code), base)]


def _address_terms(m: Mem) -> tuple:
    """A memory operand as the address it computes: {register: coefficient} and disp, so that
    [rax*1] and [rax], or [rax*2] and [rax + rax*1], compare equal."""
    terms: dict[str, int] = {}
    if m.base:
        terms[m.base] = 1
    if m.index:
        terms[m.index] = terms.get(m.index, 0) + m.scale
    return tuple(sorted(terms.items())), m.disp


def _operand_matches(want: Operand, got, width: int | None, sized_mem: bool) -> bool:
    if isinstance(want, Imm):
        bits = width or 64
        return isinstance(got, Imm) and (got.value - want.value) % (1 << bits) == 0
    if isinstance(want, Mem):
        return (isinstance(got, Mem) and _address_terms(want) == _address_terms(got)
                and (not sized_mem or want.width == got.width))
    return want == got


_MNEMONIC_ALIASES = {"mov": ("mov", "movabs"), "shl": ("shl", "sal")}


def matches(ins: Instr, dec: Decoded, target: int | None) -> bool:
    """Whether Capstone's decoding `dec` is the instruction `ins` (branch target `target`)."""
    want = ins.operands
    if ins.op in ("j", "jmp"):
        want = (Imm(target),)
    names = _MNEMONIC_ALIASES.get(ins.op, (ins.mnemonic,))
    if dec.mnemonic not in names:
        # xchg of rax or ax with itself has the one-byte form (48) 90 / 66 90, which decodes
        # as nop and is one (xchg eax, eax is not: it zero-extends, and Keystone keeps 87 c0)
        return (ins.op == "xchg" and want[0] == want[1] and isinstance(want[0], Reg)
                and want[0].width != 32 and dec.mnemonic == "nop")
    got = dec.operands
    if len(got) != len(want):
        return False
    width = None if ins.op in ("j", "jmp") else ins.width
    sized_mem = ins.op != "lea"
    if all(_operand_matches(w, g, width, sized_mem) for w, g in zip(want, got)):
        return True
    if ins.op in ("xchg", "test"):  # symmetric: Capstone prints the r/m operand first
        return all(_operand_matches(w, g, width, sized_mem) for w, g in zip(reversed(want), got))
    return False

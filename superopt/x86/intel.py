"""Intel operand text into superopt's operands: the half of an Intel-syntax statement that
differs from AT&T (superopt.x86.parser reads the rest, and switches here on `.intel_syntax`).

Read as GNU as reads `.intel_syntax noprefix` and as gcc -masm=intel, objdump -M intel,
Capstone and `superopt export --format intel` write it: operands destination first,
registers bare (with `%` under `.intel_syntax prefix`, optional under noprefix), memory as
`DWORD PTR [base + index*scale + disp]` (any case, the size optional where a register fixes
it, the displacement also before the bracket as gcc writes it: `DWORD PTR 8[rdi]`, the
scale on either side of its register), numbers as GNU as reads them (0x.., 0b.., a leading
0 for octal, decimal) or with a trailing h (`0ffh`); branch targets as in AT&T (`.L3`,
`1b`, `2f`). Intel syntax has no size suffixes: the sizes are the operands' own.
"""
from __future__ import annotations

import re

from superopt.x86.isa import PTR, REGISTERS, Imm, Mem, Reg
from superopt.x86.operands import ParseProblem, integer, is_symbol, label, register, split_operands

SYNTAXES = ("intel", "intel prefix")  # .intel_syntax noprefix, .intel_syntax [prefix]

_SIZES = {name: width for width, name in PTR.items()}
_HEX_H = re.compile(r"([+-]?)\s*([0-9][0-9a-fA-F]*)[hH]\Z")
_PTR = re.compile(r"(\w+)\s+ptr\b\s*(.*)\Z", re.I | re.S)
_MEMORY = re.compile(r"([^\[\]]*)\[([^\[\]]*)\]\s*\Z")
_TERM = re.compile(r"\s*([+-])?\s*([^+\-\s][^+\-]*?)\s*(?=[+-]|\Z)")


def number(text: str) -> int | None:
    """An Intel integer (see the module docstring), or None if `text` is not one."""
    m = _HEX_H.match(text.strip())
    if m:
        value = int(m.group(2), 16)
        if value >= 1 << 64:
            raise ParseProblem("number does not fit in 64 bits")
        return -value if m.group(1) == "-" else value
    return integer(text)


def operands(text: str, branch: bool, resolve, syntax: str) -> list:
    """The operands of an Intel statement in Intel order; memory operands carry the width
    their PTR names (0 where none does). `resolve(number, direction)` names a numeric
    local label; `syntax` is one of SYNTAXES."""
    return [_operand(t, branch, resolve, syntax == "intel prefix") for t in split_operands(text, "[]", "brackets")] if text else []


def _register(text: str, prefix: bool) -> Reg | None:
    """The register `text` names, None if it names none."""
    if text.startswith("%"):
        return register(text)
    name = text.lower()
    if name in REGISTERS or name in ("ah", "bh", "ch", "dh", "rip", "eip", "cs", "ds", "es", "fs", "gs", "ss"):
        if prefix:
            raise ParseProblem("registers need a %% prefix under .intel_syntax prefix (or use noprefix): %s" % text)
        return register(name)
    return None


def _operand(text: str, branch: bool, resolve, prefix: bool):
    reg = _register(text, prefix)
    if reg is not None:
        return reg
    m = _PTR.match(text)
    if m:
        size = m.group(1).lower()
        if size not in _SIZES:
            raise ParseProblem("%s PTR operands are not supported (BYTE, WORD, DWORD or QWORD PTR)" % m.group(1))
        return _memory(m.group(2).strip(), _SIZES[size], prefix)
    if "[" in text or "]" in text:
        return _memory(text, 0, prefix)
    if text.lower().startswith(("offset ", "offset\t")):
        raise ParseProblem("symbolic immediates are not supported: %s" % text)
    value = number(text)
    if value is not None:
        if branch:
            raise ParseProblem("bad branch target %s: use a label" % text)
        return Imm(value)
    if ":" in text:
        raise ParseProblem("segment registers are not supported")
    if branch:
        target = label(text, resolve)
        if target is not None:
            return target
        raise ParseProblem("bad branch target %s" % text)
    if is_symbol(text):
        raise ParseProblem("symbol operands are not supported: %s" % text)
    raise ParseProblem("bad operand %s" % text)


def _memory(text: str, width: int, prefix: bool) -> Mem:
    """`disp[terms]` or `[terms]` (terms: registers, register*scale, numbers) as a Mem."""
    if ":" in text:
        raise ParseProblem("segment registers are not supported")
    m = _MEMORY.match(text)
    if not m:
        raise ParseProblem("bad memory operand %s" % text)
    outside, inner = m.group(1).strip(), m.group(2)
    base = index = None
    scale, disp = 1, 0
    if outside:
        value = number(outside)
        if value is None:
            if is_symbol(outside):
                raise ParseProblem("symbolic displacements are not supported: %s" % outside)
            raise ParseProblem("bad displacement %s" % outside)
        disp = value
    terms = list(_TERM.finditer(inner))
    if not inner.strip() or "".join(t.group(0) for t in terms) != inner:
        raise ParseProblem("bad memory operand [%s]" % inner)
    for t in terms:
        sign, term = t.group(1) or "+", t.group(2)
        factors = [f.strip() for f in term.split("*")]
        regs = [r for r in (_register(f, prefix) for f in factors) if r is not None]
        if not regs:
            value = number(term)
            if value is None or len(factors) > 1:
                if is_symbol(term):
                    raise ParseProblem("symbolic displacements are not supported: %s" % term)
                raise ParseProblem("bad term %s in [%s]" % (term, inner))
            disp += -value if sign == "-" else value
            continue
        reg = regs[0]
        if reg.width != 64:
            raise ParseProblem("addresses must use 64-bit registers (%s is %d-bit)" % (reg.name, reg.width))
        if sign == "-" or len(factors) > 2 or len(regs) > 1:
            raise ParseProblem("bad address term %s in [%s]" % (term, inner))
        if len(factors) == 2:
            factor = number(factors[1] if _register(factors[0], prefix) else factors[0])
            if factor not in (1, 2, 4, 8):
                raise ParseProblem("scale must be 1, 2, 4 or 8 in %s" % term)
            if index is not None:
                raise ParseProblem("two index registers in [%s]" % inner)
            index, scale = reg.family, factor
        elif base is None:
            base = reg.family
        elif index is None:
            index = reg.family
        else:
            raise ParseProblem("too many registers in [%s]" % inner)
    if base is None and index is None:
        raise ParseProblem("absolute memory addresses are not supported: %s" % text)
    return Mem(width, base, index, scale, disp)

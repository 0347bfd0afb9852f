"""AT&T operand text (`%eax`, `$-1`, `8(%rdi,%rcx,4)`, `.L3`, `1f`) into superopt's operands,
with the reason when it is not one."""
from __future__ import annotations

import re

from superopt.x86.isa import REGISTERS, Imm, Label, Mem, Reg

SYMBOL = r"[A-Za-z_.$][\w.$]*"  # a GNU as symbol name
_SYMBOL_RE = re.compile(SYMBOL + r"\Z")
_NUMERIC_REF = re.compile(r"(\d+)([bf])\Z")
_INT = re.compile(r"([+-]?)\s*(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)\Z")
_MEM = re.compile(r"([^()]*)\(([^()]*)\)\Z")


class ParseProblem(Exception):
    """A reason; parse_text adds the file, line and text."""


def split_operands(text: str, brackets: str = "()", what: str = "parentheses") -> list[str]:
    """The operand texts of a statement, split at the commas outside `brackets` (AT&T's
    parentheses; the Intel reader passes its square brackets)."""
    opening, closing = brackets
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == opening:
            depth += 1
        elif ch == closing:
            depth -= 1
            if depth < 0:
                raise ParseProblem("unbalanced " + what)
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    if depth:
        raise ParseProblem("unbalanced " + what)
    parts.append(text[start:].strip())
    if any(not p for p in parts):
        raise ParseProblem("empty operand")
    return parts


def is_symbol(text: str) -> bool:
    return _SYMBOL_RE.match(text) is not None


def label(text: str, resolve) -> Label | None:
    """A branch target as both syntaxes write it: a symbol, or a GNU numeric reference (`1f`,
    `2b`) that `resolve(number, direction)` names; None for anything else."""
    ref = _NUMERIC_REF.match(text)
    if ref:
        return Label(resolve(ref.group(1), ref.group(2)))
    return Label(text) if _SYMBOL_RE.match(text) else None


def integer(text: str) -> int | None:
    m = _INT.match(text.strip())
    if not m:
        return None
    digits = m.group(2)
    if len(digits.lstrip("0")) > 66:  # no 64-bit number is longer (and int() refuses 4300 digits)
        raise ParseProblem("number does not fit in 64 bits")
    if digits[:2].lower() == "0x":
        value = int(digits, 16)
    elif digits[:2].lower() == "0b":
        value = int(digits[2:], 2)
    elif digits.startswith("0"):
        value = int(digits, 8)  # GNU as reads a leading 0 as octal
    else:
        value = int(digits)
    return -value if m.group(1) == "-" else value


def register(text: str, what: str = "register") -> Reg:
    name = text[1:].strip().lower() if text.startswith("%") else text
    if name in REGISTERS:
        return Reg.named(name)
    if name in ("ah", "bh", "ch", "dh"):
        raise ParseProblem("high-byte register %%%s is not supported" % name)
    if name in ("rip", "eip"):
        raise ParseProblem("rip-relative addressing is not supported")
    if name in ("cs", "ds", "es", "fs", "gs", "ss"):
        raise ParseProblem("segment registers are not supported")
    raise ParseProblem("no such %s %s" % (what, text.strip()))


def operand(text: str, branch: bool, resolve):
    if text.startswith("*"):
        if not branch:
            raise ParseProblem("'*' (indirect) only applies to call and jmp")
        text = text[1:].strip()
        if not text.startswith(("%", "(")) and _MEM.match(text) is None:
            raise ParseProblem("bad indirect operand %s" % text)
    if text.startswith("%"):
        if ":" in text:
            raise ParseProblem("segment registers are not supported")
        return register(text)
    if text.startswith("$"):
        value = integer(text[1:])
        if value is None:
            if _SYMBOL_RE.match(text[1:].strip()):
                raise ParseProblem("symbolic immediates are not supported: %s" % text)
            raise ParseProblem("bad immediate %s" % text)
        return Imm(value)
    m = _MEM.match(text)
    if m:
        return _memory(m.group(1).strip(), m.group(2))
    if branch:
        target = label(text, resolve)
        if target is not None:
            return target
        if text.isdigit():
            raise ParseProblem("numeric label reference %s needs a direction: %sb or %sf" % (text, text, text))
        raise ParseProblem("bad branch target %s" % text)
    if integer(text) is not None:
        raise ParseProblem("absolute memory addresses are not supported: %s" % text)
    if _SYMBOL_RE.match(text):
        raise ParseProblem("symbol operands are not supported: %s" % text)
    raise ParseProblem("bad operand %s" % text)


def _memory(disp_text: str, inner: str) -> Mem:
    parts = [p.strip() for p in inner.split(",")]
    if len(parts) > 3:
        raise ParseProblem("bad memory operand (%s)" % inner)
    if len(parts) > 1 and not parts[1]:
        raise ParseProblem("missing index register in (%s)" % inner)
    base = _addressregister(parts[0]) if parts[0] else None
    index = _addressregister(parts[1]) if len(parts) > 1 else None
    scale = 1
    if len(parts) == 3:
        scale = integer(parts[2])
        if scale not in (1, 2, 4, 8):
            raise ParseProblem("scale must be 1, 2, 4 or 8, not %s" % parts[2])
    if base is None and index is None:
        raise ParseProblem("memory operand without a register")
    disp = 0
    if disp_text:
        disp = integer(disp_text)
        if disp is None:
            if _SYMBOL_RE.match(disp_text):
                raise ParseProblem("symbolic displacements are not supported: %s" % disp_text)
            raise ParseProblem("bad displacement %s" % disp_text)
    return Mem(0, base, index, scale, disp)  # width is set once the operation size is known


def _addressregister(text: str) -> str:
    if not text.startswith("%"):
        raise ParseProblem("bad address register %s" % text)
    reg = register(text, "address register")
    if reg.width != 64:
        raise ParseProblem("addresses must use 64-bit registers (%%%s is %d-bit)" % (reg.name, reg.width))
    return reg.family

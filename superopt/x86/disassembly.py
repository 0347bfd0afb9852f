"""Disassembly into the instruction form: objdump -d text (AT&T, or -M intel) and a
function's machine code (out of an ELF file, decoded by Capstone).

Both are listings of addressed instructions, and both become assembly text that the
parser reads (so the mnemonic table and every check are the AT&T and Intel readers'):
- only the instruction column counts: addresses and bytes are dropped, and a branch
  target becomes a label (the function's name at its entry, `.L<hex address>` elsewhere);
  a branch out of the function (a tail call, a call) is refused on its line, and so is a
  relocation (objdump -r: an operand the linker fills in with a symbol's address);
- nops of every form (`nopw 0x0(%rax,%rax,1)`, `data16 cs nopw`, `xchg %ax,%ax`) are the
  alignment padding compilers put inside and after functions: dropped, as the parser
  drops the `.p2align` they come from;
- immediates are read as the signed values compilers write (objdump and Capstone print
  `cmpl $-1` as `cmp $0xffffffff,%eax`, `andq $-16` as `and $0xfffffffffffffff0,%rsp`).
An error names objdump's line, or for machine code the function's offset and Capstone's text;
a decoded function's "lines" are its instructions' ordinals.
"""
from __future__ import annotations

import re
from dataclasses import replace

from superopt.errors import InputError
from superopt.x86.assembler import problem
from superopt.x86.decode import disassemble
from superopt.x86.functions import pick
from superopt.x86.isa import Imm, Program
from superopt.x86.parser import parse_text

_HEADER = re.compile(r"([0-9a-fA-F]+) <([^<>]+)>:\s*\Z")
_FORMAT = re.compile(r"\S+:\s+file format \S+\s*\Z")
_RELOCATION = re.compile(r"\s*([0-9a-fA-F]+): (R_\w+)\s+(.*?)\s*\Z")  # objdump -r
_ROW = re.compile(r"\s*([0-9a-fA-F]+):\t(.*)\Z")
_BYTES = re.compile(r"([0-9a-f]{2} )*[0-9a-f]{2}\s*(?:\t(.*))?\Z")
_BRANCH = re.compile(r"((?:j\w+|call\w?|loop\w*|xbegin)\s+)(?:0x)?([0-9a-fA-F]+)(?:\s+<([^<>]*)>)?\s*\Z", re.I)
_WIDE = re.compile(r"(?<![\w.$])(\$?)0x([89a-f][0-9a-f]{15})\b")  # 64-bit values with the top bit set
_NOP = re.compile(r"((cs|ds|es|ss|data16|addr32)\s+)*(nop\w*\b|xchg\s+%?ax,\s*%?ax\s*\Z)", re.I)


def is_objdump(text: str) -> bool:
    """Whether `text` is objdump -d output (or a pasted function block of it)."""
    return any(_FORMAT.match(line) or _HEADER.match(line) for line in text.split("\n", 200)[:200])


def parse_objdump(text: str, path: str | None, name: str | None = None, task: str | None = None) -> Program:
    """The function `name` (else the task's, else the only one) of objdump -d text."""
    lines = text.split("\n")
    blocks: dict[str, tuple[int, int]] = {}  # function -> (line of its header, address)
    for number, line in enumerate(lines, 1):
        m = _HEADER.match(line)
        if m:
            blocks.setdefault(m.group(2), (number, int(m.group(1), 16)))
    if not blocks:
        raise InputError("objdump text without a function (no '<name>:' line)", path)
    name = pick(dict.fromkeys(blocks, False), name, task, path)
    header, entry = blocks[name]
    rows = []  # (line, address, instruction text)
    for number in range(header + 1, len(lines) + 1):
        line = lines[number - 1]
        if _HEADER.match(line) or line.startswith("Disassembly of section"):
            break
        reloc = _RELOCATION.match(line)
        if reloc:
            raise InputError("%s+%#x refers to %s (a relocation, %s): symbols and calls are not supported"
                             % (name, int(reloc.group(1), 16) - entry, reloc.group(3), reloc.group(2)), path, number,
                             line)
        m = _ROW.match(line)
        if not m:
            continue  # source (-S), file:line (-l), blank lines
        rest = m.group(2)
        raw = _BYTES.match(rest)
        text_ = (raw.group(2) or "") if raw else rest
        if text_.strip():
            rows.append((number, int(m.group(1), 16), text_.strip()))
    if not rows:
        raise InputError("function %s has no instructions" % name, path, header, lines[header - 1])
    syntax = "att" if any("%" in text_ for _, _, text_ in rows) else "intel"
    end = rows[-1][1] + 1
    out = [""] * len(lines)
    out[header - 1] = ("" if syntax == "att" else ".intel_syntax noprefix; ") + name + ":"
    try:
        for number, text_ in _assembly(rows, name, entry, end, path, lambda n: lines[n - 1]).items():
            out[number - 1] = text_
        return _signed(parse_text("\n".join(out), path))
    except InputError as exc:
        if exc.line:
            raise InputError(exc.reason, path, exc.line, lines[exc.line - 1]) from None
        raise


def parse_code(code: bytes, address: int, name: str, path: str, globl: bool = True) -> Program:
    """The function `name` whose machine code `code` is loaded at `address`, decoded by
    Capstone; its lines are the instructions' ordinals."""
    decoded = disassemble(code, address)
    done = sum(d.size for d in decoded)
    if done < len(code):
        raise InputError("%s+%#x: bytes Capstone cannot decode (%s)" % (name, done, code[done:done + 8].hex(" ")),
                         path)
    rows = [(i, d.address, d.intel) for i, d in enumerate(decoded, 1)]
    where = {i: "%s+%#x: %s" % (name, d.address - address, d.intel) for i, d in enumerate(decoded, 1)}
    out = ["" for _ in rows]
    try:
        for number, text_ in _assembly(rows, name, address, address + len(code), path, where.get).items():
            out[number - 1] = text_
        out[0] = ".intel_syntax noprefix; %s%s: %s" % (".globl %s; " % name if globl else "", name, out[0])
        return _signed(parse_text("\n".join(out), path))
    except InputError as exc:
        if exc.line:
            raise InputError(exc.reason, path, None, where[exc.line]) from None
        raise


def _assembly(rows, name: str, entry: int, end: int, path, source) -> dict[int, str]:
    """Assembly text per line for the listing `rows` of (line, address, text): labels at
    the branch targets, branches to them, nops left out. `source(line)` is the listing's
    line for errors."""
    starts = {address: number for number, address, _ in rows}
    targets, text = {}, {}
    for number, address, instruction in rows:
        if _NOP.match(instruction):
            continue
        m = _BRANCH.match(instruction)
        if m:
            target = int(m.group(2), 16)
            if not entry <= target < end:
                where = " <%s>" % m.group(3) if m.group(3) else ""
                raise InputError("%s to %#x%s, outside %s" % (m.group(1).split()[0], target, where, name), path,
                                 number, source(number))
            if target not in starts:
                raise InputError("branch into the middle of an instruction (%#x)" % target, path, number,
                                 source(number))
            targets[target] = name if target == entry else ".L%x" % target
            instruction = m.group(1) + targets[target]
        text[number] = _WIDE.sub(lambda m: "%s-%#x" % (m.group(1), (1 << 64) - int(m.group(2), 16)), instruction)
    for target, label in targets.items():
        if label != name:
            number = starts[target]
            text[number] = label + ": " + text.get(number, "")
    return text


def _signed(program: Program) -> Program:
    """`program` with each immediate printed unsigned at its operation's width read as the
    signed value (where the instruction still encodes: a shift count stays unsigned)."""
    instrs = []
    for ins in program.instrs:
        if ins.width and any(isinstance(o, Imm) and o.value >= 1 << (ins.width - 1) for o in ins.operands):
            signed = replace(ins, operands=tuple(
                Imm(o.value - (1 << ins.width)) if isinstance(o, Imm) and 1 << (ins.width - 1) <= o.value < 1 << ins.width
                else o for o in ins.operands))
            ins = ins if problem(signed) else signed
        instrs.append(ins)
    return replace(program, instrs=instrs)

"""The batch driver: instruction-form code, assembled by superopt's assembler, that loops over
a whole batch of inputs inside Unicorn (see superopt.run.emulator for what it does per input)."""
from __future__ import annotations

from superopt.run.layout import (CTRL_COUNT, CTRL_I, CTRL_IN, CTRL_OUT, CTRL_REC, CTRL_SET, CTRL_STATUS, RECORD_BYTES, REGISTER_SETS, SET_BYTES, SLOT, STATUS_RSP, STATUS_SAVED,
                                 array_address, row_bytes)
from superopt.x86.isa import CALLEE_SAVED, FAMILIES, Imm, Instr, Label, Mem, Program, Reg


def _r(name: str, width: int = 64) -> Reg:
    return Reg(name, width)


def _m(base: str, disp: int = 0, width: int = 64) -> Mem:
    return Mem(width, base, None, 1, disp)


def _copy(src: str, dst: str, k: int) -> list[Instr]:
    """Copy k int32s from (src) to (dst) with qword moves (a dword for an odd one out),
    through %rdx."""
    out, done = [], 0
    while done < k:
        width = 64 if k - done >= 2 else 32
        out.append(Instr("mov", (_r("rdx", width), _m(src, 4 * done, width)), width=width))
        out.append(Instr("mov", (_m(dst, 4 * done, width), _r("rdx", width)), width=width))
        done += width // 32
    return out


def build_driver(n: int, lengths: tuple[int, ...], ctrl: int) -> Program:
    """The batch driver for arrays of n slots whose lengths are drawn from `lengths`
    (several lengths: a variable sort, whose %rsi and %rdi come from each input's record;
    one length: %rdi is fixed and %rsi random)."""
    ins: list[Instr] = []
    labels: dict[str, int] = {}
    variable = len(lengths) > 1

    def label(name: str) -> None:
        labels[name] = len(ins)

    def add(op, *operands, width=64, cond=None):
        ins.append(Instr(op, tuple(operands), cond=cond, width=width))

    def jump(op, target, cond=None):
        ins.append(Instr(op, (Label(target),), cond=cond))

    def copies(prefix: str, src: str | None, dst: str | None, then: str) -> None:
        """Copy between the array of this input's length and (src or dst); with several
        lengths, dispatch on the length in the input's record first."""
        if variable:
            add("mov", _r("rsi"), _m("rax", CTRL_REC))
            add("mov", _r("rdx"), _m("rsi"))
            for k in lengths[1:]:  # the first length's block follows
                add("cmp", _r("rdx", 32), Imm(k), width=32)
                jump("j", "%s%d" % (prefix, k), cond="e")
        for k in lengths:
            label("%s%d" % (prefix, k))
            add("mov", _r("rsi"), Imm(array_address(k)))
            ins.extend(_copy(src or "rsi", dst or "rsi", k))
            if variable:
                jump("jmp", then)
        label(then)

    label("done")
    add("nop", width=None)
    label("post")  # the kernel returns here
    add("mov", _r("rax"), Imm(SLOT + 8))
    add("cmp", _r("rsp"), _r("rax"))
    jump("j", "fail_rsp", cond="ne")
    add("mov", _r("rax"), Imm(ctrl))
    add("mov", _r("rcx"), _m("rax", CTRL_SET))
    for name in CALLEE_SAVED:
        add("cmp", _r(name), _m("rcx", 8 * FAMILIES.index(name)))
        jump("j", "fail_saved", cond="ne")
    add("mov", _r("rcx"), _m("rax", CTRL_OUT))
    copies("out", None, "rcx", "advance")
    add("add", _m("rax", CTRL_OUT), Imm(row_bytes(n)))
    add("add", _m("rax", CTRL_IN), Imm(row_bytes(n)))
    if variable:
        add("add", _m("rax", CTRL_REC), Imm(RECORD_BYTES))
    add("mov", _r("rcx"), _m("rax", CTRL_I))
    add("add", _r("rcx"), Imm(1))
    add("mov", _m("rax", CTRL_I), _r("rcx"))
    add("cmp", _r("rcx"), _m("rax", CTRL_COUNT))
    jump("j", "next", cond="ne")
    jump("jmp", "done")
    label("fail_rsp")
    add("mov", _r("rax"), Imm(ctrl))
    add("mov", _m("rax", CTRL_STATUS), Imm(STATUS_RSP))
    jump("jmp", "done")
    label("fail_saved")
    add("mov", _m("rax", CTRL_STATUS), Imm(STATUS_SAVED))
    jump("jmp", "done")

    label("next")  # the entry point: input i into its array
    add("mov", _r("rax"), Imm(ctrl))
    add("mov", _r("rcx"), _m("rax", CTRL_IN))
    copies("in", "rcx", None, "regs")
    add("mov", _r("rcx"), _m("rax", CTRL_I))
    add("and", _r("rcx", 32), Imm(REGISTER_SETS - 1), width=32)
    add("shl", _r("rcx", 32), Imm(SET_BYTES.bit_length() - 1), width=32)
    add("add", _r("rcx"), _m("rax", CTRL_SET + 8))  # the sets' base address
    add("mov", _m("rax", CTRL_SET), _r("rcx"))
    if variable:
        add("mov", _r("rdi"), _m("rax", CTRL_REC))  # the record pointer, for rsi and rdi below
    add("mov", _r("rax"), _r("rcx"))
    add("mov", _r("rsp"), Imm(SLOT))
    add("mov", _r("rcx"), _m("rax", 8 * FAMILIES.index("rcx")))
    add("mov", _r("rdx"), _m("rax", 8 * FAMILIES.index("rdx")))
    add("cmp", _r("rcx"), _r("rdx"))            # random flags
    for name in FAMILIES:
        if name not in ("rax", "rcx", "rdx", "rsp", "rdi", "rsi"):
            add("mov", _r(name), _m("rax", 8 * FAMILIES.index(name)))
    if variable:
        add("mov", _r("rsi"), _m("rdi"))
        add("mov", _r("rdi"), _m("rdi", 8))
    else:
        add("mov", _r("rsi"), _m("rax", 8 * FAMILIES.index("rsi")))
        add("mov", _r("rdi"), Imm(array_address(lengths[0])))
    add("mov", _r("rax"), _m("rax"))
    return Program(ins, labels)  # ... and the kernel follows

"""Where Unicorn 2.1.4 executes a BMI instruction differently from the CPU, the CPU's result.

Unicorn's BMI code (QEMU's before its 2023 fixes) gets three things wrong, each checked
against this project's Zen CPU (tests/test_semantics.py pins them as strict xfails):
- blsi sets CF when the source is 0 (the CPU: when it is not);
- bzhi with an index n = count[7:0] >= width-1 sets CF (the CPU: n >= width) and, for
  n >= width, clears the top bit (the CPU keeps the source);
- a 32-bit pdep takes its mask from the whole 64-bit register (the CPU: the low half) and
  writes all 64 bits (the CPU zero-extends).
`Fixes` puts a code hook on each such instruction of a loaded kernel that performs it as the
CPU does (the Intel SDM's definition) and continues after it, so every emulator that runs
kernels agrees with the hardware. The flags the table leaves undefined stay as Unicorn set them.
"""
from __future__ import annotations

import unicorn
from unicorn import x86_const as ux

from superopt.x86.isa import Instr, Reg

_REG = {f: getattr(ux, "UC_X86_REG_" + f.upper()) for f in (
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")}
_CF, _ZF, _SF, _OF = 1, 1 << 6, 1 << 7, 1 << 11
_MASK64 = (1 << 64) - 1


def affected(ins: Instr) -> bool:
    """Whether Unicorn may execute `ins` differently from the CPU."""
    return ins.op in ("blsi", "bzhi") or (ins.op == "pdep" and ins.width == 32)


def _read(uc, operand, width: int) -> int:
    if isinstance(operand, Reg):
        return uc.reg_read(_REG[operand.family]) & ((1 << width) - 1)
    address = operand.disp + sum(uc.reg_read(_REG[r]) * k for r, k in ((operand.base, 1), (operand.index, operand.scale))
                                 if r)
    return int.from_bytes(uc.mem_read(address & _MASK64, width // 8), "little")


def _deposit(src: int, mask: int) -> int:
    out, bit = 0, 1
    while mask:
        low = mask & -mask
        if src & bit:
            out |= low
        mask ^= low
        bit <<= 1
    return out


def _perform(uc, address: int, size: int, hooked) -> None:
    fixes, ins = hooked
    if not fixes.live:
        return
    w, (dst, *sources) = ins.width, ins.operands
    values = [_read(uc, o, w) for o in sources]
    flags = None
    if ins.op == "pdep":
        result = _deposit(*values)
    else:
        src = values[0]
        if ins.op == "blsi":
            result, carry = src & -src & ((1 << w) - 1), src != 0
        else:
            n = values[1] & 0xFF
            result, carry = (src if n >= w else src & ((1 << n) - 1)), n >= w
        flags = uc.reg_read(ux.UC_X86_REG_RFLAGS) & ~(_CF | _ZF | _SF | _OF)
        flags |= (_CF if carry else 0) | (0 if result else _ZF) | (_SF if result >> (w - 1) & 1 else 0)
    uc.reg_write(_REG[dst.family], result)  # 32- and 64-bit destinations only: a pure write
    if flags is not None:
        uc.reg_write(ux.UC_X86_REG_RFLAGS, flags)
    uc.reg_write(ux.UC_X86_REG_RIP, address + size)


class Fixes:
    """The hooks on every affected instruction of a kernel loaded at `base` (`offsets` from
    the assembler). Translated blocks of the code compiled before must be dropped by the
    caller (hooks are compiled into them). Unicorn drops deleted hooks only when an emulation
    ends, so `remove` also disarms them: a stale one that still fires does nothing."""

    def __init__(self, uc, instrs: list[Instr], base: int, offsets: list[int]):
        self.uc, self.live = uc, True
        self.handles = [uc.hook_add(unicorn.UC_HOOK_CODE, _perform, (self, ins), begin=base + offset,
                                    end=base + offset)
                        for ins, offset in zip(instrs, offsets) if affected(ins)]

    @classmethod
    def of_code(cls, uc, code: bytes, base: int) -> "Fixes":
        """The same for machine code (a compiled reference): its affected instructions as
        Capstone decodes them."""
        from superopt.x86.decode import disassemble
        decoded = [(Instr(d.mnemonic, d.operands, None, d.operands[0].width), d.address - base)
                   for d in disassemble(code, base) if d.mnemonic in ("blsi", "bzhi", "pdep")]
        return cls(uc, [ins for ins, _ in decoded], base, [offset for _, offset in decoded])

    def remove(self) -> None:
        self.live = False
        for handle in self.handles:
            self.uc.hook_del(handle)
        self.handles = []

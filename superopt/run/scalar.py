"""Running a scalar function's machine code (a kernel, or a compiled C reference) in Unicorn on a
batch of argument vectors: the value of rax per input, and every rule of the call checked.

Like superopt.run.emulator, a small driver (instruction-form code, assembled by superopt's
assembler) loops over the whole batch inside one `emu_start`, since a start costs more than a
short function. Per input it loads every register from that input's record (16 registers and
two words whose `cmp` sets random flags; the argument registers hold the arguments as the
System V entry rule of superopt.tasks.function says, their undefined bits and every other
register random), points %rsp at the return address and falls into the function. When it
returns, the driver checks %rsp and the callee-saved registers against the record and stores
rax.

Memory: the code is execute-only; the stack is one page of random bytes holding the return
address in its top slot, with the caller's frame above unmapped; nothing else the function can
reach is mapped, so any access other than its own stack frame faults ("memory" below), and a
write to the return address is trapped by a hook. blsi, bzhi and the 32-bit pdep run as the CPU
does them (superopt.run.bmi_fixes: Unicorn 2.1.4 gets them wrong). A function that can loop (a backward jump)
runs under Unicorn's instruction count, `step_limit` per input shared by a batch of
LOOP_BATCH inputs (the emulator's approach).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import unicorn
from unicorn import x86_const as ux

from superopt.run.bmi_fixes import Fixes
from superopt.run.emulator import TIMEOUT_US, Access, Stop
from superopt.run.layout import (CODE_BASE, CODE_SIZE, CTRL_COUNT, CTRL_I, CTRL_IN, CTRL_OUT, CTRL_SIZE,
                                 CTRL_STATUS, DATA_BASES, DRIVER_STEPS, KERNEL_BASE, PAGE, SLOT, STACK_BASE,
                                 STACK_FRAME, STATUS_RSP, STATUS_SAVED)
from superopt.tasks.function import Signature, entry, register_values
from superopt.x86.assembler import assemble
from superopt.x86.decode import disassemble
from superopt.x86.isa import CALLEE_SAVED, FAMILIES, Imm, Instr, Label, Mem, Program, Reg

BATCH = 8192                  # inputs per emu_start
LOOP_BATCH = 256              # ... for functions that can loop
RECORD_WORDS = len(FAMILIES) + 2    # the register file, then two words compared for the flags
_FLAGS = len(FAMILIES)
_UC_REG = {name: getattr(ux, "UC_X86_REG_" + name.upper()) for name in FAMILIES}
_JUMPS = {"jmp", "loop", "loope", "loopne", "jrcxz", "jecxz"}


@dataclass
class ScalarResult:
    rax: np.ndarray              # (completed,) uint64: rax of each finished input
    completed: int               # inputs that returned and passed the driver's checks
    stop: Stop | None = None     # why the batch stopped before its end
    fault: str | None = None     # Unicorn's words for a fault
    access: Access | None = None
    pc: int | None = None        # where execution stopped
    registers: dict | None = None


def _r(name: str) -> Reg:
    return Reg(name, 64)


def _m(base: str, disp: int = 0) -> Mem:
    return Mem(64, base, None, 1, disp)


def build_driver(ctrl: int) -> Program:
    """The scalar driver (the module docstring); entry `next`, return address `post`."""
    ins: list[Instr] = []
    labels: dict[str, int] = {}

    def add(op, *operands, cond=None, width=64):
        ins.append(Instr(op, tuple(operands), cond=cond, width=width))

    def jump(op, target, cond=None):
        ins.append(Instr(op, (Label(target),), cond=cond))

    labels["done"] = len(ins)
    add("nop", width=None)
    labels["post"] = len(ins)
    add("mov", _r("rcx"), Imm(SLOT + 8))
    add("cmp", _r("rsp"), _r("rcx"))
    jump("j", "fail_rsp", cond="ne")
    add("mov", _r("rdx"), Imm(ctrl))
    add("mov", _r("rsi"), _m("rdx", CTRL_IN))
    for name in CALLEE_SAVED:
        add("cmp", _r(name), _m("rsi", 8 * FAMILIES.index(name)))
        jump("j", "fail_saved", cond="ne")
    add("mov", _r("rcx"), _m("rdx", CTRL_OUT))
    add("mov", _m("rcx"), _r("rax"))
    add("add", _m("rdx", CTRL_OUT), Imm(8))
    add("add", _m("rdx", CTRL_IN), Imm(8 * RECORD_WORDS))
    add("mov", _r("rcx"), _m("rdx", CTRL_I))
    add("add", _r("rcx"), Imm(1))
    add("mov", _m("rdx", CTRL_I), _r("rcx"))
    add("cmp", _r("rcx"), _m("rdx", CTRL_COUNT))
    jump("j", "next", cond="ne")
    jump("jmp", "done")
    labels["fail_rsp"] = len(ins)
    add("mov", _r("rdx"), Imm(ctrl))
    add("mov", _m("rdx", CTRL_STATUS), Imm(STATUS_RSP))
    jump("jmp", "done")
    labels["fail_saved"] = len(ins)
    add("mov", _m("rdx", CTRL_STATUS), Imm(STATUS_SAVED))
    jump("jmp", "done")
    labels["next"] = len(ins)
    add("mov", _r("rax"), Imm(ctrl))
    add("mov", _r("rcx"), _m("rax", CTRL_IN))
    add("mov", _r("rsp"), Imm(SLOT))
    add("mov", _r("rax"), _m("rcx", 8 * _FLAGS))
    add("cmp", _r("rax"), _m("rcx", 8 * _FLAGS + 8))      # random flags
    for name in FAMILIES:
        if name not in ("rcx", "rsp"):
            add("mov", _r(name), _m("rcx", 8 * FAMILIES.index(name)))
    add("mov", _r("rcx"), _m("rcx", 8 * FAMILIES.index("rcx")))
    return Program(ins, labels)   # ... and the function follows


def code_loops(code: bytes, base: int = 0) -> bool:
    """Whether machine code has a jump backwards (to its own or an earlier address)."""
    return any((d.mnemonic in _JUMPS or d.mnemonic.startswith("j")) and d.operands
               and isinstance(d.operands[0], Imm) and d.operands[0].value <= d.address
               for d in disassemble(code, base))


class ScalarMachine:
    """A Unicorn x86-64 machine for scalar functions, set up once and reused."""

    def __init__(self):
        self.uc = uc = unicorn.Uc(unicorn.UC_ARCH_X86, unicorn.UC_MODE_64)
        uc.mem_map(CODE_BASE, CODE_SIZE, unicorn.UC_PROT_EXEC)
        uc.mem_map(STACK_BASE, PAGE, unicorn.UC_PROT_READ | unicorn.UC_PROT_WRITE)
        self.ctrl = DATA_BASES[0]
        self.records_at = self.ctrl + CTRL_SIZE
        self.outputs_at = self.records_at + BATCH * 8 * RECORD_WORDS
        size = -(-(self.outputs_at + 8 * BATCH - self.ctrl) // PAGE) * PAGE
        uc.mem_map(self.ctrl, size, unicorn.UC_PROT_READ | unicorn.UC_PROT_WRITE)
        driver = build_driver(self.ctrl)
        length = sum(assemble(driver).sizes)
        self.driver_base = KERNEL_BASE - length
        code = assemble(driver, base=self.driver_base)
        uc.mem_write(self.driver_base, code.code[:length])
        self.entry = self.driver_base + code.label_offsets["next"]
        self.post = self.driver_base + code.label_offsets["post"]
        self.access: Access | None = None
        self.loaded: bytes | None = None
        self.fixes: Fixes | None = None
        uc.hook_add(unicorn.UC_HOOK_MEM_INVALID, self._on_invalid)
        uc.hook_add(unicorn.UC_HOOK_MEM_WRITE, self._on_return_address, begin=SLOT, end=SLOT + 7)

    def _on_invalid(self, uc, access, address, size, value, user_data):
        if self.access is None:
            kind = {unicorn.UC_MEM_WRITE_UNMAPPED: "write", unicorn.UC_MEM_WRITE_PROT: "write",
                    unicorn.UC_MEM_FETCH_UNMAPPED: "fetch", unicorn.UC_MEM_FETCH_PROT: "fetch"}.get(access, "read")
            region = ("code" if CODE_BASE <= address < CODE_BASE + CODE_SIZE else
                      "caller frame" if SLOT + 8 <= address < SLOT + 8 + PAGE else "memory outside the stack")
            self.access = Access(kind, address, size, uc.reg_read(ux.UC_X86_REG_RIP), region)
        return False

    def _on_return_address(self, uc, access, address, size, value, user_data):
        if self.access is None:
            self.access = Access("write", address, size, uc.reg_read(ux.UC_X86_REG_RIP), "return address")
        uc.emu_stop()

    def load(self, code: bytes) -> None:
        """Write the function at KERNEL_BASE (int3 after it: running off the end traps)."""
        room = CODE_BASE + CODE_SIZE - KERNEL_BASE
        if len(code) > room - 16:
            raise ValueError("function of %d bytes does not fit the %d-byte code area" % (len(code), room))
        if code != self.loaded:
            if self.fixes is not None:
                self.fixes.remove()
            self.uc.mem_write(KERNEL_BASE, code + b"\xcc" * (room - len(code)))
            self.fixes = Fixes.of_code(self.uc, code, KERNEL_BASE)   # Unicorn's BMI bugs, as the CPU does them
            self.uc.ctl_remove_cache(CODE_BASE, CODE_BASE + CODE_SIZE)
            self.loaded = code

    def records(self, signature: Signature, args: np.ndarray, seed: int) -> np.ndarray:
        """Each input's register file (the entry rule's argument registers, the rest random)
        and flag words, (count, RECORD_WORDS) uint64."""
        rng = np.random.default_rng([seed, 7])
        count = len(args)
        records = rng.integers(0, 1 << 64, size=(count, RECORD_WORDS), dtype=np.uint64, endpoint=False)
        columns = [FAMILIES.index(a.family) for a in entry(signature)[0]]
        records[:, columns] = register_values(signature, args, records[:, columns])
        return records

    def run(self, code: bytes, signature: Signature, args: np.ndarray, *, seed: int = 0,
            step_limit: int = 10_000, loops: bool | None = None) -> ScalarResult:
        """Run `code` on every argument vector (uint64 (count, nparams)) until the first input
        that breaks a rule; rax per finished input. `seed` picks the undefined bits, the
        other registers, the flags and the stack's contents."""
        uc = self.uc
        self.load(code)
        loops = code_loops(code, KERNEL_BASE) if loops is None else loops
        args = np.ascontiguousarray(args, dtype=np.uint64).reshape(len(args), len(signature.params))
        records = self.records(signature, args, seed)
        stack = bytearray(np.random.default_rng([seed, 8]).bytes(PAGE))
        stack[STACK_FRAME:STACK_FRAME + 8] = self.post.to_bytes(8, "little")
        uc.mem_write(STACK_BASE, bytes(stack))
        outputs, finished = [], 0
        result = ScalarResult(np.zeros(0, np.uint64), 0)
        batch = LOOP_BATCH if loops else BATCH
        for start in range(0, len(args), batch):
            chunk = min(batch, len(args) - start)
            words = np.zeros(CTRL_SIZE // 8, dtype=np.uint64)
            words[[CTRL_COUNT // 8, CTRL_IN // 8, CTRL_OUT // 8]] = (chunk, self.records_at, self.outputs_at)
            uc.mem_write(self.ctrl, words.tobytes())
            uc.mem_write(self.records_at, records[start:start + chunk].tobytes())
            self.access, fault = None, None
            try:
                uc.emu_start(self.entry, self.driver_base, timeout=TIMEOUT_US,
                             count=chunk * (DRIVER_STEPS + step_limit) if loops else 0)
            except unicorn.UcError as exc:
                fault = exc
            pc = uc.reg_read(ux.UC_X86_REG_RIP)
            status, i = np.frombuffer(uc.mem_read(self.ctrl, 16), dtype=np.uint64).tolist()
            i = min(i, chunk)
            outputs.append(np.frombuffer(uc.mem_read(self.outputs_at, 8 * i), dtype=np.uint64).copy())
            finished += i
            stop = (Stop.FORBIDDEN if self.access is not None and self.access.region == "return address" else
                    Stop.FAULT if self.access is not None or fault is not None else
                    Stop.RSP if status == STATUS_RSP else Stop.CALLEE_SAVED if status == STATUS_SAVED else
                    Stop.STEP_LIMIT if pc != self.driver_base or i != chunk else None)
            if stop is not None:
                result.stop, result.access, result.pc = stop, self.access, pc
                result.fault = None if fault is None else str(fault)
                result.registers = {name: uc.reg_read(reg) for name, reg in _UC_REG.items()}
                break
        result.rax = np.concatenate(outputs) if outputs else result.rax
        result.completed = finished
        return result


_machine: ScalarMachine | None = None


def machine() -> ScalarMachine:
    """This process's scalar machine (reused across functions)."""
    global _machine
    if _machine is None:
        _machine = ScalarMachine()
    return _machine

"""Running kernels in Unicorn: many inputs per `emu_start`, forbidden accesses trapped.

One `Emulator` per worker is reused across programs: its memory map is set up once
(arenas, hooks and the driver change only with the task or the choice of hooks), and
`load` writes a new kernel and drops Unicorn's translation cache for the code page
(otherwise the previous program's translated blocks would run).

Calling `emu_start` once per input costs a fixed overhead (about 10 us here, see
bench/bench_verify.py) that dwarfs a 20-instruction kernel, so a small driver, generated here as instruction-form
code and assembled by superopt's own assembler, loops over a whole batch inside the
emulator: it copies input i into the array, loads every register from one of
REGISTER_SETS random register sets (flags too, through a `cmp` of two random values),
points %rsp at the return address and falls through into the kernel (the driver's last
instruction ends where the kernel begins). When the kernel returns, the driver checks
%rsp and the callee-saved registers against the set it loaded (stopping with a status
code on a mismatch) and copies a[0..n) to an output buffer that Python compares with
the expected results afterwards.

Memory, every region separated by unmapped gaps (a stray access faults):
- code: the driver, the kernel, then int3 filler (running off the end traps). It is
  mapped execute-only, so reading it as data faults too.
- one arena per array length in use: the array a[0..k), 8-byte aligned (misaligned
  accesses also take Unicorn's slow path), with guard memory around it holding random
  bytes. Range-limited memory hooks on the guard (reads and writes) and
  on the return-address slot (writes) report the access and the instruction; they cost
  nothing in Python until they fire, but make emulation about 1.8x slower
  (bench/bench_verify.py), so `run(hooks=False)` can leave them out. Hooks test the
  start address only, so for a kernel that can straddle the array's end (an 8-byte
  access to a[n-1], say: see `can_straddle`) the one after the array starts 7 bytes
  early and ignores accesses that end inside the array, at the price of a Python call
  per access to a[n-1] (about 2x on sort8's hooked run).
  After each batch the guard bytes are compared as well, which catches any write made
  without hooks (but not which input made it).
- the stack: one page, the return address in its top 8 bytes (the caller's frame above
  it is unmapped) and the kernel's frame below it (pushes, the red zone) filled with
  random bytes.
- the driver's data (inputs, outputs, register sets, control words), which the kernel
  has no address for. It sits at one of two addresses (`layout` 0 or 1) so that a kernel
  reaching it through a displacement from its array faults in the other layout.
Nothing else is mapped.

A kernel without backward jumps runs each instruction at most once per call, so it
terminates within its own length; kernels that can loop get an instruction-count limit
(Unicorn's `count`, which slows emulation) per batch of LOOP_BATCH inputs, which share
chunk x (DRIVER_STEPS + step_limit) instructions. A step limit below what the kernel
may run (its length without backward jumps; STEP_LIMIT, the default, with them) is
counted per input, exactly, by a Python hook on every kernel instruction: slow, and only
when asked for. After every
`emu_start` the emulator checks that execution reached the driver's exit and that the
driver finished the batch: Unicorn stops silently at its limits, including the
wall-clock limit (TIMEOUT_US).
(Unicorn compiles the stop address into translated blocks, which is one more reason
every run stops at the same place, the driver's exit.)
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import unicorn
from unicorn import x86_const as ux

from superopt.x86.assembler import Assembled, assemble
from superopt.errors import AssemblyError
from superopt.run.batch import build_driver
from superopt.run import bmi_fixes
from superopt.run.layout import (ARENA_BASE, ARENA_SIZE, ARENA_STRIDE, CODE_BASE, CODE_SIZE, CTRL_COUNT,
                                CTRL_IN, CTRL_OUT, CTRL_REC, CTRL_SET, CTRL_SIZE, DATA_BASES, DRIVER_STEPS,
                                KERNEL_BASE, MAX_N, PAGE, RECORD_BYTES, REGISTER_SETS, SET_BYTES, SLOT,
                                STACK_BASE, STACK_FRAME, STATUS_RSP, STATUS_SAVED, array_address, row_bytes)
from superopt.x86 import semantics
from superopt.x86.isa import BRANCHES, FAMILIES, Program

BATCH = 1 << 16                       # inputs per emu_start at most
LOOP_BATCH = 256                      # ... for kernels that can loop (each may use up the step limit)
STEP_LIMIT = 10_000                   # instructions a kernel may run per call, by default
# Wall-clock limit per emu_start, the last line of defence: a kernel without backward
# jumps has no instruction limit, but one writing far from its array could still keep
# the driver looping by rewriting the driver's data (possible in one layout only).
# Unicorn's timeout costs about 6% (bench/bench_verify.py).
TIMEOUT_US = 30_000_000


# mapped-but-forbidden or just-outside places: touching them breaks a memory rule, while
# any other bad access is a fault
FORBIDDEN_REGIONS = frozenset({"guard", "code", "return address", "caller frame"})
_RW = unicorn.UC_HOOK_MEM_READ | unicorn.UC_HOOK_MEM_WRITE
_UC_REG = {name: getattr(ux, "UC_X86_REG_" + name.upper()) for name in FAMILIES}


@dataclass(frozen=True)
class Access:
    """A memory access the kernel must not make (or a fault), as Unicorn reported it."""
    kind: str        # "read", "write", "fetch"
    address: int
    size: int
    pc: int          # address of the instruction making it (as Unicorn reports it)
    region: str      # "guard", "code", "return address", "caller frame", "unmapped", ...


class Stop(str, Enum):
    """Why a batch stopped before its last input (a str, so it prints and compares as its value)."""
    FORBIDDEN = "forbidden access"   # guard memory, the code, the return address or the caller's frame
    FAULT = "fault"                  # an unmapped or protected access, an invalid instruction
    STEP_LIMIT = "step limit"        # the kernel did not return within the instruction limit
    RSP = "rsp"                      # returned with %rsp changed
    CALLEE_SAVED = "callee-saved"    # returned with a callee-saved register changed


@dataclass
class BatchResult:
    outputs: np.ndarray         # (completed, n) int32: a[0..length) of each finished input
    completed: int              # inputs that ran to the end and passed the driver's checks
    stop: Stop | None = None    # why the batch stopped early, or None
    fault: str | None = None    # Unicorn's words for a fault it raised
    access: Access | None = None
    pc: int | None = None       # where execution stopped (faults, step limit)
    registers: dict | None = None  # registers at the stop
    trace: list[int] | None = None  # kernel instruction addresses executed (trace runs)


class Emulator:
    """A Unicorn x86-64 machine set up once for kernels on arrays of up to MAX_N int32s."""

    def __init__(self):
        self.uc = uc = unicorn.Uc(unicorn.UC_ARCH_X86, unicorn.UC_MODE_64)
        uc.mem_map(CODE_BASE, CODE_SIZE, unicorn.UC_PROT_EXEC)  # reading it as data faults
        uc.mem_map(STACK_BASE, PAGE, unicorn.UC_PROT_READ | unicorn.UC_PROT_WRITE)
        self._arenas: set[int] = set()  # lengths whose arenas are mapped
        self.data_size = CTRL_SIZE + REGISTER_SETS * SET_BYTES + BATCH * (RECORD_BYTES + 8 * MAX_N)
        self.data_size = -(-self.data_size // PAGE) * PAGE
        self.layout: int | None = None
        self._drivers: dict[tuple, tuple[int, bytes, int, int]] = {}
        self._current_driver: tuple | None = None
        self.kernel: Assembled | None = None
        self.kernel_loops = False
        self.kernel_straddles = False
        self.access: Access | None = None
        self._trace_limit = 0
        self._hooks: dict[tuple, int] = {}  # (what it guards) -> hook handle
        self._fixes: bmi_fixes.Fixes | None = None  # what Unicorn gets wrong, done right
        uc.hook_add(unicorn.UC_HOOK_MEM_INVALID, self._on_invalid)

    # -- hooks -----------------------------------------------------------------------
    def _set_hooks(self, lengths: tuple[int, ...], on: bool) -> None:
        """Install exactly the memory hooks wanted: the guards of these lengths' arenas and
        the return address, or none (see the module docstring for what they cost)."""
        wanted = {}
        if on:
            # (kinds, first address hooked, end, first address that is forbidden)
            wanted[("return address",)] = (unicorn.UC_HOOK_MEM_WRITE, SLOT, SLOT + 8, SLOT)
            early = 7 if self.kernel_straddles else 0
            for k in lengths:
                arena, array = ARENA_BASE + k * ARENA_STRIDE, array_address(k)
                wanted[("guard", k, 0)] = (_RW, arena, array, arena)
                wanted[("guard", k, 1, early)] = (_RW, array + 4 * k - early, arena + ARENA_SIZE, array + 4 * k)
        if set(wanted) == set(self._hooks):
            return
        dropped = set(self._hooks) - set(wanted)
        for key in dropped:
            self.uc.hook_del(self._hooks.pop(key))
        if dropped:
            # Unicorn only marks deleted hooks and drops them when an emulation ends; until
            # then freshly translated blocks still call them. An empty emulation (start at
            # the stop address, in the int3 filler) finishes the deletion.
            self.uc.emu_start(CODE_BASE + CODE_SIZE - 1, CODE_BASE + CODE_SIZE - 1)
        for key in set(wanted) - set(self._hooks):
            kinds, begin, end, forbidden = wanted[key]
            self._hooks[key] = self.uc.hook_add(kinds, self._on_forbidden, (key[0], forbidden), begin=begin, end=end - 1)
        self.uc.ctl_remove_cache(CODE_BASE, CODE_BASE + CODE_SIZE)  # hooks are compiled into blocks

    def _on_forbidden(self, uc, access, address, size, value, where):
        region, forbidden = where
        if address + size <= forbidden:  # an access to a[n-1] that ends before the guard
            return
        if self.access is None:
            kind = "write" if access == unicorn.UC_MEM_WRITE else "read"
            self.access = Access(kind, address, size, uc.reg_read(ux.UC_X86_REG_RIP), region)
        uc.emu_stop()

    def _on_invalid(self, uc, access, address, size, value, user_data):
        if self.access is None:
            kind = {unicorn.UC_MEM_WRITE_UNMAPPED: "write", unicorn.UC_MEM_WRITE_PROT: "write",
                    unicorn.UC_MEM_FETCH_UNMAPPED: "fetch", unicorn.UC_MEM_FETCH_PROT: "fetch"}.get(access, "read")
            prot = access in (unicorn.UC_MEM_WRITE_PROT, unicorn.UC_MEM_READ_PROT, unicorn.UC_MEM_FETCH_PROT)
            region = ("code" if CODE_BASE <= address < CODE_BASE + CODE_SIZE else
                      "caller frame" if SLOT + 8 <= address < SLOT + 8 + PAGE else
                      "protected memory" if prot else "unmapped memory")
            self.access = Access(kind, address, size, uc.reg_read(ux.UC_X86_REG_RIP), region)
        return False

    def _on_code(self, uc, address, size, trace):
        # installed for trace runs only: a Python call per instruction is slow
        trace.append(address)
        if len(trace) > self._trace_limit:
            uc.emu_stop()

    def _on_step(self, uc, address, size, counter):
        # installed when the step limit is counted per input: counter[0] is this call's
        # instructions so far, reset at the return address
        if address == self._return_to:
            counter[0] = 0
            return
        counter[0] += 1
        if counter[0] > self._trace_limit:
            counter[1] = True
            uc.emu_stop()

    # -- programs --------------------------------------------------------------------
    def load(self, program: Program, code: Assembled | None = None) -> Assembled:
        """Write a kernel into the code page, replacing the previous one. `code` is the
        program assembled at KERNEL_BASE, when the caller has it already."""
        code = code or assemble(program, base=KERNEL_BASE)
        room = CODE_BASE + CODE_SIZE - KERNEL_BASE
        if len(code.code) > room - 16:
            raise AssemblyError("kernel of %d bytes does not fit the %d-byte code area" % (len(code.code), room))
        self.uc.mem_write(KERNEL_BASE, code.code + b"\xcc" * (room - len(code.code)))
        if self._fixes is not None:
            self._fixes.remove()
        self._fixes = bmi_fixes.Fixes(self.uc, program.instrs, KERNEL_BASE, code.offsets)
        self.uc.ctl_remove_cache(KERNEL_BASE, CODE_BASE + CODE_SIZE)
        self.kernel = code
        self.kernel_loops = can_loop(program)
        # the most instructions one call can run, ret included
        self.kernel_steps = STEP_LIMIT if self.kernel_loops else len(code.sizes) + code.implicit_ret
        self.kernel_straddles = can_straddle(program)
        return code

    def _driver(self, n: int, lengths: tuple[int, ...]) -> tuple[int, int]:
        """Write the driver for this array shape and layout before the kernel; (entry, exit)."""
        key = (n, lengths, self.layout)
        if key not in self._drivers:
            program = build_driver(n, lengths, DATA_BASES[self.layout])
            size = sum(assemble(program).sizes)  # position-independent: measure, then place
            base = KERNEL_BASE - size
            code = assemble(program, base=base)
            self._drivers[key] = (base, code.code[:size], base + code.label_offsets["next"],
                                  base + code.label_offsets["post"])
        base, code, entry, post = self._drivers[key]
        if self._current_driver != key:
            self.uc.mem_write(base, code)
            self.uc.ctl_remove_cache(base, KERNEL_BASE)
            self._current_driver = key
        return entry, post

    def _use_arenas(self, lengths: tuple[int, ...]) -> None:
        """Map the arenas of these array lengths only: any other is unmapped, so a kernel
        reaching into another length's array faults."""
        for k in self._arenas - set(lengths):
            self.uc.mem_unmap(ARENA_BASE + k * ARENA_STRIDE, ARENA_SIZE)
        for k in set(lengths) - self._arenas:
            self.uc.mem_map(ARENA_BASE + k * ARENA_STRIDE, ARENA_SIZE, unicorn.UC_PROT_READ | unicorn.UC_PROT_WRITE)
        self._arenas = set(lengths)

    def _use_layout(self, layout: int) -> None:
        if self.layout == layout:
            return
        if self.layout is not None:
            self.uc.mem_unmap(DATA_BASES[self.layout], self.data_size)
        self.uc.mem_map(DATA_BASES[layout], self.data_size, unicorn.UC_PROT_READ | unicorn.UC_PROT_WRITE)
        self.layout = layout

    # -- running ---------------------------------------------------------------------
    def run(self, n: int, lengths_allowed: tuple[int, ...], arrays: np.ndarray, lengths: np.ndarray, *,
            seed: int = 0, layout: int = 0, step_limit: int = STEP_LIMIT, trace: bool = False,
            set_offset: int = 0, hooks: bool = True) -> BatchResult:
        """Run the loaded kernel on every input (arrays: (count, n) int32, lengths: (count,))
        until the first input it gets wrong by the driver's or the hooks' account.

        `seed` picks the random register sets, flags, guard and stack contents; `layout`
        where the driver's data lives. With `trace`, every kernel instruction executed is
        recorded (slow: meant for diagnosing one input) and the step limit is exact; a
        limit below `kernel_steps` is counted exactly per input too (see the module
        docstring).
        Input i gets register set (i + set_offset) mod REGISTER_SETS (`register_set`), so
        one input of a batch can be rerun alone with the registers it had. Without `hooks`
        a read of guard memory goes unnoticed unless it changes the result, and a write
        unless it changes the guard bytes; out-of-arena accesses still fault.
        """
        if self.kernel is None:
            raise RuntimeError("no kernel loaded")
        uc = self.uc
        rng = np.random.default_rng(seed)
        self._use_layout(layout)
        self._use_arenas(tuple(lengths_allowed))
        self._set_hooks(tuple(lengths_allowed), hooks)
        entry, post = self._driver(n, tuple(sorted(lengths_allowed)))
        ctrl = DATA_BASES[layout]
        sets_at = ctrl + CTRL_SIZE
        records_at = sets_at + REGISTER_SETS * SET_BYTES
        inputs_at = records_at + BATCH * RECORD_BYTES
        outputs_at = inputs_at + BATCH * row_bytes(n)
        done_at = KERNEL_BASE - len(self._drivers[(n, tuple(sorted(lengths_allowed)), layout)][1])

        sets = np.roll(self.register_sets(seed), -set_offset, axis=0)
        uc.mem_write(sets_at, sets.tobytes())
        guards = {k: rng.bytes(ARENA_SIZE) for k in sorted(self._arenas)}
        for k, fill in guards.items():
            uc.mem_write(ARENA_BASE + k * ARENA_STRIDE, fill)
        stack = bytearray(rng.bytes(PAGE))
        stack[STACK_FRAME:STACK_FRAME + 8] = post.to_bytes(8, "little")
        uc.mem_write(STACK_BASE, bytes(stack))

        count, width = len(arrays), row_bytes(n) // 4
        padded = np.zeros((count, width), dtype=np.int32)
        padded[:, :n] = arrays
        records = np.empty((count, 2), dtype=np.uint64)
        # %rsi: the length for variable sorts, with the register set's random upper half
        # (the argument is an int32), or all of the set's random value for fixed sorts.
        rsi = sets[np.arange(count) % REGISTER_SETS, FAMILIES.index("rsi")]
        records[:, 0] = (rsi & np.uint64(0xFFFF_FFFF_0000_0000)) | lengths.astype(np.uint64) \
            if len(lengths_allowed) > 1 else rsi
        records[:, 1] = np.array([array_address(k) for k in range(MAX_N + 1)], dtype=np.uint64)[lengths]
        outputs, finished = [], 0
        result = BatchResult(np.zeros((0, n), np.int32), 0)
        added = []  # the code hooks of this run
        counted = not trace and step_limit < self.kernel_steps
        steps = [0, False]  # this call's instructions, whether one call ran over the limit
        self._trace_limit = step_limit
        if trace:
            result.trace = []
            added.append(uc.hook_add(unicorn.UC_HOOK_CODE, self._on_code, result.trace,
                                     begin=KERNEL_BASE, end=CODE_BASE + CODE_SIZE - 1))
        elif counted:
            self._return_to = post
            added += [uc.hook_add(unicorn.UC_HOOK_CODE, self._on_step, steps, begin=begin, end=end)
                      for begin, end in ((KERNEL_BASE, CODE_BASE + CODE_SIZE - 1), (post, post))]
        if added:
            uc.ctl_remove_cache(CODE_BASE, CODE_BASE + CODE_SIZE)
        try:
            batch = LOOP_BATCH if self.kernel_loops else BATCH
            for start in range(0, count, batch):
                chunk = min(batch, count - start)
                ctrl_words = np.zeros(CTRL_SIZE // 8, dtype=np.uint64)
                ctrl_words[[CTRL_COUNT // 8, CTRL_IN // 8, CTRL_OUT // 8, CTRL_REC // 8, CTRL_SET // 8 + 1]] = (
                    chunk, inputs_at, outputs_at, records_at, sets_at)
                uc.mem_write(ctrl, ctrl_words.tobytes())
                uc.mem_write(records_at, records[start:start + chunk].tobytes())
                uc.mem_write(inputs_at, padded[start:start + chunk].tobytes())
                limit = chunk * (DRIVER_STEPS + step_limit) if self.kernel_loops and not added else 0
                self.access = None
                fault = None
                try:
                    uc.emu_start(entry, done_at, timeout=TIMEOUT_US, count=limit)
                except unicorn.UcError as exc:
                    fault = exc
                pc = uc.reg_read(ux.UC_X86_REG_RIP)
                status, i = np.frombuffer(uc.mem_read(ctrl, 16), dtype=np.uint64).tolist()
                i = min(i, chunk)  # (a kernel with wild writes could have rewritten it)
                got = np.frombuffer(uc.mem_read(outputs_at, 4 * width * i), dtype=np.int32).reshape(i, width)[:, :n]
                outputs.append(got)
                finished += i
                stop = None
                if self.access is not None:
                    forbidden = self.access.region in FORBIDDEN_REGIONS and self.access.kind != "fetch"
                    stop = Stop.FORBIDDEN if forbidden else Stop.FAULT
                elif fault is not None:
                    stop, result.fault = Stop.FAULT, str(fault)
                elif (trace and len(result.trace) > step_limit) or steps[1]:
                    stop = Stop.STEP_LIMIT
                elif status == STATUS_RSP:
                    stop = Stop.RSP
                elif status == STATUS_SAVED:
                    stop = Stop.CALLEE_SAVED
                elif pc != done_at or i != chunk:
                    stop = Stop.STEP_LIMIT
                else:
                    stop = self._check_guards(guards)
                if stop is not None:
                    result.stop, result.access, result.pc = stop, self.access, pc
                    result.registers = {name: uc.reg_read(reg) for name, reg in _UC_REG.items()}
                    break
        finally:
            for h in added:
                uc.hook_del(h)
            if added:
                uc.ctl_remove_cache(CODE_BASE, CODE_BASE + CODE_SIZE)
        result.outputs = np.concatenate(outputs) if outputs else result.outputs
        result.completed = finished
        return result

    @staticmethod
    def register_sets(seed: int) -> np.ndarray:
        """The REGISTER_SETS register files (uint64, FAMILIES order) of run `seed`: set 0 is
        all zeros (the tidy state a kernel relying on garbage often passes with, so a
        diagnosis can compare against it), the others random."""
        sets = np.random.default_rng([seed, 1]).integers(0, 1 << 64, size=(REGISTER_SETS, len(FAMILIES)),
                                                         dtype=np.uint64, endpoint=False)
        sets[0] = 0
        return sets

    def _check_guards(self, guards: dict[int, bytes]) -> Stop | None:
        """Writes made without hooks: compare the guard bytes themselves."""
        for k, fill in guards.items():
            arena, array = ARENA_BASE + k * ARENA_STRIDE, array_address(k)
            now = bytes(self.uc.mem_read(arena, ARENA_SIZE))
            lo, hi = array - arena, array - arena + 4 * k
            if now[:lo] != fill[:lo] or now[hi:] != fill[hi:]:
                where = next(j for j in range(ARENA_SIZE) if not lo <= j < hi and now[j] != fill[j])
                self.access = Access("write", arena + where, 1, 0, "guard")
                return Stop.FORBIDDEN
        return None


def can_loop(program: Program) -> bool:
    """Whether a jump can go back (to its own or an earlier instruction): only then can a
    kernel loop."""
    return any(ins.op in BRANCHES and program.labels.get(ins.operands[0].name, 0) <= i
               for i, ins in enumerate(program.instrs))


def can_straddle(program: Program) -> bool:
    """Whether an access may start inside the array and end past it: not when every load and
    store is an aligned element slot, disp(%rdi) with disp a multiple of 4 and at most 4
    bytes wide, and %rdi (the array, 8-byte aligned) is neither copied nor changed (an
    address computed from it, by lea, is only ever used through another register)."""
    return any(any(m.base != "rdi" or m.index or m.width > 32 or m.disp % 4
                   for m in semantics.loads(ins) + semantics.stores(ins))
               or "rdi" in semantics.writes(ins) or "rdi" in semantics.operands_read(ins)
               for ins in program.instrs)

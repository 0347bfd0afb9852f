"""Running a buffer task's kernel (`ret f(const uint8_t *p)`, superopt.tasks.buffer) in Unicorn.

The scalar machine (superopt.run.scalar) does the calls: its driver, registers, stack and
rules. This adds the buffers: input i's `size` bytes are written at BUFFER_BASE + i * STRIDE
and %rdi points at them (its argument value), the STRIDE - size bytes between buffers are
random. Hooks on that area stop the run at a read that is not inside the current input's
own buffer (the record being run says which) and at any write: the buffer is const. The
area starts with one slot no buffer uses, so the first buffer has bytes before it too.
Anything outside the area is unmapped, as for every scalar function.
"""
from __future__ import annotations

import numpy as np
import unicorn
from unicorn import x86_const as ux

from superopt.run.emulator import Access
from superopt.run.layout import CTRL_IN
from superopt.run.scalar import ScalarMachine, ScalarResult
from superopt.tasks.buffer import STRIDE, BufferTask
from superopt.x86.isa import FAMILIES

BUFFER_BASE = 0x2000_0000
AREA = (1 << 16) * STRIDE
MAX_INPUTS = AREA // STRIDE - 1   # inputs per filling of the buffer area (more run in chunks)
OUTSIDE, WRITTEN = "outside the buffer", "the read-only buffer"
_RDI = 8 * FAMILIES.index("rdi")


class BufferMachine(ScalarMachine):
    """The scalar machine with the buffer area mapped and guarded (the module docstring)."""

    def __init__(self):
        super().__init__()
        self.size = 0
        self.uc.mem_map(BUFFER_BASE, AREA, unicorn.UC_PROT_READ | unicorn.UC_PROT_WRITE)
        self.uc.hook_add(unicorn.UC_HOOK_MEM_READ, self._on_read, begin=BUFFER_BASE, end=BUFFER_BASE + AREA - 1)
        self.uc.hook_add(unicorn.UC_HOOK_MEM_WRITE, self._on_write, begin=BUFFER_BASE, end=BUFFER_BASE + AREA - 1)

    def _current(self) -> int:
        """The buffer address of the input being run (its record's %rdi)."""
        record = int.from_bytes(self.uc.mem_read(self.ctrl + CTRL_IN, 8), "little")
        return int.from_bytes(self.uc.mem_read(record + _RDI, 8), "little")

    def _stop(self, kind: str, address: int, size: int, region: str) -> None:
        if self.access is None:
            self.access = Access(kind, address, size, self.uc.reg_read(ux.UC_X86_REG_RIP), region)
        self.uc.emu_stop()

    def _on_read(self, uc, access, address, size, value, user_data):
        start = self._current()
        if not (start <= address and address + size <= start + self.size):
            self._stop("read", address, size, OUTSIDE)

    def _on_write(self, uc, access, address, size, value, user_data):
        self._stop("write", address, size, WRITTEN)

    def run_buffers(self, code: bytes, task: BufferTask, buffers: np.ndarray, *, seed: int = 0,
                    step_limit: int = 10_000, loops: bool | None = None) -> ScalarResult:
        """Run `code` on every buffer (uint8 (count, size)) until the first input that breaks
        a rule (ScalarMachine.run's result)."""
        self.size = task.size
        buffers = np.asarray(buffers, dtype=np.uint8).reshape(-1, task.size)
        rng = np.random.default_rng([seed, 9])
        out = ScalarResult(np.zeros(0, np.uint64), 0)
        parts = []
        for start in range(0, len(buffers), MAX_INPUTS):
            chunk = buffers[start:start + MAX_INPUTS]
            area = rng.integers(0, 256, size=(len(chunk) + 1, STRIDE), dtype=np.uint8)
            area[1:, :task.size] = chunk
            self.uc.mem_write(BUFFER_BASE, area.tobytes())
            addresses = (BUFFER_BASE + STRIDE * np.arange(1, len(chunk) + 1, dtype=np.uint64)).reshape(-1, 1)
            result = self.run(code, task.entry_signature, addresses, seed=seed + start, step_limit=step_limit,
                              loops=loops)
            parts.append(result.rax)
            if result.stop is not None:
                out = result
                break
        out.rax = np.concatenate(parts) if parts else out.rax
        out.completed = len(out.rax)
        return out


_machine: BufferMachine | None = None


def machine() -> BufferMachine:
    """This process's buffer machine (reused across kernels)."""
    global _machine
    if _machine is None:
        _machine = BufferMachine()
    return _machine

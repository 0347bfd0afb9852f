"""The emulator's memory map (see superopt.run.emulator): where code, arrays with their guard
pages, the stack and the driver's data live, and the driver's control words."""
from __future__ import annotations

from superopt.x86.isa import FAMILIES

PAGE = 0x1000
MAX_N = 8
CODE_BASE = 0x0040_0000
CODE_SIZE = 0x0004_0000
KERNEL_BASE = CODE_BASE + 0x8000      # the driver ends here and the kernel starts
STACK_BASE = 0x0080_0000
SLOT = STACK_BASE + PAGE - 8          # the return address; the caller's frame above is unmapped
STACK_FRAME = SLOT - STACK_BASE       # below the return address: pushes, the red zone
ARENA_BASE = 0x0100_0000
ARENA_STRIDE = 0x10000
ARENA_SIZE = 3 * PAGE                 # guard page, page ending with the array, guard page
DATA_BASES = (0x1000_0000, 0x3000_0000)
CTRL_SIZE = PAGE
REGISTER_SETS = 64                    # a power of two: the driver picks set i mod REGISTER_SETS
SET_BYTES = 8 * len(FAMILIES)
RECORD_BYTES = 16                     # per input: rsi value, rdi value
DRIVER_STEPS = 160                    # an upper bound on driver instructions per input

# control words, as offsets into the control page
CTRL_STATUS, CTRL_I, CTRL_COUNT, CTRL_IN, CTRL_OUT, CTRL_REC, CTRL_SET = (8 * k for k in range(7))
STATUS_OK, STATUS_RSP, STATUS_SAVED = 0, 1, 2


def array_address(k: int) -> int:
    """Where the array of length k lives: 8-byte aligned (Unicorn sends misaligned
    accesses down its slow path, about 2x slower), ending where its arena's last guard page
    starts or 4 guard bytes before."""
    return ARENA_BASE + k * ARENA_STRIDE + 2 * PAGE - row_bytes(k)


def row_bytes(n: int) -> int:
    """Bytes per array of n int32s in the driver's buffers: rounded up to 8 for alignment."""
    return 4 * (n + n % 2)

"""The value game of a buffer task (superopt.tasks.buffer): what `superopt search varint32` plays.

`BufferEvaluator` is the value evaluator (superopt.game.values) with the task's buffer as
memory: each byte a vector over the inputs at %rdi (x86/machine.py's byte buffer), every
register undefined (random per filling), and per filling the bytes after the terminating
one redrawn, so a kernel that reads them to decide fails as it does in verify. `BufferGame`
is ScalarGame's counterpart: the space (the general ISA plus loads from the buffer,
superopt.game.space), the verification set and the warm start, which is --init or nothing:
gcc's code of the plain loop loops and branches, outside the space.
"""
from __future__ import annotations

import numpy as np

from superopt.errors import InputError, SuperoptError
from superopt.game.scalar import ISA, ISA_TEXT, VERIFY_RANDOM
from superopt.game.values import NumpyBackend, ValueEvaluator
from superopt.tasks.buffer import BufferTask
from superopt.x86.compute import State
from superopt.x86.cpu import available
from superopt.x86.isa import FAMILIES, Program

MAX_LENGTH = 14      # the longest program considered by default: gcc -O2's loop has 14 instructions
_ONES = (1 << 64) - 1


class BufferEvaluator(ValueEvaluator):
    """ValueEvaluator's interface over buffers (uint8 (count, size)): lane j*count + i is
    buffer i in filling j."""

    def __init__(self, task: BufferTask, args: np.ndarray, expected: np.ndarray | None = None,
                 fillings: int = 2, seed: int = 0):
        self.task, self.fillings = task, fillings
        buffers = np.asarray(args, dtype=np.uint8).reshape(-1, task.size)
        self.count = len(buffers)
        self.lanes = self.count * fillings
        rng = np.random.default_rng(seed)
        self.backend = NumpyBackend(self.lanes, rng)
        lanes = np.concatenate([buffers] + [task.refill(buffers, rng) for _ in range(fillings - 1)])
        self.families = task.arguments
        self.ret_mask = np.uint64(task.mask)
        expected = task.expected(buffers) if expected is None else np.asarray(expected, dtype=np.uint64)
        self.expected = np.tile(expected & self.ret_mask, fillings)
        regs = {f: rng.integers(0, _ONES, size=self.lanes, dtype=np.uint64, endpoint=True) for f in FAMILIES}
        self._initial = State.initial(self.backend, regs, buffer=[lanes[:, i].astype(np.uint64)
                                                                  for i in range(task.size)])


class BufferGame:
    kind = "function"        # the function agents and the driver's function path play it
    isa_name = ISA
    pruning = frozenset()

    def __init__(self, task: BufferTask, max_length: int | None = None, init: Program | None = None,
                 scratch: int = 3, restrict=None):
        from superopt.game.space import Restriction, Space
        self.task, self.n = task, task.size
        self.init_given = init is not None
        self.reference, self.reference_length = None, None
        self.reference_name = "the plain loop"
        self.reference_note = "gcc's code of the loop loops and branches, outside the space"
        self.reference_line = ("the plain loop (superopt.tasks.buffer.decode); gcc's code of it loops, outside the "
                               "space: bench/bench_varint.py compares with gcc -O2 and -O3")
        start = [i for i in (init.instrs if init is not None else []) if i.op != "ret"]
        used = [o.family for ins in start for o in ins.operands if hasattr(o, "family")]
        self.space = Space(task, scratch, used, self._pool(), available(), restrict or Restriction())
        self.max_length = max_length or max(MAX_LENGTH, len(start))
        self.warm, self.warm_source, self.warm_note = None, None, "no warm start (--init gives one)"
        if init is not None:
            outside = [(k, ins) for k, ins in enumerate(start) if not self.space.contains(ins)]
            if outside:
                k, ins = outside[0]
                raise InputError("the warm start is outside the search's space (%s + loads from the buffer: %s)"
                                 % (self.space.restrict.text() or ISA_TEXT, ins.att()), init.path,
                                 init.lines[k] if k < len(init.lines) else None)
            self.warm, self.warm_source = start, "--init"
        self.args = task.inputs(np.random.default_rng(0), VERIFY_RANDOM)
        self.expected = task.expected(self.args)
        self.special = len(task.inputs(np.random.default_rng(0), 0))   # the leading edge and found rows

    def _pool(self) -> tuple[int, ...]:
        """The loop's constants 0x7f and 0x80 repeated over 2..size bytes (masks of payload
        and continuation bits), and its shift counts 7*i."""
        out = {7 * i for i in range(self.task.size)}
        for byte in self.task.constants:
            out |= {int.from_bytes(bytes([byte]) * k, "little") for k in range(2, self.task.size + 1)}
        return tuple(sorted(out))

    def evaluator(self, args, expected=None, seed: int = 0) -> BufferEvaluator:
        return BufferEvaluator(self.task, args, expected, seed=seed)

    def to_program(self, instrs) -> Program:
        return Program(list(instrs), name=self.task.name)


def buffer_game(task: BufferTask, isa: str | None = None, max_length: int | None = None, no_prune=(),
                init: Program | None = None, restrict=None) -> BufferGame:
    """The game of a buffer task; the sort tasks' instruction sets and pruning rules are
    refused in one line."""
    if isa not in (None, ISA):
        raise SuperoptError("--isa %s is for the sort tasks: %s is searched over --isa %s" % (isa, task.name, ISA))
    if no_prune:
        raise SuperoptError("--no-prune names the sort tasks' pruning rules: %s has none" % task.name)
    return BufferGame(task, max_length, init, restrict=restrict)

"""The data-parallel evaluator of the assembly game: one instruction updates every test input at once.

Programs built from mov/cmp/cmov depend on the relative order of the inputs alone, so
each input is held as ranks. A location (register or array slot) is ONE Python integer
that packs, for every input k, a field of n+1 bits at bit k*(n+1): bit r set means "holds
rank r", no bit set means "uninitialised", and the top (guard) bit stays clear so that
per-field arithmetic never carries into the next field. With that layout:

- mov is a reference copy (Python integers are immutable);
- cmp a, b: `b - LOW` sets, in every field, the bits below b's rank, so `a & (b - LOW)`
  is non-zero exactly where a < b; adding a per-field constant carries a non-zero field
  into its guard bit, which becomes a full-field condition mask with one shift and one
  multiplication;
- cmovCC d, s is the masked select `d ^ ((d ^ s) & mask)`;
- the items placed correctly are `popcount(slot & expected)` per slot.

Measured on this machine (bench/bench_evaluator.py), this beats per-input tuples and
numpy arrays of ranks for the small proof sets, and stays fine on large ones because
big-integer operations are linear in the bits they touch.

Locations are numbered registers first (0..R-1), then array slots (R..R+n-1). A CPU state
is the tuple `(locations, lt, gt)`: the location contents, and the condition masks "first
operand less" / "greater" of the last cmp (None before any cmp).
"""
from __future__ import annotations

import numpy as np

from superopt.x86.isa import SIGNED_ORDER_CONDITIONS

# Operation kinds of evaluator actions: (kind, dst, src, cond)
MOV, CMP, CMOV = 0, 1, 2
# Condition codes the evaluator understands: those that, after a cmp, depend on the order
# of the operands alone (x86/isa.py; Packing.flags_to_masks gives their masks).
CONDS = ("l", "ge", "g", "le", "e", "ne")
assert set(CONDS) == SIGNED_ORDER_CONDITIONS


class Packing:
    """The bit layout for `count` inputs of `n` ranks, and its per-field constants."""

    def __init__(self, n: int, count: int):
        self.n, self.count = n, count
        self.width = w = n + 1
        self.low = _repeat(1, w, count)                  # bit 0 of every field
        self.content = _repeat((1 << n) - 1, w, count)   # every rank bit of every field
        self.guard = _repeat(1 << n, w, count)           # every guard bit
        self.add = _repeat((1 << n) - 1, w, count)       # carries a non-zero field into its guard

    def pack(self, ranks: np.ndarray) -> int:
        """ranks: (count,) ints in [0, n), or -1 for "uninitialised" -> one location integer."""
        ranks = np.asarray(ranks)
        bits = np.zeros((self.count, self.width), dtype=np.uint8)
        live = ranks >= 0
        bits[np.nonzero(live)[0], ranks[live]] = 1
        return int.from_bytes(np.packbits(bits.reshape(-1), bitorder="little").tobytes(), "little")

    def unpack(self, value: int) -> np.ndarray:
        """One location integer -> (count,) ranks, -1 where uninitialised."""
        return self.unpack_many((value,))[0]

    def unpack_many(self, values) -> np.ndarray:
        """Location integers -> (len(values), count) ranks, -1 where uninitialised, in one
        pass (the beam calls this for every child it scores)."""
        nbytes = (self.count * self.width + 7) // 8
        raw = np.frombuffer(b"".join(v.to_bytes(nbytes, "little") for v in values), dtype=np.uint8)
        bits = np.unpackbits(raw.reshape(len(values), nbytes), axis=1, bitorder="little")
        bits = bits[:, : self.count * self.width].reshape(len(values), self.count, self.width)[:, :, : self.n]
        # a field holds one rank bit or none: its dot with 1..n is rank + 1, or 0
        return bits.astype(np.int64) @ np.arange(1, self.n + 1) - 1

    def flags_to_masks(self, lt: int, gt: int) -> dict[str, int]:
        c = self.content
        return {"l": lt, "ge": c ^ lt, "g": gt, "le": c ^ gt, "e": c ^ (lt | gt), "ne": lt | gt}


def _repeat(field: int, width: int, count: int) -> int:
    """`field` repeated in `count` fields of `width` bits."""
    return field * (((1 << (width * count)) - 1) // ((1 << width) - 1))


def dense_ranks(arrays: np.ndarray) -> np.ndarray:
    """Per row, each value's rank among the row's distinct values (ties share a rank)."""
    arrays = np.asarray(arrays, dtype=np.int64)
    out = np.empty(arrays.shape, dtype=np.int64)
    for i, row in enumerate(arrays):
        out[i] = np.unique(row, return_inverse=True)[1].reshape(-1)
    return out


class Evaluator:
    """Applies evaluator actions to CPU states over a fixed set of inputs (given as ranks)."""

    def __init__(self, ranks: np.ndarray, registers: int):
        ranks = np.asarray(ranks, dtype=np.int64)
        self.count, self.n = ranks.shape
        self.registers = registers
        self.pack = Packing(self.n, self.count)
        p = self.pack
        self.low, self.add, self.guard, self.content = p.low, p.add, p.guard, p.content
        self.shift = p.width - 1
        self.memory = tuple(p.pack(ranks[:, i]) for i in range(self.n))
        self.expected = tuple(p.pack(col) for col in np.sort(ranks, axis=1).T)
        self.total_items = self.count * self.n

    def initial(self) -> tuple:
        return ((0,) * self.registers + self.memory, None, None)

    def cond_mask(self, lt: int, gt: int, cond: str) -> int:
        """The fields where `cond` holds after a cmp that left `lt` and `gt` (the four
        conditions of AlphaDev's set without building every mask)."""
        if cond == "l":
            return lt
        if cond == "g":
            return gt
        if cond == "ge":
            return self.content ^ lt
        if cond == "le":
            return self.content ^ gt
        return self.pack.flags_to_masks(lt, gt)[cond]

    def step(self, cpu: tuple, action: tuple) -> tuple:
        """The CPU state after one action. The caller guarantees every location read is
        initialised and that flags exist before a cmov (the game's legality rules)."""
        locs, lt, gt = cpu
        kind, d, s, cond = action
        if kind == MOV:
            return (locs[:d] + (locs[s],) + locs[d + 1:], lt, gt)
        if kind == CMP:
            return (locs,) + self.compare(locs[d], locs[s])
        x = locs[d]
        return (locs[:d] + (x ^ ((x ^ locs[s]) & self.cond_mask(lt, gt, cond)),) + locs[d + 1:], lt, gt)

    def compare(self, a: int, b: int) -> tuple[int, int]:
        """The flags of `cmp a, b` on two location contents: the masks (lt, gt)."""
        return self.full(a & (b - self.low)), self.full(b & (a - self.low))

    def one_of(self, value: int, a: int, b: int) -> bool:
        """Whether `value` equals `a` or `b` on every input (each input may pick either)."""
        return not self.full(value ^ a) & self.full(value ^ b)

    def full(self, t: int) -> int:
        """Per field: all rank bits if the field of t is non-zero, else none."""
        return (((t + self.add) & self.guard) >> self.shift) * ((1 << self.shift) - 1)

    def correct_items(self, locs: tuple) -> int:
        r = self.registers
        return sum((locs[r + i] & e).bit_count() for i, e in enumerate(self.expected))

    def solved(self, locs: tuple) -> bool:
        return locs[self.registers:] == self.expected

    def run(self, actions, cpu: tuple | None = None) -> tuple:
        cpu = self.initial() if cpu is None else cpu
        for a in actions:
            cpu = self.step(cpu, a)
        return cpu

    def ranks(self, cpu: tuple) -> np.ndarray:
        """(count, R + n) ranks of every location on every input, -1 where uninitialised."""
        return self.pack.unpack_many(cpu[0]).T

    def flag_codes(self, cpu: tuple) -> np.ndarray:
        """(count,) 0 less, 1 equal, 2 greater (first operand vs second), -1 before any cmp."""
        _, lt, gt = cpu
        if lt is None:
            return np.full(self.count, -1, dtype=np.int64)
        less = self.pack.unpack(lt & self.low) == 0      # bit 0 of the field set -> rank 0 -> true
        greater = self.pack.unpack(gt & self.low) == 0
        return np.where(less, 0, np.where(greater, 2, 1))

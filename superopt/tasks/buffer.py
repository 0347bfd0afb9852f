"""Buffer tasks: a function of one pointer to a read-only byte buffer, `ret f(const uint8_t *p)`,
here the protobuf varint decoders `varint32` (1..5 bytes) and `varint64` (1..10 bytes).

The entry rule (kind "buffer"): %rdi points at `size` readable bytes, and only those: a
read before or past them is a violation, and so is any write (the buffer is const). Every
other register is undefined; only the return type's width of %rax counts.

The contract is total: every `size`-byte string has a result, the plain loop's
    for (i = 0; i < size; i++) { r |= (p[i] & 0x7f) << 7*i; if (!(p[i] & 0x80)) break; }
so non-canonical encodings (0x80 0x00 is 0), payload bits above the return width (a fifth
byte above 0x0f for varint32) and a continuation bit on the last byte (ignored: at most
`size` bytes are read) are all defined, and a kernel must agree with the loop on them. The
bytes after the terminating one are arbitrary and must not change the result: verify runs
every input twice with them redrawn (`refill`).

The reference is that loop written once over x86/compute.py's Backend (`decode`): numpy runs
it on the verification set (`_Lanes`: the few operations it uses, here at the bottom layer
rather than the search's evaluator), z3 on symbolic bytes is the SMT spec, so the two cannot
disagree, and no compiled loop has to be lifted (tests check it against gcc's code of
bench/varint/varint.c in Unicorn).

Arrays: a verification set is uint8 (count, size), one buffer per row; the bench's inputs
(`random_inputs`) are the same buffers at a STRIDE-byte pitch as uint64 words, which the
timing harness walks with %rdi.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from superopt.tasks.function import CType, entry, Param, Signature
from superopt.x86.backend import Backend, Value

STRIDE = 16          # bytes per input in the bench's input array
UINT8_PTR = CType("const uint8_t *", 64, False)   # the pointer as the register holds it


def decode(be: Backend, data, width: int) -> Value:
    """The plain loop over the buffer bytes `data` (8-bit backend values), as a `width`-bit
    result: the spec of the varint tasks."""
    result, live = be.const(width, 0), be.bool_const(True)
    zero8 = be.const(8, 0)
    for i, b in enumerate(data):
        if 7 * i < width:
            payload = be.shl(width, be.zext(8, be.and_(8, b, be.const(8, 0x7F)), width), be.const(width, 7 * i))
            result = be.ite(width, live, be.or_(width, result, payload), result)
        live = be.and_b(live, be.not_b(be.eq(8, be.and_(8, b, be.const(8, 0x80)), zero8)))
    return result


class _Lanes:
    """The Backend operations `decode` uses, over uint64 vectors (one lane per buffer)."""

    def const(self, w, value):
        return np.uint64(value & ((1 << w) - 1))

    def bool_const(self, value):
        return np.bool_(value)

    def zext(self, w, a, to):
        return a

    def shl(self, w, a, n):
        return (a << n) & np.uint64((1 << w) - 1)

    def and_(self, w, a, b):
        return a & b

    def or_(self, w, a, b):
        return a | b

    def eq(self, w, a, b):
        return a == b

    def ite(self, w, c, a, b):
        return np.where(c, a, b)

    def and_b(self, x, y):
        return x & y

    def not_b(self, x):
        return ~x


def lengths_of(buffers: np.ndarray) -> np.ndarray:
    """Per buffer, the bytes the loop reads: up to the first without bit 7, at most all."""
    ends = (buffers & 0x80) == 0
    return np.where(ends.any(axis=1), ends.argmax(axis=1) + 1, buffers.shape[1])


@dataclass(eq=False)
class BufferTask:
    """A task of kind "buffer" (the module docstring)."""
    name: str
    size: int               # bytes readable at %rdi
    width: int              # the return type's width
    description: str = ""
    kind: str = field(default="buffer", init=False)
    variable: bool = field(default=False, init=False)
    element: str = field(default="uint8", init=False)
    constants: tuple[int, ...] = (0x7F, 0x80)
    found: list = field(default_factory=list, init=False, repr=False)   # counterexamples, this process

    @property
    def n(self) -> int:
        """The buffer's length in elements (bytes), as the Task protocol counts it."""
        return self.size

    @property
    def ret(self) -> CType:
        return CType("uint%d_t" % self.width, self.width, False)

    @property
    def entry_signature(self) -> Signature:
        """The registers on entry as a function task's signature: the pointer in %rdi."""
        return Signature(self.name, self.ret, (Param("p", UINT8_PTR),))

    @property
    def signature(self) -> str:
        return "%s %s(const uint8_t *p)" % (self.ret.name, self.name)

    @property
    def arguments(self) -> tuple[str, ...]:
        return ("rdi",)

    @property
    def source(self) -> str:
        """The spec, for messages and result headers."""
        return "superopt.tasks.buffer (the plain loop)"

    @property
    def stride(self) -> int:
        return STRIDE

    @property
    def distributions(self) -> tuple[str, ...]:
        """The bench's input distributions (`random_inputs`)."""
        return ("random", "uniform") + tuple(str(k) for k in range(1, self.size + 1))

    @property
    def mask(self) -> int:
        return entry(self.entry_signature)[1].mask

    def expected(self, buffers: np.ndarray) -> np.ndarray:
        """The loop's results, uint64 (count,)."""
        buffers = np.asarray(buffers, dtype=np.uint8).reshape(-1, self.size)
        out = decode(_Lanes(), [buffers[:, i].astype(np.uint64) for i in range(self.size)], self.width)
        return np.broadcast_to(out, len(buffers)).astype(np.uint64)

    def call(self, buffer, got: int | None = None, expected: int | None = None) -> str:
        """One input as a line: `varint32(p = 80 01 | 5e 11 00) = 128`, the bytes after `|`
        past the terminating one."""
        buffer = [int(b) for b in buffer]
        used = int(lengths_of(np.array([buffer], dtype=np.uint8))[0])
        text = "%s(p = %s%s)" % (self.name, " ".join("%02x" % b for b in buffer[:used]),
                                  " | " + " ".join("%02x" % b for b in buffer[used:]) if used < self.size else "")
        if got is not None:
            text += " = %d" % got
        if expected is not None:
            text += "%s %d" % (", expected" if got is not None else " should be", expected)
        return text

    def refill(self, buffers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The buffers with every byte after the terminating one redrawn."""
        out = np.array(buffers, dtype=np.uint8, copy=True)
        past = np.arange(self.size)[None, :] >= lengths_of(out)[:, None]
        out[past] = rng.integers(0, 256, size=int(past.sum()), dtype=np.uint8)
        return out

    def inputs(self, rng: np.random.Generator | None = None, random_count: int = 1000) -> np.ndarray:
        """The verification set, uint8 (count, size): per length, the edge payloads (all
        zero, all ones, each single bit, the top byte's extremes, non-canonical zero bytes),
        each with zero, 0xff and random bytes after it; then `random_count` random buffers
        (lengths uniform, and some all random bytes); then this process's counterexamples."""
        rng = rng or np.random.default_rng(0)
        rows = []
        for length in range(1, self.size + 1):
            top = length - 1
            for payload in self._payloads(length):
                body = [0x80 | ((payload >> (7 * i)) & 0x7F) for i in range(top)]
                last = (payload >> (7 * top)) & 0x7F
                for tail in (0x00, 0xFF, None):
                    rest = [tail if tail is not None else int(v) for v in rng.integers(0, 256, self.size - length)]
                    rows.append(body + [last] + rest)
                    if length == self.size:   # the last byte's continuation bit is ignored
                        rows.append(body + [last | 0x80] + rest)
        random = self.random_buffers(rng, random_count)
        found = np.array(self.found, dtype=np.uint8).reshape(-1, self.size)
        out = np.concatenate([found, np.array(rows, dtype=np.uint8), random])
        _, first = np.unique(out, axis=0, return_index=True)
        return out[np.sort(first)]

    def _payloads(self, length: int) -> list[int]:
        bits = 7 * length
        edges = {0, (1 << bits) - 1, (1 << self.width) - 1 & ((1 << bits) - 1)}
        edges |= {1 << k for k in range(bits)}
        edges |= {((1 << bits) - 1) ^ (1 << k) for k in range(bits)}
        return sorted(edges)

    def random_buffers(self, rng: np.random.Generator, count: int, length: int | None = None,
                       noise: bool = True) -> np.ndarray:
        """`count` random buffers, uint8 (count, size), of `length` bytes (None: each of
        1..size equally often); with `noise` a quarter of them are all random bytes instead."""
        out = rng.integers(0, 256, size=(count, self.size), dtype=np.uint8)
        lengths = (np.full(count, length) if length is not None else
                   rng.integers(1, self.size, size=count, endpoint=True))
        position = np.arange(self.size)[None, :]
        body = position < (lengths - 1)[:, None]
        last = (position == (lengths - 1)[:, None]) & (lengths < self.size)[:, None]
        out = np.where(body, out | 0x80, np.where(last, out & 0x7F, out)).astype(np.uint8)
        if noise:
            out[: count // 4] = rng.integers(0, 256, size=(count // 4, self.size), dtype=np.uint8)
        return out

    def random_inputs(self, rng: np.random.Generator, count: int,
                      distribution: str = "random") -> tuple[np.ndarray, np.ndarray]:
        """The bench's inputs: (words (count, STRIDE // 8) uint64, zero lengths). The
        distribution is the varint's length: "random" or "uniform" (each of 1..size equally
        often), or "K" (all K bytes long)."""
        if distribution in ("random", "uniform"):
            length = None
        elif distribution.isdigit() and 1 <= int(distribution) <= self.size:
            length = int(distribution)
        else:
            raise ValueError("%s takes lengths uniform or 1..%d, not %r" % (self.name, self.size, distribution))
        padded = np.zeros((count, STRIDE), dtype=np.uint8)
        padded[:, :self.size] = self.random_buffers(rng, count, length, noise=False)
        return padded.view(np.uint64), np.zeros(count, dtype=np.int32)

    def add_counterexample(self, buffer) -> None:
        """Record a buffer some kernel got wrong: every later `inputs()` here includes it."""
        row = [int(b) & 0xFF for b in buffer]
        if row not in self.found:
            self.found.append(row)


def _task(bits: int, size: int) -> BufferTask:
    return BufferTask("varint%d" % bits, size, bits,
                      "decode one protobuf varint of 1..%d bytes at p (the plain loop: bytes past the terminating "
                      "one are ignored, at most %d read, bits above %d dropped)" % (size, size, bits))


BUFFER_TASKS = (_task(32, 5), _task(64, 10))

"""Buffer tasks: a function of one pointer to a read-only byte buffer, `ret f(const uint8_t *p)`,
here the protobuf varint decoders `varint32` (1..5 bytes) and `varint64` (1..10 bytes), and
`varint32_len`, the pair form: the value and the bytes the loop read, as
    typedef struct { uint32_t value; uint32_t length; } varint32_len_t;
returned by value. System V returns an 8-byte struct of two INTEGER fields in %rax, the first
field in bits 0..31 and the second in bits 32..63, so the kernel's result is all 64 bits of
%rax, value | length << 32: a C caller gets both from one register, with no pointer argument
and no store (the other sound form, `uint32_t f(const uint8_t *p, uint32_t *len)`, would add
a store the kernel has to make and the caller to reload).

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


def decode(be: Backend, data, width: int) -> tuple[Value, Value]:
    """The plain loop over the buffer bytes `data` (8-bit backend values): the `width`-bit
    result and the bytes it read (32-bit): the spec of the varint tasks."""
    result, live, length = be.const(width, 0), be.bool_const(True), be.const(32, 0)
    zero8 = be.const(8, 0)
    for i, b in enumerate(data):
        if 7 * i < width:
            payload = be.shl(width, be.zext(8, be.and_(8, b, be.const(8, 0x7F)), width), be.const(width, 7 * i))
            result = be.ite(width, live, be.or_(width, result, payload), result)
        length = be.ite(32, live, be.const(32, i + 1), length)
        live = be.and_b(live, be.not_b(be.eq(8, be.and_(8, b, be.const(8, 0x80)), zero8)))
    return result, length


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
    width: int              # the decoded value's width
    description: str = ""
    pair: bool = False      # the result is the (value, length) struct: value | length << 32 in %rax
    length_weights: tuple | None = None   # P(length) for 1..size bytes of the bench's inputs (None: uniform)
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
        if self.pair:
            return CType(self.name + "_t", 64, False)
        return CType("uint%d_t" % self.width, self.width, False)

    @property
    def ret_width(self) -> int:
        """The bits of %rax the result is."""
        return self.ret.width

    @property
    def struct(self) -> str | None:
        """The C declaration of the pair form's return type (None: a plain integer)."""
        return ("typedef struct { uint%d_t value; uint32_t length; } %s;" % (self.width, self.ret.name)
                if self.pair else None)

    def spec(self, be: Backend, data) -> Value:
        """The task's result on the bytes `data` (any Backend): the loop's value, or for the
        pair form value | length << 32."""
        value, length = decode(be, data, self.width)
        if not self.pair:
            return value
        return be.or_(64, be.zext(self.width, value, 64), be.shl(64, be.zext(32, length, 64), be.const(64, 32)))

    def text(self, result: int) -> str:
        """A result as a message shows it: the number, or the pair's fields."""
        if not self.pair:
            return "%d" % result
        return "{value = %d, length = %d}" % (result & ((1 << self.width) - 1), result >> 32)

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
        """The bench's input distributions (`random_inputs`): random bytes, their lengths from
        `length_weights` (`--lengths`, superopt.tasks.lengths)."""
        return ("random",)

    @property
    def mask(self) -> int:
        return entry(self.entry_signature)[1].mask

    def expected(self, buffers: np.ndarray) -> np.ndarray:
        """The loop's results, uint64 (count,)."""
        buffers = np.asarray(buffers, dtype=np.uint8).reshape(-1, self.size)
        out = self.spec(_Lanes(), [buffers[:, i].astype(np.uint64) for i in range(self.size)])
        return np.broadcast_to(out, len(buffers)).astype(np.uint64)

    def call(self, buffer, got: int | None = None, expected: int | None = None) -> str:
        """One input as a line: `varint32(p = 80 01 | 5e 11 00) = 128`, the bytes after `|`
        past the terminating one."""
        buffer = [int(b) for b in buffer]
        used = int(lengths_of(np.array([buffer], dtype=np.uint8))[0])
        text = "%s(p = %s%s)" % (self.name, " ".join("%02x" % b for b in buffer[:used]),
                                  " | " + " ".join("%02x" % b for b in buffer[used:]) if used < self.size else "")
        if got is not None:
            text += " = " + self.text(got)
        if expected is not None:
            text += "%s %s" % (", expected" if got is not None else " should be", self.text(expected))
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

    def random_buffers(self, rng: np.random.Generator, count: int, weights: tuple | None = None,
                       noise: bool = True) -> np.ndarray:
        """`count` random buffers, uint8 (count, size), their lengths drawn from `weights`
        (P(length) for 1..size; None: each equally often); with `noise` a quarter of them are
        all random bytes instead."""
        out = rng.integers(0, 256, size=(count, self.size), dtype=np.uint8)
        lengths = (rng.integers(1, self.size, size=count, endpoint=True) if weights is None else
                   1 + rng.choice(self.size, size=count, p=weights))
        position = np.arange(self.size)[None, :]
        body = position < (lengths - 1)[:, None]
        last = (position == (lengths - 1)[:, None]) & (lengths < self.size)[:, None]
        out = np.where(body, out | 0x80, np.where(last, out & 0x7F, out)).astype(np.uint8)
        if noise:
            out[: count // 4] = rng.integers(0, 256, size=(count // 4, self.size), dtype=np.uint8)
        return out

    def random_inputs(self, rng: np.random.Generator, count: int,
                      distribution: str = "random") -> tuple[np.ndarray, np.ndarray]:
        """The bench's inputs: (words (count, STRIDE // 8) uint64, zero lengths), each varint's
        length drawn from `length_weights` (None: each of 1..size equally often)."""
        if distribution != "random":
            raise ValueError("%s takes random inputs (their lengths: --lengths), not %r" % (self.name, distribution))
        padded = np.zeros((count, STRIDE), dtype=np.uint8)
        padded[:, :self.size] = self.random_buffers(rng, count, self.length_weights, noise=False)
        return padded.view(np.uint64), np.zeros(count, dtype=np.int32)

    def add_counterexample(self, buffer) -> None:
        """Record a buffer some kernel got wrong: every later `inputs()` here includes it."""
        row = [int(b) & 0xFF for b in buffer]
        if row not in self.found:
            self.found.append(row)


def _task(bits: int, size: int, pair: bool = False) -> BufferTask:
    return BufferTask("varint%d%s" % (bits, "_len" if pair else ""), size, bits,
                      "decode one protobuf varint of 1..%d bytes at p (the plain loop: bytes past the terminating "
                      "one are ignored, at most %d read, bits above %d dropped)%s" % (
                          size, size, bits, "; returns {value, length}, length = the bytes read, in %rax as "
                          "value | length << 32 (System V)" if pair else ""), pair)


BUFFER_TASKS = (_task(32, 5), _task(64, 10), _task(32, 5, pair=True))

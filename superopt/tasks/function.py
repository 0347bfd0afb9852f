"""Function tasks: a scalar C function `ret f(a, b, ...)` of up to six integer arguments, whose
behaviour (a reference: compiled C or a given kernel) is the spec.

The one System V entry rule (`entry`), read by the scalar runner, the value evaluator and the
SMT encoder alike:
- argument k arrives in the k-th of rdi, rsi, rdx, rcx, r8, r9;
- its type's low bits hold the value; 8- and 16-bit arguments are extended to 32 bits per
  their signedness (as gcc and clang assume of their callers, although the ABI does not
  promise it; bool is an unsigned 8-bit 0 or 1); the bits above 32 (above 64 for a 64-bit
  argument: none) are undefined: random in tests, free in proofs;
- only the return type's width of rax is compared (`Return.mask`).

Arrays (the convention every layer shares): a batch of argument vectors is numpy uint64 of
shape (count, nparams), column k holding argument k's bit pattern in its type's width (zero
above: int8 -1 is 0xff); expected results are uint64 of shape (count,), the return type's
bits, zero above.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from superopt.x86.isa import ARGUMENT_REGISTERS

MAX_PARAMS = len(ARGUMENT_REGISTERS)
EXTENDED_TO = 32            # 8- and 16-bit arguments arrive extended to this many bits


def mask(width: int) -> int:
    return (1 << width) - 1


@dataclass(frozen=True)
class CType:
    """An integer C type as the ABI sees it: its name as written, its width in bits and
    signedness. bool is unsigned, 8 bits wide, and only ever 0 or 1."""
    name: str
    width: int
    signed: bool

    @property
    def is_bool(self) -> bool:
        return self.name in ("bool", "_Bool")

    @property
    def min(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max(self) -> int:
        return 1 if self.is_bool else mask(self.width - 1) if self.signed else mask(self.width)

    def bits(self, values) -> np.ndarray:
        """Python or numpy integers (in range, or wrapping) as this type's bit patterns, uint64."""
        return (np.asarray(values, dtype=object) & mask(self.width)).astype(np.uint64)

    def value(self, bits: int) -> int:
        """The C value of a bit pattern (the low `width` bits)."""
        bits = int(bits) & mask(self.width)
        return bits - (1 << self.width) if self.signed and bits >> (self.width - 1) else bits


@dataclass(frozen=True)
class Param:
    name: str           # as declared, or a, b, c... for an unnamed parameter
    type: CType


@dataclass(frozen=True)
class Signature:
    """A scalar function's prototype; str() is its C text."""
    name: str
    ret: CType
    params: tuple[Param, ...]

    @property
    def c(self) -> str:
        args = ", ".join("%s %s" % (p.type.name, p.name) for p in self.params) or "void"
        return "%s %s(%s)" % (self.ret.name, self.name, args)

    def __str__(self) -> str:
        return self.c

    def call(self, args, got: int | None = None, expected: int | None = None) -> str:
        """One input as a readable line: `f(x=5, y=-1) = 3, expected 4`."""
        text = "%s(%s)" % (self.name, ", ".join("%s=%d" % (p.name, p.type.value(a)) for p, a in zip(self.params, args)))
        if got is not None:
            text += " = %d" % self.ret.value(got)
        if expected is not None:
            text += "%s %d" % (", expected" if got is not None else " should be", self.ret.value(expected))
        return text


@dataclass(frozen=True)
class Argument:
    """How one argument arrives (see the module docstring): register family `family`; bits
    [0, type.width) are the value, bits [type.width, defined) its extension (sign or zero per
    type.signed), bits [defined, 64) undefined."""
    family: str
    type: CType
    defined: int

    @property
    def undefined_mask(self) -> int:
        return mask(64) ^ mask(self.defined)


@dataclass(frozen=True)
class Return:
    family: str         # "rax"
    type: CType

    @property
    def mask(self) -> int:
        return mask(self.type.width)


def entry(signature: Signature) -> tuple[tuple[Argument, ...], Return]:
    """The System V entry rule (the module docstring): how each argument arrives, and which
    bits of the return register count."""
    args = tuple(Argument(reg, p.type, max(p.type.width, EXTENDED_TO))
                 for reg, p in zip(ARGUMENT_REGISTERS, signature.params))
    return args, Return("rax", signature.ret)


def register_values(signature: Signature, args: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """The argument registers' contents on entry, (count, nparams) uint64: each argument's
    bits extended per `entry`, the undefined bits taken from `fill` (same shape, random)."""
    out = np.empty_like(args, dtype=np.uint64)
    for k, arg in enumerate(entry(signature)[0]):
        low = args[:, k] & np.uint64(mask(arg.type.width))
        if arg.type.signed and arg.type.width < arg.defined:
            sign = (low >> np.uint64(arg.type.width - 1)) & np.uint64(1)
            low = low | (sign * np.uint64(mask(arg.defined) ^ mask(arg.type.width)))
        out[:, k] = low | (fill[:, k] & np.uint64(arg.undefined_mask))
    return out


def as_args(args, nparams: int) -> np.ndarray:
    """Argument vectors as the (count, nparams) uint64 array (one vector may come as 1-D)."""
    args = np.asarray(args, dtype=np.uint64)
    return args.reshape(1, nparams) if args.ndim == 1 and nparams else args.reshape(len(args), nparams)


class Reference(Protocol):
    """What computes a function task's expected results (compiled C, or a given kernel)."""
    source: str                # the spec's file, for messages
    constants: tuple[int, ...]  # its immediates, for the search's constant pool
    key: str                   # a content hash of the behaviour (names the task's cache)

    def results(self, args: np.ndarray) -> np.ndarray:
        """The return values on `args`, uint64 (count,) (the module docstring's arrays)."""


@dataclass(eq=False)
class FunctionTask:
    """A task of kind "function": `signature` is the prototype, `reference` the behaviour.

    `inputs()` is the verification set: edge values crossed over the arguments, random
    inputs, and every counterexample recorded so far (`add_counterexample`, kept in the
    task's cache; superopt.tasks.inputs). `expected(args)` runs the reference."""
    name: str
    signature: Signature
    reference: Reference
    description: str = ""
    spec: str = ""          # what --task takes to name this task again (FILE.c:NAME, FILE.s --signature ...)
    cc: str = "gcc"         # a C task's compiler (--cc): its -O2/-O3 code is the warm start and the baselines
    kind: str = field(default="function", init=False)

    @property
    def source(self) -> str:
        return self.reference.source

    @property
    def constants(self) -> tuple[int, ...]:
        return self.reference.constants

    @property
    def arguments(self) -> tuple[str, ...]:
        """Register families that hold arguments on entry."""
        return tuple(a.family for a in entry(self.signature)[0])

    @property
    def entry(self) -> tuple[tuple[Argument, ...], Return]:
        return entry(self.signature)

    @property
    def nparams(self) -> int:
        return len(self.signature.params)

    def expected(self, args: np.ndarray) -> np.ndarray:
        return self.reference.results(as_args(args, self.nparams))

    def compare(self, rax: np.ndarray, expected: np.ndarray) -> np.ndarray:
        """Per input: does the returned rax match (in the return type's width)?"""
        ret = entry(self.signature)[1]
        return (np.asarray(rax, dtype=np.uint64) & np.uint64(ret.mask)) == expected

    def inputs(self, rng: np.random.Generator | None = None, random_count: int = 1000) -> np.ndarray:
        """Edge values, `random_count` random inputs and the recorded counterexamples,
        (count, nparams) uint64, duplicates dropped."""
        from superopt.tasks import inputs
        return inputs.verification_inputs(self, rng or np.random.default_rng(0), random_count)

    def random_inputs(self, rng: np.random.Generator, count: int,
                      distribution: str = "random") -> tuple[np.ndarray, np.ndarray]:
        """The bench's inputs, in the array tasks' shape (inputs, lengths): `count` random
        argument vectors as the argument registers hold them on entry (undefined bits zero),
        (count, nparams) uint64, and zero lengths."""
        if distribution != "random":
            raise ValueError("function tasks take random inputs only, not %r" % distribution)
        from superopt.tasks import inputs
        args = inputs.random_inputs(self.signature, rng, count)
        return register_values(self.signature, args, np.zeros_like(args)), np.zeros(count, dtype=np.int32)

    def add_counterexample(self, args) -> None:
        """Record an input some kernel got wrong: every later `inputs()` includes it."""
        from superopt.tasks import inputs
        inputs.add_counterexample(self, args)

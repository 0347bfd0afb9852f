"""Flags kept lazily, as QEMU keeps them: the last flag-setting operation, its bits on demand.

A flag-setting instruction records its kind, width, operands and result (`Lazy`); a flag
bit is computed only when something reads it, and kept. A condition read while the flags it
tests all come from one `cmp a, b` (or sub) is one comparison (`l` is slt(a, b), `be` is
ule(a, b)), exact and far cheaper for z3 than SF != OF built from bits; after the logic
instructions (CF = OF = 0) it is one comparison of the result with 0. A shift or rotate by
%cl whose count is 0 changes no flag: its Lazy has `keep` (the count is 0) and `prev` (the
flags before), and each bit is the old one where `keep` holds.

A state's flags are a tuple in semantics.FLAGS order, each entry a backend boolean or a Lazy
(several flags share one). Which flags an instruction leaves undefined is the semantics
table's; they are a Lazy of kind "undefined", each bit the backend's `undefined_bool()`.
"""
from __future__ import annotations

from superopt.x86.backend import Backend, Bool, Value
from superopt.x86.isa import NEGATE
from superopt.x86.semantics import CONDITION_FLAGS, FLAGS

FLAG_INDEX = {f: i for i, f in enumerate(FLAGS)}


class Lazy:
    """A flag-setting operation: its kind, width, operands and result; `bit` computes one
    flag on demand (and keeps it). `keep`/`prev`: where `keep` holds (a shift count of 0),
    every flag is the previous one. Kinds: add, sub (cmp, neg as 0 - a, dec), adc and sbb
    (`extra`: the carry in), logic (CF = OF = 0), shl/shr/sar and rol/ror (`b`: the count),
    mul (`extra`: the overflow), bt (`extra`: the bit), zero (bsf/bsr: ZF = a == 0),
    popcnt, lzcnt (lzcnt and tzcnt), blsr/blsi/blsmsk, bzhi (`extra`: CF), undefined."""
    __slots__ = ("kind", "w", "a", "b", "res", "extra", "keep", "prev", "bits")

    def __init__(self, kind, w=0, a=None, b=None, res=None, extra=None, keep=None, prev=None):
        self.kind, self.w, self.a, self.b, self.res, self.extra = kind, w, a, b, res, extra
        self.keep, self.prev, self.bits = keep, prev, {}

    def bit(self, be: Backend, flag: str) -> Bool:
        got = self.bits.get(flag)
        if got is None:
            got = self.bits[flag] = _own_bit(be, self, flag) if self.keep is None else be.ite_b(
                self.keep, _flag_of(be, self.prev[FLAG_INDEX[flag]], flag), _own_bit(be, self, flag))
        return got

    def result(self, be: Backend) -> Value:
        if self.res is None:   # cmp keeps only its operands
            self.res = be.sub(self.w, self.a, self.b)
        return self.res


def flag(be: Backend, flags: tuple, name: str) -> Bool:
    """One flag of a state's flags tuple."""
    return _flag_of(be, flags[FLAG_INDEX[name]], name)


def _flag_of(be, entry, name):
    return entry.bit(be, name) if isinstance(entry, Lazy) else entry


def _msb(be, w, x):
    return be.slt(w, x, be.const(w, 0))


def _bit_of(be, w, x, i: int):
    return be.eq(1, be.extract(x, i, i), be.const(1, 1))


def _own_bit(be: Backend, lz: Lazy, flag: str) -> Bool:
    """One flag of the operation `lz` (see Lazy) by its kind."""
    kind, w, a, b = lz.kind, lz.w, lz.a, lz.b
    if kind == "undefined":
        return be.undefined_bool()
    if flag in _FIXED.get(kind, ()):
        return be.bool_const(_FIXED[kind][flag])
    if kind in ("mul", "bt", "bzhi") and flag in ("CF", "OF"):
        return lz.extra   # the one condition these define (imul/mul overflow, the bit, n > w-1)
    if kind in ("zero", "popcnt") and flag == "ZF":
        return be.eq(w, a, be.const(w, 0))
    if kind == "lzcnt":
        return be.eq(w, a if flag == "CF" else lz.res, be.const(w, 0))
    res = lz.result(be)
    if flag == "ZF":
        return be.eq(w, res, be.const(w, 0))
    if flag == "SF":
        return _msb(be, w, res)
    if flag == "PF":
        low = be.extract(res, 7, 0)
        return be.eq(1, be.extract(be.popcount(8, low), 0, 0), be.const(1, 0))
    if flag == "AF":
        return _bit_of(be, w, be.xor(w, be.xor(w, a, b), res), 4)
    if kind in ("add", "adc"):
        if flag == "CF":
            carry = be.ult(w, res, a)
            return carry if kind == "add" else be.or_b(carry, be.and_b(lz.extra, be.eq(w, res, a)))
        return _msb(be, w, be.and_(w, be.xor(w, a, res), be.xor(w, b, res)))
    if kind in ("sub", "sbb"):
        if flag == "CF":
            borrow = be.ult(w, a, b)
            return borrow if kind == "sub" else be.or_b(borrow, be.and_b(lz.extra, be.eq(w, a, b)))
        return _msb(be, w, be.and_(w, be.xor(w, a, b), be.xor(w, a, res)))
    if kind in ("shl", "shr", "sar"):   # b: the count, 1..31 (63) where it matters
        less = be.sub(w, b, be.const(w, 1))
        if kind == "shl":
            cf = _msb(be, w, be.shl(w, a, less))
        else:
            cf = _bit_of(be, w, (be.lshr if kind == "shr" else be.ashr)(w, a, less), 0)
        if flag == "CF":
            return cf
        return be.xor_b(_msb(be, w, res), cf) if kind == "shl" else _msb(be, w, a)  # OF at count 1
    if kind in ("rol", "ror"):
        cf = _bit_of(be, w, res, 0) if kind == "rol" else _msb(be, w, res)
        if flag == "CF":
            return cf
        return be.xor_b(_msb(be, w, res), cf if kind == "rol" else _bit_of(be, w, res, w - 2))
    if kind in ("blsr", "blsmsk", "blsi") and flag == "CF":
        zero = be.eq(w, a, be.const(w, 0))
        return be.not_b(zero) if kind == "blsi" else zero
    raise AssertionError("flag %s of %s" % (flag, kind))


# Flags an operation kind sets to a constant (others from its result or operands).
_FIXED = {
    "logic": {"CF": False, "OF": False},
    "sar": {"OF": False},
    "popcnt": {"CF": False, "OF": False, "SF": False, "AF": False, "PF": False},
    "blsr": {"OF": False}, "blsi": {"OF": False}, "blsmsk": {"OF": False},
    "bzhi": {"OF": False},
}

# Each condition as (base condition, negated): a base and its negation (isa.NEGATE) test the
# same flags (semantics.CONDITION_FLAGS), so `condition` computes the bases only.
_BASES = ("o", "b", "e", "be", "s", "p", "l", "le")
_BASE = {c: (base, negated) for base in _BASES for c, negated in ((base, False), (NEGATE[base], True))}


def condition(be: Backend, flags: tuple, cond: str) -> Bool:
    """Whether condition code `cond` holds. After cmp/sub (and the logic instructions, whose
    CF and OF are 0) with the flags it reads still theirs, it is one comparison."""
    base, negated = _BASE[cond]
    entries = {id(flags[FLAG_INDEX[f]]) for f in CONDITION_FLAGS[base]}
    lz = flags[FLAG_INDEX[next(iter(CONDITION_FLAGS[base]))]]
    got = None
    if len(entries) == 1 and isinstance(lz, Lazy) and lz.keep is None:
        w, a, b = lz.w, lz.a, lz.b
        if lz.kind == "sub":
            got = {"e": lambda: be.eq(w, a, b), "b": lambda: be.ult(w, a, b),
                   "be": lambda: be.not_b(be.ult(w, b, a)), "l": lambda: be.slt(w, a, b),
                   "le": lambda: be.not_b(be.slt(w, b, a))}.get(base)
        elif lz.kind == "logic":
            zero = be.const(w, 0)
            got = {"l": lambda: be.slt(w, lz.res, zero), "le": lambda: be.not_b(be.slt(w, zero, lz.res)),
                   "be": lambda: be.eq(w, lz.res, zero), "b": lambda: be.bool_const(False)}.get(base)
    if got is not None:
        value = got()
    else:
        def bit(name: str) -> Bool:
            return flag(be, flags, name)
        if base == "be":
            value = be.or_b(bit("CF"), bit("ZF"))
        elif base == "l":
            value = be.xor_b(bit("SF"), bit("OF"))
        elif base == "le":
            value = be.or_b(bit("ZF"), be.xor_b(bit("SF"), bit("OF")))
        else:
            value = bit(next(iter(CONDITION_FLAGS[base])))
    return be.not_b(value) if negated else value

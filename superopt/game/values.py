"""The value evaluator: every location as a vector over the test inputs, by x86/compute.py.

`NumpyBackend` implements x86/compute.py's `Backend` with numpy: a w-bit value is a uint64
vector (one lane per input, zero above bit w), a condition a bool vector. Constants are
cached full vectors (numpy scalars would raise overflow warnings in scalar arithmetic).

Undefined results (bsf/bsr of 0, the table's undefined flags, the undefined upper bits of
arguments, registers never written, stack never written) are random, drawn from the
evaluator's generator. A kernel that relies on them then fails on some inputs; to make that
near certain, every input runs in `fillings` lanes at once (default 2), each with its own
random filling, and an input counts as correct only if all its lanes are: a kernel relying
on one undefined bit of k inputs passes with probability 2**-(fillings * k). A definedness
mask (memcheck-style shadow bits) would be exact but doubles the numpy calls of every
instruction and needs a propagation rule per operation; the second filling in the same
vectors costs 0.98-1.11x the time of one at 64..1024 inputs, 1.36x at 4096
(bench/bench_values.py, 2026-12-07), so random fillings it is. Verification in Unicorn and
the SMT proofs still have the last word.

Numpy vectors, not packed Python integers (the game's evaluator for sorts): measured with
bench/bench_values.py on a 12-instruction kernel of add/sub/xor/and/constant shifts/cmp/
cmov at 64 bits, the only operations packed integers can do (2026-12-07, this 2-core VM,
interleaved, best of 7):

    inputs   this evaluator   bare numpy   packed ints   numpy/packed
        64          52 us          7 us         2.4 us       3.0
       256          54 us          8 us         7.1 us       1.17
      1024          61 us         12 us        24 us         0.48
      4096          75 us         22 us        93 us         0.24

Packed integers win on the raw operations below ~300 inputs, but the per-instruction work of
x86/compute.py (operand decoding, lazy flags, the write rule: ~4 us an instruction) is the
same for any backend and dominates there, while at the 1000-4000 inputs of a function
task's test set numpy is 2-4x faster. And packed integers cannot do what the general ISA
needs per input: shifts by a per-input count (%cl, shlx), multiplies, popcount/lzcnt/tzcnt,
pdep/pext.
"""
from __future__ import annotations

import numpy as np

from superopt.tasks.function import entry, register_values
from superopt.x86.compute import State, register, step
from superopt.x86.isa import CALLEE_SAVED

_U = np.uint64
_ONES = (1 << 64) - 1


def _mask(w: int) -> int:
    return (1 << w) - 1


class NumpyBackend:
    """x86/compute.py's Backend over `lanes` inputs (see the module docstring)."""

    def __init__(self, lanes: int, rng: np.random.Generator):
        self.lanes, self.rng = lanes, rng
        self._consts: dict[int, np.ndarray] = {}
        self._masks = {w: _U(_mask(w)) for w in range(1, 65)}
        self._zero = np.zeros(lanes, dtype=bool)

    def const(self, w, value):
        value &= _mask(w)
        got = self._consts.get(value)
        if got is None:
            got = self._consts[value] = np.full(self.lanes, value, dtype=_U)
            got.flags.writeable = False
        return got

    def undefined(self, w):
        return self._wrap(w, self.rng.integers(0, _ONES, size=self.lanes, dtype=_U, endpoint=True))

    def undefined_bool(self):
        return self.rng.integers(0, 2, size=self.lanes, dtype=np.uint8).astype(bool)

    def _wrap(self, w, x):
        return x if w == 64 else x & self._masks[w]

    def add(self, w, a, b):
        return self._wrap(w, a + b)

    def sub(self, w, a, b):
        return self._wrap(w, a - b)

    def mul(self, w, a, b):
        return self._wrap(w, a * b)

    def mulhu(self, w, a, b):
        if w <= 32:
            return (a * b) >> _U(w)
        lo32 = _U(0xFFFFFFFF)
        a0, a1, b0, b1 = a & lo32, a >> _U(32), b & lo32, b >> _U(32)
        mid = (a0 * b0 >> _U(32)) + (a1 * b0 & lo32) + (a0 * b1 & lo32)
        return a1 * b1 + (a1 * b0 >> _U(32)) + (a0 * b1 >> _U(32)) + (mid >> _U(32))

    def mulhs(self, w, a, b):
        if w <= 32:
            sa, sb = self.sext(w, a, 64).view(np.int64), self.sext(w, b, 64).view(np.int64)
            return self._wrap(w, ((sa * sb) >> w).view(_U))
        high = self.mulhu(64, a, b)   # minus b where a < 0, minus a where b < 0 (mod 2**64)
        return high - np.where(a >> _U(63) != 0, b, _U(0)) - np.where(b >> _U(63) != 0, a, _U(0))

    def and_(self, w, a, b):
        return a & b

    def or_(self, w, a, b):
        return a | b

    def xor(self, w, a, b):
        return a ^ b

    def not_(self, w, a):
        return a ^ self._masks[w]

    def neg(self, w, a):
        return self._wrap(w, -a)

    def shl(self, w, a, n):   # numpy shifts by 64 or more give 0
        return self._wrap(w, a << n)

    def lshr(self, w, a, n):
        return a >> n

    def ashr(self, w, a, n):
        signed = self.sext(w, a, 64).view(np.int64)
        return self._wrap(w, (signed >> np.minimum(n, _U(63)).astype(np.int64)).view(_U))

    def eq(self, w, a, b):
        return a == b

    def ult(self, w, a, b):
        return a < b

    def slt(self, w, a, b):
        sign = _U(1 << (w - 1))
        return (a ^ sign) < (b ^ sign)

    def ite(self, w, c, a, b):
        return np.where(c, a, b)

    def extract(self, a, hi, lo):
        return (a >> _U(lo)) & self._masks[hi - lo + 1] if hi - lo < 63 else a

    def zext(self, w, a, to):
        return a

    def sext(self, w, a, to):
        if w == to:
            return a
        sign = _U(1 << (w - 1))
        return self._wrap(to, (a ^ sign) - sign)

    def popcount(self, w, a):
        return np.bitwise_count(a).astype(_U)

    def clz(self, w, a):
        smear = a
        for k in (1, 2, 4, 8, 16, 32):
            if k < w:
                smear = smear | (smear >> _U(k))
        return _U(w) - np.bitwise_count(smear).astype(_U)

    def ctz(self, w, a):
        return np.bitwise_count(((a & -a) - _U(1)) & self._masks[w]).astype(_U)

    def pdep(self, w, a, mask):
        return self._scatter(w, a, mask, deposit=True)

    def pext(self, w, a, mask):
        return self._scatter(w, a, mask, deposit=False)

    def _scatter(self, w, a, mask, deposit: bool):
        """pdep/pext: by runs of set bits when the mask is one constant, else bit by bit."""
        out = np.zeros(self.lanes, dtype=_U)
        if self.lanes and (mask == mask[0]).all():
            m, k = int(mask[0]), 0          # k: the next bit of the packed side
            while m:
                low = (m & -m).bit_length() - 1
                run = ((m >> low) ^ ((m >> low) + 1)).bit_length() - 1  # length of the run of ones
                field = _U(_mask(run))
                if deposit:
                    out |= ((a >> _U(k)) & field) << _U(low)
                else:
                    out |= ((a >> _U(low)) & field) << _U(k)
                k += run
                m &= ~(_mask(run) << low)
            return out
        k = np.zeros(self.lanes, dtype=_U)
        for i in range(w):
            bit = (mask >> _U(i)) & _U(1)
            if deposit:
                out |= ((a >> k) & bit) << _U(i)
            else:
                out |= ((a >> _U(i)) & bit) << k
            k = k + bit
        return out

    def bool_const(self, value):
        return ~self._zero if value else self._zero

    def and_b(self, x, y):
        return x & y

    def or_b(self, x, y):
        return x | y

    def xor_b(self, x, y):
        return x ^ y

    def not_b(self, x):
        return ~x

    def ite_b(self, c, x, y):
        return np.where(c, x, y)


class ValueEvaluator:
    """A function task's kernels evaluated on `args` ((count, nparams) uint64, the
    function.py arrays), with the game evaluator's interface: `initial`, `step`, `run`,
    plus the return value and the hamming cost. Each input runs in `fillings` lanes with
    their own random undefined bits (see the module docstring); lane j*count + i is input i.
    `step` raises x86/compute.py's Unmodelled for what the model does not express (memory
    it cannot place, say): the search treats such a kernel as wrong."""

    def __init__(self, task, args: np.ndarray, expected: np.ndarray | None = None,
                 fillings: int = 2, seed: int = 0):
        self.task, self.fillings = task, fillings
        args = np.asarray(args, dtype=_U).reshape(-1, task.nparams)
        self.count = len(args)
        self.lanes = self.count * fillings
        rng = np.random.default_rng(seed)
        self.backend = NumpyBackend(self.lanes, rng)
        tiled = np.tile(args, (fillings, 1))
        fill = rng.integers(0, _ONES, size=tiled.shape, dtype=_U, endpoint=True)
        self.registers = register_values(task.signature, tiled, fill)
        self.families = task.arguments
        self.ret_mask = _U(entry(task.signature)[1].mask)
        expected = task.expected(args) if expected is None else np.asarray(expected, dtype=_U)
        self.expected = np.tile(expected & self.ret_mask, fillings)
        regs = {f: self.registers[:, k].copy() for k, f in enumerate(self.families)}
        self._initial = State.initial(self.backend, regs)

    def initial(self) -> State:
        """The entry state: the arguments per the System V rule, every other register and
        the flags undefined (one random filling per evaluator), %rsp at the entry stack."""
        return self._initial

    def step(self, state: State, ins) -> State:
        return step(self.backend, state, ins)

    def run(self, instrs, state: State | None = None) -> State:
        state = self.initial() if state is None else state
        for ins in instrs:
            state = step(self.backend, state, ins)
        return state

    def result(self, state: State, family: str = "rax") -> np.ndarray:
        """The returned rax (or another register) in the return type's width, per lane."""
        return register(self.backend, state, family) & self.ret_mask

    def errors(self, state: State, family: str = "rax") -> np.ndarray:
        """Per input, the wrong bits of the return value (the most over its lanes): STOKE's
        hamming correctness term; of another register's value, for STOKE's misalignment term."""
        wrong = np.bitwise_count(self.result(state, family) ^ self.expected)
        return wrong.reshape(self.fillings, self.count).max(axis=0).astype(np.int64)

    def cost(self, state: State) -> int:
        """The hamming term summed over the inputs; 0 exactly when every lane is right."""
        return int(self.errors(state).sum())

    def correct(self, state: State) -> bool:
        return bool((self.result(state) == self.expected).all())

    def clobbered(self, state: State) -> list[str]:
        """The callee-saved families and %rsp that do not hold their entry values on every
        lane (the System V contract; verify checks it too, a search can check it early)."""
        start = self._initial
        return [f for f in CALLEE_SAVED + ("rsp",)
                if not (register(self.backend, state, f) == register(self.backend, start, f)).all()]

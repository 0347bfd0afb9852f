"""The z3 backend of x86/compute.py's `Backend`, and one solver call with a time limit.

A w-bit value is a z3 bitvector of width w, a condition a z3 boolean. Undefined results
(the table's undefined flags and bsf/bsr of 0, stack slots never written, registers the
kernel did not get) are fresh free variables named `undefined_K`: a formula that depends
on one holds for every value only if the kernel's result does not depend on it, so a
kernel that relies on an undefined result gets a counterexample.

z3 has no population count, leading/trailing zero count or bit deposit/extract: they are
built from bits here (an adder tree, an if-then-else chain, a shift per mask bit).

Solver: z3 (z3-solver 5.4, in pyproject). bitwuzla (0.10) was measured beside it on the
sort proofs by bench/bench_smt.py, giving both the same SMT-LIB2 text; docs/results.md has
the figures and the reason z3 stays the default.
"""
from __future__ import annotations

import itertools
import time

import z3

SOLVER = "bitwuzla"   # the default: see the module docstring


class Z3Backend:
    """x86/compute.py's Backend over z3 bitvectors (the module docstring)."""

    def __init__(self):
        self._names = itertools.count()
        self.where: int | None = None       # the instruction being lifted (set by the lifter)
        self.origins: dict[str, int | None] = {}   # each free variable `undefined` made -> its instruction

    def _fresh(self) -> str:
        name = "undefined_%d" % next(self._names)
        self.origins[name] = self.where
        return name

    def const(self, w, value):
        return z3.BitVecVal(value & ((1 << w) - 1), w)

    def undefined(self, w):
        return z3.BitVec(self._fresh(), w)

    def undefined_bool(self):
        return z3.Bool(self._fresh())

    def add(self, w, a, b):
        return a + b

    def sub(self, w, a, b):
        return a - b

    def mul(self, w, a, b):
        return a * b

    def mulhu(self, w, a, b):
        return z3.Extract(2 * w - 1, w, z3.ZeroExt(w, a) * z3.ZeroExt(w, b))

    def mulhs(self, w, a, b):
        return z3.Extract(2 * w - 1, w, z3.SignExt(w, a) * z3.SignExt(w, b))

    def and_(self, w, a, b):
        return a & b

    def or_(self, w, a, b):
        return a | b

    def xor(self, w, a, b):
        return a ^ b

    def not_(self, w, a):
        return ~a

    def neg(self, w, a):
        return -a

    def shl(self, w, a, n):   # z3's shifts are SMT-LIB's: a count of w or more gives 0 (or the sign)
        return a << n

    def lshr(self, w, a, n):
        return z3.LShR(a, n)

    def ashr(self, w, a, n):
        return a >> n

    def eq(self, w, a, b):
        return a == b

    def ult(self, w, a, b):
        return z3.ULT(a, b)

    def slt(self, w, a, b):
        return a < b

    def ite(self, w, c, a, b):
        return z3.If(c, a, b)

    def extract(self, a, hi, lo):
        if lo == 0 and hi == a.size() - 1:
            return a
        if lo == 0 and z3.is_app_of(a, z3.Z3_OP_ZERO_EXT) and a.arg(0).size() == hi + 1:
            return a.arg(0)   # the low half of a widened value (every 32-bit register write)
        return z3.Extract(hi, lo, a)

    def zext(self, w, a, to):
        return a if to == w else z3.ZeroExt(to - w, a)

    def sext(self, w, a, to):
        return a if to == w else z3.SignExt(to - w, a)

    def popcount(self, w, a):
        bits = [z3.ZeroExt(w - 1, z3.Extract(i, i, a)) for i in range(w)] if w > 1 else [a]
        while len(bits) > 1:   # an adder tree: shallower terms than a running sum
            bits = [bits[i] + bits[i + 1] if i + 1 < len(bits) else bits[i] for i in range(0, len(bits), 2)]
        return bits[0]

    def clz(self, w, a):
        out = z3.BitVecVal(w, w)
        for i in range(w):   # the highest set bit decides, so it is tested last
            out = z3.If(z3.Extract(i, i, a) == 1, z3.BitVecVal(w - 1 - i, w), out)
        return out

    def ctz(self, w, a):
        out = z3.BitVecVal(w, w)
        for i in reversed(range(w)):
            out = z3.If(z3.Extract(i, i, a) == 1, z3.BitVecVal(i, w), out)
        return out

    def pdep(self, w, a, mask):
        return self._scatter(w, a, mask, deposit=True)

    def pext(self, w, a, mask):
        return self._scatter(w, a, mask, deposit=False)

    def _scatter(self, w, a, mask, deposit: bool):
        """Bit i of the mask takes (pdep) or gives (pext) the next bit of the packed side,
        whose index k is the count of mask bits below i."""
        out, k, one = z3.BitVecVal(0, w), z3.BitVecVal(0, w), z3.BitVecVal(1, w)
        for i in range(w):
            bit = z3.ZeroExt(w - 1, z3.Extract(i, i, mask)) if w > 1 else mask
            if deposit:
                out = out | ((z3.LShR(a, k) & bit) << i)
            else:
                out = out | ((z3.LShR(a, i) & one & bit) << k)
            k = k + bit
        return z3.simplify(out)

    def bool_const(self, value):
        return z3.BoolVal(bool(value))

    def and_b(self, x, y):
        return z3.And(x, y)

    def or_b(self, x, y):
        return z3.Or(x, y)

    def xor_b(self, x, y):
        return z3.Xor(x, y)

    def not_b(self, x):
        return x.arg(0) if z3.is_not(x) else z3.Not(x)

    def ite_b(self, c, x, y):
        return z3.If(c, x, y)


def solve(goal, timeout: float | None, solver: str = SOLVER) -> tuple[str, dict | None, float]:
    """Whether `goal` can hold: ("unsat" | "sat" | "unknown", the model as {variable name:
    value} if sat, seconds solving), by `solver` ("bitwuzla" or "z3"); `timeout` in seconds
    (None: no limit)."""
    started = time.perf_counter()
    status, model = (_bitwuzla if solver == "bitwuzla" else _z3)(goal, timeout)
    return status, model, time.perf_counter() - started


def _z3(goal, timeout):
    s = z3.SolverFor("QF_BV")
    if timeout is not None:
        s.set("timeout", max(1, int(timeout * 1000)))
    s.add(goal)
    result = s.check()
    if result != z3.sat:
        return ("unsat" if result == z3.unsat else "unknown"), None
    m = s.model()
    return "sat", {d.name(): (z3.is_true(m[d]) if z3.is_bool(m[d]) else m[d].as_long()) for d in m.decls()}


def smtlib(goal) -> str:
    """`goal` as an SMT-LIB2 script for QF_BV, without check-sat."""
    s = z3.Solver()
    s.add(goal)
    lines = [ln for ln in s.to_smt2().splitlines() if not ln.startswith(("(set-info", "(check-sat", ";"))]
    return "(set-logic QF_BV)\n" + "\n".join(lines) + "\n"


def _bitwuzla(goal, timeout):
    import bitwuzla
    options = bitwuzla.Options()
    options.set(bitwuzla.Option.PRODUCE_MODELS, True)
    if timeout is not None:
        options.set(bitwuzla.Option.TIME_LIMIT_PER, max(1, int(timeout * 1000)))
    parser = bitwuzla.Parser(bitwuzla.TermManager(), options)
    parser.parse(smtlib(goal), True, False)
    solver = parser.bitwuzla()
    result = solver.check_sat()
    if result != bitwuzla.Result.SAT:
        return ("unsat" if result == bitwuzla.Result.UNSAT else "unknown"), None
    model = {}
    for f in parser.get_declared_funs():
        v = solver.get_value(f)
        model[f.symbol()] = v.value() if v.sort().is_bool() else int(v.value(10))
    return "sat", model


def free(*terms) -> list:
    """The free variables the terms mention (z3 constants), each once."""
    seen, out, todo = set(), {}, list(terms)
    while todo:
        t = todo.pop()
        if t.get_id() in seen:
            continue
        seen.add(t.get_id())
        if z3.is_const(t) and t.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            out[t.decl().name()] = t
        todo.extend(t.children())
    return list(out.values())


def value(model: dict, term) -> int:
    """A term's value under `model` ({name: value}; a variable it does not name is 0)."""
    def const(v):
        got = model.get(v.decl().name(), 0)
        return z3.BoolVal(bool(got)) if z3.is_bool(v) else z3.BitVecVal(int(got), v.size())
    pairs = [(v, const(v)) for v in free(term)]
    got = z3.simplify(z3.substitute(term, *pairs) if pairs else term)
    return got.as_long() if z3.is_bv_value(got) else int(z3.is_true(got))

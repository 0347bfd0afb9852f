"""SMT proofs: a kernel equals its task's spec on every input, or a counterexample.

(superopt.check.proof is the other proof, the weak-ordering argument for compare-and-move
sorts; this one covers any kernel the model expresses.)

The kernel is lifted to formulas (superopt.check.lift over x86/compute.py's semantics and
the z3 backend) from an entry state whose registers are free 64-bit variables `entry_REG`:
a kernel that reads one it was not given depends on it, and so gets a counterexample, as
for a result the ISA leaves undefined (a fresh variable each). Per task kind:

- array (sortN, varsortN): a[0..n) are free int32 variables `a0`.. at the array pointer
  %rdi (varsortN: n is %esi, 0 <= n <= N). Spec: a[0..n) sorted ascending as int32, a
  permutation of the input, the rest of the buffer unchanged. The sorted permutation is
  unique, so it is stated as a sorting network (Batcher's odd-even merge) on the symbolic
  input; memory outside a[0..N) and the stack frame cannot be reached in the model (an
  address it cannot place is Unmodelled, see x86/machine.py).
- function: the arguments arrive per tasks/function.py's entry rule (their undefined upper
  bits free, shared by kernel and reference); the reference is gcc -O2 -S's code for the C
  function (or the given assembly spec), parsed into the instruction form and lifted the
  same way from its own entry state (its other registers are its own). Spec: the return
  type's width of rax equal.
- buffer (varint32, varint64): the buffer's bytes are free 8-bit variables `b0`.. at %rdi,
  every register else free; a load outside them or a store into them is Unmodelled (verify
  names those rules). Spec: the task's plain loop (superopt.tasks.buffer.decode) over the
  same bytes, the return type's width of rax equal.
For all, rbx, rbp, r12-r15 and %rsp must be back at their entry values at every ret.

`prove(program, task, timeout)` returns a Proof (check/verdict.py): "proven", "refuted"
with the counterexample as a readable line (and recorded as the function task's input, so
verify and search run it from then on: the CEGIS loop) or "unknown" with the reason (an
instruction or address not modelled, a loop without a bound, the time limit).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import z3

from superopt.check.lift import Exit, lift, merge
from superopt.check.smt import SOLVER, Z3Backend, free, solve, value
from superopt.check.verdict import PROVE_TIMEOUT, Proof, Verdict, Violation
from superopt.errors import SuperoptError
from superopt.x86.compute import State, Unmodelled, register
from superopt.x86.isa import CALLEE_SAVED, FAMILIES, Imm, Program


SMALL_TIMEOUT = 2.0   # seconds to look for a readable counterexample (_readable)


@dataclass
class _Problem:
    goal: z3.BoolRef                          # satisfiable iff the kernel is wrong somewhere
    explain: Callable[[dict], dict]    # a model -> the counterexample dict (with "line")
    inputs: list                              # the input variables (for a readable counterexample)
    record: Callable[[dict], None] = lambda ce: None   # where a counterexample is kept


def prove(program: Program, task, timeout: float | None = PROVE_TIMEOUT, solver: str = SOLVER) -> Proof:
    """Prove `program` equal to `task`'s spec (the module docstring), within `timeout` seconds,
    with `solver` ("bitwuzla", the default, or "z3")."""
    started = time.perf_counter()
    deadline = None if timeout is None else started + timeout
    try:
        problem = {"function": _function_problem, "buffer": _buffer_problem}.get(task.kind, _array_problem)(
            program, task, deadline)
    except Unmodelled as exc:
        return Proof("unknown", solver, time.perf_counter() - started, reason=str(exc))
    left = None if deadline is None else max(0.001, deadline - time.perf_counter())
    status, model, _ = solve(problem.goal, left, solver)
    seconds = time.perf_counter() - started
    if status == "unsat":
        return Proof("proven", solver, seconds)
    if status == "unknown":
        return Proof("unknown", solver, seconds, reason="the solver found neither a proof nor a counterexample "
                                                        "within %g s (--prove-timeout)" % timeout)
    found, small_model, _ = solve(_readable(problem, program), SMALL_TIMEOUT, solver)
    counterexample = problem.explain(small_model if found == "sat" else model)
    problem.record(counterexample)
    return Proof("refuted", solver, seconds, reason=counterexample["line"], counterexample=counterexample)


def _readable(problem: _Problem, program: Program) -> z3.BoolRef:
    """The goal with every input small (-128..128) or one of the kernel's constants: such a
    counterexample reads better, when one exists."""
    constants = {o.value for ins in program.instrs for o in ins.operands if isinstance(o, Imm)}
    return _all(problem.goal, _all([_any([z3.ULE(v + 128, 256)] + [v == c for c in sorted(constants)])
                                    for v in problem.inputs]))


def attach(verdict: Verdict, program: Program, task, timeout: float | None) -> None:
    """After the emulator passed `program` without the weak-ordering proof: its SMT proof,
    or the counterexample that makes the verdict a FAIL (rule "result")."""
    verdict.smt = proof = prove(program, task, timeout)
    if proof.status == "refuted":
        verdict.passed = False
        verdict.counterexample = proof.counterexample
        verdict.violations.append(Violation("result", "the SMT proof failed: %s" % proof.reason))


def _any(*terms) -> z3.BoolRef:
    """Or of `terms` (or of one list of them); SMT-LIB's or takes two or more, so a single
    one is itself."""
    terms = list(terms[0]) if len(terms) == 1 and isinstance(terms[0], list) else list(terms)
    return terms[0] if len(terms) == 1 else z3.Or(terms) if terms else z3.BoolVal(False)


def _all(*terms) -> z3.BoolRef:
    terms = list(terms[0]) if len(terms) == 1 and isinstance(terms[0], list) else list(terms)
    return terms[0] if len(terms) == 1 else z3.And(terms) if terms else z3.BoolVal(True)


# -- entry states and what must hold at every exit ---------------------------------------------
def _entry(be: Z3Backend, prefix: str, given: dict, array=None) -> State:
    regs = {f: given.get(f, z3.BitVec(prefix + f, 64)) for f in FAMILIES}
    return State.initial(be, regs, array)


def _preserved(be: Z3Backend, start: State, e: Exit) -> z3.BoolRef:
    """The calling convention at exit `e`: callee-saved registers and %rsp as at entry."""
    if e.state.pointers.get("rsp") != ("stack", 0):
        raise Unmodelled("instruction %d returns with %%rsp moved" % e.index)
    return _all([register(be, e.state, f) == register(be, start, f) for f in CALLEE_SAVED + ("rsp",)])


def _depends(be: Z3Backend, program: Program, terms, inputs: set[str]) -> str:
    """", which depends on ..." naming what the failing result depends on besides the inputs
    (a variable some other value of which changes it): registers at entry the kernel was not
    given, undefined results (and their instruction)."""
    extra = [v for v in free(*terms) if v.decl().name() not in inputs]
    words = []
    for v in sorted(extra, key=lambda v: v.decl().name()):
        other = z3.FreshConst(v.sort())   # does some other value of v change the result?
        if solve(_any([t != z3.substitute(t, (v, other)) for t in terms]), SMALL_TIMEOUT)[0] != "sat":
            continue
        name = v.decl().name()
        if name.startswith("entry_"):
            words.append("%%%s at entry" % name[len("entry_"):])
        elif name in be.origins:
            i = be.origins[name]
            words.append("an undefined result of instruction %d (`%s`)" % (i, program.instrs[i].att())
                         if i is not None else "a stack slot never written")
    words = list(dict.fromkeys(words))
    return ", which depends on %s" % " and ".join(words) if words else ""


# -- sorts --------------------------------------------------------------------------------------
def network(n: int) -> list[tuple[int, int]]:
    """Batcher's odd-even merge sort network on n elements (as comparators (i, j), i < j):
    the power-of-two network with every comparator touching an index >= n dropped, which is
    a network for n (the missing elements act as +infinity)."""
    size = 1
    while size < n:
        size *= 2
    out = []
    p = 1
    while p < size:
        k = p
        while k >= 1:
            for j in range(k % p, size - k, 2 * k):
                for i in range(min(k, size - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p) and i + j + k < n:
                        out.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return out


def sorted_terms(values: list) -> list:
    """`values` (int32 terms) sorted ascending as signed, by network(len(values))."""
    out = list(values)
    for i, j in network(len(out)):
        x, y = out[i], out[j]
        out[i], out[j] = z3.If(x <= y, x, y), z3.If(x <= y, y, x)
    return out


def _array_problem(program: Program, task, deadline) -> _Problem:
    be = Z3Backend()
    a = [z3.BitVec("a%d" % i, 32) for i in range(task.n)]
    start = _entry(be, "entry_", {}, a)
    n = register(be, start, "rsi", 32)
    assume = z3.ULE(n, task.n) if task.variable else z3.BoolVal(True)
    exits = lift(program, be, start, assume, deadline)
    lengths = range(task.n + 1) if task.variable else (task.n,)
    spec = {k: sorted_terms(a[:k]) + a[k:] for k in lengths}
    wrong = []
    for e in exits:
        out = [_element(e.state, i) for i in range(task.n)]
        bad = [_any([o != s for o, s in zip(out, spec[k])]) if len(lengths) == 1 else
               _all(n == k, _any([o != s for o, s in zip(out, spec[k])])) for k in lengths]
        wrong.append(_all(e.condition, _any(bad + [z3.Not(_preserved(be, start, e))])))
    goal = _all(assume, _any(wrong))

    def explain(model: dict) -> dict:
        length = value(model, n) if task.variable else task.n
        got_terms = [merge(exits, lambda s, i=i: _element(s, i)) for i in range(task.n)]
        signed = [_int32(value(model, t)) for t in a]
        got = [_int32(value(model, t)) for t in got_terms]
        expected = sorted(signed[:length]) + signed[length:]
        inputs = {"a%d" % i for i in range(task.n)} | {"entry_rdi"} | ({"entry_rsi"} if task.variable else set())
        fixed = [z3.substitute(t, *[(x, z3.BitVecVal(value(model, x), 32)) for x in a]) for t in got_terms]
        call = "%s(%s%s)" % (task.name, signed, ", n=%d" % length if task.variable else "")
        line = "%s gives %s, expected %s%s" % (call, got[:task.n], expected, _depends(be, program, fixed, inputs))
        if got == expected:
            line = "%s breaks the calling convention (rbx, rbp, r12-r15 or %%rsp changed)%s" % (
                call, _depends(be, program, fixed, inputs))
        return {"input": signed[:length], "length": length, "expected": expected[:length], "got": got[:length],
                "line": line}

    return _Problem(goal, explain, a)


def _element(s: State, i: int):
    return s.memory[("array", 4 * i)][1]   # always one 32-bit value (x86/machine.py)


def _int32(bits: int) -> int:
    return bits - (1 << 32) if bits >> 31 else bits


# -- function tasks -----------------------------------------------------------------------------
def _function_problem(program: Program, task, deadline) -> _Problem:
    be = Z3Backend()
    sig = task.signature
    arguments, ret = task.entry
    xs = [z3.BitVec("arg_%s" % p.name, p.type.width) for p in sig.params]
    given, assume = {}, []
    for arg, x in zip(arguments, xs):
        low = (z3.SignExt if arg.type.signed else z3.ZeroExt)(arg.defined - arg.type.width, x) \
            if arg.defined > arg.type.width else x
        given[arg.family] = z3.Concat(z3.BitVec("upper_" + arg.family, 64 - arg.defined), low) \
            if arg.defined < 64 else low
        if arg.type.is_bool:
            assume.append(z3.ULE(x, 1))
    assume = _all(assume) if assume else z3.BoolVal(True)
    start = _entry(be, "entry_", given)
    reference = reference_program(task)
    ref_exits = lift(reference, be, _entry(be, "reference_entry_", given), assume, deadline)
    exits = lift(program, be, start, assume, deadline)
    w = ret.type.width

    def result(s: State):
        return register(be, s, "rax", w)

    got, expected = merge(exits, result), merge(ref_exits, result)
    broken = _any([_all(e.condition, z3.Not(_preserved(be, start, e))) for e in exits])
    goal = _all(assume, _any(got != expected, broken))

    def explain(model: dict) -> dict:
        args = [value(model, x) for x in xs]
        g, x = value(model, got), value(model, expected)
        fixed = z3.substitute(got, *[(v, z3.BitVecVal(a, v.size())) for v, a in zip(xs, args)])
        inputs = {"arg_" + p.name for p in sig.params} | {"upper_" + a.family for a in arguments}
        line = sig.call(args, g, x) + _depends(be, program, [fixed], inputs)
        if g == x:
            line = sig.call(args) + " breaks the calling convention (rbx, rbp, r12-r15 or %rsp changed)"
        return {"call": line, "args": [p.type.value(a) for p, a in zip(sig.params, args)],
                "expected": sig.ret.value(x), "got": sig.ret.value(g), "line": line}

    def record(ce) -> None:
        task.add_counterexample([p.type.bits([a])[0] for p, a in zip(sig.params, ce["args"])])

    return _Problem(goal, explain, xs, record)


# -- buffer tasks -------------------------------------------------------------------------------
def _buffer_problem(program: Program, task, deadline) -> _Problem:
    be = Z3Backend()
    data = [z3.BitVec("b%d" % i, 8) for i in range(task.size)]
    start = State.initial(be, {f: z3.BitVec("entry_" + f, 64) for f in FAMILIES}, buffer=data)
    exits = lift(program, be, start, None, deadline)
    got = merge(exits, lambda s: register(be, s, "rax", task.ret_width))
    expected = task.spec(be, data)
    broken = _any([_all(e.condition, z3.Not(_preserved(be, start, e))) for e in exits])
    goal = _any(got != expected, broken)

    def explain(model: dict) -> dict:
        buffer = [value(model, b) for b in data]
        g, x = value(model, got), value(model, z3.simplify(expected))
        fixed = z3.substitute(got, *[(b, z3.BitVecVal(v, 8)) for b, v in zip(data, buffer)])
        line = task.call(buffer, g, x) + _depends(be, program, [fixed], {b.decl().name() for b in data})
        if g == x:
            line = task.call(buffer) + " breaks the calling convention (rbx, rbp, r12-r15 or %rsp changed)"
        return {"call": line, "args": buffer, "expected": x, "got": g, "line": line}

    return _Problem(goal, explain, data, lambda ce: task.add_counterexample(ce["args"]))


def reference_program(task) -> Program:
    """The function task's reference in the instruction form: gcc -O2 -S's code for a C
    file's function (superopt.tasks.csource.c_assembly), or the assembly spec's function as
    written."""
    try:
        return _reference_program(task)
    except SuperoptError as exc:
        raise Unmodelled("the reference's code is not in the instruction form: %s" % exc) from None


def _reference_program(task) -> Program:
    from superopt.x86.functions import select
    from superopt.x86.parser import parse_file
    source = task.reference.source
    if not source.endswith((".c", ".C")):
        return select(parse_file(source), task.name)
    from superopt.tasks.csource import c_assembly
    return c_assembly(task)

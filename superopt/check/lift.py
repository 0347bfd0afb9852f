"""A kernel as formulas: every path from entry to `ret`, each with its condition and final state.

x86/compute.py gives each straight-line instruction's meaning over a backend (here z3's,
superopt.check.smt); this module adds control flow. It runs the program symbolically from
its first instruction: a branch whose condition simplifies to a constant is followed, any
other forks the path in two (each side keeping its condition). Falling off the end is a
`ret`, as everywhere in superopt. The exits' conditions are disjoint and cover every input
that reaches a `ret`, so "the kernel is correct" is "on every exit, its state is".

Loops unroll: a backward branch is followed as often as the path goes round. A side whose
condition the solver shows impossible is dropped (that check is made only on paths that
have run longer than the program, i.e. inside a loop), so a loop with a constant trip count,
or one the conditions bound, unrolls to its end; a path still running after MAX_STEPS
instructions is a loop without a bound (`NoBound`), and more than MAX_PATHS exits is
refused too: the caller then says "tested", with the reason.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import z3

from superopt.check.smt import Z3Backend, solve
from superopt.x86.compute import State, Unmodelled, condition, step
from superopt.x86.isa import Program

MAX_STEPS = 2_000      # instructions on one path
MAX_PATHS = 256        # exits (paths that reach ret)
FEASIBLE_TIMEOUT = 2.0  # seconds for one "can this side of a branch be taken" check


class NoBound(Unmodelled):
    """A loop the solver found no bound for within MAX_STEPS (or too many paths)."""


class OutOfTime(Unmodelled):
    """Lifting (its branch checks) ran past the proof's deadline."""


@dataclass
class Exit:
    condition: z3.BoolRef   # the inputs that take this path
    state: State            # the state at its ret (before the ret pops the return address)
    index: int              # the ret's instruction index (len(program) when it falls off the end)


def lift(program: Program, be: Z3Backend, state: State, assume=None, deadline: float | None = None) -> list[Exit]:
    """Every exit of `program` from `state` (the module docstring). `assume`: what the
    inputs satisfy (a variable sort's 0 <= n <= N), used to drop impossible sides;
    `deadline`: a time.perf_counter() value. Raises Unmodelled (an instruction or address
    the model does not express), NoBound or OutOfTime."""
    assume = z3.BoolVal(True) if assume is None else assume
    work = [(0, state, [], 0)]   # (instruction index, state, conditions, steps so far)
    exits: list[Exit] = []
    size = len(program.instrs)
    while work:
        pc, st, conds, steps = work.pop()
        while True:
            if steps > MAX_STEPS:
                raise NoBound("a loop whose trip count the solver did not bound within %d instructions" % MAX_STEPS)
            if pc >= size or program.instrs[pc].op == "ret":
                exits.append(Exit(conds[0] if len(conds) == 1 else z3.And(conds) if conds else z3.BoolVal(True), st, pc))
                if len(exits) > MAX_PATHS:
                    raise NoBound("more than %d paths to ret" % MAX_PATHS)
                break
            ins = program.instrs[pc]
            steps += 1
            if ins.op == "jmp":
                pc = _target(program, pc)
                continue
            if ins.op != "j":
                be.where = pc
                st = step(be, st, ins)
                pc += 1
                continue
            taken = z3.simplify(condition(be, st.flags, ins.cond))
            if z3.is_true(taken):
                pc = _target(program, pc)
                continue
            if z3.is_false(taken):
                pc += 1
                continue
            sides = [(_target(program, pc), conds + [taken]), (pc + 1, conds + [z3.Not(taken)])]
            if steps > size:   # inside a loop: follow only a side some input takes
                if deadline is not None and time.perf_counter() > deadline:
                    raise OutOfTime("the time limit ran out while unrolling a loop")
                sides = [s for s in sides if _possible(z3.And([assume] + s[1]))]
            if not sides:
                break
            for target, side in sides[1:]:
                work.append((target, st, side, steps))
            pc, conds = sides[0]
    return exits


def _target(program: Program, pc: int) -> int:
    return program.labels[program.instrs[pc].operands[0].name]


def _possible(condition) -> bool:
    status, _, _ = solve(condition, FEASIBLE_TIMEOUT)
    return status != "unsat"


def merge(exits: list[Exit], value) -> z3.ExprRef:
    """One term for `value(exit.state)` over all exits: an if-then-else on their conditions
    (the last exit needs none, as the conditions cover every input)."""
    out = value(exits[-1].state)
    for e in reversed(exits[:-1]):
        out = z3.If(e.condition, value(e.state), out)
    return out

"""`enum` on function tasks: every program by length, shortest first, so the first one found
is optimal within the space (superopt.game.space): the general ISA over its registers and
constant pool, lea's addresses limited to base + disp and base + index x scale.

Iterative deepening: for L = 1, 2, ... a depth-first search over every instruction of the
space (`Space.every`), evaluated on `tests` inputs by the value evaluator; the last
instruction must write %rax (anything else leaves the result as it was one shorter). A
state (the space's registers and the six flags, on every test lane) already reached at the
same or a smaller depth in this iteration is not searched again: the continuations of
equal states are equal on the tests. A program right on the tests goes through CEGIS
(superopt.agents.cegis); a failure adds its input to the tests and the iteration starts
again. Why the first program that passes is optimal: the tests only grow, so a bound that
no program passed with fewer tests is not passed with more, and a correct program passes
every test set. The space grows as |instructions|^L (thousands per position): in practice
lengths 1 and 2, and 3 for the smallest tasks.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from superopt.agents.base import SearchOptions, SearchResult, SearchStats
from superopt.agents.cegis import Checker, Screen, test_inputs
from superopt.agents.params import Params, at_least, param, positive
from superopt.game.scalar import ScalarGame
from superopt.x86 import semantics
from superopt.x86.backend import Unmodelled
from superopt.x86.compute import flag, register, step
from superopt.x86.semantics import FLAGS


@dataclass(frozen=True)
class FunctionEnumParams(Params):
    """`--param` keys of the enum agent on function tasks."""
    agent: ClassVar[str] = "enum"
    tests: int = param(16, positive)            # test inputs it starts with
    prove: float = param(10.0, at_least(0))     # seconds per SMT proof attempt (0: no proofs)


class _Restart(Exception):
    """The tests grew: search the bound again."""


class _Stopped(Exception):
    pass


class Search:
    def __init__(self, game: ScalarGame, params: FunctionEnumParams, report, should_stop, started: float):
        self.game, self.space = game, game.space
        self.should_stop, self.report, self.started = should_stop, report, started
        self.instructions = self.space.every()
        self.last = [i for i in self.instructions if "rax" in semantics.writes(i)]
        self.tests = test_inputs(game, params.tests, 0)
        self.screen = Screen(game)
        self.check = Checker(game.task, params.prove)
        self.explored = 0
        self.label = ""
        self._evaluator()

    def _evaluator(self) -> None:
        self.ev = self.game.evaluator(self.tests, self.game.task.expected(self.tests))
        self.be = self.ev.backend

    def _key(self, state) -> bytes:
        regs = [register(self.be, state, f) for f in self.space.registers]
        bits = [flag(self.be, state.flags, f) for f in FLAGS]
        return np.concatenate(regs).tobytes() + np.packbits(np.concatenate(bits)).tobytes()

    def bound(self, length: int) -> list | None:
        """The first program of `length` instructions that passes CEGIS, or None."""
        while True:
            try:
                self.seen: dict[bytes, int] = {}
                return self._dfs(self.ev.initial(), [], length)
            except _Restart:
                self._evaluator()

    def _dfs(self, state, prefix: list, length: int) -> list | None:
        last = len(prefix) == length - 1
        for ins in (self.last if last else self.instructions):
            self.explored += 1
            if self.explored % 2048 == 0:
                if self.should_stop():
                    raise _Stopped
                self.report(self.stats("bound %d" % length))
            try:
                after = step(self.be, state, ins)
            except Unmodelled:
                continue
            if last:
                if self.ev.correct(after) and self._passes(prefix + [ins]):
                    return prefix + [ins]
                continue
            key = self._key(after)
            if self.seen.get(key, length) <= len(prefix) + 1:
                continue
            self.seen[key] = len(prefix) + 1
            found = self._dfs(after, prefix + [ins], length)
            if found is not None:
                return found
        return None

    def _passes(self, program: list) -> bool:
        wrong = self.screen(program)
        if wrong is None:
            outcome = self.check(program)
            if outcome.passed:
                self.label = outcome.label
                return True
            wrong = outcome.counterexamples
        if len(wrong):
            self.tests = np.concatenate([self.tests, wrong.reshape(-1, self.game.n)])
            raise _Restart
        return False

    def stats(self, phase: str, best: list | None = None) -> SearchStats:
        return SearchStats(elapsed=time.monotonic() - self.started, explored=self.explored,
                           best_length=len(best) if best else None, best_correct=1.0 if best else 0.0,
                           best_program=list(best or []), phase=phase)


def run(game: ScalarGame, options: SearchOptions, report, should_stop) -> SearchResult:
    """The `enum` agent on a function task."""
    started = time.monotonic()
    params = FunctionEnumParams.of(options.params)
    search = Search(game, params, report, should_stop, started)
    found, searched = None, 0
    try:
        for length in range(1, game.max_length + 1):
            found = search.bound(length)
            searched = length
            if found is not None:
                break
    except _Stopped:
        pass
    report(search.stats("done", found))
    program = game.to_program(found) if found is not None else None
    return SearchResult(program=program, length=len(found) if found is not None else None,
                        optimal=found is not None, explored=search.explored, elapsed=time.monotonic() - started,
                        candidates=[program] if program is not None else [],
                        extras={"checked": search.label or None, "lengths_exhausted": searched - (found is not None),
                                "instructions": len(search.instructions), "tests": len(search.tests),
                                "emulated": search.check.emulated, "proofs": search.check.proofs})

"""Counterexample-guided checking of a function-task search's candidates (CEGIS).

A chain evaluates its programs on a few test inputs only. A program that passes them goes
through three checks, cheapest first:
  1. the value evaluator on the whole verification set (`Screen`, in the searcher's process);
  2. Unicorn, the ground truth (superopt.check.verify): every rule of the call, with two
     random fillings of everything undefined;
  3. an SMT proof (superopt.check.prove) that it equals the reference on every input.
A failure at any step names an input it gets wrong; that input joins the chain's tests (and
the task's recorded counterexamples: verify and prove record theirs, so every later search
and verify of the same spec runs it). A program that passes 2 and whose proof is neither
found nor refuted (an unmodelled instruction, a timeout) is kept as *tested*, and its label
says why there is no proof.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from superopt.tasks.function import FunctionTask
from superopt.tasks.inputs import counterexamples
from superopt.x86.backend import Unmodelled
from superopt.x86.isa import Program, with_ret


def test_inputs(game, count: int, seed: int) -> np.ndarray:
    """`count` inputs of the game's verification set, picked by `seed`: half of them among its
    counterexamples and edge values (powers of two, extremes: where kernels go wrong), the
    rest among its random inputs."""
    rng = np.random.default_rng(seed)
    special = min(game.special, max(count // 2, count - (len(game.args) - game.special)))
    pick = np.concatenate([rng.permutation(game.special)[:special],
                           game.special + rng.permutation(len(game.args) - game.special)[:count - special]])
    return game.args[np.sort(pick).astype(int)]


class Screen:
    """Check 1 of the module docstring: `screen(program)` is None if the value evaluator
    finds it right on every input of the game's verification set, else the first inputs it
    gets wrong (at most 4)."""

    def __init__(self, game, seed: int = 0):
        self.game = game
        self.ev = game.evaluator(game.args, game.expected, seed=seed)

    def __call__(self, program) -> np.ndarray | None:
        try:
            state = self.ev.run(program)
        except Unmodelled:
            return self.game.args[:1]
        bad = np.flatnonzero(self.ev.errors(state))
        return None if not len(bad) else self.game.args[bad[:4]]


def _recorded(task) -> np.ndarray:
    """The task's recorded counterexamples (a buffer task keeps its own, in this process)."""
    return np.array(task.found, dtype=np.uint8).reshape(-1, task.size) if task.kind == "buffer" else \
        counterexamples(task)


@dataclass
class Outcome:
    passed: bool
    label: str                        # how it was checked (superopt.check.verdict.Verdict.label)
    proven: bool = False
    counterexamples: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.uint64))


class Checker:
    """Checks 2 and 3 of the module docstring, each program once. `prove_timeout`: seconds
    per proof attempt (0: no proofs, every pass is tested)."""

    def __init__(self, task: FunctionTask, prove_timeout: float = 10.0):
        self.task, self.prove_timeout = task, prove_timeout
        self.done: dict[tuple, Outcome] = {}
        self.emulated = 0
        self.proofs = 0

    def __call__(self, instrs) -> Outcome:
        key = tuple(instrs)
        if key not in self.done:
            self.done[key] = self._check(with_ret(Program(list(instrs), name=self.task.name)))
        return self.done[key]

    def _check(self, program: Program) -> Outcome:
        from superopt.check.verify import verify
        known = _recorded(self.task)
        self.emulated += 1
        verdict = verify(program, self.task)
        if verdict.passed and self.prove_timeout:
            from superopt.check.prove import prove
            self.proofs += 1
            verdict.smt = prove(program, self.task, self.prove_timeout)
            verdict.passed = verdict.smt.status != "refuted"
        if verdict.passed:
            return Outcome(True, verdict.label, verdict.proven)
        return Outcome(False, verdict.label, counterexamples=self._new(known, verdict))

    def _new(self, known: np.ndarray, verdict) -> np.ndarray:
        """The inputs the failure added to the task's counterexamples, else the verdict's own."""
        now = _recorded(self.task)
        fresh = [row for row in now if not (len(known) and (known == row).all(axis=1).any())]
        if fresh:
            return np.array(fresh, dtype=np.uint64)
        example = verdict.counterexample or (verdict.smt.counterexample if verdict.smt else None) or {}
        args = example.get("args")
        if args is None:
            return np.zeros((0, len(known[0]) if len(known) else 1), dtype=np.uint64)
        if self.task.kind == "buffer":
            return np.array([args], dtype=np.uint8)
        return np.array([[int(p.type.bits([a])[0]) for p, a in zip(self.task.signature.params, args)]],
                        dtype=np.uint64)

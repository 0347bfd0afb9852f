"""`stochastic` on function tasks: a STOKE-style Markov chain over the general ISA.

A proposal rewrites the current program by one of STOKE's moves (Schkufza, Sharma, Aiken,
ASPLOS 2013): `opcode` (another opcode of the same operand kinds), `operand` (one operand
changed: a register, a pool immediate, a part of lea's address), `swap` (two instructions),
`instruction` (one replaced by a random one) and `resize` (one inserted or deleted). The
cost is STOKE's: correctness, the hamming distance of the returned value to the reference's
over the chain's test inputs (the mean wrong bits per input, value evaluator:
superopt.game.values) plus `wrong` per input it gets wrong, plus `alpha` x the program's length (or, with --objective latency, its
dependency-chain latency in cycles from the cost model); a proposal is accepted with
probability min(1, exp(-beta x cost increase)). The `wrong` term: with the mean alone, a
program wrong on a few inputs or with a 1-bit result (p18's bool, p22's parity) cost less
than one instruction, so the chains left gcc's correct code for shorter wrong programs
(`xorl %eax, %eax` beat p18's correct 7 and p22's popcnt + and); at 4, a wrong input costs
as much as 4 instructions. That is the default of chains that start from a program (gcc's, or
--init): they start right and must stay near right while they shrink. Empty chains default to
0: from nothing the mean alone is the smoother slope (p13's bsr + sarx was found with 0 and
not with 4, 60 s each, 2026-12-08). STOKE's misalignment term: an input whose right result sits in
another register costs `misalign` wrong bits and is not counted wrong, so p25's `mull %esi`
(the high half in %edx) is one `movl %edx, %eax` from right, not 16 bits wrong. A proposal is evaluated from the first
instruction it changed, on the CPU states of the unchanged prefix.

Test inputs: `tests` of the verification set (edge values, random, every recorded
counterexample first). A program that passes them goes through CEGIS (superopt.agents.cegis):
the whole verification set in the value evaluator, then Unicorn, then an SMT proof; a failure's
input joins the chain's tests and the chain carries on. Only programs that passed Unicorn (and
whose proof was found, or neither found nor refuted: *tested*) are results.

Starts: `warm` from gcc -O2's code of the reference (parsed; where it branches or uses memory,
gcc -O2's with this CPU's extensions, -mbmi -mlzcnt...; then either with its early returns
if-converted, superopt.game.ifconvert; or --init), `empty` (STOKE's
synthesis from nothing), or `mixed` (the default: even chains warm, odd chains empty). With
no warm start in the space, every chain starts empty.
Chains run in the worker pool (superopt.agents.pool); the parent does every Unicorn run and
proof, one request at a time, so that a run is deterministic for a seed and worker count
(unless a time limit or --target-length cuts it). Under a time limit a proof gets at most the
time left (MIN_PROOF at least), and no check starts after the stop. A chain restarts from its
best after `restart` proposals without a better program and ends after `patience` (or its steps). The
result is the shortest checked program of any chain (ties: the lowest cost, then the lowest
chain).
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from superopt.agents.base import SearchOptions, SearchResult, SearchStats
from superopt.agents.cegis import Checker, Outcome, Screen, test_inputs
from superopt.agents.params import Params, at_least, choice, count, number, param, positive
from superopt.agents.pool import start_pool
from superopt.errors import SuperoptError
from superopt.game.scalar import ScalarGame
from superopt.measure.cost import cost_model
from superopt.x86.backend import Unmodelled
from superopt.x86.compute import step

MOVES = ("opcode", "operand", "swap", "instruction", "resize")
KEEP = 8       # checked programs of the best length kept per chain (candidates for --objective latency)
WRONG = 4.0    # the default `wrong` of a chain that starts from a program (see the module docstring)
MIN_PROOF = 0.5  # seconds a proof gets however little of the time limit is left


@dataclass(frozen=True)
class StokeParams(Params):
    """`--param` keys of the stochastic agent on function tasks."""
    agent: ClassVar[str] = "stochastic"
    uses: ClassVar[frozenset] = frozenset({"init", "steps"})
    alpha: float = param(1.0, number)           # cost per instruction (per cycle under latency)
    beta: float = param(1.0, number)            # inverse temperature of acceptance
    wrong: float | None = param(None, at_least(0))  # cost per wrong test input (default: 4 warm, 0 empty)
    misalign: float = param(1.0, at_least(0))   # wrong bits charged for the result in a register not %rax (0: off)
    steps: int = param(200_000, positive)       # proposals per chain (--steps overrides)
    tests: int = param(32, positive)            # test inputs a chain starts with
    start: str = param("mixed", choice("mixed", "warm", "empty"))
    restart: int = param(20_000, count)         # proposals without a better program before a restart (0: never)
    patience: int = param(60_000, count)        # ... before the chain ends (0: never; it runs its steps)
    prove: float = param(10.0, at_least(0))     # seconds per SMT proof attempt (0: no proofs: tested only)
    w_opcode: float = param(1.0, at_least(0))   # move weights
    w_operand: float = param(1.0, at_least(0))
    w_swap: float = param(1.0, at_least(0))
    w_instruction: float = param(1.0, at_least(0))
    w_resize: float = param(1.0, at_least(0))

    def __post_init__(self):
        super().__post_init__()
        if not any(getattr(self, "w_" + m) for m in MOVES):
            raise SuperoptError("agent stochastic: the move weights (--param w_%s ...) must not all be 0" % MOVES[0])


class Chain:
    """One Markov chain on a ScalarGame; `check(instrs) -> Outcome` is CEGIS's Unicorn and
    proof step."""

    def __init__(self, game: ScalarGame, params: StokeParams, seed: int, init, check, objective: str = "length"):
        self.game, self.space, self.p = game, game.space, params
        self.rng = random.Random(seed)
        self.seed = seed
        self.check = check
        self.latency = objective == "latency"
        self.weights = [getattr(params, "w_" + m) for m in MOVES]
        self.others = [f for f in self.space.registers if f != "rax"]
        self.wrong = params.wrong if params.wrong is not None else (WRONG if init else 0.0)
        self.tests = test_inputs(game, params.tests, seed)
        self.screen = Screen(game, seed)
        self.explored = 0
        self.started = time.monotonic()
        self.best_at: float | None = None      # seconds from the chain's start to its best
        self.checked: dict[tuple, bool] = {}
        self.best: list | None = None          # the best program that passed CEGIS
        self.best_cost = math.inf
        self.best_label = ""
        self.found: dict[tuple, str] = {}      # passed programs of the best length, with their labels
        self.closest: tuple[float, list] = (math.inf, [])
        self.init = list(init)
        self._evaluator()
        self._set(self.init)

    def _evaluator(self) -> None:
        expected = self.game.task.expected(self.tests)
        self.ev = self.game.evaluator(self.tests, expected, seed=self.seed)
        self.scale = 1.0 / len(self.tests)

    def _set(self, program: list) -> None:
        self.program = list(program)
        self.states = [self.ev.initial()]
        self.cost, self.correct = self._extend(self.program, self.states, 0)

    def _extend(self, program: list, states: list, start: int) -> tuple[float, bool]:
        """Fill states[start+1..] for program; (its cost, whether it passes the tests)."""
        del states[start + 1:]
        state, be = states[start], self.ev.backend
        try:
            for ins in program[start:]:
                state = step(be, state, ins)
                states.append(state)
        except Unmodelled:
            return math.inf, False
        errors = self.ev.errors(state)
        if not errors.any():
            return self.p.alpha * self._performance(program), True
        wrong = np.count_nonzero(errors)
        if self.p.misalign:       # the result in another register counts, at a penalty
            for family in self.others:
                there = self.ev.errors(state, family)
                wrong = min(wrong, np.count_nonzero(there))
                errors = np.minimum(errors, there + self.p.misalign)
        return errors.sum() * self.scale + self.wrong * wrong + self.p.alpha * self._performance(program), False

    def _performance(self, program: list) -> float:
        return cost_model(program) if self.latency else len(program)

    def propose(self) -> tuple[list, int] | None:
        """A neighbour of the current program and the first position it changed."""
        rng, prog, space = self.rng, self.program, self.space
        n = len(prog)
        move = rng.choices(MOVES, self.weights)[0] if n else "resize"
        if move == "resize":
            if n and (n >= self.game.max_length or rng.random() < 0.5):
                i = rng.randrange(n)
                return prog[:i] + prog[i + 1:], i
            i = rng.randrange(n + 1)
            return prog[:i] + [space.random(rng)] + prog[i:], i
        i = rng.randrange(n)
        if move == "swap":
            j = rng.randrange(n)
            if prog[i] == prog[j]:
                return None
            i, j = min(i, j), max(i, j)
            new = list(prog)
            new[i], new[j] = new[j], new[i]
            return new, i
        ins = space.random(rng) if move == "instruction" else (
            space.with_opcode(rng, prog[i]) if move == "opcode" else space.with_operand(rng, prog[i]))
        if ins is None or ins == prog[i]:
            return None
        return prog[:i] + [ins] + prog[i + 1:], i

    def step(self) -> None:
        proposal = self.propose()
        if proposal is None:
            return
        new, start = proposal
        self.explored += 1
        states = self.states[: start + 1]
        cost, correct = self._extend(new, states, start)
        if correct and not self._passes(new):
            states = [self.ev.initial()]   # the tests grew: evaluate from the start
            cost, correct = self._extend(new, states, 0)
        if cost < self.closest[0]:
            self.closest = (cost, list(new))
        delta = cost - self.cost
        if delta <= 0 or self.rng.random() < math.exp(-self.p.beta * delta):
            self.program, self.states, self.cost, self.correct = new, states, cost, correct

    def _passes(self, program: list) -> bool:
        """CEGIS on a program that passes the tests (the module docstring): whether it passed;
        a failure's input joins the tests, which re-costs the current program."""
        key = tuple(program)
        if key in self.checked:
            return self.checked[key]
        wrong = self.screen(program)
        outcome = Outcome(True, "") if wrong is None else Outcome(False, "", counterexamples=wrong)
        if outcome.passed and self._improves(program):
            outcome = self.check(program)
            if outcome.passed:
                self._record(program, outcome.label)
        self.checked[key] = outcome.passed
        if not outcome.passed and len(outcome.counterexamples):
            self.tests = np.concatenate([self.tests, outcome.counterexamples.reshape(-1, self.game.n)])
            self._evaluator()
            self._set(self.program)
        return outcome.passed

    def _improves(self, program: list) -> bool:
        """Whether a program that passed the screen would be a new best (or a new candidate
        of the best length): only those go on to Unicorn and the prover. The others count
        as passing for the chain's cost (the screen ran the whole verification set)."""
        if self.best is None or len(program) < len(self.best):
            return True
        return len(program) == len(self.best) and len(self.found) < KEEP and (
            self.p.alpha * self._performance(program) <= self.best_cost)

    def _record(self, program: list, label: str) -> None:
        cost = self.p.alpha * self._performance(program)
        better = self.best is None or (len(program), cost) < (len(self.best), self.best_cost)
        if better:
            if self.best is None or len(program) < len(self.best):
                self.found = {}
            self.best, self.best_cost, self.best_label = list(program), cost, label
            self.best_at = time.monotonic() - self.started
        if len(program) == len(self.best):
            self.found.setdefault(tuple(program), label)

    def run(self, steps: int, should_stop, on_progress=None, target: int | None = None) -> None:
        since = idle = 0          # proposals since the last restart / the last new best
        best = (math.inf, math.inf)
        if self.correct:
            self._passes(self.program)
        for k in range(steps):
            if k % 256 == 0:
                if should_stop():
                    return
                if on_progress is not None:
                    on_progress(self)
            self.step()
            now = (len(self.best), self.best_cost) if self.best is not None else (math.inf, math.inf)
            if now < best:
                best, since, idle = now, 0, 0
                if target is not None and self.best is not None and len(self.best) <= target:
                    return
            since, idle = since + 1, idle + 1
            if self.p.patience and idle >= self.p.patience:
                return
            if self.p.restart and since >= self.p.restart:
                self._set(self.best if self.best is not None else self.init)
                since = 0


def starts(game: ScalarGame, params: StokeParams, workers: int) -> list[list]:
    """Each chain's start program (the module docstring)."""
    warm = game.warm or []
    if params.start == "warm" or game.init_given:
        return [warm] * workers
    if params.start == "empty":
        return [[]] * workers
    return [warm if w % 2 == 0 else [] for w in range(workers)]


def run(game: ScalarGame, options: SearchOptions, report, should_stop) -> SearchResult:
    """The `stochastic` agent on a function task."""
    started = time.monotonic()
    params = StokeParams.of(options.params)
    steps = options.steps if options.steps is not None else params.steps
    workers = max(1, options.workers)
    seeds = [options.seed * 1_000_003 + w for w in range(workers)]
    inits = starts(game, params, workers)
    checker = Checker(game.task, params.prove)
    if workers == 1:
        chain = Chain(game, params, seeds[0], inits[0], checker, options.objective)
        last = [0.0]

        def progress(c):
            if time.monotonic() - last[0] > 0.2:
                last[0] = time.monotonic()
                report(_stats(game, started, [_summary(c)]))

        chain.run(steps, should_stop, progress, options.target_length)
        summaries = [_summary(chain)]
    else:
        summaries = _run_workers(game, params, seeds, inits, steps, options, checker, started, report, should_stop)
    stats = _stats(game, started, summaries)
    report(stats)
    found = [s for s in summaries if s["best"] is not None]
    best = min(found, key=lambda s: (len(s["best"]), s["best_cost"])) if found else None
    programs, labels = [], {}
    if best is not None:
        for s in sorted(found, key=lambda s: s["best_cost"]):
            for p, label in [(tuple(s["best"]), s["label"])] + list(s["found"].items()):
                if len(p) == len(best["best"]) and p not in labels:
                    labels[p] = label
                    programs.append(game.to_program(p))
    return SearchResult(program=programs[0] if programs else None, length=len(programs[0]) if programs else None,
                        optimal=False, explored=stats.explored, elapsed=time.monotonic() - started,
                        candidates=programs,
                        extras={"chains": len(summaries), "steps_per_chain": steps, "starts": [
                                    "warm" if i else "empty" for i in inits],
                                "warm_start": game.warm_source, "warm_note": game.warm_note,
                                "checked": labels[tuple(programs[0].instrs)] if programs else None,
                                "found_after": round(best["best_at"], 3) if best is not None else None,
                                "emulated": checker.emulated, "proofs": checker.proofs,
                                "alpha": params.alpha, "beta": params.beta})


def _summary(chain: Chain) -> dict:
    return {"explored": chain.explored, "best": chain.best, "best_cost": chain.best_cost, "label": chain.best_label,
            "best_at": chain.best_at,
            "found": dict(chain.found), "closest": chain.closest, "tests": len(chain.tests)}


def _stats(game: ScalarGame, started: float, summaries: list[dict]) -> SearchStats:
    found = [s for s in summaries if s["best"] is not None]
    best = min(found, key=lambda s: (len(s["best"]), s["best_cost"]))["best"] if found else None
    closest = min((s["closest"] for s in summaries), key=lambda t: t[0])
    return SearchStats(elapsed=time.monotonic() - started, explored=sum(s["explored"] for s in summaries),
                       best_length=len(best) if best is not None else None,
                       best_correct=1.0 if best is not None else 0.0,
                       best_program=list(best if best is not None else closest[1]),
                       phase="%d chain%s, %d tests" % (len(summaries), "s" if len(summaries) > 1 else "",
                                                       max(s["tests"] for s in summaries)))


def _run_workers(game, params, seeds, inits, steps, options, checker, started, report, should_stop) -> list[dict]:
    """Chains in the worker pool; their CEGIS checks come here, one at a time (the module
    docstring)."""
    empty = {"explored": 0, "best": None, "best_cost": math.inf, "label": "", "best_at": None, "found": {},
             "closest": (math.inf, []), "tests": params.tests}
    latest = {w: dict(empty) for w in range(len(seeds))}
    done: set[int] = set()
    target = options.target_length
    args = [(game, params, seed, init, steps, target, options.objective) for seed, init in zip(seeds, inits)]
    with start_pool(_worker, args, name="stochastic chain") as pool:
        stopped = False
        while len(done) < len(seeds):
            if not stopped and should_stop():
                stopped = True
                pool.stop()
            got = pool.receive(timeout=0.2)
            if got is None:
                if pool.finished():
                    break
                continue
            w, (kind, body) = got
            if kind == "check":   # none after the stop, and no proof past the time limit
                if options.time_limit is not None and params.prove:
                    left = started + options.time_limit - time.monotonic()
                    checker.prove_timeout = min(params.prove, max(MIN_PROOF, left))
                pool.send(w, Outcome(False, "the search stopped") if stopped else checker(body))
                continue
            latest[w] = body
            if kind == "done":
                done.add(w)
                if target is not None and body["best"] is not None and len(body["best"]) <= target:
                    pool.stop()
            report(_stats(game, started, list(latest.values())))
    return [latest[w] for w in range(len(seeds))]


def _worker(link, game, params, seed, init, steps, target, objective):
    def check(program):
        link.put(("check", list(program)))
        got = link.get()
        return got if got is not None else Outcome(False, "the search stopped")

    chain = Chain(game, params, seed, init, check, objective)
    last = [0.0]

    def progress(c):
        if time.monotonic() - last[0] > 0.3:
            last[0] = time.monotonic()
            link.put(("progress", _summary(c)))

    chain.run(steps, link.stopped, progress, target)
    link.put(("done", _summary(chain)))

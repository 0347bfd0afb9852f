"""`stochastic`: AlphaDev-S, a STOKE-style Markov chain over whole programs.

A proposal rewrites the current program by one move: add an instruction, delete one,
swap two, change an opcode (same operands), change one operand, or replace an
instruction; move weights are tunable. Cost = sqrt(misplaced items) + alpha x length
(the square root of the misplaced count worked best for AlphaDev-S), plus gamma x the
dependency-chain cost model's cycles (`gamma`, 0 = off: STOKE's performance term, so the
chain prefers short critical paths among programs of one length); a proposal is
accepted with probability min(1, exp(-beta x cost increase)). The chain starts from
`--init prog.s` (warm) or, cold, from the first program of a beam search under a
distinct-rows progress measure (`start=beam`, the default; see superopt.beam: the bound
starts at the game's maximum length and grows by 2 while the beam ends empty, and the
program found is polished before the chain starts), from enum's first program under a
loose bound (`start=enum`), or from the empty program (`start=empty`, the paper's cold
start, which finds nothing from sort3 up). A proposal is only evaluated from the first
instruction it changed, reusing the CPU states of the unchanged prefix. Each new correct
program of the best length is polished by enum's suffix re-synthesis (`polish`:
expansions per prefix, 0 = off).

Programs must be well defined (no read of an uninitialised register, no cmov before a
cmp); the game's other pruning rules constrain the sequential game, not these moves.
Each worker runs its own chain with its own seed; the result is the shortest correct
program of any chain (ties: the lowest worker), deterministic for a seed and worker count
when neither a time limit nor --target-length (which stops the other chains early) cuts it.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from typing import ClassVar

from superopt.errors import SuperoptError
from superopt.game.evaluator import CMOV, CMP, MOV
from superopt.game.game import CMOV_CONDS, Game
from superopt.agents import beam
from superopt.game.bounds import LowerBound
from superopt.measure.cost import cost_model
from superopt.agents.resynthesis import first_program, shorten
from superopt.agents.pool import local_backend, start_pool
from superopt.agents.base import SearchOptions, SearchResult, SearchStats
from superopt.agents.params import Params, at_least, choice, count, number, param, positive

MOVES = ("add", "delete", "swap", "opcode", "operand", "instruction")


@dataclass(frozen=True)
class StochasticParams(Params):
    """`--param` keys of the stochastic agent."""
    agent: ClassVar[str] = "stochastic"
    uses: ClassVar[frozenset] = frozenset({"init", "steps"})
    alpha: float = param(0.4, number)            # cost per instruction
    beta: float = param(3.0, number)             # inverse temperature of acceptance
    steps: int = param(300_000, positive)        # proposals per chain (--steps overrides)
    restart: int = param(40_000, count)          # proposals without a shorter program before a restart (0: never)
    keep: int = param(64, positive)              # correct programs of the best length kept per chain
    gamma: float = param(0.0, at_least(0))       # cost per cycle of the dependency-chain model
    polish: int = param(5_000, count)            # enum expansions per prefix when polishing (0: off)
    start: str = param("beam", choice("beam", "enum", "empty"))   # the cold start
    beam_k: float = param(1.5, at_least(1))      # the beam keeps children within k x the fewest rows
    beam_width: int = param(1000, positive)      # ... and at most this many per depth
    w_add: float = param(1.0, at_least(0))       # move weights
    w_delete: float = param(1.0, at_least(0))
    w_swap: float = param(1.0, at_least(0))
    w_opcode: float = param(1.0, at_least(0))
    w_operand: float = param(1.0, at_least(0))
    w_instruction: float = param(1.0, at_least(0))

    def __post_init__(self):
        super().__post_init__()
        if not any(getattr(self, "w_" + m) for m in MOVES):
            raise SuperoptError("agent stochastic: the move weights (--param w_%s ...) must not all be 0" % MOVES[0])


class Chain:
    """One Markov chain on one game."""

    def __init__(self, game: Game, params: StochasticParams, seed: int, init: list[int]):
        self.game, self.ev = game, game.evaluator
        self.p = params
        self.rng = random.Random(seed)
        self.alpha, self.beta, self.gamma = params.alpha, params.beta, params.gamma
        self.weights = [getattr(params, "w_" + m) for m in MOVES]
        self.total = self.ev.total_items
        self.index = {op: a for a, op in enumerate(game.ops)}
        self.R, self.locations = len(game.registers), len(game.registers) + game.n
        self.init = list(init)
        self.explored = 0
        self.best: list[int] | None = None
        self.best_incomplete: tuple[float, list[int]] = (0.0, [])
        self.found: dict[tuple, None] = {}     # correct programs of the best length, in order found
        self.polish = params.polish
        self.lower: LowerBound | None = None  # kept across polishes for its caches
        self.should_stop = lambda: False
        self._set(self.init)

    def _set(self, program: list[int]) -> None:
        self.program = list(program)
        self.states = [self.ev.initial()]
        ok = self._extend(self.program, self.states, 0)
        self.cost = self._cost(self.states[-1], self.program) if ok else math.inf

    def _extend(self, program: list[int], states: list, start: int) -> bool:
        """Fill states[start+1..] for program; False if some instruction is not well defined."""
        del states[start + 1:]
        cpu = states[start]
        step, ops = self.ev.step, self.game.ops
        for a in program[start:]:
            kind, d, s, _ = ops[a]
            locs = cpu[0]
            if locs[s] == 0 or (kind != MOV and locs[d] == 0) or (kind == CMOV and cpu[1] is None):
                return False
            cpu = step(cpu, ops[a])
            states.append(cpu)
        return True

    def _cost(self, cpu: tuple, program: list[int]) -> float:
        cost = math.sqrt(self.total - self.ev.correct_items(cpu[0])) + self.alpha * len(program)
        return cost + self.gamma * cost_model([self.game.actions[a] for a in program]) if self.gamma else cost

    def propose(self) -> tuple[list[int], int] | None:
        """A neighbour of the current program and the first position it changed."""
        rng, prog, game = self.rng, self.program, self.game
        move = rng.choices(MOVES, self.weights)[0]
        n = len(prog)
        if move == "add" or n == 0:
            if n >= game.max_length:
                return None
            i = rng.randrange(n + 1)
            return prog[:i] + [rng.randrange(game.num_actions)] + prog[i:], i
        i = rng.randrange(n)
        if move == "delete":
            return prog[:i] + prog[i + 1:], i
        if move == "swap":
            j = rng.randrange(n)
            if i == j:
                return None
            i, j = min(i, j), max(i, j)
            new = list(prog)
            new[i], new[j] = new[j], new[i]
            return new, i
        if move == "instruction":
            return prog[:i] + [rng.randrange(game.num_actions)] + prog[i + 1:], i
        kind, d, s, cond = game.ops[prog[i]]
        if move == "opcode":
            choices = [(MOV, None), (CMP, None)] + [(CMOV, c) for c in CMOV_CONDS]
            new_kind, new_cond = rng.choice(choices)
            op = self.index.get((new_kind, d, s, new_cond))
        else:
            if rng.random() < 0.5:
                op = self.index.get((kind, rng.randrange(self.locations), s, cond))
            else:
                op = self.index.get((kind, d, rng.randrange(self.locations), cond))
        if op is None or op == prog[i]:
            return None
        return prog[:i] + [op] + prog[i + 1:], i

    def step(self) -> None:
        proposal = self.propose()
        if proposal is None:
            return
        new, start = proposal
        self.explored += 1
        states = self.states[: start + 1]
        if not self._extend(new, states, start):
            return
        cpu = states[-1]
        correct = self.ev.correct_items(cpu[0])
        cost = self._cost(cpu, new)
        if correct == self.total and self._record(new):
            return
        elif correct / self.total > self.best_incomplete[0]:
            self.best_incomplete = (correct / self.total, list(new))
        delta = cost - self.cost
        if delta <= 0 or self.rng.random() < math.exp(-self.beta * delta):
            self.program, self.states, self.cost = new, states, cost

    def _record(self, program: list[int]) -> bool:
        """Keep a correct program; True when polishing it gave a shorter one, which is now
        the chain's current program. Programs over the game's maximum length (an enum start
        may be) guide restarts but are neither polished nor results."""
        if self.best is None or len(program) < len(self.best):
            self.best = list(program)
            self.found = {}
        if len(program) == len(self.best) and len(self.found) < self.p.keep:
            if tuple(program) not in self.found:
                self.found[tuple(program)] = None
                return len(program) <= self.game.max_length and self._polish(program)
        return False

    def _polish(self, program: list[int]) -> bool:
        """Re-synthesise the program's suffixes with enum (enumerative.shorten): the moves
        of the chain rarely make the several coordinated changes that the last instruction
        saved takes."""
        if not self.polish:
            return False
        self.lower = self.lower or LowerBound(self.game)
        short, work = shorten(self.game, program, self.polish, self.should_stop, self.lower)
        self.explored += work
        if len(short) >= len(program):
            return False
        self.best, self.found = short, {tuple(short): None}
        self._set(short)
        return True

    def run(self, steps: int, should_stop, on_progress=None, target: int | None = None) -> None:
        restart = self.p.restart
        self.should_stop = should_stop
        since = 0
        best_len = None
        for k in range(steps):
            if k % 512 == 0:
                if should_stop():
                    return
                if on_progress is not None:
                    on_progress(self)
            self.step()
            if self.best is not None and (best_len is None or len(self.best) < best_len):
                best_len, since = len(self.best), 0
                if target is not None and best_len <= target:
                    return
            since += 1
            if restart and since >= restart:   # stuck: start again from the best (or the start)
                self._set(self.best if self.best is not None else self.init)
                since = 0


def run(game: Game, options: SearchOptions, report, should_stop) -> SearchResult:
    """The `stochastic` agent."""
    start = time.monotonic()
    params = StochasticParams.of(options.params)
    steps = options.steps if options.steps is not None else params.steps
    init = game.program_actions(options.init) if options.init is not None else []
    start_from = "init" if init else params.start
    init, start_explored = (init, 0) if start_from in ("init", "empty") else \
        _cold_start(game, params, start, report, should_stop)
    workers = max(1, options.workers)
    seeds = [options.seed * 1_000_003 + w for w in range(workers)]
    lost: list[str] = []   # chains lost and restarted (ray backend), and what it cost
    if workers == 1 and local_backend():
        chain = Chain(game, params, seeds[0], init)
        last = [0.0]

        def progress(c):
            if time.monotonic() - last[0] > 0.2:
                last[0] = time.monotonic()
                report(_stats(game, start, [_summary(c)]))

        chain.run(steps, should_stop, progress, options.target_length)
        summaries = [_summary(chain)]
    else:
        summaries = _run_workers(game, params, seeds, init, steps, options.target_length, start, report, should_stop,
                                 lost)
    stats = _stats(game, start, summaries)
    stats.explored += start_explored
    report(stats)
    found = [s for s in summaries if s["best"] is not None and len(s["best"]) <= game.max_length]
    best = min(found, key=lambda s: len(s["best"])) if found else None
    programs = []
    if best is not None:
        seen = {}
        for s in found:
            if len(s["best"]) == len(best["best"]):
                for p in [tuple(s["best"])] + s["found"]:
                    seen.setdefault(tuple(p), None)
        programs = [game.to_program(p) for p in seen]
    return SearchResult(program=programs[0] if programs else None, length=len(programs[0]) if programs else None,
                        optimal=False, explored=stats.explored, elapsed=time.monotonic() - start,
                        candidates=programs,
                        extras={"chains": len(summaries), "steps_per_chain": steps, "warm_start": bool(options.init),
                                "start": start_from, "start_length": len(init), "polish": params.polish,
                                "alpha": params.alpha, "beta": params.beta, "gamma": params.gamma, **({"lost": lost} if lost else {})})


def _cold_start(game: Game, params: StochasticParams, start: float, report, should_stop) -> tuple[list[int], int]:
    """A correct start that owes nothing to a human kernel (or [] if none was found in
    time), and the programs explored to find it."""
    def phase(text):
        report(SearchStats(elapsed=time.monotonic() - start, explored=0, best_length=None, best_correct=0.0,
                           best_program=[], phase=text))

    if params.start == "enum":
        phase("enum start")
        return first_program(game, 2 * game.max_length, should_stop) or [], 0
    return beam.first(game, params.beam_k, params.beam_width, params.polish, should_stop, phase)


def _summary(chain: Chain) -> dict:
    return {"explored": chain.explored, "best": chain.best, "found": list(chain.found),
            "incomplete": chain.best_incomplete}


def _stats(game: Game, start: float, summaries: list[dict]) -> SearchStats:
    found = [s["best"] for s in summaries if s["best"] is not None]
    best = min(found, key=len) if found else None
    incomplete = max((s["incomplete"] for s in summaries), key=lambda t: t[0])
    return SearchStats(elapsed=time.monotonic() - start, explored=sum(s["explored"] for s in summaries),
                       best_length=len(best) if best else None,
                       best_correct=1.0 if best else incomplete[0],
                       best_program=list(game.to_program(best if best else incomplete[1]).instrs),
                       phase="%d chain%s" % (len(summaries), "s" if len(summaries) > 1 else ""))


def _run_workers(game, params, seeds, init, steps, target, start, report, should_stop, lost) -> list[dict]:
    latest = {w: {"explored": 0, "best": None, "found": [], "incomplete": (0.0, [])} for w in range(len(seeds))}
    before: dict[int, dict] = {}   # a restarted chain's predecessors: what they had found
    done = set()

    def restart(w):   # the replacement runs the same chain (same seed) from its start
        before[w] = latest[w]
        return [], "chain %d starts again from its seed (%d proposals to redo), keeping its best so far" % (
            w, latest[w]["explored"])

    with start_pool(_worker, [(game, params, seed, init, steps, target) for seed in seeds],
                    name="stochastic chain", restart=restart) as pool:
        while len(done) < len(seeds):
            if should_stop():
                pool.stop()
            got = pool.receive(timeout=0.2)
            if got is None:
                continue
            w, (kind, summary) = got
            latest[w] = _merged(summary, before.get(w))
            if kind == "done":
                done.add(w)
                if target is not None and summary["best"] is not None and len(summary["best"]) <= target:
                    pool.stop()
            report(_stats(game, start, list(latest.values())))
        lost.extend(pool.lost)
    return [latest[w] for w in range(len(seeds))]


def _merged(now: dict, before: dict | None) -> dict:
    """A chain's summary with what a lost run of the same chain had found, if that was better."""
    if before is None:
        return now
    better = before["best"] is not None and (now["best"] is None or len(before["best"]) < len(now["best"]))
    return dict(before if better else now, explored=now["explored"] + before["explored"])


def _worker(link, game, params, seed, init, steps, target):
    chain = Chain(game, params, seed, init)
    last = [0.0]

    def progress(c):
        if time.monotonic() - last[0] > 0.3:
            last[0] = time.monotonic()
            link.put(("progress", _summary(c)))

    chain.run(steps, link.stopped, progress, target)
    link.put(("done", _summary(chain)))

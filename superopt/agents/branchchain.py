"""`stochastic` on the branch game (variable sorts): AlphaDev-S's chain over branchy programs.

A program is a sequence of branch-game actions (instructions, jumps, label placements,
rets). A proposal inserts a random action, deletes one, replaces one or swaps two; it is
kept only if it is a whole program of the game without pruning (every read initialised on
every path, memory within each input's length, labels after their jumps, every input
returned; a ret may return inputs not yet sorted, so the chain can cross wrong programs),
and accepted with probability min(1, exp(-beta x cost increase)), cost = sqrt(misplaced
items) + alpha x instructions (AlphaDev-S's). It starts from `--init` (a varsort kernel:
warm) or from a lone `ret` (cold). The states of the unchanged prefix are reused.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from typing import ClassVar

from superopt.agents.base import SearchOptions, SearchResult, SearchStats
from superopt.agents.params import Params, number, param, positive
from superopt.errors import SuperoptError
from superopt.game.branches import BranchGame
from superopt.x86.isa import instruction_count

MOVES = ("insert", "delete", "replace", "swap")


@dataclass(frozen=True)
class BranchChainParams(Params):
    """`--param` keys of the stochastic agent on variable sorts."""
    agent: ClassVar[str] = "stochastic"
    uses: ClassVar[frozenset] = frozenset({"init", "steps"})
    alpha: float = param(0.4, number)          # cost per instruction
    beta: float = param(3.0, number)           # inverse temperature of acceptance
    steps: int = param(1_000_000, positive)    # proposals (--steps overrides)


def run(game: BranchGame, options: SearchOptions, report, should_stop) -> SearchResult:
    params = options.params
    steps = options.steps or params.steps
    rng = random.Random(options.seed)
    chain = game.unpruned(sorted_ret=False)
    if options.init is not None:
        current = game.encode(options.init)
        if current is None:
            raise SuperoptError("--init is outside the branch game (an instruction it lacks or a backward jump)")
    else:
        current = [chain.move_ids.ret]
    states = _play(chain, current, [chain.initial()])
    if states is None:
        raise SuperoptError("--init does not run as a whole program of the branch game (a read of a register "
                            "some path leaves unwritten, memory past a length, or an input that never returns)")

    def cost(state) -> float:
        return math.sqrt(state.total_items - state.correct_items) + params.alpha * state.length

    now, start = cost(states[-1]), time.monotonic()
    best = list(current) if states[-1].solved else None
    stats, accepted = SearchStats(phase="chain"), 0
    for step in range(1, steps + 1):
        proposal, first = _propose(rng, current, chain.num_actions)
        if proposal is None or len(proposal) > 2 * chain.max_length:
            continue
        tail = _play(chain, proposal[first:], states[: first + 1])
        if tail is None:
            continue
        new = cost(tail[-1])
        if new <= now or rng.random() < math.exp(-params.beta * (new - now)):
            current, states, now = proposal, tail, new
            accepted += 1
            if tail[-1].solved and (best is None or _count(chain, current) < _count(chain, best)):
                best = list(current)
                stats.best_length = _count(chain, best)
                stats.best_program = chain.to_program(best).instrs
        if step % 256 == 0:
            stats.elapsed, stats.explored = time.monotonic() - start, step
            report(stats)
            if should_stop():
                break
    program = None if best is None else chain.to_program(best)
    return SearchResult(program, None if program is None else instruction_count(program), False, step,
                        time.monotonic() - start, candidates=[] if program is None else [program],
                        extras={"accepted": accepted})


def _count(game: BranchGame, actions: list[int]) -> int:
    return instruction_count(game.to_program(actions))


def _propose(rng: random.Random, program: list[int], num_actions: int) -> tuple[list[int] | None, int]:
    """A changed copy and the first position it changed (None: no such move here)."""
    move = rng.choice(MOVES)
    n = len(program)
    if move == "insert":
        i = rng.randrange(n + 1)
        return program[:i] + [rng.randrange(num_actions)] + program[i:], i
    if n < 2:
        return None, 0
    if move == "delete":
        i = rng.randrange(n)
        return program[:i] + program[i + 1:], i
    if move == "replace":
        i = rng.randrange(n)
        return program[:i] + [rng.randrange(num_actions)] + program[i + 1:], i
    i, j = sorted(rng.sample(range(n), 2))
    out = list(program)
    out[i], out[j] = out[j], out[i]
    return out, i


def _play(game: BranchGame, actions: list[int], prefix: list) -> list | None:
    """prefix (the states before each unchanged action and after them) extended by `actions`
    if each is legal where it stands and the program ends with every input returned."""
    states = list(prefix)
    for a in actions:
        if a not in game.legal_actions(states[-1]):
            return None
        states.append(game.step(states[-1], a))
    last = states[-1]
    return states if last.active == 0 and all(p is None for p in last.pending) else None

"""`dispatch`: a variable sort as a dispatch on n into a dedicated straight-line sort per length.

The human varsortN's shape (asm/varsortN.s), searched. Where `splice` shares one network's
code between the lengths, here each length k = 2..N runs its own straight-line sortk kernel
ending in its own ret, and n = 0, 1 return at once. Why that shape is fast: with each call's
length drawn at random the length branches mispredict, and a shared tail puts more of them
on the paths (its `cmp $2; jl` first splits the likeliest outcome, n < 2, from the rest).

What is searched: (a) the dispatch, every decision tree of `cmp $c, %esi; jCC` tests that
separates n < 2, 2, ..., N, each test's sides in both layouts (jumped to or fallen into; a
test reuses the flags of the cmp before it where it can); (b) each length's body, from the
compiled sorting networks of that length (splice.networks) and the shipped straight-line
sortk kernels that fit the game's actions (asm/: the fixed-size searches' latency-optimised
sort3 and sort4 among them), keeping the `bodies` shortest dependency chains per length
(superopt.measure.cost, ties by length). Candidates are ordered by a model of their cycles
under the task's length distribution: MISPREDICT cycles for each branch times the smaller
probability of its two sides (a predictor that learns each branch's bias mispredicts that
often on random lengths; over a tree the sum is at least 1 - P(likeliest leaf), which a chain
that peels the rarer leaves off first reaches), plus, per length, its probability times its
body's chain and tests; for each of the `trees` cheapest trees, the cheapest body per
length, then each other body of one length at a time. Each of the KEEP first is played on the branch game over every
length and weak ordering and kept only if it solves it and is legal with no pruning rule,
so what it returns is proven. The shortest wins; `--objective latency` times them natively
(superopt.driver.rank_by_latency), which decides, since the model only orders the screen.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import ClassVar

from superopt.agents.base import SearchOptions, SearchResult, SearchStats
from superopt.agents.params import Params, param, positive
from superopt.agents.splice import compile_network, kernel_ids, networks
from superopt.errors import SuperoptError
from superopt.game.branches import JUMP_CONDS, PLACE, BranchGame
from superopt.measure.cost import cost_model
from superopt.x86.isa import instruction_count


@dataclass(frozen=True)
class DispatchParams(Params):
    """`--param` keys of the dispatch agent."""
    agent: ClassVar[str] = "dispatch"
    bodies: int = param(8, positive)    # straight-line kernels kept per length (shortest chains first)
    trees: int = param(64, positive)    # dispatch trees kept (the model's cheapest first)


KEEP = 512        # candidates played (the driver screens this many natively)
NETWORKS = 64     # networks compiled per length before the bodies are ranked
MISPREDICT = 13   # cycles a mispredicted length branch costs (measured: human varsort4, uniform vs fixed lengths)
SMALL = frozenset({0, 1})   # the lengths that return at once


def leaves(n: int) -> tuple:
    """The dispatch's outcomes: n < 2, then each length 2..N."""
    return (SMALL,) + tuple(frozenset({k}) for k in range(2, n + 1))


def tests(group: tuple, n: int) -> dict:
    """(fallen-into leaves, jumped-to leaves) -> the (c, cond) tests of `cmp $c, %esi; jcond`
    that split `group` so; a test that splits a leaf's lengths is not one."""
    holds = {"e": int.__eq__, "ne": int.__ne__, "l": int.__lt__, "le": int.__le__, "g": int.__gt__,
             "ge": int.__ge__}
    out: dict = {}
    for c in range(1, n + 1):
        for cond in JUMP_CONDS:
            taken = tuple(leaf for leaf in group if all(holds[cond](k, c) for k in leaf))
            fall = tuple(leaf for leaf in group if not any(holds[cond](k, c) for k in leaf))
            if taken and fall and len(taken) + len(fall) == len(group):
                out.setdefault((fall, taken), []).append((c, cond))
    return out


def trees(group: tuple, n: int, memo: dict | None = None) -> list:
    """Every decision tree over `group`: a leaf, or (tests, fallen-into subtree, jumped-to subtree)."""
    memo = {} if memo is None else memo
    if len(group) == 1:
        return [group[0]]
    if group not in memo:
        memo[group] = [(options, f, t) for (fall, taken), options in tests(group, n).items()
                       for f in trees(fall, n, memo) for t in trees(taken, n, memo)]
    return memo[group]


def tree_cost(tree, weights: tuple) -> tuple[float, dict]:
    """(expected mispredictions, tests on each leaf's path) of a tree under P(n) = weights."""
    if isinstance(tree, frozenset):
        return 0.0, {tree: 0}
    _, fall, taken = tree
    mass = [sum(weights[k] for leaf in _leaves_of(side) for k in leaf) for side in (fall, taken)]
    miss, depth = min(mass), {}
    for side in (fall, taken):
        m, d = tree_cost(side, weights)
        miss += m
        depth.update({leaf: v + 1 for leaf, v in d.items()})
    return miss, depth


def _leaves_of(tree) -> list:
    return [tree] if isinstance(tree, frozenset) else _leaves_of(tree[1]) + _leaves_of(tree[2])


class Dispatcher:
    """Dispatch programs of one varsortN game (fixed-game action ids, which are the branch game's too)."""

    def __init__(self, game: BranchGame):
        self.game = game
        self.check = game.unpruned()
        self.cmpi, self.jcc, self.place, self.ret = game.move_ids

    def program(self, tree, bodies: dict) -> list[int] | None:
        """The actions of `tree` with `bodies` (length -> action ids); None past the game's labels."""
        out: list[int] = []
        if not self._emit(tree, bodies, None, out, [0]):
            return None
        return out

    def _emit(self, tree, bodies, flags, out, labels) -> bool:
        if isinstance(tree, frozenset):
            out.extend(() if tree == SMALL else bodies[min(tree)])
            out.append(self.ret)
            return True
        options, fall, taken = tree
        c, cond = next(((c, cond) for c, cond in options if c == flags), options[0])
        label = labels[0]
        if label >= self.game.num_labels:
            return False
        labels[0] += 1
        if c != flags:
            out.append(self.cmpi[c])
        out.append(self.jcc[(label, cond)])
        if not self._emit(fall, bodies, c, out, labels):
            return False
        out.append(self.place[label])
        return self._emit(taken, bodies, c, out, labels)

    def proven(self, actions: list[int]) -> bool:
        """Solved on every length and weak ordering, and legal under the game's exact rules."""
        return self.game.play(actions).solved and self.check.is_legal_sequence(actions)

    def length(self, actions: list[int]) -> int:
        return sum(self.game.ops[a][0] != PLACE for a in actions)


def bodies(game: BranchGame, k: int, limit: int, stop) -> list[list[int]]:
    """Straight-line sortk kernels as fixed-game action ids (compiled networks, shipped
    kernels), the `limit` shortest dependency chains first (ties: fewer instructions)."""
    from superopt.examples import examples
    from superopt.x86.parser import load
    found = [compile_network(game, net) for net in itertools.islice(networks(k, 0, stop), NETWORKS)]
    for example in examples():
        if example.task == "sort%d" % k and example.name.endswith(".s"):
            try:
                found.append(kernel_ids(game, load(str(example.source))[0]))
            except SuperoptError:   # outside the game's actions (branches, arithmetic, another ISA)
                continue
    unique = list(dict.fromkeys(tuple(b) for b in found))
    chain = {b: cost_model([game.base.actions[a] for a in b]) for b in unique}
    return [list(b) for b in sorted(unique, key=lambda b: (chain[b], len(b)))[:limit]]


def candidates(game: BranchGame, params: DispatchParams, stop) -> list[tuple[float, object, dict]]:
    """(model cycles, tree, bodies) of the KEEP cheapest combinations under the task's lengths."""
    n = game.n
    weights = game.task.length_weights or (1.0 / (n + 1),) * (n + 1)
    pool = {k: bodies(game, k, params.bodies, stop) for k in range(2, n + 1)}
    chains = {k: [cost_model([game.base.actions[a] for a in b]) for b in pool[k]] for k in pool}
    scored = []
    for tree in trees(leaves(n), n):
        miss, depth = tree_cost(tree, weights)
        scored.append((MISPREDICT * miss + sum(sum(weights[k] for k in leaf) * d for leaf, d in depth.items()), tree))
    scored.sort(key=lambda st: st[0])
    # the cheapest body for every length, then one length's body varied at a time: the
    # trees, not body combinations, differ most (the model says bodies add, so the screen
    # sees each body beside the others' best)
    picks = [{k: 0 for k in pool}] + [{**{j: 0 for j in pool}, k: i} for k in pool for i in range(1, len(pool[k]))]
    out = []
    for cost, tree in scored[:params.trees]:
        for pick in picks:
            out.append((cost + sum(weights[k] * chains[k][i] for k, i in pick.items()), tree,
                        {k: pool[k][i] for k, i in pick.items()}))
    out.sort(key=lambda c: c[0])
    return out[:KEEP]


def run(game: BranchGame, options: SearchOptions, report, should_stop) -> SearchResult:
    start = time.monotonic()
    dispatcher = Dispatcher(game)
    stats = SearchStats(phase="dispatching")
    correct: list[list[int]] = []   # in the model's order, for --objective latency to screen
    tried = 0
    for _, tree, chosen in candidates(game, options.params, should_stop):
        if should_stop():
            break
        tried += 1
        actions = dispatcher.program(tree, chosen)
        if actions is None or not dispatcher.proven(actions):
            continue
        correct.append(actions)
        if stats.best_length is None or dispatcher.length(actions) < stats.best_length:
            stats.best_length = dispatcher.length(actions)
            stats.best_program = game.to_program(actions).instrs
        stats.elapsed, stats.explored = time.monotonic() - start, tried
        report(stats)
        target = options.target_length
        if target is not None and stats.best_length <= target:
            break
    best = min(correct, key=dispatcher.length, default=None)
    program = None if best is None else game.to_program(best)
    return SearchResult(program, None if program is None else instruction_count(program), False, tried,
                        time.monotonic() - start, candidates=[game.to_program(c) for c in correct],
                        extras={"dispatch programs tried": tried})

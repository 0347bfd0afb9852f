"""`enum` on the branch game (variable sorts): iterative deepening over deduplicated states.

Depth-first search under a bound on the instructions, raised by one from the lower bound
of the empty program until a program returns on every input with every input sorted. A
table keeps the fewest instructions each state (BranchGame.key) was reached with in the
current iteration. A child is cut when its instructions + a lower bound exceed the bound:
the fixed game's LowerBound (superopt.game.bounds) over the inputs that still have a wrong
slot (the others need no store on their path), plus one `ret`. That bound counts what straight-line
code needs; code that branches writes a value piecewise on different paths, so it is a
heuristic here, and with the per-path rules the first program found is the shortest the
search saw, not a proof of optimality (SearchResult.optimal stays False).
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import ClassVar

from superopt.agents.base import SearchOptions, SearchResult, SearchStats
from superopt.agents.params import Params
from superopt.game.bounds import LowerBound
from superopt.game.branches import BranchGame, BranchState

_POLL = 256   # expansions between stop checks and reports


@dataclass(frozen=True)
class BranchEnumParams(Params):
    """enum on the branch game has no `--param` keys."""
    agent: ClassVar[str] = "enum"
    uses: ClassVar[frozenset] = frozenset()


class _Restricted:
    """What LowerBound reads of a game, restricted to the inputs of mask U: the other
    inputs' fields hold rank 0 in every location and in the expected contents, so they
    count as done and the per-field arithmetic sees no empty field."""

    def __init__(self, game: BranchGame, U: int):
        ev = game.evaluator
        self.evaluator = copy.copy(ev)
        self.fill = lambda x: (x & U) | (ev.low & ~ev.full(x & U))
        self.evaluator.expected = tuple(self.fill(e) for e in ev.expected)
        self.registers, self.n, self.pruning, self.isa_name = game.registers, game.n, game.pruning, game.isa_name
        self.bound = LowerBound(self)
        # its cmp count assumes one path: on states that wait at labels under other flags it
        # over-counted (2 on the 21's own path where 1 remains); capped at 1 it stays below
        self.bound.max_cmps = 1
        self.U = U


class Heuristic:
    """lower(state): instructions still needed (see the module docstring), -1 if hopeless."""

    def __init__(self, game: BranchGame):
        self.game = game
        self._by_mask: dict[int, _Restricted] = {}

    def __call__(self, s: BranchState, budget: int | None = None) -> int:
        game, ev = self.game, self.game.evaluator
        live = game.everyone ^ s.done
        if live == 0:
            return 0
        R = len(game.registers)
        U = 0   # the inputs still to change: another input need not pass any store
        for x, e in zip(s.cpu[0][R:], ev.expected):
            U |= ev.full(x ^ e)
        U &= live
        if U == 0:
            return 1
        if len(self._by_mask) > 4096:
            self._by_mask.clear()
        r = self._by_mask.get(U)
        if r is None:
            r = self._by_mask[U] = _Restricted(game, U)
        streams = [p[1] for p in s.pending if p is not None] + ([s.rules] if s.active else [])
        last = min(rules[0] for rules in streams)
        loaded = streams[0][1]
        for rules in streams[1:]:
            loaded &= rules[1]
        locs, lt, gt = s.cpu
        flagged = s.flagged & U == U
        h = r.bound(tuple(r.fill(x) for x in locs), lt & U if flagged else None, gt & U if flagged else None,
                    last, loaded, None if budget is None else budget - 1, s.rules[4] if not s.pending else None)
        return -1 if h < 0 else h + 1


def run(game: BranchGame, options: SearchOptions, report, should_stop) -> SearchResult:
    start = time.monotonic()
    lower = Heuristic(game)
    stats = SearchStats()
    explored = deduplicated = 0
    root = game.initial()
    best: BranchState | None = None
    bound = game.max_length
    table: dict = {root.key: 0}
    stack = [root]
    while stack:
        node = stack.pop()
        if node.length + lower(node, bound - node.length) > bound:
            continue   # the bound fell since it was pushed
        explored += 1
        if explored % _POLL == 0:
            stats.elapsed, stats.explored, stats.deduplicated = time.monotonic() - start, explored, deduplicated
            report(stats)
            if should_stop():
                break
        children = []
        for a in game.legal_actions(node):
            child = game.step(node, a)
            if child.solved:
                if child.length <= bound:
                    best, bound = child, child.length - 1
                    stats.best_length, stats.best_program = best.length, game.to_program(best).instrs
                    if options.target_length is not None and best.length <= options.target_length:
                        stack = []
                continue
            seen = table.get(child.key)
            if seen is not None and seen <= child.length:
                deduplicated += 1
                continue
            table[child.key] = child.length
            h = lower(child, bound - child.length)
            if h < 0 or child.length + h > bound:
                continue
            children.append((h, child.length, child))
        children.sort(key=lambda c: (-c[0], -c[1]))   # depth first, the child nearest to done on top
        stack.extend(c for _, _, c in children)
    return _result(game, best, explored, deduplicated, start)


def _result(game: BranchGame, found: BranchState | None, explored: int, deduplicated: int,
            start: float) -> SearchResult:
    program = None if found is None else game.to_program(found)
    return SearchResult(program, None if found is None else found.length, False, explored,
                        time.monotonic() - start, deduplicated,
                        candidates=[] if program is None else [program])

"""Suffix re-synthesis with enum's search space: the shortest way on from a program's prefix.

`below` searches depth-first, under the lower bound, for a correct program that starts
with a given prefix; `shorten` re-synthesises ever shorter suffixes of a correct program
(the stochastic agent's polish), and `first_program` dives once for some correct program
(a cold start).
"""
from __future__ import annotations

from typing import Callable

from superopt.agents.enumerative import Enumerator
from superopt.game.bounds import LowerBound
from superopt.game.game import Game


def below(game: Game, prefix: list[int], bound: int, budget: int | None, stop: Callable[[], bool],
          lower: LowerBound | None = None) -> tuple[list[int] | None, bool, int]:
    """The first correct program of length <= bound that starts with `prefix` (depth-first
    under the lower bound), whether the search was complete ((None, True) proves there is
    none) and the programs explored; `budget` caps them, and `stop` ends the search early."""
    space = Enumerator(game, bound=lower)
    g = len(prefix)
    node = space.replay(prefix, bound - g)
    if node[0][space.R:] == space.E:   # already correct (a chain's program may end in dead code)
        return (list(prefix), True, 0) if g <= bound else (None, True, 0)
    if node[7] < 0 or g + node[7] > bound or g >= bound:
        return None, True, 0
    if budget is not None:
        space.stop = lambda: space.explored > budget or stop()
    else:
        space.stop = stop
    space.visit(node, g)
    if space.dfs(node, g, bound, list(prefix)):
        return list(space.solutions[0]), True, space.explored
    return None, not space.stopped, space.explored


def shorten(game: Game, program: list[int], budget: int, stop: Callable[[], bool],
            lower: LowerBound | None = None) -> tuple[list[int], int]:
    """Suffix re-synthesis: search below ever shorter prefixes of a correct `program`, the
    longest first, for a correct program one instruction shorter; start again from each one
    found. A pass ends at the first prefix whose search exhausts `budget` expansions
    (shorter prefixes leave more to search), so the cost is bounded and deterministic.
    This is how a stochastic 43 for sort5 became a 42: the last ten instructions were
    re-synthesised as nine. Returns the shortest program and the programs explored."""
    program, explored = list(program), 0
    lower = lower or LowerBound(game)
    k = len(program) - 1
    while k > 0 and not stop():
        found, complete, work = below(game, program[:k], len(program) - 1, budget, stop, lower)
        explored += work
        if found is not None:
            program = found
            k = len(program) - 1
        elif not complete:
            break
        else:
            k -= 1
    return program, explored


def first_program(game: Game, bound: int, stop: Callable[[], bool]) -> list[int] | None:
    """Some correct program of length <= bound, found by one depth-first dive under a loose
    bound (the most promising child first): a start for the stochastic search that owes
    nothing to a human kernel. Unlike the exact iterations it proves nothing."""
    return below(game, [], bound, None, stop)[0]

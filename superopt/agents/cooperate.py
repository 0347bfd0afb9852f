"""The agents cooperate: another searcher's program as the AlphaDev agent's first upper bound.

`--param init_bound=beam|enum|FILE` (agent alphadev): before self-play starts, the beam
(superopt.agents.beam, polished by enum's suffix re-synthesis; seconds on sort4), enum (its
first program is its shortest; about a minute on sort4, out of reach on sort5) or a kernel
file gives a correct program. It becomes the agent's best program, so the length bound of
its games starts there (the agent's bound_slack applies) and the search only looks for
shorter ones; the result says which searcher produced the program returned.
"""
from __future__ import annotations

import time
from typing import Callable

from superopt.agents import beam
from superopt.agents.base import SearchOptions
from superopt.agents.alphadev.params import SEARCHERS
from superopt.errors import InputError, SuperoptError
from superopt.game.game import Game

def upper_bound(game: Game, source: str, should_stop: Callable[[], bool]) -> tuple[list[int] | None, dict]:
    """A correct program of `game` as action ids from `source` (None if the searcher found
    none in time), and what it cost: {"source", "length", "seconds", "explored"}."""
    start = time.monotonic()
    explored = 0
    if game.kind == "branch":
        return _branch_bound(game, source), {"source": source, "length": None, "seconds": 0.0, "explored": 0}
    if source == "beam":
        actions, explored = beam.first(game, 1.5, 1000, 5000, should_stop)
        actions = actions or None
    elif source == "enum":
        from superopt.agents.enumerative import run as enum
        result = enum(game, SearchOptions(workers=1), lambda stats: None, should_stop)
        actions = game.program_actions(result.program, "enum", "init_bound: ") if result.program is not None else None
        explored = result.explored
    else:
        from superopt.x86.parser import parse_file
        actions = game.program_actions(parse_file(source), source, "init_bound: ")
        if not game.play(actions).solved:
            raise InputError("init_bound: the kernel does not sort every weak ordering", source)
    info = {"source": source, "length": len(actions) if actions else None,
            "seconds": round(time.monotonic() - start, 3), "explored": explored}
    return actions, info


def _branch_bound(game, source: str) -> list[int]:
    """A variable sort's kernel file as branch-game actions (labels and rets included)."""
    if source in SEARCHERS:
        raise SuperoptError("init_bound on %s takes a kernel file (beam and enum search sort tasks)" % game.task.name)
    from superopt.x86.parser import parse_file
    actions = game.encode(parse_file(source))
    if actions is None:
        raise InputError("init_bound: outside the branch game (an instruction it lacks or a backward jump)", source)
    if not game.play(actions).solved:
        raise InputError("init_bound: the kernel does not sort every length and weak ordering", source)
    return actions

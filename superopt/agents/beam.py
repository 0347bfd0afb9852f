"""Beam search over the assembly game under a progress measure: a cold start that owes nothing to a human kernel.

A sorting kernel makes progress by making inputs look alike: once two inputs leave the
same contents in every location that can still be read, no later instruction can tell
them apart. So the measure is the number of distinct rows (one per input, a row being
the contents of the readable locations) left by a prefix, with one register left out as
scratch (the smallest count over the choice); a sorted state has as few rows as the
outputs themselves. Ullrich and Hack (CGO 2025) cut A* nodes whose count exceeds k times
the best one; here each depth keeps the children within k times the layer's smallest
count (at most `width` of them), after `enum`'s own cuts, deduplication and lower bound.

It proves nothing and can end empty (every kept child cut by the bound): it is a fast way
to a correct, fairly short program, which the stochastic agent and the enum polish then
shorten. Measured (README): sort4's 28 at bound 28 in 1.4 s; sort5 at bound 46 a 45 in ~300 s.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from superopt.agents.enumerative import Enumerator
from superopt.agents.resynthesis import shorten
from superopt.game.game import Game


class RowCount:
    """The distinct-rows measure of a game's states."""

    def __init__(self, game: Game):
        self.pack, self.R, self.n = game.evaluator.pack, len(game.registers), game.n
        # a random 64-bit weight per location: a row's hash is the weighted sum of its codes
        self.weights = np.random.default_rng(0).integers(1, 2 ** 63, size=self.R + self.n, dtype=np.uint64)[:, None]

    def __call__(self, locs: tuple, loaded: int, stored: int) -> int:
        """Distinct rows over the registers but one and the slots not yet loaded, or stored."""
        values = (self.pack.unpack_many(locs) + 1).astype(np.uint64)   # (locations, inputs), 0 uninitialised
        dead = loaded & ~stored   # loaded and not yet rewritten: unreadable under memory_once
        for i in range(self.n):
            if dead >> i & 1:
                values[self.R + i] = 0
        terms = values * self.weights
        rows = terms.sum(axis=0)
        return min(len(np.unique(rows - terms[r])) for r in range(self.R))


def search(game: Game, bound: int, k: float, width: int, stop: Callable[[], bool]) -> tuple[list[int] | None, int]:
    """A correct program of length <= bound found by the beam, or None; and the programs explored."""
    space = Enumerator(game)
    lower, rows = space.bound_or_dead, RowCount(game)
    root = space.root()
    space.visit(root, 0)
    layer = [(root, [])]
    for g in range(bound):
        children = []
        for node, path in layer:
            if stop():
                return None, space.explored
            for a, child, solved, _ in space.children(node, g, bound, bounded=False):
                if solved:
                    return path + [a], space.explored
                children.append((rows(child[0], child[4], child[5]), len(children), child, path + [a]))
        children.sort(key=lambda c: c[:2])
        layer, best = [], None
        # the costly lower bound only for children the count keeps, fewest rows first
        for count, _, child, path in children:
            if best is not None and (count > k * best or len(layer) >= width):
                break
            locs, lt, gt, last, loaded, _, _, _, compared = child
            h = lower(locs, lt, gt, last, loaded, bound - g - 1, compared)
            if h < 0 or g + 1 + h > bound:
                continue
            best = count if best is None else best
            layer.append((child[:7] + (h, compared), path))
        if not layer:
            break
    return None, space.explored


def first(game: Game, k: float, width: int, polish: int, stop: Callable[[], bool],
          phase: Callable[[str], None] = lambda text: None) -> tuple[list[int], int]:
    """The beam's first correct program (or [] if none was found in time), polished by
    enum's suffix re-synthesis (`polish` expansions per prefix, 0: off), and the programs
    explored: the bound starts at the game's maximum length and grows by 2 while the beam
    ends empty."""
    explored = 0
    for bound in range(game.max_length, 2 * game.max_length + 1, 2):
        if stop():
            break
        phase("beam start, bound %d" % bound)
        program, work = search(game, bound, k, width, stop)
        explored += work
        if program is not None:
            if polish:
                phase("polishing the beam's %d" % len(program))
                program, work = shorten(game, program, polish, stop)
                explored += work
            return program, explored
    return [], explored

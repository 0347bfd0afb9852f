"""MCTS tree nodes: a state with its edge statistics as arrays over the action space; the Q range (MinMax)."""
from __future__ import annotations

import math

import numpy as np


class MinMax:
    """The range of Q values seen so far, which normalises Q into [0, 1] for pUCT (MuZero;
    Tree._pick applies it to the exploration term instead, the same argmax)."""

    def __init__(self):
        self.low, self.high = math.inf, -math.inf

    def update(self, q: float) -> None:
        self.low, self.high = min(self.low, q), max(self.high, q)


class Node:
    __slots__ = ("state", "legal", "mask", "explore", "terminal", "closed", "open", "prior", "value", "children", "visits",
                 "total", "value_sum", "best", "rewards", "shorter", "q", "push")

    def __init__(self, state, legal: np.ndarray, terminal: bool):
        self.state, self.legal, self.terminal = state, legal, terminal
        self.mask = np.where(legal, 0.0, -np.inf)  # added to scores: illegal actions never win
        self.total = 0                              # sum of visits
        self.explore = legal.astype(np.float64)     # 1 on open edges: closed ones get no exploration bonus
        self.open = int(legal.sum())                # edges whose subtree is not fully explored
        self.closed = False                         # every edge below leads to explored terminals
        self.prior: np.ndarray | None = None  # set on expansion
        self.value = 0.0                       # the evaluator's estimate (0 for terminal nodes)
        self.children: dict[int, Node] = {}
        n = len(legal)
        self.visits = np.zeros(n, dtype=np.int64)
        self.value_sum = np.zeros(n)
        self.best = np.full(n, -np.inf)
        self.rewards = np.zeros(n)
        self.shorter = None   # a shorter way here in other register names, until Tree.settle
        # kept up to date edge by edge, since pUCT reads them at every step of every walk:
        self.q = np.zeros(n)  # each edge's Q (Tree._edge_q) where visited, else this node's value
        self.push = None      # prior x explore: the exploration term's weights (once expanded)

    @property
    def expanded(self) -> bool:
        return self.prior is not None

    def reframe(self, state, amap: np.ndarray | None) -> None:
        """Take `state` as this node's program; its actions are the old ones through `amap`
        (None: the same names)."""
        self.state = state
        if amap is None:
            return
        for name in ("legal", "mask", "explore", "prior", "visits", "value_sum", "best", "rewards", "q", "push"):
            old = getattr(self, name)
            if old is not None:
                new = np.empty_like(old)
                new[amap] = old
                setattr(self, name, new)
        self.children = {int(amap[a]): child for a, child in self.children.items()}

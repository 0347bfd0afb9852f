"""The game protocol the AlphaDev agent plays: what its MCTS, actors, network and learner read.

Three games implement it: the assembly game of the fixed sorts (superopt.game.game.Game),
the branch game of the variable sorts (superopt.game.branchplay.BranchPlay) and the value
game of function tasks (superopt.game.valueplay.ValuePlay). A new game is one class with
these members; nothing in superopt.agents.alphadev names a game's own state.

States are immutable and carry `actions` (the action ids so far), `key` (equal keys: one
node of the search tree), `solved`, `correct_items` and `total_items`. `length(actions)`
is what the length bound and the result count: instructions, which need not be the number
of actions (the branch game's label placements are actions but no instructions, and `ret`
is not counted, as instruction_count does not). The sort games (array and branch) also
give the shaping potentials and the dead-state test (superopt.agents.alphadev.shaping)
`evaluator`, `registers`, `pruning`, `isa_name`, `n` and `paths(state)`: the groups of
inputs that go on together, each as (its mask of evaluator fields, its rule history).
"""
from __future__ import annotations

from typing import Hashable, Protocol, Sequence

import numpy as np

from superopt.tasks.base import Task
from superopt.x86.isa import Program


class PlayState(Protocol):
    actions: tuple
    key: Hashable
    solved: bool
    correct_items: int
    total_items: int


class Playable(Protocol):
    kind: str                 # "array", "branch" or "function": which agent code and checkpoints fit
    task: Task
    isa_name: str
    n: int
    actions: Sequence         # per action id: its instruction (or, in the branch game, the label it places)
    num_actions: int
    max_length: int           # the most instructions a game may grow to

    def initial(self) -> PlayState: ...

    def step(self, state: PlayState, action: int) -> PlayState: ...

    def legal_mask(self, state: PlayState) -> np.ndarray:
        """(num_actions,) bool: the moves legal in `state` (none once it is terminal)."""

    def is_terminal(self, state: PlayState) -> bool: ...

    def reward(self, parent: PlayState, child: PlayState) -> float:
        """The reward of the step parent -> child: the change in correct items, a bonus on
        solving, a cost per instruction."""

    def features(self, state: PlayState) -> np.ndarray:
        """(inputs, locations) small ints, the network's CPU-state encoder's input."""

    def length(self, actions: Sequence[int]) -> int: ...

    def to_program(self, state_or_actions) -> Program: ...

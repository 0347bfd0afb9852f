"""The branch game as the AlphaDev agent plays it: the game protocol (superopt.game.protocol)
over superopt.game.branches, for the variable sorts (varsort3..5).

The same actions, rules and states as the branch game's other searchers see, but for one
step: a move that leaves every array sorted (over every length and weak ordering, so a
solved game is a proof) ends the program there, `to_program` placing the labels still
pending and a `ret` after it (as the fixed game is solved by its last store: two moves on, with no
reward between, the search from scratch rarely reached the bonus). A game also ends when no
move is legal. Instructions are what the
length bound counts (instruction_count: label placements and `ret` are free), at most
`max_length`; past it only label placements and `ret` stay legal, so a program that has its
instructions can still end.

Rewards, as the fixed game's: `correct_weight` x the change in correctly placed items (over
every input, returned or not), `solved_bonus` on solving, minus `step_cost` per action: label
placements and `ret` cost too, though they count no instruction, since free moves looked
best to a search whose values are still zero (placing a label early, which merges inputs
that must stay apart, was its favourite move from scratch).

Features, per input (one row each), what the fixed game shows and what branches add: the
rank each register and array slot holds (-1 empty: a register this input's path never
wrote), the flags of its path (0 less, 1 equal, 2 greater, -1 none), its length n, and where
it is: 0 active (it reaches the next instruction), 1 returned, 2 + j waiting at label j.
The program so far (the network's other input) is the action sequence, labels placed and
jumps to them included.
"""
from __future__ import annotations

from typing import Hashable

import numpy as np

from superopt.game.branches import PLACE, RET, BranchGame, BranchState
from superopt.x86.isa import Program


class BranchPlay(BranchGame):
    def __init__(self, task, isa: str = "alphadev", max_length: int | None = None, pruning=None, registers=None,
                 labels: int | None = None, correct_weight: float = 1.0, solved_bonus: float = 1.0,
                 step_cost: float = 0.01):
        super().__init__(task, isa=isa, max_length=max_length, pruning=pruning, registers=registers, labels=labels)
        self.correct_weight, self.solved_bonus, self.step_cost = correct_weight, solved_bonus, step_cost
        self.counts = np.array([kind not in (PLACE, RET) for kind, _, _, _ in self.ops])   # an instruction?
        self.place = [a for a, (kind, _, _, _) in enumerate(self.ops) if kind == PLACE]
        self.ret = self.ops.index((RET, None, None, None))

    def step(self, state: BranchState, action: int) -> BranchState:
        child = super().step(state, action)
        child.solved = self.evaluator.solved(child.cpu[0])   # every array sorted: the end (to_program)
        return child

    def to_program(self, state_or_actions) -> Program:
        """The program, ended where every array is sorted: the labels still pending placed
        there, then `ret` (none when every input has returned already)."""
        actions = tuple(state_or_actions.actions if isinstance(state_or_actions, BranchState) else state_or_actions)
        end = self.play(actions)
        if end.solved and end.active | (self.everyone ^ end.done):
            actions += tuple(self.place[j] for j, p in enumerate(end.pending) if p is not None) + (self.ret,)
        return super().to_program(actions)

    def spec(self) -> dict:
        """What a worker process needs to build the same game (superopt.agents.alphadev.actor)."""
        return {"task": self.task, "isa": self.isa_name, "max_length": self.max_length,
                "pruning": sorted(self.pruning), "registers": self.registers, "labels": self.num_labels,
                "correct_weight": self.correct_weight, "solved_bonus": self.solved_bonus,
                "step_cost": self.step_cost}

    def key(self, s: BranchState) -> Hashable:
        """Equal keys: the same state in the same register names and label ids (returned
        inputs' fields left out), so that one tree node has one set of legal action ids. The
        branch game's own key also identifies renamings, which would need an action map
        between them (the fixed game's Game.action_map)."""
        live = self.everyone ^ s.done
        locs, lt, gt = s.cpu
        return (tuple(x & live for x in locs), lt & live, gt & live, s.flagged & live, s.active, s.pending,
                s.created, s.rules, s.last, self.skipped(s), s.dirty, s.by_length)

    def length(self, actions) -> int:
        return int(self.counts[list(actions)].sum()) if actions else 0

    def legal_mask(self, state: BranchState) -> np.ndarray:
        if state._legal is None:
            mask = np.zeros(self.num_actions, dtype=bool)
            if not state.solved:
                mask[self.legal_actions(state)] = True
                if self.length(state.actions) >= self.max_length:
                    mask &= ~self.counts
            state._legal = mask
        return state._legal

    def is_terminal(self, state: BranchState) -> bool:
        return state.solved or not self.legal_mask(state).any()

    def reward(self, parent: BranchState, child: BranchState) -> float:
        gain = self.correct_weight * (child.correct_items - parent.correct_items) / child.total_items
        bonus = self.solved_bonus if child.solved and not parent.solved else 0.0
        return gain + bonus - self.step_cost

    def paths(self, state: BranchState) -> list[tuple[int, tuple]]:
        """The active inputs under the rule history of their path, and those waiting at each
        label under the history they will resume with (returned inputs are final)."""
        groups = [(state.active, state.rules)] if state.active else []
        return groups + [p for p in state.pending if p is not None]

    def unsplittable(self, state: BranchState) -> bool:
        """Some inputs can never be parted though they must be. A group of inputs is in
        conflict when one has a wrong slot i and another has length <= i: the store slot i
        needs is illegal while the shorter input is active, a ret while the wrong one is,
        and merging at a label keeps the conflict. With every label used, the label placed
        last can be followed by no jump: dead when every pending label's group is in
        conflict, or, with none pending, the active inputs are."""
        if state.created < self.num_labels:
            return False
        groups = [p[0] for p in state.pending if p is not None] or [state.active]
        return all(self._conflict(m, state.cpu[0]) for m in groups)

    def _conflict(self, mask: int, locs: tuple) -> bool:
        ev, R = self.evaluator, len(self.registers)
        return any(mask & ~self.longer[i] and ev.full(x ^ e) & mask & self.longer[i]
                   for i, (x, e) in enumerate(zip(locs[R:], ev.expected)))

    def rows(self, mask: int) -> np.ndarray:
        """(inputs,) bool: the inputs whose field `mask` covers."""
        ev = self.evaluator
        w = ev.pack.width
        raw = mask.to_bytes((w * ev.count + 7) // 8 + 1, "little")
        bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little")
        return bits[: w * ev.count: w].astype(bool)

    def features(self, state: BranchState) -> np.ndarray:
        """(inputs, registers + slots + 3) int64 (the module docstring)."""
        ev = self.evaluator
        flags = np.where(self.rows(state.flagged), ev.flag_codes(state.cpu), -1)
        where = np.where(self.rows(state.done), 1, 0)
        for j, p in enumerate(state.pending):
            if p is not None:
                where = np.where(self.rows(p[0]), 2 + j, where)
        return np.concatenate([ev.ranks(state.cpu), flags[:, None], np.asarray(self.lengths)[:, None],
                               where[:, None]], axis=1)

"""The value game as the AlphaDev agent plays it: the game protocol (superopt.game.protocol:
actions, initial, step, legal_mask, is_terminal, reward, features, to_program) over a function task.

Actions: every instruction of the task's search space (superopt.game.space) over its
argument registers, %rax and `scratch` more, at the widths the task's types need (32 bits
for a task of 32-bit types and narrower: the 64-bit forms double the actions), the
immediates from the constant pool. A game appends one instruction at a time, at most
`max_length` (gcc -O2's length: a longer program is no result); the last one must write
%rax. A state holds the value evaluator's CPU state (superopt.game.values) on the whole
verification set of the ScalarGame, so `solved` means right on every edge, random and
recorded counterexample input (the agent still checks its programs in Unicorn and by SMT).

Rewards, as the sort game's: `correct_weight` x the change in the share of right result bits
over the inputs, `solved_bonus` on solving, minus `step_cost` per instruction. Features, for
the network's CPU-state encoder: the values as bits, on `feature_inputs` of the inputs
(edge values first): per input, every bit of each register's low `width` bits, of the
expected result, and the six flags, each 0 or 1 (the sort game's locations hold ranks).
"""
from __future__ import annotations

import numpy as np

from superopt.game.game import State
from superopt.game.scalar import ScalarGame
from superopt.game.space import Space
from superopt.game.values import ValueEvaluator
from superopt.x86 import semantics
from superopt.x86.backend import Unmodelled
from superopt.x86.compute import flag, register, step
from superopt.x86.cpu import available
from superopt.x86.isa import Program
from superopt.x86.semantics import FLAGS

FEATURE_INPUTS = 8


class ValuePlay:
    kind = "function"
    isa_name = "general"
    pruning = frozenset()

    def __init__(self, game: ScalarGame, scratch: int = 0, max_length: int | None = None,
                 correct_weight: float = 1.0, solved_bonus: float = 1.0, step_cost: float = 0.01):
        self.scalar, self.task = game, game.task
        self.n = game.n
        self.max_length = max_length or game.reference_length or game.max_length
        self.correct_weight, self.solved_bonus, self.step_cost = correct_weight, solved_bonus, step_cost
        space = Space(game.task, scratch, (), game.task.constants, available(), game.space.restrict)
        narrow = max(space.widths) if max(t.width for t in self._types()) > 32 else 32
        self.actions = [ins for ins in space.every() if (ins.width or 0) <= narrow]
        self.num_actions = len(self.actions)
        self.registers = space.registers
        self.writes_rax = np.array(["rax" in semantics.writes(i) for i in self.actions])
        self.inputs = game.args
        self.ev = ValueEvaluator(game.task, game.args, game.expected)
        self.be = self.ev.backend
        self.width = game.task.signature.ret.width
        self.total_items = len(game.args) * self.width
        k = min(FEATURE_INPUTS, len(game.args))
        self.shown = np.concatenate([np.arange(k // 2), game.special + np.arange(k - k // 2)]) % len(game.args)
        bits = np.arange(self.width, dtype=np.uint64)
        self._bits = bits
        self._expected_bits = ((game.expected[self.shown, None] >> bits) & np.uint64(1)).astype(np.int64)

    def _types(self):
        sig = self.task.signature
        return [p.type for p in sig.params] + [sig.ret]

    def _state(self, actions: tuple, cpu) -> State:
        if cpu is None:      # an instruction the model does not express: a dead end
            return State(actions, None, (), ("dead", actions), 0, self.total_items, False)
        right = self.total_items - int(np.minimum(self.ev.errors(cpu), self.width).sum())
        key = (b"".join(register(self.be, cpu, f).tobytes() for f in self.registers)
               + np.packbits(np.concatenate([flag(self.be, cpu.flags, f) for f in FLAGS])).tobytes())
        return State(actions, cpu, (), key, right, self.total_items, right == self.total_items)

    def initial(self) -> State:
        return self._state((), self.ev.initial())

    def step(self, state: State, action: int) -> State:
        try:
            cpu = step(self.be, state.cpu, self.actions[action]) if state.cpu is not None else None
        except Unmodelled:
            cpu = None
        return self._state(state.actions + (action,), cpu)

    def legal_mask(self, state: State) -> np.ndarray:
        if state._legal is None:
            left = self.max_length - len(state.actions)
            if state.solved or state.cpu is None or left <= 0:
                state._legal = np.zeros(self.num_actions, dtype=bool)
            else:
                state._legal = self.writes_rax.copy() if left == 1 else np.ones(self.num_actions, dtype=bool)
        return state._legal

    def is_terminal(self, state: State) -> bool:
        return state.solved or not self.legal_mask(state).any()

    def reward(self, parent: State, child: State) -> float:
        gain = self.correct_weight * (child.correct_items - parent.correct_items) / child.total_items
        bonus = self.solved_bonus if child.solved and not parent.solved else 0.0
        return gain + bonus - self.step_cost

    def features(self, state: State) -> np.ndarray:
        """(inputs shown, locations) 0/1: each register's bits, the expected result's, the flags."""
        lanes = self.shown
        if state.cpu is None:
            return np.zeros((len(lanes), (len(self.registers) + 1) * self.width + len(FLAGS)), dtype=np.int64)
        regs = [((register(self.be, state.cpu, f)[lanes, None] >> self._bits) & np.uint64(1)).astype(np.int64)
                for f in self.registers]
        flags = [np.asarray(flag(self.be, state.cpu.flags, f))[lanes, None].astype(np.int64) for f in FLAGS]
        return np.concatenate(regs + [self._expected_bits] + flags, axis=1)

    def length(self, actions) -> int:
        return len(actions)

    def to_program(self, state_or_actions) -> Program:
        actions = state_or_actions.actions if isinstance(state_or_actions, State) else state_or_actions
        return Program([self.actions[a] for a in actions], name=self.task.name)

"""The assembly game (AlphaDev): append one instruction at a time to a sorting kernel.

The state is the program so far plus the CPU state it leaves on every test input, kept by
the data-parallel evaluator (superopt.evaluator). This module holds the action space
(instruction-set descriptions), AlphaDev's action-pruning rules, rewards and the State.

Instruction sets (the action space decides what "optimal" means, so every report names it):
- `alphadev`: mov between registers and array slots, cmp register-register,
  cmovl/cmovg/cmovle/cmovge register-register (the paper's set for fixed sorts);
- `extended`: also cmp and cmovCC with an array slot as the source operand, so the array
  can be re-read (known to allow 15-instruction signed sort3 kernels).
Neither has a memory destination for cmp/cmov (AlphaDev's rule 3 is built in).

Pruning rules (each can be switched off; names are what `--no-prune` takes):
- memory_order: array slots are loaded (mov reg <- slot) in non-decreasing slot order;
- register_order: a fresh register is always the lowest-numbered unused one;
- memory_once: each slot is loaded at most once and stored at most once;
- no_double_cmp: no two consecutive cmp;
- no_noop: no action that leaves the CPU state unchanged on every input (a cmp that leaves
  the last cmp's flags with its operands swapped counts: the state is the same, see Game._key);
- compared_select: a cmov's result equals, on every input, one of the two values the last
  cmp compared (as they were when compared). Not one of AlphaDev's rules, and unlike them
  a heuristic cut (after Ullrich & Hack, CGO 2025, who cut sorting-kernel search with cuts
  that need not keep optimality): it keeps cmov to compare-and-select and drops the selects
  that mix in a third value. On by default from sort4 up (default_pruning): there `enum`
  reaches the 28 only with it, and the 28-instruction network obeys it. Off for sort3, which
  needs no cut, and whose fastest 17s select a value the last cmp did not compare (the
  fastest 17 the rule allows is 1.28x slower in latency mode, measured).
Memory rules concern mov loads and stores; the memory source operands of the extended set
are free (re-reading the array is their point). Reading an uninitialised register, or a
cmov before any cmp, is never legal: the result would depend on undefined values.
"""
from __future__ import annotations

from typing import Hashable, Iterable

import numpy as np

from superopt.x86 import semantics
from superopt.x86.isa import FAMILIES, Instr, Mem, Program, Reg
from superopt.errors import InputError, SuperoptError
from superopt.game.evaluator import CMOV, CMP, MOV, Evaluator, dense_ranks
from superopt.tasks.base import Task

ISAS = {
    "alphadev": "mov reg/slot, cmp reg-reg, cmovl/cmovg/cmovle/cmovge reg-reg (AlphaDev's fixed-sort set)",
    "extended": "alphadev + cmp and cmovCC with an array slot as source (re-reading the array)",
}
RULES = ("memory_order", "register_order", "memory_once", "no_double_cmp", "no_noop", "compared_select")
CMOV_CONDS = ("l", "g", "le", "ge")
HEURISTIC_FROM = 4   # compared_select is on by default for sortN with N >= this
_SWAPPED = {"l": "g", "g": "l", "le": "ge", "ge": "le"}   # the same select after cmp with swapped operands
# Caller-saved registers other than %rdi (the array pointer), in allocation order.
REGISTER_ORDER = ("rax", "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11")
# Comparators of the best known sorting networks: the human benchmark is
# 2n loads/stores + 4 instructions per comparator.
_COMPARATORS = {2: 1, 3: 3, 4: 5, 5: 9, 6: 12, 7: 16, 8: 19}


def default_pruning(n: int) -> tuple[str, ...]:
    """The pruning rules on by default for sortN (see the module docstring)."""
    return RULES if n >= HEURISTIC_FROM else tuple(r for r in RULES if r != "compared_select")


def human_length(n: int) -> int:
    """Length of the human benchmark kernel for sortN (18 for sort3, 28 sort4, 46 sort5)."""
    return 2 * n + 4 * _COMPARATORS[n]


class State:
    """A node of the game. Immutable: Game.step returns new states.

    `cpu` is the evaluator's CPU state, `rules` the history the pruning rules need
    (last slot loaded, slots loaded, slots stored, whether the last action was a cmp, the
    two contents the last cmp compared or None)."""
    __slots__ = ("actions", "cpu", "rules", "key", "correct_items", "total_items", "solved", "_legal")

    def __init__(self, actions: tuple, cpu: tuple, rules: tuple, key: Hashable,
                 correct_items: int, total_items: int, solved: bool):
        self.actions, self.cpu, self.rules, self.key = actions, cpu, rules, key
        self.correct_items, self.total_items, self.solved = correct_items, total_items, solved
        self._legal = None

    def __len__(self) -> int:
        return len(self.actions)

    def __repr__(self) -> str:
        return "State(len=%d, correct=%d/%d)" % (len(self.actions), self.correct_items, self.total_items)


class Game:
    """The assembly game for a fixed-size sort task.

    inputs: the test inputs (int32 arrays of shape (count, n)); by default the task's
    proof inputs (every weak ordering), which make "solved" a proof of correctness.
    registers: register families to use, in allocation order (default the first n+1 of
    REGISTER_ORDER). Rewards: `correct_weight` x (change in correctly placed items / all
    items), `solved_bonus` on reaching a correct program, minus `step_cost` per instruction.
    It is one of the games the AlphaDev agent plays (superopt.game.protocol).
    """
    kind = "array"

    def __init__(self, task: Task, isa: str = "alphadev", max_length: int | None = None,
                 pruning: Iterable[str] | None = None, inputs=None, registers: Iterable[str] | None = None,
                 correct_weight: float = 1.0, solved_bonus: float = 1.0, step_cost: float = 0.01):
        if task.variable:
            raise SuperoptError("task %s needs branches; the assembly game supports fixed-size sorts (sort3..sort8)"
                                % task.name)
        if isa not in ISAS:
            raise SuperoptError("unknown instruction set %r (known: %s)" % (isa, ", ".join(ISAS)))
        self.pruning = frozenset(default_pruning(task.n) if pruning is None else pruning)
        unknown = self.pruning - set(RULES)
        if unknown:
            raise SuperoptError("unknown pruning rule %s (known: %s)" % (", ".join(sorted(unknown)), ", ".join(RULES)))
        self.task, self.isa_name, self.n = task, isa, task.n
        self.registers = tuple(registers) if registers is not None else REGISTER_ORDER[: min(task.n + 1, 8)]
        bad = [r for r in self.registers if r not in FAMILIES]
        if bad or "rdi" in self.registers or len(set(self.registers)) != len(self.registers):
            raise SuperoptError("registers must be distinct general registers other than rdi: %s"
                                % ", ".join(self.registers))
        self.max_length = max_length if max_length is not None else human_length(task.n)
        arrays = task.proof_inputs()[0] if inputs is None else (inputs[0] if isinstance(inputs, tuple) else inputs)
        self.inputs = np.asarray(arrays, dtype=np.int32)
        self.evaluator = Evaluator(dense_ranks(self.inputs), len(self.registers))
        self.num_inputs = self.evaluator.count
        self.correct_weight, self.solved_bonus, self.step_cost = correct_weight, solved_bonus, step_cost
        self.actions: list[Instr] = []
        self.ops: list[tuple] = []         # evaluator action per action id
        self._build_actions()
        self.num_actions = len(self.actions)
        self._ids = {ins: i for i, ins in enumerate(self.actions)}
        self._op_ids = {op: i for i, op in enumerate(self.ops)}
        self._maps: dict = {}   # register pairing -> action map (action_map)
        self.num_locations = len(self.registers) + self.n + 1   # registers, slots, flags

    # -- action space ------------------------------------------------------------------
    def _build_actions(self) -> None:
        R, n = len(self.registers), self.n
        reg = [Reg(f, 32) for f in self.registers]
        mem = [Mem(32, "rdi", disp=4 * i) for i in range(n)]
        loc = reg + mem

        def add(op, d, s, cond=None):
            self.actions.append(Instr(op, (loc[d], loc[s]), cond=cond, width=32))
            self.ops.append((MOV if op == "mov" else CMP if op == "cmp" else CMOV, d, s, cond))

        for r in range(R):
            for i in range(n):
                add("mov", r, R + i)          # load
        for i in range(n):
            for r in range(R):
                add("mov", R + i, r)          # store
        pairs = [(a, b) for a in range(R) for b in range(R) if a != b]
        for a, b in pairs:
            add("mov", a, b)
        for a, b in pairs:
            add("cmp", a, b)
        for cond in CMOV_CONDS:
            for a, b in pairs:
                add("cmov", a, b, cond)
        if self.isa_name == "extended":
            for r in range(R):
                for i in range(n):
                    add("cmp", r, R + i)
            for cond in CMOV_CONDS:
                for r in range(R):
                    for i in range(n):
                        add("cmov", r, R + i, cond)
        # Per action: array slot loaded / stored (or -1), for the memory rules.
        self.load_slot = [s - R if k == MOV and d < R <= s else -1 for k, d, s, _ in self.ops]
        self.store_slot = [d - R if k == MOV and d >= R else -1 for k, d, s, _ in self.ops]
        # Per action: the locations it reads and writes, as bit masks (bit i for location i,
        # the flags last), from the semantics table (a cmov reads its destination too).
        self.reads_mask = [self._locations(semantics.reads(ins), semantics.loads(ins)) for ins in self.actions]
        self.writes_mask = [self._locations(semantics.writes(ins), semantics.stores(ins)) for ins in self.actions]

    def _locations(self, families: set[str], mems: list[Mem]) -> int:
        R = len(self.registers)
        mask = sum(1 << i for i, f in enumerate(self.registers) if f in families)
        mask |= sum(1 << (R + m.disp // 4) for m in mems)
        return mask | (1 << (R + self.n) if "flags" in families else 0)

    def action_id(self, ins: Instr) -> int | None:
        """The action id of an instruction, or None when it is not in this action space."""
        return self._ids.get(ins)

    def program_actions(self, program: Program, source: str | None = None, what: str = "") -> list[int]:
        """A program as action ids (a trailing ret dropped); an InputError with the file
        (`source`, else the program's own) and line of the first instruction outside this
        action space, its reason prefixed by `what` (who asked, e.g. "init_bound: ")."""
        out = []
        for k, ins in enumerate(program.instrs):
            if ins.op == "ret" and k == len(program.instrs) - 1:
                continue
            action = self.action_id(ins)
            if action is None:
                line = program.lines[k] if k < len(program.lines) else None
                raise InputError("%sinstruction not in the %s action space of %s" % (what, self.isa_name, self.task.name),
                                 source or program.path, line, ins.att())
            out.append(action)
        return out

    # -- rules ---------------------------------------------------------------------------
    def legal_actions(self, cpu: tuple, rules: tuple) -> list[int]:
        """Action ids legal after a program that left `cpu` with rule history `rules`."""
        locs, lt, gt = cpu
        R = len(self.registers)
        last_loaded, loaded, stored, last_cmp, compared = rules
        p = self.pruning
        register_order, memory_order = "register_order" in p, "memory_order" in p
        memory_once, noop = "memory_once" in p, "no_noop" in p
        select = compared if "compared_select" in p else None
        cmp_ok = not ("no_double_cmp" in p and last_cmp)
        lowest_free = next((r for r in range(R) if locs[r] == 0), -1)
        ev = self.evaluator
        if lt is not None:
            masks = {c: ev.cond_mask(lt, gt, c) for c in CMOV_CONDS}
        out = []
        for a, (kind, d, s, cond), load, store in zip(range(len(self.ops)), self.ops, self.load_slot, self.store_slot):
            src = locs[s]
            if src == 0:
                continue
            dst = locs[d]
            if kind == MOV:
                if d < R and dst == 0 and register_order and d != lowest_free:
                    continue
                if load >= 0:
                    if (memory_order and load < last_loaded) or (memory_once and loaded >> load & 1):
                        continue
                elif memory_once and store >= 0 and stored >> store & 1:
                    continue
                if noop and dst == src:
                    continue
            elif kind == CMP:
                if dst == 0 or not cmp_ok:
                    continue
                # the same flags again, or the same with the operands swapped: the same state
                if noop and lt is not None and ev.compare(dst, src) in ((lt, gt), (gt, lt)):
                    continue
            else:
                if lt is None or dst == 0:
                    continue
                mask = masks[cond]
                if noop and (dst ^ src) & mask == 0:
                    continue
                if select is not None:
                    new = dst ^ ((dst ^ src) & mask)
                    if not ev.one_of(new, *select):
                        continue
            out.append(a)
        return out

    def advance_rules(self, rules: tuple, action: int, locs: tuple) -> tuple:
        """The rule history after `action` on a state whose locations were `locs`."""
        last_loaded, loaded, stored, _, compared = rules
        kind, d, s, _ = self.ops[action]
        if kind == CMP and "compared_select" in self.pruning:
            compared = (locs[d], locs[s]) if locs[d] <= locs[s] else (locs[s], locs[d])
        slot = self.load_slot[action]
        if slot >= 0:
            last_loaded, loaded = slot, loaded | 1 << slot
        slot = self.store_slot[action]
        if slot >= 0:
            stored |= 1 << slot
        return (last_loaded, loaded, stored, kind == CMP, compared)

    def _key(self, cpu: tuple, rules: tuple) -> Hashable:
        """Equal keys: the same CPU state on every input up to a renaming of the registers
        and the order of the last cmp's operands (`cmp a, b` then cmovl is `cmp b, a` then
        cmovg), and the same legal futures, renamed alike (see action_map)."""
        p = self.pruning
        locs, lt, gt = cpu
        R = len(self.registers)
        flags = (lt, gt) if lt is None or lt <= gt else (gt, lt)
        return (locs[R:], tuple(sorted(locs[:R])), flags,
                rules[0] if "memory_order" in p else None,
                rules[1:3] if "memory_once" in p else None,
                rules[3] if "no_double_cmp" in p else None,
                rules[4] if "compared_select" in p else None)

    def action_map(self, src: State, dst: State) -> np.ndarray | None:
        """For two states with one key: `m` with action `a` on `src` doing what `m[a]` does on
        `dst` (same content and legal on both), or None when their registers and flags match
        as they are. Registers are paired by content, equal contents (the free ones among
        them) in order, so the lowest free register pairs with the lowest and register_order
        maps too; swapped flags swap the cmov conditions l/g and le/ge."""
        R = len(self.registers)
        a, b = src.cpu[0][:R], dst.cpu[0][:R]
        flip = src.cpu[1] != dst.cpu[1]
        if a == b and not flip:
            return None
        order_a = sorted(range(R), key=lambda i: (a[i], i))
        order_b = sorted(range(R), key=lambda i: (b[i], i))
        sigma = [0] * R
        for i, j in zip(order_a, order_b):
            sigma[i] = j
        sigma = tuple(sigma)
        m = self._maps.get((sigma, flip))
        if m is None:
            loc = list(sigma) + list(range(R, R + self.n))
            m = self._maps[sigma, flip] = np.array([self._op_ids[(k, loc[d], loc[s], _SWAPPED.get(c, c) if flip else c)]
                                                    for k, d, s, c in self.ops])
        return m

    # -- the game interface --------------------------------------------------------------
    def initial(self) -> State:
        return self._state((), self.evaluator.initial(), (-1, 0, 0, False, None))

    def _state(self, actions: tuple, cpu: tuple, rules: tuple) -> State:
        ev = self.evaluator
        locs = cpu[0]
        return State(actions, cpu, rules, self._key(cpu, rules), ev.correct_items(locs), ev.total_items,
                     ev.solved(locs))

    def step(self, state: State, action: int) -> State:
        cpu = self.evaluator.step(state.cpu, self.ops[action])
        return self._state(state.actions + (action,), cpu, self.advance_rules(state.rules, action, state.cpu[0]))

    def legal_mask(self, state: State) -> np.ndarray:
        if state._legal is None:
            mask = np.zeros(self.num_actions, dtype=bool)
            if len(state.actions) < self.max_length and not state.solved:
                mask[self.legal_actions(state.cpu, state.rules)] = True
            state._legal = mask
        return state._legal

    def is_terminal(self, state: State) -> bool:
        return state.solved or len(state.actions) >= self.max_length or not self.legal_mask(state).any()

    def reward(self, parent: State, child: State) -> float:
        gain = self.correct_weight * (child.correct_items - parent.correct_items) / child.total_items
        bonus = self.solved_bonus if child.solved and not parent.solved else 0.0
        return gain + bonus - self.step_cost

    def features(self, state: State) -> np.ndarray:
        """(num_inputs, num_locations) int64: the rank each register and array slot holds on
        each input (-1 uninitialised), then the flags (0 less, 1 equal, 2 greater, -1 none)."""
        ev = self.evaluator
        return np.concatenate([ev.ranks(state.cpu), ev.flag_codes(state.cpu)[:, None]], axis=1)

    def to_program(self, state_or_actions) -> Program:
        actions = state_or_actions.actions if isinstance(state_or_actions, State) else state_or_actions
        return Program([self.actions[a] for a in actions], task=self.task.name)

    def length(self, actions) -> int:
        """Instructions: one per action."""
        return len(actions)

    def paths(self, state: State) -> list[tuple[int, tuple]]:
        """Every input goes on together, under the one rule history (superopt.game.protocol)."""
        return [(self.evaluator.content, state.rules)]

    def play(self, actions: Iterable[int]) -> State:
        """The state after a whole action sequence (rules not checked)."""
        state = self.initial()
        for a in actions:
            state = self.step(state, a)
        return state

    def is_legal_sequence(self, actions: Iterable[int]) -> bool:
        """Whether each action is legal where it stands under this game's rules."""
        state = self.initial()
        for a in actions:
            if a not in self.legal_actions(state.cpu, state.rules):
                return False
            state = self.step(state, a)
        return True

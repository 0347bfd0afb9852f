"""The branch game: the assembly game with jumps, for the variable sorts (varsort3..5).

A program is a sequence of instructions with labels, run per input along its own path. The
state is one packed CPU state (superopt.game.evaluator's layout: a field per input) plus
masks over the inputs: `active` (those that reach the next instruction), one mask per
pending label (inputs that jumped there and wait, their fields frozen) and `done` (those
that returned). Every write is masked by `active`, so an input's fields only change on
its own path; a jcc moves the inputs its condition holds for from `active` to its label's
mask, placing a label adds its mask back, `ret` moves `active` to `done`.

Actions: the fixed-size game's data actions (mov, cmp, cmovCC over the same registers and
slots, superopt.game.game), `cmp $k, %esi` (k = 1..n: the length is in %esi), jCC to a
label (e, ne, l, le, g, ge), jmp, placing a label (not an instruction) and ret. Jumps go
forward only: a label is placed after the jumps to it, and a program ends when every
input has returned, so a loop or a jump past the end cannot be written.

Rules (exact: no correct program needs what they remove):
- a load or store of slot i only when every active input has length > i (the contract);
- reads of registers and flags only where every active input has them;
- `ret` only when every active input is sorted (a returned input can never be fixed;
  `sorted_ret=False` drops this one, for chains that cross wrong programs);
- no jump to the next instruction, no two labels in a row (one would do), no code where no
  input arrives (after jmp or ret only a label), no jcc that takes none or all of the
  active inputs (a no-op or a jmp), no cmp $k that leaves one relation for every input;
- no jmp right after a label (the jumps to it could go to the jmp's target: one label
  fewer, no instruction more), no label L right after `jcc L; jmp M` (`j!cc M` does it);
plus the fixed game's rules (game.RULES) with their history kept per path and merged
where paths meet (slots loaded or stored on either count; the last slot loaded is the
later one): canonical orders, not proofs of optimality, when paths part and meet.
"""
from __future__ import annotations

from typing import Hashable, Iterable, NamedTuple

import numpy as np

from superopt.errors import SuperoptError
from superopt.game.evaluator import CMOV, CMP, MOV, Evaluator, dense_ranks
from superopt.game.game import REGISTER_ORDER, RULES, Game, default_pruning
from superopt.tasks.base import Task
from superopt.tasks.registry import get_task
from superopt.x86.isa import Imm, Instr, Label, Program, Reg

CMPI, JCC, JMP, PLACE, RET = 3, 4, 5, 6, 7   # branch action kinds, after the evaluator's MOV, CMP, CMOV
JUMP_CONDS = ("e", "ne", "l", "le", "g", "ge")
LENGTH = Reg("rsi", 32)
# Scratch registers: the fixed game's order without %rsi, which holds the length.
BRANCH_REGISTERS = tuple(r for r in REGISTER_ORDER if r != "rsi")
# The branch game's own switchable rules (beside game.RULES), on by default:
# no_dead_write: no write over a value written on this path and never read (exact: dropping
#   the first write gives a shorter program doing the same);
# length_branches: jcc only on the flags of `cmp $k, %esi` (a heuristic cut: sorts that
#   branch on the data, as insertion sort does, are left out).
BRANCH_RULES = ("no_dead_write", "length_branches")


class MoveIds(NamedTuple):
    """The action ids of the branch game's own moves, for agents that build programs from
    parts: `cmp $k, %esi` by k, jCC by (label, condition), placing label j by j, and ret."""
    cmpi: dict
    jcc: dict
    place: dict
    ret: int


class BranchState:
    """A node of the branch game (immutable). `pending`: per label id, (mask, rules) or None
    (not yet jumped to, or placed); `created`: labels jumped to so far; `last`: ("jump", label)
    or ("place", label) after a jump or a label, else None; `length`: instructions so far;
    `dirty`: the locations (game.Game's bit masks) written on this path since the last jump
    or label and not read since; `by_length`: the flags come from `cmp $k, %esi`."""
    __slots__ = ("actions", "cpu", "flagged", "active", "pending", "created", "done", "rules", "last", "length",
                 "dirty", "by_length", "key", "correct_items", "total_items", "solved", "_legal")

    def __init__(self, actions, cpu, flagged, active, pending, created, done, rules, last, length, dirty,
                 by_length, game):
        self.actions, self.cpu, self.flagged, self.active = actions, cpu, flagged, active
        self.pending, self.created, self.done = pending, created, done
        self.rules, self.last, self.length = rules, last, length
        self.dirty, self.by_length = dirty, by_length
        self.total_items = game.evaluator.total_items
        self.correct_items = game.evaluator.correct_items(cpu[0])
        self.solved = active == 0 and done == game.everyone and game.evaluator.solved(cpu[0])
        self.key = game.key(self)
        self._legal = None

    def __len__(self) -> int:
        return self.length

    def __repr__(self) -> str:
        return "BranchState(len=%d, correct=%d/%d)" % (self.length, self.correct_items, self.total_items)


class BranchGame:
    """The branch game for a variable sort task (see the module docstring).

    labels: the most labels a program may use (default n). `actions[a]` is the instruction of
    action a, or the Label it places. Its searchers (superopt.agents: splice, enum, stochastic)
    call legal_actions, step and play; the AlphaDev agent plays its subclass with rewards and
    features (superopt.game.branchplay)."""
    kind = "branch"

    def __init__(self, task: Task | str, isa: str = "alphadev", max_length: int | None = None,
                 pruning: Iterable[str] | None = None, registers: Iterable[str] | None = None,
                 labels: int | None = None, sorted_ret: bool = True):
        task = get_task(task)
        self.sorted_ret = sorted_ret   # False: ret returns inputs not yet sorted too (for chains over wrong programs)
        if not task.variable:
            raise SuperoptError("the branch game is for variable sorts (varsort3..varsort5), not %s" % task.name)
        n = self.n = task.n
        self.task, self.isa_name = task, isa
        self.registers = tuple(registers) if registers is not None else BRANCH_REGISTERS[: n + 1]
        if "rsi" in self.registers:
            raise SuperoptError("%rsi holds the length in a variable sort: it cannot be a scratch register")
        self.default_rules = default_rules(n)
        self.pruning = frozenset(self.default_rules if pruning is None else pruning)
        unknown = self.pruning - set(RULES + BRANCH_RULES)
        if unknown:
            raise SuperoptError("unknown pruning rule %s (known: %s)"
                                % (", ".join(sorted(unknown)), ", ".join(RULES + BRANCH_RULES)))
        # the data actions and their per-action facts come from the fixed-size game
        self.base = Game(get_task("sort%d" % n), isa=isa, pruning=self.pruning & set(RULES), registers=self.registers,
                         inputs=np.zeros((1, n), dtype=np.int32))
        self.default_max_length = 3 * self.base.max_length // 2
        self.max_length = max_length if max_length is not None else self.default_max_length
        self.num_labels = labels if labels is not None else n
        arrays, lengths = task.proof_inputs()
        self.inputs, self.lengths = arrays, lengths
        ranks = dense_ranks(arrays)
        self.evaluator = ev = Evaluator(ranks, len(self.registers))
        for row, k in enumerate(lengths):    # the expected ranks: the prefix sorted, the rest kept
            ranks[row, :k] = np.sort(ranks[row, :k])
        ev.expected = tuple(ev.pack.pack(col) for col in ranks.T)
        self.num_inputs = ev.count
        w, content = ev.pack.width, (1 << n) - 1
        self.mask_of = lambda rows: sum(content << (w * int(r)) for r in np.nonzero(rows)[0])
        self.everyone = ev.content
        self.longer = [self.mask_of(lengths > i) for i in range(n)]      # may touch slot i
        self._length_masks: dict = {}   # lengths -> the mask of their inputs (sorted_on)
        self.cmpi = {k: (self.mask_of(lengths < k), self.mask_of(lengths > k)) for k in range(1, n + 1)}
        self._build_actions()

    def _build_actions(self) -> None:
        base = self.base
        self.actions = list(base.actions)
        self.ops = list(base.ops)
        for k in range(1, self.n + 1):
            self.actions.append(Instr("cmp", (LENGTH, Imm(k)), width=32))
            self.ops.append((CMPI, k, None, None))
        for j in range(self.num_labels):
            for cond in JUMP_CONDS:
                self.actions.append(Instr("j", (Label(".L%d" % j),), cond=cond))
                self.ops.append((JCC, j, None, cond))
            self.actions.append(Instr("jmp", (Label(".L%d" % j),)))
            self.ops.append((JMP, j, None, None))
        for j in range(self.num_labels):
            self.actions.append(Label(".L%d" % j))     # a label is not an instruction: placing it
            self.ops.append((PLACE, j, None, None))
        self.actions.append(Instr("ret"))
        self.ops.append((RET, None, None, None))
        self.num_actions = len(self.actions)
        extra = [-1] * (self.num_actions - len(base.ops))
        self.load_slot, self.store_slot = list(base.load_slot) + extra, list(base.store_slot) + extra
        flags = 1 << (len(self.registers) + self.n)   # the fixed game's location bits, flags last
        kinds = [k for k, _, _, _ in self.ops[len(base.ops):]]
        self.reads_mask = list(base.reads_mask) + [flags if k == JCC else 0 for k in kinds]
        self.writes_mask = list(base.writes_mask) + [flags if k == CMPI else 0 for k in kinds]
        self.num_locations = len(self.registers) + self.n + 1
        ops = list(enumerate(self.ops))
        self.move_ids = MoveIds({d: a for a, (k, d, _, _) in ops if k == CMPI},
                                {(d, c): a for a, (k, d, _, c) in ops if k == JCC},
                                {d: a for a, (k, d, _, _) in ops if k == PLACE},
                                next(a for a, (k, _, _, _) in ops if k == RET))

    def unpruned(self, sorted_ret: bool = True) -> "BranchGame":
        """This game without pruning rules (same task, registers and labels): what checks a
        program built by other means than playing the rules."""
        return BranchGame(self.task, isa=self.isa_name, pruning=(), registers=self.registers,
                          labels=self.num_labels, sorted_ret=sorted_ret)

    # -- states ----------------------------------------------------------------------------
    def initial(self) -> BranchState:
        return BranchState((), self.evaluator.initial()[:1] + (0, 0), 0, self.everyone,
                           (None,) * self.num_labels, 0, 0, (-1, 0, 0, False, None), None, 0, 0, False, self)

    def key(self, s: BranchState) -> Hashable:
        """Equal keys: the same futures, up to register names and label ids. Returned inputs'
        fields are left out (they are final and sorted)."""
        live = self.everyone ^ s.done
        R = len(self.registers)
        locs, lt, gt = s.cpu
        pending = frozenset(p for p in s.pending if p is not None)
        last = None if s.last is None else (s.last[0], s.pending[s.last[1]] and s.pending[s.last[1]][0])
        skip = self.skipped(s)
        skip = None if skip is None else s.pending[skip] and s.pending[skip][0]
        return (tuple(x & live for x in locs[R:]), tuple(sorted(x & live for x in locs[:R])),
                lt & live, gt & live, s.flagged & live, s.active, pending, self.num_labels - s.created,
                s.rules, last, skip, s.dirty, s.by_length)

    def legal_actions(self, s: BranchState) -> list[int]:
        A = s.active
        ops = self.ops
        if A == 0:   # after jmp or ret: only a label where some input waits (not the one just jumped to,
            # nor L after `jcc L; jmp M`, which is `j!cc M; L:`, one instruction shorter)
            skip = self.skipped(s)
            return [a for a, (kind, j, _, _) in enumerate(ops)
                    if kind == PLACE and s.pending[j] is not None and s.last != ("jump", j) and j != skip]
        ev, p = self.evaluator, self.pruning
        locs, lt, gt = s.cpu
        R = len(self.registers)
        last_loaded, loaded, stored, last_cmp, _ = s.rules
        full = ev.full
        init = [full(x) & A == A for x in locs]
        free = [full(x) & A == 0 for x in locs[:R]]
        lowest_free = next((r for r in range(R) if free[r]), -1)
        flags = s.flagged & A == A
        cmp_ok = not ("no_double_cmp" in p and last_cmp)
        noop = "no_noop" in p
        dirty = s.dirty if "no_dead_write" in p else 0
        jumps_ok = flags and (s.by_length or "length_branches" not in p)
        reads, writes = self.reads_mask, self.writes_mask
        masks = {}
        out = []
        for a, (kind, d, src, cond) in enumerate(ops):
            if dirty & writes[a] & ~reads[a]:   # it would overwrite a value no instruction read
                continue
            if kind == MOV:
                if not init[src]:
                    continue
                if d < R and free[d] and "register_order" in p and d != lowest_free:
                    continue
                load, store = self.load_slot[a], self.store_slot[a]
                if load >= 0:
                    if A & ~self.longer[load] or ("memory_order" in p and load < last_loaded) or \
                            ("memory_once" in p and loaded >> load & 1):
                        continue
                elif store >= 0 and (A & ~self.longer[store] or ("memory_once" in p and stored >> store & 1)):
                    continue
                if noop and (locs[d] ^ locs[src]) & A == 0:
                    continue
            elif kind == CMP or kind == CMPI:
                if not cmp_ok or (kind == CMP and not (init[d] and init[src])):
                    continue
                new = self._flags(locs, kind, d, src)
                if kind == CMPI and sum(1 for m in (new[0], new[1], ev.content ^ new[0] ^ new[1]) if m & A) < 2:
                    continue
                if noop and flags and ((new[0] ^ lt) | (new[1] ^ gt)) & A == 0:
                    continue
            elif kind == CMOV or kind == JCC:   # cmov or jcc: under flags every active input has
                if not flags:
                    continue
                if cond not in masks:
                    masks[cond] = ev.cond_mask(lt, gt, cond) & A
                m = masks[cond]
                if kind == JCC:
                    if not jumps_ok or m == 0 or m == A or not self._target_ok(s, d):
                        continue
                elif not (init[d] and init[src]) or (noop and (locs[d] ^ locs[src]) & m == 0):
                    continue
            elif kind == JMP:
                if not self._target_ok(s, d) or (s.last is not None and s.last[0] == "place"):
                    continue
            elif kind == PLACE:
                if s.pending[d] is None or s.last == ("jump", d) or (s.last is not None and s.last[0] == "place"):
                    continue
            elif kind == RET:
                if self.sorted_ret and any((locs[R + i] ^ e) & A for i, e in enumerate(ev.expected)):
                    continue
            out.append(a)
        return out

    def skipped(self, s: BranchState) -> int | None:
        """The label L that may not be placed next after `jcc L; jmp M` (part of the key)."""
        if len(s.actions) < 2 or self.ops[s.actions[-1]][0] != JMP or self.ops[s.actions[-2]][0] != JCC:
            return None
        return self.ops[s.actions[-2]][1]

    def _target_ok(self, s: BranchState, label: int) -> bool:
        """A jump goes to a pending label or to the next new one (labels are numbered in
        order of first use)."""
        return s.pending[label] is not None or label == s.created < self.num_labels

    def _flags(self, locs: tuple, kind: int, d, s) -> tuple[int, int]:
        if kind == CMPI:
            return self.cmpi[d]
        return self.evaluator.compare(self.fill(locs[d]), self.fill(locs[s]))

    def fill(self, x: int) -> int:
        """x with rank 0 in its empty fields: the evaluator's per-field arithmetic borrows
        across an empty field, and a location may be empty on inputs of other paths."""
        low = self.evaluator.low
        return x | (low & ~self.evaluator.full(x))

    def step(self, s: BranchState, action: int) -> BranchState:
        kind, d, src, cond = self.ops[action]
        locs, lt, gt = s.cpu
        A, pending, created, rules, done = s.active, s.pending, s.created, s.rules, s.done
        flagged, last, length = s.flagged, None, s.length + (kind != PLACE)
        dirty, by_length = (s.dirty & ~self.reads_mask[action]) | self.writes_mask[action], s.by_length
        if kind == MOV or kind == CMOV:   # a masked write
            m = A if kind == MOV else self.evaluator.cond_mask(lt, gt, cond) & A
            x = locs[d]
            locs = locs[:d] + (x ^ ((x ^ locs[src]) & m),) + locs[d + 1:]
            rules = self.base.advance_rules(rules, action, s.cpu[0])
        elif kind == CMP or kind == CMPI:
            nlt, ngt = self._flags(locs, kind, d, src)
            lt, gt, flagged = lt ^ ((lt ^ nlt) & A), gt ^ ((gt ^ ngt) & A), flagged | A
            by_length = kind == CMPI
            rules = self.base.advance_rules(rules, action, locs) if kind == CMP else rules[:3] + (True, None)
        elif kind == JCC or kind == JMP:
            taken = A if kind == JMP else self.evaluator.cond_mask(lt, gt, cond) & A
            created += d == created
            # (a jump is no cmp: a label placed after jmp or ret may be followed by one, no_double_cmp)
            rules = rules[:3] + (False, rules[4])
            pending = self._merge(pending, d, taken, rules)
            A ^= taken
            last, dirty = ("jump", d), 0   # a value read on the other path is not dead here
        elif kind == PLACE:
            mask, waiting = pending[d]
            rules = waiting if A == 0 else _merge_rules(rules, waiting)
            A |= mask
            pending = pending[:d] + (None,) + pending[d + 1:]
            last, dirty, by_length = ("place", d), 0, False
        else:   # ret
            done, A = done | A, 0
        return BranchState(s.actions + (action,), (locs, lt, gt), flagged, A, pending, created, done, rules,
                           last, length, dirty, by_length, self)

    @staticmethod
    def _merge(pending: tuple, label: int, mask: int, rules: tuple) -> tuple:
        old = pending[label]
        entry = (mask, rules) if old is None else (old[0] | mask, _merge_rules(old[1], rules))
        return pending[:label] + (entry,) + pending[label + 1:]

    def sorted_on(self, state: BranchState, lengths) -> bool:
        """Whether every input of these lengths has returned with its array sorted."""
        key = tuple(lengths)
        if key not in self._length_masks:
            self._length_masks[key] = self.mask_of(np.isin(self.lengths, key))
        mask = self._length_masks[key]
        R = len(self.registers)
        return state.done & mask == mask and not any(
            (x ^ e) & mask for x, e in zip(state.cpu[0][R:], self.evaluator.expected))

    # -- whole programs ----------------------------------------------------------------------
    def play(self, actions: Iterable[int]) -> BranchState:
        state = self.initial()
        for a in actions:
            state = self.step(state, a)
        return state

    def is_legal_sequence(self, actions: Iterable[int]) -> bool:
        state = self.initial()
        for a in actions:
            if a not in self.legal_actions(state):
                return False
            state = self.step(state, a)
        return True

    def to_program(self, state_or_actions) -> Program:
        actions = state_or_actions.actions if isinstance(state_or_actions, BranchState) else state_or_actions
        instrs, labels = [], {}
        for a in actions:
            kind, j, _, _ = self.ops[a]
            if kind == PLACE:
                labels[".L%d" % j] = len(instrs)
            else:
                instrs.append(self.actions[a])
        return Program(instrs, labels=labels, task=self.task.name)

    def encode(self, program: Program) -> list[int] | None:
        """The action sequence of a program (labels renumbered in order of first use), or
        None when it is outside this space (an instruction not in it, a backward jump)."""
        ids = {x: a for a, x in enumerate(self.actions) if isinstance(x, Instr)}
        place = self.move_ids.place
        names: dict[str, int] = {}
        out = []
        for i, ins in enumerate(program.instrs + [None]):
            for name in program.labels_at(i):
                if name in names:
                    out.append(place[names[name]])
            if ins is None:
                break
            if ins.op in ("j", "jmp"):
                target = ins.operands[0].name
                if program.labels.get(target, -1) <= i or len(names) >= self.num_labels and target not in names:
                    return None
                ins = Instr(ins.op, (Label(".L%d" % names.setdefault(target, len(names))),), cond=ins.cond)
            a = ids.get(ins)
            if a is None:
                return None
            out.append(a)
        return out


def default_rules(n: int) -> tuple[str, ...]:
    """The rules on by default for varsortN: sortN's (game.default_pruning) and the branch game's own."""
    return default_pruning(n) + BRANCH_RULES


def _merge_rules(a: tuple, b: tuple) -> tuple:
    """Rule history where two paths meet: a slot loaded or stored on either counts, the
    later last load, no cmp just made, no compared pair unless both agree."""
    return (max(a[0], b[0]), a[1] | b[1], a[2] | b[2], False, a[4] if a[4] == b[4] else None)

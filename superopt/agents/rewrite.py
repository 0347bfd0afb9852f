"""`rewrite`: a sorting network compiled to a kernel, with AlphaDev's saving wherever it is sound.

A comparator on values w and c costs 4 instructions the usual way (cmp, mov to a free
register, two cmovs), and leaves one of its inputs behind in a register nothing reads any
more. AlphaDev's sort3 saving, which Cruz-Filipe and Schneider-Kamp (LPAR 2024) show to be
the only kind it made, reuses such a stale value s: if on every input "w > c implies s = w"
(s is w whenever w is the larger), then max(w, c) = (w <= c ? c : s) is one cmov into s's
register and min(w, c) = (w > c ? c : w) one into w's, so the comparator costs 3 (cmp,
cmovle, cmovg) and needs no free register; the mirror image holds for the minimum. Whether
such an s exists depends on the order of the comparators, on which input each one leaves
behind and on which stale values the free registers overwrite, so this is a search: a
beam over the comparators done, keeping the states with the fewest instructions so far
(registers are interchangeable, so states equal up to renaming are kept once), from every
known optimal-size network for the task, each also mirrored, and the `--init` kernel's own.
Conditions are decided on every weak ordering, and the kernel produced is read back as a
network (comparators.network_of), which proves it sorts.

Loads come just before a value's first comparator and stores just after its last, so a
kernel needs as many registers as values live at once plus one; beyond the 8 caller-saved
ones it saves %rbx (push and pop, 2 more instructions).
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from superopt.agents.base import SearchOptions, SearchResult, SearchStats
from superopt.agents.comparators import Network, candidates, network_of
from superopt.agents.params import Params, param, positive
from superopt.game.game import REGISTER_ORDER
from superopt.tasks.sort import weak_orderings
from superopt.x86.isa import Instr, Mem, Program, Reg

SAVED = "rbx"   # the callee-saved register a kernel pushes when the caller-saved ones run out


@dataclass(frozen=True)
class RewriteParams(Params):
    """`--param` keys of the rewrite agent."""
    agent: ClassVar[str] = "rewrite"
    uses: ClassVar[frozenset] = frozenset({"init"})
    width: int = param(2000, positive)    # beam width: states kept per comparator done


class Plan:
    """One network as values: input i is value i, comparator k makes values n+2k (min) and
    n+2k+1 (max); each value's ranks on every weak ordering decide the savings."""

    def __init__(self, n: int, network: Network, ranks: np.ndarray):
        self.n, self.network = n, network
        wire = list(range(n))
        self.comps, self.consumer = [], {}
        for k, (i, j) in enumerate(network):
            lo, hi = n + 2 * k, n + 2 * k + 1
            self.comps.append((wire[i], wire[j], lo, hi))
            self.consumer[wire[i]] = self.consumer[wire[j]] = k
            wire[i], wire[j] = lo, hi
        self.slot = {v: w for w, v in enumerate(wire)}   # final value -> the slot it is stored to
        self.producer = {n + 2 * k + h: k for k in range(len(network)) for h in (0, 1)}
        values = list(ranks.T)
        for u, v, _, _ in self.comps:
            values += [np.minimum(values[u], values[v]), np.maximum(values[u], values[v])]
        self.values = values
        self._twin: dict[tuple, bool] = {}

    def twin(self, w: int, c: int, s: int, larger: bool) -> bool:
        """Whether stale s equals w whenever w is the larger (larger=True) or the smaller of w, c."""
        key = (w, c, s, larger)
        if key not in self._twin:
            a, b, t = self.values[w], self.values[c], self.values[s]
            self._twin[key] = bool(np.all(((a <= b) if larger else (a >= b)) | (t == a)))
        return self._twin[key]

    def ready(self, k: int, done: int) -> bool:
        u, v, _, _ = self.comps[k]
        return all(x < self.n or done >> self.producer[x] & 1 for x in (u, v))

    def live(self, x: int, done: int) -> bool:
        """Whether a register holding x must keep it: x is still to be compared."""
        return x >= 0 and x in self.consumer and not done >> self.consumer[x] & 1


# instructions as tuples: ("load", reg, slot), ("store", reg, slot), ("cmp", a, b),
# ("mov", dst, src), ("cmov", cond, dst, src); registers are indices
def _loaded(plan: Plan, regs: list, done: int, want: tuple) -> list[tuple[list, list]]:
    """Every way to bring the values `want` into registers: (registers, loads). An empty
    register when there is one (all empty ones are alike), else each stale one in turn."""
    missing = [x for x in want if x not in regs]
    if not missing:
        return [(regs, [])]
    x = missing[0]
    dead = [r for r, y in enumerate(regs) if not plan.live(y, done) and y not in want]
    empty = [r for r in dead if regs[r] == -1]
    out = []
    for r in empty[:1] or dead:
        new = list(regs)
        new[r] = x
        out += [(more, [("load", r, x)] + loads) for more, loads in _loaded(plan, new, done, want)]
    return out


def _children(plan: Plan, state: tuple, k: int):
    """Every way to do comparator k from a state (cost, regs, done, code): its successors."""
    cost, regs, done, code = state
    u, v, lo, hi = plan.comps[k]
    after = done | 1 << k
    for regs, loads in _loaded(plan, list(regs), done, (u, v)):
        ru, rv = regs.index(u), regs.index(v)
        dead = [r for r, x in enumerate(regs) if r not in (ru, rv) and not plan.live(x, done)]
        empty = [r for r in dead if regs[r] == -1]
        options = []
        for t in empty[:1] or dead:   # the usual comparator, leaving v (then u) behind
            options.append((4, [("cmp", ru, rv), ("mov", t, rv), ("cmov", "g", t, ru), ("cmov", "g", ru, rv)],
                            {ru: lo, t: hi}))
            options.append((4, [("cmp", ru, rv), ("mov", t, ru), ("cmov", "g", t, rv), ("cmov", "g", rv, ru)],
                            {t: lo, rv: hi}))
        for rs in dead:
            s = regs[rs]
            if s < 0:
                continue
            for rw, rc, w, c in ((ru, rv, u, v), (rv, ru, v, u)):
                if plan.twin(w, c, s, True):    # s is w when w is the larger: max into s, min into w
                    options.append((3, [("cmp", rw, rc), ("cmov", "le", rs, rc), ("cmov", "g", rw, rc)],
                                    {rs: hi, rw: lo}))
                if plan.twin(w, c, s, False):   # s is w when w is the smaller: min into s, max into w
                    options.append((3, [("cmp", rw, rc), ("cmov", "ge", rs, rc), ("cmov", "l", rw, rc)],
                                    {rs: lo, rw: hi}))
        for extra, body, out in options:
            new = list(regs)
            for r, x in out.items():
                new[r] = x
            tail = [("store", r, plan.slot[x]) for r, x in out.items() if x in plan.slot]
            yield cost + len(loads) + extra + len(tail), tuple(new), after, (code, tuple(loads + body + tail))


def beam(plan: Plan, registers: int, width: int, rng: random.Random, should_stop) -> tuple[tuple | None, int]:
    """The cheapest complete state the beam finds (or None) and the states expanded."""
    layer = [(0, (-1,) * registers, 0, ())]
    expanded = 0
    for _ in range(len(plan.comps)):
        if should_stop():
            return None, expanded
        seen: dict = {}
        for state in layer:
            expanded += 1
            for k in range(len(plan.comps)):
                if state[2] >> k & 1 or not plan.ready(k, state[2]):
                    continue
                for child in _children(plan, state, k):
                    key = (child[2], tuple(sorted(child[1])))
                    if key not in seen or child[0] < seen[key][0]:
                        seen[key] = child
        layer = sorted(seen.values(), key=lambda s: (s[0], rng.random()))[:width]
        if not layer:
            return None, expanded
    return layer[0], expanded


def emit(state: tuple, registers: int) -> Program:
    """The state's code as a kernel (with push/pop of %rbx when it uses a 9th register)."""
    chunks, code = [], state[3]
    while code:
        code, chunk = code
        chunks.append(chunk)
    reg = [Reg(f, 32) for f in (list(REGISTER_ORDER) + [SAVED])[:registers]]
    saved = [Instr("push", (Reg(SAVED, 64),), width=64)] if registers > len(REGISTER_ORDER) else []
    instrs = list(saved)
    for op in (op for chunk in reversed(chunks) for op in chunk):
        kind = op[0]
        if kind == "load":
            instrs.append(Instr("mov", (reg[op[1]], Mem(32, "rdi", disp=4 * op[2])), width=32))
        elif kind == "store":
            instrs.append(Instr("mov", (Mem(32, "rdi", disp=4 * op[2]), reg[op[1]]), width=32))
        elif kind == "cmov":
            instrs.append(Instr("cmov", (reg[op[2]], reg[op[3]]), cond=op[1], width=32))
        else:
            instrs.append(Instr(kind, (reg[op[1]], reg[op[2]]), width=32))
    if saved:
        instrs.append(Instr("pop", (Reg(SAVED, 64),), width=64))
    return Program(instrs=instrs)

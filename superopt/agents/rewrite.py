"""`rewrite`: a sorting network compiled to a kernel, with AlphaDev's saving wherever it is sound.

A comparator on values w and c costs 4 instructions the usual way (cmp, mov to a free
register, two cmovs), and leaves one of its inputs behind in a register nothing reads any
more. AlphaDev's sort3 saving, which Cruz-Filipe and Schneider-Kamp (LPAR 2024) show to be
the only kind it made, reuses such a stale value s: if on every input "w > c implies s = w",
then max(w, c) = (w <= c ? c : s) is one cmov into s's register and min(w, c) one into w's,
so the comparator costs 3 and needs no free register. Here the 3-instruction form is
general: one cmp of any two values held (a stale one too: sort5's 42 compares one) and two
independent cmovs, each leaving the minimum or the maximum in a free register or one of the
inputs' own, decided on every weak ordering. Which forms exist depends on the order of the
comparators, on what each leaves behind and on which stale values the free registers
overwrite, so this is a search: a beam over the comparators done, keeping the states with
the fewest instructions so far (then the most stale values kept; registers are
interchangeable, so states equal up to renaming are kept once), from every known
optimal-size network for the task and those left by fixing wires of bigger ones, each also
mirrored, and the `--init` kernel's own. `bound` says how short the beam could compile a
network at best (every comparator that has a 3-instruction form given any earlier value
saved): a network that cannot reach the best length found is skipped, and the least bound
is reported (`compiled_bound`: on sort8 it is the 92 compiled, so 90 is out of this route's reach).

The best compiled kernel is then polished by enum's suffix re-synthesis (`polish`) and,
optionally, by a stochastic chain (`chain` proposals, AlphaDev-S), which change what the
network fixed: sort5's compiled 43 becomes 42. Beyond SAMPLE weak orderings (sort8) these
two search over a sample, and what they return is kept only if it is proven over all. Every
kernel returned is proven over all weak orderings by the game's evaluator.

Loads come just before a value's first comparator and stores just after its last, so a
kernel needs as many registers as values live at once plus one; beyond the 8 caller-saved
ones it saves %rbx (push and pop, 2 more instructions: sort8).
"""
from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from superopt.agents.base import SearchOptions, SearchResult, SearchStats
from superopt.errors import SuperoptError
from superopt.agents.comparators import Network, candidates, network_of
from superopt.agents.params import Params, choice, count, param, positive
from superopt.agents.resynthesis import shorten
from superopt.agents.stochastic import Chain, StochasticParams
from superopt.game.game import REGISTER_ORDER, Game
from superopt.measure.latency import cost_model
from superopt.tasks.sort import weak_orderings
from superopt.x86.isa import Instr, Mem, Program, Reg

SAVED = "rbx"   # the callee-saved register a kernel pushes when the caller-saved ones run out


@dataclass(frozen=True)
class RewriteParams(Params):
    """`--param` keys of the rewrite agent."""
    agent: ClassVar[str] = "rewrite"
    uses: ClassVar[frozenset] = frozenset({"init"})
    width: int = param(200, positive)     # beam width: states kept per comparator done
    polish: int = param(20_000, count)    # enum expansions per prefix re-synthesising the best kernel's suffixes (0: off)
    chain: int = param(0, count)          # proposals of a stochastic chain (AlphaDev-S) from the polished kernel (0: off)
    # known: only the listed networks (and --init's); completed: all, and every completion of their first layers
    networks: str = param("all", choice("all", "known", "completed"))


_TAKEN = {"l": np.less, "g": np.greater, "le": np.less_equal, "ge": np.greater_equal}
SCREEN = 2048   # weak orderings a condition is first tried on, before all of them


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
        pick = np.random.default_rng(0).permutation(len(ranks))[:SCREEN]
        self.full, self.quick = values, [x[pick] for x in values]
        self._fits: dict[tuple, bool] = {}

    def fits(self, p: int, q: int, cond: str, x: int, t: int, taken: bool) -> bool:
        """Whether value x equals value t on every input where, after cmp p, q, cmov`cond` is
        taken (taken=True) or not taken: x can be the source (or the old destination) of a
        cmov that leaves t."""
        key = (p, q, cond, x, t, taken)
        got = self._fits.get(key)
        if got is None:
            got = all(bool(np.all((_TAKEN[cond](v[p], v[q]) != taken) | (v[x] == v[t]))) for v in (self.quick, self.full))
            self._fits[key] = got
        return got

    def ready(self, k: int, done: int) -> bool:
        u, v, _, _ = self.comps[k]
        return all(x < self.n or done >> self.producer[x] & 1 for x in (u, v))

    def live(self, x: int, done: int) -> bool:
        """Whether a register holding x must keep it: x is still to be compared."""
        return x >= 0 and x in self.consumer and not done >> self.consumer[x] & 1


def saveable(plan: Plan) -> int:
    """How many comparators have some 3-instruction form (one cmp of an input with any value,
    two cmovs) when every value computable before them is still held: an upper bound on the
    savings of any comparator order and register assignment, so `bound` is a lower bound on
    what the beam can compile the network to. Checked on the screening sample, which only
    admits more forms, so the bound stays sound."""
    values, n, m = np.array(plan.quick), plan.n, len(plan.comps)
    later = [0] * m   # bit j set: comparator j reads, directly or not, an output of comparator k
    for k in reversed(range(m)):
        for x in plan.comps[k][2:]:
            if x in plan.consumer:
                later[k] |= 1 << plan.consumer[x] | later[plan.consumer[x]]
    count = 0
    for k, (u, v, lo, hi) in enumerate(plan.comps):
        before = [j for j in range(m) if j != k and not later[k] >> j & 1]
        held = list(range(n)) + [n + 2 * j + h for j in before for h in (0, 1)]
        count += any(_forms(values, held, p, lo, hi) for p in (u, v))
    return count


def _forms(values: np.ndarray, held: list, p: int, lo: int, hi: int) -> bool:
    """Whether, after some cmp p, q (q held), two cmovs into distinct registers with distinct
    sources can leave lo and hi: for each condition, the held values equal to the result
    where the cmov is taken (sources) and where it is not (destinations), all q at once."""
    cands = np.array([q for q in held if q != p])
    ways = {}
    for t in (lo, hi):
        differs = np.packbits(values[held] != values[t], axis=1)[None]       # (1, held, inputs/8)
        for cond, op in _TAKEN.items():
            taken = np.packbits(op(values[p], values[cands]), axis=1)[:, None]   # (q, 1, inputs/8)
            ways[t, cond] = ~(taken & differs).any(2), ~(~taken & differs).any(2)   # sources, destinations
    for i in range(len(cands)):
        for c1, c2 in itertools.product(_TAKEN, repeat=2):
            s1, d1 = (set(np.nonzero(w[i])[0]) for w in ways[lo, c1])
            s2, d2 = (set(np.nonzero(w[i])[0]) for w in ways[hi, c2])
            if s1 and s2 and any(a != b and s1 - {a, b} and s2 - {a, b} for a in d1 for b in d2):
                return True
    return False


def bound(plan: Plan) -> int:
    """The fewest instructions the beam could compile the network to: loads, stores and 4 per
    comparator less `saveable`, and the push and pop of %rbx when n values and the third
    register a comparator needs while all n are live outnumber the caller-saved registers."""
    return 2 * plan.n + 4 * len(plan.comps) - saveable(plan) + 2 * (plan.n + 1 > len(REGISTER_ORDER))


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


def _selects(plan: Plan, regs: list, writable: list, p: int, q: int, t: int) -> list[tuple]:
    """(cond, dst, src): the cmovs after cmp p, q that leave value t in a writable register."""
    out = []
    held = [r for r, x in enumerate(regs) if x >= 0]
    for cond in _TAKEN:
        srcs = [s for s in held if plan.fits(regs[p], regs[q], cond, regs[s], t, True)]
        if not srcs:
            continue
        for d in writable:   # (an empty register has no old value to keep where the cmov is not taken)
            if regs[d] >= 0 and plan.fits(regs[p], regs[q], cond, regs[d], t, False):
                out += [(cond, d, s) for s in srcs if s != d]
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
        # one cmp and two independent cmovs: the cmp may read a stale value, each cmov one
        writable = dead + [ru, rv]
        for p in (ru, rv):
            for q in range(len(regs)):
                if q in (ru, rv) and q <= p or regs[q] < 0:
                    continue
                lows = _selects(plan, regs, writable, p, q, lo)
                highs = _selects(plan, regs, writable, p, q, hi) if lows else []
                for c1, d1, s1 in lows:
                    for c2, d2, s2 in highs:
                        if d1 != d2 and s1 != d2 and s2 != d1:
                            options.append((3, [("cmp", p, q), ("cmov", c1, d1, s1), ("cmov", c2, d2, s2)],
                                            {d1: lo, d2: hi}))
        for extra, body, out in options:
            new = list(regs)
            for r, x in out.items():
                new[r] = x
            tail = [("store", r, plan.slot[x]) for r, x in out.items() if x in plan.slot]
            yield cost + len(loads) + extra + len(tail), tuple(new), after, (code, tuple(loads + body + tail))


def _kept(plan: Plan, state: tuple) -> int:
    """Free registers of a state that still hold a value (candidates for the saving)."""
    return sum(x >= 0 and not plan.live(x, state[2]) for x in state[1])


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
        # fewest instructions first; then the most values kept in free registers (more savings ahead)
        layer = sorted(seen.values(), key=lambda s: (s[0], -_kept(plan, s), rng.random()))[:width]
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


SAMPLE = 20_000   # weak orderings the polish and the chain search over beyond this many (sort8's 545,835)


def _game(task, registers: int, sample: bool = False) -> Game:
    """The game over the registers a kernel uses, without the pruning rules a compiled kernel
    need not obey (its loads are in first-use order), but AlphaDev's no_double_cmp and
    no_noop; with `sample`, over SAMPLE weak orderings at most (what it finds must then be
    proven over all of them)."""
    inputs = task.proof_inputs()[0]
    if sample and len(inputs) > SAMPLE:
        inputs = inputs[np.random.default_rng(0).permutation(len(inputs))[:SAMPLE]]
    return Game(task, registers=(list(REGISTER_ORDER) + [SAVED])[:registers], pruning=("no_double_cmp", "no_noop"),
                inputs=inputs)


def polished(program: Program, task, registers: int, budget: int, should_stop) -> tuple[Program, int]:
    """The kernel after enum's suffix re-synthesis (resynthesis.shorten, `budget` expansions
    per prefix) in the game over its registers (push and pop of %rbx kept around it), and
    the programs explored."""
    game, body = _body(program, task, registers)
    short, work = shorten(game, body, budget, should_stop)
    return _wrapped(program, game, short), work


def chained(program: Program, task, registers: int, steps: int, options: SearchOptions,
            should_stop) -> tuple[list[Program], int]:
    """The correct programs of the best length a stochastic chain (superopt.agents.stochastic,
    its default settings, `options.seed`) of `steps` proposals started from the kernel found,
    in the game over its registers, stopping at options.target_length (none if it found
    nothing shorter); and the programs explored."""
    game, body = _body(program, task, registers)
    chain = Chain(game, StochasticParams(), options.seed, body)
    target = None if options.target_length is None else options.target_length - (len(program.instrs) - len(body))
    chain.run(steps, should_stop, None, target)
    found = [chain.best] + [list(p) for p in chain.found if list(p) != chain.best] if chain.best else []
    programs = [_wrapped(program, game, p) for p in found]
    return [p for p in programs if p is not program], chain.explored


def _body(program: Program, task, registers: int) -> tuple[Game, list[int]]:
    """The (sampled) game over the kernel's registers and the kernel as its actions, push and pop left out."""
    game = _game(task, registers, sample=True)
    return game, [game.action_id(ins) for ins in program.instrs if ins.op not in ("push", "pop")]


def _wrapped(program: Program, game: Game, actions: list[int] | None) -> Program:
    """`actions` as a kernel inside the push and pop of `program`, if shorter than its body."""
    saved = [ins for ins in program.instrs if ins.op in ("push", "pop")]
    if actions is None or len(actions) >= len(program.instrs) - len(saved):
        return program
    return Program(instrs=saved[:1] + list(game.to_program(actions).instrs) + saved[1:])


def proven(program: Program, game_task, registers: int) -> bool:
    """Whether the kernel sorts every weak ordering (a proof for mov/cmp/cmov code), run by
    the game's evaluator over the registers it uses (push, pop and ret left out)."""
    game = _game(game_task, registers)
    ev, cpu = game.evaluator, game.evaluator.initial()
    for ins in program.instrs:
        if ins.op in ("push", "pop", "ret"):
            continue
        action = game.action_id(ins)
        if action is None:
            return False
        cpu = ev.step(cpu, game.ops[action])
    return ev.correct_items(cpu[0]) == ev.total_items


def run(game: Game, options: SearchOptions, report, should_stop) -> SearchResult:
    """The `rewrite` agent: every candidate network (and the `--init` kernel's) compiled by
    the beam; the shortest kernel wins (ties: the first network tried)."""
    start = time.monotonic()
    params = RewriteParams.of(options.params)
    n = game.n
    extra = {"the --init kernel's network": network_of(options.init, n)} if options.init is not None else None
    networks = candidates(n, extra, derived=params.networks != "known", completed=params.networks == "completed")
    ranks = weak_orderings(n).astype(np.int8)
    rng = random.Random(options.seed)
    best: list[tuple] = []   # (length, name, registers, program), best length only
    explored = tried = 0
    floor = None   # the least `bound` over the networks considered
    for name, network in networks.items():
        if should_stop() or (best and options.target_length is not None and best[0][0] <= options.target_length):
            break
        plan = Plan(n, network, ranks)
        least = bound(plan)
        floor = least if floor is None else min(floor, least)
        if best and least > best[0][0]:   # it cannot compile to the best length found
            continue
        tried += 1
        for registers in (len(REGISTER_ORDER), len(REGISTER_ORDER) + 1):
            state, work = beam(plan, registers, params.width, rng, should_stop)
            explored += work
            if state is not None:
                break
        if state is None:
            continue
        program = emit(state, registers)
        if not proven(program, game.task, registers):
            raise SuperoptError("internal error: the rewrite of network %r does not sort" % name)
        length = len(program.instrs)
        if not best or length < best[0][0]:
            best = []
        if not best or length == best[0][0]:
            best.append((length, name, registers, program))
        report(SearchStats(elapsed=time.monotonic() - start, explored=explored, best_length=best[0][0],
                           best_correct=1.0, best_program=list(best[0][3].instrs),
                           phase="network %d/%d: %s" % (tried, len(networks), name)))
    if not best:
        return SearchResult(program=None, length=None, optimal=False, explored=explored,
                            elapsed=time.monotonic() - start, extras={"networks_tried": tried, "compiled_bound": floor})
    best.sort(key=lambda b: cost_model(b[3].instrs))   # the shortest dependency chain first (stable)
    length, name, registers, program = best[0]
    compiled, refuted = length, 0
    if params.polish and not should_stop():
        report(SearchStats(elapsed=time.monotonic() - start, explored=explored, best_length=length, best_correct=1.0,
                           best_program=list(program.instrs), phase="polishing the %d of %s" % (length, name)))
        short, work = polished(program, game.task, registers, params.polish, should_stop)
        explored += work
        ok = proven(short, game.task, registers)   # (false only where the search used sampled inputs)
        program, refuted = (short if ok else program), refuted + (not ok)
        if len(program.instrs) < length:
            length, best = len(program.instrs), [(len(program.instrs), name, registers, program)]
    if params.chain and not should_stop():
        report(SearchStats(elapsed=time.monotonic() - start, explored=explored, best_length=length, best_correct=1.0,
                           best_program=list(program.instrs), phase="stochastic chain from the %d" % length))
        shorter, work = chained(program, game.task, registers, params.chain, options, should_stop)
        explored += work
        kept = [p for p in shorter if proven(p, game.task, registers)]
        refuted += len(shorter) - len(kept)
        if kept:   # (the chain keeps up to 64 of its best length; the cost model orders them)
            kept.sort(key=lambda p: cost_model(p.instrs))
            program, length = kept[0], len(kept[0].instrs)
            best = [(length, name, registers, p) for p in kept]
    return SearchResult(program=program, length=length, optimal=False, explored=explored,
                        elapsed=time.monotonic() - start, candidates=[b[3] for b in best],
                        extras={"network": name, "networks": [b[1] for b in best], "networks_tried": tried,
                                "compiled_length": compiled, "compiled_bound": floor,
                                "polish": params.polish, "chain": params.chain,
                                "refuted_on_all_inputs": refuted,
                                "registers": registers, "width": params.width,
                                "saves_rbx": registers > len(REGISTER_ORDER)})

"""`enum`: exhaustive iterative deepening over deduplicated states; finds a shortest program and proves it.

Depth-first search under a bound on length + an admissible lower bound, raising the bound
by one until a correct program appears; every bound below it was exhausted, so the program
is optimal within the instruction set and the game's pruning rules (compared_select among
them by default, a heuristic cut: `--no-prune compared_select` for a proof without it,
which sort3's 17 also has). A table keeps the shallowest depth each state was reached at
in the current iteration (a full A* frontier would cost far more memory for the same proof).

States are canonical: register contents are kept as a sorted multiset (renamings are one
state) and the flags of `cmp a, b` and `cmp b, a` are one state (the cmov conditions come in
swapped pairs l/g, le/ge), so only `cmp a, b` with a < b is tried.

Cuts that keep optimality (a shortest program never needs what they remove):
- lower bound (bound_or_dead): one store per wrong array slot; one register write per
  distinct needed slot content no register holds; one load per slot that alone holds
  some needed rank; and the cmps still needed (see _cmps_needed): without a new cmp every
  new value is pieced together, class by class of the last cmp's flags, from values that
  exist now, and each cmp only splits those classes further; under compared_select, the
  intermediate values it implies (LowerBound.intermediate: 18 instead of 16 at sort4's
  start, and 1.80M programs to prove 28 instead of 8.56M);
- with no slack left (depth + bound = limit) only steps that lower the bound are tried;
- lost values: a rank some wrong slot needs, on some input, is held nowhere it can still
  be read from;
- dead code: an instruction that overwrites a register, slot or the flags whose last value
  was never read, and instructions that change nothing (up to the flag swap above);
- under memory_once a slot is stored once, so only with its final content.
(A check that two inputs look alike but need different outputs was measured too: it
removed 7% of the nodes for more than 7% of the time, so it is not used.)

A state is looked up in the table before its bound is computed, the costly part. Workers
search consecutive bounds side by side (see `run`). superopt.agents.resynthesis searches
below a given prefix with the same space.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, ClassVar

from superopt.game.bounds import LowerBound
from superopt.game.evaluator import CMP, MOV
from superopt.game.game import Game
from superopt.agents.base import SearchOptions, SearchResult, SearchStats
from superopt.agents.params import Params
from superopt.agents.pool import local_backend, start_pool



@dataclass(frozen=True)
class EnumParams(Params):
    """The enum agent has no `--param` keys; of the optional options it reads --all."""
    agent: ClassVar[str] = "enum"
    uses: ClassVar[frozenset] = frozenset({"all_optimal"})


_POLL = 64            # expansions between stop checks (an expansion can take a millisecond)


class Enumerator:
    """The search space of one game, with the counters of the work done."""

    def __init__(self, game: Game, all_optimal: bool = False, bound: LowerBound | None = None):
        self.game = game
        ev = game.evaluator
        self.R, self.n = len(game.registers), game.n
        self.E = ev.expected
        self.all_optimal = all_optimal
        p = game.pruning
        self.memory_order = "memory_order" in p
        self.memory_once = "memory_once" in p
        self.cond_mask, self.compare = ev.cond_mask, ev.compare
        self.select = "compared_select" in p
        self.one_of = ev.one_of
        # a LowerBound may be shared by the iterations of one process: its caches stay valid
        self.bound_or_dead = bound or LowerBound(game)
        self.actions = []
        for a, (kind, d, s, cond) in enumerate(game.ops):
            if kind == CMP and s < self.R and s < d:
                continue  # cmp b, a is cmp a, b with swapped flags
            # + what survives of the unread writes, what it writes, and the unread write it
            # would overwrite unread (dead code), from the game's location masks
            reads, writes = game.reads_mask[a], game.writes_mask[a]
            self.actions.append((a, kind, d, s, cond, game.load_slot[a], game.store_slot[a],
                                 ~reads, writes, writes & ~reads))
        self.explored = 0
        self.deduplicated = 0
        self.table: dict = {}
        self.solutions: list[tuple[int, ...]] = []
        self.stop = lambda: False
        self._ticks = 0
        self.stopped = False

    def root(self) -> tuple:
        locs, lt, gt = self.game.evaluator.initial()
        # + last slot loaded, slots loaded, slots stored, unread writes, lower bound,
        # the contents the last cmp compared (compared_select)
        return (locs, lt, gt, -1, 0, 0, 0, self.bound_or_dead(locs, lt, gt, -1, 0), None)

    def replay(self, actions, budget: int | None = None) -> tuple:
        """The node `actions` lead to from the root, rules unchecked: a prefix taken from
        another searcher's program need not follow them. With a `budget`, a bound above it
        may come back as any value above it (see LowerBound): uncapped, the cmp count can
        take very long on the odd states another searcher's prefixes leave."""
        game, ev = self.game, self.game.evaluator
        cpu, last, loaded, stored, dirty, compared = ev.initial(), -1, 0, 0, 0, None
        for a in actions:
            kind, d, s, _ = op = game.ops[a]
            cpu = ev.step(cpu, op)
            if kind == MOV:
                ls, ss = game.load_slot[a], game.store_slot[a]
                if ls >= 0:
                    last, loaded = ls, loaded | 1 << ls
                if ss >= 0:
                    stored |= 1 << ss
            elif kind == CMP:
                xd, xs = cpu[0][d], cpu[0][s]
                compared = (xd, xs) if xd <= xs else (xs, xd)
            dirty = (dirty & ~game.reads_mask[a]) | game.writes_mask[a]
        locs, lt, gt = cpu
        h = self.bound_or_dead(locs, lt, gt, last, loaded, budget, compared)
        return (locs, lt, gt, last, loaded, stored, dirty, h, compared)

    def children(self, node: tuple, g: int, bound: int, bounded: bool = True):
        """Yield (action id, child node, solved, lower bound) for every child that survives the
        cuts; unbounded, the costly lower bound is left to the caller (None, and the child's
        own slot for it is 0)."""
        locs, lt, gt, last, loaded, stored, dirty, h_node, compared = node
        select, one_of = self.select, self.one_of
        R, E = self.R, self.E
        memory_order, memory_once = self.memory_order, self.memory_once
        cond_mask, compare = self.cond_mask, self.compare
        lowest_free = next((r for r in range(R) if locs[r] == 0), -1)
        g1 = g + 1
        # With no slack, every remaining step must lower the bound: a register-register
        # mov never does, a store only when it completes its slot, a cmov only when it
        # makes a needed content no register holds (its value is composable under the
        # flags it uses, so it cannot lower the cmp term) or the intermediate value the
        # bound counts; a cmp is left to the bound.
        tight = g + h_node >= bound
        if tight:
            regs = locs[:R]
            need = {e for i, e in enumerate(E) if locs[R + i] != e and e not in regs}
            any_cmov = select and self.bound_or_dead.intermediate(locs, need, compared)
        for a, kind, d, s, cond, ls, ss, keep, writes, dead in self.actions:
            xs = locs[s]
            if xs == 0 or dirty & dead:
                continue
            nlast, nloaded, nstored = last, loaded, stored
            if kind == MOV:
                xd = locs[d]
                if xd == xs:
                    continue
                if xd == 0 and d < R and d != lowest_free:
                    continue
                if tight and ((s < R and d < R) or (d >= R and xs != E[d - R])):
                    continue
                if ls >= 0:
                    if (memory_order and ls < last) or (memory_once and loaded >> ls & 1):
                        continue
                    nlast, nloaded = ls, loaded | 1 << ls
                elif ss >= 0:
                    # a slot stored once for all must receive its final content
                    if memory_once and (stored >> ss & 1 or xs != E[ss]):
                        continue
                    nstored = stored | 1 << ss
                nlocs = locs[:d] + (xs,) + locs[d + 1:]
                nlt, ngt, ncompared = lt, gt, compared
            elif kind == CMP:
                xd = locs[d]
                if xd == 0:
                    continue
                nlt, ngt = compare(xd, xs)
                if (nlt == lt and ngt == gt) or (nlt == gt and ngt == lt):
                    continue
                nlocs = locs
                ncompared = None if not select else (xd, xs) if xd <= xs else (xs, xd)
            else:
                xd = locs[d]
                if lt is None or xd == 0:
                    continue
                nd = xd ^ ((xd ^ xs) & cond_mask(lt, gt, cond))
                if nd == xd or (tight and nd not in need and not any_cmov):
                    continue
                if select and not one_of(nd, *compared):
                    continue
                nlocs = locs[:d] + (nd,) + locs[d + 1:]
                nlt, ngt, ncompared = lt, gt, compared
            ndirty = (dirty & keep) | writes
            self.explored += 1
            mem = nlocs[R:]
            if mem == E:
                yield a, (nlocs, nlt, ngt, nlast, nloaded, nstored, ndirty, 0, ncompared), True, 0
                continue
            if g1 >= bound:
                continue
            child = (nlocs, nlt, ngt, nlast, nloaded, nstored, ndirty, 0, ncompared)
            if not self.visit(child, g1):   # before the bound, the costly part
                continue
            if not bounded:
                yield a, child, False, None
                continue
            h = self.bound_or_dead(nlocs, nlt, ngt, nlast, nloaded, bound - g1, ncompared)
            if h < 0 or g1 + h > bound:
                continue
            yield a, child[:7] + (h, ncompared), False, h

    def key(self, node: tuple) -> tuple:
        locs, lt, gt, last, loaded, stored, _, _, compared = node
        R = self.R
        flags = (lt, gt) if lt is None or lt <= gt else (gt, lt)
        return (locs[R:], tuple(sorted(locs[:R])), flags,
                last if self.memory_order else None, loaded if self.memory_once else None,
                stored if self.memory_once else None, compared)

    def visit(self, node: tuple, depth: int) -> bool:
        """Record a state reached at `depth`; False when it was already reached no deeper."""
        key = self.key(node)
        prev = self.table.get(key)
        if prev is not None:
            d, success = prev >> 1, prev & 1
            if d < depth or (d == depth and not (self.all_optimal and success)):
                self.deduplicated += 1
                return False
        self.table[key] = depth << 1
        return True

    def mark_success(self, node: tuple, depth: int) -> None:
        self.table[self.key(node)] = depth << 1 | 1

    def dfs(self, node: tuple, g: int, bound: int, path: list[int]) -> bool:
        """Search below `node` (at depth g) for correct programs of length <= bound; True if
        any was found (all of them are collected when all_optimal)."""
        self._ticks += 1
        if self._ticks % _POLL == 0 and self.stop():
            self.stopped = True
        if self.stopped:
            return False
        found = False
        # most promising first (smallest lower bound; ties in action order): the last
        # iteration stops at its first solution
        for a, child, solved, _ in sorted(self.children(node, g, bound), key=lambda c: c[3]):
            path.append(a)
            if solved:
                self.solutions.append(tuple(path))
                found = True
                if not self.all_optimal:
                    path.pop()
                    return True
            elif self.dfs(child, g + 1, bound, path):
                found = True
                if not self.all_optimal:
                    path.pop()
                    return True
                self.mark_success(child, g + 1)
            path.pop()
            if self.stopped:
                break
        return found


def run(game: Game, options: SearchOptions, report, should_stop) -> SearchResult:
    """The `enum` agent: bounds from the lower bound up to game.max_length.

    With several workers each process takes the next bound not yet searched (bounds
    b, b+1, ... run side by side; each costs several times the one before, so the last
    bound proved empty and the bound that holds the answer end up running together, and
    every process keeps its own, complete, table per bound and one LowerBound, whose
    caches serve all its bounds). The answer is the first solution of the lowest bound
    that has one, which makes the run deterministic."""
    start = time.monotonic()
    space = Enumerator(game, options.all_optimal)
    first = space.root()[7]
    totals = {"explored": 0, "dedup": 0}
    live: dict[int, tuple[int, int]] = {}     # bound -> (explored, deduplicated) so far
    shortest: list = []                       # the shortest solution seen, proven or not

    def progress(bound: int, explored: int, dedup: int) -> None:
        live[bound] = (explored, dedup)
        emit()

    def emit() -> None:
        running = sorted(live)
        report(SearchStats(elapsed=time.monotonic() - start,
                           explored=totals["explored"] + sum(e for e, _ in live.values()),
                           deduplicated=totals["dedup"] + sum(d for _, d in live.values()),
                           best_length=len(shortest) or None, best_correct=1.0 if shortest else 0.0,
                           best_program=list(game.to_program(shortest).instrs),
                           phase="bound %s" % "/".join(map(str, running))))

    def finish(bound: int, explored: int, dedup: int, solutions: list) -> None:
        live.pop(bound, None)
        totals["explored"] += explored
        totals["dedup"] += dedup
        if solutions and (not shortest or len(solutions[0]) < len(shortest)):
            shortest[:] = solutions[0]
            emit()

    lost: list[str] = []                      # workers lost and restarted (ray backend), and what it cost
    if max(1, options.workers) == 1 and local_backend():
        outcome = _sequential(game, options.all_optimal, first, should_stop, progress, finish)
    else:
        outcome = _parallel(game, options.all_optimal, first, max(1, options.workers), should_stop, progress, finish,
                            lost)
    bound, solutions, stopped, proven = outcome
    elapsed = time.monotonic() - start
    solutions = sorted(set(solutions)) if options.all_optimal else solutions[:1]
    programs = [game.to_program(p) for p in solutions]
    best = programs[0] if programs else None
    extras = {"bound_reached": bound, "lower_bound_start": first, **({"lost": lost} if lost else {})}
    if options.all_optimal and best is not None:
        extras["all_optimal"] = len(programs)
        extras["all_complete"] = not stopped
    if best is None and not stopped:
        extras["none_within"] = game.max_length   # proven: nothing this short exists
    report(SearchStats(elapsed=elapsed, explored=totals["explored"], deduplicated=totals["dedup"],
                       best_length=len(best) if best else None, best_correct=1.0 if best else 0.0,
                       best_program=list(best.instrs) if best else [], phase="done"))
    return SearchResult(program=best, length=len(best) if best else None, optimal=proven,
                        explored=totals["explored"], elapsed=elapsed, deduplicated=totals["dedup"],
                        candidates=programs, extras=extras)


def _search_bound(game: Game, all_optimal: bool, bound: int, stop: Callable[[], bool],
                  progress: Callable[[int, int, int], None], lower: LowerBound) -> Enumerator:
    """One exhaustive iteration under `bound`; the Enumerator holds its solutions and counts."""
    space = Enumerator(game, all_optimal, lower)
    last = [0.0]

    def poll() -> bool:
        now = time.monotonic()
        if now - last[0] > 0.2:
            last[0] = now
            progress(bound, space.explored, space.deduplicated)
        return stop()

    space.stop = poll
    space.visit(space.root(), 0)
    space.dfs(space.root(), 0, bound, [])
    return space


def _sequential(game, all_optimal, bound, should_stop, progress, finish):
    lower = LowerBound(game)
    while bound <= game.max_length:
        progress(bound, 0, 0)
        space = _search_bound(game, all_optimal, bound, should_stop, progress, lower)
        finish(bound, space.explored, space.deduplicated, space.solutions)
        if space.stopped or space.solutions:
            return bound, space.solutions, space.stopped, bool(space.solutions)
        bound += 1
    return game.max_length, [], False, False


def _parallel(game, all_optimal, first, workers, should_stop, progress, finish, lost):
    running: dict[int, int] = {}              # bound handed out and not yet reported done -> its worker
    idle = list(range(workers))
    halted: set[int] = set()                  # bounds told to stop
    done: dict[int, list] = {}                # bound -> solutions (empty: proved none)
    partial: dict[int, list] = {}             # bound -> solutions collected before a stop (--all)
    next_bound, stopped = first, False

    def best_bound():
        return min((b for b, sols in done.items() if sols), default=None)

    def restart(w):   # a lost worker's replacement searches its bound again, from the start
        mine = [b for b, x in running.items() if x == w]
        return ([("search", b) for b in mine] + [("halt", b) for b in mine if b in halted],
                "bound %d searched again from its start" % mine[0] if mine else "it was idle")

    with start_pool(_worker, [(game, all_optimal)] * workers, name="enum worker", restart=restart) as pool:
        while True:
            found = best_bound()
            for b, w in running.items():
                if found is not None and b > found and b not in halted:
                    pool.send(w, ("halt", b))  # a lower bound already has the answer
                    halted.add(b)
            while (not stopped and idle and next_bound <= game.max_length
                   and (found is None or next_bound < found)):
                w = idle.pop(0)
                pool.send(w, ("search", next_bound))
                running[next_bound] = w
                progress(next_bound, 0, 0)
                next_bound += 1
            if not running:
                break
            if should_stop() and not stopped:
                stopped = True
                pool.stop()
            got = pool.receive(timeout=0.2)
            if got is None:
                continue
            w, (kind, bound, explored, dedup, *rest) = got
            if kind == "progress":
                if bound in running:
                    progress(bound, explored, dedup)
                continue
            solutions, was_stopped = rest
            finish(bound, explored, dedup, solutions)
            del running[bound]
            idle.append(w)
            if was_stopped:
                stopped = stopped or not (found is not None and bound > found)
                if solutions:
                    partial[bound] = solutions
            else:
                done[bound] = solutions
        lost.extend(pool.lost)
    found = best_bound()
    if found is None and partial:             # stopped while collecting: keep what the lowest bound has
        found = min(partial)
        return found, partial[found], True, all(b in done for b in range(first, found))
    complete = found is not None and all(b in done for b in range(first, found))
    if found is not None:
        return found, done[found], not complete, complete   # unproven if stopped below it
    proved = first - 1
    while proved + 1 in done:
        proved += 1
    if not stopped and proved >= game.max_length:
        return game.max_length, [], False, False
    return proved + 1, [], True, False


def _worker(link, game, all_optimal):
    """Searches the bounds it is handed, one after another, with one LowerBound whose
    caches carry over from each bound to the next; ("halt", bound) stops that bound."""
    lower = LowerBound(game)
    halted: set[int] = set()
    closing = False

    def stop(bound: int) -> bool:
        nonlocal closing
        for message in link.poll():
            if message is None:
                closing = True
            else:
                halted.add(message[1])
        return closing or link.stopped() or bound in halted

    while not closing:
        message = link.get()
        if message is None:
            return
        kind, bound = message
        if kind == "halt":
            halted.add(bound)
            continue
        space = _search_bound(game, all_optimal, bound, lambda: stop(bound),
                              lambda b, e, d: link.put(("progress", b, e, d)), lower)
        link.put(("done", bound, space.explored, space.deduplicated, space.solutions, space.stopped))

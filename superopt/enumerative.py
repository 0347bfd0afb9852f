"""`enum`: exhaustive iterative deepening over deduplicated states; finds a shortest program and proves it.

Depth-first search under a bound on length + an admissible lower bound, raising the bound
by one until a correct program appears; every bound below it was exhausted, so the program
is optimal within the instruction set and the game's pruning rules. A table keeps the
shallowest depth each state was reached at in the current iteration (a full A* frontier
would cost far more memory for the same proof).

States are canonical: register contents are kept as a sorted multiset (renamings are one
state) and the flags of `cmp a, b` and `cmp b, a` are one state (the cmov conditions come in
swapped pairs l/g, le/ge), so only `cmp a, b` with a < b is tried.

Cuts that keep optimality (a shortest program never needs what they remove):
- lower bound: one store per wrong array slot, plus one register write per distinct needed
  slot content no register holds (an instruction writes one register);
- lost values: a rank some wrong slot needs, on some input, is held nowhere it can still
  be read from;
- dead code: an instruction that overwrites a register, slot or the flags whose last value
  was never read, and instructions that change nothing (up to the flag swap above).
"""
from __future__ import annotations

import multiprocessing as mp
import queue
import signal
import time

from superopt.evaluator import CMOV, CMP, MOV
from superopt.game import Game
from superopt.isa import Program
from superopt.search import SearchOptions, SearchResult, SearchStats

_POLL = 1024          # expansions between stop checks
_FRONTIER_PER_WORKER = 24
_VIABLE_FROM = 7       # the look-alike check pays off only above subtrees this deep


class Enumerator:
    """The search space of one game, with the counters of the work done."""

    def __init__(self, game: Game, all_optimal: bool = False):
        self.game = game
        ev = game.evaluator
        self.R, self.n = len(game.registers), game.n
        self.E = ev.expected
        self.all_optimal = all_optimal
        self.flag_bit = 1 << (self.R + self.n)
        p = game.pruning
        self.memory_order = "memory_order" in p
        self.memory_once = "memory_once" in p
        self.extended = game.isa_name == "extended"
        self.low, self.add, self.guard, self.shift = ev.low, ev.add, ev.guard, ev.shift
        self.content = ev.content
        self.fieldmask = (1 << ev.shift) - 1
        self.width, self.count = ev.shift + 1, ev.count
        self.actions = []
        for a, (kind, d, s, cond) in enumerate(game.ops):
            if kind == CMP and s < self.R and s < d:
                continue  # cmp b, a is cmp a, b with swapped flags
            self.actions.append((a, kind, d, s, cond, game._load_slot[a], game._store_slot[a]))
        self.explored = 0
        self.deduplicated = 0
        self.table: dict = {}
        self.solutions: list[tuple[int, ...]] = []
        self.stop = lambda: False
        self._ticks = 0
        self.stopped = False

    def root(self) -> tuple:
        locs, lt, gt = self.game.evaluator.initial()
        return (locs, lt, gt, -1, 0, 0, 0)   # + last slot loaded, loaded, stored, dirty

    def lower_bound(self, locs: tuple) -> int:
        return self.bound_or_dead(locs, None, -1, 0)

    def bound_or_dead(self, locs: tuple, lt, last: int, loaded: int) -> int:
        """An admissible lower bound on the instructions still needed, or -1 when some
        rank a wrong slot needs is held nowhere it can still be read from.

        stores: one per wrong slot. writes: one per distinct needed slot content that no
        register holds. loads (alphadev set): a slot holding, on some input, a needed rank
        found in no register and no other readable slot must be loaded, and that load was
        not counted as a write unless the slot holds a needed content. cmp: a needed
        content found nowhere needs a cmov, which needs a cmp first if none was made."""
        R, E = self.R, self.E
        regs, mem = locs[:R], locs[R:]
        stores, need, wanted = 0, set(), 0
        for i, e in enumerate(E):
            if mem[i] != e:
                stores += 1
                wanted |= e
                if e not in regs:
                    need.add(e)
        held = 0
        for x in regs:
            held |= x
        readable = [mem[i] for i in range(self.n)
                    if self.extended or not ((self.memory_order and i < last) or (self.memory_once and loaded >> i & 1))]
        everywhere = held
        for x in readable:
            everywhere |= x
        if wanted & ~everywhere:
            return -1
        h = stores + len(need)
        if lt is None and any(e not in mem for e in need):
            h += 1
        return h + self._load_bound(readable, held, wanted, need)

    def _load_bound(self, readable: list, held: int, wanted: int, need: set) -> int:
        """Slots that must still be loaded (alphadev set): they alone hold a needed rank."""
        if self.extended:
            return 0
        count = 0
        for j, x in enumerate(readable):
            if x in need:
                continue
            other = held
            for k, y in enumerate(readable):
                if k != j:
                    other |= y
            if x & wanted & ~other:
                count += 1
        return count

    def _full(self, t: int) -> int:
        return (((t + self.add) & self.guard) >> self.shift) * self.fieldmask

    def children(self, node: tuple, g: int, bound: int):
        """Yield (action id, child node, solved) for every child that survives the cuts."""
        locs, lt, gt, last, loaded, stored, dirty = node
        R, n, E = self.R, self.n, self.E
        memory_order, memory_once, flag_bit = self.memory_order, self.memory_once, self.flag_bit
        lowest_free = next((r for r in range(R) if locs[r] == 0), -1)
        g1 = g + 1
        # With no slack, every remaining step must lower the bound: a register-register
        # mov never does, a store only when it completes its slot, a cmov only when it
        # makes a needed content no register holds, a cmp only when none was made.
        tight = g + self.bound_or_dead(locs, lt, last, loaded) >= bound
        if tight:
            regs = locs[:R]
            need = {e for i, e in enumerate(E) if locs[R + i] != e and e not in regs}
        for a, kind, d, s, cond, ls, ss in self.actions:
            xs = locs[s]
            if xs == 0:
                continue
            nlast, nloaded, nstored = last, loaded, stored
            if kind == MOV:
                xd = locs[d]
                if dirty >> d & 1 or xd == xs:
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
                nlt, ngt = lt, gt
                ndirty = (dirty & ~(1 << s)) | 1 << d
            elif kind == CMP:
                xd = locs[d]
                if dirty & flag_bit or xd == 0 or (tight and lt is not None):
                    continue
                t = xd & (xs - self.low)
                nlt = (((t + self.add) & self.guard) >> self.shift) * self.fieldmask
                t = xs & (xd - self.low)
                ngt = (((t + self.add) & self.guard) >> self.shift) * self.fieldmask
                if (nlt == lt and ngt == gt) or (nlt == gt and ngt == lt):
                    continue
                nlocs = locs
                ndirty = (dirty & ~(1 << d | 1 << s)) | flag_bit
            else:
                xd = locs[d]
                if lt is None or xd == 0:
                    continue
                if cond == "l":
                    c = lt
                elif cond == "g":
                    c = gt
                elif cond == "ge":
                    c = self.content ^ lt
                else:
                    c = self.content ^ gt
                nd = xd ^ ((xd ^ xs) & c)
                if nd == xd or (tight and nd not in need):
                    continue
                nlocs = locs[:d] + (nd,) + locs[d + 1:]
                nlt, ngt = lt, gt
                ndirty = (dirty & ~(1 << s | flag_bit)) | 1 << d
            self.explored += 1
            mem = nlocs[R:]
            if mem == E:
                yield a, (nlocs, nlt, ngt, nlast, nloaded, nstored, ndirty), True
                continue
            if g1 >= bound:
                continue
            h = self.bound_or_dead(nlocs, nlt, nlast, nloaded)
            if h < 0 or g1 + h > bound:
                continue
            yield a, (nlocs, nlt, ngt, nlast, nloaded, nstored, ndirty), False

    def viable(self, node: tuple) -> bool:
        """False when two inputs look the same in every register, readable slot and the
        flags (so every program continues identically on both) yet some wrong slot needs
        different ranks on them."""
        locs, lt, gt, last, loaded, _, _ = node
        R, w, mask = self.R, self.width, self.fieldmask | (1 << self.shift)
        seen = [locs[r] for r in range(R)]
        wrong = []
        for i in range(self.n):
            if locs[R + i] != self.E[i]:
                wrong.append(self.E[i])
            if self.extended or not ((self.memory_order and i < last) or (self.memory_once and loaded >> i & 1)):
                seen.append(locs[R + i])
        if lt is not None:
            seen += (lt, gt)
        needs: dict = {}
        for k in range(0, self.count * w, w):
            sig = tuple(x >> k & mask for x in seen)
            out = tuple(e >> k & mask for e in wrong)
            if needs.setdefault(sig, out) != out:
                return False
        return True

    def key(self, node: tuple) -> tuple:
        locs, lt, gt, last, loaded, stored, _ = node
        R = self.R
        flags = (lt, gt) if lt is None or lt <= gt else (gt, lt)
        return (locs[R:], tuple(sorted(locs[:R])), flags,
                last if self.memory_order else None, loaded if self.memory_once else None,
                stored if self.memory_once else None)

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
        for a, child, solved in self.children(node, g, bound):
            path.append(a)
            if solved:
                self.solutions.append(tuple(path))
                found = True
                if not self.all_optimal:
                    path.pop()
                    return True
            elif self.visit(child, g + 1) and (bound - g < _VIABLE_FROM or self.viable(child)) \
                    and self.dfs(child, g + 1, bound, path):
                found = True
                if not self.all_optimal:
                    path.pop()
                    return True
                self.mark_success(child, g + 1)
            path.pop()
            if self.stopped:
                break
        return found

    def frontier(self, bound: int, size: int) -> list[tuple[tuple, tuple[int, ...]]]:
        """Nodes at the shallowest depth with at least `size` distinct states (or fewer if
        the space runs out), as (node, path); solutions met on the way are kept."""
        level = [(self.root(), ())]
        depth = 0
        while 0 < len(level) < size and depth < bound:
            seen, nxt = set(), []
            for node, path in level:
                for a, child, solved in self.children(node, depth, bound):
                    if solved:
                        self.solutions.append(path + (a,))
                        continue
                    key = self.key(child)
                    if key in seen:
                        self.deduplicated += 1
                        continue
                    seen.add(key)
                    nxt.append((child, path + (a,)))
            if self.solutions:
                return []
            level, depth = nxt, depth + 1
        return level


def run(game: Game, options: SearchOptions, report, should_stop) -> SearchResult:
    """The `enum` agent: raise the bound from the lower bound up to game.max_length."""
    start = time.monotonic()
    space = Enumerator(game, options.all_optimal)
    workers = max(1, options.workers)
    bound = space.lower_bound(space.root()[0])
    explored = dedup = 0
    solutions: list[tuple[int, ...]] = []
    stopped = False
    last_report = [0.0]

    def stats(phase: str, extra_explored: int = 0, extra_dedup: int = 0) -> SearchStats:
        return SearchStats(elapsed=time.monotonic() - start, explored=explored + extra_explored,
                           deduplicated=dedup + extra_dedup, best_length=None, phase=phase)

    while bound <= game.max_length and not solutions:
        report(stats("bound %d" % bound))
        if workers == 1:
            space.table.clear()
            space.explored = space.deduplicated = 0

            def stop_and_report():
                now = time.monotonic()
                if now - last_report[0] > 0.2:
                    last_report[0] = now
                    report(stats("bound %d" % bound, space.explored, space.deduplicated))
                return should_stop()

            space.stop = stop_and_report
            space.visit(space.root(), 0)
            space.dfs(space.root(), 0, bound, [])
            explored += space.explored
            dedup += space.deduplicated
            solutions, stopped = space.solutions, space.stopped
        else:
            solutions, n_exp, n_dedup, stopped = _parallel_bound(game, options, bound, workers, report,
                                                                 should_stop, lambda e, d: stats("bound %d" % bound, e, d))
            explored += n_exp
            dedup += n_dedup
        if stopped:
            break
        if not solutions:
            bound += 1
    elapsed = time.monotonic() - start
    solutions = sorted(set(solutions), key=lambda p: (len(p), p)) if options.all_optimal else solutions[:1]
    programs = [game.to_program(p) for p in solutions]
    best = programs[0] if programs else None
    extras = {"bound_reached": bound, "lower_bound_start": space.lower_bound(space.root()[0])}
    if options.all_optimal and best is not None:
        extras["all_optimal"] = len(programs)
        extras["all_complete"] = not stopped
    if best is None and not stopped:
        extras["none_within"] = game.max_length   # proven: nothing this short exists
    report(SearchStats(elapsed=elapsed, explored=explored, deduplicated=dedup,
                       best_length=len(best) if best else None, best_correct=1.0 if best else 0.0,
                       best_program=list(best.instrs) if best else [], phase="done"))
    return SearchResult(program=best, length=len(best) if best else None, optimal=best is not None,
                        explored=explored, elapsed=elapsed, deduplicated=dedup, candidates=programs, extras=extras)


def _parallel_bound(game, options, bound, workers, report, should_stop, make_stats):
    """One iteration of the bound over `workers` processes: the frontier is split in blocks;
    the solution kept is the one under the lowest frontier index (deterministic)."""
    space = Enumerator(game, options.all_optimal)
    level = space.frontier(bound, _FRONTIER_PER_WORKER * workers)
    if space.solutions or not level:
        return space.solutions, space.explored, space.deduplicated, False
    ctx = mp.get_context("fork")
    results = ctx.Queue()
    stop = ctx.Event()
    best_index = ctx.Value("l", len(level))
    procs = [ctx.Process(target=_worker, args=(game, options.all_optimal, bound, level, w, workers,
                                                results, stop, best_index), daemon=True)
             for w in range(workers)]
    for p in procs:
        p.start()
    progress = {w: (0, 0) for w in range(workers)}
    found: list[tuple[int, tuple]] = []
    done = 0
    stopped = False
    try:
        while done < workers:
            if should_stop() and not stopped:
                stopped = True
                stop.set()
            try:
                msg = results.get(timeout=0.2)
            except queue.Empty:
                if not any(p.is_alive() for p in procs) and results.empty():
                    break
                continue
            kind, w = msg[0], msg[1]
            if kind == "progress":
                progress[w] = msg[2:4]
            elif kind == "done":
                progress[w] = msg[2:4]
                found.extend(msg[4])
                done += 1
            report(make_stats(space.explored + sum(e for e, _ in progress.values()),
                              space.deduplicated + sum(d for _, d in progress.values())))
    finally:
        stop.set()
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
    found.sort()
    if not options.all_optimal:
        found = found[:1]
    return ([path for _, path in found], space.explored + sum(e for e, _ in progress.values()),
            space.deduplicated + sum(d for _, d in progress.values()), stopped)


def _worker(game, all_optimal, bound, level, w, workers, results, stop, best_index):
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the driver's business
    space = Enumerator(game, all_optimal)
    last = [time.monotonic()]

    def poll():
        now = time.monotonic()
        if now - last[0] > 0.2:
            last[0] = now
            results.put(("progress", w, space.explored, space.deduplicated))
        return stop.is_set()

    space.stop = poll
    found = []
    depth = len(level[0][1])
    # contiguous blocks: neighbouring subtrees share more states than round-robin ones
    share = -(-len(level) // workers)
    for index in range(w * share, min(len(level), (w + 1) * share)):
        if stop.is_set() or (not all_optimal and index > best_index.value):
            break
        node, prefix = level[index]
        if not space.visit(node, depth):
            continue
        before = len(space.solutions)
        path = list(prefix)
        if space.dfs(node, depth, bound, path):
            found.extend((index, p) for p in space.solutions[before:])
            if not all_optimal:
                with best_index.get_lock():
                    best_index.value = min(best_index.value, index)
                break
        if space.stopped:
            break
    results.put(("done", w, space.explored, space.deduplicated, found))

"""An admissible lower bound on the instructions a state of the assembly game still needs.

Shared by the searchers: `enum` cuts a node when depth + bound exceeds its length bound
(which keeps its proof of optimality), and the AlphaDev agent ends a game there, so that
its value estimates learn early that a line cannot beat the best program found.
"""
from __future__ import annotations


class LowerBound:
    """`bound(locs, lt, gt, last, loaded[, budget, compared])` for one game's evaluator,
    registers, instruction set and pruning rules, with its caches. `intermediates`: count
    the intermediate values compared_select implies (see `intermediate`)."""

    def __init__(self, game, intermediates: bool = True):
        ev = game.evaluator
        self.R, self.n, self.E = len(game.registers), game.n, ev.expected
        p = game.pruning
        self.memory_order = "memory_order" in p
        self.memory_once = "memory_once" in p
        self.extended = game.isa_name == "extended"
        self.select = intermediates and "compared_select" in p
        self.one_of, self.full = ev.one_of, ev.full
        self.low, self.add, self.guard, self.shift = ev.low, ev.add, ev.guard, ev.shift
        self.content = ev.content
        self.fieldmask = (1 << ev.shift) - 1
        self._readable: dict = {}   # (last slot loaded, slots loaded) -> slots still readable
        self._cmps: dict = {}       # (locations, contents held nowhere, flags) -> cmps needed
        self._steps: dict = {}      # (locations, contents held nowhere, compared pair) -> intermediates needed
        self.max_cmps = 4   # deeper counts cost more time than they save (measured)

    def __call__(self, locs: tuple, lt, gt, last: int, loaded: int, budget: int | None = None,
                 compared: tuple | None = None) -> int:
        """An admissible lower bound on the instructions still needed, or -1 when some
        rank a wrong slot needs is held nowhere it can still be read from.

        stores: one per wrong slot. writes: one per distinct needed slot content that no
        register holds. loads (alphadev set): a slot holding, on some input, a needed rank
        found in no register and no other readable slot must be loaded, and that load was
        not counted as a write unless the slot holds a needed content. cmp: see _cmps_needed.
        With a `budget` (steps left under the search bound), any value above it may be
        returned in place of the bound (the node is cut either way), which keeps the cmp
        count cheap."""
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
        key = (last, loaded)
        slots = self._readable.get(key)
        if slots is None:
            slots = self._readable[key] = tuple(
                i for i in range(self.n)
                if self.extended or not ((self.memory_order and i < last) or (self.memory_once and loaded >> i & 1)))
        everywhere, twice = held, 0
        for i in slots:
            twice |= everywhere & mem[i]
            everywhere |= mem[i]
        if wanted & ~everywhere:
            return -1
        h = stores + len(need)
        if not self.extended:   # loads: slots that alone hold some needed rank
            for i in slots:
                x = mem[i]
                if x & wanted & ~twice and x not in need:
                    h += 1
        if self.select:
            h += self.intermediate(locs, need, compared)
        cap = self.max_cmps if budget is None else min(self.max_cmps, budget - h + 1)
        return h + self._cmps_needed(locs, lt, gt, need, cap) if cap > 0 else h

    def intermediate(self, locs: tuple, need: set, compared: tuple | None) -> int:
        """A lower bound (0, 1 or 2) on the cmovs that make values other than the needed
        contents: the intermediate values compared_select implies.

        Under compared_select a cmov writes, on every input, one of the two values the last
        cmp compared (`compared`, for the cmp already made), so a needed content held
        nowhere is made right after comparing two values that exist by then: ones that
        exist now, were compared by the last cmp, or are needed contents made first. A
        content no pair of those fits (it is "lacking") needs some other value z made
        first, and then equals one_of(z, p) for some such p: z holds it wherever p does
        not. When no single z can do that for every lacking content, two are needed."""
        absent = [e for e in need if e not in locs]
        if not absent:
            return 0
        key = (frozenset(locs), frozenset(absent), compared)
        got = self._steps.get(key)
        if got is None:
            if len(self._steps) > 1 << 20:
                self._steps.clear()
            pool = list({x for x in locs if x}.union(absent, compared or ()))
            one_of = self.one_of
            lacking = []
            for e in absent:
                others = [x for x in pool if x != e]
                if not any(one_of(e, a, b) for i, a in enumerate(others) for b in others[i:]):
                    lacking.append(e)
            got = 0 if not lacking else 1 if self._one_serves(lacking, pool) else 2
            self._steps[key] = got
        return got

    def _one_serves(self, lacking: list, pool: list) -> bool:
        """Whether one value z can hold each lacking content e on the inputs where some
        p of the pool (p != e, chosen per e) does not."""
        full = self.full
        options = []   # per lacking content: the weakest masks where z must equal it
        for e in lacking:
            masks = sorted({full(e ^ p) for p in pool if p != e}, key=int.bit_count)
            options.append((e, [m for i, m in enumerate(masks) if not any(k & m == k for k in masks[:i])]))

        def extend(i: int, chosen: list) -> bool:
            if i == len(options):
                return True
            e, masks = options[i]
            for m in masks:
                if all(not (m & k & full(e ^ f)) for f, k in chosen) and extend(i + 1, chosen + [(e, m)]):
                    return True
            return False

        return extend(0, [])

    def _cmps_needed(self, locs: tuple, lt, gt, need: set, cap: int) -> int:
        """min(cap, a lower bound on the cmps the needed contents held nowhere take).

        Until the next cmp, every new value is a cmov select of existing values under the
        last cmp's flags (mov, load and store only copy), so on each class of inputs those
        flags separate (less, greater, equal; before any cmp, one class) it equals some
        location existing now. The next cmp compares two such values, so it splits each
        class by comparing two locations on it, chosen per class; values made after it are
        pieced together from the locations on the finer cells; and so on. A needed content
        is done when it equals some location on every cell, so the count is, over the
        classes, the largest number of splits a class takes, searched up to `cap`
        (relaxed: registers, slot-read rules and cmov counts are ignored, so it stays a
        lower bound)."""
        absent = [e for e in need if e not in locs]
        if not absent:
            return 0
        live = tuple(sorted({x for x in locs if x}))
        key = (live, tuple(sorted(absent)), lt, gt) if lt is None or lt <= gt else (live, tuple(sorted(absent)), gt, lt)
        got = self._cmps.get(key)
        if got is not None and (got[0] < got[1] or cap <= got[1]):
            return min(got[0], cap)
        if len(self._cmps) > 1 << 20:
            self._cmps.clear()
        count = self._count_cmps(live, absent, lt, gt, cap)
        self._cmps[key] = (count, cap)
        return count

    def _count_cmps(self, live: tuple, absent: list, lt, gt, cap: int) -> int:
        content = self.content
        classes = [content] if lt is None else [k for k in (lt, gt, content ^ (lt | gt)) if k]
        low, add, guard, shift, fm = self.low, self.add, self.guard, self.shift, self.fieldmask

        def differ(e):   # per location: the inputs on which it does not hold e
            return [((((e ^ x) + add) & guard) >> shift) * fm for x in live]

        def composable(cell):   # every hard content equals some location on `cell`
            for diffs in hard:
                for d in diffs:
                    if not d & cell:
                        break
                else:
                    return False
            return True

        hard = [ds for ds in map(differ, absent) if not all(any(not d & k for d in ds) for k in classes)]
        if not hard:
            return 0
        # per pair of locations: the inputs on which the first is less / greater
        splits_of = [(((((a & (b - low)) + add) & guard) >> shift) * fm, ((((b & (a - low)) + add) & guard) >> shift) * fm)
                     for i, a in enumerate(live) for b in live[i + 1:]]
        memo: dict = {}   # cell -> (count, cap it was searched under); composable cells count 0

        def least(cell: int, cap: int) -> int:
            """min(cap, cmps needed before every hard content is composable on `cell`)."""
            got = memo.get(cell)
            if got is not None:
                count, tried = got
                if count < tried or cap <= tried:
                    return count if count < cap else cap
            elif composable(cell):
                memo[cell] = (0, 1)
                return 0
            if cap <= 1:
                return cap
            best = cap
            splits = set()
            for less, more in splits_of:
                less &= cell
                more &= cell
                if less != cell and more != cell and less | more:   # else it does not split the cell
                    splits.add((less, more) if less < more else (more, less))
            for less, more in splits:
                target, worst = best - 1, 0
                for sub in (less, more, cell ^ less ^ more):
                    if sub:
                        w = least(sub, target)
                        if w > worst:
                            worst = w
                            if w >= target:
                                break
                if worst < target:
                    best = worst + 1
                    if best == 1:
                        break
            memo[cell] = (best, cap)
            return best

        return max(least(k, cap) for k in classes)

"""`splice`: a variable sort as one straight-line sortN kernel with a branch per shorter length into its shared tail.

The shape of the human varsortN (a branch per length into straight-line sorts) with the
code shared: the kernel S for length N is a sorting network compiled to mov/cmp/cmovg
(`networks`: insertion-shaped ones first, then every network of the fewest comparators
known up to `extra` more), or a straight-line sortN kernel given with `--init`; a length
k < N leaves S at a point p_k no later than S's first access to slot k (`cmp $k, %esi;
je`, the cmp left out when the flags of the same cmp are still there) and rejoins it at a
label at a later point q_k, so that inputs of length k run S[:p_k] + S[q_k:]; lengths 0
and 1 return at once (`cmp $2, %esi; jl` to the final ret). Each layout is played on the
branch game (superopt.game.branches) over every length and weak ordering and kept if every
input ends sorted under the game's exact rules, so what it returns is proven; the shortest
found wins. It proves no optimality: other shapes exist.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import ClassVar

from superopt.errors import SuperoptError
from superopt.agents.base import SearchOptions, SearchResult, SearchStats
from superopt.agents.params import Params, count, param, positive
from superopt.game.branches import PLACE, BranchGame
from superopt.game.game import human_length
from superopt.x86.isa import Instr, Reg, instruction_count


@dataclass(frozen=True)
class SpliceParams(Params):
    """`--param` keys of the splice agent."""
    agent: ClassVar[str] = "splice"
    uses: ClassVar[frozenset] = frozenset({"init"})
    extra: int = param(1, count)            # networks with up to this many comparators more than the fewest
    patience: int = param(20_000, positive)  # kernels tried without a shorter program before stopping


KEEP = 512   # correct layouts kept (the driver screens this many by native latency)
INSERTION_PREFIXES = 8   # prefix networks per insertion-shaped network
COMBINATIONS = 64   # combinations of the lengths' (exit, join) pairs played per kernel


class Splicer:
    """Layouts of one sortN kernel (fixed-game action ids, which are the branch game's too)."""

    def __init__(self, game: BranchGame):
        self.game = game
        self.check = game.unpruned()
        self.cmpi, self.jcc, self.place, self.ret = game.move_ids
        self.flag_writers = {a for a, m in enumerate(game.writes_mask) if m >> (len(game.registers) + game.n) & 1}

    def layouts(self, kernel: list[int]) -> list[list[int]]:
        """Correct layouts of `kernel` (at most COMBINATIONS tried), shortest first.

        A length's inputs run only their own exit and join (the guards compare %esi, which no
        kernel instruction reads), so each length's (exit, join) pairs are found alone, with
        the full length checked too (a guard must not split a cmp from its cmovs); then
        combinations of them are played on every input."""
        game, n = self.game, self.game.n
        first = [next((i for i, a in enumerate(kernel) if self._touches(a, k)), len(kernel)) for k in range(n + 1)]
        # length k rejoins after S's last access to any slot >= k (it may not touch them)
        last = [max((i for i, a in enumerate(kernel) if any(self._touches(a, j) for j in range(k, n))), default=-1)
                for k in range(n + 1)]
        ks = range(2, n)
        options = []
        for k in ks:
            pairs = []
            for p in range(first[k] + 1):
                for q in range(max(p, last[k]) + 1, len(kernel) + 1):
                    actions = self._layout(kernel, {k: p}, {k: q})
                    if actions is not None and game.sorted_on(game.play(actions), (k, n)):
                        pairs.append((p, q))
            if not pairs:
                return []
            # the exit with the length compare's flags still live first: it saves a cmp
            pairs.sort(key=lambda pq: (self.length(self._layout(kernel, {k: pq[0]}, {k: pq[1]})), -pq[0]))
            options.append(pairs)
        found = []
        for combo in itertools.islice(itertools.product(*options), COMBINATIONS):
            actions = self._layout(kernel, {k: pq[0] for k, pq in zip(ks, combo)},
                                   {k: pq[1] for k, pq in zip(ks, combo)})
            if actions is not None and game.play(actions).solved and self.check.is_legal_sequence(actions):
                found.append(actions)
        return sorted(found, key=self.length)

    def _touches(self, a: int, slot: int) -> bool:
        return slot < self.game.n and slot in (self.game.load_slot[a], self.game.store_slot[a])

    def length(self, actions: list[int]) -> int:
        return sum(self.game.ops[a][0] != PLACE for a in actions)

    def _layout(self, kernel, exits: dict, joins: dict) -> list[int] | None:
        labels: dict[int, int] = {}   # join point -> label id
        out = [self.cmpi[2], self.jcc[(0, "l")]]   # lengths 0, 1: to the final ret (label 0)
        flags = 2                                    # the k of the cmp whose flags are live, else None
        for i in range(len(kernel) + 1):
            if i in labels:
                if out[-1] in self.place.values():
                    return None
                out.append(self.place[labels[i]])
                flags = None
            for k in sorted(k for k, p in exits.items() if p == i):
                if joins[k] not in labels:
                    labels[joins[k]] = len(labels) + 1
                    if len(labels) + 1 > self.game.num_labels:
                        return None
                if flags != k:
                    out.append(self.cmpi[k])
                    flags = k
                out.append(self.jcc[(labels[joins[k]], "e")])
            if i < len(kernel):
                out.append(kernel[i])
                if kernel[i] in self.flag_writers:
                    flags = None
        out += [self.place[0], self.ret]
        return out


def networks(n: int, extra: int, stop):
    """Comparator networks (lists of wire pairs i < j) that sort n wires: first the
    insertion-shaped ones (a network of the first n-1 wires, of this same kind, then wire
    n-1 bubbled down by (n-2, n-1), ..., (0, 1): each shorter length's code is then a
    prefix), then every network of the fewest comparators known (game.human_length) up to
    `extra` more, depth-first by the 0-1 principle: a comparator must change some reachable
    0-1 vector, a comparator merges at most pairs of vectors (so at most (n+1) x 2^r may
    remain with r to go), and of two adjacent comparators on disjoint wires only the
    lexically ordered pair is tried (they commute)."""
    yield from _insertion_shaped(n, INSERTION_PREFIXES)
    yield from _searched(n, extra, stop)


def _searched(n: int, extra: int, stop):
    """Every network of the fewest comparators up to `extra` more (see networks)."""
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    start = frozenset(range(1 << n))
    done = frozenset((1 << m) - 1 for m in range(n + 1))   # sorted: the ones on the last wires

    def apply(vectors, i, j):   # bit w of a vector is wire n-1-w: wire i > wire j swaps them
        bi, bj = 1 << (n - 1 - i), 1 << (n - 1 - j)
        return frozenset(v ^ bi ^ bj if v & bi and not v & bj else v for v in vectors)

    def dfs(vectors, net, depth):
        if stop() or len(vectors) > (n + 1) << depth:
            return
        if depth == 0:
            if vectors <= done:
                yield list(net)
            return
        for i, j in pairs:
            if net and not {i, j} & set(net[-1]) and (i, j) < net[-1]:
                continue
            nxt = apply(vectors, i, j)
            if nxt != vectors:
                net.append((i, j))
                yield from dfs(nxt, net, depth - 1)
                net.pop()

    fewest = (human_length(n) - 2 * n) // 4
    for size in range(fewest, fewest + extra + 1):
        yield from dfs(start, [], size)


def _insertion_shaped(n: int, limit: int) -> list:
    """Insertion-shaped networks of n wires (see networks), from up to `limit` insertion-shaped
    and `limit` fewest-comparator networks of n-1 wires."""
    if n == 2:
        return [[(0, 1)]]
    chain = [(i, i + 1) for i in reversed(range(n - 1))]
    prefixes = _insertion_shaped(n - 1, limit)[:limit] + list(itertools.islice(_searched(n - 1, 0, lambda: False), limit))
    unique = list(dict.fromkeys(tuple(p) for p in prefixes))
    return [list(p) + chain for p in unique]


def compile_network(game: BranchGame, net: list) -> list[int]:
    """A network as straight-line code (fixed-game action ids): wire i lives in register i
    (loaded just before its first comparator, stored just after its last), the last
    register is scratch; comparator (i, j) is cmp, mov, cmovg, cmovg (min to i, max to j)."""
    base = game.base
    R = len(game.registers)
    ids = {op: a for a, op in enumerate(base.ops)}
    t = R - 1
    wires = {w for c in net for w in c}   # all n, or the first k of a sortk body (dispatch)
    first = {w: min(k for k, c in enumerate(net) if w in c) for w in wires}
    last = {w: max(k for k, c in enumerate(net) if w in c) for w in wires}
    out = []
    for k, (i, j) in enumerate(net):
        out += [ids[(0, w, R + w, None)] for w in (i, j) if first[w] == k]                # loads
        out += [ids[(1, i, j, None)], ids[(0, t, i, None)], ids[(2, i, j, "g")], ids[(2, j, t, "g")]]
        out += [ids[(0, R + w, w, None)] for w in (i, j) if last[w] == k]                 # stores
    return out


def run(game: BranchGame, options: SearchOptions, report, should_stop) -> SearchResult:
    params = options.params
    start = time.monotonic()
    splicer = Splicer(game)
    stats = SearchStats(phase="splicing")
    best, tried, since = None, 0, 0
    correct: list[list[int]] = []   # every correct layout found, for --objective latency to rank

    def visit(kernel: list[int]) -> bool:
        nonlocal best, tried, since
        tried += 1
        since += 1
        found = splicer.layouts(kernel)
        correct.extend(found[:KEEP - len(correct)])
        if found and (best is None or splicer.length(found[0]) < splicer.length(best)):
            best, since = found[0], 0
            stats.best_length = instruction_count(game.to_program(best))
            stats.best_program = game.to_program(best).instrs
        stats.elapsed, stats.explored = time.monotonic() - start, tried
        report(stats)
        target = options.target_length
        return since >= params.patience or (best is not None and target is not None and stats.best_length <= target)

    if options.init is not None:
        visit(kernel_ids(game, options.init))
    else:
        for net in networks(game.n, params.extra, should_stop):
            if visit(compile_network(game, net)) or should_stop():
                break
    program = None if best is None else game.to_program(best)
    correct.sort(key=splicer.length)
    return SearchResult(program, None if program is None else instruction_count(program), False, tried,
                        time.monotonic() - start, candidates=[game.to_program(c) for c in correct],
                        extras={"kernels tried": tried})


def kernel_ids(game: BranchGame, program) -> list[int]:
    """A straight-line sort kernel (sortN, or sortk for k < N: dispatch's bodies) as fixed-game
    action ids, its registers renamed onto the game's in order of first use (a renaming keeps
    what it computes)."""
    names: dict[str, str] = {}
    fixed = game.base
    ids = []
    for ins in program.instrs:
        if ins.op == "ret":
            continue
        ops = []
        for op in ins.operands:
            if isinstance(op, Reg) and op.family != "rdi":
                if op.family not in names and len(names) < len(game.registers):
                    names[op.family] = game.registers[len(names)]
                op = Reg(names.get(op.family, op.family), op.width)
            ops.append(op)
        ids.append(fixed.action_id(Instr(ins.op, tuple(ops), cond=ins.cond, width=ins.width)))
    if None in ids:
        raise SuperoptError("not a straight-line sort kernel of mov/cmp/cmovCC over at most %d registers (what "
                            "--init for splice takes)" % len(game.registers))
    return ids

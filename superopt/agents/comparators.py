"""Sorting networks: optimal-size ones for 3..8 inputs, the 0-1 check, and a kernel read back as its network.

A network is a list of comparators (i, j), i < j: the minimum goes to wire i, the maximum
to wire j. `sorts` checks one by the 0-1 principle (a comparator network sorts every input
iff it sorts every 0-1 input). `network_of` recovers the network a compare-and-move kernel
computes, by running it on every weak ordering: each cmov must leave the minimum or the
maximum of the two values its cmp compared, and slot i must end with wire i's value.
"""
from __future__ import annotations

import itertools

import numpy as np

from superopt.errors import InputError
from superopt.tasks.sort import weak_orderings
from superopt.x86.isa import Mem, Program, Reg

Network = list[tuple[int, int]]

# Optimal-size networks (fewest comparators known, proven optimal for n <= 8; Knuth, TAOCP
# vol. 3, 5.3.4), listed layer by layer; `the network` is the one asm/sortN.s implements.
NETWORKS: dict[int, dict[str, Network]] = {
    3: {"the network": [(0, 2), (0, 1), (1, 2)]},
    4: {"the network": [(0, 1), (2, 3), (0, 2), (1, 3), (1, 2)]},
    5: {"the network": [(0, 1), (3, 4), (2, 4), (2, 3), (1, 4), (0, 3), (0, 2), (1, 3), (1, 2)]},
    6: {"the network": [(1, 2), (4, 5), (0, 2), (3, 5), (0, 1), (3, 4), (2, 5), (0, 3), (1, 4), (2, 4), (1, 3),
                        (2, 3)],
        "depth 5": [(0, 5), (1, 3), (2, 4), (1, 2), (3, 4), (0, 3), (2, 5), (0, 1), (2, 3), (4, 5), (1, 2),
                    (3, 4)]},
    7: {"the network": [(1, 2), (3, 4), (5, 6), (0, 2), (3, 5), (4, 6), (0, 1), (4, 5), (2, 6), (0, 4), (1, 5),
                        (0, 3), (2, 5), (1, 3), (2, 4), (2, 3)],
        "depth 6": [(0, 6), (2, 3), (4, 5), (0, 2), (1, 4), (3, 6), (0, 1), (2, 5), (3, 4), (1, 2), (4, 6),
                    (2, 3), (4, 5), (1, 2), (3, 4), (5, 6)]},
    8: {"the network": [(0, 2), (1, 3), (4, 6), (5, 7), (0, 4), (1, 5), (2, 6), (3, 7), (0, 1), (2, 3), (4, 5),
                        (6, 7), (2, 4), (3, 5), (1, 4), (3, 6), (1, 2), (3, 4), (5, 6)]},
    9: {"25 comparators": [(0, 3), (1, 7), (2, 5), (4, 8), (0, 7), (2, 4), (3, 8), (5, 6), (0, 2), (1, 3), (4, 5),
                           (7, 8), (1, 4), (3, 6), (5, 7), (0, 1), (2, 4), (3, 5), (6, 8), (2, 3), (4, 5), (6, 7),
                           (1, 2), (3, 4), (5, 6)]},
}


def sorts(n: int, network: Network) -> bool:
    """Whether the network sorts every input (0-1 principle: every 0-1 input suffices)."""
    bits = ((np.arange(1 << n)[:, None] >> np.arange(n)) & 1).astype(np.int8)
    for i, j in network:
        lo, hi = np.minimum(bits[:, i], bits[:, j]), np.maximum(bits[:, i], bits[:, j])
        bits[:, i], bits[:, j] = lo, hi
    return bool(np.all(bits[:, :-1] <= bits[:, 1:]))


def mirrored(n: int, network: Network) -> Network:
    """The network reflected (wire w -> n-1-w, minimum and maximum exchanged): it sorts too,
    and the known orders between its values, which decide the savings, are mirrored."""
    return [(n - 1 - j, n - 1 - i) for i, j in network]


def untangled(network: list[tuple[int, int]]) -> Network:
    """A network of comparators (a, b) that put the minimum on wire a, a > b allowed, as a
    standard one of the same size (Knuth, TAOCP 5.3.4 exercise 16): a reversed comparator is
    turned round and wires a and b are exchanged in every later one."""
    network, rest = [], list(network)
    while rest:
        a, b = rest.pop(0)
        if a > b:
            swap = {a: b, b: a}
            rest = [(swap.get(x, x), swap.get(y, y)) for x, y in rest]
            a, b = b, a
        network.append((a, b))
    return network


def without_wire(n: int, network: Network, wire: int, top: bool) -> Network:
    """The network for n-1 inputs left when wire `wire` holds +infinity (top) or -infinity:
    a comparator the infinite value meets either leaves it (and goes) or is a swap (and
    goes, the two contents renamed); the rest, renamed by where each output ends, is untangled."""
    at = wire                    # where the infinite value is
    pos = list(range(n))         # original wire -> the new wire whose content is there
    kept = []
    for i, j in network:
        if at in (i, j):
            if (at == i) == top:   # it crosses: the comparator is a swap
                pos[i], pos[j] = pos[j], pos[i]
                at = j if at == i else i
            continue
        kept.append((pos[i], pos[j]))
    rank = {pos[p]: p - (p > at) for p in range(n) if p != at}   # new wire -> the output it must hold
    return untangled([(rank[x], rank[y]) for x, y in kept])


def completions(n: int, prefix: Network, size: int) -> list[Network]:
    """Every network of `size` comparators that starts with `prefix` (its first layers): a
    depth-first search over the 0-1 inputs the prefix leaves unsorted, remembering the sets
    that cannot be sorted in the comparators left. Independent neighbours are tried in one
    order only; other orders of one network's comparators remain (the beam orders them anyway)."""
    done = {sum(1 << w for w in range(n - k, n)) for k in range(n + 1)}   # sorted: the ones on the top wires
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    dead: set = set()
    out: list[Network] = []

    def apply(vectors, i, j):
        return frozenset(v ^ (1 << i | 1 << j) if v >> i & 1 and not v >> j & 1 else v for v in vectors)

    def extend(vectors, left, path):
        if vectors <= done:
            out.append(list(prefix) + path)
            return True
        if not left or (vectors, left) in dead:
            return False
        found = False
        for i, j in pairs:
            if path and len({i, j, *path[-1]}) == 4 and (i, j) < path[-1]:
                continue
            after = apply(vectors, i, j)
            if after != vectors and extend(after, left - 1, path + [(i, j)]):
                found = True
        if not found:
            dead.add((vectors, left))
        return found

    start = frozenset(range(1 << n))
    for i, j in prefix:
        start = apply(start, i, j)
    extend(start, size - len(prefix), [])
    return out


def canonical(network: Network) -> tuple:
    """One order of a network's comparators (the smallest ready one first): networks that
    differ only in the order of independent comparators get the same."""
    last, before = {}, []
    for k, (i, j) in enumerate(network):
        before.append({last[w] for w in (i, j) if w in last})
        last[i] = last[j] = k
    done: set = set()
    order = []
    while len(order) < len(network):
        k = min((k for k in range(len(network)) if k not in done and before[k] <= done), key=lambda k: network[k])
        done.add(k)
        order.append(network[k])
    return tuple(order)


COMPLETED = 7   # comparators `candidates` leaves to `completions` after a known network's first ones


def candidates(n: int, extra: dict[str, Network] | None = None, derived: bool = True,
               completed: bool = False) -> dict[str, Network]:
    """The networks the rewrite tries for sortN: `extra` and the known ones, with `derived`
    the optimal-size ones left by fixing one or two wires of a bigger known network to
    +-infinity, with `completed` every way to finish a known network's first comparators
    (all but COMPLETED) and the two halves' known networks at the optimal size (those differing
    from the rest in more than the order of independent comparators), each also mirrored,
    without repeats."""
    size = min((len(net) for net in NETWORKS.get(n, {}).values()), default=None)
    found = dict(extra or {})
    found.update(NETWORKS.get(n, {}))
    if completed and size is not None:
        half = lambda net: net + [(i + n // 2, j + n // 2) for i, j in net]   # noqa: E731
        starts = {"the first %d of %s" % (size - COMPLETED, name): net[:size - COMPLETED]
                  for name, net in NETWORKS[n].items()}
        starts.update({"two halves by %s" % name: half(net) for name, net in NETWORKS.get(n // 2, {}).items()}
                      if n % 2 == 0 else {})
        orders = {canonical(net) for net in found.values()}
        for name, start in starts.items():
            for net in completions(n, start, size):
                if canonical(net) not in orders:
                    orders.add(canonical(net))
                    found["%s, completed (%d)" % (name, len(orders))] = list(canonical(net))
    for m in (n + 1, n + 2) if derived else ():
        for name, net in NETWORKS.get(m, {}).items():
            for fixed in itertools.product(range(m), (True, False), range(m - 1), (True, False)) if m == n + 2 \
                    else ((w, t) for w in range(m) for t in (True, False)):
                small, label = net, []
                for wire, top in zip(fixed[::2], fixed[1::2]):
                    small = without_wire(m - len(label), small, wire, top)
                    label.append("%s%d" % ("+" if top else "-", wire))
                if (size is None or len(small) <= size) and sorts(n, small):
                    found.setdefault("sort%d's %s, wires %s fixed" % (m, name, " ".join(label)), small)
    out, seen = {}, set()
    for name, net in found.items():
        for label, variant in ((name, net), (name + ", mirrored", mirrored(n, net))):
            if tuple(variant) not in seen:
                seen.add(tuple(variant))
                out[label] = variant
    return out


def network_of(program: Program, n: int) -> Network:
    """The comparator network a mov/cmp/cmov kernel for sortN computes; InputError (file,
    line, reason) for anything else."""
    ranks = weak_orderings(n).T            # (n, inputs)
    where: dict = {}                       # location -> value id
    values: list[np.ndarray] = []          # value id -> its ranks on every input
    index: dict[bytes, int] = {}           # ranks -> value id
    wire = {}                              # value id -> the wire it is on
    compared = None                        # (value id, value id) of the last cmp
    network: Network = []
    outputs: dict[int, tuple] = {}         # comparator inputs -> outputs produced so far

    def fail(k, why):
        line = program.lines[k] if k < len(program.lines) else None
        raise InputError("not a comparator-network kernel: %s" % why, program.path, line, program.instrs[k].att())

    def value(array) -> int:
        key = array.tobytes()
        if key not in index:
            index[key] = len(values)
            values.append(array)
        return index[key]

    for i in range(n):
        wire[value(ranks[i])] = i
    for k, ins in enumerate(program.instrs):
        ops = ins.operands
        locs = [("slot", o.disp // 4) if isinstance(o, Mem) and o.base == "rdi" and o.index is None else
                ("reg", o.family) if isinstance(o, Reg) else None for o in ops]
        if ins.op in ("ret", "push", "pop"):
            continue
        if None in locs or ins.op not in ("mov", "cmp", "cmov"):
            fail(k, "only mov, cmp and cmov on registers and a[0..%d) are read" % n)
        d, s = locs
        if ins.op == "mov":
            if s[0] == "slot":
                if not 0 <= s[1] < n:
                    fail(k, "slot outside a[0..%d)" % n)
                where[d] = value(ranks[s[1]])
            elif s not in where:
                fail(k, "reads a register not written")
            else:
                where[d] = where[s]
            if d[0] == "slot" and wire.get(where[d]) != d[1]:
                fail(k, "stores a value that is not wire %d's" % d[1])
            continue
        if d not in where or s not in where:
            fail(k, "reads a location not written")
        if ins.op == "cmp":
            compared = (where[d], where[s])
            continue
        if compared is None:
            fail(k, "cmov before any cmp")
        a, b = values[compared[0]], values[compared[1]]
        taken = {"l": a < b, "g": a > b, "le": a <= b, "ge": a >= b}.get(ins.cond)
        if taken is None:
            fail(k, "condition %s is not an order" % ins.cond)
        result = np.where(taken, values[where[s]], values[where[d]])
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        if not (np.array_equal(result, lo) or np.array_equal(result, hi)):
            fail(k, "a cmov that leaves neither the minimum nor the maximum of the values compared")
        where[d] = value(result)
        pair = tuple(sorted(compared))
        got = outputs.setdefault(pair, set())
        got.add(where[d])
        if len(got) == 2:
            i, j = sorted((wire[pair[0]], wire[pair[1]]))
            wire[value(lo)], wire[value(hi)] = i, j
            network.append((i, j))
            del outputs[pair]
    stored = {d[1] for d in where if d[0] == "slot"}
    if stored != set(range(n)) or not sorts(n, network):
        raise InputError("not a comparator-network kernel: it does not store a sorting network's outputs to "
                         "a[0..%d)" % n, program.path, None, None)
    return network

"""A function task's verification inputs: edge values per argument type crossed over the
arguments, random inputs, and every counterexample recorded so far.

Edge values of a type of width w: 0, +-1, 2^k and 2^k +- 1 (negated too for signed types), the
extremes and their neighbours, and w-1, w, w+1 (shift counts). Crossing every argument's edges
is exact for one or two arguments; with more, the cross of a small core set (0, +-1, +-2, the
extremes, w-1..w+1) is kept, and each pair of arguments gets its full cross with the others at
core values, so that every pair of edge values meets, up to EDGE_CAP inputs. Random inputs are
uniform, small (-16..16) or sparse (one to three bits set), per argument.

Counterexamples live in the task's cache (superopt.tasks.cache), one line of hexadecimal
arguments each, keyed by the reference's content hash: a counterexample found by one search
or proof is an input of every later verify of the same spec.
"""
from __future__ import annotations

import itertools

import numpy as np

from superopt.tasks.cache import cache_dir

EDGE_CAP = 40_000            # edge inputs at most (the full cross of two int32 arguments fits)
_FILE = "counterexamples.txt"


def edge_values(ctype) -> list[int]:
    """The type's edge values as C values (see the module docstring)."""
    if ctype.is_bool:
        return [0, 1]
    w = ctype.width
    values = {0, 1, 2, w - 1, w, w + 1, ctype.min, ctype.min + 1, ctype.max, ctype.max - 1}
    for k in range(1, w):
        values |= {(1 << k) - 1, 1 << k, (1 << k) + 1}
    if ctype.signed:
        values |= {-v for v in values}
    return sorted(v for v in values if ctype.min <= v <= ctype.max)


def core_values(ctype) -> list[int]:
    if ctype.is_bool:
        return [0, 1]
    w = ctype.width
    values = {0, 1, 2, w - 1, w, w + 1, ctype.min, ctype.max}
    if ctype.signed:
        values |= {-1, -2, ctype.min + 1}
    return sorted(v for v in values if ctype.min <= v <= ctype.max)


def edge_inputs(signature) -> np.ndarray:
    """Edge values crossed over the arguments, (count, nparams) uint64."""
    types = [p.type for p in signature.params]
    if not types:
        return np.zeros((1, 0), dtype=np.uint64)
    full = [edge_values(t) for t in types]
    if np.prod([len(f) for f in full], dtype=float) <= EDGE_CAP:
        rows = list(itertools.product(*full))
    else:
        core = [core_values(t) for t in types]
        rows = list(itertools.islice(itertools.product(*core), EDGE_CAP // 2))
        pairs = list(itertools.combinations(range(len(types)), 2))
        per_pair = max(1, (EDGE_CAP - len(rows)) // len(pairs))
        for i, j in pairs:
            cross = list(itertools.product(full[i], full[j]))
            step = max(1, len(cross) // per_pair)
            for n, (a, b) in enumerate(cross[::step]):
                row = [c[(n + k) % len(c)] for k, c in enumerate(core)]
                row[i], row[j] = a, b
                rows.append(tuple(row))
    return _bits(types, rows)


def random_inputs(signature, rng: np.random.Generator, count: int) -> np.ndarray:
    """`count` random argument vectors: per argument and input, uniform, small or sparse."""
    out = np.zeros((count, len(signature.params)), dtype=np.uint64)
    for k, p in enumerate(signature.params):
        t = p.type
        if t.is_bool:
            out[:, k] = rng.integers(0, 2, count).astype(np.uint64)
            continue
        uniform = rng.integers(0, 1 << 63, count, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, count, dtype=np.uint64)
        small = rng.integers(-16, 17, count).astype(np.int64).astype(np.uint64)
        sparse = np.zeros(count, dtype=np.uint64)
        for _ in range(3):
            bit = np.uint64(1) << rng.integers(0, t.width, count).astype(np.uint64)
            sparse |= np.where(rng.random(count) < 0.7, bit, np.uint64(0))
        pick = rng.integers(0, 3, count)
        value = np.where(pick == 0, uniform, np.where(pick == 1, small, sparse))
        out[:, k] = value & np.uint64((1 << t.width) - 1)
    return out


def verification_inputs(task, rng: np.random.Generator, random_count: int) -> np.ndarray:
    """Edge inputs, random inputs and recorded counterexamples, duplicates dropped (first
    occurrence kept, so the edge inputs come first)."""
    sig = task.signature
    if not sig.params:
        return edge_inputs(sig)            # one input: the call
    every = np.concatenate([counterexamples(task), edge_inputs(sig), random_inputs(sig, rng, random_count)])
    _, first = np.unique(every, axis=0, return_index=True)
    return every[np.sort(first)]


def _path(task):
    return cache_dir("tasks", task.reference.key) / _FILE


def counterexamples(task) -> np.ndarray:
    """The counterexamples recorded for this task, (count, nparams) uint64."""
    n = len(task.signature.params)
    path = _path(task)
    rows = []
    if path.exists():
        for line in path.read_text(encoding="ascii", errors="replace").splitlines():
            try:
                row = [int(word, 16) for word in line.split()]
            except ValueError:
                continue          # a torn line from an interrupted write
            if len(row) == n and all(0 <= v < 1 << 64 for v in row):
                rows.append(row)
    return np.array(rows, dtype=np.uint64).reshape(len(rows), n)


def add_counterexample(task, args) -> None:
    """Append one input (argument bit patterns, or C values) to the task's counterexamples."""
    types = [p.type for p in task.signature.params]
    if not types:
        return                             # a function of no arguments has one input, always run
    row = _bits(types, [tuple(int(a) for a in args)])[0]
    known = counterexamples(task)
    if len(known) and (known == row).all(axis=1).any():
        return
    with open(_path(task), "a", encoding="ascii") as f:
        f.write(" ".join("%x" % int(v) for v in row) + "\n")


def _bits(types, rows) -> np.ndarray:
    """C values (or bit patterns) as (count, nparams) uint64 bit patterns per type."""
    out = np.zeros((len(rows), len(types)), dtype=np.uint64)
    for k, t in enumerate(types):
        out[:, k] = t.bits([r[k] for r in rows]) if rows else 0
    return out

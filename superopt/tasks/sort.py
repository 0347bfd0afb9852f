"""The sorting tasks: sortN (`void sortN(int32_t *a)`) and varsortN (`void varsortN(int32_t *a,
int32_t n)`), their weak-ordering proof inputs and random inputs (superopt.tasks.base)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from superopt.x86.isa import SIGNED_ORDER_CONDITIONS

INT32_MIN = -(2 ** 31)
INT32_MAX = 2 ** 31 - 1

# Values that ranks are mapped onto: they span the sign boundary and both extremes, so a
# kernel that compares unsigned, or subtracts and overflows, fails on them.
_ANCHORS = np.array([INT32_MIN, INT32_MIN + 1, -65536, -1, 0, 1, 65536, INT32_MAX], dtype=np.int64)

# element type -> the branch and cmov conditions that follow its order once two elements
# are compared (a kernel using only these is covered by the weak orderings: see verify)
ORDER_CONDITIONS = {"int32": SIGNED_ORDER_CONDITIONS}


@dataclass(frozen=True)
class SortTask:
    name: str
    n: int                  # array length (the maximum length for variable sorts)
    variable: bool = False  # takes the length as a second argument in %esi
    description: str = ""
    element: str = "int32"  # the array's element type, a key of ORDER_CONDITIONS
    length_weights: tuple | None = None   # variable sorts: P(n) for n = 0..N of random inputs (None: uniform)
    kind: str = field(default="array", init=False)

    @property
    def signature(self) -> str:
        extra = ", int32_t n" if self.variable else ""
        return "void %s(%s_t *a%s)" % (self.name, self.element, extra)

    @property
    def order_conditions(self) -> frozenset[str]:
        return ORDER_CONDITIONS[self.element]

    @property
    def arguments(self) -> tuple[str, ...]:
        """Registers (families) that hold arguments on entry."""
        return ("rdi", "rsi") if self.variable else ("rdi",)

    def expected(self, arrays: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """The correct final array for each input: a[0..len) sorted, the rest unchanged."""
        out = np.array(arrays, dtype=np.int32, copy=True)
        if not self.variable:
            out.sort(axis=1)
            return out
        for k in np.unique(lengths):
            rows = lengths == k
            out[rows, :k] = np.sort(out[rows, :k], axis=1)
        return out

    def proof_inputs(self) -> tuple[np.ndarray, np.ndarray]:
        """Every weak ordering (ties included) of every allowed length, ranks mapped onto
        values across the sign boundary. For programs whose behaviour depends on the
        relative order of the inputs alone, passing these proves correctness."""
        lengths_allowed = range(self.n + 1) if self.variable else (self.n,)
        arrays, lengths = [], []
        for k in lengths_allowed:
            ranks = weak_orderings(k)
            values = np.zeros((len(ranks), self.n), dtype=np.int64)
            for m in range(1, k + 1):  # map each row's ranks by its own number of distinct values
                rows = ranks.max(axis=1) == m - 1
                values[rows, :k] = rank_values(m)[ranks[rows]]
            if k < self.n:  # slots past the length hold a marker that must survive
                values[:, k:] = 0x5EED5EED - np.arange(self.n - k)
            arrays.append(values.astype(np.int32))
            lengths.append(np.full(len(ranks), k, dtype=np.int32))
        return np.concatenate(arrays), np.concatenate(lengths)

    def random_inputs(self, rng: np.random.Generator, count: int,
                      distribution: str = "random") -> tuple[np.ndarray, np.ndarray]:
        """`count` inputs: random int32 values (small ranges too, so ties occur), or
        sorted, reversed or all-equal arrays. Variable sorts draw their lengths at random."""
        full = rng.integers(INT32_MIN, INT32_MAX, size=(count, self.n), dtype=np.int64, endpoint=True)
        small = rng.integers(-4, 5, size=(count, self.n), dtype=np.int64)
        arrays = np.where(rng.random((count, 1)) < 0.25, small, full)
        if distribution == "sorted":
            arrays.sort(axis=1)
        elif distribution == "reversed":
            arrays = -np.sort(-arrays, axis=1)
        elif distribution == "equal":
            arrays[:] = arrays[:, :1]
        elif distribution != "random":
            raise ValueError("unknown input distribution %r" % distribution)
        if self.variable:
            lengths = (rng.integers(0, self.n, size=count, endpoint=True) if self.length_weights is None else
                       rng.choice(self.n + 1, size=count, p=self.length_weights)).astype(np.int32)
        else:
            lengths = np.full(count, self.n, dtype=np.int32)
        return np.clip(arrays, INT32_MIN, INT32_MAX).astype(np.int32), lengths


def rank_values(distinct: int) -> np.ndarray:
    """`distinct` increasing int32 values for ranks 0..distinct-1, spread over the anchors."""
    if distinct > len(_ANCHORS):
        return np.linspace(INT32_MIN, INT32_MAX, distinct).astype(np.int64)
    picks = np.round(np.linspace(0, len(_ANCHORS) - 1, distinct)).astype(int) if distinct > 1 else [3]
    return _ANCHORS[picks]


def weak_orderings(n: int) -> np.ndarray:
    """All weak orderings of n items as rank arrays (shape (count, n)), ranks 0..m-1 dense.

    Built by adding one item at a time, either tied with an existing rank or as a new rank
    slotted in between: each ordering arises once (remove its last item to find its parent).
    """
    rows = np.zeros((1, 0), dtype=np.int8)
    for _ in range(n):
        top = rows.max(axis=1, initial=-1)  # highest rank per row
        grown = []
        for j in range(rows.shape[1] + 1):
            tie = rows[top >= j]
            if len(tie):
                grown.append(np.hstack([tie, np.full((len(tie), 1), j, np.int8)]))
            new = rows[top + 1 >= j]
            if len(new):
                shifted = new + (new >= j).astype(np.int8)
                grown.append(np.hstack([shifted, np.full((len(new), 1), j, np.int8)]))
        rows = np.concatenate(grown)
    return rows.astype(np.int64)


def _task(name: str, n: int, variable: bool = False) -> SortTask:
    what = "sort a[0..n) for 0 <= n <= %d" % n if variable else "sort a[0..%d)" % n
    return SortTask(name, n, variable, what + " ascending as signed 32-bit integers, in place")


SORT_TASKS = tuple([_task("sort%d" % n, n) for n in range(3, 9)] +
                   [_task("varsort%d" % n, n, True) for n in range(3, 6)])

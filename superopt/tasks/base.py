"""What every task provides, whatever it computes: the protocol the emulator, verify, the
timing harness, the game and export read a task through.

An array task names its C signature and its argument registers, says what the correct result of
each input is (`expected`), and gives two input sets: `proof_inputs`, complete for the
programs its proof strategy covers (for sorts: every weak ordering, complete for programs
that only compare and move elements under `order_conditions`), and `random_inputs`. Inputs
are numpy arrays: `arrays` of shape (count, n) and dtype int32 (the buffer the kernel gets
in %rdi), and `lengths` of shape (count,) (the second argument of variable-length tasks).
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

from superopt.errors import SuperoptError


class Task(Protocol):
    """A task of kind "array" (SortTask: a buffer in %rdi, the attributes below) or
    "function" (superopt.tasks.function.FunctionTask: a scalar C function whose reference
    is the spec; it has name, kind, description, signature, arguments and its own inputs
    and expected results, not the array attributes)."""
    name: str
    kind: str               # "array" or "function"
    n: int                  # the buffer's length in elements (the maximum for variable tasks)
    variable: bool          # takes a length as its second argument (%esi)
    description: str
    element: str            # the buffer's element type, e.g. "int32"

    @property
    def signature(self) -> str: ...

    @property
    def arguments(self) -> tuple[str, ...]:
        """Register families that hold arguments on entry."""

    @property
    def order_conditions(self) -> frozenset[str]:
        """The conditions under which a compare-and-move program depends only on the
        relative order of the elements, so that the proof inputs are a proof for it."""

    def expected(self, arrays: np.ndarray, lengths: np.ndarray) -> np.ndarray: ...

    def proof_inputs(self) -> tuple[np.ndarray, np.ndarray]: ...

    def random_inputs(self, rng: np.random.Generator, count: int,
                      distribution: str = "random") -> tuple[np.ndarray, np.ndarray]: ...


class UnknownTask(SuperoptError, KeyError):
    """No task of that name (a KeyError too, for lookups that expect one)."""

    def __str__(self) -> str:   # KeyError's own str() would quote the message
        return self.args[0]

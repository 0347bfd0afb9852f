"""What verify found: the verdict, its violations, and the counterexample it shows."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Violation:
    rule: str
    detail: str
    index: int | None = None   # instruction index in the program
    text: str | None = None    # that instruction in AT&T syntax
    line: int | None = None    # its source line

    def to_json(self) -> dict:
        return {"rule": self.rule, "detail": self.detail, "index": self.index,
                "instruction": self.text, "line": self.line}


@dataclass
class Verdict:
    passed: bool
    task: str
    instructions: int           # not counting ret (isa.instruction_count)
    inputs: int                 # distinct inputs run (each run with two random fillings)
    seconds: float
    proof: bool                 # a pass that covers every input (see the module docstring)
    proof_reason: str
    counterexample: dict | None = None  # {"input", "length", "expected", "got"}: a[0..length)
    violations: list[Violation] = field(default_factory=list)
    proof_inputs: int = 0
    random_inputs: int = 0
    native: bool = False        # also compared with native runs
    function: str | None = None  # the function checked: its label, if the file had one
    strength: str = ""          # function tasks: "tested" (inputs passed); an SMT proof may say more

    @property
    def label(self) -> str:
        """What a pass shows: "proof" or "test" for array tasks, "tested (N inputs)" for
        function tasks."""
        if self.strength == "tested":
            return "tested (%s inputs)" % format(self.inputs, ",")
        return self.strength or ("proof" if self.proof else "test")

    def to_json(self) -> dict:
        return {"verdict": "PASS" if self.passed else "FAIL", "task": self.task, "function": self.function,
                "strength": self.label,
                "instructions": self.instructions, "inputs": self.inputs,
                "proof": self.proof, "proof_reason": self.proof_reason,
                "counterexample": self.counterexample,
                "violations": [v.to_json() for v in self.violations],
                "proof_inputs": self.proof_inputs, "random_inputs": self.random_inputs,
                "fillings": 2, "native": self.native, "seconds": round(self.seconds, 6)}


def example(array, length, expected, got) -> dict:
    """The counterexample as a[0..length): a variable sort's array has no slots past n."""
    cut = slice(0, int(length))
    return {"input": np.asarray(array)[cut].tolist(), "length": int(length),
            "expected": np.asarray(expected)[cut].tolist(),
            "got": None if got is None else np.asarray(got)[cut].tolist()}


def first_wrong(outputs: np.ndarray, expected: np.ndarray, lengths: np.ndarray | None = None) -> int | None:
    """Index of the first input whose a[0..length) (without lengths: whole row) differs from
    the expected one."""
    if not len(outputs):
        return None
    live = True if lengths is None else np.arange(outputs.shape[1])[None, :] < lengths[:, None]
    bad = np.flatnonzero(((outputs != expected) & live).any(axis=1))
    return int(bad[0]) if len(bad) else None

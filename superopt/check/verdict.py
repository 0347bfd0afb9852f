"""What verify found: the verdict, its violations, the counterexample it shows, and how strong
its pass is.

Strength (`Verdict.label`, the one place that words it, printed and in --json):
  proven (all weak orderings)      the weak-ordering argument (superopt.check.proof) covers it
  proven (SMT, z3, 0.07 s)         an SMT solver proved it equal to the spec on every input
  tested (N inputs): <why>         N inputs passed, no proof: the SMT attempt's reason
                                   (an instruction not modelled, a loop without a bound, a
                                   solver timeout), else why the weak orderings do not cover it
A failed proof is a FAIL with the solver's counterexample (rule "result").
"""
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


PROVE_TIMEOUT = 30.0   # seconds one SMT attempt may take by default (lifting and solving)


@dataclass
class Proof:
    """One SMT attempt (superopt.check.prove): "proven", "refuted" (with a counterexample)
    or "unknown" (with the reason there is no proof)."""
    status: str
    solver: str
    seconds: float
    reason: str = ""
    counterexample: dict | None = None   # what the kernel got wrong, readable (see prove)

    @property
    def proven(self) -> bool:
        return self.status == "proven"

    def to_json(self) -> dict:
        return {"status": self.status, "solver": self.solver, "seconds": round(self.seconds, 6),
                "reason": self.reason or None, "counterexample": self.counterexample}


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
    smt: Proof | None = None     # the SMT attempt, if one was made
    strength: str = ""          # function tasks: "tested" (inputs passed), whatever the SMT attempt adds

    @property
    def label(self) -> str:
        """How far a pass goes, in words (the module docstring); for a FAIL, what found it."""
        if not self.passed:
            return "refuted (SMT, %s, %.2f s)" % (self.smt.solver, self.smt.seconds) if (
                self.smt and self.smt.status == "refuted") else "failed (%s inputs run)" % format(self.inputs, ",")
        if self.smt and self.smt.proven:
            return "proven (SMT, %s, %.2f s)" % (self.smt.solver, self.smt.seconds)
        if self.proof:
            return "proven (all weak orderings)"
        why = self.smt.reason if self.smt else "no proof attempted" if self.strength else self.proof_reason
        return "tested (%s inputs): %s" % (format(self.inputs, ","), why)

    @property
    def proven(self) -> bool:
        return self.passed and (self.proof or bool(self.smt and self.smt.proven))

    def to_json(self) -> dict:
        """The verdict in the --json schema (docs/json.md): `proven` and `proof` (its strength,
        `label`) as everywhere; `weak_orderings` and `coverage` say whether and why the weak
        orderings cover every input."""
        return {"passed": self.passed, "task": self.task, "function": self.function,
                "instructions": self.instructions, "inputs": self.inputs,
                "proven": self.proven, "proof": self.label,
                "weak_orderings": self.proof, "coverage": self.proof_reason,
                "smt": self.smt.to_json() if self.smt else None,
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

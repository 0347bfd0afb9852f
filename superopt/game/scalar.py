"""The value game: what a search on a function task plays, beside the sort tasks' assembly game.

A `ScalarGame` holds the task, its instruction space over the general ISA (superopt.game.space;
the CPU extensions this machine has, superopt.x86.cpu),
the longest program considered, the reference's own program (gcc -O2's code, parsed:
superopt.check.prove.reference_program) as the warm start and the length to beat, and the verification set
(the task's counterexample, edge and random inputs, in that order, with the reference's
results), computed once so that forked workers share it. Programs are evaluated by the value evaluator
(superopt.game.values) on the inputs a searcher picks.
"""
from __future__ import annotations

import numpy as np

from superopt.errors import InputError, SuperoptError
from superopt.game.ifconvert import if_convert
from superopt.tasks.function import FunctionTask
from superopt.tasks.inputs import counterexamples, edge_inputs
from superopt.x86.cpu import available
from superopt.x86.isa import Instr, Program

ISA = "general"
ISA_TEXT = ("the general integer ISA over registers and immediates: mov/movzx/movsx/lea, add/sub/adc/sbb/"
            "neg/inc/dec/imul/mul, logic, shifts and rotates, cmp/test/bt, setcc/cmovcc, bit counts, BMI1/BMI2")
COLD_LENGTH = 8            # the longest program considered without a reference length
SLACK = 2                  # ... with one: the reference's length plus this
VERIFY_RANDOM = 1000       # random inputs of the verification set the search checks against
_ASSEMBLY = (".s", ".S", ".asm")
_GCC_FLAGS = {"bmi1": "-mbmi", "bmi2": "-mbmi2", "lzcnt": "-mlzcnt", "popcnt": "-mpopcnt"}


class ScalarGame:
    kind = "function"
    isa_name = ISA
    pruning = frozenset()

    def __init__(self, task: FunctionTask, max_length: int | None = None, init: Program | None = None,
                 scratch: int = 2, restrict=None):
        self.task = task
        self.n = task.nparams
        self.init_given = init is not None
        from superopt.check.prove import reference_program   # (z3 and the evaluator load for these searches only)
        from superopt.game.space import Restriction, Space
        try:
            listing = reference_program(task)
            self.reference, self.reference_note = _body(listing), ""
        except SuperoptError as exc:
            listing, self.reference, self.reference_note = None, None, str(exc)
        # warm-start candidates: --init, else gcc -O2's code, then gcc's with this CPU's extensions
        # (-mlzcnt turns p10's branches into lzcnt), then both with their early returns
        # if-converted (superopt.game.ifconvert: p18, p20), the first the space holds
        self.reference_name = "the given program" if task.source.endswith(_ASSEMBLY) else "%s -O2" % task.cc
        listings = [(self.reference_name, listing), self._extended()]
        starts = [("--init", _body(init))] if init is not None else [
            (name, _body(code)) for name, code in listings if code] + [
            (name + ", if-converted", if_convert(code)) for name, code in listings[::-1] if code and if_convert(code)]
        used = [o.family for _, code in starts for ins in code for o in ins.operands if hasattr(o, "family")]
        self.space = Space(task, scratch, used, _immediates([i for _, code in starts for i in code]), available(),
                           restrict or Restriction())
        self.reference_length = None if self.reference is None else len(self.reference)
        self.max_length = max_length or (COLD_LENGTH if self.reference_length is None
                                         else self.reference_length + SLACK)
        self.warm, self.warm_source, self.warm_note = None, None, self.reference_note
        for name, code in starts:
            self.warm = self._warm(init, code)
            if self.warm is not None:
                self.warm_source = name
                break
        self.args = task.inputs(np.random.default_rng(0), VERIFY_RANDOM)
        self.expected = task.expected(self.args)
        # the verification set's leading rows: recorded counterexamples and edge values
        self.special = min(len(self.args), len(counterexamples(task)) + len(edge_inputs(task.signature)))

    def _extended(self) -> tuple[str, Program | None]:
        """gcc -O2's code of a C task with the -m flags of this CPU's extensions, parsed."""
        flags = tuple(_GCC_FLAGS[e] for e in sorted(available()))
        if not flags or self.task.source.endswith(_ASSEMBLY):
            return "", None
        from superopt.tasks.csource import OPT_FLAGS, c_assembly
        try:
            return "%s %s" % (self.task.cc, " ".join(OPT_FLAGS + flags)), c_assembly(self.task, opt=OPT_FLAGS + flags)
        except SuperoptError:
            return "", None

    def _warm(self, init: Program | None, start: list[Instr]) -> list[Instr] | None:
        """`start` if the space holds it (refused in one line for --init); else None, and
        `warm_note` says why (gcc's code may branch, or use memory)."""
        outside = [(k, ins) for k, ins in enumerate(start) if not self.space.contains(ins)]
        if len(start) > self.max_length:
            outside = outside or [(self.max_length, start[self.max_length])]
        if not outside:
            return list(start)
        k, ins = outside[0]
        if init is not None:
            line = init.lines[k] if k < len(init.lines) else None
            raise InputError("the warm start is outside the search's space (%s: %s)"
                             % ("longer than --max-length" if len(start) > self.max_length else
                                self.space.restrict.text() or "the general ISA over registers and immediates",
                                ins.att()), init.path, line)
        self.warm_note = "gcc's code is outside the search's space (%s)" % ins.att()
        return None

    def evaluator(self, args, expected=None, seed: int = 0):
        """The value evaluator of this game's programs on `args` (superopt.game.values)."""
        from superopt.game.values import ValueEvaluator
        return ValueEvaluator(self.task, args, expected, seed=seed)

    def to_program(self, instrs) -> Program:
        return Program(list(instrs), name=self.task.name)


def _body(program: Program) -> list[Instr]:
    """The program's instructions without its final ret (a ret or branch elsewhere stays, and
    the space refuses it)."""
    instrs = list(program.instrs)
    if instrs and instrs[-1].op == "ret":
        instrs.pop()
    return instrs


def _immediates(instrs) -> tuple[int, ...]:
    out = set()
    for ins in instrs:
        for o in ins.operands:
            if hasattr(o, "value"):
                out.add(o.value)
            elif hasattr(o, "disp"):
                out.add(o.disp)
    return tuple(out)


def scalar_game(task, isa: str | None = None, max_length: int | None = None, no_prune=(),
                init: Program | None = None, restrict=None) -> ScalarGame:
    """The game of a function task; the sort tasks' instruction sets and pruning rules are
    refused in one line."""
    if isa not in (None, ISA):
        raise SuperoptError("--isa %s is for the sort tasks: %s is a function task, searched over --isa %s"
                            % (isa, task.name, ISA))
    if no_prune:
        raise SuperoptError("--no-prune names the sort tasks' pruning rules: function tasks have none")
    return ScalarGame(task, max_length, init, restrict=restrict)


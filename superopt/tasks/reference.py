"""A function task's reference: machine code (compiled C, or a given kernel: STOKE's target)
run in Unicorn, never natively, on the inputs, with two random fillings of whatever the entry
rule leaves undefined. A reference that breaks a rule of the call on some input, or whose
result depends on the filling, is bad input (one line naming the file, the line when known,
and the call)."""
from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass, field
import numpy as np

from superopt.errors import InputError
from superopt.run.emulator import Stop
from superopt.run.layout import KERNEL_BASE
from superopt.run.scalar import code_loops, machine
from superopt.tasks.function import FunctionTask, Signature, as_args, entry
from superopt.x86.assembler import assemble
from superopt.x86.decode import disassemble
from superopt.x86.isa import Imm, Mem

STEP_LIMIT = 100_000        # instructions a reference may run per call (loops are allowed)
_SEEDS = (0x5EED, 0xF00D)    # the two fillings


@dataclass(eq=False)
class CodeReference:
    """Machine code computing a signature's function (superopt.tasks.function.Reference)."""
    code: bytes
    signature: Signature
    source: str
    lines: dict[int, int] = field(default_factory=dict)   # code offset -> source line (rows of a line table)
    step_limit: int = STEP_LIMIT
    constants: tuple[int, ...] = ()
    key: str = ""

    def __post_init__(self):
        self.loops = code_loops(self.code, KERNEL_BASE)
        self.constants = self.constants or immediates(self.code)
        self.key = self.key or hashlib.sha256(b"%s\0%s" % (str(self.signature).encode(), self.code)).hexdigest()[:24]

    def line_of(self, offset: int) -> int | None:
        """The source line of the instruction at `offset` (the last row at or before it)."""
        rows = [at for at in self.lines if at <= offset]
        return self.lines[max(rows)] if rows else None

    def results(self, args: np.ndarray) -> np.ndarray:
        args = as_args(args, len(self.signature.params))
        ret_mask = np.uint64(entry(self.signature)[1].mask)
        outs = []
        for seed in _SEEDS:
            r = machine().run(self.code, self.signature, args, seed=seed, step_limit=self.step_limit, loops=self.loops)
            if r.stop is not None:
                self._refuse(r, args[r.completed])
            outs.append(r.rax & ret_mask)
        differ = np.flatnonzero(outs[0] != outs[1])
        if len(differ):
            raise InputError("the reference's result on %s depends on undefined bits (registers, flags or stack it "
                             "never set: %d or %d)" % (self.signature.call(args[differ[0]]),
                                                       int(outs[0][differ[0]]), int(outs[1][differ[0]])), self.source)
        return outs[0]

    def _refuse(self, r, args) -> None:
        call = self.signature.call(args)
        line = self.line_of(r.pc - KERNEL_BASE) if r.pc is not None and r.pc >= KERNEL_BASE else None
        if r.stop is Stop.STEP_LIMIT:
            why = "does not return within %d instructions" % self.step_limit
        elif r.access is not None and r.access.region != "code" and r.access.kind != "fetch":
            why = "touches memory other than its stack (a %d-byte %s at %#x)" % (r.access.size, r.access.kind,
                                                                                   r.access.address)
        elif r.stop is Stop.FORBIDDEN:
            why = "overwrites its return address"
        elif r.stop in (Stop.RSP, Stop.CALLEE_SAVED):
            why = "breaks the calling convention (%s)" % r.stop.value
        else:
            why = "faults (%s)" % (r.fault or (r.access and "%s of %#x" % (r.access.kind, r.access.address)) or "")
        raise InputError("the reference %s on %s" % (why, call), self.source, line)


def immediates(code: bytes) -> tuple[int, ...]:
    """The immediate operands of machine code (not branch targets) and lea's displacements
    (gcc writes x - 1 as lea -1(%rdi)), sorted, for the search's constant pool."""
    values = set()
    for d in disassemble(code, KERNEL_BASE):
        if d.mnemonic.startswith("j") or d.mnemonic.startswith("call"):
            continue
        values |= {o.value for o in d.operands if isinstance(o, Imm)}
        if d.mnemonic == "lea":
            values |= {o.disp for o in d.operands if isinstance(o, Mem) and o.disp}
    return tuple(sorted(values))


def assembly_task(program, signature: Signature) -> FunctionTask:
    """A function task whose spec is a given kernel (`FILE.s --signature` or a `# signature:`
    header): its behaviour, run in Unicorn, is the reference."""
    code = assemble(program, base=KERNEL_BASE)
    ref = CodeReference(code.code, signature, program.path or "<program>", dict(zip(code.offsets, program.lines)))
    where = "%s%s" % (program.path or "the given program", ":" + program.name if program.name else "")
    return FunctionTask(signature.name, signature, ref, "the behaviour of " + where,
                        "%s --signature %s" % (where, shlex.quote(str(signature))))

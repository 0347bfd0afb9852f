"""superopt's own instruction form for x86-64: registers, operands, instructions, programs.

Every other module speaks this form: the parser produces it, the assembler encodes it,
the emulator and the search evaluator give it meaning, and the printers turn it back
into AT&T or Intel text. Operands are kept in Intel order (destination first).
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Register families in hardware encoding order; the family name is the 64-bit name.
FAMILIES = ("rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")
_NAMES = {
    64: FAMILIES,
    32: ("eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
         "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"),
    16: ("ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
         "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"),
    8: ("al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
        "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"),
}
# name -> (family, width) for every register superopt accepts (the legacy high-byte
# registers ah/bh/ch/dh are left out: they cannot be mixed with REX-prefixed operands).
REGISTERS: dict[str, tuple[str, int]] = {
    name: (FAMILIES[i], width) for width, names in _NAMES.items() for i, name in enumerate(names)
}
REGISTERS.update({"r%db" % i: ("r%d" % i, 8) for i in range(8, 16)})
REGISTERS.update({"r%dl" % i: ("r%d" % i, 8) for i in range(8, 16)})  # GNU/Intel alias of rNb

CALLEE_SAVED = ("rbx", "rbp", "r12", "r13", "r14", "r15")
CALLER_SAVED = ("rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11")
ARGUMENT_REGISTERS = ("rdi", "rsi", "rdx", "rcx", "r8", "r9")

# The 16 condition codes by their canonical names, and every alias assemblers accept.
CONDITIONS = ("o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g")
CONDITION_ALIASES = {c: c for c in CONDITIONS}
CONDITION_ALIASES.update({
    "c": "b", "nae": "b", "nc": "ae", "nb": "ae", "z": "e", "nz": "ne", "na": "be",
    "nbe": "a", "pe": "p", "po": "np", "nge": "l", "nl": "ge", "ng": "le", "nle": "g",
})
# Conditions that follow signed order (or equality) only: programs built from these,
# comparisons and moves depend on the relative order of signed inputs alone.
SIGNED_ORDER_CONDITIONS = frozenset({"l", "le", "g", "ge", "e", "ne"})
NEGATE = {"o": "no", "no": "o", "b": "ae", "ae": "b", "e": "ne", "ne": "e", "be": "a", "a": "be",
          "s": "ns", "ns": "s", "p": "np", "np": "p", "l": "ge", "ge": "l", "le": "g", "g": "le"}

SUFFIX = {8: "b", 16: "w", 32: "l", 64: "q"}
PTR = {8: "byte", 16: "word", 32: "dword", 64: "qword"}

# Opcodes of the instruction form (the Intel mnemonic, except the sign extensions of rax,
# named as in AT&T: cltq, cltd, cqto). Conditional families (cmov, j, set) carry their
# condition in Instr.cond.
OPCODES = frozenset({
    "mov", "movzx", "movsx", "cmp", "test", "cmov", "j", "jmp", "set", "xchg",
    "add", "sub", "and", "or", "xor", "not", "neg", "inc", "dec", "lea",
    "shl", "shr", "sar", "adc", "sbb", "push", "pop", "cltq", "nop", "ret",
    # the general integer ISA (issue 18): multiplies, rotates, bit tests and counts, BMI1/2
    "imul", "mul", "rol", "ror", "bt", "bsf", "bsr", "popcnt", "lzcnt", "tzcnt",
    "andn", "blsr", "blsi", "blsmsk", "bzhi", "shlx", "shrx", "sarx", "rorx", "pdep", "pext",
    "cltd", "cqto",
    # for superopt's own native timing harness; kernels have no use for them
    "call", "rdtsc", "rdpmc", "lfence",
})
CONDITIONAL = frozenset({"cmov", "j", "set"})
# AT&T names (no size suffix) -> Intel mnemonics, for the opcodes whose names differ
_INTEL_NAMES = {"cltq": "cdqe", "cltd": "cdq", "cqto": "cqo"}
BRANCHES = frozenset({"j", "jmp"})


@dataclass(frozen=True)
class Reg:
    family: str  # 64-bit name, e.g. "rax"
    width: int   # 8, 16, 32 or 64

    @property
    def name(self) -> str:
        return _NAMES[self.width][FAMILIES.index(self.family)]

    @staticmethod
    def named(name: str) -> "Reg":
        family, width = REGISTERS[name]
        return Reg(family, width)


@dataclass(frozen=True)
class Mem:
    """disp(base, index, scale), reading or writing `width` bits."""
    width: int
    base: str | None = None   # register family
    index: str | None = None  # register family
    scale: int = 1
    disp: int = 0


@dataclass(frozen=True)
class Imm:
    value: int


@dataclass(frozen=True)
class Label:
    """A branch target; resolved to an address by the assembler."""
    name: str


Operand = Reg | Mem | Imm | Label


@dataclass(frozen=True)
class Instr:
    op: str
    operands: tuple[Operand, ...] = ()   # Intel order: destination first
    cond: str | None = None
    width: int | None = None             # operation size in bits (None for jumps, ret, nop)

    @property
    def mnemonic(self) -> str:
        """Intel mnemonic (cmovl, jge, sete, movsxd, cdqe ...)."""
        if self.op in CONDITIONAL:
            return self.op + self.cond
        if self.op == "movsx" and self.operands[1].width == 32:
            return "movsxd"
        return _INTEL_NAMES.get(self.op, self.op)

    def att(self, label_names: dict[str, str] | None = None) -> str:
        return format_att(self, label_names)

    def intel(self) -> str:
        return format_intel(self)


@dataclass
class Program:
    """A kernel: its instructions, the labels placed before them, and where each came from."""
    instrs: list[Instr]
    labels: dict[str, int] = field(default_factory=dict)  # label -> index of the next instruction
    lines: list[int] = field(default_factory=list)        # source line of each instruction
    name: str | None = None                               # function label, if the file had one
    task: str | None = None                               # from a "# task: NAME" header
    header: dict[str, str] = field(default_factory=dict)  # every "# key: value" header line
    # the leading comment lines as written, each with its header key (None: free text)
    comment: list[tuple[str | None, str]] = field(default_factory=list)
    path: str | None = None
    # the function labels (superopt.x86.functions), each with whether it is declared .globl
    functions: dict[str, bool] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.instrs)

    def labels_at(self, index: int) -> list[str]:
        return [name for name, at in self.labels.items() if at == index]


def instruction_count(program: Program) -> int:
    """Instructions as superopt and AlphaDev count them: loads and stores in, `ret` out."""
    return sum(ins.op != "ret" for ins in program.instrs)


def with_ret(program: Program) -> Program:
    """The program ending in `ret` (search works without it; files and native runs need it)."""
    if program.instrs and program.instrs[-1].op == "ret":
        return program
    return Program(program.instrs + [Instr("ret")], task=program.task, name=program.name)


def _hex(value: int) -> str:
    return "-0x%x" % -value if value < 0 else "0x%x" % value


def _att_operand(op: Operand, label_names: dict[str, str] | None) -> str:
    if isinstance(op, Reg):
        return "%" + op.name
    if isinstance(op, Imm):
        return "$" + str(op.value)
    if isinstance(op, Label):
        return (label_names or {}).get(op.name, op.name)
    disp = str(op.disp) if op.disp or not (op.base or op.index) else ""
    if not (op.base or op.index):
        return disp
    inner = "%" + op.base if op.base else ""
    if op.index:
        inner += ",%" + op.index + ("," + str(op.scale) if op.scale != 1 else "")
    return "%s(%s)" % (disp, inner)


def is_movabs(ins: Instr) -> bool:
    """A mov of an immediate that only the 64-bit immediate form holds (AT&T movabsq)."""
    return (ins.op == "mov" and ins.width == 64 and isinstance(ins.operands[1], Imm)
            and not -(1 << 31) <= ins.operands[1].value < (1 << 31))


def format_att(ins: Instr, label_names: dict[str, str] | None = None) -> str:
    """AT&T text as gcc writes it: source first, size suffixes on everything but
    the conditional families (gcc's `cmovl` means cmov-if-less) and the rax sign
    extensions (cltq, cltd, cqto); a 64-bit immediate move is movabsq. (gcc leaves the
    suffix off the BMI instructions, `andn %esi, %edi, %eax`; GNU as takes both.)"""
    ops = ins.operands
    if ins.op == "movzx" or ins.op == "movsx":
        name = ("movz" if ins.op == "movzx" else "movs") + SUFFIX[ops[1].width] + SUFFIX[ops[0].width]
    elif ins.op in CONDITIONAL:
        name = ins.mnemonic
    elif is_movabs(ins):
        name = "movabsq"
    elif ins.width is None or ins.op in ("cltq", "cltd", "cqto", "call", "rdtsc", "rdpmc", "lfence"):
        name = ins.op
    else:
        name = ins.op + SUFFIX[ins.width]
    if not ops:
        return name
    if ins.op == "call":  # an indirect call's target is starred in AT&T
        return name + " *" + _att_operand(ops[0], label_names)
    return name + " " + ", ".join(_att_operand(o, label_names) for o in reversed(ops))


def _intel_operand(op: Operand) -> str:
    if isinstance(op, Reg):
        return op.name
    if isinstance(op, Imm):
        return _hex(op.value)
    if isinstance(op, Label):
        return op.name
    parts = []
    if op.base:
        parts.append(op.base)
    if op.index:
        parts.append("%s*%d" % (op.index, op.scale))
    text = " + ".join(parts)
    if op.disp or not parts:
        text = (text + (" - " if op.disp < 0 else " + ") + _hex(abs(op.disp))) if parts else _hex(op.disp)
    return "%s ptr [%s]" % (PTR[op.width], text)


def format_intel(ins: Instr) -> str:
    """Intel text with every number in explicit hexadecimal (Keystone reads bare numbers
    as hexadecimal, so decimal text would silently change the program)."""
    if not ins.operands:
        return ins.mnemonic
    if ins.op == "lea":  # lea's memory operand has no access size
        dest, src = ins.operands
        return "lea %s, %s" % (dest.name, _intel_operand(src).split(" ptr ", 1)[1])
    return ins.mnemonic + " " + ", ".join(_intel_operand(o) for o in ins.operands)


def format_program(program: Program, syntax: str = "att") -> list[str]:
    """The program as text lines, labels on their own lines, instructions indented."""
    out = []
    for i, ins in enumerate(program.instrs + [None]):
        for label in program.labels_at(i):
            out.append(label + ":")
        if ins is not None:
            out.append("\t" + (ins.att() if syntax == "att" else ins.intel()))
    return out

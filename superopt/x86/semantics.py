"""What each instruction superopt knows reads, writes and costs: one table, every consumer reads it.

verify (proof classification and diagnosis), export (register usage), the cost model, the
emulator's checks and the game ask these functions; none keeps a list of its own. The
table `TABLE` is data, one `Semantics` per opcode of x86/isa.py. What depends on the
operands rather than the opcode is a rule, applied by the functions below:

- a register written at 32 bits is zero-extended to 64: a pure write of the family;
- a register written at 8 or 16 bits merges into the family's other bits, so the
  instruction also READS the family (`movb %al, %cl` and `setl %cl` read %rcx);
- `xor r, r` and `sub r, r` (at 32 or 64 bits) are zeroing idioms: they read nothing;
- a memory operand's base and index are read (an address); a memory operand is a load
  when read and a store when written, except lea's, which is an address computation;
- conditional instructions (cmov, j, set) read the flags their condition tests
  (`CONDITION_FLAGS`: l reads SF and OF, b reads CF, ...);
- shifts by an immediate count c (masked to 5 bits, 6 at 64 bits): c = 0 changes no flag;
  c = 1 leaves AF undefined; c > 1 leaves OF undefined too, and for shl/shr of 8 or 16
  bits with c at least the width CF is undefined. A count in %cl may be 0, so the flags
  may pass through unchanged: the shift reads every flag it may write;
- rotates (rol, ror) touch CF and OF only, by the masked count c (not reduced modulo the
  width): c = 0 changes neither; c = 1 defines both; c > 1 leaves OF undefined; a count
  in %cl reads both (it may be 0);
- the one-operand (widening) imul and mul read %al/%ax/%eax/%rax and write %ax, dx:ax,
  edx:eax or rdx:rax by width (at 16 bits both halves merge: rdx is read too); the
  2-operand imul reads and writes its destination, the 3-operand one only writes it;
- bsf and bsr leave the destination undefined when the source is 0
  (`Semantics.undefined_if_zero`; AMD keeps the old value, Intel does not promise to).

"reads" and "writes" speak of register families (the 64-bit names) plus "flags" for
the flags register as a whole; `flags_read`, `flags_written` and `flags_undefined` name
the six arithmetic flags. A flag in `flags_undefined` is in `flags_written` too (its value
may change, to nothing the program may rely on). The implicit stack accesses of push,
pop, call and ret are not memory operands: `stack_bytes` says how far they move %rsp.

Latency classes (`TIMINGS`): cycles from the operands ready to the result ready, and the
execution ports, for AMD Zen 4 (Zen 5 has the same integer figures for these forms), as
measured by uops.info (https://uops.info/table.html, "Zen 4" column) and Agner Fog's
instruction tables (https://www.agner.org/optimize/instruction_tables.pdf, "AMD Zen 4"):
simple integer ALU operations, cmp/test, mov/movzx/movsx, cmov and setcc 1 cycle; shifts
1 cycle; lea 1 cycle, 2 with all three of base, index and displacement (AMD's optimization
guides, e.g. 25112 appendix C, also charge a scaled index 2, which this project's Zen 5 VM
does not: bench/bench_semantics.py measured 1.00 cycle for `lea (%rax,%rax,2)` and 2.00 for
`lea 1(%rax,%rax)`, 2026-12-07); a 32/64-bit register move is mostly eliminated at rename
(AMD's Family 19h Software Optimization Guide, "Zero Cycle Move"; measured 0.17 cycles a
move), which the model does not count on, so that the cost model's figures for the sort
kernels stay as they were. Four integer
ALUs (ALU0-3); shifts on ALU1/ALU2, cmov/setcc and branches on ALU0/ALU3 (the branch
units). `LOAD_CYCLES` is the load-to-use latency the cost model charges for a memory
source: 5 cycles (L1 hit; Zen 4 measures 4 for the simplest addressing, 5 otherwise).
Control flow (predicted branches, ret) and the harness-only serializing instructions are
not on a data dependency chain: their cycles are None.
The general ISA's ports and figures are LLVM's Zen 4 scheduling model (llvm/lib/Target/X86/
X86ScheduleZnver4.td, from AMD's Zen 4 latency spreadsheet and llvm-exegesis): multiplies
3 cycles on the multiplier (ALU1), the high half of a widening multiply (rdx) 4
(`Timing.high_cycles`), a 16-bit multiply by an immediate 4; pdep/pext 3 on ALU1 (on Zen 1/2
they were microcoded, 18-300 cycles, uops.info via dotnet/runtime#786); popcnt/lzcnt, andn 1
on any ALU; bt, bzhi 1 on ALU1/ALU2; rotates, shlx/shrx/sarx and rorx 1 on the shift units;
cltd/cqto 1. Where this project's VM disagrees, its figure is the table's:
bench/bench_semantics.py measured (2026-12-07, in units of the 1-cycle add chain) bsf 3.17,
bsr 4.15, tzcnt 1.99 and blsr/blsi/blsmsk 1.99 cycles, where LLVM's Zen 4 model has 1, and
confirmed imul 3.17, mul 3.17 (rax) and 4 (rdx), pdep/pext 3.17, popcnt/lzcnt, rotates,
shlx/sarx/rorx, bzhi, andn 0.99, bt 1, cltd 1.

`extension` names the CPUID feature an opcode needs beyond x86-64 (popcnt; lzcnt, which
/proc/cpuinfo calls abm; bmi1: andn, blsr, blsi, blsmsk, tzcnt; bmi2: bzhi, shlx, shrx,
sarx, rorx, pdep, pext): a CPU without lzcnt or bmi1 runs lzcnt as bsr and tzcnt as bsf,
silently giving other results.
"""
from __future__ import annotations

from dataclasses import dataclass

from superopt.x86.isa import CONDITIONS, Instr, Mem, Reg

FLAGS = ("CF", "PF", "AF", "ZF", "SF", "OF")
_ALL = frozenset(FLAGS)

# Flags each condition code tests.
CONDITION_FLAGS: dict[str, frozenset[str]] = {
    cond: frozenset(flags) for conds, flags in (
        (("o", "no"), ("OF",)), (("b", "ae"), ("CF",)), (("e", "ne"), ("ZF",)),
        (("be", "a"), ("CF", "ZF")), (("s", "ns"), ("SF",)), (("p", "np"), ("PF",)),
        (("l", "ge"), ("SF", "OF")), (("le", "g"), ("ZF", "SF", "OF")))
    for cond in conds}
assert set(CONDITION_FLAGS) == set(CONDITIONS)

# Operand roles, per position in Intel order (destination first).
R, W, RW = "r", "w", "rw"
ADDRESS = "address"   # lea's memory operand: its registers are read, no memory is
TARGET = "target"     # a branch target label


@dataclass(frozen=True)
class Timing:
    name: str
    cycles: int | None   # operands ready -> result ready; None: not on a data dependency chain
    ports: str
    high_cycles: int | None = None  # a widening multiply's high half (rdx), when later


TIMINGS = {t.name: t for t in (
    Timing("alu", 1, "ALU0-3"),
    Timing("move", 1, "ALU0-3, or none when eliminated at rename"),
    Timing("select", 1, "ALU0, ALU3"),           # cmov, setcc
    Timing("shift", 1, "ALU1, ALU2"),
    Timing("lea", 1, "ALU0-3"),
    Timing("lea-complex", 2, "ALU0-3"),          # base + index + displacement
    Timing("bit", 1, "ALU1, ALU2"),              # bt, bzhi
    Timing("tzcnt", 2, "ALU1, ALU2"),
    Timing("bsf", 3, "ALU1"),
    Timing("bsr", 4, "ALU1"),
    Timing("bls", 2, "ALU0-3"),                  # blsr, blsi, blsmsk
    Timing("multiply", 3, "ALU1 (multiplier)"),
    Timing("multiply-16-imm", 4, "ALU1 (multiplier), 2 uops"),
    Timing("multiply-wide", 3, "ALU1 (multiplier), 2 uops", high_cycles=4),
    Timing("deposit", 3, "ALU1"),                # pdep, pext
    Timing("xchg", 1, "ALU0-3 (2 uops)"),
    Timing("push", 1, "AGU, store"),
    Timing("pop", 1, "AGU, load"),               # plus LOAD_CYCLES for the load itself
    Timing("branch", None, "ALU0, ALU3"),
    Timing("none", None, ""),
    Timing("serializing", None, "microcoded"),
)}
LOAD_CYCLES = 5


@dataclass(frozen=True)
class Semantics:
    """What one opcode does; the rules in the module docstring refine it per form."""
    roles: tuple[str, ...] = ()                   # per operand position
    implicit_reads: frozenset[str] = frozenset()  # families named by the opcode itself
    implicit_writes: frozenset[str] = frozenset()
    flags_read: frozenset[str] = frozenset()
    flags_written: frozenset[str] = frozenset()
    flags_undefined: frozenset[str] = frozenset()
    conditional: bool = False   # reads the flags its condition code tests
    zeroing_idiom: bool = False  # with the same register twice: 0, reading nothing
    timing: str = "alu"
    stack_bytes: int = 0        # %rsp moves by this (negative: pushes)
    harness_only: bool = False  # for superopt's native timing harness, not kernels
    extension: str | None = None      # the CPUID feature it needs (bmi1, bmi2, popcnt, lzcnt)
    undefined_if_zero: bool = False   # the destination is undefined when the source is 0


def _s(*roles, reads=(), writes=(), flags_read=(), flags=(), undefined=(), **kw) -> Semantics:
    return Semantics(tuple(roles), frozenset(reads), frozenset(writes), frozenset(flags_read),
                     frozenset(flags), frozenset(undefined), **kw)


_SHIFT = dict(flags=_ALL, undefined=("AF", "OF"), timing="shift")  # refined per count: _shift_flags
_LOGIC = dict(flags=_ALL, undefined=("AF",))                       # CF = OF = 0
_ROTATE = dict(flags=("CF", "OF"), undefined=("OF",), timing="shift")  # refined per count: _rotate_flags
_MULTIPLY = dict(flags=_ALL, undefined=("SF", "ZF", "AF", "PF"), timing="multiply")  # CF = OF = overflow
_BMI = dict(flags=_ALL, undefined=("AF", "PF"))                    # SF, ZF by the result, OF = 0

TABLE: dict[str, Semantics] = {
    "mov": _s(W, R, timing="move"),
    "movzx": _s(W, R, timing="move"),
    "movsx": _s(W, R, timing="move"),
    "cmp": _s(R, R, flags=_ALL),
    "test": _s(R, R, **_LOGIC),
    "cmov": _s(RW, R, conditional=True, timing="select"),  # the destination is kept when false
    "j": _s(TARGET, conditional=True, timing="branch"),
    "jmp": _s(TARGET, timing="branch"),
    "set": _s(W, conditional=True, timing="select"),
    "xchg": _s(RW, RW, timing="xchg"),
    "add": _s(RW, R, flags=_ALL),
    "sub": _s(RW, R, flags=_ALL, zeroing_idiom=True),
    "and": _s(RW, R, **_LOGIC),
    "or": _s(RW, R, **_LOGIC),
    "xor": _s(RW, R, **_LOGIC, zeroing_idiom=True),
    "not": _s(RW),
    "neg": _s(RW, flags=_ALL),
    "inc": _s(RW, flags=_ALL - {"CF"}),
    "dec": _s(RW, flags=_ALL - {"CF"}),
    "lea": _s(W, ADDRESS, timing="lea"),
    "shl": _s(RW, R, **_SHIFT),
    "shr": _s(RW, R, **_SHIFT),
    "sar": _s(RW, R, **_SHIFT),
    "adc": _s(RW, R, flags_read=("CF",), flags=_ALL),
    "sbb": _s(RW, R, flags_read=("CF",), flags=_ALL),
    "push": _s(R, reads=("rsp",), writes=("rsp",), timing="push", stack_bytes=-8),
    "pop": _s(W, reads=("rsp",), writes=("rsp",), timing="pop", stack_bytes=8),
    "cltq": _s(reads=("rax",), writes=("rax",)),            # cdqe: rax = sign-extended eax
    "nop": _s(timing="none"),
    "ret": _s(reads=("rsp",), writes=("rsp",), timing="branch", stack_bytes=8),
    "call": _s(R, reads=("rsp",), writes=("rsp",), timing="branch", stack_bytes=-8, harness_only=True),
    # the general ISA; imul's roles are its 2-operand form's, mul's the widening one's (_roles)
    "imul": _s(RW, R, **_MULTIPLY),
    "mul": _s(R, **_MULTIPLY),
    "rol": _s(RW, R, **_ROTATE),
    "ror": _s(RW, R, **_ROTATE),
    "bt": _s(R, R, flags=_ALL, undefined=_ALL - {"CF"}, timing="bit"),  # ZF kept on recent CPUs only
    "bsf": _s(W, R, flags=_ALL, undefined=_ALL - {"ZF"}, timing="bsf", undefined_if_zero=True),
    "bsr": _s(W, R, flags=_ALL, undefined=_ALL - {"ZF"}, timing="bsr", undefined_if_zero=True),
    "popcnt": _s(W, R, flags=_ALL, extension="popcnt"),               # ZF = (src == 0), others 0
    "lzcnt": _s(W, R, flags=_ALL, undefined=("OF", "SF", "AF", "PF"), extension="lzcnt"),
    "tzcnt": _s(W, R, flags=_ALL, undefined=("OF", "SF", "AF", "PF"), timing="tzcnt", extension="bmi1"),
    "andn": _s(W, R, R, **_BMI, extension="bmi1"),
    "blsr": _s(W, R, **_BMI, timing="bls", extension="bmi1"),
    "blsi": _s(W, R, **_BMI, timing="bls", extension="bmi1"),
    "blsmsk": _s(W, R, **_BMI, timing="bls", extension="bmi1"),
    "bzhi": _s(W, R, R, **_BMI, timing="bit", extension="bmi2"),
    "shlx": _s(W, R, R, timing="shift", extension="bmi2"),
    "shrx": _s(W, R, R, timing="shift", extension="bmi2"),
    "sarx": _s(W, R, R, timing="shift", extension="bmi2"),
    "rorx": _s(W, R, R, timing="shift", extension="bmi2"),
    "pdep": _s(W, R, R, timing="deposit", extension="bmi2"),
    "pext": _s(W, R, R, timing="deposit", extension="bmi2"),
    "cltd": _s(reads=("rax",), writes=("rdx",)),            # cdq: edx = the sign of eax
    "cqto": _s(reads=("rax",), writes=("rdx",)),            # cqo: rdx = the sign of rax
    "rdtsc": _s(writes=("rax", "rdx"), timing="serializing", harness_only=True),
    "rdpmc": _s(reads=("rcx",), writes=("rax", "rdx"), timing="serializing", harness_only=True),
    "lfence": _s(timing="serializing", harness_only=True),
}
SHIFTS = frozenset({"shl", "shr", "sar"})
ROTATES = frozenset({"rol", "ror"})
EXTENSIONS = ("bmi1", "bmi2", "lzcnt", "popcnt")


def is_zeroing_idiom(ins: Instr) -> bool:
    """`xor r, r` / `sub r, r` at 32 or 64 bits: zero, whatever r held (at 8 or 16 bits the
    rest of the family is kept, so it is read)."""
    ops = ins.operands
    return (TABLE[ins.op].zeroing_idiom and len(ops) == 2 and ops[0] == ops[1]
            and isinstance(ops[0], Reg) and ops[0].width >= 32)


def widening(ins: Instr) -> bool:
    """The one-operand imul or mul: rdx:rax (dx:ax, ax at 8 bits) = rax * the operand."""
    return ins.op in ("imul", "mul") and len(ins.operands) == 1


def _roles(ins: Instr) -> tuple[str, ...]:
    if is_zeroing_idiom(ins):
        return (W, "")
    if ins.op == "imul" and len(ins.operands) != 2:
        return (R,) if widening(ins) else (W, R, R)
    return TABLE[ins.op].roles


def implicit_reads(ins: Instr) -> frozenset[str]:
    """Families the instruction reads without naming them (see the module docstring)."""
    if widening(ins):
        return frozenset({"rax", "rdx"}) if ins.width == 16 else frozenset({"rax"})
    return TABLE[ins.op].implicit_reads


def implicit_writes(ins: Instr) -> frozenset[str]:
    if widening(ins):
        return frozenset({"rax"}) if ins.width == 8 else frozenset({"rax", "rdx"})
    return TABLE[ins.op].implicit_writes


def fixed_registers(ins: Instr) -> frozenset[str]:
    """Families the instruction needs by name: its implicit operands and a count in %cl
    (the stack pointer that push, pop, call and ret move aside)."""
    counted = ins.op in SHIFTS | ROTATES and isinstance(ins.operands[1], Reg)
    return (implicit_reads(ins) | implicit_writes(ins) | ({"rcx"} if counted else frozenset())) - {"rsp"}


def address_registers(ins: Instr) -> set[str]:
    """Families used to form addresses (lea's included)."""
    return {r for o in ins.operands if isinstance(o, Mem) for r in (o.base, o.index) if r}


def operands_read(ins: Instr) -> list[str]:
    """Families of the register operands whose values are read (not as addresses)."""
    return [o.family for role, o in zip(_roles(ins), ins.operands)
            if isinstance(o, Reg) and (role in (R, RW) or (role == W and o.width < 32))]


def reads(ins: Instr) -> set[str]:
    """Register families (and "flags") whose values the instruction's effect depends on."""
    out = set(implicit_reads(ins)) | address_registers(ins) | set(operands_read(ins))
    if flags_read(ins):
        out.add("flags")
    return out


def writes(ins: Instr) -> set[str]:
    """Register families (and "flags") the instruction may change."""
    out = set(implicit_writes(ins))
    out.update(o.family for role, o in zip(_roles(ins), ins.operands) if isinstance(o, Reg) and role in (W, RW))
    if flags_written(ins):
        out.add("flags")
    return out


def _shift_flags(ins: Instr) -> tuple[frozenset, frozenset, frozenset]:
    """(read, written, undefined) flags of a shift, from its count (see the docstring)."""
    count = ins.operands[1]
    if isinstance(count, Reg):  # %cl: any count, 0 included
        undefined = {"AF", "OF"} | ({"CF"} if ins.op != "sar" and ins.width < 32 else set())
        return _ALL, _ALL, frozenset(undefined)
    c = count.value & (63 if ins.width == 64 else 31)
    if c == 0:
        return frozenset(), frozenset(), frozenset()
    undefined = {"AF"} | ({"OF"} if c > 1 else set()) | (
        {"CF"} if ins.op != "sar" and c >= ins.width else set())
    return frozenset(), _ALL, frozenset(undefined)


def _rotate_flags(ins: Instr) -> tuple[frozenset, frozenset, frozenset]:
    """(read, written, undefined) flags of a rotate, from its count (see the docstring)."""
    both = frozenset({"CF", "OF"})
    count = ins.operands[1]
    if isinstance(count, Reg):
        return both, both, frozenset({"OF"})
    c = count.value & (63 if ins.width == 64 else 31)
    return frozenset(), (both if c else frozenset()), frozenset({"OF"} if c > 1 else ())


def _flags(ins: Instr) -> tuple[frozenset, frozenset, frozenset]:
    """(read, written, undefined) flags of `ins` (the condition codes' aside)."""
    if ins.op in SHIFTS:
        return _shift_flags(ins)
    if ins.op in ROTATES:
        return _rotate_flags(ins)
    sem = TABLE[ins.op]
    return sem.flags_read, sem.flags_written, sem.flags_undefined


def flags_read(ins: Instr) -> frozenset[str]:
    sem = TABLE[ins.op]
    return CONDITION_FLAGS[ins.cond] if sem.conditional else _flags(ins)[0]


def flags_written(ins: Instr) -> frozenset[str]:
    """Flags that may change (the undefined ones included)."""
    return _flags(ins)[1]


def flags_undefined(ins: Instr) -> frozenset[str]:
    return _flags(ins)[2]


def loads(ins: Instr) -> list[Mem]:
    """Memory operands read (lea's address and the implicit stack slots are not among them)."""
    return [o for role, o in zip(_roles(ins), ins.operands) if isinstance(o, Mem) and role in (R, RW)]


def stores(ins: Instr) -> list[Mem]:
    """Memory operands written."""
    return [o for role, o in zip(_roles(ins), ins.operands) if isinstance(o, Mem) and role in (W, RW)]


def stack_bytes(ins: Instr) -> int:
    return TABLE[ins.op].stack_bytes


def harness_only(ins: Instr) -> bool:
    return TABLE[ins.op].harness_only


def extension(ins: Instr) -> str | None:
    """The CPUID feature `ins` needs (one of EXTENSIONS), or None for base x86-64."""
    return TABLE[ins.op].extension


def extensions(program) -> list[str]:
    """The CPU extensions a program (or a list of instructions) needs, sorted."""
    instrs = getattr(program, "instrs", program)
    return sorted({e for e in map(extension, instrs) if e})


def latency(ins: Instr) -> Timing:
    """The instruction's latency class (cycles without its loads: see LOAD_CYCLES)."""
    if ins.op == "lea":
        m = ins.operands[1]
        if m.base and m.index and m.disp:
            return TIMINGS["lea-complex"]
    if widening(ins) and ins.width > 8:
        return TIMINGS["multiply-wide"]
    if ins.op == "imul" and ins.width == 16 and len(ins.operands) == 3:
        return TIMINGS["multiply-16-imm"]
    return TIMINGS[TABLE[ins.op].timing]


def result_cycles(ins: Instr, family: str) -> int | None:
    """Cycles from the operands ready to `family` (one the instruction writes) ready: the
    latency class's, but the later high half of a widening multiply for rdx."""
    timing = latency(ins)
    if family == "rdx" and timing.high_cycles is not None:
        return timing.high_cycles
    return timing.cycles

"""The instruction-semantics table against Unicorn, instruction by instruction, and its consumers.

Every opcode/width/operand form superopt can encode runs alone in Unicorn from random
register, flag and memory states: what the table says it does not write stays unchanged;
what it says it does not read can change without changing any result (undefined flags
aside); 8/16-bit register writes keep the family's other bits and 32-bit writes clear the
upper half.
"""
import glob

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from unicorn import UC_ARCH_X86, UC_MODE_64, Uc
from unicorn import x86_const as X

from superopt.check.diagnose import first_uninitialised_read
from superopt.emit.export import register_usage
from superopt.measure.latency import cost_model
from superopt.run import bmi_fixes
from superopt.tasks.registry import get_task
from superopt.x86 import semantics as sem
from superopt.x86.assembler import assemble, problem
from superopt.x86.isa import CONDITIONS, FAMILIES, OPCODES, Imm, Instr, Label, Mem, Program, Reg
from superopt.x86.parser import parse_file, parse_text

CODE, DATA, STACK = 0x10000, 0x20000, 0x30000
BASE = DATA + 0x100            # %rbx, the base of every memory operand
SP = STACK + 0x800
FLAG_BITS = {"CF": 0, "PF": 2, "AF": 4, "ZF": 6, "SF": 7, "OF": 11}
_UC_REG = {f: getattr(X, "UC_X86_REG_" + f.upper()) for f in FAMILIES}

DST, SRC, INDEX = "rsi", "r9", "r10"   # %cl is the shift count, %rbx the memory base


def _mem(width, disp=8):
    return Mem(width, "rbx", disp=disp)


def _forms():
    """Every form the assembler accepts, of every opcode, at every width."""
    out = []

    def add(op, *operands, width=None, cond=None):
        ins = Instr(op, tuple(operands), cond=cond, width=width)
        if ins.op in ("j", "jmp") or problem(ins) is None:
            out.append(ins)

    for w in (8, 16, 32, 64):
        d, s = Reg(DST, w), Reg(SRC, w)
        for op in ("mov", "cmp", "test", "xchg", "add", "sub", "and", "or", "xor", "adc", "sbb"):
            for operands in ((d, s), (d, Imm(-7)), (d, _mem(w)), (_mem(w), s), (d, d)):
                add(op, *operands, width=w)
        for op in ("not", "neg", "inc", "dec"):
            add(op, d, width=w)
            add(op, _mem(w), width=w)
        for op in ("shl", "shr", "sar"):
            for c in sorted({0, 1, 2, w - 1, w, 33, 65}):
                add(op, d, Imm(c), width=w)
            add(op, d, Reg("rcx", 8), width=w)
            add(op, _mem(w), Imm(1), width=w)
        for narrow in (8, 16, 32):
            if narrow < w:
                for op in ("movzx", "movsx"):
                    add(op, d, Reg(SRC, narrow), width=w)
                    add(op, d, _mem(narrow), width=w)
        if w >= 16:
            for cond in CONDITIONS:
                add("cmov", d, s, width=w, cond=cond)
            add("cmov", d, _mem(w), width=w, cond="l")
            for m in (Mem(w, "rbx", disp=8), Mem(w, "rbx", INDEX, 4, 12), Mem(w, INDEX, INDEX, 2),
                      Mem(w, None, INDEX, 8, -4), Mem(w, "rbx", INDEX)):
                add("lea", d, m, width=w)
        _general_forms(add, w, d, s)
        if w in (16, 64):
            add("push", d, width=w)
            add("pop", d, width=w)
            add("push", _mem(w), width=w)
            add("pop", _mem(w), width=w)
    for cond in CONDITIONS:
        add("set", Reg(DST, 8), width=8, cond=cond)
        add("j", Label("next"), cond=cond)
    add("set", _mem(8), width=8, cond="e")
    add("push", Imm(5), width=64)
    add("jmp", Label("next"))
    add("cltq", width=64)
    add("nop")
    add("ret")
    add("call", Reg(SRC, 64))
    add("rdtsc")
    add("lfence")
    return out


def _general_forms(add, w, d, s):
    """The general ISA's forms at width `w` (each refused one is skipped by `add`)."""
    x, cl = Reg(INDEX, w), Reg("rcx", 8)
    for op in ("imul", "mul"):
        add(op, s, width=w)
        add(op, _mem(w), width=w)
    add("imul", d, s, width=w)
    add("imul", d, _mem(w), width=w)
    for value in (3, -7, 127, 128, (1 << (w - 1)) - 1, -1 << 31):
        add("imul", d, s, Imm(value), width=w)
    add("imul", d, _mem(w), Imm(-3), width=w)
    for op in ("rol", "ror"):
        for c in sorted({0, 1, 2, w - 1, w, 33, 65, 255}):
            add(op, d, Imm(c), width=w)
        add(op, d, cl, width=w)
        add(op, _mem(w), Imm(3), width=w)
    add("bt", d, s, width=w)
    for c in (0, 5, w - 1):
        add("bt", d, Imm(c), width=w)
    add("bt", _mem(w), Imm(w - 1), width=w)
    for op in ("bsf", "bsr", "popcnt", "lzcnt", "tzcnt", "blsr", "blsi", "blsmsk"):
        add(op, d, s, width=w)
        add(op, d, _mem(w), width=w)
        add(op, d, d, width=w)
    for op in ("andn", "pdep", "pext"):
        add(op, d, s, x, width=w)
        add(op, d, s, _mem(w), width=w)
        add(op, d, d, s, width=w)
    for op in ("bzhi", "shlx", "shrx", "sarx"):
        add(op, d, s, x, width=w)
        add(op, d, _mem(w), x, width=w)
        add(op, d, s, s, width=w)
    for c in (0, 1, 7, w - 1, w, 255):
        add("rorx", d, s, Imm(c), width=w)
    add("rorx", d, _mem(w), Imm(5), width=w)
    add("mov", d, Imm(-0x123456789), width=w)
    add("cltd" if w == 32 else "cqto", width=w)


FORMS = _forms()


def _code(ins):
    return assemble(Program([ins, Instr("nop")], labels={"next": 1}), base=CODE).code


_uc = None


def _emulator():
    global _uc
    if _uc is None:
        _uc = Uc(UC_ARCH_X86, UC_MODE_64)
        for base in (CODE, DATA, STACK):
            _uc.mem_map(base, 0x1000)
    return _uc


def run(ins, regs: dict, flags: int, memory: bytes, stack: bytes, fixes: bool = False):
    """(registers, flags, data bytes, stack bytes) after `ins` alone from the given state
    (with `fixes`, Unicorn's BMI bugs corrected as the emulators do: superopt.run.bmi_fixes)."""
    uc = _emulator()
    code = _code(ins)
    uc.mem_write(CODE, code)
    hooks = bmi_fixes.Fixes(uc, [ins], CODE, [0]) if fixes else None
    uc.ctl_remove_cache(CODE, CODE + 0x1000)  # else the last form's translation runs again
    try:
        return _run(uc, ins, code, regs, flags, memory, stack)
    finally:
        if hooks:
            hooks.remove()


def _run(uc, ins, code, regs, flags, memory, stack):
    uc.mem_write(BASE, memory)
    uc.mem_write(SP - 64, stack)
    for f, v in regs.items():
        uc.reg_write(_UC_REG[f], v)
    uc.reg_write(X.UC_X86_REG_RFLAGS, (flags & _flag_mask(FLAG_BITS)) | 0x2)  # no trap flag
    uc.emu_start(CODE, CODE + len(code), count=1)
    return ({f: uc.reg_read(_UC_REG[f]) for f in FAMILIES}, uc.reg_read(X.UC_X86_REG_RFLAGS),
            bytes(uc.mem_read(BASE, len(memory))), bytes(uc.mem_read(SP - 64, len(stack))))


def _flag_mask(names) -> int:
    return sum(1 << FLAG_BITS[f] for f in names)


U64 = st.integers(0, 2 ** 64 - 1)
STATE = st.tuples(st.fixed_dictionaries({f: U64 for f in FAMILIES}), st.integers(0, 2 ** 12 - 1),
                  st.binary(min_size=32, max_size=32), st.binary(min_size=128, max_size=128))


def _fix(ins, regs: dict, stack: bytes) -> tuple[dict, bytes]:
    """Pointers the operands need: the memory base, a stack pointer with room both ways, and
    for call and ret a target inside mapped code."""
    regs = {**regs, "rbx": BASE, "rsp": SP}
    if ins.op == "pdep" and ins.width == 32 and isinstance(ins.operands[2], Reg):
        regs[ins.operands[2].family] &= 0xFFFFFFFF  # Unicorn's bug: test_unicorn_pdep32_bug
    if ins.op == "call":
        regs[SRC] = CODE + 0x800
    if ins.op == "ret":
        stack = stack[:64] + (CODE + 0x800).to_bytes(8, "little") + stack[72:]
    return regs, stack


def _value(operand, regs: dict, memory: bytes) -> int:
    """A register or memory operand's value in the state (memory relative to BASE)."""
    if isinstance(operand, Reg):
        return regs[operand.family] & ((1 << operand.width) - 1)
    return int.from_bytes(memory[operand.disp:operand.disp + operand.width // 8], "little")


def _stored(ins):
    """Byte ranges of the data memory the instruction may write (relative to BASE)."""
    return [(m.disp, m.disp + m.width // 8) for m in sem.stores(ins)]


SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))
# rdtsc reads the clock: its results are the time, not a function of the state
_NONDETERMINISTIC = {"rdtsc"}


def test_every_opcode_has_an_entry_and_forms():
    assert set(sem.TABLE) == set(OPCODES)
    assert {ins.op for ins in FORMS} >= OPCODES - {"rdpmc"}  # rdpmc faults without CR4.PCE


@pytest.mark.parametrize("ins", FORMS, ids=lambda ins: ins.att())
@SETTINGS
@given(state=STATE, other=STATE)
def test_table_matches_unicorn(ins, state, other):
    regs, flags, memory, stack = state
    regs, stack = _fix(ins, regs, stack)
    out_regs, out_flags, out_mem, out_stack = run(ins, regs, flags, memory, stack)
    written, read = sem.writes(ins), sem.reads(ins)
    fw, fu = sem.flags_written(ins), sem.flags_undefined(ins)
    assert fu <= fw
    # nothing outside `writes` / `flags_written` / the stores changes
    for f in FAMILIES:
        if f not in written:
            assert out_regs[f] == regs[f], f
    kept = _flag_mask(set(FLAG_BITS) - fw)
    assert out_flags & kept == flags & kept
    assert ("flags" in written) == bool(fw)
    stored = _stored(ins)
    for k in range(len(memory)):
        if not any(a <= k < b for a, b in stored):
            assert out_mem[k] == memory[k], k
    if not sem.stack_bytes(ins):
        assert out_stack == stack
    # the width rules for register destinations
    for o in ins.operands:
        if isinstance(o, Reg) and o.family in written and o.family not in ("rsp",):
            if o.width < 32:
                assert out_regs[o.family] >> o.width == regs[o.family] >> o.width
                assert o.family in read, "an 8/16-bit write merges: it reads the family"
            elif o.width == 32:
                assert out_regs[o.family] >> 32 == 0
    if ins.op in _NONDETERMINISTIC:
        return
    # change everything outside `reads`: every result stays the same
    o_regs, o_flags, o_mem, o_stack = other
    regs2 = {**{f: (regs[f] if f in read else o_regs[f]) for f in FAMILIES}, "rsp": SP}
    fr = sem.flags_read(ins)
    assert ("flags" in read) == bool(fr)
    flags_mask = _flag_mask(fr)
    flags2 = (flags & flags_mask) | (o_flags & ~flags_mask)
    memory2 = memory if sem.loads(ins) else o_mem
    stack2 = stack if sem.stack_bytes(ins) > 0 else o_stack  # pop and ret read the stack
    got = run(ins, regs2, flags2, memory2, stack2)
    undefined = {ins.operands[0].family} if sem.TABLE[ins.op].undefined_if_zero and \
        _value(ins.operands[1], regs, memory) == 0 else set()
    for f in written - undefined:
        if f != "flags":
            assert got[0][f] == out_regs[f], f
    defined = _flag_mask(fw - fu)
    assert got[1] & defined == out_flags & defined
    for a, b in stored:
        assert got[2][a:b] == out_mem[a:b]
    if sem.stack_bytes(ins) < 0:
        assert got[3][64 + sem.stack_bytes(ins):64] == out_stack[64 + sem.stack_bytes(ins):64]


# -- consumers ---------------------------------------------------------------------
# cost_model on every kernel in asm/ as it was before the semantics table (the latency
# objective's figures): unchanged, except sort3_insertion, whose xchg reads both
# operands (9 before: the old model read only the source)
PINNED_COST = {
    "sort3.s": 13, "sort3_deep.s": 15, "sort3_enum.s": 12, "sort3_enum_latency.s": 12, "sort3_extended.s": 13,
    "sort3_sbb.s": 21, "sort3_sar.s": 23,
    "sort3_insertion.s": 10, "sort4.s": 13, "sort4_agent.s": 16, "sort4_agent28.s": 14, "sort4_enum.s": 14,
    "sort4_latency.s": 13, "sort5.s": 19, "sort5_cold.s": 21, "sort5_polished.s": 18, "sort5_stochastic.s": 20,
    "sort6.s": 19, "sort7.s": 21, "sort8.s": 19, "varsort3.s": 22, "varsort4.s": 35, "varsort5.s": 54,
    "varint32_found.s": 15, "varint32_fastpath.s": 15, "varint64_found.s": 14, "varint32_len.s": 16,
    "varsort3_found.s": 13, "varsort4_found.s": 17, "varsort4_latency.s": 35, "varsort5_found.s": 19,
    "varsort3_demo.s": 13,   # varsort3_found.s with two registers swapped (2026-12-08)
    "varsort5_latency.s": 51,   # (dispatch, 2026-12-08; the model reads a branchy file as one straight line)
    "sort6_best.s": 18, "sort6_fast.s": 18, "sort6_rewrite.s": 18, "sort7_best.s": 20,   # (rewrite; sort6_best: stochastic)
}


def test_cost_model_figures_of_the_kernels_in_asm_are_pinned():
    paths = sorted(glob.glob("asm/*.s"))
    assert {p.split("/")[-1] for p in paths} == set(PINNED_COST)
    for path in paths:
        assert cost_model(parse_file(path).instrs) == PINNED_COST[path.split("/")[-1]], path


def cost(text):
    return cost_model(parse_text(text).instrs)


def test_cost_model_lea_is_not_a_load_and_shifts_chain():
    assert cost("leaq 4(%rdi), %rax") == 1
    assert cost("leaq 4(%rdi,%rsi,4), %rax") == 2          # base, index and displacement: complex lea
    assert cost("leaq (%rdi,%rsi,4), %rax") == 1           # a scaled index alone is not (measured)
    assert cost("movl (%rdi), %eax") == sem.LOAD_CYCLES + 1
    assert cost("shll $1, %eax\nshll $1, %eax") == 2       # the second waits for the first
    assert cost("shll $1, %eax\nshll $1, %ecx") == 1
    assert cost("xorl %eax, %eax\naddl $1, %eax") == 2
    assert cost("movl (%rdi), %eax\nmovl %eax, 4(%rdi)\nmovl 4(%rdi), %ecx") == 2 * (sem.LOAD_CYCLES + 1) + 1


@pytest.mark.parametrize("text", ["movb %al, %cl", "setl %cl", "movw %ax, %cx", "movl %eax, %ecx",
                                  "xorl %ecx, %ecx", "xorb %cl, %cl", "cmovl %eax, %ecx", "cltq",
                                  "shll %cl, %edx", "leaq 8(%rcx), %rcx", "popq %rcx", "movzbw %al, %cx"])
def test_verify_and_export_agree_on_what_an_instruction_reads(text):
    """Both read the table: the family verify sees read before written (its diagnosis of
    uninitialised state) is the one export's register usage reads."""
    program = parse_text(text)
    ins = program.instrs[0]
    index, what = first_uninitialised_read(program, [0], get_task("sort3"))
    usage = register_usage(program)
    unset = sem.reads(ins) - {"rsp", "rdi"}
    assert (what is not None) == bool(unset)
    assert usage.reads == sem.reads(ins) - {"flags"}
    if what is not None and what != "flags":
        assert what in usage.reads


def test_narrow_writes_read_the_family_and_32_bit_writes_do_not():
    assert "rcx" in sem.reads(parse_text("movb %al, %cl").instrs[0])
    assert "rcx" in sem.reads(parse_text("setl %cl").instrs[0])
    assert "rcx" not in sem.reads(parse_text("movl %eax, %ecx").instrs[0])
    assert sem.reads(parse_text("xorl %ecx, %ecx").instrs[0]) == set()
    assert sem.reads(parse_text("setl %cl").instrs[0]) >= {"rcx", "flags"}
    assert sem.flags_read(parse_text("setl %cl").instrs[0]) == {"SF", "OF"}
    assert sem.flags_read(parse_text("cmovb %eax, %ecx").instrs[0]) == {"CF"}
    assert sem.flags_written(parse_text("incl %eax").instrs[0]) == set(sem.FLAGS) - {"CF"}
    assert sem.flags_written(parse_text("shll $0, %eax").instrs[0]) == set()
    assert "OF" in sem.flags_undefined(parse_text("shll $2, %eax").instrs[0])
    assert sem.loads(parse_text("leaq 4(%rdi), %rax").instrs[0]) == []


@pytest.mark.xfail(strict=True, reason="Unicorn 2.1.4 deposits into the mask's upper half at 32 bits")
def test_unicorn_pdep32_bug():
    """A 32-bit pdep uses the low half of its mask and zero-extends (the CPU gives 0 here);
    Unicorn uses the whole 64-bit mask register. The low 32 bits agree (pdep fills the mask
    from its lowest bit), so only a later 64-bit read of the result can tell."""
    ins = Instr("pdep", (Reg(DST, 32), Reg(SRC, 32), Reg(INDEX, 32)), width=32)
    regs = {f: 0 for f in FAMILIES}
    regs.update({SRC: 1024, INDEX: 0x148EB1880, "rsp": SP})
    out = run(ins, regs, 0, bytes(32), bytes(128))[0]
    assert out[DST] == 0


# -- the general ISA's results and defined flags against a reference of the test's own --------

def _sx(value: int, width: int) -> int:
    value &= (1 << width) - 1
    return value - (1 << width) if value >> (width - 1) else value


def _deposit(src: int, mask: int, width: int) -> int:
    out, k = 0, 0
    for i in range(width):
        if mask >> i & 1:
            out |= (src >> k & 1) << i
            k += 1
    return out


def _extract(src: int, mask: int, width: int) -> int:
    out, k = 0, 0
    for i in range(width):
        if mask >> i & 1:
            out |= (src >> i & 1) << k
            k += 1
    return out


def _rotate(x: int, c: int, w: int, left: bool) -> int:
    c %= w
    m = (1 << w) - 1
    return ((x << c | x >> (w - c)) if left else (x >> c | x << (w - c))) & m


def _logic_flags(r: int, w: int) -> dict:
    return {"SF": r >> (w - 1) & 1, "ZF": int(r == 0)}


def reference(ins, regs: dict, memory: bytes, flags: int):
    """{family: 64-bit value} written and {flag: value} defined, computed from the Intel SDM's
    descriptions (independently of the emulator and of superopt's own evaluators)."""
    w, ops, m = ins.width, ins.operands, (1 << ins.width) - 1
    val = [_value(o, regs, memory) if not isinstance(o, Imm) else o.value & m for o in ops]
    out, f = {}, {}

    def put(family, value, width):
        old = regs[family]
        out[family] = value & 0xFFFFFFFF if width == 32 else (
            value & (2 ** 64 - 1) if width == 64 else (old & ~((1 << width) - 1)) | (value & ((1 << width) - 1)))

    def result(value):
        if isinstance(ops[0], Mem):
            out["memory"] = value & m
        else:
            put(ops[0].family, value, w)

    op = ins.op
    if op in ("imul", "mul") and len(ops) == 1:
        a = regs["rax"] & m
        prod = _sx(a, w) * _sx(val[0], w) if op == "imul" else a * val[0]
        lo, hi = prod & m, (prod >> w) & m
        f["CF"] = f["OF"] = int(prod != _sx(lo, w)) if op == "imul" else int(hi != 0)
        if w == 8:
            put("rax", prod & 0xFFFF, 16)
        else:
            put("rax", lo, w)
            put("rdx", hi, w)
    elif op == "imul":
        a, b = (val[0], val[1]) if len(ops) == 2 else (val[1], val[2])
        prod = _sx(a, w) * _sx(b if len(ops) == 2 else _sx(ops[2].value, 64), w)
        f["CF"] = f["OF"] = int(prod != _sx(prod, w))
        result(prod & m)
    elif op in ("rol", "ror"):
        c = (regs["rcx"] & 0xFF if isinstance(ops[1], Reg) else ops[1].value) & (63 if w == 64 else 31)
        if not c:  # nothing changes
            f.update(CF=flags & 1, OF=flags >> 11 & 1)
        else:
            r = _rotate(val[0], c, w, op == "rol")
            msb = r >> (w - 1) & 1
            f["CF"] = r & 1 if op == "rol" else msb
            if c == 1:
                f["OF"] = msb ^ f["CF"] if op == "rol" else msb ^ (r >> (w - 2) & 1)
            result(r)
    elif op == "bt":
        f["CF"] = val[0] >> (val[1] % w) & 1
    elif op in ("bsf", "bsr"):
        f["ZF"] = int(val[1] == 0)
        if val[1]:
            result((val[1] & -val[1]).bit_length() - 1 if op == "bsf" else val[1].bit_length() - 1)
    elif op in ("popcnt", "lzcnt", "tzcnt"):
        s = val[1]
        r = bin(s).count("1") if op == "popcnt" else w - s.bit_length() if op == "lzcnt" else (
            (s & -s).bit_length() - 1 if s else w)
        f.update({"ZF": int(s == 0), "CF": 0, "OF": 0, "SF": 0, "AF": 0, "PF": 0} if op == "popcnt"
                 else {"CF": int(s == 0), "ZF": int(r == 0)})
        result(r)
    elif op in ("andn", "blsr", "blsi", "blsmsk", "bzhi"):
        s = val[1]
        if op == "andn":
            r, cf = ~s & val[2] & m, 0
        elif op == "bzhi":
            n = val[2] & 0xFF
            r, cf = (s if n >= w else s & ((1 << n) - 1)), int(n > w - 1)
        else:
            r = {"blsr": s & (s - 1), "blsi": s & -s, "blsmsk": s ^ (s - 1)}[op] & m
            cf = int(s != 0) if op == "blsi" else int(s == 0)
        f.update(_logic_flags(r, w), CF=cf, OF=0)
        result(r)
    elif op in ("shlx", "shrx", "sarx", "rorx"):
        s, c = val[1], val[2] & (w - 1)
        result(s << c if op == "shlx" else s >> c if op == "shrx" else _sx(s, w) >> c if op == "sarx"
               else _rotate(s, c, w, False))
    elif op in ("pdep", "pext"):
        result((_deposit if op == "pdep" else _extract)(val[1], val[2], w))
    elif op in ("cltd", "cqto"):
        put("rdx", m if regs["rax"] >> (w - 1) & 1 else 0, w)
    elif op == "mov":
        result(ops[1].value)
    return out, f


def unicorn_deviations(ins, regs: dict, memory: bytes) -> set[str]:
    """Where Unicorn 2.1.4 (QEMU's old BMI code) is not the CPU, checked natively on this
    project's Zen CPU (test_unicorn_bmi_bugs pins each): blsi's CF is inverted; bzhi with
    an index n >= width-1 sets CF (the CPU: n >= width) and for n >= width clears the top
    bit (the CPU keeps the source); a 32-bit pdep uses the mask's upper half (_fix avoids it)."""
    if ins.op == "blsi":
        return {"CF"}
    if ins.op == "bzhi":
        n = _value(ins.operands[2], regs, memory) & 0xFF
        return ({"CF"} if n == ins.width - 1 else set()) | ({"CF", "SF", "ZF", "result"} if n >= ins.width else set())
    return set()


GENERAL = [ins for ins in FORMS if ins.op in {"imul", "mul", "rol", "ror", "bt", "bsf", "bsr", "popcnt", "lzcnt",
                                               "tzcnt", "andn", "blsr", "blsi", "blsmsk", "bzhi", "shlx", "shrx",
                                               "sarx", "rorx", "pdep", "pext", "cltd", "cqto"}
           or (ins.op == "mov" and isinstance(ins.operands[1], Imm) and ins.width == 64)]


def _edges(width_bits):
    """Register values that hit the edges: counts 0, 1, w-1, w, w+1 at every width, all
    ones, single top bits, and random ones."""
    edges = sorted({v for w in (8, 16, 32, 64) for v in (0, 1, w - 1, w, w + 1, (1 << w) - 1, 1 << (w - 1))})
    return st.sampled_from(edges) | st.integers(0, 2 ** 64 - 1) | st.integers(0, 255)


EDGE_STATE = st.tuples(st.fixed_dictionaries({f: _edges(64) for f in FAMILIES}), st.integers(0, 2 ** 12 - 1),
                       st.binary(min_size=32, max_size=32))


def test_general_forms_cover_every_width_and_count():
    assert {ins.op for ins in GENERAL} >= {"imul", "mul", "rol", "ror", "bt", "bsf", "bsr", "popcnt", "lzcnt", "tzcnt",
                                           "andn", "blsr", "blsi", "blsmsk", "bzhi", "shlx", "shrx", "sarx", "rorx",
                                           "pdep", "pext", "cltd", "cqto", "mov"}
    rotates = {(ins.width, ins.operands[1].value) for ins in GENERAL if ins.op == "rol" and isinstance(ins.operands[1], Imm)}
    assert {(w, c) for w in (8, 16, 32, 64) for c in (0, 1, w - 1, w)} <= rotates


@pytest.mark.parametrize("ins", GENERAL, ids=lambda ins: ins.att())
@SETTINGS
@given(state=EDGE_STATE)
def test_general_results_and_defined_flags_match_the_reference(ins, state):
    regs, flags, memory = state
    regs, _ = _fix(ins, regs, bytes(128))
    out_regs, out_flags, out_memory, _ = run(ins, regs, flags, memory, bytes(128))
    want_regs, want_flags = reference(ins, regs, memory, flags)
    if "memory" in want_regs:
        assert _value(ins.operands[0], {}, out_memory) == want_regs.pop("memory")
    defined = sem.flags_written(ins) - sem.flags_undefined(ins)
    assert defined <= set(want_flags), "the table defines only flags the reference defines"
    wrong = unicorn_deviations(ins, regs, memory)
    for flag in defined - wrong:
        assert (out_flags >> FLAG_BITS[flag]) & 1 == want_flags[flag], flag
    assert set(want_regs) <= sem.writes(ins)
    if "result" in wrong:
        return
    for family, value in want_regs.items():
        assert out_regs[family] == value, family
    if not sem.TABLE[ins.op].undefined_if_zero or want_regs:
        assert set(want_regs) == sem.writes(ins) - {"flags"} or ins.op in ("rol", "ror"), "a write the reference lacks"


@pytest.mark.parametrize("text,regs,want_rsi,want_cf", [
    ("blsi %rcx, %rsi", {"rcx": 6}, 2, 1),
    ("blsi %rcx, %rsi", {"rcx": 0}, 0, 0),
    ("bzhi %edx, %ecx, %esi", {"rcx": 2 ** 32 - 1, "rdx": 31}, 2 ** 31 - 1, 0),
    ("bzhi %edx, %ecx, %esi", {"rcx": 2 ** 32 - 1, "rdx": 40}, 2 ** 32 - 1, 1),
    ("bzhi %rdx, %rcx, %rsi", {"rcx": 2 ** 64 - 1, "rdx": 64}, 2 ** 64 - 1, 1),
])
@pytest.mark.xfail(strict=True, reason="Unicorn 2.1.4's BMI bugs (unicorn_deviations); the values are the CPU's")
def test_unicorn_bmi_bugs(text, regs, want_rsi, want_cf):
    ins = parse_text(text).instrs[0]
    state = {f: 0 for f in FAMILIES}
    state.update(regs, rsp=SP)
    out_regs, out_flags, _, _ = run(ins, state, 0, bytes(32), bytes(128))
    assert (out_regs["rsi"], out_flags & 1) == (want_rsi, want_cf)


@pytest.mark.parametrize("ins", [ins for ins in GENERAL if bmi_fixes.affected(ins)], ids=lambda ins: ins.att())
@SETTINGS
@given(state=EDGE_STATE)
def test_bmi_fixes_give_the_cpu_results(ins, state):
    """With superopt.run.bmi_fixes' hooks Unicorn agrees with the reference everywhere,
    the 32-bit pdep's full mask register included."""
    regs, flags, memory = state
    regs = {**regs, "rbx": BASE, "rsp": SP}
    out_regs, out_flags, _, _ = run(ins, regs, flags, memory, bytes(128), fixes=True)
    want_regs, want_flags = reference(ins, regs, memory, flags)
    for flag in sem.flags_written(ins) - sem.flags_undefined(ins):
        assert (out_flags >> FLAG_BITS[flag]) & 1 == want_flags[flag], flag
    assert {f: out_regs[f] for f in want_regs} == want_regs
    assert all(out_regs[f] == regs[f] for f in FAMILIES if f not in want_regs)


def test_bmi_fixes_of_machine_code():
    """A compiled reference's bytes get the same fixes (Capstone finds the instructions)."""
    program = parse_text("bzhi %edx, %ecx, %esi\nnop\nblsi %rcx, %rdi\npdep %edx, %ecx, %eax")
    code = assemble(program, base=CODE).code
    uc = _emulator()
    uc.mem_write(CODE, code)
    fixes = bmi_fixes.Fixes.of_code(uc, code, CODE)
    assert len(fixes.handles) == 3
    uc.ctl_remove_cache(CODE, CODE + 0x1000)
    try:
        for f, v in {"rcx": 2 ** 64 - 1, "rdx": 0xFF_0000_0028}.items():
            uc.reg_write(_UC_REG[f], v)
        uc.emu_start(CODE, CODE + len(code), count=4)  # (after a hook's jump Unicorn can miss `until`)
    finally:
        fixes.remove()
    assert [uc.reg_read(_UC_REG[f]) for f in ("rsi", "rdi", "rax")] == [2 ** 32 - 1, 1, 0x28]

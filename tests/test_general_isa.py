"""The general integer ISA (issue 18) end to end: every form prints, parses back and encodes;
gcc's own output of small C functions parses and assembles to gcc's bytes; the CPU
extensions a kernel needs are recorded and checked before a native run."""
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from superopt.driver import write_program
from superopt.x86 import cpu, semantics as sem
from superopt.x86.assembler import assemble, encode, problem
from superopt.x86.functions import select
from superopt.x86.isa import FAMILIES, Imm, Instr, Mem, Program, format_program
from superopt.x86.isa import Reg
from superopt.x86.parser import parse_file, parse_text

GENERAL = ("imul", "mul", "rol", "ror", "bt", "bsf", "bsr", "popcnt", "lzcnt", "tzcnt", "andn", "blsr", "blsi",
           "blsmsk", "bzhi", "shlx", "shrx", "sarx", "rorx", "pdep", "pext", "cltd", "cqto", "mov")


# operand kinds (Intel order; C: %cl) and widths of each opcode's forms
_KINDS = {"imul": ("R", "M", "RR", "RM", "RRI", "RMI"), "mul": ("R", "M"), "rol": ("RI", "RC", "MI", "MC"),
          "ror": ("RI", "RC", "MI", "MC"), "bt": ("RR", "RI", "MI"), "andn": ("RRR", "RRM"), "pdep": ("RRR", "RRM"),
          "pext": ("RRR", "RRM"), "bzhi": ("RRR", "RMR"), "shlx": ("RRR", "RMR"), "shrx": ("RRR", "RMR"),
          "sarx": ("RRR", "RMR"), "rorx": ("RRI", "RMI"), "mov": ("RI",), "cltd": ("",), "cqto": ("",)}
_WIDE = {"imul", "mul", "rol", "ror"}                      # 8..64 bits (imul's 2/3-operand forms 16..64)
_NARROWEST = {"bt": 16, "bsf": 16, "bsr": 16, "popcnt": 16, "lzcnt": 16, "tzcnt": 16}  # else 32


@st.composite
def general_instructions(draw):
    """An instruction of the general ISA in any operand form the assembler accepts."""
    op = draw(st.sampled_from(GENERAL))
    kinds = draw(st.sampled_from(_KINDS.get(op, ("RR", "RM"))))
    low = 8 if op in _WIDE and len(kinds) == 1 or op in ("rol", "ror") else 16 if op in _WIDE else _NARROWEST.get(op, 32)
    w = {"cltd": 32, "cqto": 64, "mov": 64}.get(op) or draw(st.sampled_from([w for w in (8, 16, 32, 64) if w >= low]))
    families = st.sampled_from([f for f in FAMILIES if f != "rsp"])
    fits = (-1 << 31, (1 << 31) - 1) if w == 64 else (-1 << (w - 1), (1 << w) - 1)
    imm = {"imul": st.integers(*fits), "bt": st.integers(0, w - 1), "mov": st.integers(-1 << 63, (1 << 64) - 1)}.get(
        op, st.sampled_from((0, 1, 2, w - 1, w, w + 1, 255)) | st.integers(0, 255))
    operands = []
    for kind in kinds:
        if kind == "R":
            operands.append(Reg(draw(families), w))
        elif kind == "M":
            operands.append(Mem(w, draw(families), disp=draw(st.integers(-128, 4096))))
        elif kind == "I":
            operands.append(Imm(draw(imm)))
        else:
            operands.append(Reg("rcx", 8))
    ins = Instr(op, tuple(operands), None, w)
    assert problem(ins) is None, (ins, problem(ins))
    return ins


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(ins=general_instructions())
def test_every_form_prints_parses_back_and_encodes(ins):
    assert parse_text(ins.att()).instrs == [ins]
    code = encode(ins)  # Keystone from the Intel text, checked operand by operand by Capstone
    assert code and len(code) <= 15


def test_a_program_over_the_general_isa_round_trips():
    text = """
        movl %edi, %eax
        imull $-7, %eax, %ecx
        mull %esi
        cltd
        rorxl $3, %ecx, %r8d
        roll %cl, %r8d
        btq $63, %rdi
        shlx %esi, %edi, %r9d
        bzhi %esi, %r9d, %r9d
        andn %r9d, %r8d, %eax
        movabsq $81985529216486895, %rdx
        pextq %rdx, %rdi, %rdx
        tzcntq %rdx, %rdx
        cqto
    """
    program = parse_text(text)
    again = parse_text("\n".join(format_program(program)))
    assert again.instrs == program.instrs
    assert len(assemble(program).code) > 0
    assert sem.extensions(program) == ["bmi1", "bmi2"]


# -- gcc's output -------------------------------------------------------------------------------

FUNCTIONS = {
    "popcount": "unsigned f(unsigned x) { return __builtin_popcount(x); }",
    "popcount64": "unsigned long f(unsigned long x) { return __builtin_popcountl(x); }",
    "ctz": "unsigned f(unsigned x) { return x ? __builtin_ctz(x) : 32; }",
    "ctz64": "long f(unsigned long x) { return __builtin_ctzl(x); }",
    "clz": "unsigned f(unsigned x) { return x ? __builtin_clz(x) : 32; }",
    "clz64": "int f(unsigned long x) { return __builtin_clzl(x); }",
    "bsr": "int f(unsigned x) { return 31 - __builtin_clz(x | 1); }",
    "clamp": "int f(int x, int lo, int hi) { return x < lo ? lo : x > hi ? hi : x; }",
    "satadd": "unsigned f(unsigned a, unsigned b) { unsigned s = a + b; return s < a ? ~0u : s; }",
    "satadd16": "unsigned short f(unsigned short a, unsigned short b) { unsigned s = a + b; return s > 0xffff ? 0xffff : s; }",
    "rotl": "unsigned f(unsigned x, unsigned n) { return (x << (n & 31)) | (x >> (-n & 31)); }",
    "rotl7": "unsigned f(unsigned x) { return (x << 7) | (x >> 25); }",
    "rotr64": "unsigned long f(unsigned long x, unsigned n) { return (x >> (n & 63)) | (x << (-n & 63)); }",
    "rot8": "unsigned char f(unsigned char x) { return (unsigned char)((x << 3) | (x >> 5)); }",
    "rot16": "unsigned short f(unsigned short x, int n) { return (unsigned short)((x << (n & 15)) | (x >> (-n & 15))); }",
    "pdep": "unsigned f(unsigned a, unsigned m) { return _pdep_u32(a, m); }",
    "pext64": "unsigned long f(unsigned long a, unsigned long m) { return _pext_u64(a, m); }",
    "mulhi": "unsigned long f(unsigned long a, unsigned long b) { return ((unsigned __int128)a * b) >> 64; }",
    "smulhi": "long f(long a, long b) { return ((__int128)a * b) >> 64; }",
    "mulhi32": "unsigned f(unsigned a, unsigned b) { return ((unsigned long)a * b) >> 32; }",
    "mul100": "int f(int a, int b) { return a * b * 100; }",
    "mul16": "short f(short a) { return a * 1000; }",
    "div3": "int f(int a) { return a / 3; }",
    "div7": "long f(long a) { return a / 7; }",
    "mod10": "unsigned f(unsigned a) { return a % 10; }",
    "abs": "int f(int x) { return x < 0 ? -x : x; }",
    "abs64": "long f(long x) { return x < 0 ? -x : x; }",
    "sign": "int f(int x) { return (x > 0) - (x < 0); }",
    "andn": "unsigned f(unsigned a, unsigned b) { return ~a & b; }",
    "blsr": "unsigned long f(unsigned long a) { return a & (a - 1); }",
    "blsi": "unsigned f(unsigned a) { return a & -a; }",
    "blsmsk": "unsigned f(unsigned a) { return a ^ (a - 1); }",
    "bzhi": "unsigned f(unsigned a, unsigned n) { return n >= 32 ? a : a & ((1u << n) - 1); }",
    "shl": "unsigned f(unsigned a, unsigned n) { return a << n; }",
    "sar64": "long f(long a, unsigned n) { return a >> n; }",
    "shr": "unsigned f(unsigned a, unsigned n) { return a >> n; }",
    "bt": "int f(unsigned a, unsigned n) { return (a >> (n & 31)) & 1; }",
    "btimm": "int f(unsigned long a) { return (a >> 40) & 1 ? 5 : 9; }",
    "btreg": "int f(unsigned long a, unsigned long n) { return (a & (1UL << n)) != 0; }",
    "movabs": "long f(long a) { return a ^ 0x123456789abcLL; }",
    "cqto": "__int128 f(long a) { return a; }",
    "average": "int f(int x, int y) { return (x & y) + ((x ^ y) >> 1); }",
    "mul8": "int f(signed char a, signed char b) { return a * b; }",
}
# without -mbmi2 gcc has no pdep/pext, without -mpopcnt it calls __popcountdi2
_NEEDS_FLAGS = {"pdep", "pext64", "popcount", "popcount64"}
FLAG_SETS = {"plain": [], "bmi": ["-mbmi", "-mbmi2", "-mpopcnt", "-mlzcnt"]}


def _gcc(flags, tmp_path, opt):
    """gcc's .s and the bytes of each function of its .o, for FUNCTIONS renamed to their keys."""
    names = [n for n in FUNCTIONS if flags or n not in _NEEDS_FLAGS]
    source = tmp_path / "f.c"
    source.write_text("#include <immintrin.h>\n" + "\n".join(FUNCTIONS[n].replace(" f(", " %s(" % n, 1) for n in names))
    common = ["gcc", opt, "-fcf-protection=none", "-fno-asynchronous-unwind-tables", *flags]
    subprocess.run(common + ["-S", "-o", str(tmp_path / "f.s"), str(source)], check=True)
    subprocess.run(common + ["-c", "-o", str(tmp_path / "f.o"), str(source)], check=True)
    subprocess.run(["objcopy", "-O", "binary", "-j", ".text", str(tmp_path / "f.o"), str(tmp_path / "f.bin")], check=True)
    text = (tmp_path / "f.bin").read_bytes()
    symbols = subprocess.run(["nm", "-S", "--defined-only", str(tmp_path / "f.o")], check=True,
                             capture_output=True, text=True).stdout.split()
    sizes = {symbols[i + 3]: (int(symbols[i], 16), int(symbols[i + 1], 16)) for i in range(0, len(symbols), 4)}
    return names, parse_file(tmp_path / "f.s"), {n: text[a:a + s] for n, (a, s) in sizes.items()}


@pytest.mark.slow
@pytest.mark.skipif(not all(map(shutil.which, ("gcc", "objcopy", "nm"))), reason="needs gcc and binutils")
@pytest.mark.parametrize("opt", ["-O2", "-O3"])
@pytest.mark.parametrize("flags", FLAG_SETS, ids=list(FLAG_SETS))
def test_gcc_output_parses_assembles_and_matches_gcc_bytes(flags, opt, tmp_path):
    """Every function: gcc -S parses, assembles, and gives gcc -c's bytes, except gcc's `rep
    bsf` (read as bsf: the prefix byte is gone) and the functions that use %ah or call out."""
    names, program, gcc_bytes = _gcc(FLAG_SETS[flags], tmp_path, opt)
    used = set()
    for name in names:
        kernel = select(program, name)
        used.update(ins.op for ins in kernel.instrs)
        ours = assemble(kernel).code
        if ours != gcc_bytes[name]:
            assert b"\xf3" + ours.replace(b"\xf3", b"") == b"\xf3" + gcc_bytes[name].replace(b"\xf3", b"") and \
                "rep bsf" in (tmp_path / "f.s").read_text(), name
    want = {"imul", "mul", "rol", "ror", "cqto", "bt"} | ({"popcnt", "lzcnt", "tzcnt", "andn", "blsr", "blsi", "blsmsk", "bzhi",
                                             "shlx", "shrx", "sarx", "rorx", "pdep", "pext"} if flags == "bmi" else {"bsf"})
    assert want <= used, want - used


# -- CPU extensions -----------------------------------------------------------------------------

def test_cpuinfo_flags_name_the_extensions():
    text = "processor\t: 0\nflags\t\t: fpu sse2 popcnt abm bmi1 bmi2 avx2\nbugs\t: x\n\nflags : fpu\n"
    assert cpu.parse_flags(text) == {"popcnt", "lzcnt", "bmi1", "bmi2"}
    assert cpu.parse_flags("flags : fpu sse2 popcnt\n") == {"popcnt"}
    assert cpu.parse_flags("no flags here\n") == frozenset()
    assert cpu.available() <= set(sem.EXTENSIONS)


def test_extensions_per_opcode():
    need = {op: sem.TABLE[op].extension for op in sem.TABLE if sem.TABLE[op].extension}
    assert need == {"popcnt": "popcnt", "lzcnt": "lzcnt", "tzcnt": "bmi1", "andn": "bmi1", "blsr": "bmi1",
                    "blsi": "bmi1", "blsmsk": "bmi1", "bzhi": "bmi2", "shlx": "bmi2", "shrx": "bmi2",
                    "sarx": "bmi2", "rorx": "bmi2", "pdep": "bmi2", "pext": "bmi2"}
    assert sem.extensions(parse_text("movl %edi, %eax\nimull %esi, %eax")) == []


def test_native_run_refuses_a_kernel_needing_a_missing_extension(monkeypatch):
    from superopt.run.native import kernel_of
    program = parse_text("pdep %esi, %edi, %eax\npopcntl %eax, %eax")
    monkeypatch.setattr(cpu, "available", lambda: frozenset({"popcnt"}))
    with pytest.raises(cpu.UnsupportedCPU) as info:
        kernel_of(program, "k.s")
    assert info.value.exit_code == 2
    assert str(info.value).startswith("the kernel k.s needs bmi2, which this CPU lacks")
    assert "\n" not in str(info.value)
    monkeypatch.setattr(cpu, "available", lambda: frozenset(sem.EXTENSIONS))
    assert kernel_of(program, "k.s").code


def test_written_kernels_name_the_extensions_they_need(tmp_path):
    path = tmp_path / "k.s"
    write_program(str(path), parse_text("tzcntl %edi, %eax\nshlx %esi, %eax, %eax"), {"task": "f"})
    assert parse_file(path).header["needs"] == "bmi1, bmi2"
    write_program(str(path), parse_text("movl %edi, %eax"), {"task": "f"})
    assert "needs" not in parse_file(path).header


def test_cost_model_charges_the_high_half_later():
    from superopt.measure.cost import cost_model
    assert cost_model(parse_text("mulq %rsi").instrs) == 4
    assert cost_model(parse_text("mulq %rsi\nmovq %rax, %rcx").instrs) == 4
    assert cost_model(parse_text("mulq %rsi\nmovq %rax, %rcx\naddq $1, %rcx").instrs) == 5
    assert cost_model(parse_text("imull $3, %edi, %eax\naddl $1, %eax").instrs) == 4
    assert cost_model(parse_text("pdep %esi, %edi, %eax").instrs) == 3
    assert cost_model(parse_text("popcntl %edi, %eax\ntzcntl %eax, %eax").instrs) == 3
    assert cost_model(parse_text("bsfl %edi, %eax\nblsrl %eax, %eax").instrs) == 5


def test_implicit_registers():
    def one(text):
        return parse_text(text).instrs[0]
    assert sem.reads(one("mulb %sil")) == {"rax", "rsi"} and sem.writes(one("mulb %sil")) == {"rax", "flags"}
    assert sem.reads(one("mulw %si")) == {"rax", "rdx", "rsi"}
    assert sem.reads(one("imull %esi")) == {"rax", "rsi"}
    assert sem.writes(one("imull %esi")) == {"rax", "rdx", "flags"}
    assert sem.reads(one("imull $3, %esi, %eax")) == {"rsi"}
    assert sem.reads(one("imull %esi, %eax")) == {"rax", "rsi"}
    assert sem.reads(one("cltd")) == {"rax"} and sem.writes(one("cltd")) == {"rdx"}
    assert sem.fixed_registers(one("roll %cl, %eax")) == {"rcx"}
    assert sem.fixed_registers(one("cqto")) == {"rax", "rdx"}
    assert sem.fixed_registers(one("pushq %rbx")) == set()
    assert sem.flags_written(one("roll $0, %eax")) == set()
    assert sem.flags_undefined(one("roll $1, %eax")) == set()
    assert sem.flags_undefined(one("roll $2, %eax")) == {"OF"}
    assert sem.flags_read(one("roll %cl, %eax")) == {"CF", "OF"}
    assert sem.TABLE["bsf"].undefined_if_zero and not sem.TABLE["tzcnt"].undefined_if_zero


def test_program_without_extensions_runs_anywhere():
    assert sem.extensions(Program([Instr("cltd", (), None, 32)])) == []

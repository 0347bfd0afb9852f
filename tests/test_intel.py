"""Intel syntax: every operand form as gas, gcc -masm=intel, objdump -M intel, Capstone and
superopt's own printer write it, the same Programs as the AT&T text of the same code, and
every error on its line."""
import shutil
import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from superopt.errors import InputError
from superopt.x86.assembler import assemble
from superopt.x86.isa import Imm, Instr, Label, Mem, Reg, format_intel
from superopt.x86.parser import parse_text
from test_assembler import instructions

R = Reg.named
INTEL = ".intel_syntax noprefix\n"
needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


def one(text):
    program = parse_text(INTEL + text)
    assert len(program.instrs) == 1
    return program.instrs[0]


@pytest.mark.parametrize("intel,att", [
    ("mov eax, DWORD PTR [rdi]", "movl (%rdi), %eax"),
    ("mov eax, dword ptr [rdi + 0x4]", "movl 4(%rdi), %eax"),           # Capstone, superopt
    ("mov eax, DWORD PTR [rdi+0x4]", "movl 4(%rdi), %eax"),             # objdump -M intel
    ("mov eax, DWORD PTR 4[rdi]", "movl 4(%rdi), %eax"),                # gcc -masm=intel
    ("mov DWORD PTR -8[rsp+rcx*8], eax", "movl %eax, -8(%rsp,%rcx,8)"),
    ("mov QWORD PTR [rsp + rcx*8 - 0x8], rax", "movq %rax, -8(%rsp,%rcx,8)"),
    ("mov eax, [8*rsi + rdi + 2 + 2]", "movl 4(%rdi,%rsi,8), %eax"),
    ("mov DWORD PTR [rsi*4], eax", "movl %eax, (,%rsi,4)"),
    ("mov eax, [rdi + rsi]", "movl (%rdi,%rsi), %eax"),
    ("mov eax, DWORD PTR [rdi+rsi*1+0x0]", "movl (%rdi,%rsi), %eax"),
    ("mov DWORD PTR [rdi], -1", "movl $-1, (%rdi)"),
    ("mov BYTE PTR [rdi], 0x7f", "movb $127, (%rdi)"),
    ("mov ax, 010", "movw $8, %ax"),                                      # octal, as gas reads it
    ("mov eax, 10h", "movl $16, %eax"),
    ("mov eax, 0ffh", "movl $255, %eax"),
    ("mov eax, 0b101", "movl $5, %eax"),
    ("mov eax, -0x80", "movl $-128, %eax"),
    ("movabs rax, 0x123456789", "movabsq $0x123456789, %rax"),
    ("mov rax, 0x123456789", "movabsq $0x123456789, %rax"),
    ("MOV EAX, R9D", "movl %r9d, %eax"),
    ("mov eax, %ebx", "movl %ebx, %eax"),                                 # % is optional under noprefix
    ("cmp edx, eax", "cmpl %eax, %edx"),
    ("test BYTE PTR [rdi], 1", "testb $1, (%rdi)"),
    ("cmovl eax, ecx", "cmovl %ecx, %eax"),
    ("cmovge rax, QWORD PTR [rdi+4]", "cmovgeq 4(%rdi), %rax"),
    ("setg al", "setg %al"),
    ("setnae BYTE PTR [rdi]", "setnae (%rdi)"),
    ("xchg DWORD PTR [rdi], eax", "xchg %eax, (%rdi)"),
    ("and BYTE PTR [rdi], -16", "andb $-16, (%rdi)"),
    ("not DWORD PTR [rdi]", "notl (%rdi)"),
    ("inc WORD PTR [rdi+2]", "incw 2(%rdi)"),
    ("lea rax, [rdi+rsi*8-16]", "leaq -16(%rdi,%rsi,8), %rax"),
    ("lea eax, [rdi + rdi*2 + 0x1]", "leal 1(%rdi,%rdi,2), %eax"),
    ("shl eax", "shll %eax"),
    ("shl eax,1", "shll $1, %eax"),
    ("sal DWORD PTR [rdi], 3", "sall $3, (%rdi)"),
    ("sar rax, cl", "sarq %cl, %rax"),
    ("movzx eax, BYTE PTR [rdi]", "movzbl (%rdi), %eax"),
    ("movzx eax, WORD PTR 2[rdi]", "movzwl 2(%rdi), %eax"),
    ("movzx ecx, al", "movzbl %al, %ecx"),
    ("movsx rax, DWORD PTR [rdi]", "movslq (%rdi), %rax"),
    ("movsxd rax, edi", "movslq %edi, %rax"),
    ("movsx rax, edi", "movslq %edi, %rax"),
    ("movsx eax, BYTE PTR [rdi]", "movsbl (%rdi), %eax"),
    ("cdqe", "cltq"),
    ("push rbx", "pushq %rbx"),
    ("pop QWORD PTR [rsp+8]", "popq 8(%rsp)"),
    ("call rax", "call *%rax"),
    ("call QWORD PTR [rsp+8]", "callq *8(%rsp)"),
    ("ret", "ret"),
    ("rep ret", "ret"),
    ("nop", "nop"),
])
def test_intel_reads_as_the_att_of_the_same_instruction(intel, att):
    assert one(intel) == parse_text(att).instrs[0]


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(instructions())
def test_superopts_intel_printer_reads_back(ins):
    assert one(format_intel(ins)) == ins


def test_labels_numeric_labels_and_switching_syntax():
    program = parse_text(
        "# task: sort3\n"
        "\t.intel_syntax noprefix\n"
        "k:\tmov eax, DWORD PTR [rdi]  # a comment\n"
        "1:\tcmp eax, 5 ; jle 1b\n"
        "\tjmp .Ldone\n"
        "\t.att_syntax\n"
        "\tmovl %eax, 4(%rdi)\n"
        "\t.intel_syntax\n"                     # GNU as: prefix, registers need %
        "\tmov %ecx, DWORD PTR [%rdi]\n"
        ".Ldone:\tret\n", "k.s")
    assert program.task == "sort3" and program.name == "k"
    assert program.lines == [3, 4, 4, 5, 7, 9, 10]
    assert program.instrs[2] == Instr("j", (Label(".L1_0"),), "le")
    assert program.instrs[4] == Instr("mov", (Mem(32, "rdi", disp=4), R("eax")), None, 32)
    assert program.instrs[5] == Instr("mov", (R("ecx"), Mem(32, "rdi")), None, 32)
    assert program.labels == {"k": 0, ".L1_0": 1, ".Ldone": 6}


@pytest.mark.parametrize("text,reason", [
    ("movl eax, ebx", "unknown instruction 'movl' (Intel syntax has no size suffixes)"),
    ("cmovll eax, ecx", "no size suffixes"),
    ("mov [rdi], 5", "operand size is ambiguous: add BYTE, WORD, DWORD or QWORD PTR"),
    ("movzx eax, [rdi]", "operand size is ambiguous: add BYTE or WORD PTR"),
    ("mov eax, QWORD PTR [rdi]", "operand size mismatch: %eax is 32-bit but qword ptr is 64-bit"),
    ("mov eax, XMMWORD PTR [rdi]", "XMMWORD PTR operands are not supported"),
    ("mov eax, DWORD PTR fs:40", "segment registers are not supported"),
    ("mov eax, DWORD PTR fs:[rax]", "segment registers are not supported"),
    ("mov eax, DWORD PTR x[rip]", "symbolic displacements are not supported: x"),
    ("mov eax, DWORD PTR [rip+8]", "rip-relative addressing is not supported"),
    ("mov eax, OFFSET FLAT:x", "symbolic immediates are not supported"),
    ("mov eax, x", "symbol operands are not supported: x"),
    ("mov eax, [rdi+rsi+rcx]", "too many registers"),
    ("mov eax, [rdi-rsi]", "bad address term rsi"),
    ("mov eax, [rdi*3]", "scale must be 1, 2, 4 or 8"),
    ("mov eax, [rdi*2+rsi*2]", "two index registers"),
    ("mov eax, [eax]", "addresses must use 64-bit registers (eax is 32-bit)"),
    ("mov eax, [0x10]", "absolute memory addresses are not supported"),
    ("mov eax, [rdi]]", "unbalanced brackets"),
    ("mov eax, [rdi", "unbalanced brackets"),
    ("mov eax, [rdi+]", "bad memory operand"),
    ("mov eax, [rdi+zz]", "symbolic displacements are not supported: zz"),
    ("mov eax,", "empty operand"),
    ("mov eax, ah", "high-byte register"),
    ("mov eax, ebx, ecx", "takes 2 operands"),
    ("jmp 0x10", "bad branch target 0x10: use a label"),
    ("jmp 1b", "no '1:' label before this line"),
    ("jmp rax", "jmp needs a label"),
    ("mov eax, 99999999999999999999999h", "number does not fit in 64 bits"),
    ("lock add DWORD PTR [rdi], 1", "instruction prefixes are not supported"),
])
def test_every_intel_error_names_file_line_and_reason(text, reason):
    with pytest.raises(InputError) as info:
        parse_text("# header\n.intel_syntax noprefix\nfoo:\n" + text + "\n", "bad.s")
    err = info.value
    assert reason in err.reason, err.reason
    assert str(err).startswith("bad.s:4: ") and err.text == text.strip() and "\n" not in str(err)


def test_intel_prefix_mode_needs_percent_registers():
    with pytest.raises(InputError, match=r"bad.s:2: registers need a % prefix under .intel_syntax prefix"):
        parse_text(".intel_syntax prefix\nmov eax, ebx\n", "bad.s")
    with pytest.raises(InputError, match=r"bad.s:1: .att_syntax noprefix is not supported"):
        parse_text(".att_syntax noprefix\nret\n", "bad.s")
    with pytest.raises(InputError, match=r"bad.s:1: .intel_syntax frob is not supported"):
        parse_text(".intel_syntax frob\nret\n", "bad.s")


# C functions in the instruction set, as gcc compiles them (loops, every operand size, the
# multiplies, rotates, bit counts and BMI1/BMI2; GCC_FLAGS keep SSE out: at -O2 gcc 12 stores
# sort4's four results with one vector store)
C_FUNCTIONS = r"""
#include <stdint.h>
#include <immintrin.h>
static inline __attribute__((always_inline)) void cs(int32_t *a, int i, int j) {
    int32_t x = a[i], y = a[j];
    a[i] = x < y ? x : y; a[j] = x < y ? y : x;
}
void sort3(int32_t *a) { cs(a, 1, 2); cs(a, 0, 2); cs(a, 0, 1); }
void sort4(int32_t *a) { cs(a, 0, 1); cs(a, 2, 3); cs(a, 0, 2); cs(a, 1, 3); cs(a, 1, 2); }
void isort(int32_t *a, int32_t n) {
    for (int i = 1; i < n; i++) {
        int32_t x = a[i]; int j = i - 1;
        while (j >= 0 && a[j] > x) { a[j + 1] = a[j]; j--; }
        a[j + 1] = x;
    }
}
int lea3(int x) { return x * 3 + 1; }
long align16(long x) { return x & -16L; }
int less(int a, int b) { return a < b; }
unsigned below(unsigned a, unsigned b) { return a < b ? a : b; }
long widen(int x) { return x; }
unsigned long zwiden(unsigned x) { return x; }
int bytes(const unsigned char *p) { return p[0] + (signed char)p[1]; }
int halves(const short *p) { return p[0] - (unsigned short)p[1]; }
int shifts(int x, int n) { return (x >> 3) ^ (x << n) ^ ((unsigned)x >> (n & 7)); }
int clamp(int x) { return x < 0 ? 0 : x > 255 ? 255 : x; }
void store8(char *p, char c) { p[3] = c; p[5] = 7; }
void store16(short *p) { p[1] = -2; }
long big(void) { return 0x123456789abcL; }
int absval(int x) { return x < 0 ? -x : x; }
int mul(int a, int b) { return a * b; }
int mul7(int a) { return a * 7 + 1; }
int div7(int a) { return a / 7; }
unsigned udiv10(unsigned a) { return a / 10; }
uint64_t mulhi(uint64_t a, uint64_t b) { return (uint64_t)(((unsigned __int128)a * b) >> 64); }
int pop(unsigned x) { return __builtin_popcount(x); }
int ctz(unsigned x) { return __builtin_ctz(x); }
int clz(uint64_t x) { return __builtin_clzl(x); }
unsigned rotl(unsigned x) { return x << 3 | x >> 29; }
unsigned rotr(unsigned x, int n) { return x >> (n & 31) | x << (-n & 31); }
int bit(unsigned x, int n) { return (x >> n) & 1; }
unsigned andn(unsigned a, unsigned b) { return ~a & b; }
unsigned blsr(unsigned x) { return x & (x - 1); }
unsigned blsi(unsigned x) { return x & -x; }
unsigned blsmsk(unsigned x) { return x ^ (x - 1); }
unsigned shlx(unsigned x, int n) { return x << n; }
int sarx(int x, int n) { return x >> n; }
unsigned pdep(unsigned x, unsigned m) { return _pdep_u32(x, m); }
uint64_t pext(uint64_t x, uint64_t m) { return _pext_u64(x, m); }
unsigned bzhi(unsigned x, unsigned n) { return _bzhi_u32(x, n); }
"""
FUNCTIONS = ["sort3", "sort4", "isort", "lea3", "align16", "less", "below", "widen", "zwiden", "bytes", "halves",
             "shifts", "clamp", "store8", "store16", "big", "absval", "mul", "mul7", "div7", "udiv10", "mulhi", "pop",
             "ctz", "clz", "rotl", "rotr", "bit", "andn", "blsr", "blsi", "blsmsk", "shlx", "sarx", "pdep", "pext",
             "bzhi"]


GCC_FLAGS = ("-fno-tree-vectorize", "-fcf-protection", "-mbmi", "-mbmi2", "-mpopcnt", "-mlzcnt")


def compile_c(tmp_path, source, *flags, suffix=".s"):
    """`source` compiled by gcc -O2 `flags` to assembly (or an object, `suffix` ".o")."""
    (tmp_path / "f.c").write_text(source)
    out = tmp_path / ("f" + "".join(f.strip("-=") for f in flags) + suffix)
    subprocess.run(["gcc", "-O2", *GCC_FLAGS, "-S" if suffix == ".s" else "-c", "-o", str(out),
                    str(tmp_path / "f.c"), *flags], check=True)
    return out


@needs_gcc
@pytest.mark.parametrize("opt", ["-O2", "-O3"])  # (-Os divides with idiv, -O1 multiplies mulhi with mulx)
def test_gcc_masm_intel_parses_to_the_same_programs_as_its_att(tmp_path, opt):
    att = parse_text(compile_c(tmp_path, C_FUNCTIONS, opt).read_text())
    intel = parse_text(compile_c(tmp_path, C_FUNCTIONS, opt, "-masm=intel").read_text())
    assert intel.instrs == att.instrs and intel.labels == att.labels
    assert set(FUNCTIONS) <= set(intel.functions)


@needs_gcc
@pytest.mark.parametrize("kernel", ["sort3", "sort4", "sort5"])
def test_the_asm_kernels_c_baselines_in_intel_and_att(kernel):
    from pathlib import Path
    source = Path(__file__).resolve().parent.parent / "bench" / "baselines" / (kernel + ".c")

    def compiled(*flags):
        return subprocess.run(["gcc", "-O2", *GCC_FLAGS, "-S", "-o", "-", str(source), *flags], check=True,
                              capture_output=True, text=True).stdout
    att, intel = parse_text(compiled()), parse_text(compiled("-masm=intel"))
    assert intel.instrs == att.instrs and intel.name == att.name == kernel
    assert any(i.op == "cmov" for i in intel.instrs) and Imm(0) not in intel.instrs[0].operands


VALID_INTEL = ["mov eax, DWORD PTR [rdi+rsi*4-0x10]", "lea rax, [8*rsi + rdi + 0ffh]", "cmovl ecx, DWORD PTR 8[rdi]",
               "movzx eax, BYTE PTR [rdi]", "jle .L2", "shl QWORD PTR [rsp], cl", "mov eax, -010"]


@pytest.mark.slow
@settings(max_examples=600, deadline=None)
@given(st.sampled_from(VALID_INTEL), st.lists(st.tuples(st.integers(0, 40), st.integers(0, 2),
                                                        st.sampled_from("[]*+-:,.% 0129abfhxPTRDWORDrsi\t")),
                                              min_size=1, max_size=4))
def test_mutated_intel_lines_raise_input_error_or_parse(line, edits):
    text = line
    for at, kind, ch in edits:  # insert, delete or replace one character
        at = min(at, len(text))
        text = text[:at] + ch + text[at + (kind != 0):] if kind != 1 else text[:at] + text[at + 1:]
    try:
        program = parse_text(INTEL + ".L2:\n" + text + "\n", "fuzz.s")
    except InputError as exc:
        assert str(exc).startswith("fuzz.s:") and "\n" not in str(exc)
        return
    assemble(program)  # whatever parses also encodes

"""The AT&T parser: every supported form, compiler output as it is, every error path."""
import shutil
import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from superopt.x86.assembler import assemble
from superopt.x86.decode import disassemble
from superopt.errors import InputError
from superopt.x86.isa import Imm, Instr, Label, Mem, Reg
from superopt.x86.parser import load, parse_file, parse_text

R = Reg.named


def one(text):
    program = parse_text(text)
    assert len(program.instrs) == 1
    return program.instrs[0]


@pytest.mark.parametrize("text,expected", [
    ("movl (%rdi), %eax", Instr("mov", (R("eax"), Mem(32, "rdi")), None, 32)),
    ("mov 4(%rdi), %eax", Instr("mov", (R("eax"), Mem(32, "rdi", disp=4)), None, 32)),
    ("movq %rax, -8(%rsp,%rcx,8)", Instr("mov", (Mem(64, "rsp", "rcx", 8, -8), R("rax")), None, 64)),
    ("movl %eax, (,%rsi,4)", Instr("mov", (Mem(32, None, "rsi", 4), R("eax")), None, 32)),
    ("movl %eax, 0x10(%rdi,%rsi)", Instr("mov", (Mem(32, "rdi", "rsi", 1, 16), R("eax")), None, 32)),
    ("movl $-1, 8(%rdi)", Instr("mov", (Mem(32, "rdi", disp=8), Imm(-1)), None, 32)),
    ("movb $0x7f, %R8B", Instr("mov", (R("r8b"), Imm(127)), None, 8)),
    ("movw $010, %ax", Instr("mov", (R("ax"), Imm(8)), None, 16)),  # octal, as GNU as reads it
    ("movl $0b101, %eax", Instr("mov", (R("eax"), Imm(5)), None, 32)),
    ("movabsq $0x123456789, %rax", Instr("mov", (R("rax"), Imm(0x123456789)), None, 64)),
    ("MOVL %EAX, %R9D", Instr("mov", (R("r9d"), R("eax")), None, 32)),
    ("cmpl %eax, %edx", Instr("cmp", (R("edx"), R("eax")), None, 32)),
    ("cmp $5, %r10", Instr("cmp", (R("r10"), Imm(5)), None, 64)),
    ("testl $1, (%rdi)", Instr("test", (Mem(32, "rdi"), Imm(1)), None, 32)),
    ("test %al, %al", Instr("test", (R("al"), R("al")), None, 8)),
    ("cmovl %ecx, %eax", Instr("cmov", (R("eax"), R("ecx")), "l", 32)),
    ("cmovll %ecx, %eax", Instr("cmov", (R("eax"), R("ecx")), "l", 32)),
    ("cmovgeq 4(%rdi), %rax", Instr("cmov", (R("rax"), Mem(64, "rdi", disp=4)), "ge", 64)),
    ("cmovnle %cx, %ax", Instr("cmov", (R("ax"), R("cx")), "g", 16)),
    ("cmovb %ecx, %eax", Instr("cmov", (R("eax"), R("ecx")), "b", 32)),
    ("cmovbl %ecx, %eax", Instr("cmov", (R("eax"), R("ecx")), "b", 32)),
    ("setg %al", Instr("set", (R("al"),), "g", 8)),
    ("setnae (%rdi)", Instr("set", (Mem(8, "rdi"),), "b", 8)),
    ("setzb %dil", Instr("set", (R("dil"),), "e", 8)),
    ("xchg %eax, (%rdi)", Instr("xchg", (Mem(32, "rdi"), R("eax")), None, 32)),
    ("xchgq %rax, %rbx", Instr("xchg", (R("rbx"), R("rax")), None, 64)),
    ("addl $1, %eax", Instr("add", (R("eax"), Imm(1)), None, 32)),
    ("subq %rsi, %rdi", Instr("sub", (R("rdi"), R("rsi")), None, 64)),
    ("andb $-16, (%rdi)", Instr("and", (Mem(8, "rdi"), Imm(-16)), None, 8)),
    ("orw %ax, %bx", Instr("or", (R("bx"), R("ax")), None, 16)),
    ("xorl %eax, %eax", Instr("xor", (R("eax"), R("eax")), None, 32)),
    ("adcl $0, %edx", Instr("adc", (R("edx"), Imm(0)), None, 32)),
    ("sbb %eax, %eax", Instr("sbb", (R("eax"), R("eax")), None, 32)),
    ("notl %eax", Instr("not", (R("eax"),), None, 32)),
    ("negq (%rdi)", Instr("neg", (Mem(64, "rdi"),), None, 64)),
    ("incl 4(%rdi)", Instr("inc", (Mem(32, "rdi", disp=4),), None, 32)),
    ("dec %r15w", Instr("dec", (R("r15w"),), None, 16)),
    ("leal -1(%rdi,%rsi,2), %eax", Instr("lea", (R("eax"), Mem(32, "rdi", "rsi", 2, -1)), None, 32)),
    ("lea (%rdi), %rax", Instr("lea", (R("rax"), Mem(64, "rdi")), None, 64)),
    ("shll $3, %eax", Instr("shl", (R("eax"), Imm(3)), None, 32)),
    ("sall %cl, %eax", Instr("shl", (R("eax"), R("cl")), None, 32)),
    ("shrq %rax", Instr("shr", (R("rax"), Imm(1)), None, 64)),
    ("sarl $31, (%rdi)", Instr("sar", (Mem(32, "rdi"), Imm(31)), None, 32)),
    ("movzbl (%rdi), %eax", Instr("movzx", (R("eax"), Mem(8, "rdi")), None, 32)),
    ("movzwq %ax, %rax", Instr("movzx", (R("rax"), R("ax")), None, 64)),
    ("movsbl %al, %eax", Instr("movsx", (R("eax"), R("al")), None, 32)),
    ("movslq 4(%rdi), %rax", Instr("movsx", (R("rax"), Mem(32, "rdi", disp=4)), None, 64)),
    ("movzx %al, %ecx", Instr("movzx", (R("ecx"), R("al")), None, 32)),
    ("movsxd %eax, %rcx", Instr("movsx", (R("rcx"), R("eax")), None, 64)),
    ("pushq %rbx", Instr("push", (R("rbx"),), None, 64)),
    ("push $7", Instr("push", (Imm(7),), None, 64)),
    ("popq %r12", Instr("pop", (R("r12"),), None, 64)),
    ("cltq", Instr("cltq", (), None, 64)),
    ("cdqe", Instr("cltq", (), None, 64)),
    ("nop", Instr("nop")),
    ("ret", Instr("ret")),
    ("retq", Instr("ret")),
    ("rep ret", Instr("ret")),
    ("call *%rax", Instr("call", (R("rax"),))),
    ("callq *8(%rsp)", Instr("call", (Mem(64, "rsp", disp=8),))),
    ("rdtsc", Instr("rdtsc")),
    ("rdpmc", Instr("rdpmc")),
    ("lfence", Instr("lfence")),
    # the general ISA as gcc writes it (issue 18)
    ("imull $7, %edi, %eax", Instr("imul", (R("eax"), R("edi"), Imm(7)), None, 32)),
    ("imull $7, %eax", Instr("imul", (R("eax"), R("eax"), Imm(7)), None, 32)),
    ("imul %esi, %edi", Instr("imul", (R("edi"), R("esi")), None, 32)),
    ("imulq 8(%rdi), %rax", Instr("imul", (R("rax"), Mem(64, "rdi", disp=8)), None, 64)),
    ("imulq %rsi", Instr("imul", (R("rsi"),), None, 64)),
    ("imulb (%rdi)", Instr("imul", (Mem(8, "rdi"),), None, 8)),
    ("mull %esi", Instr("mul", (R("esi"),), None, 32)),
    ("mulq %rsi", Instr("mul", (R("rsi"),), None, 64)),
    ("mulw %si", Instr("mul", (R("si"),), None, 16)),
    ("roll %cl, %eax", Instr("rol", (R("eax"), R("cl")), None, 32)),
    ("rol %cl, %eax", Instr("rol", (R("eax"), R("cl")), None, 32)),
    ("rorq $3, %rdi", Instr("ror", (R("rdi"), Imm(3)), None, 64)),
    ("rolb %al", Instr("rol", (R("al"), Imm(1)), None, 8)),
    ("rolw $8, (%rdi)", Instr("rol", (Mem(16, "rdi"), Imm(8)), None, 16)),
    ("shl %cl, %eax", Instr("shl", (R("eax"), R("cl")), None, 32)),
    ("shl %eax", Instr("shl", (R("eax"), Imm(1)), None, 32)),
    ("sarq %rdx", Instr("sar", (R("rdx"), Imm(1)), None, 64)),
    ("bt $5, %edi", Instr("bt", (R("edi"), Imm(5)), None, 32)),
    ("btq %rsi, %rdi", Instr("bt", (R("rdi"), R("rsi")), None, 64)),
    ("btw $15, 2(%rdi)", Instr("bt", (Mem(16, "rdi", disp=2), Imm(15)), None, 16)),
    ("bsfl %edi, %eax", Instr("bsf", (R("eax"), R("edi")), None, 32)),
    ("rep bsfl %edi, %eax", Instr("bsf", (R("eax"), R("edi")), None, 32)),
    ("bsrq (%rdi), %rax", Instr("bsr", (R("rax"), Mem(64, "rdi")), None, 64)),
    ("popcntl %edi, %eax", Instr("popcnt", (R("eax"), R("edi")), None, 32)),
    ("popcntw %di, %ax", Instr("popcnt", (R("ax"), R("di")), None, 16)),
    ("lzcntq %rdi, %rax", Instr("lzcnt", (R("rax"), R("rdi")), None, 64)),
    ("tzcnt %edi, %eax", Instr("tzcnt", (R("eax"), R("edi")), None, 32)),
    ("andn %esi, %edi, %eax", Instr("andn", (R("eax"), R("edi"), R("esi")), None, 32)),
    ("andnq (%rsi), %rdi, %rax", Instr("andn", (R("rax"), R("rdi"), Mem(64, "rsi")), None, 64)),
    ("blsr %edi, %eax", Instr("blsr", (R("eax"), R("edi")), None, 32)),
    ("blsil %edi, %eax", Instr("blsi", (R("eax"), R("edi")), None, 32)),
    ("blsmsk %rdi, %rax", Instr("blsmsk", (R("rax"), R("rdi")), None, 64)),
    ("bzhi %esi, %edi, %eax", Instr("bzhi", (R("eax"), R("edi"), R("esi")), None, 32)),
    ("shlx %esi, %edi, %eax", Instr("shlx", (R("eax"), R("edi"), R("esi")), None, 32)),
    ("shrxq %rsi, (%rdi), %rax", Instr("shrx", (R("rax"), Mem(64, "rdi"), R("rsi")), None, 64)),
    ("sarx %esi, %edi, %eax", Instr("sarx", (R("eax"), R("edi"), R("esi")), None, 32)),
    ("rorx $3, %edi, %eax", Instr("rorx", (R("eax"), R("edi"), Imm(3)), None, 32)),
    ("rorxq $61, %rdi, %rax", Instr("rorx", (R("rax"), R("rdi"), Imm(61)), None, 64)),
    ("pdep %esi, %edi, %eax", Instr("pdep", (R("eax"), R("edi"), R("esi")), None, 32)),
    ("pextq %rsi, %rdi, %rax", Instr("pext", (R("rax"), R("rdi"), R("rsi")), None, 64)),
    ("movabsq $-81985529216486896, %rax", Instr("mov", (R("rax"), Imm(-81985529216486896)), None, 64)),
    ("movabs $0x7fffffffffffffff, %rdi", Instr("mov", (R("rdi"), Imm(2 ** 63 - 1)), None, 64)),
    ("cltd", Instr("cltd", (), None, 32)),
    ("cdq", Instr("cltd", (), None, 32)),
    ("cqto", Instr("cqto", (), None, 64)),
    ("cqo", Instr("cqto", (), None, 64)),
])
def test_supported_forms(text, expected):
    assert one(text) == expected
    assemble([expected])  # every supported form encodes and decodes back


@pytest.mark.parametrize("alias,cond", [
    ("c", "b"), ("nae", "b"), ("nc", "ae"), ("nb", "ae"), ("z", "e"), ("nz", "ne"), ("na", "be"),
    ("nbe", "a"), ("pe", "p"), ("po", "np"), ("nge", "l"), ("nl", "ge"), ("ng", "le"), ("nle", "g"),
    ("o", "o"), ("no", "no"), ("s", "s"), ("ns", "ns"), ("le", "le"), ("ae", "ae"),
])
def test_every_condition_alias_in_jcc_cmov_set(alias, cond):
    program = parse_text("x:\n j%s x\n cmov%s %%ecx, %%eax\n set%s %%al\n" % (alias, alias, alias))
    assert [i.cond for i in program.instrs] == [cond] * 3
    assert [i.op for i in program.instrs] == ["j", "cmov", "set"]


def test_labels_header_comments_and_statements():
    program = parse_text(
        "# task: sort3\n"
        "# author: someone: with colons\n"
        "\n"
        "# a plain comment\n"
        "kernel:  # the function\n"
        "  movl (%rdi), %eax ; movl 4(%rdi), %ecx   # two statements\n"
        ".Lloop: cmpl %ecx, %eax\n"
        "  jle .Ldone\n"
        "  jmp .Lloop\n"
        ".Ldone:\n", "k.s")
    assert program.task == "sort3" and program.header == {"task": "sort3", "author": "someone: with colons"}
    assert program.comment == [("task", "task: sort3"), ("author", "author: someone: with colons"),
                               (None, "a plain comment")]
    assert program.name == "kernel" and program.path == "k.s"
    assert program.labels == {"kernel": 0, ".Lloop": 2, ".Ldone": 5}
    assert program.lines == [6, 6, 7, 8, 9]
    assert program.instrs[3] == Instr("j", (Label(".Ldone"),), "le")
    out = assemble(program)
    assert out.implicit_ret  # .Ldone after the last instruction: the branch returns


def test_crlf_line_ends_and_line_numbers():
    program = parse_text("# task: sort3\r\nmovl %eax, %ebx\r\n\r\nret\r\n")
    assert program.task == "sort3" and program.lines == [2, 4]


def test_header_is_only_the_leading_comments():
    program = parse_text("# task: sort4\nret\n# task: sort5\n")
    assert program.task == "sort4"
    assert parse_text("ret\n# task: sort5\n").task is None


def test_numeric_local_labels_both_directions():
    program = parse_text(
        "1: cmpl %eax, %ecx\n"
        "   jle 1f\n"       # -> the second "1:"
        "   jmp 1b\n"       # -> the first "1:"
        "1: jg 1b\n"        # the label on the same line comes first
        "   jl 2f\n"
        "2: ret\n")
    first, second, two = (program.instrs[i].operands[0].name for i in (2, 1, 4))
    assert program.labels[first] == 0 and program.labels[second] == 3
    assert program.instrs[3].operands[0].name == second and program.labels[two] == 5
    assert len({first, second, two}) == 3
    # generated names never collide with the file's own labels
    clash = parse_text(".L1_0: nop\n1: jmp 1b\n")
    assert clash.instrs[1].operands[0].name != ".L1_0"
    assert clash.labels[clash.instrs[1].operands[0].name] == 1


def test_directives_and_other_sections_are_skipped():
    program = parse_text(
        '\t.file "x.c"\n\t.text\n\t.p2align 4,,10\n\t.globl f\n\t.type f, @function\nf:\n'
        "\t.cfi_startproc\n\tnop\n\t.cfi_endproc\n\t.size f, .-f\n"
        '\t.section .rodata\n.LC0:\n\t.long 5\n\t.string "#not a comment"\n'
        '\t.section .text.unlikely,"ax",@progbits\n\tret\n'
        '\t.section .note.GNU-stack,"",@progbits\n'
        '\t.ident "GCC: (Debian) 12"\n')
    assert [i.op for i in program.instrs] == ["nop", "ret"] and program.name == "f"
    assert ".LC0" not in program.labels


C_SORT3_BRANCHY = """
void sort3(int *a) {
    int x = a[0], y = a[1], z = a[2], t;
    if (y < x) { t = x; x = y; y = t; }
    if (z < y) { t = y; y = z; z = t; if (y < x) { t = x; x = y; y = t; } }
    a[0] = x; a[1] = y; a[2] = z;
}
"""
C_SORT3_BRANCHLESS = """
static inline void cs(int *a, int i, int j) {
    int x = a[i], y = a[j];
    int lo = x < y ? x : y, hi = x < y ? y : x;
    a[i] = lo; a[j] = hi;
}
void sort3(int *a) { cs(a, 1, 2); cs(a, 0, 2); cs(a, 0, 1); }
"""


@pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("objcopy") is None, reason="needs gcc")
@pytest.mark.parametrize("source", [C_SORT3_BRANCHY, C_SORT3_BRANCHLESS], ids=["branchy", "branchless"])
def test_gcc_output_parses_as_is_and_encodes_like_gnu_as(source, tmp_path):
    c, s, o, binary = (tmp_path / n for n in ("k.c", "k.s", "k.o", "k.bin"))
    c.write_text(source)
    subprocess.run(["gcc", "-O2", "-S", "-o", str(s), str(c)], check=True)
    program = parse_file(s)
    assert program.name == "sort3" and program.instrs[-1] == Instr("ret")
    ours = assemble(program)
    # GNU as assembles the same file; the instructions it encodes must decode the same as ours
    # (it pads .p2align with nops, and its branch targets move with that padding).
    subprocess.run(["gcc", "-c", "-o", str(o), str(s)], check=True)
    subprocess.run(["objcopy", "-O", "binary", "-j", ".text", str(o), str(binary)], check=True)

    def listing(code):
        return [(d.mnemonic, d.op_str if not d.mnemonic.startswith("j") else "")
                for d in disassemble(code) if not d.mnemonic.startswith("nop")]
    assert listing(ours.code) == listing(binary.read_bytes())
    if source is C_SORT3_BRANCHLESS:
        assert any(i.op == "cmov" for i in program.instrs)


@pytest.mark.parametrize("text,reason", [
    ("idivl %ecx", "unknown instruction 'idivl'"),
    ("imulb %cl, %al", "imul with 2 or 3 operands needs 16-, 32- or 64-bit operands"),
    ("imull $0x100000000, %eax, %eax", "does not fit a 32-bit imul"),
    ("mull $3, %eax", "mul takes 1 operand, not 2"),
    ("mul (%rdi)", "operand size is ambiguous"),
    ("roll %edx, %eax", "a shift count in a register must be %cl"),
    ("rolb $256, %al", "shift count 256 is not in 0..255"),
    ("btl %eax, (%rdi)", "bt cannot take register, memory"),
    ("btl $32, %eax", "bt bit offset 32 is not in 0..31"),
    ("btb $1, %al", "bt needs 16-, 32- or 64-bit operands"),
    ("bsfb %al, %cl", "bsf needs 16-, 32- or 64-bit operands"),
    ("popcntl %eax, (%rdi)", "popcnt cannot take register, memory"),
    ("lzcnt %ax, %ecx", "operand size mismatch: %ecx is 32-bit but %ax is 16-bit"),
    ("andn %si, %di, %ax", "andn needs 32- or 64-bit operands"),
    ("andn %esi, (%rdi), %eax", "andn cannot take register, memory, register"),
    ("blsr %edi", "blsr takes 2 operands, not 1"),
    ("bzhi (%rsi), %edi, %eax", "bzhi cannot take memory, register, register"),
    ("shlx %cl, %edi, %eax", "operand size mismatch"),
    ("rorx %ecx, %edi, %eax", "rorx cannot take register, register, register"),
    ("rorxl $256, %edi, %eax", "rorx count 256 is not in 0..255"),
    ("pdep %esi, %edi", "pdep takes 3 operands, not 2"),
    ("cltd %eax", "cltd takes no operands"),
    ("cqtol", "unknown instruction 'cqtol'"),
    ("rep bsrl %edi, %eax", "instruction prefixes are not supported"),
    ("movl %eax", "takes 2 operands, not 1"),
    ("movl %eax, %ebx, %ecx", "takes 2 operands, not 3"),
    ("movl %rax, %ebx", "operand size mismatch: suffix 'l' is 32-bit but %rax is 64-bit"),
    ("mov %rax, %ebx", "operand size mismatch: %ebx is 32-bit but %rax is 64-bit"),
    ("movl (%rdi), (%rsi)", "two memory operands"),
    ("movl %eax, %foo", "no such register %foo"),
    ("movl %ah, %al", "high-byte register %ah"),
    ("movl $1, (%rdi)", None),  # fine: the suffix fixes the size
    ("mov $1, (%rdi)", "operand size is ambiguous"),
    ("movb $256, %al", "immediate 256 does not fit a 8-bit mov"),
    ("addq $0x80000000, %rax", "does not fit a 64-bit add"),
    ("movl $x, %eax", "symbolic immediates are not supported"),
    ("movl $1x, %eax", "bad immediate"),
    ("movl $08, %eax", "bad immediate"),
    ("movl x, %eax", "symbol operands are not supported"),
    ("movl 64, %eax", "absolute memory addresses are not supported"),
    ("movl .LC0(%rip), %eax", "rip-relative addressing is not supported"),
    ("movl %fs:8, %eax", "segment registers are not supported"),
    ("movl x(%rdi), %eax", "symbolic displacements are not supported"),
    ("movl (%edi), %eax", "addresses must use 64-bit registers"),
    ("movl (%rdi,%rsp), %eax", "%rsp cannot be an index register"),
    ("movl (%rdi,%rsi,3), %eax", "scale must be 1, 2, 4 or 8"),
    ("movl (), %eax", "memory operand without a register"),
    ("movl (%rdi,), %eax", "missing index register"),
    ("movl (rdi), %eax", "bad address register"),
    ("movl 0x100000000(%rdi), %eax", "does not fit in 32 bits"),
    ("movl $" + "9" * 5000 + ", %eax", "number does not fit in 64 bits"),  # int() refuses 4300 digits
    ("movl $0x" + "f" * 5000 + ", %eax", "number does not fit in 64 bits"),  # and so does "%d"
    ("movl 0x" + "f" * 5000 + "(%rdi), %eax", "number does not fit in 64 bits"),
    ("movl (%rdi,%rsi," + "9" * 5000 + "), %eax", "number does not fit in 64 bits"),
    ("movl (%rdi, %eax", "unbalanced parentheses"),
    ("movl %eax,, %ebx", "empty operand"),
    ("movl %eax, *%ebx", "only applies to call and jmp"),
    ("cmovl %cl, %al", "cmov needs 16-, 32- or 64-bit operands"),
    ("cmovl %eax, (%rdi)", "cmovl cannot take register, memory"),
    ("setl %eax", "setl needs an 8-bit operand"),
    ("jle", "jle needs a label"),
    ("jle %eax", "jle needs a label"),
    ("jmp *%rax", "jmp needs a label"),
    ("jle 1", "needs a direction"),
    ("jle 1f", "no '1:' label after this line"),
    ("jle 1b", "no '1:' label before this line"),
    ("jle .L9", "undefined label .L9"),
    ("jle $3", "jle needs a label"),
    ("call foo", "call needs one 64-bit register"),
    ("call *%eax", "call needs one 64-bit register"),
    ("shll %dl, %eax", "must be %cl"),
    ("shll $300, %eax", "not in 0..255"),
    ("movzbl %ax, %eax", "movzbl reads 8 bits but %ax is 16-bit"),
    ("movzbl %al, %ax", "movzbl writes 32 bits but %ax is 16-bit"),
    ("movzx (%rdi), %eax", "operand size is ambiguous"),
    ("movsx %eax, %ecx", "movsx cannot extend 32 bits to 32 bits"),
    ("movzbl %al, (%rdi)", "needs a register destination"),
    ("leal %eax, %ecx", "lea cannot take register, register"),
    ("pushl %eax", "push needs a 64-bit operand"),
    ("ret $8", "ret takes no operands"),
    ("nop (%rax)", "nop takes no operands"),
    ("cltq (%rdi)", "cltq takes no operands"),
    ("jle (%rax)", "jle needs a label"),
    ("retl", "ret takes no size suffix"),
    ("nopl", "nop takes no size suffix"),
    ("lock addl $1, (%rdi)", "instruction prefixes are not supported"),
    (".long 5", "data directive .long inside code"),
    (".att_syntax noprefix", ".att_syntax noprefix is not supported"),
    (".intel_syntax noprefix\nmovl eax, ebx", "no size suffixes"),
    (".frobnicate", "unknown directive .frobnicate"),
    (".section .data\nmovl %eax, %ebx", "instruction outside the code section (.data)"),
    (".popsection", ".popsection without .pushsection"),
    ("x: nop\nx: ret", "label x is already defined on line 3"),
    ("", "no instructions found"),
    ("# task: sort3\n\n", "no instructions found"),
])
def test_every_error_names_file_line_and_reason(text, reason):
    source = "# header line\nfoo:\n" + text + "\n"
    if reason is None:
        parse_text(source, "bad.s")
        return
    with pytest.raises(InputError) as info:
        parse_text(source, "bad.s")
    err = info.value
    assert reason in err.reason, err.reason
    assert err.path == "bad.s"
    if text.strip() and "no instructions" not in reason:
        assert err.line is not None and err.line >= 3
        assert str(err).startswith("bad.s:%d: " % err.line)
        assert err.text.strip().removesuffix("...") in source  # long lines are cut short


def test_parse_file_and_load(tmp_path):
    good = tmp_path / "k.s"
    good.write_text("# task: sort3\nmovl (%rdi), %eax\nret\n")
    program, task = load(good)
    assert task.name == "sort3" and program.path == str(good)
    assert load(good, task="sort4")[1].name == "sort4"  # the argument wins over the header
    bare = tmp_path / "bare.s"
    bare.write_text("ret\n")
    with pytest.raises(InputError, match="no task given: use --task or a '# task: NAME' header"):
        load(bare)
    with pytest.raises(InputError, match=r"unknown task 'sort99' \(known: sort3, "):
        load(bare, "sort99")
    with pytest.raises(InputError, match="no such file"):
        parse_file(tmp_path / "missing.s")
    with pytest.raises(InputError, match="is a directory"):
        parse_file(tmp_path)
    latin = tmp_path / "latin.s"
    latin.write_bytes(b"# task: sort3\r\nmovl (%rdi), %eax # caf\xe9\r\nret\n")
    with pytest.raises(InputError, match="not UTF-8") as info:
        parse_file(latin)
    assert info.value.path == str(latin)
    assert str(info.value) == "%s:2: not UTF-8 text (byte 0xe9): movl (%%rdi), %%eax # caf\\xe9" % latin
    old_mac = tmp_path / "cr.s"
    old_mac.write_bytes(b"# task: sort3\rmovl (%rdi), %eax\rret\r")
    assert parse_file(old_mac).lines == [2, 3]  # \r ends lines, as in text mode


def test_control_characters_in_errors_are_escaped():
    with pytest.raises(InputError) as info:
        parse_text("ret\nmovl %eax, %e\x1b[31mbx\x0c\u2028y\n", "ctl.s")
    assert str(info.value) == r"ctl.s:2: no such register %e\x1b[31mbx\x0c\u2028y: movl %eax, %e\x1b[31mbx\x0c\u2028y"


VALID_LINES = [
    "movl 4(%rdi), %eax", "cmpl %eax, %ecx", "cmovl %ecx, %eax", "jle .L2", "xchgq %rax, (%rsi,%rcx,8)",
    "leal -1(%rdi,%rsi,2), %eax", "shll %cl, 8(%rdi)", "movzbl (%rdi), %eax", "setge %al",
    "movl $-2147483648, (%rdi)", "call *%rax", "1: jmp 1b", ".L2: ret", "  .p2align 4,,10",
]


@pytest.mark.slow
@settings(max_examples=400)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=40) |
                st.text(alphabet="%$(),:;.#*-+ 0123456789abcdefghlqrsx\t", max_size=40), max_size=5))
def test_garbage_raises_input_error_or_parses(lines):
    try:
        parse_text("\n".join(lines), "fuzz.s")
    except InputError:
        pass


@settings(max_examples=600)
@given(st.sampled_from(VALID_LINES), st.lists(st.tuples(st.integers(0, 60), st.integers(0, 2),
                                                         st.sampled_from("%$(),:;.#*-+ 0129abflqrx\t\n")),
                                               min_size=1, max_size=4))
def test_mutated_valid_lines_raise_input_error_or_parse(line, edits):
    text = line
    for at, kind, ch in edits:  # insert, delete or replace one character
        at = min(at, len(text))
        text = text[:at] + ch + text[at + (kind != 0):] if kind != 1 else text[:at] + text[at + 1:]
    try:
        program = parse_text(".L2:\n" + text + "\n", "fuzz.s")
    except InputError:
        return
    assemble(program)  # whatever parses also encodes

"""superopt export: the C/C++ inline asm, gas and Intel forms compile, inline and sort correctly.

The exported kernels are compiled with the system's gcc and g++ at -O0, -O2 and -O3 into
one driver per language and level. The driver keeps twelve values live across each
inlined kernel (a missing clobber corrupts them), calls every kernel twice in one
function (labels must be unique per inlined copy), guards the array on both sides and
compares with qsort (C) or std::sort (C++) on many random arrays. The gas files are
assembled and linked with the same driver calling them as functions.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from superopt.cli import main
from superopt.errors import InputError
from superopt.emit.export import ExportRefused, body, check_request, export, inline_asm, register_usage
from superopt.x86.isa import Instr, Label, Mem, Program, Reg
from superopt.x86.parser import load, parse_text
from superopt.tasks.registry import get_task
from superopt.check.verify import verify

ASM = Path(__file__).resolve().parent.parent / "asm"
ARRAYS = 20000  # random arrays per kernel per binary

# Kernels written to exercise what the reference networks do not: a moved pointer (%rdi
# written), push/pop in the middle of the body (the red zone must be stepped over), a ret
# before the end, a shift count in %cl and cltq (registers needed by name), numeric labels.
FEATURES = """# task: sort3
	leaq 4(%rdi), %rdi
	movl -4(%rdi), %eax
	movl (%rdi), %r9d
	movl 4(%rdi), %edx
	cmpl %r9d, %eax
	jg 1f
	cmpl %edx, %r9d
	jg 1f
	ret                     # already sorted
1:	xorl %ecx, %ecx
	shll %cl, %eax          # shift by zero
	cltq
	pushq %r9
	popq %rsi
	cmpl %esi, %eax
	jle 2f
	xchgl %eax, %esi
2:	cmpl %edx, %esi
	jle .Lstore
	xchgl %esi, %edx
	cmpl %esi, %eax
	jle .Lstore
	xchgl %eax, %esi
.Lstore:
	movl %eax, -4(%rdi)
	movl %esi, (%rdi)
	movl %edx, 4(%rdi)
"""

# Callee-saved registers as values, saved at entry and restored before both rets, one of
# the restoring pops a branch target: the saves are dropped from the inline form.
SAVES = """# task: sort3
	pushq %rbx
	pushq %rbp
	movl (%rdi), %ebx
	movl 4(%rdi), %ebp
	movl 8(%rdi), %eax
	cmpl %ebp, %ebx
	jg .Lsort
	cmpl %eax, %ebp
	jle .Lout
.Lsort:
	cmpl %eax, %ebx
	movl %eax, %ecx
	cmovg %ebx, %ecx
	cmovg %eax, %ebx
	cmpl %ebp, %ebx
	movl %ebp, %eax
	cmovg %ebx, %eax
	cmovg %ebp, %ebx
	cmpl %ecx, %eax
	movl %ecx, %ebp
	cmovg %eax, %ebp
	cmovg %ecx, %eax
	movl %ebx, (%rdi)
	movl %eax, 4(%rdi)
	movl %ebp, 8(%rdi)
	popq %rbp
	popq %rbx
	ret
.Lout:
	popq %rbp
	popq %rbx
	ret
"""

# A variable sort that consumes its length register (writes %esi) and loops: insertion sort.
VARLOOP = """# task: varsort4
	movl $1, %eax
	cmpl %eax, %esi
	jle 3f
1:	movl (%rdi,%rax,4), %ecx
	movq %rax, %rdx
2:	movl -4(%rdi,%rdx,4), %r8d
	cmpl %ecx, %r8d
	jle 4f
	movl %r8d, (%rdi,%rdx,4)
	decq %rdx
	jne 2b
4:	movl %ecx, (%rdi,%rdx,4)
	incl %eax
	decl %esi
	cmpl $1, %esi
	jg 1b
3:	ret
"""

# Elements read in place after the entry (a reload, a compare with memory): in the values
# form those reads become input operands.
INPLACE = """# task: sort3
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	movl %eax, %edx
	cmpl %ecx, %eax
	cmovg %ecx, %eax
	cmovg %edx, %ecx
	movl 8(%rdi), %edx
	cmpl 8(%rdi), %ecx
	movl %edx, %esi
	cmovg %ecx, %esi
	cmovg %edx, %ecx
	cmpl %ecx, %eax
	movl %ecx, %edx
	cmovg %eax, %edx
	cmovg %ecx, %eax
	movl %eax, (%rdi)
	movl %edx, 4(%rdi)
	movl %esi, 8(%rdi)
"""

# C that gcc -O2 -S turns into a kernel (directives, .cfi, labels nobody jumps to and all).
GCC_SORT3 = """#include <stdint.h>
void sort3(int32_t *a)
{
    int32_t x = a[0], y = a[1], z = a[2], t;
    if (x > y) { t = x; x = y; y = t; }
    if (y > z) { t = y; y = z; z = t; }
    if (x > y) { t = x; x = y; y = t; }
    a[0] = x; a[1] = y; a[2] = z;
}
"""

# sort3's network with its last comparator dropped: wrong on some inputs.
WRONG = """# task: sort3
	movl (%rdi), %eax
	movl 4(%rdi), %ecx
	movl 8(%rdi), %edx
	cmpl %edx, %eax
	movl %edx, %esi
	cmovg %eax, %esi
	cmovg %edx, %eax
	cmpl %ecx, %eax
	movl %ecx, %edx
	cmovg %eax, %edx
	cmovg %ecx, %eax
	movl %eax, (%rdi)
	movl %edx, 4(%rdi)
	movl %esi, 8(%rdi)
	ret
"""

_EXTRA = {"features_sort3": FEATURES, "saves_sort3": SAVES, "loop_varsort4": VARLOOP, "inplace_sort3": INPLACE}

DRIVER = r"""
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef __cplusplus
#include <algorithm>
static void ref_sort(int32_t *a, int n) { std::sort(a, a + n); }
#else
static int cmp32(const void *x, const void *y)
{
    int32_t p = *(const int32_t *)x, q = *(const int32_t *)y;
    return (p > q) - (p < q);
}
static void ref_sort(int32_t *a, int n) { qsort(a, (size_t)n, sizeof *a, cmp32); }
#endif
%(includes)s
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_u64(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}
static int32_t next_value(void)
{
    uint64_t r = next_u64();
    switch (r >> 62) {
    case 0: return (int32_t)((r >> 8) %% 9) - 4;  /* small range: ties */
    case 1: return (r & 1) ? INT32_MAX - (int32_t)((r >> 8) & 3) : INT32_MIN + (int32_t)((r >> 8) & 3);
    default: return (int32_t)(uint32_t)r;
    }
}
static volatile uint64_t live_in[12], live_out[12];

#define CHECK(NAME, N, VARIABLE, CALL) \
static int check_##NAME(void) \
{ \
    int32_t vals[N + 2], buf[N + 2], ref[N + 2]; \
    for (long it = 0; it < %(arrays)d; it++) { \
        int n = VARIABLE ? (int)(next_u64() %% (N + 1)) : N; \
        for (int k = 0; k < N + 2; k++) vals[k] = ref[k] = next_value(); \
        ref_sort(ref + 1, n); \
        /* stores just before the kernel, loads just after: without a "memory" clobber */ \
        /* the compiler forwards one to the other and the check sees the unsorted input */ \
        for (int k = 0; k < N + 2; k++) buf[k] = vals[k]; \
        int32_t *a = buf + 1; \
        uint64_t v0 = live_in[0], v1 = live_in[1], v2 = live_in[2], v3 = live_in[3]; \
        uint64_t v4 = live_in[4], v5 = live_in[5], v6 = live_in[6], v7 = live_in[7]; \
        uint64_t v8 = live_in[8], v9 = live_in[9], v10 = live_in[10], v11 = live_in[11]; \
        CALL; \
        CALL; \
        live_out[0] = v0; live_out[1] = v1; live_out[2] = v2; live_out[3] = v3; \
        live_out[4] = v4; live_out[5] = v5; live_out[6] = v6; live_out[7] = v7; \
        live_out[8] = v8; live_out[9] = v9; live_out[10] = v10; live_out[11] = v11; \
        for (int k = 0; k < 12; k++) \
            if (live_out[k] != live_in[k]) { \
                printf("FAIL %%s: live value %%d clobbered\n", #NAME, k); \
                return 1; \
            } \
        int same = 1; \
        for (int k = 0; k < N + 2; k++) same &= buf[k] == ref[k]; \
        if (!same) { \
            printf("FAIL %%s: n=%%d got", #NAME, n); \
            for (int k = 0; k < N + 2; k++) printf(" %%d", (int)buf[k]); \
            printf(" want"); \
            for (int k = 0; k < N + 2; k++) printf(" %%d", (int)ref[k]); \
            printf("\n"); \
            return 1; \
        } \
        for (int k = 0; k < 12; k++) live_in[k] = next_u64(); \
    } \
    printf("ok %%s\n", #NAME); \
    return 0; \
}
%(checks)s
int main(void)
{
    int bad = 0;
    for (int k = 0; k < 12; k++) live_in[k] = next_u64();
%(calls)s
    return bad;
}
"""


@pytest.fixture(scope="module")
def kernels():
    """name -> (program, task, verdict) for every kernel in asm/ that passes verify and the
    feature kernels, each verified once."""
    out = {}
    for path in sorted(ASM.glob("*.s")):
        program, task = load(path)
        if task.kind == "array":   # the sorts, checked against std::sort (varint exports: test_varint.py)
            out[re.sub(r"\W", "_", path.stem)] = (program, task)
    for name, text in _EXTRA.items():
        program = parse_text(text, name + ".s")
        out[name] = (program, get_task(program.task))
    if shutil.which("gcc"):
        gcc_s = subprocess.run(["gcc", "-O2", "-S", "-x", "c", "-o", "-", "-"], input=GCC_SORT3, text=True,
                               capture_output=True, check=True).stdout
        out["gcc_sort3"] = (parse_text(gcc_s, "gcc_sort3.s"), get_task("sort3"))
    verified = {name: (program, task, verify(program, task)) for name, (program, task) in out.items()}
    passed = {name: kernel for name, kernel in verified.items() if kernel[2].passed}
    required = {"sort%d" % n for n in range(3, 9)} | {"varsort%d" % n for n in range(3, 6)} | set(_EXTRA)
    assert required <= set(passed), "kernels missing or failing verify: %s" % sorted(required - set(passed))
    return passed


def _driver(kernels, includes: str) -> str:
    checks, calls = [], []
    for name, (_, task, _) in kernels.items():
        call = "%s(a, n)" % name if task.variable else "%s(a)" % name
        checks.append("CHECK(%s, %d, %d, %s)" % (name, task.n, int(task.variable), call))
        calls.append("    bad |= check_%s();" % name)
    return DRIVER % {"includes": includes, "arrays": ARRAYS, "checks": "\n".join(checks),
                     "calls": "\n".join(calls)}


def _run(cmd, cwd) -> str:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, "%s failed:\n%s%s" % (" ".join(map(str, cmd)), done.stdout, done.stderr[-4000:])
    return done.stdout


def _flat(text: str) -> str:
    """CLI output with rich's line wrapping undone."""
    return " ".join(text.split())


def _assert_all_ok(output: str, kernels) -> None:
    assert sorted(re.findall(r"^ok (\w+)$", output, re.M)) == sorted(kernels), output


# Kernels the values form takes: fixed sizes, loads before any branch, stores after.
# sort3_extended reads elements in place that it also loads: its in-out operands must be
# early-clobber, or the compiler shares a register between a[0] and the register loaded from it.
VALUES = {"sort3", "sort4", "sort5", "sort6", "sort7", "sort8", "sort3_insertion", "sort3_extended", "inplace_sort3"}


@pytest.mark.slow
@pytest.mark.parametrize("opt", ["-O0", "-O2", "-O3"])
@pytest.mark.parametrize("lang", ["c", "cpp"])
def test_inline_asm_compiles_inlines_and_sorts(kernels, tmp_path, lang, opt):
    compiler = "gcc" if lang == "c" else "g++"
    if not shutil.which(compiler):
        pytest.skip("no %s on this machine" % compiler)
    variants = dict(kernels)
    for name, (program, task, verdict) in kernels.items():
        (tmp_path / (name + ".h")).write_text(export(program, task, lang, name, verdict))
        if name in VALUES:
            (tmp_path / (name + "_values.h")).write_text(export(program, task, lang, name + "_values", verdict,
                                                                 values=True))
            variants[name + "_values"] = kernels[name]
    includes = "\n".join('#include "%s.h"' % name for name in variants)
    source = tmp_path / ("driver." + lang)
    source.write_text(_driver(variants, includes))
    std = "-std=c99" if lang == "c" else "-std=c++17"
    _run([compiler, std, opt, "-Wall", "-Wextra", "-Werror", "-o", "driver", source.name], tmp_path)
    _assert_all_ok(_run(["./driver"], tmp_path), variants)


@pytest.mark.slow
@pytest.mark.parametrize("opt", ["-O0", "-O2", "-O3"])
def test_gas_files_assemble_link_and_sort(kernels, tmp_path, opt):
    if not shutil.which("gcc"):
        pytest.skip("no gcc on this machine")
    objects = []
    for name, (program, task, verdict) in kernels.items():
        (tmp_path / (name + ".S")).write_text(export(program, task, "gas", name, verdict))
        _run(["as", "-o", name + ".o", name + ".S"], tmp_path)  # plain `as`, no preprocessor
        objects.append(name + ".o")
    _run(["gcc", "-c", "-o", "pp.o", "sort3.S"], tmp_path)  # and through gcc's preprocessor
    prototypes = "\n".join(task.signature.replace(task.name + "(", name + "(", 1) + ";"
                           for name, (_, task, _) in kernels.items())
    (tmp_path / "driver.c").write_text(_driver(kernels, prototypes))
    _run(["gcc", "-std=c99", opt, "-Wall", "-Wextra", "-Werror", "-o", "driver", "driver.c"] + objects, tmp_path)
    _assert_all_ok(_run(["./driver"], tmp_path), kernels)


def test_intel_listing_assembles_with_gas_and_shows_superopts_bytes(kernels, tmp_path):
    program, task, verdict = kernels["varsort3"]
    text = export(program, task, "intel", verdict=verdict)
    assert ".intel_syntax noprefix" in text and "varsort3:" in text
    assert re.search(r"^\tcmp esi, 0x3 +# 0000: 83 fe 03$", text, re.M), text
    (tmp_path / "k.s").write_text(text)
    _run(["as", "-o", "k.o", "k.s"], tmp_path)
    # the bytes the listing shows (superopt's assembler) are the bytes gas makes of its text
    listed = bytes.fromhex("".join(m.replace(" ", "") for m in re.findall(r"# [0-9a-f]{4}: ([0-9a-f ]+)$", text, re.M)))
    _run(["objcopy", "-O", "binary", "--only-section=.text", "k.o", "k.bin"], tmp_path)
    assert (tmp_path / "k.bin").read_bytes() == listed


def test_header_comment_says_what_the_kernel_is(kernels):
    program, task, verdict = kernels["sort3"]
    text = export(program, task, "cpp", verdict=verdict)
    assert "inline void sort3(int32_t *a)" in text and "static inline" not in text
    assert "Task sort3, 18 instructions" in text
    assert "Bench: not measured" in text
    assert "superopt export --format cpp" in text
    c_text = export(program, task, "c", "my_sort3", verdict)
    assert "static inline void my_sort3(int32_t *a)" in c_text and "--name my_sort3" in c_text
    benched = parse_text("# task: sort3\n# bench: 4.1 cycles (p5, tsc, latency)\n" + "\n".join(
        "\t" + ins.att() for ins in program.instrs), "b.s")
    assert "Bench: 4.1 cycles (p5, tsc, latency)." in export(benched, task, "c", verdict=verdict)
    searched = replace(benched, header={"task": "sort3", "latency": "9.5 cycles (measured natively)"})
    assert "Bench: 9.5 cycles (measured natively)." in export(searched, task, "c", verdict=verdict)
    untitled = replace(program, task=None, header={}, path="k.s")  # its task came from --task
    assert "superopt export --format c --task sort3 k.s" in export(untitled, task, "c", verdict=verdict)


def test_header_comment_carries_the_files_provenance_as_written(kernels):
    program, task, verdict = kernels["sort3"]
    text = export(program, task, "c", verdict=verdict)
    assert " *   Human benchmark: the optimal 3-comparator sorting network for 3 elements,\n" \
           " *   comparators (0,2) (0,1) (1,2).\n" in text and " *   18 instructions plus ret.\n" in text
    assert "task: sort3" not in text  # the Task line says it
    program, task, verdict = kernels["sort4_agent"]
    # indented continuation lines join the line they continue, then wrap at 88 columns
    text = " ".join(line.lstrip(" *") for line in export(program, task, "gas", verdict=verdict).splitlines())
    assert ("Found by the AlphaDev agent from scratch on 2026-12-02: superopt search sort4 --from-scratch "
            "--time-limit 2700 --param patience=100000 (2 workers, 800 simulations per move, seed 0; 2.16M "
            "programs explored in 45 min). 29 instructions:") in text and "Instruction set alphadev." in text


def test_inline_form_binds_arguments_and_renames_every_register(kernels):
    program, task, _ = kernels["varsort3"]
    asm = inline_asm(program, task)
    assert ("rdi", "r", "a") in asm.inputs and ("rsi", "r", "(uint64_t)(uint32_t)n") in asm.inputs
    # the array is an in-out memory operand, not a "memory" clobber: the compiler keeps the rest
    assert asm.outputs[-1] == ("array", "+m", "*(int32_t (*)[3])a") and asm.clobbers == ["cc"]
    assert {name for name, _, _ in asm.outputs[:-1]} == {"rax", "rcx", "rdx", "r8"}
    assert all(c == "=&r" for _, c, _ in asm.outputs[:-1])
    text = "\n".join(asm.template)
    assert not re.search(r"%%?(e?[a-d]x|[re]?[sd]i|r\d+d?)\b", text), "a hard-coded register is left"
    assert "cmpl $3, %k[rsi]" in text and "movl (%q[rdi]), %k[rax]" in text
    # two rets before the end jump to the end of the block; the last one is the end
    assert text.count("jmp .L_ret_%=") == 2 and text.endswith(".L_ret_%=:")


def test_registers_needed_by_name_keep_them_and_the_stack_is_stepped_over(kernels):
    program, task, _ = kernels["features_sort3"]
    use = register_usage(program)
    assert set(use.pinned) == {"rax", "rcx"} and use.stack
    asm = inline_asm(program, task)
    assert ("rax", "=&a", "rax") in asm.outputs and ("rcx", "=&c", "rcx") in asm.outputs
    assert ("rdi", "+&r", "rdi") in asm.outputs  # the kernel moves its pointer: a copy
    assert asm.template[0] == "lea -128(%%rsp), %%rsp" and asm.template[-1] == "lea 128(%%rsp), %%rsp"
    assert "pushq %q[r9]" in asm.template


def test_callee_saved_saves_are_dropped_from_the_inline_form(kernels):
    program, task, _ = kernels["saves_sort3"]
    trimmed = body(program)
    assert len(trimmed) == len(program) - 6
    assert not any(ins.op in ("push", "pop") for ins in trimmed.instrs)
    assert trimmed.labels[".Lout"] == len(trimmed) - 1  # was on a pop, now on the ret
    assert not register_usage(trimmed).stack
    # a push that is not a save at entry keeps the program as it was
    assert body(kernels["features_sort3"][0]) is kernels["features_sort3"][0]


def test_values_form_takes_elements_as_operands(kernels):
    program, task, _ = kernels["sort3"]
    asm = inline_asm(program, task, values=True)
    assert asm.outputs == [("rax", "+&r", "rax"), ("rcx", "+&r", "rcx"), ("rdx", "+&r", "rdx"), ("rsi", "=&r", "rsi")]
    assert asm.inputs == [] and asm.clobbers == ["cc"] and not asm.volatile
    assert asm.declarations == ["uint64_t rsi;", "uint64_t rax = (uint32_t)a[0];", "uint64_t rcx = (uint32_t)a[1];",
                                "uint64_t rdx = (uint32_t)a[2];"]
    assert asm.after == ["a[0] = (int32_t)rax;", "a[1] = (int32_t)rdx;", "a[2] = (int32_t)rcx;"]
    assert len(asm.template) == 12 and not any("(" in line for line in asm.template)  # no memory left
    program, task, _ = kernels["inplace_sort3"]
    asm = inline_asm(program, task, values=True)
    assert asm.inputs == [("a2", "r", "a[2]")]
    assert "movl %k[a2], %k[rdx]" in asm.template and "cmpl %k[a2], %k[rcx]" in asm.template
    assert ("rsi", "=&r", "rsi") in asm.outputs and "uint64_t rdx, rsi;" in asm.declarations
    assert asm.after[2] == "a[2] = (int32_t)rsi;"  # a register only stored is plain scratch


@pytest.mark.parametrize("text, reason", [
    ("leaq 4(%rdi), %rdi\nmovl -4(%rdi), %eax\nmovl %eax, -4(%rdi)\n", "%rdi only as the array's address"),
    ("movl (%rdi), %eax\ncmpl $0, %eax\njl 1f\nret\n1: movl %eax, 4(%rdi)\n", "no ret before the end"),
    ("movl (%rdi), %eax\nmovl %eax, 4(%rdi)\nincl %eax\n", "%rax changes after its store"),
    ("movl (%rdi), %eax\nmovl %eax, 4(%rdi)\nmovl 4(%rdi), %ecx\nmovl %ecx, (%rdi)\n", "no element read after"),
    ("movl (%rdi), %eax\nmovl %eax, 4(%rdi)\njmp 1f\n1: ret\n", "after the last branch"),
    ("movl (%rdi), %eax\nmovl %eax, 4(%rdi)\nmovl %eax, 4(%rdi)\n", "each element stored at most once"),
    ("movl 12(%rdi), %eax\nmovl %eax, (%rdi)\n", "0 <= disp < 12"),
    ("movl (%rdi), %eax\naddl %eax, 4(%rdi)\n", "by movl from a register"),
])
def test_values_form_refuses_what_it_cannot_express(text, reason):
    program = parse_text(text, "k.s")
    with pytest.raises(InputError, match=re.escape(reason)):
        inline_asm(program, get_task("sort3"), values=True)


def test_options_are_checked_before_verifying(kernels):
    program, task, _ = kernels["features_sort3"]
    with pytest.raises(InputError, match="features_sort3.s:2: .*%rdi only as the array's address"):
        check_request(program, task, "cpp", None, values=True)
    program, task, _ = kernels["sort8"]
    assert check_request(program, task, "c", None, values=True) == "sort8"  # its push/pop saves are no obstacle
    with pytest.raises(InputError, match="unknown export format"):
        check_request(program, task, "rust", None, values=False)


def test_values_form_is_for_fixed_sizes_and_c(kernels):
    program, task, verdict = kernels["varsort3"]
    with pytest.raises(InputError, match="fixed-size task"):
        export(program, task, "cpp", verdict=verdict, values=True)
    program, task, verdict = kernels["sort3"]
    with pytest.raises(InputError, match="c and cpp formats"):
        export(program, task, "gas", verdict=verdict, values=True)


def test_register_usage_reads_and_writes():
    program = parse_text("xorl %eax, %eax\ncmpl %esi, (%rdi,%rdx,4)\nsetl %al\nmovl %eax, %ecx\nxchgl %r8d, %r9d\n")
    use = register_usage(program)
    assert use.reads == {"rsi", "rdi", "rdx", "rax", "r8", "r9"}  # xor with itself only writes
    assert use.writes == {"rax", "rcx", "r8", "r9"}
    assert use.flags and use.memory and not use.stack and not use.pinned


@pytest.mark.parametrize("text, reason", [
    ("movq %rsp, %rax\nret\n", "uses %rsp as a value"),
    ("movl 8(%rsp), %eax\nret\n", "caller's stack frame"),
    ("rdtsc\nret\n", "timing harness"),
])
def test_unexportable_kernels_are_input_errors(text, reason):
    program = parse_text("# task: sort3\n" + text, "k.s")
    with pytest.raises(InputError, match=reason) as info:
        register_usage(program)
    assert "k.s:" in str(info.value)


def test_export_refuses_a_kernel_that_fails_verify(tmp_path):
    path = tmp_path / "wrong.s"
    path.write_text(WRONG)
    program, task = load(path)
    with pytest.raises(ExportRefused, match="fails verify"):
        export(program, task)
    result = CliRunner().invoke(main, ["export", str(path)])
    assert result.exit_code == 1
    assert "refusing to export" in _flat(result.output) and "Traceback" not in result.output


def test_cli_writes_files_and_json(tmp_path):
    out = tmp_path / "s.h"
    result = CliRunner().invoke(main, ["export", str(ASM / "sort3.s"), "--format", "c", "--name", "s3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "static inline void s3(int32_t *a)" in out.read_text()
    result = CliRunner().invoke(main, ["export", str(ASM / "sort4.s"), "--format", "gas", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["task"] == "sort4" and data["format"] == "gas" and data["instructions"] == 28
    assert data["verdict"]["passed"] and ".globl\tsort4" in data["source"]


def test_cli_values_form_and_json_refusal(tmp_path):
    result = CliRunner().invoke(main, ["export", str(ASM / "sort4.s"), "--values"])
    assert result.exit_code == 0 and "a[3] = " in result.output and "memory" not in result.output
    result = CliRunner().invoke(main, ["export", str(ASM / "varsort3.s"), "--values"])
    assert result.exit_code == 2 and "fixed-size task" in _flat(result.output)
    path = tmp_path / "wrong.s"
    path.write_text(WRONG)
    result = CliRunner().invoke(main, ["export", str(path), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["exit_code"] == 1 and data["error"] and data["verdict"]["passed"] is False
    assert data["verdict"]["counterexample"]["expected"] == sorted(data["verdict"]["counterexample"]["input"])


@pytest.mark.parametrize("args, message", [
    (["--name", "3sort"], "not a C identifier"),
    (["--name", "class"], "keyword"),
    (["--task", "sort9"], "unknown task"),
    (["--format", "rust"], "Invalid value for '--format'"),
    (["-o", "/nonexistent-dir/x.h"], "/nonexistent-dir/x.h (-o): directory /nonexistent-dir does not exist"),
    (["--format", "gas", "--values"], "--values: the values form is for the c and cpp formats"),
])
def test_cli_bad_usage_is_exit_2_with_one_line(args, message):
    result = CliRunner().invoke(main, ["export", str(ASM / "sort3.s")] + args)
    assert result.exit_code == 2, result.output
    assert message in _flat(result.output) and "Traceback" not in result.output
    assert "<input>" not in result.output  # the message names the option or file at fault


def test_cli_bad_file_is_exit_2(tmp_path):
    bad = tmp_path / "bad.s"
    bad.write_text("# task: sort3\nmovl (%rdi), %eax\nfrobl %eax\n")
    result = CliRunner().invoke(main, ["export", str(bad)])
    assert result.exit_code == 2 and "bad.s:3" in _flat(result.output)
    result = CliRunner().invoke(main, ["export", str(tmp_path / "missing.s")])
    assert result.exit_code == 2 and "no such file" in _flat(result.output)


_SYMBOL_CHARS = "abcXYZ019_.$"


@settings(max_examples=200)
@given(st.lists(st.text(_SYMBOL_CHARS, min_size=1, max_size=6).map(lambda s: "." + s), unique=True, max_size=8))
def test_inline_labels_are_unique_assembler_names(names):
    instrs = [Instr("jmp", (Label(name),)) for name in names] + [Instr("ret")]
    program = Program(instrs, labels={name: k for k, name in enumerate(names)})
    template = inline_asm(program, get_task("sort3")).template
    defined = [line[:-1] for line in template if line.endswith(":")]
    assert len(set(defined)) == len(defined) == len(names)
    assert all(re.fullmatch(r"\.L\w+%=", label) for label in defined)
    jumps = [line.split()[1] for line in template if line.startswith("jmp")]
    assert jumps == defined  # each jump still goes to its own label


_REGS = [Reg(family, 32) for family in ("rax", "rcx", "rdx", "rsi", "r8", "r11", "rbx", "r14")]
_ELEMENTS = [Mem(32, "rdi", disp=4 * k) for k in range(3)]


@st.composite
def _straight_line(draw):
    instrs = []
    for _ in range(draw(st.integers(1, 12))):
        dst, src = draw(st.sampled_from(_REGS)), draw(st.sampled_from(_REGS + _ELEMENTS))
        kind = draw(st.sampled_from(["mov", "cmp", "cmov", "xchg", "store", "lea", "set"]))
        if kind == "store":
            instrs.append(Instr("mov", (draw(st.sampled_from(_ELEMENTS)), dst), width=32))
        elif kind == "lea":
            instrs.append(Instr("lea", (Reg(dst.family, 64), Mem(64, "rdi", dst.family, 4)), width=64))
        elif kind == "set":
            instrs.append(Instr("set", (Reg(dst.family, 8),), cond="l", width=8))
        else:
            instrs.append(Instr(kind, (dst, src), cond="g" if kind == "cmov" else None, width=32))
    return Program(instrs)


@settings(max_examples=200)
@given(_straight_line())
def test_every_register_becomes_exactly_one_operand(program):
    use = register_usage(program)
    asm = inline_asm(program, get_task("sort3"))
    registers = [item for item in asm.outputs + asm.inputs if item[1] != "+m"]
    names = [name for name, _, _ in registers]
    assert sorted(names) == sorted(use.families) and len(set(names)) == len(names)
    assert ("array", "+m", "*(int32_t (*)[3])a") in asm.outputs if use.memory else "memory" not in asm.clobbers
    for name, constraint, _ in registers:
        if name in use.writes:  # written: an early-clobber output (in-out for the pointer copy)
            assert (name, constraint) in {(o[0], o[1]) for o in asm.outputs}
            assert constraint == ("+&r" if name == "rdi" else "=&r")
        else:
            assert constraint in ("r", "=&r")
    text = "\n".join(asm.template)
    assert "%%" not in text and not re.search(r"%[a-z]", text.replace("%k[", "").replace("%q[", "").replace("%b[", ""))
    assert len(asm.template) == len(program)

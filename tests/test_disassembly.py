"""Kernels as users have them: objdump -d text (AT&T and -M intel) and ELF objects and
executables load as the same programs as gcc's assembly; every export format superopt
writes loads back as the program exported; bad input is one line, exit 2."""
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from superopt import api
from superopt.cli import main
from superopt.errors import InputError
from superopt.tasks.registry import get_task
from superopt.x86.assembler import assemble
from superopt.x86.decode import disassemble
from superopt.x86.disassembly import parse_code
from superopt.x86.isa import Imm, Label, with_ret
from superopt.x86.parser import parse_text
from test_intel import C_FUNCTIONS, FUNCTIONS, GCC_FLAGS, compile_c

ASM = Path(__file__).resolve().parent.parent / "asm"
pytestmark = pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("objdump") is None,
                                reason="needs gcc and objdump")


def shape(program):
    """The instructions, each jump's label replaced by the index it jumps to and each
    immediate taken modulo its width (gcc writes `$-1` but `$3435973837`, objdump
    `$0xffffffff` and `$0xcccccccd`)."""
    def operand(o, width):
        if isinstance(o, Label):
            return program.labels[o.name]
        return Imm(o.value % (1 << width)) if isinstance(o, Imm) and width else o
    return [replace(ins, operands=tuple(operand(o, ins.width) for o in ins.operands)) for ins in program.instrs]


def objdump(path, *flags):
    text = subprocess.run(["objdump", "-d", *flags, str(path)], check=True, capture_output=True, text=True).stdout
    out = path.with_name(path.name + "".join(f.strip("-=") for f in flags) + ".txt")
    out.write_text(text)
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """gcc's assembly, object and executable of C_FUNCTIONS, and objdump's text of them."""
    tmp = tmp_path_factory.mktemp("c")
    s, o = compile_c(tmp, C_FUNCTIONS), compile_c(tmp, C_FUNCTIONS, suffix=".o")
    (tmp / "main.c").write_text("int main(void) { return 0; }\n")
    exe = tmp / "f.exe"
    subprocess.run(["gcc", "-O2", *GCC_FLAGS, "-o", str(exe), str(tmp / "f.c"), str(tmp / "main.c")], check=True)
    return {"s": s, "o": o, "exe": exe, "att": objdump(o), "intel": objdump(o, "-Mintel"),
            "bare": objdump(o, "--no-show-raw-insn"), "reloc": objdump(o, "-r"), "exe.txt": objdump(exe)}


@pytest.mark.parametrize("kind", ["o", "exe", "att", "intel", "bare", "reloc", "exe.txt"])
def test_objdump_text_and_elf_files_load_as_gccs_assembly(built, kind):
    for name in FUNCTIONS:
        want = api.load("%s:%s" % (built["s"], name))
        got = api.load("%s:%s" % (built[kind], name))
        assert shape(got) == shape(want), name
        assert got.name == name and assemble(got).code == assemble(want).code


def test_the_kernels_machine_code_reads_back_through_capstone():
    for path in sorted(ASM.glob("*.s")):
        program = api.load(path)
        code = assemble(with_ret(program)).code
        got = parse_code(code, 0x1000, "k", str(path))
        assert shape(got) == shape(with_ret(program)), path.name
        # Capstone's own text of the same bytes reads as the same instructions
        assert [d.intel for d in disassemble(code, 0x1000)] == [d.intel for d in disassemble(
            assemble(got).code, 0x1000)]


def test_a_function_is_picked_by_name_task_or_being_the_only_one(built, tmp_path):
    assert api.load(built["o"], "sort3").name == "sort3"            # the task's name
    assert api.load(str(built["att"]) + ":isort").name == "isort"
    for path in (built["o"], built["att"], built["exe"]):
        with pytest.raises(InputError, match=r"functions \((main, _start, )?sort3, sort4, .*\), no task to choose by: "
                                             r"give .*:NAME"):
            api.load(path)
        with pytest.raises(InputError, match=r"no function nosuch here \(functions: .*isort, "):
            api.load("%s:nosuch" % path)
    single = tmp_path / "one.txt"
    text = built["att"].read_text()
    single.write_text(text[text.index("<lea3>:") - 17:text.index("<align16>:") - 17])  # one pasted block
    assert api.load(single).name == "lea3"


@pytest.mark.parametrize("fmt", ["gas", "intel"])
@pytest.mark.parametrize("kernel", ["sort3.s", "varsort3.s", "sort3_insertion.s", "sort4_enum.s"])
def test_every_assembly_export_loads_back_as_the_program_exported(tmp_path, fmt, kernel):
    program, task = api.resolve(ASM / kernel)
    out = tmp_path / ("k." + fmt)
    out.write_text(api.export(program, task, fmt))
    again = api.load(out)
    assert shape(again) == shape(with_ret(program)) and again.name == (program.name or task.name)
    if fmt == "intel":  # its header names the task, and nothing else
        assert again.task == task.name and again.header == {"task": task.name}
    assert api.verify(again, task).passed


def test_the_c_exports_compiled_by_gcc_load_from_the_object_and_verify(tmp_path):
    program, task = api.resolve(ASM / "sort3.s")
    for fmt in ("c", "cpp"):
        header = tmp_path / ("sort3." + fmt)
        header.write_text(api.export(program, task, fmt))
        obj = tmp_path / ("sort3_%s.o" % fmt)
        # -fkeep-inline-functions: the inline function's own out-of-line copy
        subprocess.run(["gcc" if fmt == "c" else "g++", "-O2", "-fkeep-inline-functions", "-x",
                        "c" if fmt == "c" else "c++", "-c", "-o", str(obj), str(header)], check=True)
        name = "sort3" if fmt == "c" else "_Z5sort3Pi"
        loaded = api.load("%s:%s" % (obj, name))
        assert api.verify(loaded, task).passed, fmt


def _cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.mark.parametrize("content, message", [
    ("0000000000000000 <f>:\n   0:\t0f 0b    \tud2\n", "{p}:2: unknown instruction 'ud2': 0:"),  # the console expands the line's tabs
    ("0000000000000000 <f>:\n   0:\teb 10    \tjmp    12 <g>\n", "{p}:2: jmp to 0x12 <g>, outside f"),
    ("0000000000000000 <f>:\n   0:\t74 01    \tje     1 <f+0x1>\n   2:\tc3\tret\n",
     "{p}:2: branch into the middle of an instruction (0x1)"),
    ("0000000000000000 <f>:\n", "{p}:1: function f has no instructions"),
    ("f.o:     file format elf64-x86-64\n", "{p}: objdump text without a function"),
    ("0000000000000000 <f>:\n   0:\t8b 05 00 00 00 00\tmov    0x0(%rip),%eax\n",
     "{p}:2: rip-relative addressing is not supported"),
])
def test_bad_objdump_text_is_one_line_naming_its_line(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    code, out = _cli("show", path)
    assert code == 2 and out.count("\n") == 1 and out.startswith("error: " + message.format(p=path)), out


def test_bad_elf_files_are_one_line(tmp_path, built):
    (tmp_path / "r.c").write_text("extern int g; int f(int x) { return x + g; }\n"
                                  "float h(float x) { return x * 2; }\n")
    obj = tmp_path / "r.o"
    subprocess.run(["gcc", "-O2", "-c", "-o", str(obj), str(tmp_path / "r.c")], check=True)
    damaged = tmp_path / "damaged.o"
    damaged.write_bytes(built["o"].read_bytes()[:200])
    arm = tmp_path / "arm.o"
    data = bytearray(built["o"].read_bytes())
    data[18:20] = (183).to_bytes(2, "little")  # e_machine EM_AARCH64
    arm.write_bytes(bytes(data))
    reloc = objdump(obj, "-r")
    for path, message in [("%s:f" % obj, "%s: f+0x2 refers to g (a relocation)" % obj),
                          ("%s:f" % reloc, "%s:9: f+0x2 refers to g-0x4 (a relocation, R_X86_64_PC32)" % reloc),
                          ("%s:h" % obj, "%s: unknown instruction 'addss': h+0x0: addss xmm0, xmm0" % obj),
                          (damaged, "%s: not a readable ELF file" % damaged),
                          (arm, "%s: an ELF object for EM_AARCH64, not x86-64" % arm)]:
        code, out = _cli("show", path)
        assert code == 2 and out.count("\n") == 1 and out.startswith("error: " + message), out


def test_every_command_takes_an_object_file(built):
    code, out = _cli("verify", "%s:sort3" % built["o"], "--task", "sort3")
    assert code == 0 and "PASS" in out
    code, out = _cli("export", "%s:sort3" % built["intel"], "--task", "sort3", "--format", "gas", "-o",
                     built["o"].with_name("sort3_from_objdump.S"))
    assert code == 0
    again = api.load(built["o"].with_name("sort3_from_objdump.S"))
    assert shape(again) == shape(api.load("%s:sort3" % built["s"]))
    assert get_task("sort3").name == again.name
    code, out = _cli("verify", "%s:isort" % built["exe"], "--task", "sort3")
    assert code == 1  # an insertion sort of n elements, given no n: the wrong kernel, said so


def test_intel_text_parses_where_att_is_expected():
    assert shape(parse_text(".intel_syntax noprefix\nmov eax, DWORD PTR [rdi]\n")) == shape(
        parse_text("movl (%rdi), %eax\n"))


LISTING = ("f.o:     file format elf64-x86-64\n\nDisassembly of section .text:\n\n0000000000000000 <f>:\n"
           "   0:\t8b 07                \tmov    (%rdi),%eax\n   2:\t39 f0                \tcmp    %esi,%eax\n"
           "   4:\t7e 02                \tjle    8 <f+0x8>\n   6:\t89 f0                \tmov    %esi,%eax\n"
           "   8:\tc3                   \tret\n   9:\t0f 1f 80 00 00 00 00 \tnopl   0x0(%rax)\n")


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(LISTING)), st.integers(0, 2), st.sampled_from("0123456789abcdef<>:+x\t\n %$(),")),
                min_size=1, max_size=6))
def test_mutated_objdump_text_raises_input_error_or_loads(tmp_path_factory, edits):
    text = LISTING
    for at, kind, ch in edits:
        at = min(at, len(text))
        text = text[:at] + ch + text[at + (kind != 0):] if kind != 1 else text[:at] + text[at + 1:]
    path = tmp_path_factory.mktemp("o") / "f.txt"
    path.write_text(text)
    try:
        assemble(api.load(path, "sort3"))
    except InputError as exc:
        assert "\n" not in str(exc)


def test_a_function_tasks_exports_load_back_from_an_object(tmp_path):
    hackers = Path(__file__).resolve().parent.parent / "bench" / "hackers"
    task = api.get_task("%s:p01" % (hackers / "p01.c"))
    subprocess.run(["gcc", "-O2", "-c", "-o", str(tmp_path / "p01.o"), str(hackers / "p01.c")], check=True)
    program = api.load("%s:p01" % (tmp_path / "p01.o"))
    for fmt in ("gas", "intel"):
        out = tmp_path / ("k." + fmt)
        out.write_text(api.export(program, task, fmt))
        again = api.load(out)
        assert again.instrs == program.instrs and again.task is None  # named by --task, not a header
        assert api.verify(again, task).passed

"""What superopt takes as a kernel: the task's function of a file with several (or FILE.s:NAME),
compiler output as Debian's gcc writes it, its own exports read back, inputs that are not
assembly files refused in one line before they are read, --step-limit that limits, and a
coverage line that says why a pass is a test."""
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

import superopt
from superopt.cli import main
from superopt.errors import InputError
from superopt.x86.isa import Label
from superopt.x86.files import MAX_BYTES
from superopt.x86.parser import parse_text

ROOT = Path(__file__).resolve().parent.parent
ASM = ROOT / "asm"
NETWORK = (ASM / "sort3.s").read_text().split("sort3:\n", 1)[1]  # the right 18 instructions and ret
WRONG = "\tmovl 0(%rdi), %eax\n\tmovl %eax, 4(%rdi)\n\tret\n"


def cli(*args):
    """(exit code, stdout, stderr) of `superopt ARGS`; a traceback fails the test."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def one_line_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


@pytest.fixture
def two(tmp_path):
    """A right sort3 network first, under `helper:`, and a wrong `sort3:` after it."""
    path = tmp_path / "two.s"
    path.write_text("# task: sort3\nhelper:\n" + NETWORK + "sort3:\n" + WRONG)
    return path


# -- 1. the task's function -------------------------------------------------------------
def test_the_tasks_function_is_checked_not_the_first(two):
    code, out, _ = cli("verify", two, "--json", "--random", "100")
    assert code == 1
    data = json.loads(out)
    assert data["passed"] is False and data["function"] == "sort3" and data["instructions"] == 2
    code, out, _ = cli("verify", "%s:helper" % two, "--json", "--random", "100")
    assert code == 0 and json.loads(out)["function"] == "helper"
    code, out, _ = cli("verify", "%s:helper" % two, "--random", "100")
    assert code == 0 and "function" in out and "helper" in out  # the panel says which


def test_export_and_show_take_the_same_function(two):
    code, _, err = cli("export", two)
    assert code == 1 and "sort3" in one_line_error(err)
    code, out, _ = cli("export", "%s:helper" % two, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["function"] == "helper" and data["name"] == "helper" and data["instructions"] == 18
    code, out, _ = cli("show", two, "--json")
    data = json.loads(out)
    assert code == 0 and data["function"] == "sort3" and data["instructions"] == 2  # (ret not counted)
    assert [row["line"] for row in data["listing"]] == [23, 24, 25]  # the file's own line numbers


def test_the_api_picks_by_task_by_name_and_by_globl(two, tmp_path):
    assert superopt.load(two).name == "sort3"  # the header's task
    assert len(superopt.load("%s:helper" % two).instrs) == 19
    program, task = superopt.resolve(superopt.load("%s:helper" % two), "sort3")
    assert program.name == "helper" and task.name == "sort3"  # a chosen function stays chosen
    other = tmp_path / "globl.s"
    other.write_text("\t.globl\tmine\nfirst:\n" + WRONG + "mine:\n" + NETWORK)
    assert superopt.resolve(other, "sort3")[0].name == "mine"
    assert superopt.verify(other, "sort3", random_count=100).passed


@pytest.mark.parametrize("text, task, message", [
    ("a:\n" + WRONG + "b:\n" + WRONG, "sort3",
     "2 functions (a, b), none named sort3 and not exactly one .globl: give {path}:NAME"),
    ("a:\n" + WRONG + "b:\n" + WRONG, None, "2 functions (a, b), no task to choose by: give {path}:NAME"),
    (WRONG + "sort4:\n" + WRONG, "sort3",
     "2 functions (unnamed code from line 1, sort4), none named sort3 and not exactly one .globl: "
     "give {path}:NAME"),
    (".Lx: ret\nsort3:\n jmp .Lx\n", "sort3", "function sort3 jumps to .Lx, outside it"),
])
def test_several_functions_and_no_way_to_pick_one_is_bad_input(tmp_path, text, task, message):
    path = tmp_path / "several.s"
    path.write_text(text)
    code, _, err = cli("verify", path, *(["--task", task] if task else []))
    assert code == 2 and message.format(path=path) in one_line_error(err)


def test_a_function_that_is_not_there(two):
    code, _, err = cli("show", "%s:nope" % two)
    assert one_line_error(err) == "error: %s: no function nope here (functions: helper, sort3)" % two and code == 2


def test_named_labels_inside_one_function_stay_one_function():
    # `done` follows a ret but is a jump's target, and `loop` marks the same place
    program = parse_text("sort3:\n cmpl %eax, %ecx\n jle done\n ret\ndone:\nloop:\n nop\n ret\n")
    assert list(program.functions) == ["sort3"]
    assert superopt.resolve(program, "sort3")[0] is program


# -- 2. compiler output, and superopt's own ---------------------------------------------
def test_endbr64_and_a_byte_order_mark(tmp_path):
    path = tmp_path / "cet.s"
    path.write_bytes(b"\xef\xbb\xbf# task: sort3\n\t.globl\tsort3\nsort3:\n\tendbr64\n" + NETWORK.encode())
    program = superopt.load(path)
    assert program.task == "sort3" and len(program.instrs) == 19 and program.lines[0] == 5
    assert superopt.verify(program, random_count=100).passed
    assert "endbr64" not in superopt.export(program, format="gas").split("*/")[1]
    assert cli("verify", path, "--random", "10")[0] == 0


def test_task_headers_may_repeat_but_not_conflict():
    assert parse_text("# task: sort3\n# task: sort3\nret\n").task == "sort3"
    with pytest.raises(InputError) as info:
        parse_text("# task: sort3\n# note\n# task: sort4\nret\n", "k.s")
    assert str(info.value) == "k.s:3: conflicting '# task:' headers: line 1 says sort3, this line sort4: # task: sort4"


def test_block_comments_keep_line_numbers():
    program = parse_text('/* a\n * b */ movl (%rdi), %eax /* c */ ; nop\n.section .x,"/*"\n.text\nret # /* d\n')
    assert [i.op for i in program.instrs] == ["mov", "nop", "ret"] and program.lines == [2, 2, 5]
    with pytest.raises(InputError, match=r"k.s:2: /\* comment not closed"):
        parse_text("ret\n/* open\nret\n", "k.s")


@pytest.mark.parametrize("path", sorted(ASM.glob("*.s")), ids=lambda p: p.name)
def test_every_gas_export_reads_back_the_same(path, tmp_path):
    program, task = superopt.resolve(path)
    written = tmp_path / path.name.replace(".s", ".S")
    written.write_text(superopt.export(program, task, "gas"))
    again = superopt.load(written)
    assert shape(again) == shape(program)  # the same instructions, their labels renamed
    assert superopt.verify(again, task, random_count=100).passed


def shape(program):
    """The instructions, with each jump's label replaced by the index it jumps to."""
    return [replace(ins, operands=tuple(program.labels[o.name] if isinstance(o, Label) else o for o in ins.operands))
            for ins in program.instrs]


# -- 3. inputs that are not assembly files -----------------------------------------------
def test_endless_devices_pipes_and_huge_files_are_refused_unread(tmp_path):
    fifo = tmp_path / "pipe.s"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.s"
    huge.write_text("nop\n" * (MAX_BYTES // 4 + 1))
    started = time.monotonic()
    for path, reason in [("/dev/zero", "is a character device, not an assembly file"),
                         (fifo, "is a pipe, not an assembly file"), (tmp_path, "is a directory"),
                         (huge, "larger than 1048576 bytes (1 MB)"), (tmp_path / "no.s", "no such file")]:
        code, _, err = cli("verify", path, "--task", "sort3")
        assert code == 2 and one_line_error(err) .startswith("error: %s: %s" % (path, reason)), err
    assert time.monotonic() - started < 30


def test_dev_zero_as_the_command_line_sees_it():
    proc = subprocess.run([Path(sys.executable).parent / "superopt", "verify", "/dev/zero", "--task", "sort3"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        "error: /dev/zero: is a character device, not an assembly file"]


# -- 4. --step-limit ----------------------------------------------------------------------
@pytest.mark.parametrize("kernel, runs", [("sort3.s", 19), ("sort3_insertion.s", None)])
def test_the_step_limit_limits_every_kernel(kernel, runs):
    code, out, _ = cli("verify", ASM / kernel, "--json", "--random", "100", "--step-limit", 3)
    data = json.loads(out)
    assert code == 1 and [v["rule"] for v in data["violations"]] == ["termination"]
    assert data["violations"][0]["detail"] == "does not return within 3 steps"
    if runs:  # straight line: its own length (ret included) is enough, one less is not
        assert cli("verify", ASM / kernel, "--random", "100", "--step-limit", runs)[0] == 0
        assert cli("verify", ASM / kernel, "--random", "100", "--step-limit", runs - 1)[0] == 1
    assert cli("verify", ASM / kernel, "--random", "100")[0] == 0


# -- 5. why a pass is a test ---------------------------------------------------------------
def test_a_magic_value_is_named_in_the_coverage_line(tmp_path):
    magic = tmp_path / "magic.s"
    magic.write_text((ASM / "sort3.s").read_text().replace(
        "\tmovl %eax, 0(%rdi)", "\tcmpl $77777, %ecx\n\tcmove %eax, %ecx\n\tmovl %eax, 0(%rdi)"))
    verdict = superopt.verify(magic, random_count=1000, prove_timeout=None)
    assert verdict.passed and not verdict.proof  # (only the SMT check catches it: tests/test_smt.py)
    assert verdict.proof_reason == ("instruction 15 (`cmpl $77777, %ecx`, line 24) compares an element with a "
                                    "constant, so the weak-ordering argument does not cover it")
    assert verdict.label == "tested (1,013 inputs): " + verdict.proof_reason


def test_bench_names_the_function_it_timed(tmp_path):
    path = tmp_path / "after.s"
    path.write_text("# task: sort3\nhelper:\n" + WRONG + "sort3:\n" + NETWORK)
    report = superopt.bench([path, ASM / "sort3.s"], runs=5, inputs_per_run=100)
    assert [r.name for r in report.results] == ["%s:sort3" % path, str(ASM / "sort3.s")]

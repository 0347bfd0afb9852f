"""The varint buffer tasks (issue 20): the reference on known encodings, every verify rule, the
buffer loads of the value evaluator against Unicorn, the SMT proof and its counterexample,
the shipped kernel, export, bench and search on the task, and bad input in one line."""
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from superopt import api
from superopt.check.prove import prove
from superopt.cli import main
from superopt.game.buffer import BufferGame
from superopt.run.buffer import machine
from superopt.run.layout import KERNEL_BASE
from superopt.tasks.registry import get_task
from superopt.x86.assembler import assemble
from superopt.x86.cpu import available
from superopt.x86.parser import parse_text

ROOT = Path(__file__).parent.parent
FOUND = ROOT / "asm" / "varint32_found.s"
LOOP = ROOT / "bench" / "varint" / "varint.c"
needs_bmi = pytest.mark.skipif(not {"bmi1", "bmi2"} <= set(available()), reason="the kernel needs BMI1 and BMI2")


@pytest.fixture(autouse=True)
def no_counterexamples():
    """Every test starts from the tasks' own inputs: counterexamples recorded by another test
    (kept in the process) would come first and change which input fails first."""
    for name in ("varint32", "varint64"):
        get_task(name).found.clear()


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def kernel(tmp_path, body, name="varint32"):
    path = tmp_path / "k.s"
    path.write_text("%s:\n %s\n" % (name, body.replace("\n", "\n ")))
    return path


def padded(data, size):
    return list(data) + [0x55] * (size - len(data))


@pytest.mark.parametrize("name, data, value", [
    ("varint32", [0x01], 1),
    ("varint32", [0x7F], 127),
    ("varint32", [0xAC, 0x02], 300),
    ("varint32", [0x80, 0x00], 0),                                 # non-canonical: defined by the loop
    ("varint32", [0xFF, 0xFF, 0xFF, 0xFF, 0x0F], 0xFFFFFFFF),
    ("varint32", [0xFF, 0xFF, 0xFF, 0xFF, 0x7F], 0xFFFFFFFF),      # payload bits above 32 dropped
    ("varint32", [0x80, 0x80, 0x80, 0x80, 0x81], 1 << 28),         # the 5th byte's continuation bit ignored
    ("varint64", [0xFF] * 9 + [0x01], (1 << 64) - 1),
    ("varint64", [0x80] * 9 + [0x7F], 1 << 63),
    ("varint64", [0x96, 0x01], 150),
])
def test_reference_on_known_encodings(name, data, value):
    task = get_task(name)
    assert int(task.expected(np.array([padded(data, task.size)], dtype=np.uint8))[0]) == value


def test_bytes_past_the_terminator_do_not_change_the_reference():
    task = get_task("varint32")
    buffers = task.inputs(np.random.default_rng(1), 500)
    again = task.refill(buffers, np.random.default_rng(2))
    assert (task.expected(buffers) == task.expected(again)).all()
    assert (again != buffers).any()


def test_inputs_cover_every_length_and_the_edges():
    task = get_task("varint32")
    buffers = task.inputs(np.random.default_rng(0), 1000)
    lengths = 1 + np.argmax(np.hstack([(buffers & 0x80) == 0, np.ones((len(buffers), 1), bool)]), axis=1)
    assert set(np.minimum(lengths, 5)) == {1, 2, 3, 4, 5}
    assert len(buffers) > 1000 + 80
    for row in ([0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0x80, 0x00]):
        assert any((b[:len(row)] == row).all() for b in buffers)


@pytest.mark.parametrize("opt", ["-O2", "-O3"])
def test_gcc_code_of_the_loop_passes_and_is_proven(tmp_path, opt):
    out = tmp_path / "loop.s"
    subprocess.run(["gcc", opt, "-S", "-o", str(out), str(LOOP)], check=True)
    for name in ("varint32", "varint64"):
        verdict = api.verify("%s:%s" % (out, name), name, random_count=500)
        assert verdict.passed and verdict.proven, (name, verdict.violations, verdict.label)


@needs_bmi
def test_the_shipped_kernels_are_proven():
    verdict = api.verify(str(FOUND))
    assert verdict.passed and verdict.proven and verdict.task == "varint32"
    assert verdict.instructions == 9
    verdict = api.verify(str(ROOT / "asm" / "varint64_found.s"))
    assert verdict.passed and verdict.proven and verdict.task == "varint64"
    verdict = api.verify(str(ROOT / "asm" / "varint32_fastpath.s"))
    assert verdict.passed and verdict.proven and verdict.instructions == 12
    result = cli("verify", FOUND)
    assert result.exit_code == 0 and "proven (SMT" in result.output


@pytest.mark.parametrize("change, rule", [
    (("movzbl\t4(%rdi), %ecx", "xorl\t%ecx, %ecx"), "result"),                  # ignores the 5th byte
    (("movzbl\t4(%rdi), %ecx", "movzbl\t5(%rdi), %ecx"), "read-outside-buffer"),  # reads past it
    (("movl\t(%rdi), %eax", "movl\t-1(%rdi), %eax"), "read-outside-buffer"),      # reads before it
    (("movl\t(%rdi), %eax", "movl\t(%rdi), %eax\n\tmovb\t$0, (%rdi)"), "write-buffer"),
    (("movl\t$0x80808080, %esi", "movl\t%r8d, %esi"), "uninitialised-state"),
])
@needs_bmi
def test_wrong_kernels_are_rejected_by_rule(tmp_path, change, rule):
    text = FOUND.read_text()
    assert change[0] in text
    path = tmp_path / "k.s"
    path.write_text(text.replace(change[0], change[1]))
    verdict = api.verify(str(path), random_count=500, prove_timeout=None)
    assert not verdict.passed and verdict.violations[0].rule == rule, verdict.violations
    assert cli("verify", path, "--random", 500).exit_code == 1


def test_reading_bytes_past_the_terminator_is_caught(tmp_path):
    # right whenever byte 1 is 0 past a 1-byte varint, which the edge inputs' zero tails are
    path = kernel(tmp_path, "movzbl (%rdi), %eax\nmovzbl 1(%rdi), %ecx\nandl $127, %eax\norl %ecx, %eax\nret")
    verdict = api.verify(str(path), "varint32", random_count=0, prove_timeout=None)
    assert not verdict.passed
    assert verdict.violations[0].rule in ("past-terminator", "result")


@needs_bmi
def test_smt_refutes_and_gives_a_buffer():
    task = get_task("varint32")
    wrong = parse_text(FOUND.read_text().replace("movzbl\t4(%rdi), %ecx", "xorl\t%ecx, %ecx"))
    proof = prove(wrong, task, 30)
    assert proof.status == "refuted"
    buffer = np.array([proof.counterexample["args"]], dtype=np.uint8)
    assert int(task.expected(buffer)[0]) == proof.counterexample["expected"] != proof.counterexample["got"]
    past = parse_text(FOUND.read_text().replace("movzbl\t4(%rdi)", "movzbl\t5(%rdi)"))
    assert prove(past, task, 30).status == "unknown"


@pytest.mark.parametrize("name", ["varint32", "varint64"])
def test_buffer_loads_in_the_value_evaluator_match_unicorn(name):
    task = get_task(name)
    game = BufferGame(task)
    loads = [ins for ins in game.space.every() if ins.op in ("mov", "movzx", "movsx")
             and any(getattr(o, "base", None) == "rdi" for o in ins.operands)]
    widths = {o.width for ins in loads for o in ins.operands if hasattr(o, "base")}
    assert widths == ({8, 16, 32, 64} if task.size >= 8 else {8, 16, 32})
    buffers = task.inputs(np.random.default_rng(3), 200)
    for ins in loads:
        if ins.operands[0].family != "rdx":   # every form and offset, into one register
            continue
        program = parse_text("%s:\n %s\n movq %%%s, %%rax\n ret\n" % (name, ins.att(), ins.operands[0].family))
        ev = game.evaluator(buffers, np.zeros(len(buffers), np.uint64))
        got = ev.result(ev.run(program.instrs[:-1]))[:len(buffers)]
        code = assemble(program, base=KERNEL_BASE).code
        run = machine().run_buffers(code, task, buffers)
        assert run.completed == len(buffers) and (run.rax & np.uint64(task.mask) == got).all(), ins.att()


@needs_bmi
def test_export_returns_the_value_and_compiles(tmp_path):
    header = tmp_path / "v.h"
    assert cli("export", FOUND, "--format", "c", "-o", header).exit_code == 0
    text = header.read_text()
    assert "inline uint32_t varint32(const uint8_t *p)" in text and "return (uint32_t)rax;" in text
    main_c = tmp_path / "m.c"
    main_c.write_text('#include "v.h"\nint main(void) { const uint8_t b[5] = {0xac, 0x02, 0xff, 0xff, 0xff};\n'
                      '  return varint32(b) == 300 ? 0 : 1; }\n')
    subprocess.run(["gcc", "-O2", "-I", str(tmp_path), str(main_c), "-o", str(tmp_path / "m")], check=True)
    assert subprocess.run([str(tmp_path / "m")]).returncode == 0


@needs_bmi
def test_bench_on_length_distributions():
    for lengths, said in (("uniform", "uniform over 1..5 bytes"), ("1", "1 byte always"), ("5", "5 bytes always")):
        report = api.bench([str(FOUND)], "varint32", runs=3, inputs_per_run=100, lengths=lengths)
        assert report.lengths == said and len(report.results) == 1


@needs_bmi
def test_search_from_the_shipped_kernel_keeps_it_correct(tmp_path):
    result = api.search("varint32", init=str(FOUND), workers=1, steps=300, time_limit=60)
    assert result.program is not None and result.length <= 9 and result.verified
    assert result.header["checked"].startswith("proven (SMT")


@pytest.mark.parametrize("args, reason", [
    (("verify", FOUND, "--task", "varint33"), "unknown task"),
    (("verify", FOUND, "--native"), "--native compares array kernels only"),
    (("bench", FOUND, "--inputs", "sorted", "--runs", 3), "unknown input distribution"),
    (("search", "varint32", "--isa", "alphadev"), "--isa alphadev is for the sort tasks"),
])
def test_bad_input_is_one_line_exit_2(args, reason):
    result = cli(*args)
    assert result.exit_code == 2 and reason in result.output and len(result.output.strip().splitlines()) == 1, \
        result.output


def test_a_branchy_warm_start_is_refused_in_one_line(tmp_path):
    path = kernel(tmp_path, "movzbl (%rdi), %eax\ntestb %al, %al\njs 1f\nret\n1:\nandl $127, %eax\nret")
    result = cli("search", "varint32", "--init", path, "--out", tmp_path / "o.s")
    assert result.exit_code == 2 and "outside the search's space" in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output

"""The varint pair form (varint32_len: {value, length} in %rax, System V) and the varint length
distributions of bench (--lengths for the buffer tasks): the reference, the shipped kernel's
proof, a wrong length caught, gcc's loops, export into C/C++ and a C caller of the .S, and bad
lengths refused in one line."""
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from superopt import api
from superopt.cli import main
from superopt.tasks.lengths import describe, with_lengths
from superopt.tasks.registry import get_task
from superopt.x86.cpu import available

ROOT = Path(__file__).parent.parent
PAIR = ROOT / "asm" / "varint32_len.s"
LOOP = ROOT / "bench" / "varint" / "varint.c"
needs_bmi = pytest.mark.skipif(not {"bmi1", "bmi2"} <= set(available()), reason="the kernel needs BMI1 and BMI2")
CALLER = r'''#include <stdint.h>
typedef struct { uint32_t value; uint32_t length; } varint32_len_t;
varint32_len_t varint32_len(const uint8_t *p);
int main(void) {
    const uint8_t a[5] = {0xac, 0x02, 0xff, 0xff, 0xff}, b[5] = {0xff, 0xff, 0xff, 0xff, 0xff};
    varint32_len_t x = varint32_len(a), y = varint32_len(b);
    return x.value == 300 && x.length == 2 && y.value == 0xffffffffu && y.length == 5 ? 0 : 1;
}
'''


@pytest.fixture(autouse=True)
def no_counterexamples():
    for name in ("varint32", "varint32_len"):
        get_task(name).found.clear()


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize("data, value, length", [
    ([0x01], 1, 1), ([0xAC, 0x02], 300, 2), ([0x80, 0x00], 0, 2),
    ([0xFF, 0xFF, 0xFF, 0xFF, 0x0F], 0xFFFFFFFF, 5), ([0x80, 0x80, 0x80, 0x80, 0x81], 1 << 28, 5),
])
def test_pair_reference_is_value_and_bytes_read(data, value, length):
    task = get_task("varint32_len")
    row = np.array([data + [0x55] * (5 - len(data))], dtype=np.uint8)
    assert int(task.expected(row)[0]) == value | length << 32
    assert task.ret.width == 64 and task.text(value | length << 32) == "{value = %d, length = %d}" % (value, length)


@needs_bmi
def test_the_shipped_pair_kernel_is_proven_and_a_wrong_length_is_caught(tmp_path):
    verdict = api.verify(str(PAIR))
    assert verdict.passed and verdict.proven and verdict.task == "varint32_len" and verdict.instructions == 14
    wrong = tmp_path / "w.s"
    wrong.write_text(PAIR.read_text().replace("\taddl\t$8, %ecx\n", "\taddl\t$7, %ecx\n"))
    verdict = api.verify(str(wrong), random_count=200, prove_timeout=None)
    assert not verdict.passed and verdict.violations[0].rule == "result"
    assert "length = " in verdict.violations[0].detail


@pytest.mark.parametrize("opt, proven", [("-O2", False), ("-O3", True)])
def test_gcc_code_of_the_pair_loop_passes(tmp_path, opt, proven):
    out = tmp_path / "loop.s"
    subprocess.run(["gcc", opt, "-S", "-o", str(out), str(LOOP)], check=True)
    verdict = api.verify("%s:varint32_len" % out, "varint32_len", random_count=300)
    assert verdict.passed and verdict.proven == proven, verdict.label
    if not proven:   # -O2 indexes the buffer by a register, which the model does not express
        assert "indexed address" in verdict.label


@needs_bmi
def test_pair_export_returns_the_struct_in_c_cpp_and_gas(tmp_path):
    for fmt, compiler, suffix in (("c", "gcc", "c"), ("cpp", "g++", "cpp")):
        header = tmp_path / "v.h"
        assert cli("export", PAIR, "--format", fmt, "-o", header).exit_code == 0
        text = header.read_text()
        assert "typedef struct { uint32_t value; uint32_t length; } varint32_len_t;" in text
        main_c = tmp_path / ("m." + suffix)
        main_c.write_text('#include "v.h"\n' + CALLER.split("varint32_len_t varint32_len(const uint8_t *p);\n")[1])
        subprocess.run([compiler, "-O2", "-I", str(tmp_path), str(main_c), "-o", str(tmp_path / "m")], check=True)
        assert subprocess.run([str(tmp_path / "m")]).returncode == 0, fmt
    gas = tmp_path / "v.S"
    assert cli("export", PAIR, "--format", "gas", "-o", gas).exit_code == 0
    (tmp_path / "c.c").write_text(CALLER)
    subprocess.run(["gcc", "-O2", str(tmp_path / "c.c"), str(gas), "-o", str(tmp_path / "c")], check=True)
    assert subprocess.run([str(tmp_path / "c")]).returncode == 0


def test_varint_lengths_are_drawn_from_the_stated_distribution():
    task = get_task("varint32")
    assert describe(task) == "uniform over 1..5 bytes"
    three = with_lengths(task, "3")
    assert describe(three) == "3 bytes always"
    rows = three.random_inputs(np.random.default_rng(0), 200)[0].view(np.uint8)
    assert ((rows[:, :2] & 0x80) != 0).all() and ((rows[:, 2] & 0x80) == 0).all()
    mixed = with_lengths(task, "1:1,5:3")
    assert describe(mixed) == "bytes 1: 0.25, 5: 0.75"
    rows = mixed.random_inputs(np.random.default_rng(0), 400)[0].view(np.uint8)[:, :5]
    one = (rows[:, 0] & 0x80) == 0
    assert 60 < one.sum() < 140 and ((rows[~one, :4] & 0x80) != 0).all()


@needs_bmi
def test_bench_prints_the_lengths_it_used():
    report = api.bench([str(PAIR)], "varint32_len", runs=3, inputs_per_run=100, lengths="0,1,0,0,1")
    assert report.lengths == "bytes 2: 0.5, 5: 0.5" and len(report.results) == 1
    result = cli("bench", PAIR, "--runs", 3, "-k", 100, "--lengths", "5")
    assert result.exit_code == 0 and "lengths: 5 bytes always, drawn per call" in result.output


@pytest.mark.parametrize("args, reason", [
    (("bench", PAIR, "--runs", 1, "--lengths", "6"), "--lengths 6: a length is 1..5"),
    (("bench", PAIR, "--runs", 1, "--lengths", "1,2"), "5 weights are needed"),
    (("bench", PAIR, "--runs", 1, "--lengths", "0,0,0,0,0"), "not all 0"),
    (("bench", PAIR, "--runs", 1, "--inputs", "sorted"), "its lengths: --lengths"),
    (("search", "varint32", "--lengths", "3"), "no length distribution changes"),
])
def test_bad_varint_lengths_exit_2_with_one_line(args, reason, tmp_path):
    result = cli(*args, *(["--out", tmp_path / "o.s"] if args[0] == "search" else []))
    assert result.exit_code == 2 and reason in result.output and len(result.output.strip().splitlines()) == 1, \
        result.output

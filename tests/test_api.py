"""The library API (superopt.load/verify/search/bench/export): the README's example runs as
written, tasks are names or Task objects alike, and every caller error is a SuperoptError."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

import superopt
from superopt.emit.export import ExportRefused

ROOT = Path(__file__).resolve().parent.parent
WRONG_SORT3 = "# task: sort3\nmovl (%rdi), %eax\nmovl %eax, 4(%rdi)\nret\n"


def test_readme_example_runs_as_written():
    block = re.search(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block, "README.md has no python example"
    proc = subprocess.run([sys.executable, "-c", block.group(1)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "True"
    length, ratio = lines[1].split()
    assert length == "17" and float(ratio) > 0
    assert "inline" in proc.stdout and "sort3" in proc.stdout


def test_a_task_name_and_a_task_object_give_the_same_verdict():
    program = superopt.load(ROOT / "asm" / "sort3.s")
    by_name = superopt.verify(program, "sort3", random_count=100)
    by_task = superopt.verify(program, superopt.get_task("sort3"), random_count=100)
    by_header = superopt.verify(ROOT / "asm" / "sort3.s", random_count=100)
    assert by_name.passed and by_task.passed and by_header.passed
    assert by_name.proof and by_name.to_json()["task"] == by_task.to_json()["task"] == "sort3"


def test_a_wrong_kernel_fails_verify_and_export_refuses_it(tmp_path):
    path = tmp_path / "wrong.s"
    path.write_text(WRONG_SORT3)
    verdict = superopt.verify(path)
    assert not verdict.passed and verdict.violations
    with pytest.raises(ExportRefused):
        superopt.export(path, format="c")


def test_unknown_task_is_a_superopt_error_not_a_key_error():
    program = superopt.load(ROOT / "asm" / "sort3.s")
    for call in (lambda: superopt.verify(program, "sort99"), lambda: superopt.search("sort99", agent="enum"),
                 lambda: superopt.export(program, "sort99"), lambda: superopt.get_task("sort99")):
        with pytest.raises(superopt.SuperoptError, match="unknown task 'sort99'"):
            call()


def test_no_task_anywhere_is_an_input_error(tmp_path):
    path = tmp_path / "k.s"
    path.write_text("movl (%rdi), %eax\nret\n")
    with pytest.raises(superopt.InputError, match="no task given"):
        superopt.verify(path)


def test_search_returns_a_verified_optimal_program_and_export_pastes_it():
    result = superopt.search(superopt.get_task("sort3"), agent="enum", workers=1)
    assert result.length == 17 and result.optimal and result.verified
    source = superopt.export(result.program, "sort3", format="gas")
    assert ".globl" in source and "sort3" in source


def test_search_refuses_a_warm_start_for_enum():
    with pytest.raises(superopt.SuperoptError, match="stochastic"):
        superopt.search("sort3", agent="enum", init=ROOT / "asm" / "sort3.s")


def test_bench_compares_a_kernel_with_a_c_baseline():
    report = superopt.bench([ROOT / "asm" / "sort3.s", ROOT / "bench" / "baselines" / "sort3.c"], runs=20,
                            inputs_per_run=200)
    assert [r.name for r in report.results] == [str(ROOT / "asm" / "sort3.s"),
                                                str(ROOT / "bench" / "baselines" / "sort3.c")]
    assert report.results[0].ratio.note == "reference" and report.results[1].ratio.value is not None


def test_bench_refuses_kernels_of_different_tasks():
    with pytest.raises(superopt.SuperoptError, match="different tasks"):
        superopt.bench([ROOT / "asm" / "sort3.s", ROOT / "asm" / "sort4.s"], runs=5)

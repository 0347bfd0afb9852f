"""--json: every command's output, success and each error path, validates against the one schema
(superopt/cli/schema.json, docs/json.md), is a single object on stdout, and keeps the exit code."""
import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from superopt.cli import main
from superopt.cli.jsonout import SCHEMA

ROOT = Path(__file__).resolve().parent.parent
SORT3 = str(ROOT / "asm" / "sort3.s")
BASELINE = str(ROOT / "bench" / "baselines" / "sort3.c")
P01 = str(ROOT / "bench" / "hackers" / "p01.c")
WRONG = "# task: sort3\n.globl sort3\nsort3:\n\tmovl (%rdi), %eax\n\tmovl 4(%rdi), %ecx\n\tmovl %ecx, (%rdi)\n\tmovl %eax, 4(%rdi)\n"
BAD_LINE = ".globl sort3\nsort3:\n\tmovl (%rdi), %eax\n\tfrobnicate %eax\n"
QUICK_BENCH = ("--runs", "3", "-k", "20", "--no-histogram")
VALIDATOR = jsonschema.Draft202012Validator(json.loads(Path(SCHEMA).read_text()))


@pytest.fixture
def files(tmp_path):
    (tmp_path / "wrong.s").write_text(WRONG)
    (tmp_path / "bad.s").write_text(BAD_LINE)
    return tmp_path


def run(*args):
    """The command's exit code and its one --json object (validated against the schema)."""
    result = CliRunner().invoke(main, [str(a) for a in args] + ["--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    data = json.loads(result.stdout)   # the whole of stdout: exactly one object
    errors = sorted(VALIDATOR.iter_errors(data), key=str)
    assert not errors, "%s: %s" % (args, jsonschema.exceptions.best_match(errors).message)
    assert data["command"] == (args[0] if args[0] in main.commands else None)
    return result.exit_code, data


def test_the_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(json.loads(Path(SCHEMA).read_text()))


def test_tasks_and_show():
    code, data = run("tasks")
    assert code == 0 and "sort3" in [t["task"] for t in data["tasks"]]
    code, data = run("show", SORT3)
    assert code == 0 and data["file"] == SORT3 and data["function"] == "sort3" and data["instructions"] == 18


def test_verify_pass_and_fail(files):
    code, data = run("verify", SORT3, "--random", 10)
    assert code == 0 and data["passed"] and data["proven"] and data["proof"] == "proven (all weak orderings)"
    assert data["instructions"] == 18 and data["file"] == SORT3 and isinstance(data["seconds"], float)
    code, data = run("verify", files / "wrong.s", "--random", 10)
    assert code == 1 and not data["passed"] and not data["proven"] and "error" not in data


def test_function_task_verdicts_and_bench(tmp_path):
    (tmp_path / "blsr.s").write_text(".globl p01\np01:\n\tblsrl %edi, %eax\n\tret\n")
    (tmp_path / "copy.s").write_text(".globl p01\np01:\n\tmovl %edi, %eax\n\tret\n")
    code, data = run("verify", tmp_path / "blsr.s", "--task", P01, "--random", 100)
    assert code == 0 and data["passed"] and data["instructions"] == 1 and data["task"] == "p01"
    code, data = run("verify", tmp_path / "copy.s", "--task", P01, "--random", 100)
    assert code == 1 and not data["passed"] and data["counterexample"]
    code, data = run("bench", tmp_path / "blsr.s", "--task", P01, *QUICK_BENCH)
    assert code == 0 and data["results"][0]["file"] == str(tmp_path / "blsr.s")


@pytest.mark.parametrize("command", ["show", "verify", "export", "bench"])
def test_bad_file_and_bad_line(files, command):
    code, data = run(command, files / "missing.s")
    assert code == 2 and data["file"] == str(files / "missing.s") and data["line"] is None and data["error"]
    code, data = run(command, files / "bad.s")
    assert code == 2 and data["file"] == str(files / "bad.s") and data["line"] == 4 and "frobnicate" in data["error"]


@pytest.mark.parametrize("args", [("verify", SORT3, "--bogus"), ("show",), ("export", SORT3, "--format", "pdf"),
                                  ("bench", SORT3, "--runs", "0"), ("search", "sort3", "--workers", "0"),
                                  ("train", "sort3", "--steps", "x"), ("tasks", "extra"), ("nosuch",)])
def test_bad_options(args):
    code, data = run(*args)
    assert code == 2 and data["error"] and data["exit_code"] == 2 and data["file"] is None


@pytest.mark.parametrize("command", ["verify", "export", "bench"])
def test_unknown_task(command):
    code, data = run(command, SORT3, "--task", "sort99")
    assert code == 2 and "sort99" in data["error"]


def test_wrong_kernel_is_refused_with_its_verdict(files):
    for command in ("export", "bench"):
        code, data = run(command, files / "wrong.s", *(QUICK_BENCH if command == "bench" else ()))
        assert code == 1 and data["exit_code"] == 1 and data["verdict"]["passed"] is False, command
    code, data = run("verify", SORT3, "--task", "sort4", "--random", 10)   # the right kernel, the wrong task
    assert code == 1 and not data["passed"] and data["task"] == "sort4"


def test_export_and_its_unwritable_output(files):
    code, data = run("export", SORT3, "-o", files / "k.h")
    assert code == 0 and data["output"] == str(files / "k.h") and data["verdict"]["proven"]
    code, data = run("export", SORT3, "-o", files / "no" / "k.h")
    assert code == 2 and "does not exist" in data["error"]


def test_bench_kernel_and_baseline():
    code, data = run("bench", SORT3, BASELINE, *QUICK_BENCH)
    assert code == 0 and [r["file"] for r in data["results"]] == [SORT3, BASELINE]


def test_search_found_not_found_and_errors(files):
    code, data = run("search", "sort3", "--agent", "enum", "--workers", 1, "--out", files / "k.s")
    assert code == 0 and data["found"] and data["instructions"] == 17 and data["optimal"] is True
    assert data["output"] == str(files / "k.s") and isinstance(data["seconds"], float) and data["programs"] > 0
    code, data = run("search", "sort3", "--agent", "enum", "--workers", 1, "--max-length", 11, "--out", files / "n.s")
    assert code == 1 and not data["found"] and data["instructions"] is None and data["output"] is None
    code, data = run("search", "sort99")
    assert code == 2 and "sort99" in data["error"]
    code, data = run("search", "sort3", "--out", files / "no" / "k.s")
    assert code == 2 and "does not exist" in data["error"]


def test_examples_list_copy_and_refusal(files):
    code, data = run("examples")
    assert code == 0 and "asm/sort3.s" in [e["file"] for e in data["examples"]]
    code, data = run("examples", "copy", "sort3.s", files)
    assert code == 0 and data["examples"][0]["output"] == str(files / "asm" / "sort3.s")
    code, data = run("examples", "copy", "nosuch.s", files)
    assert code == 2 and "nosuch.s" in data["error"]


@pytest.mark.slow
def test_search_function_task(files):
    code, data = run("search", P01, "--workers", 1, "--steps", 2000, "--out", files / "p01.s")
    assert code == 0 and data["instructions"] == 1 and data["signature"] and data["checked"]


@pytest.mark.slow
def test_train(files):
    code, data = run("train", "sort3", "--steps", 1, "--simulations", 4, "--games", 2, "--out", files / "t.pt")
    assert code == 0 and data["steps"] == 1 and data["checkpoint"] == str(files / "t.pt")
    assert isinstance(data["seconds"], float) and isinstance(data["losses"], dict)
    code, data = run("train", "sort99")
    assert code == 2 and "sort99" in data["error"]


def test_a_command_invoked_on_its_own_still_prints_its_object():
    from superopt.cli.tasks import tasks
    for args in (("tasks",), ()):   # after a run through the group, and on its own again
        if args:
            run(*args)
        result = CliRunner().invoke(tasks, ["--json"])
        data = json.loads(result.stdout)
        assert result.exit_code == 0 and data["command"] == "tasks" and not list(VALIDATOR.iter_errors(data))

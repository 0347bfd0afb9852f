"""`superopt bench` end to end: JSON shape, tables, exit codes, every bad-input path."""
import json
import os

import pytest
from click.testing import CliRunner

from superopt.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SORT3 = os.path.join(ROOT, "asm", "sort3.s")
DEEP = os.path.join(ROOT, "asm", "sort3_deep.s")
SORT4 = os.path.join(ROOT, "asm", "sort4.s")
LIBCXX3 = os.path.join(ROOT, "bench", "baselines", "sort3.c")
QUICK = ["--runs", "30", "-k", "500"]


class _Result:
    """The CLI's result with its output's line wrapping undone (rich wraps at 80 columns)."""

    def __init__(self, res):
        self.exit_code, self.raw = res.exit_code, res.output
        self.output = " ".join(res.output.split())


def _bench(*args):
    return _Result(CliRunner().invoke(main, ["bench", *args]))


def test_json_has_every_field_in_order():
    res = _bench(SORT3, DEEP, LIBCXX3, *QUICK, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.raw)
    assert out["task"] == "sort3" and out["mode"] == "latency" and out["runs"] == 30
    assert [r["file"] for r in out["results"]] == [SORT3, DEEP, LIBCXX3]
    for r in out["results"]:
        for key in ("file", "value", "ci_low", "ci_high", "median", "min", "runs", "ratio", "ratio_ci_low",
                    "ratio_ci_high"):
            assert key in r
    assert out["quantile"] == 0.05 and out["unit"] in ("cycles", "ref-cycles") and "value" in out["overhead"]
    assert out["results"][0]["ratio"] == 1.0 and out["counter"] in ("perf", "tsc") and out["counter_reason"]


def test_table_histogram_and_counter_reason():
    res = _bench(SORT3, DEEP, *QUICK, "--mode", "throughput", "--inputs", "sorted", "--seed", "3")
    assert res.exit_code == 0, res.output
    for text in ("call harness, throughput mode", "sorted inputs", "counter:", "overhead subtracted",
                 "vs first", "sort3_deep.s", "mean ± sd"):
        assert text in res.output
    assert "sort3_deep.s (call): 30 runs" in res.output and "┤" in res.output  # the histograms (plotext)


def test_failing_program_is_refused_with_exit_1(tmp_path):
    bad = tmp_path / "bad.s"
    bad.write_text("# task: sort3\n\tmovl 0(%rdi), %eax\n\tmovl %eax, 4(%rdi)\n\tret\n")
    res = _bench(str(bad), *QUICK)
    assert res.exit_code == 1 and "fails verification" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(main, ["bench", str(bad), *QUICK, "--json"])
    out = json.loads(res.stdout)  # scripts get the verify report on stdout, the error on stderr
    assert res.exit_code == 1 and out["refused"] == str(bad) and out["verdict"]["passed"] is False


def test_missing_file_is_exit_2():
    res = _bench("/no/such/file.s", *QUICK)
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_syntax_error_names_file_and_line(tmp_path):
    bad = tmp_path / "typo.s"
    bad.write_text("# task: sort3\n\tmovl 0(%rdi), %eax\n\tfrobnicate %eax\n\tret\n")
    res = _bench(str(bad), *QUICK)
    assert res.exit_code == 2 and "typo.s:3" in res.output


def test_mixed_tasks_are_exit_2():
    res = _bench(SORT3, SORT4, *QUICK)
    assert res.exit_code == 2 and "different tasks" in res.output and "<input>" not in res.output


def test_unknown_task_is_exit_2():
    res = _bench(LIBCXX3, "--task", "sort9", *QUICK)
    assert res.exit_code == 2 and res.raw.startswith("error: unknown task 'sort9'")


def test_c_file_needs_a_task(tmp_path):
    src = tmp_path / "mine.c"
    src.write_text("#include <stdint.h>\nvoid sort3(int32_t *a) { (void)a; }\n")
    res = _bench(str(src), *QUICK)
    assert res.exit_code == 2 and "no task given" in res.output


def test_c_baseline_with_task_option(tmp_path):
    res = _bench(LIBCXX3, "--task", "sort3", *QUICK, "--json")
    assert res.exit_code == 0 and json.loads(res.raw)["results"][0]["file"] == LIBCXX3


@pytest.mark.parametrize("args", [["--counter", "cycles"], ["--mode", "fast"], ["--runs", "0"],
                                  ["--quantile", "1"], ["--inputs", "zipf"]])
def test_bad_options_are_exit_2(args):
    res = _bench(SORT3, *args)
    assert res.exit_code == 2


def test_perf_unavailable_falls_back_or_fails_cleanly(monkeypatch):
    import superopt.measure.counters as counters
    monkeypatch.setattr(counters, "perf_cycles_available", lambda: (False, "ENOENT (No such file or directory)"))
    res = _bench(SORT3, *QUICK, "--json")
    out = json.loads(res.raw)
    assert res.exit_code == 0 and out["counter"] == "tsc" and "ENOENT" in out["counter_reason"]
    res = _bench(SORT3, *QUICK, "--counter", "perf")
    assert res.exit_code == 2 and "ENOENT" in res.output and "Traceback" not in res.output
    assert res.raw.startswith("error:")  # one line: no blank line left by a progress bar off a terminal


def test_native_crash_is_exit_1_and_names_the_signal(monkeypatch):
    import superopt.measure.timing as timing
    from superopt.run.native import MachineCode
    monkeypatch.setattr(timing, "checked_kernel",
                        lambda item, task, name=None, **kw: MachineCode(b"\x0f\x0b", "ud2.s"))
    res = _bench(SORT3, *QUICK)
    assert res.exit_code == 1 and "SIGILL" in res.output and "ud2.s" in res.output


def test_hanging_c_baseline_is_killed_after_the_timeout(tmp_path):
    src = tmp_path / "spin.c"
    src.write_text("/* task: sort3 */\n#include <stdint.h>\n"
                   "void sort3(int32_t *a) { for (;;) __asm__ volatile(\"\"); }\n")
    res = _bench(str(src), *QUICK, "--timeout", "1")
    assert res.exit_code == 1 and "hung natively (no answer in 1 s)" in res.output and "spin.c" in res.output

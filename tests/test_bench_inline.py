"""`superopt bench --harness inline`: the generated loop compiles, gives sorted output (and a
function task's results), refuses wrong kernels and baselines before they are timed, and
survives a crash; the CSV, runs and plot files; the options' errors. No timing assertions:
figures are only checked to exist."""
import csv
import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from superopt import api
from superopt.cli import main
from superopt.emit.loop import LOOP_HEADER, call_of, loop_header
from superopt.measure.timing import Ratio, compared
from superopt.tasks.registry import get_task

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SORT3 = os.path.join(ROOT, "asm", "sort3.s")
ENUM3 = os.path.join(ROOT, "asm", "sort3_enum.s")
LIBCXX3 = os.path.join(ROOT, "bench", "baselines", "sort3.c")
BRANCHLESS3 = os.path.join(ROOT, "bench", "baselines", "sort3_branchless.cc")
VARSORT3 = os.path.join(ROOT, "asm", "varsort3.s")
QUICK = ["--runs", "6", "-k", "200"]


def _bench(*args):
    return CliRunner().invoke(main, ["bench", *args])


def test_loop_keeps_the_outputs_sorted_and_leaves_its_sources(tmp_path):
    """The compiled loop was checked on every proof input (wrong output is a refusal, see
    below), and its sources are what users would write: the exported header included."""
    rep = api.bench([SORT3, LIBCXX3, BRANCHLESS3], runs=4, inputs_per_run=100, harness="inline",
                    mode="throughput", loop_dir=str(tmp_path))
    assert [r.form for r in rep.results] == ["inline cpp", "inline cc -O2", "inline g++ -O2"]
    assert rep.harness == "inline" and not rep.subtracted and rep.counter.name == "tsc"
    assert rep.tsc_hz > 1e8 and rep.ns_per_tick > 0
    assert all(len(r.samples) == 4 and r.value > 0 for r in rep.results)
    assert '#include "program1.h"' in (tmp_path / "loop1.cc").read_text()
    assert "inline void superopt_program1(int32_t *a)" in (tmp_path / "program1.h").read_text()
    got = np.fromfile(tmp_path / "check.out", dtype=np.int32).reshape(3, -1, 3)
    inputs = np.fromfile(tmp_path / "check.in", dtype=np.int32).reshape(-1, 3)
    assert len(inputs) == 13 + 1000 and (got == np.sort(inputs, axis=1)).all()


def test_values_form_and_variable_sorts(tmp_path):
    rep = api.bench([ENUM3, SORT3], runs=3, inputs_per_run=100, harness="inline", values=True)
    assert [r.form for r in rep.results] == ["inline cpp --values"] * 2
    rep = api.bench([VARSORT3], runs=3, inputs_per_run=100, harness="inline", mode="latency")
    assert rep.results[0].form == "inline cpp" and rep.mode == "latency"


def test_latency_loop_chains_each_address_to_the_outputs():
    task = get_task("sort3")
    assert '__asm__ volatile("and $0, %0"' in loop_header(task, "latency")
    assert "and $0" not in loop_header(task, "throughput")
    assert call_of(get_task("varsort4"), "f") == "f(a, n)" and "#define SUPEROPT_N %(n)d" in LOOP_HEADER


def test_a_wrong_kernel_is_refused_before_any_native_run(tmp_path):
    bad = tmp_path / "bad.s"
    bad.write_text("# task: sort3\n\tmovl 0(%rdi), %eax\n\tmovl %eax, 4(%rdi)\n\tret\n")
    res = _bench(str(bad), *QUICK, "--harness", "inline", "--loop-dir", str(tmp_path / "loop"))
    assert res.exit_code == 1 and "fails verification" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "loop" / "driver").exists()   # refused before anything was compiled


def test_a_wrong_baseline_is_refused_after_the_inline_check(tmp_path):
    src = tmp_path / "wrong.c"
    src.write_text("/* task: sort3 */\n#include <stdint.h>\nvoid sort3(int32_t *a) { a[0] = a[1]; }\n")
    res = _bench(SORT3, str(src), *QUICK, "--harness", "inline")
    assert res.exit_code == 1 and "gives wrong results inlined" in res.output and "wrong.c" in res.output


def test_a_crashing_baseline_costs_the_child_not_the_cli(tmp_path):
    src = tmp_path / "crash.c"
    src.write_text("/* task: sort3 */\n#include <stdint.h>\nvoid sort3(int32_t *a) { __builtin_trap(); }\n")
    res = _bench(SORT3, str(src), *QUICK, "--harness", "inline")
    assert res.exit_code == 1 and "SIGILL" in res.output and "crash.c" in res.output
    assert "Traceback" not in res.output


def test_a_baseline_that_does_not_compile_is_exit_2(tmp_path):
    src = tmp_path / "typo.c"
    src.write_text("/* task: sort3 */\n#include <stdint.h>\nvoid sort3(int32_t *a) { a[0] = ; }\n")
    res = _bench(SORT3, str(src), *QUICK, "--harness", "inline")
    assert res.exit_code == 2 and "typo.c" in res.output and "does not compile" in res.output


def test_both_harnesses_json_csv_runs_and_plot(tmp_path):
    table, runs, png = tmp_path / "t.csv", tmp_path / "runs.csv", tmp_path / "p.png"
    res = _bench(SORT3, LIBCXX3, *QUICK, "--harness", "both", "--json", "--csv", str(table),
                 "--samples", str(runs), "--plot", str(png))
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["harness"] == "both" and [r["harness"] for r in out["reports"]] == ["call", "inline"]
    inline = out["reports"][1]
    assert inline["overhead"]["subtracted"] is False and inline["tsc_hz"] > 0
    for row in inline["results"]:
        for key in ("form", "mean", "std", "median", "ns", "compared"):
            assert key in row
        assert row["ns"]["value"] > 0
    assert [r["instructions"] for r in inline["results"]] == [18, None]
    assert inline["results"][0]["compared"] == "reference"
    rows = list(csv.DictReader(table.open()))
    assert [(r["program"], r["harness"]) for r in rows] == [(SORT3, "call"), (LIBCXX3, "call"),
                                                             (SORT3, "inline"), (LIBCXX3, "inline")]
    samples = list(csv.DictReader(runs.open()))
    assert len(samples) == 2 * 2 * 6 and {r["run"] for r in samples} == {str(i) for i in range(6)}
    assert all(float(r["ns_per_call"]) == pytest.approx(float(r["per_call"]) * 1e9 / inline["tsc_hz"], rel=1e-3)
               for r in samples if r["harness"] == "inline")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_table_says_which_harness_each_row_is_and_plots():
    res = _bench(SORT3, LIBCXX3, *QUICK, "--harness", "inline", "--mode", "throughput")
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    for phrase in ("inline harness, throughput mode", "inline cpp", "inline cc -O2", "the loop alone",
                   "not subtracted", "TSC", "p5 ns", "than " + SORT3, "runs, ref-cycles per call"):
        assert phrase in text


@pytest.mark.parametrize("args, message", [
    (["--harness", "fast"], "harness"),
    (["--values"], "inline harness"),
    (["--harness", "inline", "--counter", "perf"], "rdtsc"),
    (["--csv", "/no/such/dir/t.csv"], "does not exist"),
    (["--plot", "/"], "directory"),
    (["--harness", "inline", "--loop-dir", "/proc/no/such"], "cannot make the directory"),
    (["--harness", "inline", "--values", "--task", "varsort3"], "values form"),
])
def test_bad_options_are_one_line_and_exit_2(args, message):
    res = _bench(SORT3 if "varsort3" not in args else VARSORT3, *QUICK, *args)
    assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1


P01 = os.path.join(ROOT, "bench", "hackers", "p01.c")


def _p01_kernel(tmp_path, body: str) -> str:
    path = tmp_path / "p01.s"
    path.write_text("\t.text\n\t.globl p01\np01:\n" + body + "\tret\n")
    return str(path)


def test_function_task_kernel_beside_its_c_spec(tmp_path):
    kernel = _p01_kernel(tmp_path, "\tleal -1(%rdi), %eax\n\tandl %edi, %eax\n")
    rep = api.bench([kernel], P01, harness="inline", runs=3, inputs_per_run=100, loop_dir=str(tmp_path / "loop"))
    assert [r.form for r in rep.results] == ["inline cpp", "inline cc -O2"]
    assert rep.results[1].name == P01 + ":p01 (the C spec)" and rep.results[0].instructions == 2
    unit = (tmp_path / "loop" / "loop1.cc").read_text()
    assert "a[0] = (uint64_t)(uint32_t)superopt_program1((uint32_t)a[0])" in unit


def test_a_wrong_function_kernel_is_refused(tmp_path):
    kernel = _p01_kernel(tmp_path, "\tleal 1(%rdi), %eax\n\tandl %edi, %eax\n")   # x & (x+1): p02, not p01
    res = _bench(kernel, "--task", P01, "--harness", "inline", *QUICK)
    assert res.exit_code == 1 and "fails verification" in res.output and "Traceback" not in res.output


def test_compared_wording():
    assert compared(Ratio(1.0, 1.0, 1.0, "reference"), "a.s") == "reference"
    assert compared(Ratio(0.5, 0.4, 0.8), "a.s") == "2.00x faster than a.s [1.25, 2.50]"
    assert compared(Ratio(1.5, 1.4, 1.6), "a.s") == "1.50x slower than a.s [1.40, 1.60]"
    assert compared(Ratio(None, None, None, "within noise of zero"), "a.s") == "no ratio (within noise of zero)"


def test_a_header_that_computes_the_wrong_function_is_caught_by_the_inline_check(tmp_path, monkeypatch):
    """Verify passed, so only the compiled loop's own check stands between a bad header (an
    export bug, say) and a timing."""
    import superopt.emit.inline_bench as inline_bench
    kernel = _p01_kernel(tmp_path, "\tleal -1(%rdi), %eax\n\tandl %edi, %eax\n")
    monkeypatch.setattr(inline_bench, "export", lambda program, task, fmt, name, verdict, values:
                        "#include <stdint.h>\ninline uint32_t %s(uint32_t x) { return x | 1; }\n" % name)
    with pytest.raises(inline_bench.NotVerified, match=r"gives wrong results inlined .*first: p01\(x="):
        api.bench([kernel], P01, harness="inline", runs=2, inputs_per_run=10)

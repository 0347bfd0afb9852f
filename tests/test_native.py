"""Native execution: executable pages, the generated harness, the isolated worker,
compiled baselines. Every native run here happens in the worker child process."""
import glob
import os

import numpy as np
import pytest

from superopt.x86.assembler import assemble
from superopt.x86.decode import disassemble
from superopt.errors import InputError
from superopt.x86.isa import Mem, Program
from superopt.run.native import MODES, NativeError, Pages, run_native
from superopt.run.harness import EMPTY_KERNEL, harness_program
from superopt.run.baseline import compile_baseline, is_c_source
from superopt.x86.parser import load
from superopt.tasks.registry import TASKS, get_task

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASM = sorted(p for p in glob.glob(os.path.join(ROOT, "asm", "*.s"))   # the sorts: varint kernels run natively
             if not os.path.basename(p).startswith("varint"))             # in test_varint.py's bench test
BASELINES = os.path.join(ROOT, "bench", "baselines")


@pytest.mark.parametrize("path", ASM, ids=os.path.basename)
def test_known_kernels_sort_natively(path):
    program, task = load(path)
    arrays, lengths = task.proof_inputs()
    if len(arrays) > 50_000:  # sort8: a random sample keeps the test fast
        arrays, lengths = arrays[::37], lengths[::37]
    got = run_native(program, task, arrays, lengths)
    assert np.array_equal(got, task.expected(arrays, lengths))


def test_wrong_kernel_gives_wrong_results_natively():
    program, task = load(os.path.join(ROOT, "asm", "sort3.s"))
    broken = Program(program.instrs[:3] + program.instrs[-4:])  # loads and stores only: a[1], a[2] swap
    arrays, lengths = task.proof_inputs()
    got = run_native(broken, task, arrays, lengths)
    assert np.array_equal(got, arrays[:, [0, 2, 1]]) and not np.array_equal(got, task.expected(arrays, lengths))


@pytest.mark.parametrize("name", list(TASKS))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("clock", ["rdtsc", "rdpmc"])
def test_harness_assembles_and_checks_out(name, mode, clock):
    task = get_task(name)
    program = harness_program(task, mode, clock)
    code = assemble(program).code
    mnemonics = [d.mnemonic for d in disassemble(code)]
    assert mnemonics.count(clock) == 2 and mnemonics.count("lfence") >= 2
    assert mnemonics.count({"rdtsc": "rdpmc", "rdpmc": "rdtsc"}[clock]) == 0
    assert mnemonics.count("call") == 1
    # latency mode ORs every output of an array task into the dependency, throughput mode none
    # (a buffer task's one output is rax, as a function task's)
    ors = sum(1 for i in program.instrs if i.op == "or" and isinstance(i.operands[1], Mem))
    assert ors == (task.n - 1 if mode == "latency" and task.kind == "array" else 0)


def test_executable_pages_are_never_writable():
    pages = Pages.executable(b"\xc3")
    try:
        with open("/proc/self/maps") as f:
            line = next(ln for ln in f if int(ln.split("-")[0], 16) == pages.address)
        assert line.split()[1].startswith("r-x")
    finally:
        pages.close()


@pytest.mark.parametrize("code, signal", [(b"\x0f\x0b", "SIGILL"),                     # ud2
                                          (b"\x8b\x04\x25\x00\x00\x00\x00", "SIGSEGV")])  # mov eax, [0]
def test_crash_is_isolated_and_named(code, signal):
    task = get_task("sort3")
    with pytest.raises(NativeError) as info:
        run_native(code, task, np.zeros((1, 3)))
    assert signal in str(info.value) and info.value.exit_code == 1
    assert np.array_equal(run_native(EMPTY_KERNEL, task, [[3, 2, 1]]), [[3, 2, 1]])  # worker back


def test_hang_is_killed_with_a_clear_error():
    task = get_task("sort3")
    with pytest.raises(NativeError) as info:
        run_native(b"\xeb\xfe", task, np.zeros((1, 3)), timeout=1.0)  # jmp to itself
    assert "hung" in str(info.value)
    assert np.array_equal(run_native(EMPTY_KERNEL, task, [[1, 2, 3]]), [[1, 2, 3]])


def test_varsort_gets_its_length():
    program, task = load(os.path.join(ROOT, "asm", "varsort3.s"))
    got = run_native(program, task, [[3, 2, 1], [3, 2, 1], [3, 2, 1]], [3, 2, 1])
    assert got.tolist() == [[1, 2, 3], [2, 3, 1], [3, 2, 1]]


@pytest.mark.parametrize("n", [3, 4, 5])
def test_libcxx_baselines_compile_and_sort(n, tmp_path):
    task = get_task("sort%d" % n)
    kernel = compile_baseline(os.path.join(BASELINES, "sort%d.c" % n), task, cache_dir=str(tmp_path))
    arrays, lengths = task.proof_inputs()
    assert np.array_equal(run_native(kernel, task, arrays, lengths), task.expected(arrays, lengths))


def test_cxx_baseline_found_by_mangled_name(tmp_path):
    src = tmp_path / "mine.cpp"
    src.write_text("#include <algorithm>\n#include <cstdint>\n"
                   "void sort3(int32_t *a) { std::sort(a, a + 3); }\n")
    kernel = compile_baseline(str(src), get_task("sort3"), cache_dir=str(tmp_path))
    assert kernel.symbol == "_Z5sort3Pi"
    assert run_native(kernel, get_task("sort3"), [[5, -1, 2]]).tolist() == [[-1, 2, 5]]


def test_baseline_that_does_not_compile_is_bad_input(tmp_path):
    src = tmp_path / "bad.c"
    src.write_text("void sort3(int *a) { this is not C }\n")
    with pytest.raises(InputError) as info:
        compile_baseline(str(src), get_task("sort3"), cache_dir=str(tmp_path))
    assert "does not compile" in str(info.value) and str(src) in str(info.value)


def test_baseline_without_the_function_is_bad_input(tmp_path):
    src = tmp_path / "other.c"
    src.write_text("void sort4(int *a) { (void)a; }\n")
    with pytest.raises(InputError) as info:
        compile_baseline(str(src), get_task("sort3"), cache_dir=str(tmp_path))
    assert "defines no function sort3" in str(info.value)


def test_c_source_detection():
    assert is_c_source("x.c") and is_c_source("x.CPP") and not is_c_source("x.s")


def test_verify_native_cli_compares_with_the_real_cpu():
    import json

    from click.testing import CliRunner

    from superopt.cli import main
    res = CliRunner().invoke(main, ["verify", os.path.join(ROOT, "asm", "sort4.s"), "--native", "--json"])
    out = json.loads(res.output)
    assert res.exit_code == 0 and out["native"] is True and out["passed"] is True


def test_native_difference_is_reported(monkeypatch):
    import superopt.run.native as native
    from superopt.check.verify import verify
    program, task = load(os.path.join(ROOT, "asm", "sort3.s"))
    monkeypatch.setattr(native, "run_native", lambda code, task, arrays, lengths: np.zeros_like(arrays))
    verdict = verify(program, task, random_count=10, native=True)
    assert not verdict.passed and [v.rule for v in verdict.violations] == ["native"]


def test_worker_unmaps_least_recently_used_code(monkeypatch):
    # In-process worker, superopt's own trivial kernels (nops then ret) only.
    import superopt.run.native as native
    monkeypatch.setattr(native, "_MAX_MAPPED", 4)
    worker = native._Worker()
    task = get_task("sort3")
    kernels = [native.MachineCode(b"\x90" * i + b"\xc3") for i in range(10)]
    for kernel in kernels:
        assert worker.run(kernel, task, np.array([[3, 1, 2]]), np.array([3])).tolist() == [[3, 1, 2]]
        worker.evict()
    assert list(worker.code_pages) == [k.code for k in kernels[-4:]]
    worker.run(kernels[0], task, np.array([[1, 2, 3]]), np.array([3]))  # unmapped code maps again
    assert kernels[0].code in worker.code_pages


def test_baseline_recompiles_when_an_included_header_changes(tmp_path):
    header = tmp_path / "order.h"
    src = tmp_path / "mine.c"
    src.write_text('#include <stdint.h>\n#include "order.h"\n'
                   "void sort3(int32_t *a) { int32_t t; if (a[0] > a[1]) { t = a[0]; a[0] = a[1]; a[1] = t; }"
                   " if (a[1] > a[2]) { t = a[1]; a[1] = a[2]; a[2] = t; } if (FIRST_PAIR && a[0] > a[1])"
                   " { t = a[0]; a[0] = a[1]; a[1] = t; } }\n")
    task = get_task("sort3")
    header.write_text("#define FIRST_PAIR 0\n")
    half = compile_baseline(str(src), task, cache_dir=str(tmp_path))
    header.write_text("#define FIRST_PAIR 1\n")
    full = compile_baseline(str(src), task, cache_dir=str(tmp_path))
    assert half.path != full.path
    assert run_native(half, task, [[3, 2, 1]]).tolist() == [[2, 1, 3]]
    assert run_native(full, task, [[3, 2, 1]]).tolist() == [[1, 2, 3]]


def test_missing_baseline_file_is_bad_input(tmp_path):
    with pytest.raises(InputError) as info:
        compile_baseline(str(tmp_path / "nope.c"), get_task("sort3"), cache_dir=str(tmp_path))
    assert "no such file" in str(info.value)
